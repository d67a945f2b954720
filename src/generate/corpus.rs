//! The text corpus: [`CorpusConfig`], its tables, and the writer of one
//! block of prose.

use std::io::{self, Write};

use rayon::prelude::*;

use super::invalid;
use super::random::{alias_sample, block_seed, build_alias, Xoshiro256};
use super::vocabulary::{build_vocabulary, MAX_WORD};

/// Bytes per independently seeded block.
const BLOCK: usize = 1 << 20;

/// Spare bytes after each block buffer, so that a word can always be copied
/// as a whole 16-byte slot.
const SLACK: usize = 16;

/// The main loop stops when fewer bytes than this are left in a block; the
/// rest is filled exactly by [`BlockGen::fill_tail`]. It must exceed the
/// longest token (12-letter word, punctuation and separator).
const MARGIN: usize = 64;

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
}
