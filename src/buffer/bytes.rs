//! The folding container for byte-string keys: short keys kept inline.
//!
//! A general hash table holding `&[u8]` keys compares a probed key by
//! following its pointer back into the input, a cache miss for every rare
//! word, and through a call to `memcmp`. This table keeps, beside each
//! slot, the key as two integers and its length, as the built-in word
//! count's table does: a key of up to [`INLINE`] bytes is compared with
//! three integer comparisons and never read back from where it lives.
//! Longer keys are not taken: the caller keeps them in a general table,
//! where they hash as fast and compare no slower.
//!
//! The bytes of a key are what its `Hash` writes with `Hasher::write`; the
//! caller uses this table only for key types whose `Hash` writes exactly
//! their bytes and whose `==` compares exactly those (see
//! [`is_byte_string`]).

use std::hash::{Hash, Hasher};

use crate::hint::prefetch;
use crate::pairs::{drain_freeing, Chunk};
use crate::partition::Route;

/// Keys of at most this many bytes are compared inline.
pub(super) const INLINE: usize = 16;

/// Slots of a new table; it doubles when three quarters full.
const INITIAL_SLOTS: usize = 1 << 10;

/// Bytes of slots that stay in a core's caches (its level-2 cache, on
/// today's servers): a larger table is worth prefetching.
const CACHED_BYTES: usize = 1 << 20;

/// Whether `K` is one of the byte-string types whose `Hash` writes their
/// bytes and whose `==` compares them, and nothing else: byte slices and
/// vectors, strings, and word count's `Word`. Decided by the type's name,
/// since stable Rust cannot ask for a trait it does not require: a type
/// not on the list only misses the faster table.
pub(super) fn is_byte_string<K: ?Sized>() -> bool {
    const BYTE_STRINGS: [&str; 10] = [
        "&[u8]",
        "&mut [u8]",
        "alloc::vec::Vec<u8>",
        "alloc::boxed::Box<[u8]>",
        "alloc::borrow::Cow<[u8]>",
        "&str",
        "alloc::string::String",
        "alloc::boxed::Box<str>",
        "mr_local::jobs::word::Word",
        "mr_local::jobs::word::Word<'_>",
    ];
    BYTE_STRINGS.contains(&std::any::type_name::<K>())
}

/// A key as this table sees it: its bytes packed into two integers (all of
/// them when it is short, the first and last eight when it is long), its
/// length, and its hash.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Packed {
    low: u64,
    high: u64,
    /// The length, at most `u32::MAX` (a longer key is simply long).
    len: u32,
    /// For a short key, the top 27 bits of its hash above its length (the
    /// low [`LEN_BITS`] bits): with `low` and `high`, the whole key.
    hash_len: u32,
}

/// Bits of [`Packed::hash_len`] that hold a short key's length.
const LEN_BITS: u32 = 5;
const _: () = assert!(INLINE < 1 << LEN_BITS, "a short key's length fits");

/// A slot of the table: a short key as packed, in 24 bytes.
#[derive(Clone, Copy, Default)]
struct Slot {
    low: u64,
    high: u64,
    hash_len: u32,
    /// Where the key's pair is in `pairs`, plus one; 0 for an empty slot.
    at: u32,
}

impl Slot {
    #[inline]
    fn holds(&self, packed: &Packed) -> bool {
        (self.low, self.high, self.hash_len) == (packed.low, packed.high, packed.hash_len)
    }

    /// Where a key hashed as `hash_len` is looked for first, in a table of
    /// `mask + 1` slots. Above 2^27 slots, the upper ones are reached only
    /// by probing: still right, slower.
    #[inline]
    fn home(hash_len: u32, mask: usize) -> usize {
        (hash_len >> LEN_BITS) as usize & mask
    }
}

