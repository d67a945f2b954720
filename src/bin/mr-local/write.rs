//! Running word count and writing its results: order (`--sort`, `--top`),
//! format (`--format`) and destination (stdout, `-o FILE`,
//! `--output-dir DIR`).
//!
//! - stdout and `-o FILE` get one stream: every partition's pairs, sorted
//!   together (`--sort count` or `key`) or written partition after
//!   partition as they are (`--sort none`, the fastest); `--top N` keeps the
//!   first N records of that order.
//! - `--output-dir DIR` gets one file per partition, `part-00000`,
//!   `part-00001`, … (one per partition, empty ones included), each sorted
//!   on its own: as in Hadoop, the order is per part file, never across
//!   them. An empty `_SUCCESS` is written last, so its presence says every
//!   part is complete.
//!
//! Only `--sort count` to one stream holds the whole result in memory (it
//! must all be seen before the first line is known). Otherwise the result
//! is written partition by partition as reduce makes it, merged from disk
//! where it spilled: `--sort key` partitions keys by sampled key ranges, so
//! that the partitions one after the other are in key order; a partition's
//! text waits in memory up to its share of half the memory budget, in a
//! temporary file past it, for the partitions before it; part files are
//! written as their partition is reduced.
//!
//! `-o FILE` is an `AtomicFile`: a failure leaves no partial file. An
//! output directory appears whole or not at all ([`OutputDir`]).

use std::cmp::Ordering;
use std::io::{self, Write};
use std::path::Path;

use mr_local::jobs::wordcount::Word;
use mr_local::output;
use mr_local::{Counters, Error, Job, MapReduce, Mapper};

use crate::args::{FormatArg, OutputArgs, SortArg};
use crate::bycount::{Budget, SortedRuns};
use crate::commands::new_part;
use crate::destinations::Destinations;
use crate::outdir::OutputDir;
use crate::parts::Part;
use crate::pieces;
use crate::progress::Bar;
use crate::Failure;

/// Column names of word count's CSV header and JSON members.
const COLUMNS: [&str; 2] = ["word", "count"];

/// Pairs formatted at a time into a partition's text.
const BATCH: usize = 4096;

type Pair<'d> = (Word<'d>, u64);

impl OutputArgs {
    /// Where these arguments send the results.
    pub(crate) fn destinations(&self) -> Destinations<'_> {
        match &self.output_dir {
            Some(dir) => Destinations::default().dir(dir, self.force),
            None => Destinations::default().output(self.output.as_deref()),
        }
    }
}

/// Runs word count's `run` (mapped, spilling past the budget), writes its
/// results as `args` asks, and returns the job's counters; `bar` shows
/// when the writing starts.
pub(crate) fn count_words<'d, M>(
    args: &OutputArgs,
    job: &Job,
    run: MapReduce<'_, 'd, M>,
    bar: &Bar,
) -> Result<Counters, Failure>
where
    M: Mapper<'d, Key = Word<'d>, Value = u64>,
{
    let sum = mr_local::jobs::add_count;
    if let Some(dir) = &args.output_dir {
        return write_dir(args, job, dir, run, bar);
    }
    if let (SortArg::Count, Some(top)) = (args.sort, args.top) {
        return write_top_by_count(args, job, run, top, bar);
    }
    let path = args.output.as_deref();
    let run = match args.sort {
        SortArg::Count => {
            let budget = Budget::of(job);
            let (runs, counters) =
                run.fold_into(sum, |_, pairs| SortedRuns::sort(&budget, pairs, by_count))?;
            bar.writing();
            match SortedRuns::in_memory(runs) {
                Ok(chunks) => crate::write_output(path, |out| {
                    // A header, for CSV, then the pieces without theirs.
                    write_pairs(&mut *out, args.format, std::iter::empty::<Pair<'_>>(), true)?;
                    pieces::write_merged(job, out, &chunks, by_count, |text, pairs| {
                        let pairs = pairs.iter().map(|(word, n)| (word, *n));
                        write_pairs(text, args.format, pairs, false)
                    })
                })?,
                Err(runs) => write_merged(path, args.format, runs, job.tmp_dir())?,
            }
            return Ok(counters);
        }
        SortArg::Key => run.partition_by_sampled_ranges().sorted(),
        SortArg::None => run,
    };
    if let Some(top) = args.top {
        // The first `top` of each partition, then the first `top` of those.
        let (firsts, counters) = run.fold_into(sum, |_, pairs| {
            let first: Vec<_> = (&mut *pairs).take(top).collect();
            // The rest still counts in the counters.
            pairs.for_each(drop);
            Ok(first)
        })?;
        bar.writing();
        let pairs = firsts.into_iter().flatten().take(top);
        crate::write_output(path, |out| write_pairs(out, args.format, pairs, true))?;
        return Ok(counters);
    }
    let (parts, counters) = run.fold_into(sum, |partition, pairs| {
        let mut part = new_part(job, partition);
        write_batches(&mut part, args.format, pairs)?;
        part.finish()
    })?;
    bar.writing();
    crate::write_output(path, |out| {
        // A header, for CSV, and the parts without theirs.
        write_pairs(out, args.format, std::iter::empty::<Pair<'_>>(), true)?;
        parts.iter().try_for_each(|part| part.copy_to(out))
    })?;
    Ok(counters)
}

/// `--top N` in count order: each partition, when reduced, keeps only its
/// first `top`, so that no more than a partition per thread is held whole;
/// the first `top` of all those are written.
fn write_top_by_count<'d, M>(
    args: &OutputArgs,
    job: &Job,
    run: MapReduce<'_, 'd, M>,
    top: usize,
    bar: &Bar,
) -> Result<Counters, Failure>
where
    M: Mapper<'d, Key = Word<'d>, Value = u64>,
{
    let (firsts, counters) = run.fold_into(mr_local::jobs::add_count, |_, pairs| {
        let mut pairs: Vec<Pair<'d>> = pairs.collect();
        select_first(&mut pairs, top, by_count);
        pairs.shrink_to_fit();
        Ok(pairs)
    })?;
    bar.writing();
    let mut pairs: Vec<Pair<'d>> = firsts.into_iter().flatten().collect();
    sort_first(job, &mut pairs, top, by_count);
    let pairs = pairs.iter().map(|(word, n)| (word, *n));
    crate::write_output(args.output.as_deref(), |out| {
        write_pairs(out, args.format, pairs, true)
    })?;
    Ok(counters)
}

/// Keeps the first `n` of `pairs` in `compare`'s order, in no order.
fn select_first<'d>(
    pairs: &mut Vec<Pair<'d>>,
    n: usize,
    compare: impl Fn(&Pair<'d>, &Pair<'d>) -> Ordering,
) {
    if n < pairs.len() {
        pairs.select_nth_unstable_by(n, compare);
        pairs.truncate(n);
    }
}

