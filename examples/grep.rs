//! Distributed grep (the MapReduce paper's §2.3): the lines that match a
//! regular expression, printed as `grep -Hn` does, `path:line-number:line`,
//! in input order.
//!
//! ```text
//! cargo run --release --example grep -- 'Lord|LORD' ../shared/datasets/kjvbible.txt
//! ```
//!
//! The pattern is in the `regex` crate's syntax and matches bytes, so lines
//! need not be UTF-8. A line is everything before a `\n`; the `\r` of a CRLF
//! line belongs to it, as it does for grep.
//!
//! # Line numbers
//!
//! The engine cuts a file into splits that are mapped in parallel, and a
//! split does not know how many lines came before it. So the map emits two
//! kinds of pairs, keyed by `(file, byte offset)` so that key order is
//! input order:
//!
//! ```text
//! every split:          (file, split start, SplitStart) ─▶ newlines in the split
//! every matching line:  (file, line start,  Line)       ─▶ (line's index in its split, line)
//! ```
//!
//! Sorting the pairs puts each split's count just before its own matches;
//! a walk in that order keeps a running sum of the counts (a prefix sum), and
//! a match's line number is the newlines of the earlier splits of its file
//! plus its index in its split, plus one.

use std::error::Error;
use std::io::Write;

use memchr::{memchr, memchr_iter, memrchr};
use mr_local::{BoxError, Emit, InputOptions, Inputs, Job, Mapper};
use regex::bytes::{Regex, RegexBuilder};

/// What a key's offset points at. A split's count sorts before a match on
/// the split's first line, which has the same offset.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum At {
    SplitStart,
    Line,
}

enum Found<'d> {
    Split { newlines: u64 },
    Line { index: u64, text: &'d [u8] },
}

struct Grep {
    regex: Regex,
}

impl<'d> Mapper<'d> for Grep {
    type Key = (usize, usize, At);
    type Value = Found<'d>;

    fn map(&self, _: &'d [u8], _: &mut Emit<'_, Self::Key, Found<'d>>) -> Result<(), BoxError> {
        Err("grep maps whole splits (map_split), never single records".into())
    }

    /// Searches the whole split at once, as grep does, rather than line by
    /// line, then finds the line around each match.
    fn map_split(
        &self,
        split: &'d [u8],
        out: &mut Emit<'_, Self::Key, Found<'d>>,
    ) -> Result<(), BoxError> {
        let file = out.file();
        // Where the split starts in its file, so that keys sort in file
        // order across splits.
        let base = out.split_offset();
        // `at` is where line number `index` of the split starts.
        let (mut at, mut index) = (0, 0);
        while let Some(m) = self.regex.find_at(split, at) {
            let start = memrchr(b'\n', &split[..m.start()]).map_or(0, |i| i + 1);
            if start == split.len() {
                break; // an empty match after the split's last newline
            }
            let end = memchr(b'\n', &split[start..]).map_or(split.len(), |i| start + i);
            index += memchr_iter(b'\n', &split[at..start]).count() as u64;
            // A match may run on past the line's end (`\s` matches `\n`):
            // then the line counts only if it matches on its own.
            let text = &split[start..end];
            if m.end() <= end || self.regex.is_match(text) {
                out.emit((file, base + start, At::Line), Found::Line { index, text });
            }
            (at, index) = (end + 1, index + 1);
            if at >= split.len() {
                break;
            }
        }
        let rest = split.get(at..).unwrap_or_default();
        let newlines = index + memchr_iter(b'\n', rest).count() as u64;
        out.emit((file, base, At::SplitStart), Found::Split { newlines });
        Ok(())
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [pattern, paths @ ..] = &args[..] else {
        return Err("usage: grep PATTERN FILE...".into());
    };
    if paths.is_empty() {
        return Err("usage: grep PATTERN FILE...".into());
    }
    // `multi_line`: `^` and `$` match at the start and end of every line
    // of the split, not only of the split.
    let regex = RegexBuilder::new(pattern)
        .multi_line(true)
        .build()
        .map_err(|e| format!("bad pattern {pattern:?}: {e}"))?;
    let inputs = Inputs::open(paths, &InputOptions::default())?;
    let job = Job::builder().build()?;
    let grep = Grep { regex };
    let found = job
        .map_with(&inputs, &grep)
        // Keys are unique, so each has exactly one value.
        .reduce(|_key, mut values| values.pop().expect("one value per key"))?;

    let mut found = found.into_vec();
    job.par_sort_by(&mut found, |(a, _), (b, _)| a.cmp(b));
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    // Newlines in the splits of this file seen so far, and the number of
    // the first line of the current split.
    let (mut file_now, mut lines_before, mut first_line) = (usize::MAX, 0, 0);
    for ((file, _, _), found) in found {
        if file != file_now {
            (file_now, lines_before) = (file, 0);
        }
        match found {
            Found::Split { newlines } => {
                first_line = lines_before + 1;
                lines_before += newlines;
            }
            Found::Line { index, text } => {
                let path = inputs.files()[file].path().display();
                write!(out, "{path}:{}:", first_line + index)?;
                out.write_all(text)?;
                out.write_all(b"\n")?;
            }
        }
    }
    out.flush()?;
    Ok(())
}
