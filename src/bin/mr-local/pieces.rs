//! Sorted runs merged and written on every thread: the runs are cut into
//! pieces by splitters, so that every item of one piece comes before every
//! item of the next; each piece is merged and formatted on its own, and the
//! pieces' text is written in order.
//!
//! This is how word count's count order reaches its output when it fits in
//! memory: each partition is sorted in its own reduce task, and no thread
//! ever concatenates or sorts the whole result.

use std::cmp::Ordering;
use std::io::{self, Write};

use mr_local::Job;
use rayon::prelude::*;

/// Items in all runs per piece, about: large enough that cutting and
/// merging cost little per item, small enough that a piece merges in cache.
const PIECE: usize = 1 << 14;

/// Pieces formatted per thread before their text is written, so that the
/// text held at once stays a few pieces a thread however long the output.
const PIECES_PER_THREAD: usize = 4;

/// Writes the merge of `runs`, each sorted by `compare`, to `out`: `format`
/// turns one piece's items, in order, into text. The pieces are merged and
/// formatted on `job`'s threads.
pub(crate) fn write_merged<T: Sync>(
    job: &Job,
    out: &mut dyn Write,
    runs: &[Vec<T>],
    compare: impl Fn(&T, &T) -> Ordering + Sync,
    format: impl Fn(&mut Vec<u8>, &[&T]) -> io::Result<()> + Sync,
) -> io::Result<()> {
    let cuts = cut(runs, PIECE, &compare);
    let window = PIECES_PER_THREAD * job.threads().max(1);
    for cuts in cuts.windows(2).collect::<Vec<_>>().chunks(window) {
        let texts: Vec<io::Result<Vec<u8>>> = job.install(|| {
            cuts.par_iter()
                .map(|bounds| {
                    let slices = runs
                        .iter()
                        .zip(bounds[0].iter().zip(&bounds[1]))
                        .map(|(run, (&start, &end))| &run[start..end]);
                    let items = merge(slices.collect(), &compare);
                    let mut text = Vec::with_capacity(items.len() * 16);
                    format(&mut text, &items)?;
                    Ok(text)
                })
                .collect()
        });
        for text in texts {
            out.write_all(&text?)?;
        }
    }
    Ok(())
}

/// Where sorted `runs` are cut into pieces of about `size` items in all:
/// one position per run at each cut, the first cut at every run's start
/// and the last at every run's end. Every item between two cuts comes, in
/// `compare`'s order, before every item past the second.
///
/// Each of the `k` runs gives a sample, every `size / k`-th item; the
/// sample is sorted and every `k`-th of it is a splitter. Each sampled
/// item stands for `size / k` items of its run, so the pieces between
/// splitters hold about `size` items whether the runs interleave (hash
/// partitions) or one holds most of them. Many runs make the pieces
/// larger, at least 64 items a run, so that the sample and the cuts stay
/// a small fraction of the items.
fn cut<T>(runs: &[Vec<T>], size: usize, compare: &impl Fn(&T, &T) -> Ordering) -> Vec<Vec<usize>> {
    let k = runs.len().max(1);
    let stride = (size / k).max(64);
    let mut sample: Vec<&T> = runs
        .iter()
        .flat_map(|run| run.iter().skip(stride).step_by(stride))
        .collect();
    sample.sort_unstable_by(|a, b| compare(a, b));
    let splitters: Vec<&T> = sample.into_iter().skip(k - 1).step_by(k).collect();
    let mut cuts = Vec::with_capacity(splitters.len() + 2);
    cuts.push(vec![0; runs.len()]);
    for splitter in splitters {
        let at = runs
            .iter()
            .map(|run| run.partition_point(|item| compare(item, splitter) == Ordering::Less));
        cuts.push(at.collect());
    }
    cuts.push(runs.iter().map(Vec::len).collect());
    cuts
}

