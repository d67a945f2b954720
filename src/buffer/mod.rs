//! The per-worker buffer: where a map worker keeps what it emits until the
//! buffer is full, or the map phase ends, and it is handed to the shuffle.
//!
//! The map side sees only what this file exports: absorb a batch of staged
//! pairs (or put one pair in by reference), learn whether the buffer is
//! full, drain it cut by partition. The shuffle strategy that makes a
//! buffer ([`Shuffle::buffer`](crate::shuffle::Shuffle::buffer)) chooses
//! whether it folds, appends or passes pairs on; a folding buffer picks its
//! container from the keys (`folding.rs`: an array for small-integer keys,
//! `bytes.rs` for short byte strings, a hash table for the rest) unless the
//! job asks for the hash table for all ([`Container::Hash`]), and
//! appends instead for a while when its keys mostly do not repeat, so
//! containers for other kinds of key can be added here without the map side
//! or the strategies changing shape.

use std::borrow::Borrow;
use std::hash::Hash;

use crate::pairs::Chunk;
use crate::partition::Route;

mod bytes;
mod folding;

pub(crate) use bytes::fold;
pub(crate) use folding::small_integer;
use folding::Folding;

/// The container a job's map-side buffers fold pairs in: chosen by the
/// key type, or the hash table for every key. Set it with
/// [`JobBuilder::container`](crate::JobBuilder::container).
///
/// It matters only where pairs are folded: in a job with a combiner, and
/// in the handle of [`Job::map_combine`](crate::Job::map_combine).
/// [`Job::map_dense`](crate::Job::map_dense) folds keys below the size its
/// handle names in that array whatever this says, and the rest here. The
/// built-in jobs that scan splits themselves (`wordcount`) keep tables of
/// their own. Every container gives the same answer; they differ in speed
/// and memory.
///
/// # Example
///
/// ```
/// use mr_local::{Container, Job};
///
/// let job = Job::builder().container(Container::Hash).build()?;
/// assert_eq!(job.container(), Container::Hash);
/// assert_eq!(Job::builder().build()?.container(), Container::Auto);
/// # Ok::<(), mr_local::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Container {
    /// Chosen by the key (the default):
    ///
    /// - a key whose `Hash` writes one integer below 65,536 (`u8`, `i8`,
    ///   `bool`, `u16`, `i16`, `char`, small values of the wider integers,
    ///   fieldless enums, newtypes of those) goes in an array indexed by
    ///   that integer: a bounds check and a comparison a pair. A slot
    ///   holds the first key with its integer; another key with the same
    ///   integer (a `Hash` that is not one-to-one) goes to the hash table;
    /// - a byte-string key (`&[u8]`, `Vec<u8>`, `String`, `&str`,
    ///   [`Word`](crate::jobs::wordcount::Word))
    ///   goes in a table that stores each slot's hash and keeps keys of up
    ///   to 16 bytes inline, so that comparing keys does not read the
    ///   input again; past the caches it prefetches slots ahead of use.
    ///   Longer keys go to the hash table;
    /// - every other key goes in the hash table (std's, with `ahash`).
    #[default]
    Auto,
    /// The hash table for every key: for small-integer keys spread thinly
    /// over their range (the array grows to the largest integer seen), or
    /// to compare containers.
    Hash,
}

/// One map worker's output, not yet handed to the shuffle.
pub(crate) struct Buffer<K, V> {
    store: Store<K, V>,
    /// The container a folding store is made with.
    container: Container,
    /// The buffer is full once it holds this many keys (folding) or pairs
    /// (appending).
    limit: usize,
    /// For a buffer made to fold: whether it folds now.
    adapt: Adapt,
}

