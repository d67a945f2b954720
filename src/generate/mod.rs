//! Deterministic generators of test inputs: an English-like text corpus
//! and web-server access logs.
//!
//! Benchmarks need large inputs (100 MB, 1 GB, 10 GB) that nobody wants to
//! commit or download. This module makes them on demand from a seed, so that
//! the same [`CorpusConfig`] and byte count always give the same bytes, on any
//! machine and with any number of threads.
//!
//! What lives here:
//!
//! - `corpus.rs`: [`CorpusConfig`]: seed, vocabulary size and Zipf exponent,
//!   with [`CorpusConfig::write_corpus`] to stream a corpus of an exact
//!   size; its tables and the writer of one block of prose.
//! - `access_log.rs`: [`AccessLogConfig`]: web-server access logs in
//!   Apache's `vhost_combined` format, sites drawn with a Zipf popularity,
//!   a few lines malformed on purpose.
//! - `vocabulary.rs`: the pseudo-English word of each rank, shared by the
//!   corpus (its words) and the access logs (site names).
//! - `random.rs`: the toolkit both generators draw from: the SplitMix64 and
//!   xoshiro256** streams, per-block seeds, Vose's alias table for Zipf
//!   ranks, and a platform-independent `ln`/`exp` for the Zipf weights.
//! - `size.rs`: [`parse_size`]: turns `"1G"`, `"100M"` or `"1.5GiB"` into a
//!   byte count, for command lines and benchmark setup.
//! - here: `invalid`, the `InvalidInput` error both generators return for a
//!   bad configuration.
//!
//! # Text shape
//!
//! The output is ASCII prose with LF line endings. Lines hold 8 to 16 words.
//! Sentences start with a capitalised word and end with `.` (sometimes `?` or
//! `!`); they wrap across lines like hard-wrapped text. About one word in ten
//! is followed by a comma, and about one in a hundred is a number.
//!
//! Words are pronounceable pseudo-English built from syllables. The word of
//! each rank is a pure function of the rank (rank 0 is the most frequent),
//! is 1 to 12 letters long and differs from the words of all other ranks. The
//! most frequent ranks are short, as in English ("the", "of"); rare ranks are
//! long. The vocabulary does not depend on the seed: the seed only changes
//! which words are drawn. Word ranks are drawn from a Zipf distribution with
//! an alias table, so drawing a word costs the same whatever the vocabulary.
//!
//! # How it is generated
//!
//! The output is cut into blocks of 1 MiB (the last one shorter). Block `i`
//! has its own random stream seeded from `(seed, i)`, starts a new line and a
//! new sentence, and ends with `'\n'` exactly at its last byte. Blocks are
//! therefore independent: rayon fills a batch of them in parallel while the
//! calling thread writes the previous batch in order. Memory stays bounded by
//! two batches, whatever the output size.
//!
//! The Zipf weights are computed with a hand-written logarithm and
//! exponential that use only IEEE-754 basic arithmetic, rather than the
//! platform's `powf`, whose last bit may differ between C libraries. That
//! keeps a committed sample reproducible on other machines.
//!
//! # Example
//!
//! ```
//! use mr_local::generate::{parse_size, CorpusConfig};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let bytes = parse_size("4K")?;
//! let mut text = Vec::new();
//! CorpusConfig::default().write_corpus(bytes, &mut text)?;
//! assert_eq!(text.len(), 4096);
//! assert!(text.ends_with(b"\n"));
//! # Ok(())
//! # }
//! ```

use std::io;

mod access_log;
mod corpus;
mod random;
mod size;
mod vocabulary;

pub use access_log::AccessLogConfig;
pub use corpus::CorpusConfig;
pub use size::parse_size;

/// An [`io::ErrorKind::InvalidInput`] error: a configuration rejected before
/// anything is written.
fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}