/// The items of sorted `slices` in one sorted sequence, merged two lists
/// at a time; equal items keep the order of their slices.
fn merge<'a, T>(slices: Vec<&'a [T]>, compare: &impl Fn(&T, &T) -> Ordering) -> Vec<&'a T> {
    let mut lists: Vec<Vec<&T>> = slices
        .into_iter()
        .filter(|slice| !slice.is_empty())
        .map(|slice| slice.iter().collect())
        .collect();
    while lists.len() > 1 {
        let mut merged = Vec::with_capacity(lists.len().div_ceil(2));
        let mut pairs = lists.into_iter();
        while let Some(first) = pairs.next() {
            merged.push(match pairs.next() {
                Some(second) => merge_two(&first, &second, compare),
                None => first,
            });
        }
        lists = merged;
    }
    lists.pop().unwrap_or_default()
}

/// Sorted `a` and `b` merged; on a tie, `a`'s item first.
fn merge_two<'a, T>(a: &[&'a T], b: &[&'a T], compare: &impl Fn(&T, &T) -> Ordering) -> Vec<&'a T> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if compare(b[j], a[i]) == Ordering::Less {
            out.push(b[j]);
            j += 1;
        } else {
            out.push(a[i]);
            i += 1;
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Writes each item as a line.
    fn lines(text: &mut Vec<u8>, items: &[&(u32, u32)]) -> io::Result<()> {
        items
            .iter()
            .try_for_each(|(key, run)| writeln!(text, "{key} {run}"))
    }

    proptest! {
        #[test]
        fn merged_in_pieces_equals_one_stable_sort(
            runs in prop::collection::vec(prop::collection::vec(0..60u32, 0..300), 0..9),
            size in 1..40usize,
            threads in 1..4usize,
        ) {
            // Items remember their run, so that ties show the merge keeps
            // the runs' order.
            let runs: Vec<Vec<(u32, u32)>> = runs
                .into_iter()
                .enumerate()
                .map(|(r, mut run)| {
                    run.sort_unstable();
                    run.into_iter().map(|key| (key, r as u32)).collect()
                })
                .collect();
            let by_key = |a: &(u32, u32), b: &(u32, u32)| a.0.cmp(&b.0);
            let mut all: Vec<&(u32, u32)> = runs.iter().flatten().collect();
            all.sort_by(|a, b| by_key(a, b));
            let mut expected = Vec::new();
            lines(&mut expected, &all).unwrap();

            let cuts = cut(&runs, size, &by_key);
            let mut pieced = Vec::new();
            for bounds in cuts.windows(2) {
                let slices = runs
                    .iter()
                    .zip(bounds[0].iter().zip(&bounds[1]))
                    .map(|(run, (&start, &end))| &run[start..end]);
                lines(&mut pieced, &merge(slices.collect(), &by_key)).unwrap();
            }
            prop_assert_eq!(&pieced, &expected);

            let job = Job::builder().threads(threads).build().unwrap();
            let mut written = Vec::new();
            write_merged(&job, &mut written, &runs, by_key, lines).unwrap();
            prop_assert_eq!(written, expected);
        }
    }

    #[test]
    fn pieces_are_about_the_size_asked_for() {
        // Four runs of interleaved keys, 40,000 items in all.
        let runs: Vec<Vec<u32>> = (0..4)
            .map(|r| (0..10_000).map(|i| i * 4 + r).collect())
            .collect();
        let cuts = cut(&runs, 1000, &u32::cmp);
        let sizes: Vec<usize> = cuts
            .windows(2)
            .map(|b| b[0].iter().zip(&b[1]).map(|(s, e)| e - s).sum())
            .collect();
        assert_eq!(sizes.iter().sum::<usize>(), 40_000);
        assert!(sizes.iter().all(|&n| n <= 1100), "{sizes:?}");
        assert!(sizes.len() >= 38, "{sizes:?}");
        // One run holding every item cuts the same.
        let one = [(0..40_000).collect::<Vec<u32>>(), Vec::new()];
        let cuts = cut(&one, 1000, &u32::cmp);
        assert!(cuts.windows(2).all(|b| b[1][0] - b[0][0] <= 1000));
        assert!(cuts.len() >= 39);
    }
}