/// How a buffer made to fold adapts to its keys. Folding pays while keys
/// repeat: a pair folded here is one the shuffle and the reducers never
/// see. When most keys are new (ids, n-grams, a sort's lines), it only
/// inserts every key into one more table than the reducers' own, and
/// appending does better: each pair is written once, in order, into its
/// partition's vector, and the reducers fold them all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Adapt {
    /// Not a folding buffer: it keeps the kind it was made.
    Fixed,
    /// Folding: at each fill it looks at how many of its pairs folded.
    Folds,
    /// Appending because folding did not pay, for this many more fills;
    /// then it folds again, to look afresh, since keys can change as the
    /// inputs go on.
    Appends(u32),
}

/// Keys a folding buffer holds when it first asks whether folding pays
/// (and after each batch from then on), if it is not full before.
const PROBE_AT: usize = 1 << 16;

/// Fills a buffer appends for, once folding has not paid, before it tries
/// folding again: trying costs one fill with folding's overhead.
const APPENDING_FILLS: u32 = 8;

enum Store<K, V> {
    /// Pairs folded by key with the job's combiner.
    Folding(Folding<K, V>),
    /// Pairs kept as they come, already cut by partition.
    Appending { parts: Vec<Chunk<K, V>>, len: usize },
    /// Nothing kept: every pair goes straight on to the shuffle.
    Direct,
}

/// What absorbing staged pairs ([`Buffer::absorb`]) leaves to the caller:
/// the pairs of a buffer that filled, cut by partition, with how many
/// there are (to hand over), or a pair a direct buffer gave back (for the
/// shuffle).
pub(crate) enum Overflow<K, V> {
    Full(Vec<Chunk<K, V>>, usize),
    Passed(K, V),
}

/// What became of a pair put into a [`Buffer`].
pub(crate) enum Put<K, V> {
    /// Kept: folded into its key's value, added, or appended.
    Kept,
    /// Kept, and now the buffer is full: it should be handed over.
    Full,
    /// Not kept: a direct buffer gives every pair back, for the shuffle.
    Passed(K, V),
}

impl<K, V> Buffer<K, V> {
    /// A buffer that folds the values of each key with the job's combiner,
    /// full at `limit` distinct keys.
    pub fn folding(limit: usize) -> Self {
        Buffer {
            store: Store::Folding(Folding::new(Container::Auto)),
            container: Container::Auto,
            limit,
            adapt: Adapt::Folds,
        }
    }

    /// A buffer that keeps pairs as they come, one vector per partition,
    /// full at `limit` pairs.
    pub fn appending(partitions: usize, limit: usize) -> Self {
        Buffer {
            store: Store::Appending {
                parts: empty_parts(partitions),
                len: 0,
            },
            container: Container::Auto,
            limit,
            adapt: Adapt::Fixed,
        }
    }

    /// A buffer that keeps nothing: every pair is passed on at once.
    pub fn direct() -> Self {
        Buffer {
            store: Store::Direct,
            container: Container::Auto,
            limit: 1,
            adapt: Adapt::Fixed,
        }
    }

    /// This buffer folding in `container`, where it folds. It must be
    /// empty.
    pub fn with_container(mut self, container: Container) -> Self {
        debug_assert_eq!(self.len(), 0);
        self.container = container;
        if let Store::Folding(_) = self.store {
            self.store = Store::Folding(Folding::new(container));
        }
        self
    }

    /// This buffer as a run that may spill wants it: every pair kept (a
    /// direct buffer becomes an appending one, so that what is full can be
    /// spilled), and full at no fewer than `fewest` and no more than `most`
    /// keys or pairs. Applying it twice changes nothing more.
    pub fn bounded(self, partitions: usize, fewest: usize, most: usize) -> Self {
        let limit = self.limit.max(fewest).min(most.max(fewest));
        match self.store {
            Store::Direct => Buffer::appending(partitions, limit),
            store => Buffer {
                store,
                container: self.container,
                limit,
                adapt: self.adapt,
            },
        }
    }

