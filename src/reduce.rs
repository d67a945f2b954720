//! The reduce side: one task per partition, run in parallel, each folding
//! or grouping the chunks the shuffle handed to its partition.

use std::cmp::{Ordering, Reverse};
use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::hash::Hash;

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::counters::{Counters, SkipLog, Skipped};
use crate::error::{panicked, Error};
use crate::pairs::{drain_freeing, Chunks, Combiner, Table};
use crate::partition::{Order, SortPairs};
use crate::spill::merge::{self, Merge};
use crate::spill::{Codec, Segment};

/// A job's result: each partition's reduced pairs.
///
/// Keys are unique across the whole output. Within a partition, pairs come
/// in no particular order unless the job says otherwise
/// ([`Job::map_group`](crate::Job::map_group) hands keys over in increasing
/// order).
///
/// # Example
///
/// ```
/// use mr_local::{Emit, Inputs, Job};
///
/// let mut inputs = Inputs::new();
/// inputs.push_bytes("letters", "a\nb\na\n");
/// let job = Job::builder().partitions(3).build()?;
/// let output = job.map_reduce(
///     &inputs,
///     |line: &[u8], out: &mut Emit<Vec<u8>, u32>| {
///         out.emit(line.to_vec(), 1);
///         Ok(())
///     },
///     |a, b| *a += b,
/// )?;
/// assert_eq!(output.partitions().len(), 3);
/// assert_eq!(output.len(), 2);
/// # Ok::<(), mr_local::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Output<K, V> {
    partitions: Vec<Vec<(K, V)>>,
    counters: Counters,
}

impl<K, V> Output<K, V> {
    pub(crate) fn new(partitions: Vec<Vec<(K, V)>>, mut counters: Counters) -> Self {
        let len: usize = partitions.iter().map(Vec::len).sum();
        counters.distinct_keys = len as u64;
        counters.reduce_output_records = len as u64;
        Output {
            partitions,
            counters,
        }
    }

    /// Returns what the job counted.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Returns each partition's pairs; the index is the partition number.
    pub fn partitions(&self) -> &[Vec<(K, V)>] {
        &self.partitions
    }

    /// Returns each partition's pairs, by value.
    pub fn into_partitions(self) -> Vec<Vec<(K, V)>> {
        self.partitions
    }

    /// Returns all pairs, partition after partition.
    pub fn into_vec(self) -> Vec<(K, V)> {
        let mut all = Vec::with_capacity(self.len());
        for part in self.partitions {
            all.extend(part);
        }
        all
    }

    /// Returns the number of pairs, which is the number of distinct keys.
    pub fn len(&self) -> usize {
        self.partitions.iter().map(Vec::len).sum()
    }

    /// Returns true if there are no pairs.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What reduce gets of one partition: the chunks held in memory, and its
/// segments of the spill runs with their codec, if any were written.
pub(crate) struct ReduceInput<'s, K, V> {
    pub chunks: Chunks<K, V>,
    pub spilled: Option<(&'s [Segment], &'s Codec<K, V>)>,
}

/// Folds a partition's chunks into one pair per key, with keys in `order`
/// if one is given. A panic in `fold` fails the partition.
pub(crate) fn fold<K: Hash + Eq, V>(
    partition: usize,
    input: ReduceInput<'_, K, V>,
    fold: &Combiner<'_, V>,
    order: Option<(Order<K>, SortPairs<K, V>)>,
) -> Result<Vec<(K, V)>, Error> {
    if let Some((segments, codec)) = input.spilled {
        // Merged in key order, so sorted whatever `order` says.
        let memory = concat(input.chunks);
        let folded = catch_unwind(AssertUnwindSafe(|| {
            merge::fold(Merge::new(memory, segments, codec)?, fold)
        }));
        return folded.map_err(|panic| Error::reduce(partition, panicked(panic)))?;
    }
    let folded = catch_unwind(AssertUnwindSafe(|| match order {
        Some((_, sort)) if mostly_distinct(&input.chunks) => {
            sort_then_fold(input.chunks, fold, sort)
        }
        _ => {
            let mut pairs = combine(input.chunks, fold);
            if let Some((_, sort)) = order {
                sort(&mut pairs);
            }
            pairs
        }
    }));
    folded.map_err(|panic| Error::reduce(partition, panicked(panic)))
}

/// Pairs looked at to guess whether a partition's keys repeat.
const SAMPLE: usize = 1 << 12;

