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
//! - [`CorpusConfig`]: seed, vocabulary size and Zipf exponent, with
//!   [`CorpusConfig::write_corpus`] to stream a corpus of an exact size.
//! - [`AccessLogConfig`] (in `access_log.rs`): web-server access logs in
//!   Apache's `vhost_combined` format, sites drawn with a Zipf popularity,
//!   a few lines malformed on purpose.
//! - [`parse_size`]: turns `"1G"`, `"100M"` or `"1.5GiB"` into a byte count,
//!   for command lines and benchmark setup.
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

use std::collections::HashSet;
use std::f64::consts::{LN_2, SQRT_2};
use std::io::{self, Write};

use rayon::prelude::*;

mod access_log;

pub use access_log::AccessLogConfig;

/// Bytes per independently seeded block.
const BLOCK: usize = 1 << 20;

/// Spare bytes after each block buffer, so that a word can always be copied
/// as a whole 16-byte slot.
const SLACK: usize = 16;

/// The main loop stops when fewer bytes than this are left in a block; the
/// rest is filled exactly by [`BlockGen::fill_tail`]. It must exceed the
/// longest token (12-letter word, punctuation and separator).
const MARGIN: usize = 64;

/// Longest word, in letters.
const MAX_WORD: usize = 12;

/// Largest vocabulary accepted: keeps the word and alias tables (24 bytes a
/// word) below about 1.6 GB.
const MAX_VOCABULARY: usize = 1 << 26;

/// Out of 256: how often a word (not the first of a sentence) is a number.
const NUMBER_CHANCE: u64 = 3;

/// Out of 256: how often a word inside a sentence is followed by a comma.
const COMMA_CHANCE: u64 = 24;

/// Settings for the corpus generator.
///
/// By default the seed is 42, the vocabulary has 100 000 distinct base words
/// and the Zipf exponent is 1.1, which is close to English word frequencies.
///
/// # Example
///
/// ```
/// use mr_local::generate::CorpusConfig;
///
/// let config = CorpusConfig { seed: 7, ..CorpusConfig::default() };
/// assert_eq!(config.vocabulary, 100_000);
/// ```
#[derive(Clone, Debug)]
pub struct CorpusConfig {
    /// Seed of the random streams. By default 42.
    ///
    /// Different seeds draw different word sequences from the same
    /// vocabulary.
    pub seed: u64,
    /// Number of distinct base words. By default 100 000.
    ///
    /// Must be between 1 and 67 108 864 (2^26). Capitalised forms and numbers
    /// come on top of these.
    pub vocabulary: usize,
    /// Exponent `s` of the Zipf distribution: rank `r` (counting from 1) is
    /// drawn with weight `r^-s`. By default 1.1.
    ///
    /// Must be finite and not negative; 0 draws all words equally often.
    pub zipf_exponent: f64,
}

impl Default for CorpusConfig {
    /// Returns seed 42, vocabulary 100 000 and Zipf exponent 1.1.
    ///
    /// # Example
    ///
    /// ```
    /// use mr_local::generate::CorpusConfig;
    ///
    /// let config = CorpusConfig::default();
    /// assert_eq!((config.seed, config.vocabulary), (42, 100_000));
    /// assert_eq!(config.zipf_exponent, 1.1);
    /// ```
    fn default() -> CorpusConfig {
        CorpusConfig {
            seed: 42,
            vocabulary: 100_000,
            zipf_exponent: 1.1,
        }
    }
}

