//! The folding container: each key's value is folded into its slot as
//! pairs come, so a buffer holds one pair per distinct key.
//!
//! Keys whose `Hash` writes one small integer (`u8`, `u16`, `bool`,
//! `char`s and other integers below [`SMALL_KEYS`], and types that hash
//! as one such integer) go in an array indexed by that integer: one bounds
//! check and one comparison where a hash table would hash and probe. The
//! array is a cache, not a promise: a slot holds the first key that came
//! with its integer, and any other key with the same integer (a type whose
//! `Hash` is not one-to-one) goes to the hash table beside it, so every key
//! type is counted right. The first key a buffer sees decides whether it
//! looks at the array at all. A job built with [`Container::Hash`] puts
//! every key in the hash table.
//!
//! Byte-string keys (`&[u8]`, `Vec<u8>`, `String`, `&str`, `Word`) go in
//! a table of their own that keeps short keys inline ([`Bytes`]).

use std::borrow::Borrow;
use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};

use super::bytes::{is_byte_string, Bytes, Packed};
use super::Container;
use crate::pairs::Chunk;
use crate::partition::Route;

/// Keys hashing as an integer below this go in the array.
pub(super) const SMALL_KEYS: u64 = 1 << 16;

/// Values folded by key.
pub(super) struct Folding<K, V> {
    /// Whether keys may be small integers: unknown until the first key.
    small_keys: Option<bool>,
    /// Small-integer keys, at their integer.
    small: Vec<Option<(K, V)>>,
    /// The keys held in `small`.
    small_len: usize,
    /// Every other key, with a random seed per process so that hostile
    /// input cannot flood one bucket (partitioning has its own, fixed,
    /// hasher).
    map: HashMap<K, V, ahash::RandomState>,
    /// For byte-string keys, the table that holds them all.
    bytes: Option<Bytes<K, V>>,
    /// Pairs put in since the table was last emptied, give or take a
    /// batch: with the keys held, how well folding pays.
    pairs: usize,
    /// The packings of a batch of byte-string keys, kept for the next.
    packed: Vec<Packed>,
    /// Values found a key's pair for, waiting to be folded into it.
    later: VecDeque<(usize, V)>,
}

/// Keys a byte-string table prefetches ahead of the one it looks up.
const AHEAD: usize = 16;

/// Keys a byte-string table looks up before it folds a value into the
/// pair it found for it.
const LATER: usize = 8;

/// Folds the first values of `later` into their pairs in `bytes`, until
/// `keep` are left.
#[inline]
fn fold_later<K: Hash + Eq, V, C: Fn(&mut V, V) + ?Sized>(
    bytes: &mut Bytes<K, V>,
    later: &mut VecDeque<(usize, V)>,
    keep: usize,
    combine: &C,
) {
    while later.len() > keep {
        if let Some((at, value)) = later.pop_front() {
            combine(bytes.value_mut(at), value);
        }
    }
}

impl<K, V> Folding<K, V> {
    pub fn new(container: Container) -> Self {
        let by_key = container == Container::Auto;
        Folding {
            small_keys: (!by_key).then_some(false),
            small: Vec::new(),
            small_len: 0,
            map: HashMap::with_hasher(ahash::RandomState::new()),
            bytes: (by_key && is_byte_string::<K>()).then(Bytes::new),
            pairs: 0,
            packed: Vec::new(),
            later: VecDeque::new(),
        }
    }

    /// The number of keys held.
    pub fn len(&self) -> usize {
        self.small_len + self.map.len() + self.bytes.as_ref().map_or(0, Bytes::len)
    }

    /// Whether folding has paid since the table was last emptied: whether
    /// at least half the pairs put in folded into a key held already.
    pub fn folding_pays(&self) -> bool {
        self.len() * 2 <= self.pairs
    }
}