/// Whether most keys of `chunks` look distinct, judged on an evenly spaced
/// sample of their pairs: then, when the keys must be sorted anyway,
/// sorting every pair and folding neighbours costs less than hashing every
/// pair into a table first. A sample sees fewer repeats than the whole
/// holds, so this errs towards sorting only where repeats are rare.
fn mostly_distinct<K: Hash + Eq, V>(chunks: &Chunks<K, V>) -> bool {
    let pairs: usize = chunks.iter().map(Vec::len).sum();
    if pairs <= SAMPLE {
        return false;
    }
    let step = pairs / SAMPLE;
    let mut seen =
        std::collections::HashSet::with_capacity_and_hasher(SAMPLE, ahash::RandomState::new());
    let sample = chunks.iter().flatten().step_by(step).map(|(key, _)| key);
    let (mut taken, mut new) = (0, 0);
    for key in sample {
        taken += 1;
        new += usize::from(seen.insert(key));
    }
    new * 10 >= taken * 9
}

/// Sorts every pair of `chunks` by key and folds each run of equal keys
/// into one pair with `combine` (in no set order of values, as a table
/// folds them).
///
/// The pairs are taken from the end of the sorted vector, which is shrunk
/// as they go (in place, for a vector this large), so that the sorted and
/// the folded pairs together take little more room than one of them.
fn sort_then_fold<K: Eq, V>(
    chunks: Chunks<K, V>,
    combine: &Combiner<'_, V>,
    sort: SortPairs<K, V>,
) -> Vec<(K, V)> {
    let mut pairs = concat(chunks);
    sort(&mut pairs);
    // Untouched, its pages take no memory until the pairs fill them.
    let mut out: Vec<(K, V)> = Vec::with_capacity(pairs.len());
    drain_freeing(pairs, |(key, value)| match out.last_mut() {
        Some((last, acc)) if *last == key => combine(acc, value),
        _ => out.push((key, value)),
    });
    out.reverse();
    out
}

/// What takes a partition's pairs, in `fold_into`.
pub(crate) type EachPartition<'e, K, V, T> =
    dyn Fn(usize, &mut dyn Iterator<Item = (K, V)>) -> Result<T, Error> + Sync + 'e;

/// Folds a partition like [`fold`], handing the pairs to `each` as they
/// come instead of collecting them (when the partition was spilled; else
/// they are folded in memory first, as they fit); returns what `each` made
/// of them and how many there were.
pub(crate) fn fold_into<K: Hash + Eq, V, T>(
    partition: usize,
    input: ReduceInput<'_, K, V>,
    fold: &Combiner<'_, V>,
    order: Option<(Order<K>, SortPairs<K, V>)>,
    each: &EachPartition<'_, K, V, T>,
) -> Result<(T, u64), Error> {
    let Some((segments, codec)) = input.spilled else {
        let pairs = self::fold(partition, input, fold, order)?;
        let len = pairs.len() as u64;
        return Ok((each(partition, &mut pairs.into_iter())?, len));
    };
    let memory = concat(input.chunks);
    let merged = merge::Folding::new(Merge::new(memory, segments, codec)?, fold);
    let mut pairs = Unwrapped {
        pairs: merged,
        failed: None,
        count: 0,
    };
    let made = catch_unwind(AssertUnwindSafe(|| each(partition, &mut pairs)))
        .map_err(|panic| Error::reduce(partition, panicked(panic)))?;
    if let Some(err) = pairs.failed {
        return Err(err);
    }
    Ok((made?, pairs.count))
}

/// The pairs of `chunks` in one vector, allocated once at its size (not
/// grown by doubling, which would hold up to twice the pairs' room), each
/// chunk freed as it is copied.
fn concat<K, V>(chunks: Chunks<K, V>) -> Vec<(K, V)> {
    let mut all = Vec::with_capacity(chunks.iter().map(Vec::len).sum());
    for chunk in chunks {
        all.extend(chunk);
    }
    all
}

/// An iterator of results as one of values: it stops at the first error,
/// which it keeps for the caller to check once the consumer is done.
struct Unwrapped<I> {
    pairs: I,
    failed: Option<Error>,
    count: u64,
}

impl<I: Iterator<Item = Result<T, Error>>, T> Iterator for Unwrapped<I> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        if self.failed.is_some() {
            return None;
        }
        match self.pairs.next()? {
            Ok(pair) => {
                self.count += 1;
                Some(pair)
            }
            Err(err) => {
                self.failed = Some(err);
                None
            }
        }
    }
}