impl CorpusConfig {
    /// Writes exactly `bytes` bytes of corpus to `out`.
    ///
    /// The bytes are a pure function of `self` and `bytes`: the same call
    /// always writes the same bytes, whatever the size of the rayon thread
    /// pool. When `bytes > 0` the last byte is `'\n'`; the last line of each
    /// 1 MiB block is cut short to make the size exact. Writing 0 bytes
    /// writes nothing.
    ///
    /// Outputs of different sizes are not promised to be prefixes of each
    /// other. As it happens, a shorter output matches the start of a longer
    /// one (same config) except in its last 64 bytes, where its last line is
    /// filled to size.
    ///
    /// Work runs on the current rayon pool; `out` is only touched from the
    /// calling thread, in large writes, and is flushed at the end. Pass
    /// `&mut writer` to keep using the writer afterwards. Building the tables
    /// takes a few milliseconds for the default vocabulary, so the call has a
    /// fixed cost even for tiny outputs.
    ///
    /// # Errors
    ///
    /// Returns an [`io::ErrorKind::InvalidInput`] error, before writing
    /// anything, if `vocabulary` is 0 or above 2^26 or `zipf_exponent` is
    /// negative or not finite. Returns any error from writing to `out`; the
    /// output may then have been written in part.
    ///
    /// # Example
    ///
    /// ```
    /// use mr_local::generate::CorpusConfig;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let config = CorpusConfig::default();
    /// let mut first = Vec::new();
    /// config.write_corpus(10_000, &mut first)?;
    /// let mut second = Vec::new();
    /// config.write_corpus(10_000, &mut second)?;
    /// assert_eq!(first.len(), 10_000);
    /// assert_eq!(first, second);
    /// assert!(first.is_ascii());
    /// # Ok(())
    /// # }
    /// ```
    pub fn write_corpus<W: Write>(&self, bytes: u64, mut out: W) -> io::Result<()> {
        let tables = Tables::new(self)?;
        if bytes == 0 {
            return out.flush();
        }
        let plan = Plan {
            tables: &tables,
            seed: self.seed,
            total: bytes,
        };
        let blocks = bytes.div_ceil(BLOCK as u64);
        // Two blocks per thread evens out the load; the cap bounds memory
        // to 2 * 32 MiB of buffers on big machines.
        let batch = (rayon::current_num_threads() * 2).clamp(1, 32) as u64;

        let mut current: Vec<Vec<u8>> = Vec::new();
        let mut next: Vec<Vec<u8>> = Vec::new();
        let mut first = 0u64;
        let mut count = batch.min(blocks);
        ensure_buffers(&mut current, count);
        plan.fill_batch(first, &mut current[..count as usize]);
        loop {
            let next_first = first + count;
            let next_count = batch.min(blocks - next_first);
            ensure_buffers(&mut next, next_count);
            // Generate the next batch on the pool while this thread writes
            // the current one. `in_place_scope` keeps `out` on this thread,
            // so `W` need not be `Send`.
            let written = rayon::in_place_scope(|scope| {
                if next_count > 0 {
                    let bufs = &mut next[..next_count as usize];
                    let plan = &plan;
                    scope.spawn(move |_| plan.fill_batch(next_first, bufs));
                }
                for (i, buf) in (first..).zip(&current[..count as usize]) {
                    out.write_all(&buf[..plan.block_len(i)])?;
                }
                Ok::<(), io::Error>(())
            });
            written?;
            if next_count == 0 {
                break;
            }
            std::mem::swap(&mut current, &mut next);
            first = next_first;
            count = next_count;
        }
        out.flush()
    }
}

/// Parses a size such as `"1G"`, `"100M"`, `"512K"`, `"4096"` or `"1.5G"`.
///
/// Units are binary: `K` is 1024 bytes, `M` 1024², `G` 1024³ and `T` 1024⁴.
/// Each may also be written `KB` or `KiB` (and so on), and `B` means bytes.
/// Case is ignored, as is white space around the number and unit. A
/// fractional number (`"1.5G"`, `"0.5k"`) is allowed; the result is rounded
/// down to a whole byte.
///
/// # Errors
///
/// Returns a short lowercase message if the text is empty, is not a
/// non-negative decimal number followed by an optional known unit, or gives
/// more than `u64::MAX` bytes.
///
/// # Example
///
/// ```
/// use mr_local::generate::parse_size;
///
/// assert_eq!(parse_size("4096"), Ok(4096));
/// assert_eq!(parse_size("512K"), Ok(512 * 1024));
/// assert_eq!(parse_size("1.5GiB"), Ok(3 << 29));
/// assert!(parse_size("ten megabytes").is_err());
/// ```
pub fn parse_size(s: &str) -> Result<u64, String> {
    let text = s.trim();
    if text.is_empty() {
        return Err("empty size".to_string());
    }
    let bad = || {
        format!("invalid size {s:?}: expected a number and optional unit, like 512K, 100M or 1.5G")
    };
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        _ => return Err(bad()),
    };
    let (whole, fraction) = match number.split_once('.') {
        Some((whole, fraction)) => (whole, fraction),
        None => (number, ""),
    };
    let all_digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty()
        || !all_digits(whole)
        || !all_digits(fraction)
        || (number.contains('.') && fraction.is_empty())
    {
        return Err(bad());
    }
    let too_large = || format!("size {s:?} is too large");
    let whole: u128 = whole.parse::<u64>().map_err(|_| too_large())?.into();
    let mut bytes = whole << shift;
    // The fraction times 2^shift, rounded down, read off bit by bit by
    // doubling the decimal digits: exact, with no float or overflow. Digits
    // past the `shift`-th cannot change the result (they add less than
    // 5^-shift to a multiple of 5^-shift), so they are skipped.
    let mut digits: Vec<u8> = fraction.bytes().take(shift).map(|b| b - b'0').collect();
    let mut part = 0u128;
    for _ in 0..shift {
        let mut carry = 0;
        for digit in digits.iter_mut().rev() {
            let doubled = *digit * 2 + carry;
            *digit = doubled % 10;
            carry = doubled / 10;
        }
        part = part * 2 + u128::from(carry);
    }
    bytes += part;
    u64::try_from(bytes).map_err(|_| too_large())
}

/// Allocates empty buffers until `bufs` holds at least `count`; they are
/// sized when filled.
fn ensure_buffers(bufs: &mut Vec<Vec<u8>>, count: u64) {
    let count = count as usize;
    if bufs.len() < count {
        bufs.resize_with(count, Vec::new);
    }
}

/// One output: the tables, the seed and the total size.
struct Plan<'a> {
    tables: &'a Tables,
    seed: u64,
    total: u64,
}

