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
//! Every file is an [`AtomicFile`]: a failure leaves no partial file. With
//! `--output-dir`, a failure also removes the parts this run had already
//! written (and DIR, if this run created it), so DIR never holds a mix.

use std::cmp::Ordering;
use std::ffi::OsStr;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use mr_local::jobs::wordcount::Word;
use mr_local::output::{self, AtomicFile};
use mr_local::{Job, Output};

use crate::args::{FormatArg, OutputArgs, SortArg};
use crate::destinations::Destinations;
use crate::{io_failure, Failure};

/// Column names of word count's CSV header and JSON members.
const COLUMNS: [&str; 2] = ["word", "count"];

/// The name of the file written last into an output directory.
const SUCCESS: &str = "_SUCCESS";

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

/// Writes one part file per partition into `dir`, then `_SUCCESS`.
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
    let created = prepare_dir(dir, args.force)?;
    let mut written = Vec::with_capacity(partitions.len() + 1);
    let result = write_parts(args, job, dir, partitions, &mut written);
    if result.is_err() {
        // Best effort: the error being reported matters more than these.
        for path in written.iter().rev() {
            let _ = fs::remove_file(path);
        }
        if created {
            let _ = fs::remove_dir(dir);
        }
    }
    result
}

fn write_parts(
    args: &OutputArgs,
    job: &Job,
    dir: &Path,
    partitions: Vec<Vec<Pair<'_>>>,
    written: &mut Vec<PathBuf>,
) -> Result<(), Failure> {
    let compare = order(args.sort);
    for (i, mut pairs) in partitions.into_iter().enumerate() {
        if let Some(compare) = compare {
            job.par_sort_by(&mut pairs, compare);
        }
        let path = dir.join(format!("part-{i:05}"));
        let mut file = AtomicFile::create(&path)?;
        write_pairs(&mut file, args.format, &pairs).map_err(|e| io_failure(&path, e))?;
        file.commit()?;
        written.push(path);
    }
    let path = dir.join(SUCCESS);
    AtomicFile::create(&path)?.commit()?;
    written.push(path);
    Ok(())
}

/// Makes `dir` ready for part files; returns true if it created it.
///
/// A missing `dir` is created (its parent must exist). An existing one is
/// checked by [`replaceable_outputs`], and what it lists is removed,
/// `_SUCCESS` first, so that no reader takes the remaining parts for a
/// complete output.
fn prepare_dir(dir: &Path, force: bool) -> Result<bool, Failure> {
    match fs::create_dir(dir) {
        Ok(()) => return Ok(true),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(io_failure(dir, e)),
    }
    let mut ours = replaceable_outputs(dir, force)?;
    ours.sort_by_key(|name| name != SUCCESS);
    for name in ours {
        let path = dir.join(name);
        fs::remove_file(&path).map_err(|e| io_failure(&path, e))?;
    }
    Ok(false)
}

/// Returns the entries of the existing `dir` that `force` may replace.
///
/// `dir` must be a directory, and empty unless `force`. With `force`, it
/// may hold only what an earlier run writes (`part-*`, `_SUCCESS`, and the
/// hidden temporary files of a run that was killed); anything else makes it
/// refuse, so that `--force` never deletes a file `mr-local` did not write.
pub(crate) fn replaceable_outputs(
    dir: &Path,
    force: bool,
) -> Result<Vec<std::ffi::OsString>, Failure> {
    let shown = dir.display();
    if !dir.is_dir() {
        return Err(Failure::Usage(format!(
            "{shown}: exists and is not a directory (--output-dir needs a directory)"
        )));
    }
    let mut ours = Vec::new();
    let mut others = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| io_failure(dir, e))? {
        let name = entry.map_err(|e| io_failure(dir, e))?.file_name();
        if is_ours(&name) {
            ours.push(name);
        } else {
            others.push(name);
        }
    }
    if ours.is_empty() && others.is_empty() {
        return Ok(ours);
    }
    if !force {
        return Err(Failure::Usage(format!(
            "{shown}: directory is not empty (--force replaces the part files of an earlier run)"
        )));
    }
    if let Some(other) = others.iter().min() {
        return Err(Failure::Usage(format!(
            "{}: not an output file of mr-local: --force only replaces part-* and {SUCCESS}",
            dir.join(other).display()
        )));
    }
    Ok(ours)
}

/// True for the names an earlier run leaves in an output directory:
/// `part-*`, `_SUCCESS`, and `AtomicFile`'s temporary files for them
/// (`.part-00000.mr-local-PID-N.tmp`), which a killed run may leave.
fn is_ours(name: &OsStr) -> bool {
    let name = name.as_encoded_bytes();
    if name == SUCCESS.as_bytes() || name.starts_with(b"part-") {
        return true;
    }
    let temp_of = |prefix: &[u8]| {
        name.starts_with(prefix)
            && name.ends_with(b".tmp")
            && name.windows(10).any(|w| w == b".mr-local-")
    };
    temp_of(b".part-") || temp_of(b"._SUCCESS.mr-local-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_earlier_runs_are_ours() {
        for name in [
            "_SUCCESS",
            "part-00000",
            "part-12345",
            "part-r-00000",
            ".part-00003.mr-local-123-4.tmp",
            "._SUCCESS.mr-local-9-0.tmp",
        ] {
            assert!(is_ours(OsStr::new(name)), "{name}");
        }
        for name in [
            "notes.txt",
            "_SUCCESS.bak",
            ".part-00000",
            ".part-00003.tmp",
            "._SUCCESS",
            "success",
            "Part-00000",
        ] {
            assert!(!is_ours(OsStr::new(name)), "{name}");
        }
    }

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
