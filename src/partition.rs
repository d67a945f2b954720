//! Partitioning functions (the MapReduce paper's §4.1): which reduce task
//! gets a key.
//!
//! - By default, `hash(key) mod R` with a fixed seed ([`Partitioner`]).
//! - A user's function of the key and `R`
//!   ([`MapReduce::partition_by`](crate::MapReduce::partition_by)).
//! - [`KeyRanges`]: sorted split points, so that partition `i` holds keys
//!   below those of partition `i + 1` and concatenating the partitions of a
//!   sorted job gives totally ordered output. The engine can choose the
//!   split points by sampling the map output (the TeraSort idea).

use std::cmp::Ordering;
use std::fmt;
use std::hash::Hash;

/// Key ranges: `R - 1` increasing split points that send every key to one
/// of `R` partitions, in key order.
///
/// Partition `i` receives the keys `k` with `bounds[i - 1] <= k <
/// bounds[i]`; the first partition takes everything below `bounds[0]` and
/// the last everything from the last bound on.
///
/// # Example
///
/// ```
/// use mr_local::KeyRanges;
///
/// let ranges = KeyRanges::new(vec!["g", "p"]);
/// assert_eq!(ranges.partitions(), 3);
/// assert_eq!(ranges.partition(&"apple"), 0);
/// assert_eq!(ranges.partition(&"grape"), 1);
/// assert_eq!(ranges.partition(&"zebra"), 2);
/// ```
#[derive(Clone)]
pub struct KeyRanges<K> {
    bounds: Vec<K>,
    cmp: Order<K>,
}

impl<K: Ord> KeyRanges<K> {
    /// Key ranges split at `bounds`, which are sorted and freed of
    /// duplicates first. No bounds means one partition.
    pub fn new(mut bounds: Vec<K>) -> KeyRanges<K> {
        bounds.sort_unstable();
        bounds.dedup();
        KeyRanges {
            bounds,
            cmp: K::cmp,
        }
    }

    /// Chooses up to `partitions - 1` split points that cut `sample` into
    /// runs of about equal size: its quantiles. Keys that occur often in
    /// the sample weigh more, as they will in the partitions.
    pub fn from_sample(sample: Vec<K>, partitions: usize) -> KeyRanges<K> {
        sample_bounds(sample, partitions, K::cmp)
    }
}

impl<K> KeyRanges<K> {
    /// The number of partitions: one more than the split points.
    pub fn partitions(&self) -> usize {
        self.bounds.len() + 1
    }

    /// The split points, in increasing order.
    pub fn bounds(&self) -> &[K] {
        &self.bounds
    }

    /// The partition of `key`.
    #[inline]
    pub fn partition(&self, key: &K) -> usize {
        self.bounds
            .partition_point(|bound| (self.cmp)(bound, key) != Ordering::Greater)
    }
}

impl<K: fmt::Debug> fmt::Debug for KeyRanges<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRanges")
            .field("bounds", &self.bounds)
            .finish()
    }
}

/// Quantiles of `sample` as split points, by `cmp`.
pub(crate) fn sample_bounds<K>(
    mut sample: Vec<K>,
    partitions: usize,
    cmp: Order<K>,
) -> KeyRanges<K> {
    sample.sort_unstable_by(cmp);
    let len = sample.len();
    let mut wanted = (1..partitions).map(|i| i * len / partitions).peekable();
    let mut bounds: Vec<K> = Vec::with_capacity(partitions.saturating_sub(1));
    for (at, key) in sample.into_iter().enumerate() {
        if wanted.peek() != Some(&at) {
            continue;
        }
        while wanted.next_if_eq(&at).is_some() {}
        // Equal quantiles (a key that fills more than one share of the
        // sample) make one bound: a key cannot be in two partitions.
        if bounds
            .last()
            .is_none_or(|last| cmp(last, &key) == Ordering::Less)
        {
            bounds.push(key);
        }
    }
    KeyRanges { bounds, cmp }
}

