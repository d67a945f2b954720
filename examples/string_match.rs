//! Phoenix++'s string match: hash every word of a file and compare it with
//! the hashes of four keys, written the plain way (one closure call per
//! line, an emit per match, a summing combiner), with [`Job::map_dense`]
//! so that the four counts are folded where they are emitted.
//!
//! [`Job::map_dense`]: mr_local::Job::map_dense
//!
//! ```text
//! cargo run --release --example string_match -- WORDS
//! ```
//!
//! It takes Phoenix++ 1.0's argument (`tests/string_match`) and prints the
//! two lines that prints, then what Phoenix++ computes but never reports:
//! how many words match each key, one `key<TAB>count` line per key, in
//! Phoenix++'s order (`Helloworld`, `howareyou`, `ferrari`, `whotheman`).
//!
//! Phoenix++'s map hashes each word (each run of bytes other than `\r` and
//! `\n`) by adding 5 to every byte, and compares the result with each
//! key's hash using `strcmp`; but a stray `;` after each `if` makes the
//! match do nothing (its print is compiled out too), so Phoenix++ emits no
//! pair and prints no result. This port keeps the comparison and counts
//! the matches. Because `strcmp` stops at a zero byte, a hashed word ends
//! at its first byte 0xFB (0xFB + 5 wraps to 0): `Helloworld\xFBxyz`
//! matches `Helloworld`, as it would in Phoenix++. (Phoenix++ hashes into a
//! 1024-byte buffer, which a longer word overruns; here words have no
//! length limit.)
//!
//! So the outputs are compared on Phoenix++'s two lines; the counts are
//! checked against an independent count (`tests/examples.rs`, and
//! `grep -cxF KEY` in `benches/phoenix.sh`, for inputs without `\r` or
//! 0xFB bytes).

use std::error::Error;
use std::io::Write;

use mr_local::{Dense, InputOptions, Inputs, Job, MmapChoice};

/// Phoenix++'s keys, in its order.
const KEYS: [&[u8]; 4] = [b"Helloworld", b"howareyou", b"ferrari", b"whotheman"];

/// The longest key: no longer hash can match.
const LONGEST: usize = {
    let (mut longest, mut i) = (0, 0);
    while i < KEYS.len() {
        if KEYS[i].len() > longest {
            longest = KEYS[i].len();
        }
        i += 1;
    }
    longest
};

/// Phoenix++'s "simple cipher": every byte plus 5, wrapping.
const OFFSET: u8 = 5;

fn hash(bytes: &[u8]) -> impl Iterator<Item = u8> + Clone + '_ {
    bytes.iter().map(|b| b.wrapping_add(OFFSET))
}

fn main() -> Result<(), Box<dyn Error>> {
    let Some(path) = std::env::args().nth(1) else {
        println!("USAGE: string_match <keys filename>");
        std::process::exit(1);
    };
    println!("String Match: Running...");
    // SAFETY: the input is not modified while the job runs.
    let options = InputOptions::default().mmap(unsafe { MmapChoice::auto() });
    let inputs = Inputs::open([&path], &options)?;
    let hashed_keys: Vec<Vec<u8>> = KEYS.iter().map(|k| hash(k).collect()).collect();
    println!("String Match: Calling String Match");

    let job = Job::builder().build()?;
    let matches = job.map_dense(
        &inputs,
        // One record: a line, whose `\r`s also end words, as in Phoenix++.
        |line: &[u8], out: &mut Dense<u8, u64, _, 4>| {
            let mut hashed = [0; LONGEST];
            for word in line.split(|&b| b == b'\r').filter(|w| !w.is_empty()) {
                // The hash as `strcmp` sees it: up to its first zero byte,
                // which is where the word has a 0xFB.
                let word = word
                    .split(|&b| b == 0u8.wrapping_sub(OFFSET))
                    .next()
                    .unwrap_or(word);
                // A hash longer than every key's matches none of them.
                let Some(hashed) = hashed.get_mut(..word.len()) else {
                    continue;
                };
                for (to, from) in hashed.iter_mut().zip(hash(word)) {
                    *to = from;
                }
                for (key, hashed_key) in hashed_keys.iter().enumerate() {
                    if hashed == hashed_key.as_slice() {
                        out.emit(key as u8, 1);
                    }
                }
            }
            Ok(())
        },
        |total, n| *total += n,
    )?;
    let mut counts = [0u64; KEYS.len()];
    for (key, n) in matches.into_vec() {
        counts[usize::from(key)] = n;
    }
    let mut out = std::io::stdout().lock();
    for (key, n) in KEYS.iter().zip(counts) {
        writeln!(out, "{}\t{n}", String::from_utf8_lossy(key))?;
    }
    Ok(())
}