impl Plan<'_> {
    /// Length of block `index`: `BLOCK`, except for the last one.
    fn block_len(&self, index: u64) -> usize {
        let start = index * BLOCK as u64;
        debug_assert!(start < self.total);
        (self.total - start).min(BLOCK as u64) as usize
    }

    /// Fills blocks `first..first + bufs.len()` in parallel.
    fn fill_batch(&self, first: u64, bufs: &mut [Vec<u8>]) {
        bufs.par_iter_mut().enumerate().for_each(|(offset, buf)| {
            let index = first + offset as u64;
            let len = self.block_len(index);
            if buf.len() != len + SLACK {
                buf.clear();
                buf.resize(len + SLACK, 0);
            }
            let rng = Xoshiro256::new(block_seed(self.seed, index));
            BlockGen::new(self.tables, rng, buf).fill(len);
        });
    }
}

/// Mixes a seed and a block index into the seed of that block's stream.
///
/// Both go through the SplitMix64 finaliser so that neighbouring seeds and
/// neighbouring blocks give unrelated streams.
fn block_seed(seed: u64, index: u64) -> u64 {
    mix64(mix64(seed ^ 0x6a09_e667_f3bc_c908) ^ index)
}

/// The SplitMix64 output function: a bijective 64-bit mixer.
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// SplitMix64 (Steele, Lea and Flood, 2014): a Weyl sequence passed through
/// [`mix64`]. Used to seed [`Xoshiro256`] and to derive words from ranks.
struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix64(self.state)
    }

    /// A value in `0..n`; the modulo bias is irrelevant for tiny `n`.
    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// xoshiro256** (Blackman and Vigna, 2018): the fast stream of each block.
struct Xoshiro256 {
    s: [u64; 4],
}

impl Xoshiro256 {
    /// Seeds the state from SplitMix64, as the authors recommend. The four
    /// outputs come from four distinct SplitMix64 states, and its output
    /// function is a bijection, so at most one of them is zero and the state
    /// is never all zeros.
    fn new(seed: u64) -> Xoshiro256 {
        let mut sm = SplitMix64::new(seed);
        let s = [sm.next_u64(), sm.next_u64(), sm.next_u64(), sm.next_u64()];
        Xoshiro256 { s }
    }

    #[inline]
    fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }
}

/// Precomputed vocabulary and Zipf sampler, shared by all blocks.
struct Tables {
    /// Word of each rank: letters in bytes `0..12`, length in byte 15. A
    /// fixed slot lets the hot loop copy 16 bytes without looking at the
    /// length first.
    words: Vec<[u8; 16]>,
    /// Alias table: the high 32 bits are the acceptance threshold of the
    /// column, the low 32 bits the rank used when it is rejected.
    alias: Vec<u64>,
    /// For each length 0..=12, the most frequent word of that length, if
    /// any; used to end a block exactly.
    by_len: [Option<u32>; MAX_WORD + 1],
}

impl Tables {
    fn new(config: &CorpusConfig) -> io::Result<Tables> {
        let n = config.vocabulary;
        if n == 0 || n > MAX_VOCABULARY {
            return Err(invalid(format!(
                "vocabulary must be between 1 and {MAX_VOCABULARY}, got {n}"
            )));
        }
        let s = config.zipf_exponent;
        if !s.is_finite() || s < 0.0 {
            return Err(invalid(format!(
                "zipf exponent must be finite and not negative, got {s}"
            )));
        }
        let words = build_vocabulary(n);
        let mut by_len = [None; MAX_WORD + 1];
        for (rank, word) in words.iter().enumerate().rev() {
            by_len[usize::from(word[15])] = Some(rank as u32);
        }
        let alias = build_alias(n, s);
        Ok(Tables {
            words,
            alias,
            by_len,
        })
    }

    /// Draws a rank from the Zipf distribution with one random number: the
    /// high half picks a column, the low half decides between the column and
    /// its alias.
    #[inline]
    fn sample(&self, r: u64) -> usize {
        alias_sample(&self.alias, r)
    }
}