impl Packed {
    /// Packs the bytes `key`'s `Hash` writes, hashed with `seeds`.
    #[inline]
    fn of<Q: Hash + ?Sized>(key: &Q, seeds: (u64, u64)) -> Packed {
        let mut packer = Packer {
            packed: Packed::default(),
            seeds,
        };
        key.hash(&mut packer);
        packer.packed
    }

    /// Whether the key is short enough for the table.
    pub fn is_inline(&self) -> bool {
        self.len as usize <= INLINE
    }
}

/// The `Hasher` that packs a key's bytes.
struct Packer {
    packed: Packed,
    seeds: (u64, u64),
}

impl Hasher for Packer {
    fn finish(&self) -> u64 {
        self.packed.hash_len.into()
    }

    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let len = bytes.len() as u64;
        let (low, high, hash) = match bytes.len() > INLINE {
            // A long key is only measured: the table does not take it.
            true => (0, 0, 0),
            false => {
                let (low, high) = pack(bytes);
                (
                    low,
                    high,
                    fold(low ^ self.seeds.0, high ^ self.seeds.1 ^ len),
                )
            }
        };
        let p = &mut self.packed;
        // Byte strings write once; anything more is mixed in, to stay a
        // hash, though such keys are never given to this table.
        let len = p.len.saturating_add(u32::try_from(len).unwrap_or(u32::MAX));
        let hash = (p.hash_len >> LEN_BITS) ^ (hash >> (64 - (32 - LEN_BITS))) as u32;
        *p = Packed {
            low: p.low ^ low,
            high: p.high ^ high,
            len,
            hash_len: hash << LEN_BITS | (len & ((1 << LEN_BITS) - 1)),
        };
    }

    /// Integers a byte string's `Hash` adds (its length first, or a
    /// terminator after it) follow from its bytes: they change nothing.
    #[inline]
    fn write_u8(&mut self, _: u8) {}

    #[inline]
    fn write_usize(&mut self, _: usize) {}
}

/// Packs up to 16 bytes into two integers that, with the length, give the
/// bytes back; of more, the first and the last eight.
#[inline]
fn pack(bytes: &[u8]) -> (u64, u64) {
    let n = bytes.len();
    let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap_or([0; 8]));
    let half = |at: usize| {
        u64::from(u32::from_le_bytes(
            bytes[at..at + 4].try_into().unwrap_or([0; 4]),
        ))
    };
    if n >= 8 {
        (word(0), word(n - 8))
    } else if n >= 4 {
        (half(0) | half(n - 4) << 32, 0)
    } else if n > 0 {
        let b = |at: usize| u64::from(bytes[at]);
        (b(0) | b(n / 2) << 8 | b(n - 1) << 16, 0)
    } else {
        (0, 0)
    }
}

/// Multiplies as 128 bits and folds the halves together: every input bit
/// reaches every output bit. Word count's table hashes with it too.
#[inline]
pub(crate) fn fold(x: u64, y: u64) -> u64 {
    let product = u128::from(x) * u128::from(y);
    (product as u64) ^ ((product >> 64) as u64)
}

/// Values folded by byte-string key.
pub(super) struct Bytes<K, V> {
    /// Open addressing, linear probing.
    slots: Vec<Slot>,
    pairs: Vec<(K, V)>,
    seeds: (u64, u64),
}

impl<K, V> Bytes<K, V> {
    pub fn new() -> Self {
        let random = ahash::RandomState::new();
        Bytes {
            slots: Vec::new(),
            pairs: Vec::new(),
            seeds: (random.hash_one(1u8), random.hash_one(2u8) | 1),
        }
    }

    pub fn len(&self) -> usize {
        self.pairs.len()
    }
}

impl<K: Hash + Eq, V> Bytes<K, V> {
    /// `key` packed for this table: [`Bytes::put`] takes it if it
    /// [`is_inline`](Packed::is_inline); a longer key belongs in the
    /// caller's general table.
    #[inline]
    pub fn pack<Q: Hash + ?Sized>(&self, key: &Q) -> Packed {
        Packed::of(key, self.seeds)
    }

