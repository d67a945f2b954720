//! Distributed grep (the MapReduce paper's §2.3): the lines that match a
//! regular expression, with their line numbers, in input order.
//!
//! A map task does not know how many lines came before its split, so it
//! numbers its matches from the split's start and also reports how many
//! lines the split holds. Once every split is mapped, the splits of each
//! file are put back in order and each split's numbers are shifted by the
//! lines of the splits before it: a prefix sum over splits, not a second
//! pass over the input.

use memchr::{memchr, memchr_iter, memrchr};
use regex::bytes::{Regex, RegexBuilder};

use crate::error::{BoxError, Error};
use crate::input::Inputs;
use crate::job::Job;
use crate::map::{Emit, Mapper};
use crate::reduce::Output;
use crate::Counters;

/// A grep job: which lines match.
///
/// A line is the bytes between two `\n` (a `\r` before the `\n` belongs to
/// the line, as for `grep`). The pattern uses the [`regex`] crate's syntax;
/// `^` and `$` match at the start and end of every line.
///
/// # Example
///
/// ```
/// use mr_local::jobs::grep::{grep, Grep};
/// use mr_local::{Inputs, Job};
///
/// let mut inputs = Inputs::new();
/// inputs.push_bytes("poem.txt", "roses are red\nviolets are blue\nsugar is sweet\n");
/// let job = Job::builder().split_size(8).build()?;
/// let pattern = Grep::new(r"\bare\b", false, false)?;
/// let (matches, _) = grep(&job, &inputs, &pattern)?;
/// let found: Vec<(u64, &[u8])> = matches.iter().map(|m| (m.line_number, m.line)).collect();
/// assert_eq!(found, [(1, &b"roses are red"[..]), (2, b"violets are blue")]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Grep {
    regex: Regex,
    invert: bool,
}

impl Grep {
    /// A job that selects lines matching `pattern` (or, with `invert`, not
    /// matching it), ignoring case if asked to.
    ///
    /// # Errors
    ///
    /// A pattern the regex crate cannot compile.
    pub fn new(pattern: &str, ignore_case: bool, invert: bool) -> Result<Grep, regex::Error> {
        let regex = RegexBuilder::new(pattern)
            .multi_line(true)
            .case_insensitive(ignore_case)
            .build()?;
        Ok(Grep { regex, invert })
    }

    /// Whether `line` (without its `\n`) is selected.
    pub fn selects(&self, line: &[u8]) -> bool {
        self.regex.is_match(line) != self.invert
    }

    /// Calls `each` with the index within `text` and the contents of each
    /// selected line. Searches the whole text at once, not line by line,
    /// so the regex engine's fast scanning does most of the work.
    fn for_each_selected<'t>(&self, text: &'t [u8], mut each: impl FnMut(u64, &'t [u8])) {
        let mut numbered = 0;
        let mut line_number = 0;
        let mut select = |start: usize, line: &'t [u8]| {
            line_number += memchr_iter(b'\n', &text[numbered..start]).count() as u64;
            numbered = start;
            each(line_number, line);
        };
        if self.invert {
            let mut start = 0;
            while start < text.len() {
                let end = memchr(b'\n', &text[start..]).map_or(text.len(), |i| start + i);
                if self.selects(&text[start..end]) {
                    select(start, &text[start..end]);
                }
                start = end + 1;
            }
            return;
        }
        let mut at = 0;
        while at < text.len() {
            let Some(found) = self.regex.find_at(text, at) else {
                break;
            };
            let start = memrchr(b'\n', &text[..found.start()]).map_or(0, |i| i + 1);
            if start == text.len() {
                // An empty match after the last `\n`: not a line.
                break;
            }
            let end =
                memchr(b'\n', &text[found.start()..]).map_or(text.len(), |i| found.start() + i);
            // A match that runs on past the line's end (a pattern that can
            // match `\n`) only counts if the line matches on its own.
            if found.end() <= end || self.regex.is_match(&text[start..end]) {
                select(start, &text[start..end]);
            }
            at = end + 1;
        }
    }
}

/// A selected line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Match<'d> {
    /// The input's position in [`Inputs::files`].
    pub file: usize,
    /// The line's number in its input, from 1.
    pub line_number: u64,
    /// The line, without its `\n`.
    pub line: &'d [u8],
}