/// A partition of more pairs than this is folded in pieces.
const PIECES_PAST: usize = 1 << 17;

/// Pairs per piece, about: a table of this many keys stays in a core's
/// caches.
const PIECE_PAIRS: usize = 1 << 14;

/// Merges chunks into one pair per key, folding values with `combine`.
pub(crate) fn combine<K: Hash + Eq, V>(
    mut chunks: Chunks<K, V>,
    combine: &Combiner<'_, V>,
) -> Vec<(K, V)> {
    // A chunk may hold a key twice (a buffer that appends), so even a
    // partition's only chunk is folded, unless it holds one pair.
    let pairs: usize = chunks.iter().map(Vec::len).sum();
    if pairs <= 1 {
        return chunks.into_iter().flatten().collect();
    }
    if pairs > PIECES_PAST {
        return combine_in_pieces(chunks, combine, pairs);
    }
    // Fold into a table sized for the largest chunk, so it grows least.
    chunks.sort_unstable_by_key(|c| Reverse(c.len()));
    let mut table = Table::Folded {
        map: HashMap::with_capacity_and_hasher(chunks[0].len(), ahash::RandomState::new()),
        combine,
    };
    for chunk in chunks {
        table.absorb(chunk);
    }
    table.into_chunks().pop().unwrap_or_default()
}

/// [`combine`] for a large partition. One table for all its keys would
/// outgrow the caches, and nearly every pair would then cost a miss, so the
/// pairs are first cut by their hash into pieces (a sequential write per
/// pair), and each piece is folded in a table of its own, small enough to
/// stay in the caches. A key's pairs all land in one piece, so the pieces'
/// keys are distinct.
fn combine_in_pieces<K: Hash + Eq, V>(
    chunks: Chunks<K, V>,
    combine: &Combiner<'_, V>,
    pairs: usize,
) -> Vec<(K, V)> {
    let count = (pairs / PIECE_PAIRS).next_power_of_two();
    let shift = u64::BITS - count.trailing_zeros();
    // A seed of its own: the pieces' tables hash with others, so that keys
    // sharing a piece (and so the top bits of this hash) spread in them.
    let by = ahash::RandomState::new();
    let mut pieces: Vec<Vec<(K, V)>> = (0..count)
        .map(|_| Vec::with_capacity(pairs / count * 9 / 8))
        .collect();
    for chunk in chunks {
        for (key, value) in chunk {
            let piece = by.hash_one(&key).checked_shr(shift).unwrap_or(0) as usize;
            pieces[piece].push((key, value));
        }
    }
    // Room for every pair, in case none repeats: a vector this large is
    // mapped, and pages that pairs never fill take no memory, where
    // growing by doubling would copy the pairs and touch fresh pages for
    // up to twice their room.
    let mut out = Vec::with_capacity(pairs);
    let mut table = HashMap::with_hasher(ahash::RandomState::new());
    for piece in pieces {
        for (key, value) in piece {
            match table.entry(key) {
                Entry::Occupied(mut slot) => combine(slot.get_mut(), value),
                Entry::Vacant(slot) => {
                    slot.insert(value);
                }
            }
        }
        out.extend(table.drain());
    }
    // Where keys repeated, most of the room was never filled: given back,
    // in case it was memory already touched.
    if out.len() < out.capacity() / 2 {
        out.shrink_to_fit();
    }
    out
}