/// A key order, as a plain function: `K::cmp`, captured where `K: Ord` is
/// known, so that code generic over any key can still sort.
pub(crate) type Order<K> = fn(&K, &K) -> Ordering;

/// Sorts pairs by key, unstably, with the key's comparison inlined (a
/// call through [`Order`] per comparison costs more than the comparison
/// of a short key): one instance of [`sort_pairs`] per key and value type,
/// captured where `K: Ord` is known.
pub(crate) type SortPairs<K, V> = fn(&mut [(K, V)]);

/// Sorts `pairs` by key, in no set order among equal keys.
pub(crate) fn sort_pairs<K: Ord, V>(pairs: &mut [(K, V)]) {
    pairs.sort_unstable_by(|a, b| a.0.cmp(&b.0));
}

/// A user's partitioning function: a key and `R` to a partition.
pub(crate) type PartitionFn<'a, K> = dyn Fn(&K, usize) -> usize + Sync + 'a;

/// A partitioning function made concrete for one run.
pub(crate) enum Route<'a, K> {
    Hash(Partitioner),
    Custom {
        partition: &'a PartitionFn<'a, K>,
        partitions: usize,
    },
    /// Key ranges, and the run's partition count: at least the ranges'
    /// (sampling may find fewer split points than it wanted).
    Ranges(&'a KeyRanges<K>, usize),
}

impl<K> Route<'_, K> {
    pub fn partitions(&self) -> usize {
        match self {
            Route::Hash(hash) => hash.partitions(),
            Route::Custom { partitions, .. } => *partitions,
            Route::Ranges(ranges, partitions) => ranges.partitions().max(*partitions),
        }
    }
}

impl<K: Hash> Route<'_, K> {
    #[inline]
    pub fn partition(&self, key: &K) -> usize {
        match self {
            Route::Hash(hash) => hash.partition(key),
            Route::Custom {
                partition,
                partitions,
            } => partition(key, *partitions) % *partitions,
            Route::Ranges(ranges, _) => ranges.partition(key),
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
    fn keys_equal_to_a_bound_go_to_the_upper_partition() {
        let ranges = KeyRanges::new(vec![20, 10, 10]);
        assert_eq!(ranges.bounds(), [10, 20]);
        let parts: Vec<usize> = [5, 10, 15, 20, 25]
            .iter()
            .map(|k| ranges.partition(k))
            .collect();
        assert_eq!(parts, [0, 1, 1, 2, 2]);
        assert_eq!(KeyRanges::<u8>::new(Vec::new()).partition(&7), 0);
    }

    #[test]
    fn sampled_bounds_are_quantiles() {
        let ranges = KeyRanges::from_sample((0..100).rev().collect(), 4);
        assert_eq!(ranges.bounds(), [25, 50, 75]);
        // A sample dominated by one key cannot give three distinct bounds.
        let mut sample = vec![7; 90];
        sample.extend(0..10);
        let ranges = KeyRanges::from_sample(sample, 4);
        assert_eq!(ranges.bounds(), [7]);
        assert!(KeyRanges::<u8>::from_sample(Vec::new(), 8)
            .bounds()
            .is_empty());
        assert!(KeyRanges::from_sample(vec![1, 2, 3], 1).bounds().is_empty());
    }

    #[test]
    fn ranges_order_the_partitions() {
        let keys: Vec<u32> = (0..1000).map(|i| (i * 7919) % 1009).collect();
        let ranges = KeyRanges::from_sample(keys.iter().step_by(10).copied().collect(), 5);
        let mut parts = vec![Vec::new(); ranges.partitions()];
        for k in &keys {
            parts[ranges.partition(k)].push(*k);
        }
        let max: Vec<Option<&u32>> = parts.iter().map(|p| p.iter().max()).collect();
        let min: Vec<Option<&u32>> = parts.iter().map(|p| p.iter().min()).collect();
        for i in 1..parts.len() {
            assert!(max[i - 1] < min[i], "{max:?} {min:?}");
        }
    }
}