/// Writes the merge of `runs` to `path` or stdout.
fn write_merged(
    path: Option<&Path>,
    format: FormatArg,
    runs: Vec<SortedRuns<'_>>,
    tmp_dir: &Path,
) -> Result<(), Failure> {
    let name = path.map_or(Path::new("<stdout>"), |p| p);
    // The merge's own error, which `write_output` would report as the
    // output's.
    let mut failed = None;
    let written = crate::write_output(path, |out| {
        write_pairs(&mut *out, format, std::iter::empty::<Pair<'_>>(), true)?;
        let mut batch = Vec::with_capacity(BATCH);
        let mut flush = |batch: &mut Vec<Pair<'_>>| {
            write_pairs(&mut *out, format, batch.drain(..), false).map_err(|e| Error::io(name, e))
        };
        let merged = SortedRuns::merge(runs, tmp_dir, by_count, &mut |pair| {
            batch.push(pair);
            match batch.len() < BATCH {
                true => Ok(()),
                false => flush(&mut batch),
            }
        })
        .and_then(|()| flush(&mut batch));
        merged.map_err(|err| {
            failed = Some(err);
            io::Error::other("merge failed")
        })
    });
    match failed {
        Some(err) => Err(Failure::from(err)),
        None => written,
    }
}

/// Writes `pairs` into `part` in `format`, with no CSV header, a batch at a
/// time.
fn write_batches(
    part: &mut Part,
    format: FormatArg,
    pairs: &mut dyn Iterator<Item = Pair<'_>>,
) -> Result<(), Error> {
    let mut text = Vec::new();
    loop {
        let mut n = 0;
        text.clear();
        let batch = (&mut *pairs).take(BATCH).inspect(|_| n += 1);
        // Writing into a Vec cannot fail.
        let _ = write_pairs(&mut text, format, batch, false);
        if n == 0 {
            return Ok(());
        }
        part.write(&text)?;
    }
}

/// The comparison `--sort` asks for; `None` for no sorting.
#[cfg(test)]
fn order<'d>(sort: SortArg) -> Option<fn(&Pair<'d>, &Pair<'d>) -> Ordering> {
    match sort {
        SortArg::Count => Some(by_count),
        SortArg::Key => Some(|a, b| a.0.cmp(&b.0)),
        SortArg::None => None,
    }
}

/// `--sort count`: count descending, then key ascending.
fn by_count(a: &Pair<'_>, b: &Pair<'_>) -> Ordering {
    b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0))
}