/// What one split found: the split's lines, and its selected lines,
/// numbered from 0 at the split's start.
#[derive(Debug, Default)]
pub struct SplitMatches<'d> {
    lines: u64,
    selected: Vec<(u64, &'d [u8])>,
}

impl<'d> Mapper<'d> for Grep {
    /// The input and the split's offset in it.
    type Key = (usize, usize);
    type Value = SplitMatches<'d>;

    fn map(
        &self,
        record: &'d [u8],
        out: &mut Emit<'_, (usize, usize), SplitMatches<'d>>,
    ) -> Result<(), BoxError> {
        self.map_split(record, out)
    }

    fn map_split(
        &self,
        split: &'d [u8],
        out: &mut Emit<'_, (usize, usize), SplitMatches<'d>>,
    ) -> Result<(), BoxError> {
        let mut found = SplitMatches::default();
        self.for_each_selected(split, |number, line| found.selected.push((number, line)));
        let newlines = memchr_iter(b'\n', split).count() as u64;
        found.lines = newlines + u64::from(!split.ends_with(b"\n") && !split.is_empty());
        out.count_records(found.lines);
        out.emit((out.file(), out.split_offset()), found);
        Ok(())
    }
}

/// Runs `pattern` over `inputs`: the selected lines in input order, and
/// the job's counters.
///
/// # Errors
///
/// As for [`Job::map_reduce`]; the grep mapper itself never fails.
pub fn grep<'d>(
    job: &Job,
    inputs: &'d Inputs,
    pattern: &Grep,
) -> Result<(Vec<Match<'d>>, Counters), Error> {
    // Every split emits one key of its own, so nothing combines: the
    // reduce step only hands the splits back.
    let output: Output<(usize, usize), SplitMatches<'d>> = job
        .map_with(inputs, pattern)
        .reduce(|_, mut found| found.pop().unwrap_or_default())?;
    let counters = output.counters().clone();
    let mut splits = output.into_vec();
    splits.sort_unstable_by_key(|(key, _)| *key);
    let mut matches = Vec::new();
    let mut file = usize::MAX;
    let mut lines_before = 0;
    for ((split_file, _), found) in splits {
        if split_file != file {
            file = split_file;
            lines_before = 0;
        }
        matches.extend(found.selected.into_iter().map(|(number, line)| Match {
            file,
            line_number: lines_before + number + 1,
            line,
        }));
        lines_before += found.lines;
    }
    Ok((matches, counters))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(pattern: &Grep, text: &[u8]) -> Vec<(u64, Vec<u8>)> {
        let mut lines: Vec<&[u8]> = text.split(|b| *b == b'\n').collect();
        if text.ends_with(b"\n") || text.is_empty() {
            lines.pop();
        }
        lines
            .into_iter()
            .enumerate()
            .filter(|(_, line)| pattern.selects(line))
            .map(|(i, line)| (i as u64 + 1, line.to_vec()))
            .collect()
    }

    #[test]
    fn every_split_size_numbers_lines_like_a_line_by_line_scan() {
        let text = b"alpha\nbeta\r\n\ngamma alpha\nalphabet\n\n  \nalpha";
        for (pattern, invert) in [
            ("alpha", false),
            ("^$", false),
            (r"a\s+", false),
            ("a$", false),
            ("alpha", true),
            ("", false),
        ] {
            let grep_for = Grep::new(pattern, false, invert).unwrap();
            let expected = reference(&grep_for, text);
            for split in 1..text.len() + 2 {
                let mut inputs = Inputs::new();
                inputs.push_bytes("a", &text[..]);
                inputs.push_bytes("b", &text[..]);
                let job = Job::builder().threads(2).split_size(split).build().unwrap();
                let (matches, _) = grep(&job, &inputs, &grep_for).unwrap();
                for file in 0..2 {
                    let got: Vec<(u64, Vec<u8>)> = matches
                        .iter()
                        .filter(|m| m.file == file)
                        .map(|m| (m.line_number, m.line.to_vec()))
                        .collect();
                    assert_eq!(got, expected, "{pattern:?} split {split}");
                }
                assert!(matches
                    .windows(2)
                    .all(|w| (w[0].file, w[0].line_number) < (w[1].file, w[1].line_number)));
            }
        }
    }

    #[test]
    fn case_can_be_ignored() {
        let grep_for = Grep::new("RED", true, false).unwrap();
        assert!(grep_for.selects(b"a red rose"));
        assert!(Grep::new("(", false, false).is_err());
    }
}
