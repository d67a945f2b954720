//! A word count as a new user writes it with the library: one closure call
//! per line, an emit per word, a summing combiner. Words are runs of bytes
//! other than ASCII whitespace, kept as they are (no lowercasing), borrowed
//! from the mapped input as `&[u8]` keys.
//!
//! ```text
//! cargo run --release --example closure_wordcount -- FILE
//! ```
//!
//! `benches/closure.sh` times it against `rayon_fold`, the same count as a
//! plain rayon fold. Threads: `RAYON_NUM_THREADS`. Output: `word<TAB>count`,
//! count descending, then word bytewise.

use std::error::Error;
use std::io::{BufWriter, Write};

use mr_local::{Emit, InputOptions, Inputs, Job, MmapChoice};

fn main() -> Result<(), Box<dyn Error>> {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: closure_wordcount FILE");
        std::process::exit(2);
    };
    // SAFETY: the input is not modified while the job runs.
    let options = InputOptions::default().mmap(unsafe { MmapChoice::auto() });
    let inputs = Inputs::open([&path], &options)?;
    let job = Job::builder().build()?;
    let counts = job.map_reduce(
        &inputs,
        |line: &[u8], out: &mut Emit<&[u8], u64>| {
            for word in line
                .split(u8::is_ascii_whitespace)
                .filter(|w| !w.is_empty())
            {
                out.emit(word, 1);
            }
            Ok(())
        },
        |total, n| *total += n,
    )?;

    let mut counts = counts.into_vec();
    job.par_sort_by(&mut counts, |a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let mut out = BufWriter::new(std::io::stdout().lock());
    for (word, count) in counts {
        out.write_all(word)?;
        writeln!(out, "\t{count}")?;
    }
    out.flush()?;
    Ok(())
}
