//! A histogram of binary data: 16-bit little-endian samples (raw 16-bit
//! grayscale pixels, PCM audio, sensor readings), counted in bins.
//!
//! ```text
//! cargo run --release --example histogram -- [--bins N] samples.raw...
//! ```
//!
//! Output: one line per bin, `first-value<TAB>count`, in value order, every
//! bin (empty ones too). `N`, a power of two from 1 to 65536, is 64 by
//! default: bins of 1024 values. A file whose length is odd fails the job,
//! naming the file and the offset of its last byte.
//!
//! The input is not text, so records are not lines: `Records::fixed(2)`
//! makes each record one sample, and makes the engine cut files into splits
//! at even offsets only. The mapper could emit `(bin, 1)` per sample (that is
//! its `map`), but a pair per two bytes makes the map phase mostly
//! bookkeeping; so `map_split` counts a whole split into a local array and
//! emits one pair per non-empty bin ("in-mapper combining"), which is
//! many times faster and gives the same answer.

use std::error::Error;
use std::io::Write;

use mr_local::{BoxError, Emit, InputOptions, Inputs, Job, Mapper, Records};

/// Bins `sample >> shift`.
struct Histogram {
    shift: u32,
}

impl<'d> Mapper<'d> for Histogram {
    type Key = u32;
    type Value = u64;

    /// One record: one sample.
    fn map(&self, sample: &'d [u8], out: &mut Emit<'_, u32, u64>) -> Result<(), BoxError> {
        let value = u16::from_le_bytes([sample[0], sample[1]]);
        out.emit(u32::from(value) >> self.shift, 1);
        Ok(())
    }

    /// A whole split: many samples at once.
    fn map_split(&self, split: &'d [u8], out: &mut Emit<'_, u32, u64>) -> Result<(), BoxError> {
        let samples = split.chunks_exact(2);
        if !samples.remainder().is_empty() {
            // Name the offending byte in the error, as the engine would.
            out.start_record(split.len() - 1, split.len());
            return Err("the last 1 bytes are not a whole 2-byte record".into());
        }
        let mut counts = vec![0u64; 1 << (16 - self.shift)];
        for sample in samples {
            let value = u16::from_le_bytes([sample[0], sample[1]]);
            counts[(u32::from(value) >> self.shift) as usize] += 1;
        }
        out.count_records(split.len() as u64 / 2);
        for (bin, &count) in counts.iter().enumerate().filter(|&(_, &n)| n > 0) {
            // One pair standing for `count` pairs of (bin, 1).
            out.emit_folded(bin as u32, count, count);
        }
        Ok(())
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut bins = 64u32;
    if let Some(at) = args.iter().position(|a| a == "--bins") {
        let n = args.get(at + 1).ok_or("--bins needs a number")?;
        bins = n
            .parse()
            .ok()
            .filter(|b: &u32| b.is_power_of_two() && *b <= 1 << 16)
            .ok_or_else(|| format!("--bins {n}: not a power of two from 1 to 65536"))?;
        args.drain(at..at + 2);
    }
    if args.is_empty() {
        return Err("usage: histogram [--bins N] FILE...".into());
    }
    let inputs = Inputs::open(&args, &InputOptions::default())?;
    let job = Job::builder().records(Records::fixed(2)).build()?;
    let histogram = Histogram {
        shift: 16 - bins.trailing_zeros(),
    };
    let counts = job.map_reduce_with(&inputs, &histogram, |total, n| *total += n)?;

    let mut by_bin = vec![0u64; bins as usize];
    for (bin, count) in counts.into_vec() {
        by_bin[bin as usize] = count;
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for (bin, count) in by_bin.iter().enumerate() {
        writeln!(out, "{}\t{count}", bin << histogram.shift)?;
    }
    out.flush()?;
    Ok(())
}
