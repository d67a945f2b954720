//! A total-order sort of lines, byte for byte what `LC_ALL=C sort` prints,
//! with the idea of TeraSort: partitions by sampled key ranges.
//!
//! ```text
//! cargo run --release --example sort -- FILE... > sorted.txt
//! ```
//!
//! Lines compare as bytes (`LC_ALL=C`). Every line of the output ends with
//! `\n`, also one that had none at the end of its file; a `\r` before the
//! `\n` is part of its line; duplicates and empty lines are kept.
//!
//! The flow:
//!
//! ```text
//! sample  map up to 16 splits; their keys' quantiles are R - 1 split points,
//!         so partition i gets only lines below those of partition i + 1
//! map     each line ─▶ (line, 1); the combiner folds duplicates into counts
//! shuffle partition = the key range the line falls in
//! reduce  each partition sorts its own lines, in parallel
//! output  partition 0, then 1, ...: already in total order, no merge needed
//! ```

use std::error::Error;
use std::io::Write;

use mr_local::{Emit, InputOptions, Inputs, Job, Records};

fn main() -> Result<(), Box<dyn Error>> {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    if paths.is_empty() {
        return Err("usage: sort FILE...".into());
    }
    let inputs = Inputs::open(&paths, &InputOptions::default())?;
    // Records end at `\n` and keep a `\r` before it, as sort's lines do.
    let job = Job::builder().records(Records::delimited(b'\n')).build()?;

    let sorted = job
        // Map: the line is the key (borrowed from the input); the value
        // counts its copies.
        .map(&inputs, |line: &[u8], out: &mut Emit<&[u8], u64>| {
            out.emit(line, 1);
            Ok(())
        })
        .partition_by_sampled_ranges()
        .sorted()
        // Reduce (and combine): add up the copies of each line.
        .fold(|copies, n| *copies += n)?;

    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for partition in sorted.partitions() {
        for (line, copies) in partition {
            for _ in 0..*copies {
                out.write_all(line)?;
                out.write_all(b"\n")?;
            }
        }
    }
    out.flush()?;
    Ok(())
}