    /// The number of keys (folding) or pairs (appending) held.
    pub fn len(&self) -> usize {
        match &self.store {
            Store::Folding(table) => table.len(),
            Store::Appending { len, .. } => *len,
            Store::Direct => 0,
        }
    }
}

impl<K: Hash + Eq, V> Buffer<K, V> {
    /// Puts one pair in, with the key given by reference: the owned key is
    /// made with `to_key` only if the buffer keeps it. A value whose key is
    /// held already is folded into the key's with `combine`.
    #[inline]
    pub fn put_with<Q>(
        &mut self,
        key: &Q,
        to_key: impl FnOnce(&Q) -> K,
        value: V,
        route: &Route<'_, K>,
        combine: impl FnOnce(&mut V, V),
    ) -> Put<K, V>
    where
        Q: Hash + Eq + ?Sized,
        K: Borrow<Q>,
    {
        match &mut self.store {
            Store::Folding(table) => match table.put_with(key, to_key, value, combine) {
                true => self.after_insert(),
                false => Put::Kept,
            },
            Store::Appending { .. } => self.append(to_key(key), value, route),
            Store::Direct => Put::Passed(to_key(key), value),
        }
    }

    #[inline]
    fn append(&mut self, key: K, value: V, route: &Route<'_, K>) -> Put<K, V> {
        if let Store::Appending { parts, len } = &mut self.store {
            parts[route.partition(&key)].push((key, value));
            *len += 1;
        }
        self.after_insert()
    }

    #[inline]
    fn after_insert(&self) -> Put<K, V> {
        match self.len() >= self.limit {
            true => Put::Full,
            false => Put::Kept,
        }
    }

    /// Puts every staged pair in, in one loop made for `combine`'s type:
    /// a buffer that fills is emptied into `overflow` and goes on, and a
    /// pair a direct buffer does not keep goes to `overflow` as it comes.
    #[inline]
    pub fn absorb<C>(
        &mut self,
        staged: &mut Vec<(K, V)>,
        route: &Route<'_, K>,
        combine: &C,
        overflow: &mut dyn FnMut(Overflow<K, V>),
    ) where
        C: Fn(&mut V, V) + ?Sized,
    {
        if self.adapt == Adapt::Appends(0) {
            self.fold_again(route, overflow);
        }
        let limit = self.limit;
        match &mut self.store {
            Store::Folding(table) => {
                let mut pays = true;
                table.absorb(staged, combine, limit, &mut |table| {
                    pays &= table.folding_pays();
                    let pairs = table.len();
                    overflow(Overflow::Full(cut_folding(table, route), pairs));
                });
                // Looked at early too, so that a buffer of a million keys
                // need not fill once before it knows.
                let early = table.len() >= PROBE_AT && !table.folding_pays();
                if (!pays || early) && self.adapt == Adapt::Folds {
                    self.stop_folding(route, overflow);
                }
            }
            Store::Appending { parts, len } => {
                for (key, value) in staged.drain(..) {
                    parts[route.partition(&key)].push((key, value));
                    *len += 1;
                    if *len >= limit {
                        let full = std::mem::replace(parts, empty_parts(route.partitions()));
                        overflow(Overflow::Full(full, std::mem::take(len)));
                        if let Adapt::Appends(fills) = &mut self.adapt {
                            *fills = fills.saturating_sub(1);
                        }
                    }
                }
            }
            Store::Direct => {
                for (key, value) in staged.drain(..) {
                    overflow(Overflow::Passed(key, value));
                }
            }
        }
    }

    /// Turns a folding buffer whose pairs mostly did not fold into an
    /// appending one, handing over what it holds. ([`Buffer::drain`] does
    /// the same for a buffer filled by [`Buffer::put_with`].)
    #[cold]
    fn stop_folding(&mut self, route: &Route<'_, K>, overflow: &mut dyn FnMut(Overflow<K, V>)) {
        self.hand_over_all(route, overflow);
        self.appends(route);
    }

