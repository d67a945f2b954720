//! The shapes map output takes on its way to reduce: the core data types
//! that every stage shares and none owns.
//!
//! - [`Combiner`]: how a job folds a value into its key's accumulated one.
//! - [`Chunk`], [`Chunks`], [`Partitions`]: pairs as the shuffle hands
//!   them over, one partition's share, and every partition's.
//! - [`Table`]: one partition's pairs gathered in one place, folded or not.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::hash::Hash;

/// A combiner: folds a value into the accumulated value of its key.
pub(crate) type Combiner<'c, V> = dyn Fn(&mut V, V) + Sync + 'c;

/// A run of pairs of one partition, handed over in one piece.
pub(crate) type Chunk<K, V> = Vec<(K, V)>;

/// One partition's share of the map output, in no particular order.
pub(crate) type Chunks<K, V> = Vec<Chunk<K, V>>;

/// The map phase's result: every partition's chunks.
pub(crate) type Partitions<K, V> = Vec<Chunks<K, V>>;

/// Hands every item of `items` to `each`, last first, giving back the
/// vector's room an eighth at a time as it empties (in place, for a
/// vector this large), so that what `each` builds and what is left take
/// little more room together than the items did.
pub(crate) fn drain_freeing<T>(mut items: Vec<T>, mut each: impl FnMut(T)) {
    let step = (items.len() / 8).max(1);
    let mut shrink_at = items.len().saturating_sub(step);
    while let Some(item) = items.pop() {
        each(item);
        if items.len() == shrink_at {
            items.shrink_to_fit();
            shrink_at = shrink_at.saturating_sub(step);
        }
    }
}

/// A partition's state: values folded by key when the job has a combiner,
/// else every pair as it came.
///
/// Reduce builds one from a partition's chunks; strategies that reduce
/// eagerly (a shared table behind a lock, an owner thread) build one while
/// the map phase runs.
pub(crate) enum Table<'a, K, V> {
    Folded {
        map: HashMap<K, V, ahash::RandomState>,
        combine: &'a Combiner<'a, V>,
    },
    Pairs(Vec<(K, V)>),
}

impl<'a, K: Hash + Eq, V> Table<'a, K, V> {
    pub fn new(combiner: Option<&'a Combiner<'a, V>>) -> Self {
        match combiner {
            Some(combine) => Table::Folded {
                map: HashMap::with_hasher(ahash::RandomState::new()),
                combine,
            },
            None => Table::Pairs(Vec::new()),
        }
    }

    /// Takes in one chunk.
    pub fn absorb(&mut self, chunk: Chunk<K, V>) {
        match self {
            Table::Folded { map, combine } => {
                for (key, value) in chunk {
                    // One hash per pair: the key is owned, so `entry` needs
                    // no second lookup to insert it.
                    match map.entry(key) {
                        Entry::Occupied(mut slot) => combine(slot.get_mut(), value),
                        Entry::Vacant(slot) => {
                            slot.insert(value);
                        }
                    }
                }
            }
            Table::Pairs(pairs) => pairs.extend(chunk),
        }
    }

    /// Returns the contents as one chunk (empty tables give none).
    pub fn into_chunks(self) -> Chunks<K, V> {
        let chunk: Chunk<K, V> = match self {
            Table::Folded { map, .. } => map.into_iter().collect(),
            Table::Pairs(pairs) => pairs,
        };
        if chunk.is_empty() {
            Vec::new()
        } else {
            vec![chunk]
        }
    }
}
