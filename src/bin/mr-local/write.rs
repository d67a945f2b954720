//! Writing a job's results: order (`--sort`, `--top`), format (`--format`)
//! and destination (stdout, `-o FILE`, `--output-dir DIR`).
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
//! `-o FILE` is an `AtomicFile`: a failure leaves no partial file. An
//! output directory appears whole or not at all ([`OutputDir`]).

use std::cmp::Ordering;
use std::io::{self, Write};
use std::path::Path;

use mr_local::jobs::wordcount::Word;
use mr_local::output;
use mr_local::{Job, Output};

use crate::args::{FormatArg, OutputArgs, SortArg};
use crate::destinations::Destinations;
use crate::outdir::OutputDir;
use crate::Failure;

/// Column names of word count's CSV header and JSON members.
const COLUMNS: [&str; 2] = ["word", "count"];

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

/// Writes word counts as `args` asks.
pub(crate) fn write_counts(
    args: &OutputArgs,
    job: &Job,
    output: Output<Word<'_>, u64>,
) -> Result<(), Failure> {
    match &args.output_dir {
        Some(dir) => write_dir(args, job, dir, output.into_partitions()),
        None => write_stream(args, job, output),
    }
}

/// Writes every pair to stdout or `-o FILE`.
fn write_stream(
    args: &OutputArgs,
    job: &Job,
    output: Output<Word<'_>, u64>,
) -> Result<(), Failure> {
    let top = args.top.unwrap_or(usize::MAX);
    let path = args.output.as_deref();
    match order(args.sort) {
        None => {
            let pairs = output.partitions().iter().flatten().take(top);
            crate::write_output(path, |out| write_pairs(out, args.format, pairs))
        }
        Some(compare) => {
            let mut pairs = output.into_vec();
            sort_first(job, &mut pairs, top, compare);
            crate::write_output(path, |out| write_pairs(out, args.format, &pairs))
        }
    }
}

/// The comparison `--sort` asks for; `None` for no sorting.
fn order<'d>(sort: SortArg) -> Option<fn(&Pair<'d>, &Pair<'d>) -> Ordering> {
    match sort {
        SortArg::Count => Some(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0))),
        SortArg::Key => Some(|a, b| a.0.cmp(&b.0)),
        SortArg::None => None,
    }
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
    compare: fn(&Pair<'d>, &Pair<'d>) -> Ordering,
) {
    if n < pairs.len() / 2 {
        pairs.select_nth_unstable_by(n, compare);
        pairs.truncate(n);
    }
    job.par_sort_by(pairs, compare);
    pairs.truncate(n);
}

/// Writes `pairs` in `format`.
fn write_pairs<'a, 'd: 'a>(
    out: &mut dyn Write,
    format: FormatArg,
    pairs: impl IntoIterator<Item = &'a Pair<'d>>,
) -> io::Result<()> {
    let pairs = pairs.into_iter().map(|(word, n)| (word.as_bytes(), *n));
    match format {
        FormatArg::Tsv => output::write_tsv(out, pairs),
        FormatArg::Csv => output::write_csv(out, COLUMNS, pairs),
        FormatArg::Json => output::write_json_lines(out, COLUMNS, pairs),
    }
}

/// Writes one part file per partition into `dir`, then `_SUCCESS` (see
/// [`OutputDir`]).
fn write_dir(
    args: &OutputArgs,
    job: &Job,
    dir: &Path,
    partitions: Vec<Vec<Pair<'_>>>,
) -> Result<(), Failure> {
    // args.rs makes clap refuse this before the job runs; kept here so the
    // rule holds whoever calls this.
    if args.top.is_some() {
        return Err(Failure::Usage(
            "--top cannot be used with --output-dir".to_string(),
        ));
    }
    let out = OutputDir::create(dir, args.force)?;
    let compare = order(args.sort);
    for (i, mut pairs) in partitions.into_iter().enumerate() {
        if let Some(compare) = compare {
            job.par_sort_by(&mut pairs, compare);
        }
        out.write_part(i, |file| write_pairs(file, args.format, &pairs))?;
    }
    out.commit()
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