    /// Whether the slots have outgrown a core's caches, so that finding a
    /// key costs a memory access: then [`Bytes::prefetch`] pays.
    pub fn outgrew_caches(&self) -> bool {
        self.slots.len() * std::mem::size_of::<Slot>() > CACHED_BYTES
    }

    /// Asks for the slot where `packed` is looked for first to be brought
    /// into the caches.
    #[inline]
    pub fn prefetch(&self, packed: &Packed) {
        if let Some(slot) = self.slots.get(Slot::home(
            packed.hash_len,
            self.slots.len().wrapping_sub(1),
        )) {
            prefetch(slot);
        }
    }

    /// Folds `value` into the value of the key packed as `packed` with
    /// `combine`, or adds the key, made with `to_key` only then. Returns
    /// whether it is new.
    #[inline]
    pub fn put(
        &mut self,
        packed: Packed,
        to_key: impl FnOnce() -> K,
        value: V,
        combine: impl FnOnce(&mut V, V),
    ) -> bool {
        debug_assert!(packed.is_inline());
        match self.find(&packed) {
            Ok(at) => {
                combine(&mut self.pairs[at].1, value);
                false
            }
            Err(slot) => {
                self.insert(slot, packed, to_key(), value);
                true
            }
        }
    }

    /// Like [`Bytes::put`], without folding: the place of the key's pair
    /// and `value` back if the key is held (for the caller to fold in,
    /// after [`Bytes::prefetch_pair`] has had time to bring it in), `None`
    /// once the key is added with `value`.
    #[inline]
    pub fn find_or_add(
        &mut self,
        packed: Packed,
        to_key: impl FnOnce() -> K,
        value: V,
    ) -> Option<(usize, V)> {
        debug_assert!(packed.is_inline());
        match self.find(&packed) {
            Ok(at) => Some((at, value)),
            Err(slot) => {
                self.insert(slot, packed, to_key(), value);
                None
            }
        }
    }

    /// Asks for the pair at `at` (from [`Bytes::find_or_add`]) to be
    /// brought into the caches.
    #[inline]
    pub fn prefetch_pair(&self, at: usize) {
        if let Some(pair) = self.pairs.get(at) {
            prefetch(pair);
        }
    }

    /// The value of the pair at `at`, from [`Bytes::find_or_add`] since
    /// the table was last emptied.
    #[inline]
    pub fn value_mut(&mut self, at: usize) -> &mut V {
        &mut self.pairs[at].1
    }

    /// The pair of the key packed as `packed` (short keys only: the
    /// packing is the whole key), or the empty slot where it would go.
    #[inline]
    fn find(&mut self, packed: &Packed) -> Result<usize, usize> {
        if self.slots.is_empty() {
            self.slots = vec![Slot::default(); INITIAL_SLOTS];
        }
        let mask = self.slots.len() - 1;
        let mut slot = Slot::home(packed.hash_len, mask);
        loop {
            let held = &self.slots[slot];
            if held.at == 0 {
                return Err(slot);
            }
            if held.holds(packed) {
                return Ok(held.at as usize - 1);
            }
            slot = (slot + 1) & mask;
        }
    }

    fn insert(&mut self, slot: usize, packed: Packed, key: K, value: V) {
        self.pairs.push((key, value));
        self.slots[slot] = Slot {
            low: packed.low,
            high: packed.high,
            hash_len: packed.hash_len,
            at: self.pairs.len() as u32,
        };
        if self.pairs.len() * 4 > self.slots.len() * 3 {
            self.grow();
        }
    }

    #[cold]
    fn grow(&mut self) {
        let old = std::mem::take(&mut self.slots);
        self.slots = vec![Slot::default(); old.len() * 2];
        let mask = self.slots.len() - 1;
        for held in old.into_iter().filter(|held| held.at != 0) {
            let mut slot = Slot::home(held.hash_len, mask);
            while self.slots[slot].at != 0 {
                slot = (slot + 1) & mask;
            }
            self.slots[slot] = held;
        }
    }