impl<K: Hash + Eq, V> Folding<K, V> {
    /// Folds `value` into `key`'s slot with `combine`, or adds the key.
    /// Returns whether the key is new.
    #[inline]
    pub fn put(&mut self, key: K, value: V, combine: impl FnOnce(&mut V, V)) -> bool {
        if let Some(bytes) = &mut self.bytes {
            let packed = bytes.pack(&key);
            if packed.is_inline() {
                return bytes.put(packed, || key, value, combine);
            }
            // Too long for it: the hash table takes it.
            return self.put_hashed(key, value, combine);
        }
        if let Some(index) = self.small_index(&key) {
            if index >= self.small.len() {
                self.grow(index);
            }
            match &mut self.small[index] {
                Some((held, acc)) if *held == key => {
                    combine(acc, value);
                    return false;
                }
                slot @ None => {
                    *slot = Some((key, value));
                    self.small_len += 1;
                    return true;
                }
                // Another key with the same integer: the table takes it.
                Some(_) => {}
            }
        }
        self.put_hashed(key, value, combine)
    }

    /// [`Folding::put`] into the hash table.
    #[inline]
    fn put_hashed(&mut self, key: K, value: V, combine: impl FnOnce(&mut V, V)) -> bool {
        match self.map.entry(key) {
            Entry::Occupied(mut slot) => {
                combine(slot.get_mut(), value);
                false
            }
            Entry::Vacant(slot) => {
                slot.insert(value);
                true
            }
        }
    }

    /// Folds every pair of `staged` in, calling `full` each time the table
    /// reaches `limit` keys (which empties it).
    #[inline]
    pub fn absorb<C>(
        &mut self,
        staged: &mut Vec<(K, V)>,
        combine: &C,
        limit: usize,
        full: &mut dyn FnMut(&mut Self),
    ) where
        C: Fn(&mut V, V) + ?Sized,
    {
        self.pairs += staged.len();
        if self.bytes.is_none() && self.small_keys == Some(true) {
            return self.absorb_small(staged, combine, limit, full);
        }
        if self.bytes.as_ref().is_some_and(Bytes::outgrew_caches) {
            return self.absorb_prefetching(staged, combine, limit, full);
        }
        for (key, value) in staged.drain(..) {
            if self.put(key, value, combine) && self.len() >= limit {
                full(self);
            }
        }
    }

    /// [`Folding::absorb`] for byte-string keys whose table has outgrown
    /// the caches, where each key costs two memory accesses (its slot,
    /// then its pair). Every key is packed (and hashed) first; each slot is
    /// prefetched [`AHEAD`] keys before it is looked at, and each pair
    /// found is prefetched and folded [`LATER`] keys after, so that the
    /// accesses overlap instead of following one another.
    fn absorb_prefetching<C>(
        &mut self,
        staged: &mut Vec<(K, V)>,
        combine: &C,
        limit: usize,
        full: &mut dyn FnMut(&mut Self),
    ) where
        C: Fn(&mut V, V) + ?Sized,
    {
        let mut packed = std::mem::take(&mut self.packed);
        let mut later = std::mem::take(&mut self.later);
        if let Some(bytes) = &self.bytes {
            packed.clear();
            packed.extend(staged.iter().map(|(key, _)| bytes.pack(key)));
            packed.iter().take(AHEAD).for_each(|p| bytes.prefetch(p));
        }
        for (i, (key, value)) in staged.drain(..).enumerate() {
            let new = match &mut self.bytes {
                Some(bytes) if packed[i].is_inline() => {
                    if let Some(ahead) = packed.get(i + AHEAD) {
                        bytes.prefetch(ahead);
                    }
                    match bytes.find_or_add(packed[i], || key, value) {
                        Some((at, value)) => {
                            bytes.prefetch_pair(at);
                            later.push_back((at, value));
                            fold_later(bytes, &mut later, LATER, combine);
                            false
                        }
                        None => true,
                    }
                }
                _ => self.put_hashed(key, value, combine),
            };
            if new && self.len() >= limit {
                if let Some(bytes) = &mut self.bytes {
                    fold_later(bytes, &mut later, 0, combine);
                }
                // Emptying the table keeps its seeds: the packings stay
                // right.
                full(self);
            }
        }
        if let Some(bytes) = &mut self.bytes {
            fold_later(bytes, &mut later, 0, combine);
        }
        self.packed = packed;
        self.later = later;
    }

