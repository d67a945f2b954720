//! Phoenix++'s word count, written the plain way: one closure call per
//! line, an emit per word, a summing combiner.
//!
//! ```text
//! cargo run --release --example word_count -- FILE [TOP]
//! ```
//!
//! It takes Phoenix++ 1.0's arguments (`tests/word_count`: a file and how
//! many of the most frequent words to show, 10 by default) and prints what
//! that prints, line for line: the `TOP` words by count, most frequent
//! first and equal counts in byte order, each right-aligned in 15 columns,
//! then how many distinct words there are and the total.
//!
//! Its words are Phoenix++'s: text is uppercased (ASCII only, as `toupper`
//! in the C locale), and a word is an ASCII letter followed by letters and
//! apostrophes (`DON'T`, `ROCK''N`); every other byte, digits and bytes of
//! 0x80 and above included, separates words. Keys are
//! [`Word`](mr_local::jobs::wordcount::Word)s, made from an uppercased copy
//! in a stack buffer: a word of up to 22 bytes is stored in the key
//! itself, so counting allocates only for longer ones.

use std::error::Error;
use std::io::Write;

use mr_local::jobs::wordcount::Word;
use mr_local::{Emit, InputOptions, Inputs, Job, MmapChoice};

/// Phoenix++'s default number of words shown.
const DEFAULT_TOP: u32 = 10;

/// Words longer than this are uppercased on the heap.
const SCRATCH: usize = 64;

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        println!("USAGE: word_count <filename> [Top # of results to display]");
        std::process::exit(1);
    };
    println!("Wordcount: Running...");
    // SAFETY: the input is not modified while the job runs.
    let options = InputOptions::default().mmap(unsafe { MmapChoice::auto() });
    let inputs = Inputs::open([path], &options)?;
    let top = args.get(1).map_or(DEFAULT_TOP, |n| atoi(n) as u32);
    if top == 0 {
        return Err(format!("{}: not a positive number of words", args[1]).into());
    }
    println!("Wordcount: Calling MapReduce Scheduler Wordcount");

    let job = Job::builder().build()?;
    let counts = job.map_reduce(
        &inputs,
        |line: &[u8], out: &mut Emit<Word<'static>, u64>| {
            let mut i = 0;
            while i < line.len() {
                if !line[i].is_ascii_alphabetic() {
                    i += 1;
                    continue;
                }
                let start = i;
                while i < line.len() && (line[i].is_ascii_alphabetic() || line[i] == b'\'') {
                    i += 1;
                }
                out.emit(upper(&line[start..i]), 1);
            }
            Ok(())
        },
        |total, n| *total += n,
    )?;
    println!("Wordcount: MapReduce Completed");

    let mut counts = counts.into_vec();
    let total: u64 = counts.iter().map(|(_, n)| n).sum();
    let shown = counts.len().min(top as usize);
    // Most frequent first; equal counts in byte order, as Phoenix++ sorts.
    let order = |a: &(Word, u64), b: &(Word, u64)| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0));
    if shown < counts.len() && shown > 0 {
        counts.select_nth_unstable_by(shown - 1, order);
    }
    counts[..shown].sort_unstable_by(order);

    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    writeln!(
        out,
        "\nWordcount: Results (TOP {shown} of {}):",
        counts.len()
    )?;
    for (word, n) in &counts[..shown] {
        writeln!(out, "{:>15} - {n}", String::from_utf8_lossy(word))?;
    }
    writeln!(out, "Total: {total}")?;
    out.flush()?;
    Ok(())
}

/// The word uppercased, as a key.
fn upper(word: &[u8]) -> Word<'static> {
    if word.len() > SCRATCH {
        return Word::copied(&word.to_ascii_uppercase());
    }
    let mut scratch = [0u8; SCRATCH];
    let upper = &mut scratch[..word.len()];
    upper.copy_from_slice(word);
    upper.make_ascii_uppercase();
    Word::copied(upper)
}

/// C's `atoi`: leading blanks, a sign, digits; 0 if none.
fn atoi(s: &str) -> i32 {
    let s = s.trim_start();
    let (sign, digits) = match s.as_bytes().first() {
        Some(b'-') => (-1i64, &s[1..]),
        Some(b'+') => (1, &s[1..]),
        _ => (1, s),
    };
    let n = digits
        .bytes()
        .take_while(u8::is_ascii_digit)
        .fold(0i64, |n, d| (n * 10 + i64::from(d - b'0')).min(1 << 32));
    (sign * n) as i32
}
