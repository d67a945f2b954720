//! Your own job as a Hadoop Streaming mapper and reducer: count words by
//! their length.
//!
//! ```sh
//! cargo build --release --example streaming_wordlength
//! M=target/release/examples/streaming_wordlength
//! $M map < datasets/sample.txt | LC_ALL=C sort | $M reduce
//! ```
//!
//! On a cluster: `-mapper "streaming_wordlength map" -reducer
//! "streaming_wordlength reduce"` (see README, "Running on a cluster").

use std::io;

use mr_local::streaming::{self, Config};
use mr_local::{Emit, Job};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = Config::default();
    let (stdin, stdout, stderr) = (io::stdin().lock(), io::stdout().lock(), io::stderr());
    match std::env::args().nth(1).as_deref() {
        // Map: one (length, 1) pair per ASCII word, combined per chunk on
        // all cores before it is written.
        Some("map") => streaming::run_mapper(
            &Job::builder().build()?,
            &config,
            |line: &[u8], out: &mut Emit<usize, u64>| {
                for word in line.split(|b| !b.is_ascii_alphanumeric()) {
                    if !word.is_empty() {
                        out.emit(word.len(), 1);
                    }
                }
                Ok(())
            },
            |total, n| *total += n,
            stdin,
            stdout,
            stderr,
        )?,
        // Reduce (or combine): add up the counts of each length.
        Some("reduce" | "combine") => {
            streaming::run_reducer(
                &config,
                |total: &mut u64, n| *total += n,
                stdin,
                stdout,
                stderr,
            )?;
        }
        _ => return Err("usage: streaming_wordlength map|reduce|combine".into()),
    }
    Ok(())
}
