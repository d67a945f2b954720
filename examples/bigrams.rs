//! Word bigram count, written the plain way: one closure call per line, an
//! emit per pair of consecutive words, a summing combiner.
//!
//! ```text
//! cargo run --release --example bigrams -- [--threads N] FILE... > bigrams.tsv
//! ```
//!
//! Words are those of `mr-local wordcount` by default, taken with
//! [`WordCount::for_each_word`]: runs of alphanumeric characters,
//! lowercased. A bigram is two consecutive words **of the same line**
//! (a line's last word and the next line's first do not pair), written as
//! the two words with one space between them; a line of one word or none
//! has no bigram.
//!
//! The output is `bigram<TAB>count`, count descending and equal counts in
//! byte order, the order `mr-local wordcount` writes its words in; on ASCII
//! text it is what `benches/compare/duckdb_wordcount.py --bigrams` and
//! `polars_wordcount.py --bigrams` print.
//!
//! The keys are [`Word`]s: a pair of up to 22 bytes (most of them) is
//! stored in the key itself. Nearly every bigram of a large text is rare,
//! so this is a job with many distinct keys.

use std::error::Error;
use std::io::Write;

use mr_local::jobs::wordcount::{Word, WordCount};
use mr_local::{Emit, InputOptions, Inputs, Job, MmapChoice};

const USAGE: &str = "usage: bigrams [--threads N] FILE...";

fn main() -> Result<(), Box<dyn Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut job = Job::builder();
    if args.first().map(String::as_str) == Some("--threads") {
        let threads = args.get(1).ok_or(USAGE)?;
        job.threads(threads.parse().map_err(|_| USAGE)?);
        args.drain(..2);
    }
    if args.is_empty() {
        return Err(USAGE.into());
    }
    // SAFETY: the inputs are not modified while the job runs.
    let options = InputOptions::default().mmap(unsafe { MmapChoice::auto() });
    let inputs = Inputs::open(&args, &options)?;
    let job = job.build()?;

    let words = WordCount::default();
    let counts = job.map_reduce(
        &inputs,
        |line: &[u8], out: &mut Emit<Word<'static>, u64>| {
            // `pair` holds the previous word, then a space and the current
            // one once there is a current one.
            let mut pair = Vec::new();
            let mut previous = None;
            words.for_each_word(line, |word| {
                if let Some(len) = previous {
                    pair.truncate(len);
                    pair.push(b' ');
                    pair.extend_from_slice(&word);
                    out.emit(Word::copied(&pair), 1);
                }
                pair.clear();
                pair.extend_from_slice(&word);
                previous = Some(word.len());
            });
            Ok(())
        },
        |total, n| *total += n,
    )?;

    let mut counts = counts.into_vec();
    job.par_sort_by(&mut counts, |a, b| {
        b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0))
    });
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    mr_local::output::write_tsv(&mut out, counts.iter().map(|(pair, n)| (pair, *n)))?;
    out.flush()?;
    Ok(())
}