    /// [`Folding::absorb`] for a buffer of small-integer keys: a key found
    /// in its slot is folded there with nothing else checked (no container
    /// choice, no growth, no count), and only the rest take the general
    /// path.
    #[inline]
    fn absorb_small<C>(
        &mut self,
        staged: &mut Vec<(K, V)>,
        combine: &C,
        limit: usize,
        full: &mut dyn FnMut(&mut Self),
    ) where
        C: Fn(&mut V, V) + ?Sized,
    {
        let mut pairs = staged.drain(..);
        loop {
            // The array borrowed afresh after each miss, as a slice whose
            // address and length stay in registers through the loop.
            let small = &mut self.small[..];
            let missed = pairs.by_ref().find_map(|(key, value)| {
                match small_integer(&key).and_then(|i| small.get_mut(i)) {
                    Some(Some((held, acc))) if *held == key => {
                        combine(acc, value);
                        None
                    }
                    _ => Some((key, value)),
                }
            });
            let Some((key, value)) = missed else { return };
            if self.put(key, value, combine) && self.len() >= limit {
                full(self);
            }
        }
    }

    /// Like [`Folding::put`], with the key given by reference: the owned
    /// key is made with `to_key` only if the key is new.
    #[inline]
    pub fn put_with<Q>(
        &mut self,
        key: &Q,
        to_key: impl FnOnce(&Q) -> K,
        value: V,
        combine: impl FnOnce(&mut V, V),
    ) -> bool
    where
        Q: Hash + Eq + ?Sized,
        K: Borrow<Q>,
    {
        self.pairs += 1;
        if let Some(bytes) = &mut self.bytes {
            // `Borrow` promises that `key` hashes as its owned form does.
            let packed = bytes.pack(key);
            if packed.is_inline() {
                return bytes.put(packed, || to_key(key), value, combine);
            }
        } else if let Some(index) = self.small_index(key) {
            // `Borrow` promises that `key` hashes as its owned form does,
            // so it has the same integer.
            if index >= self.small.len() {
                self.grow(index);
            }
            match &mut self.small[index] {
                Some((held, acc)) if (*held).borrow() == key => {
                    combine(acc, value);
                    return false;
                }
                slot @ None => {
                    *slot = Some((to_key(key), value));
                    self.small_len += 1;
                    return true;
                }
                Some(_) => {}
            }
        }
        match self.map.get_mut(key) {
            Some(acc) => {
                combine(acc, value);
                false
            }
            None => {
                self.map.insert(to_key(key), value);
                true
            }
        }
    }

    /// The array index of `key`, if the buffer keeps small keys in the
    /// array and `key` is one; the first key decides for the buffer.
    #[inline]
    fn small_index<Q: Hash + ?Sized>(&mut self, key: &Q) -> Option<usize> {
        match self.small_keys {
            Some(false) => None,
            Some(true) => small_integer(key),
            None => {
                let index = small_integer(key);
                self.small_keys = Some(index.is_some());
                index
            }
        }
    }

    #[cold]
    fn grow(&mut self, index: usize) {
        let len = (index + 1).next_power_of_two();
        self.small.resize_with(len, || None);
    }

    /// Moves every pair into `parts`, cut by `route`, keeping the
    /// allocations for what comes next.
    pub fn drain_into(&mut self, parts: &mut [Chunk<K, V>], route: &Route<'_, K>) {
        self.pairs = 0;
        if self.small_len > 0 {
            for (key, value) in self.small.iter_mut().filter_map(Option::take) {
                parts[route.partition(&key)].push((key, value));
            }
            self.small_len = 0;
        }
        for (key, value) in self.map.drain() {
            parts[route.partition(&key)].push((key, value));
        }
        if let Some(bytes) = &mut self.bytes {
            bytes.drain_into(parts, route);
        }
    }