/// Draws an index from an alias table made by [`build_alias`] with one
/// random number: the high half picks a column, the low half decides
/// between the column and its alias.
#[inline]
fn alias_sample(alias: &[u64], r: u64) -> usize {
    let n = alias.len() as u64;
    let column = ((r >> 32) * n) >> 32;
    let entry = alias[column as usize];
    if (r as u32) < (entry >> 32) as u32 {
        column as usize
    } else {
        entry as u32 as usize
    }
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

/// Builds Vose's alias table for weights `(rank + 1)^-s`.
fn build_alias(n: usize, s: f64) -> Vec<u64> {
    let mut p: Vec<f64> = (0..n)
        .map(|rank| det_exp(-s * det_ln((rank + 1) as f64)))
        .collect();
    // The weights are at most 1 (rank 0 is exactly 1) and sum to at most
    // n, so the sum is finite and at least 1.
    let sum: f64 = p.iter().sum();
    let scale = n as f64 / sum;
    for w in &mut p {
        *w *= scale;
    }
    let mut small = Vec::new();
    let mut large = Vec::new();
    for (i, &w) in p.iter().enumerate() {
        if w < 1.0 {
            small.push(i as u32);
        } else {
            large.push(i as u32);
        }
    }
    // A full column accepts itself; its alias is never taken.
    let mut table: Vec<u64> = (0..n)
        .map(|i| (u64::from(u32::MAX) << 32) | i as u64)
        .collect();
    while let (Some(&lo), Some(&hi)) = (small.last(), large.last()) {
        small.pop();
        large.pop();
        let threshold = (p[lo as usize] * 4_294_967_296.0) as u64;
        let threshold = threshold.min(u64::from(u32::MAX));
        table[lo as usize] = (threshold << 32) | u64::from(hi);
        p[hi as usize] = (p[hi as usize] + p[lo as usize]) - 1.0;
        if p[hi as usize] < 1.0 {
            small.push(hi);
        } else {
            large.push(hi);
        }
    }
    // Whatever is left is full up to rounding error and keeps the default.
    table
}

/// Natural logarithm of `x >= 1` using only basic IEEE-754 arithmetic, so
/// the result is the same on every platform (unlike `f64::ln`, which comes
/// from the C library). Accurate to a few ulps, which is plenty here.
fn det_ln(x: f64) -> f64 {
    debug_assert!(x.is_finite() && x >= 1.0);
    let bits = x.to_bits();
    let mut exponent = ((bits >> 52) & 0x7ff) as i64 - 1023;
    // Mantissa in [1, 2), then moved into [1/sqrt 2, sqrt 2] so the series
    // below converges fast.
    let mut m = f64::from_bits((bits & ((1u64 << 52) - 1)) | (1023u64 << 52));
    if m > SQRT_2 {
        m *= 0.5;
        exponent += 1;
    }
    // ln m = 2 atanh(t) = 2 (t + t^3/3 + t^5/5 + ...), with |t| < 0.172.
    let t = (m - 1.0) / (m + 1.0);
    let t2 = t * t;
    let mut power = t;
    let mut series = 0.0;
    for k in 0..14 {
        series += power / f64::from(2 * k + 1);
        power *= t2;
    }
    2.0 * series + exponent as f64 * LN_2
}

/// `e^y` for `y <= 0` using only basic IEEE-754 arithmetic; see [`det_ln`].
fn det_exp(y: f64) -> f64 {
    debug_assert!(y <= 0.0);
    if y < -745.0 {
        return 0.0;
    }
    // y = k ln 2 + r with |r| <= ln 2 / 2; `round` is exact everywhere.
    // ln 2 is split in two (Cody and Waite) so that k * LN2_HI is exact and
    // r keeps its accuracy even for large k.
    const LN2_HI: f64 = 6.931_471_803_691_238e-1; // 0x3fe62e42fee00000
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10; // 0x3dea39ef35793c76
    let k = (y / LN_2).round();
    let r = (y - k * LN2_HI) - k * LN2_LO;
    let mut term = 1.0;
    let mut sum = 1.0;
    for i in 1..20 {
        term *= r / f64::from(i);
        sum += term;
    }
    // Scale by 2^k in two steps, so subnormal results need no special case.
    let k = k as i64;
    let half = k / 2;
    sum * pow2(half) * pow2(k - half)
}

/// `2^k` for `-1022 <= k <= 1023`.
fn pow2(k: i64) -> f64 {
    debug_assert!((-1022..=1023).contains(&k));
    f64::from_bits(((k + 1023) as u64) << 52)
}

/// Syllable onsets. Repeated entries are simply more likely.
const ONSETS: &[&str] = &[
    "", "", "b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w",
    "y", "z", "b", "d", "l", "m", "n", "p", "r", "s", "t", "bl", "br", "ch", "cl", "cr", "dr",
    "fl", "fr", "gl", "gr", "pl", "pr", "sc", "sh", "sk", "sl", "sm", "sn", "sp", "st", "str",
    "sw", "th", "tr", "wh", "wr", "qu", "ph",
];

/// Onsets for short, frequent words and for syllables after a consonant.
const SIMPLE_ONSETS: &[&str] = &[
    "", "b", "c", "d", "f", "g", "h", "l", "m", "n", "p", "r", "s", "t", "v", "w", "th", "wh", "sh",
];

const NUCLEI: &[&str] = &[
    "a", "e", "i", "o", "u", "a", "e", "i", "o", "a", "e", "ai", "ea", "ee", "ie", "oa", "oo",
    "ou", "oi", "au",
];

const SIMPLE_NUCLEI: &[&str] = &["a", "e", "i", "o", "u", "a", "e", "o"];

const CODAS: &[&str] = &[
    "", "", "", "", "", "n", "r", "s", "t", "l", "m", "d", "n", "r", "s", "ng", "nd", "nt", "st",
    "ck", "th", "sh", "ll", "ss", "rt", "rd", "x", "ve", "ct", "mp", "ft", "ld", "rn",
];

const SIMPLE_CODAS: &[&str] = &["", "", "", "n", "r", "s", "t", "d", "m", "y"];

/// Builds the words of ranks `0..n`, all distinct.
///
/// Each rank derives candidates from a hash of `(rank, attempt)`; a
/// candidate already taken by a more frequent rank is rejected and the next
/// attempt, with more syllables every few tries, is used instead. Words do
/// not depend on the seed.
fn build_vocabulary(n: usize) -> Vec<[u8; 16]> {
    let mut seen: HashSet<[u8; 16]> = HashSet::with_capacity(n);
    let mut words = Vec::with_capacity(n);
    for rank in 0..n {
        let mut attempt = 0u32;
        let word = loop {
            let candidate = make_word(rank as u64, attempt);
            // With millions of 12-letter words on offer this gives up only
            // for absurd vocabularies; a rare duplicate is then harmless.
            if seen.insert(candidate) || attempt >= 255 {
                break candidate;
            }
            attempt += 1;
        };
        words.push(word);
    }
    words
}

/// Makes the candidate word for `rank` at retry `attempt`.
fn make_word(rank: u64, attempt: u32) -> [u8; 16] {
    let mut rng = SplitMix64::new(mix64(
        rank.wrapping_mul(0x2545_f491_4f6c_dd1d) ^ (u64::from(attempt) << 40),
    ));
    let roll = rng.below(6);
    // Frequent ranks get short, simple words, like English function words.
    let (base, mut simple) = match rank {
        0..=39 => (1, true),
        40..=399 => {
            if roll < 2 {
                (2, true)
            } else {
                (1, false)
            }
        }
        400..=3_999 => (2, roll < 2),
        4_000..=39_999 => (2 + roll % 2, false),
        _ => (3 + roll % 2, false),
    };
    let syllables = (base + attempt as usize / 4).min(6);
    if attempt >= 8 {
        simple = false;
    }
    let mut word = [0u8; 16];
    let mut len = 0;
    let mut ends_in_vowel = false;
    for i in 0..syllables {
        let mut onset = if simple || (i > 0 && !ends_in_vowel) {
            SIMPLE_ONSETS[rng.below(SIMPLE_ONSETS.len())]
        } else {
            ONSETS[rng.below(ONSETS.len())]
        };
        // Two vowel groups in a row read badly ("aoo"): give the syllable a
        // consonant if the previous one ended in a vowel.
        if i > 0 && ends_in_vowel && onset.is_empty() {
            onset = SIMPLE_ONSETS[1 + rng.below(SIMPLE_ONSETS.len() - 1)];
        }
        let mut nucleus = if simple {
            SIMPLE_NUCLEI[rng.below(SIMPLE_NUCLEI.len())]
        } else {
            NUCLEI[rng.below(NUCLEI.len())]
        };
        if onset == "qu" && nucleus.starts_with('u') {
            nucleus = "a";
        }
        let coda = if simple {
            let coda = SIMPLE_CODAS[rng.below(SIMPLE_CODAS.len())];
            // Keep simple syllables to three letters ("the", "and").
            if onset.len() + nucleus.len() >= 3 {
                ""
            } else {
                coda
            }
        } else {
            CODAS[rng.below(CODAS.len())]
        };
        let size = onset.len() + nucleus.len() + coda.len();
        if i > 0 && len + size > MAX_WORD {
            break;
        }
        for part in [onset, nucleus, coda] {
            word[len..len + part.len()].copy_from_slice(part.as_bytes());
            len += part.len();
        }
        ends_in_vowel = matches!(word[len - 1], b'a' | b'e' | b'i' | b'o' | b'u' | b'y');
    }
    debug_assert!((1..=MAX_WORD).contains(&len));
    word[15] = len as u8;
    word
}

/// Writes one block: prose until fewer than [`MARGIN`] bytes are left, then
/// an exact fill ending in `'\n'`.
struct BlockGen<'a> {
    tables: &'a Tables,
    rng: Xoshiro256,
    buf: &'a mut [u8],
    pos: usize,
    line_left: u32,
    sentence_left: u32,
    capitalise: bool,
}