/// Sorts `pairs` and keeps the first `n`.
///
/// When `n` is small next to the whole (`--top 10` of a million words),
/// the `n` first are selected in linear time and only they are sorted.
/// Keys are unique, so both comparisons are total orders and the result
/// does not depend on how it was reached.
fn sort_first<'d>(
    job: &Job,
    pairs: &mut Vec<Pair<'d>>,
    n: usize,
    compare: impl Fn(&Pair<'d>, &Pair<'d>) -> Ordering + Copy + Send + Sync,
) {
    if n < pairs.len() / 2 {
        pairs.select_nth_unstable_by(n, compare);
        pairs.truncate(n);
    }
    job.par_sort_by(pairs, compare);
    pairs.truncate(n);
}

/// Writes `pairs` in `format`; for CSV, with a header line if `header`.
fn write_pairs<K: AsRef<[u8]>>(
    out: &mut dyn Write,
    format: FormatArg,
    pairs: impl IntoIterator<Item = (K, u64)>,
    header: bool,
) -> io::Result<()> {
    match format {
        FormatArg::Tsv => output::write_tsv(out, pairs),
        FormatArg::Csv if header => output::write_csv(out, COLUMNS, pairs),
        FormatArg::Csv => {
            for (key, n) in pairs {
                output::write_csv_field(&mut *out, key.as_ref())?;
                writeln!(out, ",{n}")?;
            }
            Ok(())
        }
        FormatArg::Json => output::write_json_lines(out, COLUMNS, pairs),
    }
}

/// Writes one part file per partition into `dir`, each as its partition is
/// reduced, then `_SUCCESS` (see [`OutputDir`]).
fn write_dir<'d, M>(
    args: &OutputArgs,
    job: &Job,
    dir: &Path,
    run: MapReduce<'_, 'd, M>,
    bar: &Bar,
) -> Result<Counters, Failure>
where
    M: Mapper<'d, Key = Word<'d>, Value = u64>,
{
    // args.rs makes clap refuse this before the job runs; kept here so the
    // rule holds whoever calls this.
    if args.top.is_some() {
        return Err(Failure::Usage(
            "--top cannot be used with --output-dir".to_string(),
        ));
    }
    let out = OutputDir::create(dir, args.force)?;
    let run = match args.sort {
        SortArg::Key => run.sorted(),
        SortArg::Count | SortArg::None => run,
    };
    let (_, counters) = run.fold_into(mr_local::jobs::add_count, |partition, pairs| {
        if args.sort != SortArg::Count {
            return out.write_part(partition, |file| {
                write_pairs(file, args.format, pairs, true)
            });
        }
        // The count order needs the partition whole: sorted in runs within
        // this thread's share of the budget, and merged into the part.
        let budget = Budget::per_thread(job);
        let runs = SortedRuns::sort(&budget, pairs, by_count)?;
        let mut merge_failed = None;
        let written = out.write_part(partition, |file| {
            write_pairs(
                &mut *file,
                args.format,
                std::iter::empty::<Pair<'_>>(),
                true,
            )?;
            let mut batch = Vec::with_capacity(BATCH);
            let mut write_failed = None;
            let merged = SortedRuns::merge(vec![runs], job.tmp_dir(), by_count, &mut |pair| {
                batch.push(pair);
                if batch.len() < BATCH {
                    return Ok(());
                }
                write_pairs(&mut *file, args.format, batch.drain(..), false).map_err(|e| {
                    write_failed = Some(e);
                    Error::io(dir, io::Error::other("write failed"))
                })
            });
            if let Some(err) = write_failed {
                return Err(err);
            }
            if let Err(err) = merged {
                merge_failed = Some(err);
                return Err(io::Error::other("merge failed"));
            }
            write_pairs(&mut *file, args.format, batch.drain(..), false)
        });
        match merge_failed {
            Some(err) => Err(err),
            None => written,
        }
    })?;
    bar.writing();
    out.commit()?;
    Ok(counters)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_n_selection_equals_a_full_sort() {
        let job = Job::builder().threads(2).build().unwrap();
        let words: Vec<Vec<u8>> = (0..500u32)
            .map(|i| format!("w{}", (i * 7919) % 1000).into_bytes())
            .collect();
        let pairs: Vec<Pair<'_>> = words
            .iter()
            .enumerate()
            .map(|(i, w)| (Word::borrowed(w), (i % 13) as u64))
            .collect();
        for sort in [SortArg::Count, SortArg::Key] {
            let compare = order(sort).unwrap();
            let mut full = pairs.clone();
            full.sort_by(compare);
            for n in [0, 1, 10, 249, 250, 251, 499, 500, 501, usize::MAX] {
                let mut got = pairs.clone();
                sort_first(&job, &mut got, n, compare);
                assert_eq!(got, full[..n.min(full.len())], "{sort:?} top {n}");
            }
        }
    }
}