    /// Moves every pair into `parts`, cut by `route`; the table keeps its
    /// slots, emptied, for what comes next.
    pub fn drain_into(&mut self, parts: &mut [Chunk<K, V>], route: &Route<'_, K>) {
        for (key, value) in self.pairs.drain(..) {
            parts[route.partition(&key)].push((key, value));
        }
        self.slots.fill(Slot::default());
    }

    /// Moves every pair into `parts`, cut by `route`, for the last time:
    /// the slots are freed first, and the pairs' room as they leave, so
    /// that the pairs are not held twice at the end of the map phase.
    pub fn finish_into(self, parts: &mut [Chunk<K, V>], route: &Route<'_, K>) {
        let Bytes { slots, pairs, .. } = self;
        drop(slots);
        drain_freeing(pairs, |(key, value)| {
            parts[route.partition(&key)].push((key, value));
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::wordcount::Word;
    use crate::partition::Partitioner;

    #[test]
    fn byte_strings_are_known_by_name() {
        assert!(is_byte_string::<&[u8]>());
        assert!(is_byte_string::<Vec<u8>>());
        assert!(is_byte_string::<String>());
        assert!(is_byte_string::<&str>());
        assert!(is_byte_string::<Word<'static>>());
        assert!(!is_byte_string::<u64>());
        assert!(!is_byte_string::<(Vec<u8>, u8)>());
        assert!(!is_byte_string::<Vec<u16>>());
    }

    #[test]
    fn packing_tells_every_short_key_apart() {
        let seeds = (3, 5);
        let mut seen = std::collections::HashMap::new();
        let mut keys: Vec<Vec<u8>> = vec![Vec::new()];
        for len in 1..=INLINE {
            for fill in [0u8, 1, 0xff] {
                let mut key = vec![fill; len];
                keys.push(key.clone());
                key[len - 1] ^= 0x80;
                keys.push(key.clone());
                key[0] ^= 0x40;
                keys.push(key);
            }
        }
        for key in &keys {
            let packed = Packed::of(&key[..], seeds);
            assert!(packed.is_inline());
            if let Some(other) = seen.insert((packed.low, packed.high, packed.len), key) {
                assert_eq!(other, key, "two keys packed alike");
            }
        }
    }

    fn count<K: Hash + Eq + Clone + Ord>(keys: &[K]) -> Vec<(K, u32)> {
        let mut table = Bytes::new();
        let mut long = std::collections::BTreeMap::new();
        for key in keys {
            let packed = table.pack(key);
            match packed.is_inline() {
                true => {
                    table.put(packed, || key.clone(), 1, |acc, n| *acc += n);
                }
                false => *long.entry(key.clone()).or_insert(0) += 1,
            }
        }
        let mut parts = vec![Vec::new()];
        table.drain_into(&mut parts, &Route::Hash(Partitioner::new(1)));
        assert_eq!(table.len(), 0);
        let mut pairs = parts.pop().unwrap();
        pairs.extend(long);
        pairs.sort();
        pairs
    }

    #[test]
    fn counts_agree_with_a_map_across_growth_and_long_keys() {
        let mut keys: Vec<String> = Vec::new();
        for i in 0..5000u32 {
            keys.push(format!("w{}", i % 1700));
            // Long keys that share their first and last bytes.
            keys.push(format!("prefix-prefix-{:06}-suffix-suffix", i % 300));
        }
        keys.push(String::new());
        let mut expected = std::collections::BTreeMap::new();
        for key in &keys {
            *expected.entry(key.clone()).or_insert(0) += 1;
        }
        let expected: Vec<(String, u32)> = expected.into_iter().collect();
        assert_eq!(count(&keys), expected);
        let borrowed: Vec<&[u8]> = keys.iter().map(|k| k.as_bytes()).collect();
        assert_eq!(count(&borrowed).len(), expected.len());
    }
}