    /// Hands everything the buffer holds to `overflow`, as a full buffer.
    fn hand_over_all(&mut self, route: &Route<'_, K>, overflow: &mut dyn FnMut(Overflow<K, V>)) {
        if let Some(parts) = self.drain(route) {
            let pairs = parts.iter().map(Vec::len).sum();
            overflow(Overflow::Full(parts, pairs));
        }
    }

    /// Makes this (empty) buffer append for the next [`APPENDING_FILLS`]
    /// fills.
    fn appends(&mut self, route: &Route<'_, K>) {
        self.store = Store::Appending {
            parts: empty_parts(route.partitions()),
            len: 0,
        };
        self.adapt = Adapt::Appends(APPENDING_FILLS);
    }

    /// Makes an appending buffer that stopped folding fold again, handing
    /// over what it holds.
    #[cold]
    fn fold_again(&mut self, route: &Route<'_, K>, overflow: &mut dyn FnMut(Overflow<K, V>)) {
        self.hand_over_all(route, overflow);
        self.store = Store::Folding(Folding::new(self.container));
        self.adapt = Adapt::Folds;
    }

    /// Takes every pair out, cut by partition, when nothing comes next:
    /// [`Buffer::drain`], except that a folding buffer's table is freed as
    /// its pairs leave, so that the end of the map phase does not hold
    /// every thread's pairs twice.
    pub fn finish(self, route: &Route<'_, K>) -> Option<Vec<Chunk<K, V>>> {
        match self.store {
            Store::Folding(table) => {
                if table.len() == 0 {
                    return None;
                }
                let mut parts = parts_for(table.len(), route.partitions());
                table.finish_into(&mut parts, route);
                Some(parts)
            }
            Store::Appending { parts, len } => (len > 0).then_some(parts),
            Store::Direct => None,
        }
    }

    /// Takes every pair out, cut by partition (`parts[p]` belongs to
    /// partition `p`), keeping the buffer's allocation for what comes
    /// next; `None` if it held none.
    pub fn drain(&mut self, route: &Route<'_, K>) -> Option<Vec<Chunk<K, V>>> {
        match &mut self.store {
            Store::Folding(table) => {
                if table.len() == 0 {
                    return None;
                }
                let pays = table.folding_pays();
                let parts = cut_folding(table, route);
                if !pays && self.adapt == Adapt::Folds {
                    self.appends(route);
                }
                Some(parts)
            }
            Store::Appending { parts, len } => {
                if *len == 0 {
                    return None;
                }
                *len = 0;
                let full = std::mem::replace(parts, empty_parts(route.partitions()));
                match &mut self.adapt {
                    Adapt::Appends(0 | 1) => {
                        self.store = Store::Folding(Folding::new(self.container));
                        self.adapt = Adapt::Folds;
                    }
                    Adapt::Appends(fills) => *fills -= 1,
                    Adapt::Fixed | Adapt::Folds => {}
                }
                Some(full)
            }
            Store::Direct => None,
        }
    }
}

/// Empties a folding table into one vector per partition.
fn cut_folding<K: Hash + Eq, V>(
    table: &mut Folding<K, V>,
    route: &Route<'_, K>,
) -> Vec<Chunk<K, V>> {
    let mut parts = parts_for(table.len(), route.partitions());
    table.drain_into(&mut parts, route);
    parts
}

/// Empty vectors for `pairs` pairs hashed into `partitions`, each with room
/// for its share and four standard deviations more: a share that outgrew
/// its room would double it, and hold up to twice its pairs' memory.
fn parts_for<K, V>(pairs: usize, partitions: usize) -> Vec<Chunk<K, V>> {
    let share = pairs / partitions.max(1);
    let room = share + 4 * share.isqrt() + 16;
    (0..partitions).map(|_| Vec::with_capacity(room)).collect()
}

