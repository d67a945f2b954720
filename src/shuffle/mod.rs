//! The shuffle: how finished map output reaches the reduce tasks.
//!
//! Every strategy implements the internal [`Shuffle`] trait, one file each:
//!
//! - `lockfree` (the default): confinement while mapping; each worker's
//!   finished buffer is cut by partition and its pieces pushed onto one
//!   lock-free queue per partition. Reducers take them after the map phase.
//!
//! The [`Partitioner`] decides which partition a key belongs to. See
//! `README.md` beside this file for the design notes.

use std::hash::Hash;

mod lockfree;

/// A run of pairs of one partition, handed over by one worker.
pub(crate) type Chunk<K, V> = Vec<(K, V)>;

/// One partition's share of the map output: the chunks handed over by the
/// workers, in no particular order.
pub(crate) type Chunks<K, V> = Vec<Chunk<K, V>>;

/// The seam between map and reduce.
///
/// `publish` is called concurrently from the pool's threads, each time a
/// worker's buffer is handed over; `into_partitions` is called once, after
/// every map task has finished (the phase's join is the only barrier).
pub(crate) trait Shuffle<K, V>: Sync {
    /// Hands over one buffer, already cut by partition: `parts[p]` belongs
    /// to partition `p`.
    fn publish(&self, parts: Vec<Vec<(K, V)>>);

    /// Ends the map phase, returning every partition's chunks.
    fn into_partitions(self: Box<Self>) -> Vec<Chunks<K, V>>;
}

/// How map output is handed to the reduce tasks.
///
/// By default, [`ShuffleStrategy::lockfree`].
///
/// # Example
///
/// ```
/// use mr_local::{Job, ShuffleStrategy};
///
/// let job = Job::builder().shuffle(ShuffleStrategy::lockfree()).build()?;
/// assert_eq!(job.shuffle_strategy().name(), "lockfree");
/// # Ok::<(), mr_local::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ShuffleStrategy(StrategyImpl);

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum StrategyImpl {
    #[default]
    LockFree,
}

impl ShuffleStrategy {
    /// Confinement plus a lock-free hand-off: workers never share a buffer
    /// while mapping, and finished buffers go onto per-partition lock-free
    /// queues.
    pub fn lockfree() -> ShuffleStrategy {
        ShuffleStrategy(StrategyImpl::LockFree)
    }

    /// Every strategy, for tests and benchmarks that compare them.
    pub fn all() -> Vec<ShuffleStrategy> {
        vec![ShuffleStrategy::lockfree()]
    }

    /// Looks a strategy up by its [`name`](ShuffleStrategy::name).
    pub fn from_name(name: &str) -> Option<ShuffleStrategy> {
        ShuffleStrategy::all()
            .into_iter()
            .find(|s| s.name() == name)
    }

    /// Returns the strategy's name, as the CLI spells it.
    pub fn name(&self) -> &'static str {
        match self.0 {
            StrategyImpl::LockFree => "lockfree",
        }
    }

    pub(crate) fn make<'s, K: Send + 's, V: Send + 's>(
        &self,
        partitions: usize,
    ) -> Box<dyn Shuffle<K, V> + 's> {
        match self.0 {
            StrategyImpl::LockFree => Box::new(lockfree::LockFree::new(partitions)),
        }
    }
}

/// Assigns keys to partitions: `hash(key) mod R`.
///
/// The hasher's seed is fixed, so a key lands in the same partition on
/// every run of the same build. (The hash tables that combine values use a
/// random seed per process instead, so hostile input cannot flood them.)
#[derive(Clone, Debug)]
pub(crate) struct Partitioner {
    hasher: ahash::RandomState,
    partitions: usize,
}

impl Partitioner {
    pub fn new(partitions: usize) -> Partitioner {
        debug_assert!(partitions > 0);
        // Arbitrary constants: the digits of pi, as nothing-up-my-sleeve
        // numbers.
        let hasher = ahash::RandomState::with_seeds(
            0x243f_6a88_85a3_08d3,
            0x1319_8a2e_0370_7344,
            0xa409_3822_299f_31d0,
            0x082e_fa98_ec4e_6c89,
        );
        Partitioner { hasher, partitions }
    }

    pub fn partitions(&self) -> usize {
        self.partitions
    }

    #[inline]
    pub fn partition<K: Hash + ?Sized>(&self, key: &K) -> usize {
        (self.hasher.hash_one(key) % self.partitions as u64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_are_reproducible_and_in_range() {
        let a = Partitioner::new(7);
        let b = Partitioner::new(7);
        for word in ["", "a", "the", "zebra", "ünïcödé"] {
            assert_eq!(a.partition(word), b.partition(word));
            assert!(a.partition(word) < 7);
        }
        // Borrowed and owned forms of a key hash alike.
        assert_eq!(a.partition(&b"abc"[..]), a.partition(&b"abc".to_vec()));
    }

    #[test]
    fn names_round_trip() {
        for s in ShuffleStrategy::all() {
            assert_eq!(ShuffleStrategy::from_name(s.name()), Some(s));
        }
        assert_eq!(ShuffleStrategy::from_name("nope"), None);
    }
}
