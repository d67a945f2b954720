//! Custom closures: count words by their length.
//!
//! `cargo run --release --example word_lengths -- datasets/sample.txt`

use std::io::Write;

use mr_local::{Emit, InputOptions, Inputs, Job};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    let inputs = Inputs::open(&paths, &InputOptions::default())?;
    let job = Job::builder().build()?;

    let by_length = job.map_reduce(
        &inputs,
        // Map: one (length, 1) pair per ASCII word of the line.
        |line: &[u8], out: &mut Emit<usize, u64>| {
            for word in line.split(|b| !b.is_ascii_alphanumeric()) {
                if !word.is_empty() {
                    out.emit(word.len(), 1);
                }
            }
            Ok(())
        },
        // Combine and reduce: add the counts up.
        |total, n| *total += n,
    )?;

    let mut by_length = by_length.into_vec();
    by_length.sort();
    let mut out = std::io::stdout().lock();
    for (length, count) in by_length {
        writeln!(out, "{length}\t{count}")?;
    }
    Ok(())
}