    /// [`Folding::drain_into`] for the last time: the containers are
    /// freed as their pairs leave, not kept.
    pub fn finish_into(mut self, parts: &mut [Chunk<K, V>], route: &Route<'_, K>) {
        let bytes = self.bytes.take();
        self.drain_into(parts, route);
        drop(self);
        if let Some(bytes) = bytes {
            bytes.finish_into(parts, route);
        }
    }
}

/// The integer `key` hashes as, if its `Hash` writes exactly one integer
/// and that integer is below [`SMALL_KEYS`]. For the integer types this
/// compiles to a comparison.
#[inline]
pub(crate) fn small_integer<Q: Hash + ?Sized>(key: &Q) -> Option<usize> {
    let mut one = OneInteger::default();
    key.hash(&mut one);
    (one.writes == 1 && one.value < SMALL_KEYS).then_some(one.value as usize)
}

/// A `Hasher` that records what it is given when that is one integer.
#[derive(Default)]
struct OneInteger {
    value: u64,
    writes: u32,
}

impl OneInteger {
    #[inline]
    fn one(&mut self, n: u64) {
        self.value = n;
        self.writes += 1;
    }
}

impl Hasher for OneInteger {
    fn finish(&self) -> u64 {
        self.value
    }

    /// Bytes are never a small integer.
    #[inline]
    fn write(&mut self, _bytes: &[u8]) {
        self.writes += 2;
    }

    #[inline]
    fn write_u8(&mut self, n: u8) {
        self.one(n.into());
    }

    #[inline]
    fn write_u16(&mut self, n: u16) {
        self.one(n.into());
    }