fn empty_parts<K, V>(partitions: usize) -> Vec<Chunk<K, V>> {
    (0..partitions).map(|_| Vec::new()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::partition::Partitioner;

    /// Absorbs `pairs` into `buffer`, returning what overflowed: the sizes
    /// of the buffers that filled, and the pairs passed back.
    fn absorb<K: Hash + Eq, V>(
        buffer: &mut Buffer<K, V>,
        pairs: Vec<(K, V)>,
        route: &Route<'_, K>,
        combine: &dyn Fn(&mut V, V),
    ) -> (Vec<usize>, Vec<(K, V)>) {
        let (mut full, mut passed) = (Vec::new(), Vec::new());
        buffer.absorb(
            &mut { pairs },
            route,
            combine,
            &mut |overflow| match overflow {
                Overflow::Full(parts, n) => {
                    assert_eq!(parts.iter().map(Vec::len).sum::<usize>(), n);
                    full.push(n);
                }
                Overflow::Passed(key, value) => passed.push((key, value)),
            },
        );
        (full, passed)
    }

    #[test]
    fn a_folding_buffer_is_full_at_its_limit_of_keys_and_drains_by_partition() {
        let route = Route::Hash(Partitioner::new(3));
        let mut buffer = Buffer::folding(3);
        let add = |acc: &mut u32, n: u32| *acc += n;
        let pairs = vec![("a", 1), ("a", 2), ("b", 1), ("c", 1), ("a", 5), ("d", 1)];
        let (full, passed) = absorb(&mut buffer, pairs, &route, &add);
        assert_eq!((full, passed), (vec![3], vec![]));
        assert_eq!(buffer.len(), 2);
        let parts = buffer.drain(&route).unwrap();
        assert_eq!(parts.len(), 3);
        assert!(parts[route.partition(&"a")].contains(&("a", 5)));
        let mut left: Vec<_> = parts.into_iter().flatten().collect();
        left.sort();
        assert_eq!(left, [("a", 5), ("d", 1)]);
        assert_eq!(buffer.len(), 0);
        assert!(buffer.drain(&route).is_none());
        assert!(matches!(
            buffer.put_with("x", |_| "x", 1, &route, add),
            Put::Kept
        ));
    }

    #[test]
    fn finishing_hands_over_what_draining_would_for_every_container() {
        let route = Route::Hash(Partitioner::new(3));
        let add = |acc: &mut u64, n: u64| *acc += n;
        // Byte-string keys, short ones inline and long ones in the hash
        // table (all in the hash table with `Container::Hash`); then
        // small-integer keys, in the array.
        let words: Vec<String> = (0..5000)
            .map(|i| format!("{}", i % 700).repeat(1 + i % 9))
            .collect();
        let finished = |container: Container| {
            let mut buffer = Buffer::folding(1 << 20).with_container(container);
            let pairs: Vec<(String, u64)> = words.iter().map(|w| (w.clone(), 1)).collect();
            absorb(&mut buffer, pairs, &route, &add);
            let parts = buffer.finish(&route).unwrap();
            for (p, part) in parts.iter().enumerate() {
                assert!(part.iter().all(|(key, _)| route.partition(key) == p));
            }
            let mut all: Vec<_> = parts.into_iter().flatten().collect();
            all.sort();
            all
        };
        let mut expected = std::collections::BTreeMap::new();
        for w in &words {
            *expected.entry(w.clone()).or_insert(0) += 1;
        }
        let expected: Vec<_> = expected.into_iter().collect();
        assert_eq!(finished(Container::Auto), expected);
        assert_eq!(finished(Container::Hash), expected);
        let route = Route::Hash(Partitioner::new(3));
        let mut small = Buffer::folding(64);
        absorb(&mut small, vec![(3u8, 1u64), (3, 2), (9, 1)], &route, &add);
        let mut got: Vec<_> = small
            .finish(&route)
            .unwrap()
            .into_iter()
            .flatten()
            .collect();
        got.sort();
        assert_eq!(got, [(3, 3), (9, 1)]);
        assert!(Buffer::<u8, u64>::folding(4).finish(&route).is_none());
    }

    #[test]
    fn bounding_keeps_every_pair_within_its_limits_and_is_idempotent() {
        let route = Route::Hash(Partitioner::new(2));
        let mut direct = Buffer::<u8, u8>::direct();
        let (full, passed) = absorb(&mut direct, vec![(1, 1)], &route, &|_, _| ());
        assert_eq!((full, passed), (vec![], vec![(1, 1)]));
        let bounded = Buffer::<u8, u8>::direct().bounded(2, 4, 100);
        assert_eq!(bounded.limit, 4);
        assert!(matches!(bounded.store, Store::Appending { .. }));
        let big = Buffer::<u8, u8>::folding(1 << 20).bounded(2, 4, 100);
        assert_eq!(big.limit, 100);
        assert_eq!(big.bounded(2, 4, 100).limit, 100);
    }

    #[test]
    fn a_folding_buffer_appends_while_keys_do_not_repeat_and_then_folds_again() {
        let route = Route::Hash(Partitioner::new(2));
        let add = |acc: &mut u32, n: u32| *acc += n;
        let mut buffer = Buffer::folding(4);
        let mut totals = std::collections::BTreeMap::new();
        let mut total = |pairs: Vec<(u32, u32)>| {
            for (key, n) in pairs {
                *totals.entry(key).or_insert(0) += n;
            }
        };
        // Distinct keys: the first fill shows that folding does not pay.
        let (full, _) = absorb(&mut buffer, (0..4).map(|k| (k, 1)).collect(), &route, &add);
        assert_eq!(full, [4]);
        assert_eq!(buffer.adapt, Adapt::Appends(APPENDING_FILLS));
        let mut fills = Vec::new();
        for round in 0..APPENDING_FILLS {
            let pairs = (0..4).map(|k| (100 + round * 4 + k, 1)).collect();
            fills.extend(absorb(&mut buffer, pairs, &route, &add).0);
            assert!(matches!(buffer.store, Store::Appending { .. }));
        }
        assert_eq!(fills, [4; APPENDING_FILLS as usize]);
        // The next batch folds again: a key repeating folds.
        let (full, _) = absorb(&mut buffer, vec![(7, 1), (7, 2), (7, 3)], &route, &add);
        assert!(full.is_empty());
        assert_eq!(buffer.adapt, Adapt::Folds);
        assert_eq!(buffer.len(), 1);
        total(
            buffer
                .drain(&route)
                .unwrap()
                .into_iter()
                .flatten()
                .collect(),
        );
        assert_eq!(totals.into_iter().collect::<Vec<_>>(), [(7, 6)]);
    }

    #[test]
    fn a_buffer_filled_key_by_key_adapts_when_drained() {
        let route = Route::Hash(Partitioner::new(1));
        let add = |acc: &mut u32, n: u32| *acc += n;
        let mut buffer = Buffer::folding(3);
        for key in 0..3u32 {
            buffer.put_with(&key, |k| *k, 1, &route, add);
        }
        assert_eq!(buffer.drain(&route).unwrap()[0].len(), 3);
        assert_eq!(buffer.adapt, Adapt::Appends(APPENDING_FILLS));
        for fill in (0..APPENDING_FILLS).rev() {
            for key in 0..3u32 {
                buffer.put_with(&key, |k| *k, 1, &route, add);
            }
            let mut pairs = buffer.drain(&route).unwrap().pop().unwrap();
            pairs.sort();
            assert_eq!(pairs, [(0, 1), (1, 1), (2, 1)]);
            let expected = match fill {
                0 => Adapt::Folds,
                n => Adapt::Appends(n),
            };
            assert_eq!(buffer.adapt, expected);
        }
    }
}
