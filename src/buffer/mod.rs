//! The per-worker buffer: where a map worker keeps what it emits until the
//! buffer is full, or the map phase ends, and it is handed to the shuffle.
//!
//! The map side sees only what this file exports: absorb a batch of staged
//! pairs (or put one pair in by reference), learn whether the buffer is
//! full, drain it cut by partition. The shuffle strategy that makes a
//! buffer ([`Shuffle::buffer`](crate::shuffle::Shuffle::buffer)) chooses
//! whether it folds, appends or passes pairs on; a folding buffer picks its
//! container from the keys (`folding.rs`: an array for small-integer keys,
//! `bytes.rs` for short byte strings, a hash table for the rest), so
//! containers for other kinds of key can be added here without the map side
//! or the strategies changing shape.

use std::borrow::Borrow;
use std::hash::Hash;

use crate::pairs::Chunk;
use crate::partition::Route;

mod bytes;
mod folding;

pub(crate) use bytes::fold;
use folding::Folding;

/// One map worker's output, not yet handed to the shuffle.
pub(crate) struct Buffer<K, V> {
    store: Store<K, V>,
    /// The buffer is full once it holds this many keys (folding) or pairs
    /// (appending).
    limit: usize,
}

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
            store: Store::Folding(Folding::new()),
            limit,
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
            limit,
        }
    }

    /// A buffer that keeps nothing: every pair is passed on at once.
    pub fn direct() -> Self {
        Buffer {
            store: Store::Direct,
            limit: 1,
        }
    }

    /// This buffer as a run that may spill wants it: every pair kept (a
    /// direct buffer becomes an appending one, so that what is full can be
    /// spilled), and full at no fewer than `fewest` and no more than `most`
    /// keys or pairs. Applying it twice changes nothing more.
    pub fn bounded(self, partitions: usize, fewest: usize, most: usize) -> Self {
        let limit = self.limit.max(fewest).min(most.max(fewest));
        match self.store {
            Store::Direct => Buffer::appending(partitions, limit),
            store => Buffer { store, limit },
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
        let limit = self.limit;
        match &mut self.store {
            Store::Folding(table) => table.absorb(staged, combine, limit, &mut |table| {
                let pairs = table.len();
                overflow(Overflow::Full(cut_folding(table, route), pairs));
            }),
            Store::Appending { parts, len } => {
                for (key, value) in staged.drain(..) {
                    parts[route.partition(&key)].push((key, value));
                    *len += 1;
                    if *len >= limit {
                        let full = std::mem::replace(parts, empty_parts(route.partitions()));
                        overflow(Overflow::Full(full, std::mem::take(len)));
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

    /// Takes every pair out, cut by partition (`parts[p]` belongs to
    /// partition `p`), keeping the buffer's allocation for what comes
    /// next; `None` if it held none.
    pub fn drain(&mut self, route: &Route<'_, K>) -> Option<Vec<Chunk<K, V>>> {
        match &mut self.store {
            Store::Folding(table) => (table.len() > 0).then(|| cut_folding(table, route)),
            Store::Appending { parts, len } => {
                if *len == 0 {
                    return None;
                }
                *len = 0;
                Some(std::mem::replace(parts, empty_parts(route.partitions())))
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
    let partitions = route.partitions();
    let mut parts: Vec<Chunk<K, V>> = (0..partitions)
        .map(|_| Vec::with_capacity(table.len() / partitions + 1))
        .collect();
    table.drain_into(&mut parts, route);
    parts
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
}