impl<'a> BlockGen<'a> {
    fn new(tables: &'a Tables, mut rng: Xoshiro256, buf: &'a mut [u8]) -> BlockGen<'a> {
        let r = rng.next_u64();
        BlockGen {
            tables,
            rng,
            buf,
            pos: 0,
            line_left: line_words(r),
            sentence_left: sentence_words(r),
            capitalise: true,
        }
    }

    /// Fills `buf[..len]`; `buf` must have [`SLACK`] bytes more.
    fn fill(mut self, len: usize) {
        debug_assert!(len >= 1 && self.buf.len() == len + SLACK);
        while len - self.pos >= MARGIN {
            self.token();
        }
        self.fill_tail(len);
    }

    /// Writes one word or number with its punctuation and separator.
    #[inline]
    fn token(&mut self) {
        let events = self.rng.next_u64();
        if self.capitalise {
            let rank = self.tables.sample(self.rng.next_u64());
            self.put_word(rank);
        } else if events & 0xff < NUMBER_CHANCE {
            self.put_number(events);
        } else {
            let rank = self.tables.sample(self.rng.next_u64());
            self.put_word(rank);
        }
        self.sentence_left -= 1;
        if self.sentence_left == 0 {
            self.buf[self.pos] = match (events >> 8) & 0x1f {
                0 => b'?',
                1 => b'!',
                _ => b'.',
            };
            self.pos += 1;
            self.sentence_left = sentence_words(events);
            self.capitalise = true;
        } else if (events >> 16) & 0xff < COMMA_CHANCE {
            self.buf[self.pos] = b',';
            self.pos += 1;
        }
        self.line_left -= 1;
        if self.line_left == 0 {
            self.buf[self.pos] = b'\n';
            self.line_left = line_words(events);
        } else {
            self.buf[self.pos] = b' ';
        }
        self.pos += 1;
    }

    /// Copies the word of `rank`, capitalised at the start of a sentence.
    #[inline]
    fn put_word(&mut self, rank: usize) {
        let word = &self.tables.words[rank];
        self.buf[self.pos..self.pos + 16].copy_from_slice(word);
        if self.capitalise {
            self.buf[self.pos].make_ascii_uppercase();
            self.capitalise = false;
        }
        self.pos += usize::from(word[15]);
    }

    /// Writes a number: mostly small counts, some years, a few large ones.
    fn put_number(&mut self, events: u64) {
        let r = self.rng.next_u64();
        let value = match (events >> 48) & 3 {
            0 | 1 => 1 + r % 99,
            2 => 1800 + r % 300,
            _ => 1 + r % 999_999,
        };
        let mut digits = [0u8; 20];
        let mut start = digits.len();
        let mut rest = value;
        loop {
            start -= 1;
            digits[start] = b'0' + (rest % 10) as u8;
            rest /= 10;
            if rest == 0 {
                break;
            }
        }
        let digits = &digits[start..];
        self.buf[self.pos..self.pos + digits.len()].copy_from_slice(digits);
        self.pos += digits.len();
    }

    /// Fills `buf[pos..len]` exactly with words and a final `'\n'`.
    ///
    /// Words are drawn as usual and kept while they leave room for at least
    /// one more letter; when the room left is too small, the most frequent
    /// word of exactly the right length ends the line. Only when the
    /// vocabulary has no such word is a word cut short or given an `s`.
    fn fill_tail(&mut self, len: usize) {
        let mut room = len - self.pos - 1;
        while room > 0 {
            let mut rank = 0;
            let mut fits = false;
            for _ in 0..8 {
                rank = self.tables.sample(self.rng.next_u64());
                let size = usize::from(self.tables.words[rank][15]);
                if size == room || size + 2 <= room {
                    fits = true;
                    break;
                }
            }
            if !fits {
                if let Some(exact) = self.tables.by_len.get(room).copied().flatten() {
                    rank = exact as usize;
                    fits = true;
                }
            }
            let size = usize::from(self.tables.words[rank][15]);
            self.put_word(rank);
            if fits {
                room -= size;
                if room > 0 {
                    self.buf[self.pos] = b' ';
                    self.pos += 1;
                    room -= 1;
                }
            } else if size > room {
                // Cut the word: step back over the letters that overflow.
                self.pos -= size - room;
                room = 0;
            } else {
                // size == room - 1: a plural fills the last byte.
                self.buf[self.pos] = b's';
                self.pos += 1;
                room = 0;
            }
        }
        self.buf[self.pos] = b'\n';
        self.pos += 1;
        debug_assert_eq!(self.pos, len);
    }
}

