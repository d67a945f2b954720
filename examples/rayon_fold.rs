//! The parallel baseline a Rust programmer writes without an engine: a
//! rayon fold into `ahash` maps over line-aligned 1 MiB chunks, counting
//! runs of non-whitespace bytes, to measure `closure_wordcount` (the same
//! count on the engine) against.
//!
//! ```text
//! cargo run --release --example rayon_fold -- FILE
//! ```
//!
//! The file is read into memory whole (untimed by nothing: it is part of
//! the run, as mapping is part of the engine's). Threads:
//! `RAYON_NUM_THREADS`. Output: `word<TAB>count`, count descending, then
//! word bytewise, as `closure_wordcount` and `mr-local wordcount` write it.

use std::io::{self, BufWriter, Write};

use ahash::AHashMap;
use rayon::prelude::*;

/// The size a chunk is cut at, before it is extended to its line's end.
const CHUNK: usize = 1 << 20;

fn main() -> io::Result<()> {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: rayon_fold FILE");
        std::process::exit(2);
    };
    let text =
        std::fs::read(&path).map_err(|e| io::Error::new(e.kind(), format!("{path}: {e}")))?;
    let counts = chunks(&text)
        .par_iter()
        .fold(AHashMap::new, |mut counts, chunk| {
            for word in chunk
                .split(u8::is_ascii_whitespace)
                .filter(|w| !w.is_empty())
            {
                *counts.entry(word).or_insert(0u64) += 1;
            }
            counts
        })
        .reduce(AHashMap::new, |mut into, from| {
            for (word, n) in from {
                *into.entry(word).or_insert(0) += n;
            }
            into
        });

    let mut counts: Vec<(&[u8], u64)> = counts.into_iter().collect();
    counts.par_sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let mut out = BufWriter::new(io::stdout().lock());
    for (word, count) in counts {
        out.write_all(word)?;
        writeln!(out, "\t{count}")?;
    }
    out.flush()
}

/// `text` cut into pieces of about [`CHUNK`] bytes, each ending after a
/// newline (or at the end).
fn chunks(text: &[u8]) -> Vec<&[u8]> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let cut = match rest
            .get(CHUNK..)
            .and_then(|tail| tail.iter().position(|&b| b == b'\n'))
        {
            Some(at) => CHUNK + at + 1,
            None => rest.len(),
        };
        let (piece, tail) = rest.split_at(cut);
        pieces.push(piece);
        rest = tail;
    }
    pieces
}