    #[inline]
    fn write_u32(&mut self, n: u32) {
        self.one(n.into());
    }

    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.one(n);
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.one(n as u64);
    }

    // Signed integers by their bits at their own width, so that distinct
    // values stay distinct: -1i8 is 255, and a negative wider one is too
    // large to be small.
    #[inline]
    fn write_i8(&mut self, n: i8) {
        self.write_u8(n as u8);
    }

    #[inline]
    fn write_i16(&mut self, n: i16) {
        self.write_u16(n as u16);
    }

    #[inline]
    fn write_i32(&mut self, n: i32) {
        self.write_u32(n as u32);
    }

    #[inline]
    fn write_i64(&mut self, n: i64) {
        self.write_u64(n as u64);
    }

    #[inline]
    fn write_isize(&mut self, n: isize) {
        self.write_usize(n as usize);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::partition::Partitioner;

    fn counts<K: Hash + Eq + Clone + Ord>(keys: &[K]) -> Vec<(K, u32)> {
        let mut table = Folding::new(Container::Auto);
        for key in keys {
            table.put(key.clone(), 1, |acc, n| *acc += n);
        }
        let route = Route::Hash(Partitioner::new(1));
        let mut parts = vec![Vec::new()];
        table.drain_into(&mut parts, &route);
        assert_eq!(table.len(), 0);
        let mut pairs = parts.pop().unwrap();
        pairs.sort();
        pairs
    }

    #[test]
    fn small_integers_are_told_apart_from_everything_else() {
        assert_eq!(small_integer(&7u16), Some(7));
        assert_eq!(small_integer(&-1i8), Some(255));
        assert_eq!(small_integer(&true), Some(1));
        assert_eq!(small_integer(&-1i32), None);
        assert_eq!(small_integer(&(1u64 << 16)), None);
        assert_eq!(small_integer(&(1u8, 2u8)), None);
        assert_eq!(small_integer(&b""[..]), None);
        assert_eq!(small_integer("a"), None);
    }

    /// A key whose `Hash` sends many keys to one integer: the array must
    /// not merge them.
    #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Debug)]
    struct Lossy(u32);

    impl Hash for Lossy {
        fn hash<H: Hasher>(&self, state: &mut H) {
            state.write_u32(self.0 % 3);
        }
    }

    #[test]
    fn keys_sharing_an_integer_are_counted_apart() {
        let keys: Vec<Lossy> = (0..10).chain(0..4).map(Lossy).collect();
        let expected: Vec<(Lossy, u32)> = (0..10)
            .map(|k| (Lossy(k), if k < 4 { 2 } else { 1 }))
            .collect();
        assert_eq!(counts(&keys), expected);
    }

    #[test]
    fn large_and_small_integers_mix() {
        let keys = [5u64, 1 << 40, 5, 70_000, 1 << 40, 0];
        assert_eq!(counts(&keys), [(0, 1), (5, 2), (70_000, 1), (1 << 40, 2)]);
        // A first key that is not small keeps the array out of the way.
        assert_eq!(counts(&[1u64 << 40, 3, 3]), [(3, 2), (1 << 40, 1)]);
    }

    #[test]
    fn the_hash_container_keeps_every_key_in_the_hash_table() {
        let mut table = Folding::new(Container::Hash);
        for key in [3u16, 3, 9] {
            table.put(key, 1u32, |acc, n| *acc += n);
        }
        assert_eq!((table.small_len, table.map.len()), (0, 2));
        let mut words = Folding::new(Container::Hash);
        words.put(&b"ab"[..], 1u32, |acc, n| *acc += n);
        assert!(words.bytes.is_none());
        assert_eq!(words.map.len(), 1);
    }

    /// Absorbs `keys` (each counting 1) in batches of `batch`, with a
    /// table full at `limit` keys, and returns the counts summed over
    /// every table that filled and what was left.
    fn absorbed<K: Hash + Eq + Clone + Ord>(
        keys: &[K],
        batch: usize,
        limit: usize,
    ) -> Vec<(K, u32)> {
        let route = Route::Hash(Partitioner::new(1));
        let mut parts = vec![Vec::new()];
        let mut table = Folding::new(Container::Auto);
        for chunk in keys.chunks(batch) {
            let mut staged: Vec<(K, u32)> = chunk.iter().map(|k| (k.clone(), 1)).collect();
            table.absorb(
                &mut staged,
                &|acc: &mut u32, n| *acc += n,
                limit,
                &mut |full| full.drain_into(&mut parts, &route),
            );
            assert!(staged.is_empty());
        }
        table.drain_into(&mut parts, &route);
        let mut totals = std::collections::BTreeMap::new();
        for (key, n) in parts.pop().unwrap() {
            *totals.entry(key).or_insert(0) += n;
        }
        totals.into_iter().collect()
    }

    #[test]
    fn absorbing_in_batches_counts_as_putting_one_by_one() {
        let lossy: Vec<Lossy> = (0..40).chain(0..13).chain(5..9).map(Lossy).collect();
        let mixed: Vec<u64> = (0..300)
            .map(|i| [i % 7, 1 << 40, 70_000 + i % 3][i as usize % 3])
            .collect();
        for (batch, limit) in [(1, 1), (3, 2), (7, 5), (128, 1000)] {
            assert_eq!(absorbed(&lossy, batch, limit), counts(&lossy));
            assert_eq!(absorbed(&mixed, batch, limit), counts(&mixed));
        }
    }

    /// Byte strings enough for the table to outgrow the caches, so that
    /// it prefetches and folds found keys a few keys later: short keys and
    /// long ones (which go to the hash table), repeated near each other
    /// (a value waiting to be folded while its key comes again) and far
    /// apart, with tables filling in the middle of a batch.
    #[test]
    fn a_byte_string_table_past_the_caches_counts_as_putting_one_by_one() {
        let words: Vec<Vec<u8>> = (0..120_000u32)
            .map(|i| {
                let n = (i.wrapping_mul(2_654_435_761) % 60_000) as usize;
                match n % 10 {
                    0 => format!("a long word past sixteen bytes {n}").into_bytes(),
                    _ => format!("w{n}").into_bytes(),
                }
            })
            .chain((0..64).map(|i| format!("w{}", i % 3).into_bytes()))
            .collect();
        let keys: Vec<&[u8]> = words.iter().map(Vec::as_slice).collect();
        let expected = counts(&keys);
        assert!(expected.len() > 40_000, "{} keys", expected.len());
        for limit in [45_000, 1 << 20] {
            assert_eq!(absorbed(&keys, 128, limit), expected, "full at {limit}");
        }
    }
}