/// Words in a line, 8 to 16, from bits 40..48 of `r`.
fn line_words(r: u64) -> u32 {
    8 + ((((r >> 40) & 0xff) * 9) >> 8) as u32
}

/// Words in a sentence, 3 to 21 with a mean of 12, from bits 24..40 of `r`.
fn sentence_words(r: u64) -> u32 {
    let a = (((r >> 24) & 0xff) * 10) >> 8;
    let b = (((r >> 32) & 0xff) * 10) >> 8;
    (3 + a + b) as u32
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn corpus(config: &CorpusConfig, bytes: u64) -> Vec<u8> {
        let mut out = Vec::new();
        config
            .write_corpus(bytes, &mut out)
            .expect("writing to a vec");
        out
    }

    /// Lowercased words, with punctuation stripped and numbers skipped.
    fn word_counts(text: &[u8]) -> HashMap<Vec<u8>, u64> {
        let mut counts = HashMap::new();
        for token in text.split(|b| b.is_ascii_whitespace()) {
            let word: Vec<u8> = token
                .iter()
                .filter(|b| b.is_ascii_alphabetic())
                .map(u8::to_ascii_lowercase)
                .collect();
            if !word.is_empty() {
                *counts.entry(word).or_insert(0) += 1;
            }
        }
        counts
    }

    #[test]
    fn same_config_gives_same_bytes() {
        let config = CorpusConfig::default();
        let size = 2 * BLOCK as u64 + 777;
        assert_eq!(corpus(&config, size), corpus(&config, size));
    }

    #[test]
    fn different_seed_gives_different_bytes() {
        let a = corpus(&CorpusConfig::default(), 100_000);
        let b = corpus(
            &CorpusConfig {
                seed: 43,
                ..Default::default()
            },
            100_000,
        );
        assert_ne!(a, b);
    }

    #[test]
    fn blocks_differ_from_each_other() {
        let text = corpus(&CorpusConfig::default(), 2 * BLOCK as u64);
        assert_ne!(text[..4096], text[BLOCK..BLOCK + 4096]);
    }

    #[test]
    fn shorter_output_matches_longer_but_for_its_end() {
        let config = CorpusConfig::default();
        let long = corpus(&config, 2 * BLOCK as u64 + 7);
        for size in [64, 100, 5000, BLOCK + 300, 2 * BLOCK] {
            let short = corpus(&config, size as u64);
            let same = size - 64;
            assert_eq!(short[..same], long[..same], "size {size}");
        }
    }

    #[test]
    fn output_does_not_depend_on_thread_count() {
        let config = CorpusConfig::default();
        let size = 5 * BLOCK as u64 / 2;
        let with = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("building a pool")
                .install(|| corpus(&config, size))
        };
        let one = with(1);
        assert_eq!(one, with(3));
        assert_eq!(one, corpus(&config, size));
    }

    #[test]
    fn exact_lengths() {
        let config = CorpusConfig::default();
        let b = BLOCK as u64;
        let sizes = [
            0,
            1,
            2,
            3,
            5,
            13,
            14,
            15,
            63,
            64,
            65,
            100,
            1000,
            4096,
            b - 1,
            b,
            b + 1,
            2 * b + 12_345,
        ];
        for size in sizes {
            let text = corpus(&config, size);
            assert_eq!(text.len() as u64, size, "size {size}");
            assert!(text.is_ascii(), "size {size}");
            if size > 0 {
                assert_eq!(text.last(), Some(&b'\n'), "size {size}");
            }
            assert!(!text.contains(&b'\r'));
        }
    }

    #[test]
    fn every_small_size_ends_in_newline() {
        // A small vocabulary keeps the 200 table builds cheap.
        let config = CorpusConfig {
            vocabulary: 1000,
            ..Default::default()
        };
        for size in 1..200 {
            let text = corpus(&config, size);
            assert_eq!(text.len() as u64, size);
            assert_eq!(text.last(), Some(&b'\n'));
        }
    }

    #[test]
    fn tiny_vocabularies_still_fill_exactly() {
        for vocabulary in [1, 2, 3, 10] {
            let config = CorpusConfig {
                vocabulary,
                ..Default::default()
            };
            for size in [1, 2, 3, 4, 5, 17, 70, 5000] {
                let text = corpus(&config, size);
                assert_eq!(text.len() as u64, size);
                assert_eq!(text.last(), Some(&b'\n'));
            }
        }
    }

    #[test]
    fn bad_config_is_rejected_before_writing() {
        let bad = [
            CorpusConfig {
                vocabulary: 0,
                ..Default::default()
            },
            CorpusConfig {
                vocabulary: MAX_VOCABULARY + 1,
                ..Default::default()
            },
            CorpusConfig {
                zipf_exponent: -1.0,
                ..Default::default()
            },
            CorpusConfig {
                zipf_exponent: f64::NAN,
                ..Default::default()
            },
            CorpusConfig {
                zipf_exponent: f64::INFINITY,
                ..Default::default()
            },
        ];
        for config in bad {
            let mut out = Vec::new();
            let err = config.write_corpus(100, &mut out).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
            assert!(out.is_empty());
        }
    }

    #[test]
    fn text_has_the_right_shape() {
        let text = corpus(&CorpusConfig::default(), 1 << 20);
        let lines: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
        // Skip the cut last line and the empty piece after the final '\n'.
        for line in &lines[..lines.len() - 2] {
            let words = line.split(|&b| b == b' ').count();
            assert!((8..=16).contains(&words), "{words} words in a line");
            assert!(!line.starts_with(b" ") && !line.ends_with(b" "));
        }
        assert!(text[0].is_ascii_uppercase());
        let count = |c: u8| text.iter().filter(|&&b| b == c).count();
        let (dots, commas) = (count(b'.'), count(b','));
        assert!(dots > 1000 && commas > 1000);
        assert!(count(b'?') > 10 && count(b'!') > 10);
        assert!(count(b'?') < dots / 4);
        assert!(text.iter().any(u8::is_ascii_digit));
        // After every full stop comes a capitalised word.
        for w in text.windows(3) {
            if w[0] == b'.' {
                assert!(w[1] == b' ' || w[1] == b'\n');
                assert!(w[2].is_ascii_uppercase() || w[2] == b'\n');
            }
        }
    }

    #[test]
    fn vocabulary_is_distinct_and_english_sized() {
        let words = build_vocabulary(100_000);
        let distinct: HashSet<&[u8; 16]> = words.iter().collect();
        assert_eq!(distinct.len(), words.len());
        for word in &words {
            let len = usize::from(word[15]);
            assert!((1..=MAX_WORD).contains(&len));
            assert!(word[..len].iter().all(u8::is_ascii_lowercase));
        }
        assert!(words[..40].iter().all(|w| w[15] <= 3));
        let mean =
            |ws: &[[u8; 16]]| ws.iter().map(|w| f64::from(w[15])).sum::<f64>() / ws.len() as f64;
        assert!(mean(&words[..100]) < 4.0);
        assert!(mean(&words[50_000..]) > 6.0);
    }

    #[test]
    fn vocabulary_does_not_depend_on_seed_or_size() {
        assert_eq!(build_vocabulary(1000)[..], build_vocabulary(3000)[..1000]);
    }

    #[test]
    fn word_frequencies_are_zipf_like() {
        let text = corpus(&CorpusConfig::default(), 5 << 20);
        let counts = word_counts(&text);
        let mut freq: Vec<u64> = counts.values().copied().collect();
        freq.sort_unstable_by(|a, b| b.cmp(a));
        // Zipf with s = 1.1 predicts a ratio of 100^1.1, about 158.
        assert!(freq[0] > 40 * freq[99], "{} vs {}", freq[0], freq[99]);
        assert!(freq[0] < 1000 * freq[99], "{} vs {}", freq[0], freq[99]);
        let distinct = counts.len();
        assert!(
            (30_000..=100_000).contains(&distinct),
            "{distinct} distinct"
        );
    }

    #[test]
    fn zero_exponent_is_uniform() {
        let config = CorpusConfig {
            vocabulary: 100,
            zipf_exponent: 0.0,
            ..Default::default()
        };
        let counts = word_counts(&corpus(&config, 1 << 20));
        let (min, max) = counts
            .values()
            .fold((u64::MAX, 0), |(lo, hi), &c| (lo.min(c), hi.max(c)));
        assert_eq!(counts.len(), 100);
        assert!(max < 2 * min, "{min} to {max}");
    }

    #[test]
    fn alias_table_matches_weights() {
        let tables = Tables::new(&CorpusConfig {
            vocabulary: 1000,
            ..Default::default()
        })
        .expect("valid config");
        let mut rng = Xoshiro256::new(1);
        let mut hits = vec![0u32; 1000];
        let draws = 2_000_000;
        for _ in 0..draws {
            hits[tables.sample(rng.next_u64())] += 1;
        }
        let h: f64 = (1..=1000).map(|r| (r as f64).powf(-1.1)).sum();
        for rank in [0usize, 1, 9] {
            let expected = draws as f64 * ((rank + 1) as f64).powf(-1.1) / h;
            let got = f64::from(hits[rank]);
            assert!((got - expected).abs() < 0.02 * expected, "rank {rank}");
        }
    }

    #[test]
    fn deterministic_math_is_accurate() {
        for x in [1.0f64, 2.0, 3.0, 10.0, 12_345.0, 1e7, 1e300] {
            assert!((det_ln(x) - x.ln()).abs() <= 1e-14 * x.ln().max(1.0));
        }
        for y in [0.0f64, -1e-3, -0.5, -1.0, -10.0, -100.0, -700.0] {
            let want = y.exp();
            assert!((det_exp(y) - want).abs() <= 1e-14 * want, "{y}");
        }
        assert_eq!(det_exp(0.0), 1.0);
        assert_eq!(det_exp(-1000.0), 0.0);
        assert!(det_exp(-740.0) > 0.0);
    }

    #[test]
    fn parse_size_accepts_good_input() {
        let cases: &[(&str, u64)] = &[
            ("0", 0),
            ("4096", 4096),
            ("512K", 512 << 10),
            ("512k", 512 << 10),
            ("100M", 100 << 20),
            ("1G", 1 << 30),
            ("1.5G", 3 << 29),
            ("2T", 2 << 40),
            ("10KB", 10 << 10),
            ("10kib", 10 << 10),
            ("3MB", 3 << 20),
            ("3MiB", 3 << 20),
            ("7gb", 7 << 30),
            ("7GiB", 7 << 30),
            ("12b", 12),
            (" 64 K ", 64 << 10),
            ("0.5k", 512),
            ("1.0009765625K", 1025),
            ("0.1K", 102),
            ("18446744073709551615", u64::MAX),
            // 2^-40 T is exactly one byte; it needs all 40 decimals.
            ("0.0000000000009094947017729282379150390625T", 1),
            ("0.0000000000009094947017729282379150390624T", 0),
            ("1.99999999999999999999999999999999999999999999b", 1),
            ("15.99999999999999G", (16 << 30) - 1),
        ];
        for &(text, want) in cases {
            assert_eq!(parse_size(text), Ok(want), "{text:?}");
        }
    }

    #[test]
    fn parse_size_rejects_bad_input() {
        let cases = [
            "",
            "  ",
            "G",
            "abc",
            "-1",
            "1.",
            ".5G",
            "1..5G",
            "1.5.2G",
            "1X",
            "1 G B",
            "1e9",
            "+5",
            "16777216T",
            "18446744073709551616",
            "99999999999999999999999M",
        ];
        for text in cases {
            let err = parse_size(text).expect_err(text);
            assert!(err.starts_with(|c: char| c.is_ascii_lowercase()), "{err}");
        }
    }
}