/// Hands each key of a partition with all its values to `reduce`: keys in
/// `order` if one is given, else in the order of a hash table. A panic in
/// `reduce` fails the partition, or, with a `skip` log, drops the key.
pub(crate) fn group<K: Hash + Eq, V, R>(
    partition: usize,
    input: ReduceInput<'_, K, V>,
    reduce: &(dyn Fn(&K, Vec<V>) -> R + Sync),
    order: Option<Order<K>>,
    skip: Option<&SkipLog>,
) -> Result<Vec<(K, R)>, Error> {
    let mut out = Vec::new();
    let mut reduce_one = |key: K, values: Vec<V>| {
        match catch_unwind(AssertUnwindSafe(|| reduce(&key, values))) {
            Ok(reduced) => out.push((key, reduced)),
            Err(panic) => {
                let err = panicked(panic);
                match skip {
                    Some(log) => log.add(Skipped::Key {
                        partition,
                        reason: err.to_string(),
                    }),
                    None => return Err(Error::reduce(partition, err)),
                }
            }
        }
        Ok(())
    };
    let chunks = input.chunks;
    if let Some((segments, codec)) = input.spilled {
        let memory = concat(chunks);
        merge::group(Merge::new(memory, segments, codec)?, &mut reduce_one)?;
        return Ok(out);
    }
    match order {
        Some(order) => {
            let mut pairs: Vec<(K, V)> = chunks.into_iter().flatten().collect();
            // Stable, so that values of a key from one chunk keep their order.
            pairs.sort_by(|a, b| order(&a.0, &b.0));
            let mut pairs = pairs.into_iter().peekable();
            while let Some((key, value)) = pairs.next() {
                let mut values = vec![value];
                while let Some((_, value)) =
                    pairs.next_if(|(next, _)| order(next, &key) == Ordering::Equal)
                {
                    values.push(value);
                }
                reduce_one(key, values)?;
            }
        }
        None => {
            let mut groups: HashMap<K, Vec<V>, ahash::RandomState> = HashMap::default();
            for (key, value) in chunks.into_iter().flatten() {
                groups.entry(key).or_default().push(value);
            }
            for (key, values) in groups {
                reduce_one(key, values)?;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combine_folds_every_chunk() {
        let chunks = vec![
            vec![("a", 1), ("b", 2)],
            vec![],
            vec![("b", 3), ("c", 4), ("a", 5)],
        ];
        let mut out = combine(chunks, &|a: &mut i32, b| *a += b);
        out.sort();
        assert_eq!(out, [("a", 6), ("b", 5), ("c", 4)]);
        assert!(combine::<&str, i32>(Vec::new(), &|a, b| *a += b).is_empty());
        // A partition's only chunk, from a buffer that appended, repeats a
        // key: folded too.
        let out = combine(vec![vec![("a", 1), ("a", 2)]], &|a: &mut i32, b| *a += b);
        assert_eq!(out, [("a", 3)]);
    }

    #[test]
    fn group_hands_keys_over_in_order_with_all_values() {
        let chunks = vec![vec![("b", 1), ("a", 2)], vec![("b", 3)]];
        let input = ReduceInput {
            chunks,
            spilled: None,
        };
        let out = group(
            0,
            input,
            &|_k: &&str, mut vs: Vec<i32>| {
                vs.sort();
                vs
            },
            Some(<&str>::cmp),
            None,
        )
        .unwrap();
        assert_eq!(out, [("a", vec![2]), ("b", vec![1, 3])]);
    }

    #[test]
    fn a_large_partition_folds_in_pieces_as_in_one_table() {
        // Keys repeating within chunks and across them, and keys alone.
        let chunk = |c: u64| -> Vec<(u64, u64)> {
            (0..PIECES_PAST as u64 / 2)
                .map(|i| ((i * 7 + c) % 100_003 + (i % 5) * 1_000_000, i % 3))
                .collect()
        };
        let chunks: Chunks<u64, u64> = (0..4).map(chunk).collect();
        let mut expected = std::collections::BTreeMap::new();
        for &(key, value) in chunks.iter().flatten() {
            *expected.entry(key).or_insert(0) += value;
        }
        let mut out = combine(chunks, &|a, b| *a += b);
        out.sort_unstable();
        assert_eq!(out, expected.into_iter().collect::<Vec<_>>());
    }

    #[test]
    fn ordered_partitions_fold_alike_whether_their_keys_repeat_or_not() {
        // Mostly distinct keys (sorted, then folded) and mostly repeated
        // ones (folded in a table, then sorted), with a few repeats each.
        for (keys, repeated) in [(1_000_000u64, false), (50, true)] {
            let chunks: Chunks<u64, u64> = (0..3u64)
                .map(|c| {
                    (0..SAMPLE as u64 * 2)
                        .map(|i| ((i * 31 + c * 7) % keys, 1))
                        .collect()
                })
                .collect();
            assert_eq!(mostly_distinct(&chunks), !repeated);
            let mut expected = std::collections::BTreeMap::new();
            for &(key, value) in chunks.iter().flatten() {
                *expected.entry(key).or_insert(0) += value;
            }
            let input = ReduceInput {
                chunks,
                spilled: None,
            };
            let out = fold(
                0,
                input,
                &|a, b| *a += b,
                Some((u64::cmp, crate::partition::sort_pairs)),
            )
            .unwrap();
            assert_eq!(out, expected.into_iter().collect::<Vec<_>>());
        }
    }
}
