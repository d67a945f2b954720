//! The per-worker buffer: where a map worker keeps what it emits until the
//! buffer is full, or the map phase ends, and it is handed to the shuffle.
//!
//! The map side sees only what this file exports: put a pair in, learn
//! whether the buffer is full, drain it cut by partition. Which container
//! holds the pairs is chosen by the shuffle strategy that makes the buffer
//! ([`Shuffle::buffer`](crate::shuffle::Shuffle::buffer)), so containers
//! for particular kinds of key can be added here without the map side or
//! the strategies changing shape.

use std::borrow::Borrow;
use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::hash::Hash;

use crate::pairs::Chunk;
use crate::partition::Route;

/// One map worker's output, not yet handed to the shuffle.
pub(crate) struct Buffer<K, V> {
    store: Store<K, V>,
    /// The buffer is full once it holds this many keys (folding) or pairs
    /// (appending).
    limit: usize,
}

enum Store<K, V> {
    /// Pairs folded by key with the job's combiner.
    Folding(HashMap<K, V, ahash::RandomState>),
    /// Pairs kept as they come, already cut by partition.
    Appending { parts: Vec<Chunk<K, V>>, len: usize },
    /// Nothing kept: every pair goes straight on to the shuffle.
    Direct,
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
        // A random seed per process keeps hostile input from flooding one
        // bucket; partitioning uses its own, fixed, hasher.
        Buffer {
            store: Store::Folding(HashMap::with_hasher(ahash::RandomState::new())),
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
            Store::Folding(map) => map.len(),
            Store::Appending { len, .. } => *len,
            Store::Direct => 0,
        }
    }
}

impl<K: Hash + Eq, V> Buffer<K, V> {
    /// Puts one pair in, folding its value with `combine` into that of its
    /// key if the buffer folds and holds the key already.
    #[inline]
    pub fn put(
        &mut self,
        key: K,
        value: V,
        route: &Route<'_, K>,
        combine: impl FnOnce(&mut V, V),
    ) -> Put<K, V> {
        match &mut self.store {
            Store::Folding(map) => match map.entry(key) {
                Entry::Occupied(mut slot) => {
                    combine(slot.get_mut(), value);
                    Put::Kept
                }
                Entry::Vacant(slot) => {
                    slot.insert(value);
                    self.after_insert()
                }
            },
            Store::Appending { .. } => self.append(key, value, route),
            Store::Direct => Put::Passed(key, value),
        }
    }

    /// Like [`Buffer::put`], with the key given by reference: the owned key
    /// is made with `to_key` only if the buffer keeps it.
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
            Store::Folding(map) => match map.get_mut(key) {
                Some(acc) => {
                    combine(acc, value);
                    Put::Kept
                }
                None => {
                    map.insert(to_key(key), value);
                    self.after_insert()
                }
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

    /// Takes every pair out, cut by partition (`parts[p]` belongs to
    /// partition `p`), keeping the buffer's allocation for what comes
    /// next; `None` if it held none.
    pub fn drain(&mut self, route: &Route<'_, K>) -> Option<Vec<Chunk<K, V>>> {
        let partitions = route.partitions();
        match &mut self.store {
            Store::Folding(map) => {
                if map.is_empty() {
                    return None;
                }
                let mut parts: Vec<Chunk<K, V>> = (0..partitions)
                    .map(|_| Vec::with_capacity(map.len() / partitions + 1))
                    .collect();
                for (key, value) in map.drain() {
                    parts[route.partition(&key)].push((key, value));
                }
                Some(parts)
            }
            Store::Appending { parts, len } => {
                if *len == 0 {
                    return None;
                }
                *len = 0;
                Some(std::mem::replace(parts, empty_parts(partitions)))
            }
            Store::Direct => None,
        }
    }
}

fn empty_parts<K, V>(partitions: usize) -> Vec<Chunk<K, V>> {
    (0..partitions).map(|_| Vec::new()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::partition::Partitioner;

    #[test]
    fn a_folding_buffer_is_full_at_its_limit_of_keys_and_drains_by_partition() {
        let route = Route::Hash(Partitioner::new(3));
        let mut buffer = Buffer::folding(2);
        let add = |acc: &mut u32, n: u32| *acc += n;
        assert!(matches!(buffer.put("a", 1, &route, add), Put::Kept));
        assert!(matches!(buffer.put("a", 2, &route, add), Put::Kept));
        assert!(matches!(buffer.put("b", 1, &route, add), Put::Full));
        let parts = buffer.drain(&route).unwrap();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[route.partition(&"a")], [("a", 3)]);
        assert_eq!(buffer.len(), 0);
        assert!(buffer.drain(&route).is_none());
    }

    #[test]
    fn bounding_keeps_every_pair_within_its_limits_and_is_idempotent() {
        let route = Route::Hash(Partitioner::new(2));
        let mut direct = Buffer::<u8, u8>::direct();
        assert!(matches!(
            direct.put(1, 1, &route, |_, _| ()),
            Put::Passed(1, 1)
        ));
        let bounded = Buffer::<u8, u8>::direct().bounded(2, 4, 100);
        assert_eq!(bounded.limit, 4);
        assert!(matches!(bounded.store, Store::Appending { .. }));
        let big = Buffer::<u8, u8>::folding(1 << 20).bounded(2, 4, 100);
        assert_eq!(big.limit, 100);
        assert_eq!(big.bounded(2, 4, 100).limit, 100);
    }
}
