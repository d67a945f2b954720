//! The sequential baseline: a straightforward single-threaded word count
//! with one `std` HashMap, to measure the engine against.
//!
//! Words are `[a-z0-9]+` after ASCII lowercasing (the same as `mr-local
//! wordcount` on ASCII text), or runs of non-whitespace with `--split
//! whitespace`. Output is `word<TAB>count`, count descending, then word.
//!
//! `cargo run --release --example hashmap_baseline -- [--split whitespace] FILE...`

use std::collections::HashMap;
use std::io::{self, BufWriter, Write};

fn main() -> io::Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let whitespace = match args.iter().position(|a| a == "--split") {
        Some(at) => args.drain(at..at + 2).nth(1).as_deref() == Some("whitespace"),
        None => false,
    };
    let is_separator = |b: &u8| {
        if whitespace {
            matches!(*b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
        } else {
            !b.is_ascii_alphanumeric()
        }
    };

    let mut counts: HashMap<Vec<u8>, u64> = HashMap::new();
    for path in &args {
        let text = std::fs::read(path)?;
        for word in text.split(is_separator).filter(|w| !w.is_empty()) {
            let word = word.to_ascii_lowercase();
            *counts.entry(word).or_insert(0) += 1;
        }
    }

    let mut counts: Vec<_> = counts.into_iter().collect();
    counts.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mut out = BufWriter::new(io::stdout().lock());
    for (word, count) in counts {
        out.write_all(&word)?;
        writeln!(out, "\t{count}")?;
    }
    out.flush()
}
