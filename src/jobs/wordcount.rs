//! Word count: the engine's reference job and the CLI's main command.
//!
//! A word is, by default, a maximal run of characters for which
//! [`char::is_alphanumeric`] holds, lowercased with [`str::to_lowercase`]
//! applied to the whole word (so a Greek final sigma comes out right). With
//! [`WordSplit::Whitespace`], a word is a maximal run of characters that are
//! not [`char::is_whitespace`], punctuation kept. Bytes that are not valid
//! UTF-8 separate words in the default mode; with
//! [`WordSplit::Whitespace`] they belong to the word, as with `tr`, the
//! countwords benchmark and Hadoop's tokenizer, and are kept as they are
//! while the valid pieces around them are lowercased. Nothing panics on
//! any input.
//!
//! The scanner classifies ASCII text 64 bytes at a time into bit masks and
//! finds the block's words with bit operations (see `scan`); a block
//! holding a byte of 0x80 or more goes byte by byte, through a 256-entry
//! class table and a UTF-8 decoder for each character outside ASCII. Words
//! of up to 15 ASCII bytes are counted in per-thread tables of packed
//! integers; the others are emitted as [`Word`]s, which hold short words
//! inline and borrow long ones from the input, lowercased into a reused
//! buffer where they must be.

use std::borrow::Cow;
use std::cell::RefCell;

use crate::error::{BoxError, Error};
use crate::input::Inputs;
use crate::job::Job;
use crate::map::{Emit, Mapper, RunId};

use super::blocks::{self, Class, BLOCK};
use super::count_table::{self, CountTable, Long, Short};
pub use super::word::Word;

/// What separates words.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum WordSplit {
    /// A word is a maximal run of alphanumeric characters
    /// ([`char::is_alphanumeric`]); bytes that are not valid UTF-8
    /// separate words. The default.
    #[default]
    Alphanumeric,
    /// A word is a maximal run of bytes that are not whitespace characters
    /// ([`char::is_whitespace`]), punctuation kept, as Hadoop's WordCount
    /// and the countwords benchmark split: bytes that are not valid UTF-8
    /// are part of the word and kept as they are. Lowercasing applies to
    /// each valid piece of such a word on its own (`str::to_lowercase`).
    ///
    /// ```
    /// use mr_local::jobs::wordcount::{WordCount, WordSplit};
    ///
    /// let words = WordCount { split: WordSplit::Whitespace, case_sensitive: false };
    /// let mut found = Vec::new();
    /// words.for_each_word(b"Fa\xe7ade caf\xe9", |w| found.push(w.into_owned()));
    /// assert_eq!(found, [&b"fa\xe7ade"[..], b"caf\xe9"]);
    /// ```
    Whitespace,
}

/// The word-count job: a [`Mapper`] that emits `(word, 1)` per word.
///
/// # Example
///
/// ```
/// use mr_local::jobs::wordcount::{count_words, WordCount};
/// use mr_local::{Inputs, Job};
///
/// let mut inputs = Inputs::new();
/// inputs.push_bytes("text", "The cat; the CAT!\n");
/// let job = Job::builder().build()?;
/// let counts = count_words(&job, &inputs, &WordCount::default())?;
/// let counts: Vec<(&[u8], u64)> = counts.iter().map(|(w, n)| (w.as_bytes(), *n)).collect();
/// assert_eq!(counts, [(&b"cat"[..], 2), (b"the", 2)]);
/// # Ok::<(), mr_local::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WordCount {
    /// What separates words. By default, [`WordSplit::Alphanumeric`].
    pub split: WordSplit,
    /// Keep case instead of lowercasing. By default words are lowercased.
    pub case_sensitive: bool,
}

impl<'d> Mapper<'d> for WordCount {
    type Key = Word<'d>;
    type Value = u64;

    fn map(&self, record: &'d [u8], out: &mut Emit<'_, Word<'d>, u64>) -> Result<(), BoxError> {
        self.count(record, out);
        Ok(())
    }

    /// Newlines separate words in every mode, so a split is scanned in one
    /// pass rather than line by line.
    fn map_split(
        &self,
        split: &'d [u8],
        out: &mut Emit<'_, Word<'d>, u64>,
    ) -> Result<(), BoxError> {
        self.count(split, out);
        Ok(())
    }

    fn finish_thread(&self, out: &mut Emit<'_, Word<'d>, u64>) -> Result<(), BoxError> {
        THREAD_TABLE.with(|cell| {
            if let Ok(mut state) = cell.try_borrow_mut() {
                // Freed, not kept for the next run: reduce needs the memory.
                if let Some((owner, mut table)) = state.take() {
                    if owner == out.run() {
                        drain(&mut table, out);
                    }
                }
            }
        });
        Ok(())
    }
}

impl WordCount {
    /// Calls `each` with every word of `text`, before lowercasing, and
    /// whether it holds an uppercase ASCII letter or any non-ASCII
    /// character.
    pub fn for_each_raw_word<'t>(&self, text: &'t [u8], mut each: impl FnMut(&'t [u8], Shape)) {
        self.scan(text, |start, end, shape| each(&text[start..end], shape));
    }

    /// Scans `text`, returning its number of newlines.
    #[inline]
    fn scan(&self, text: &[u8], each: impl FnMut(usize, usize, Shape)) -> u64 {
        match self.split {
            WordSplit::Alphanumeric => scan::<false>(
                text,
                Class::Alphanumeric,
                &ALPHANUMERIC,
                alphanumeric,
                char::is_alphanumeric,
                each,
            ),
            WordSplit::Whitespace => scan::<true>(
                text,
                Class::NonWhitespace,
                &NON_WHITESPACE,
                non_whitespace,
                |c| !c.is_whitespace(),
                each,
            ),
        }
    }

    /// Calls `each` with every word of `text` as it is counted: lowercased
    /// unless the job is case sensitive.
    ///
    /// # Example
    ///
    /// ```
    /// use mr_local::jobs::wordcount::WordCount;
    ///
    /// let mut words = Vec::new();
    /// WordCount::default().for_each_word("ΟΔΟΣ, Straße!".as_bytes(), |w| words.push(w.into_owned()));
    /// assert_eq!(words, ["οδος".as_bytes(), "straße".as_bytes()]);
    /// ```
    pub fn for_each_word<'t>(&self, text: &'t [u8], mut each: impl FnMut(Cow<'t, [u8]>)) {
        let mut lower = LowerBuf::default();
        self.for_each_raw_word(text, |word, shape| {
            match self.fold_case(word, shape, &mut lower) {
                Folded::Same => each(Cow::Borrowed(word)),
                Folded::Into(bytes) => each(Cow::Owned(bytes.to_vec())),
            }
        });
    }

    /// Counts the words of `text` into `out`.
    ///
    /// Short words that are ASCII (nearly all of them) are counted in this
    /// thread's counting tables, kept for the whole map phase and emitted
    /// once per distinct word by [`Mapper::finish_thread`]; the others are
    /// emitted one by one.
    fn count<'d>(&self, text: &'d [u8], out: &mut Emit<'_, Word<'d>, u64>) {
        if !out.finishes_thread() {
            return self.count_alone(text, out);
        }
        let run = out.run();
        THREAD_TABLE.with(|cell| match cell.try_borrow_mut() {
            Ok(mut state) => {
                if state.as_ref().is_some_and(|(owner, _)| *owner != run) {
                    // Left by a run that failed before its end.
                    *state = None;
                }
                let (_, table) = state.get_or_insert_with(|| (run, Tables::new(table_bytes(out))));
                self.count_into(text, table, out);
            }
            // Only if a map call on this thread is already counting.
            Err(_) => self.count_alone(text, out),
        });
    }

    /// Counts `text` with a table of its own, emptied before returning.
    fn count_alone<'d>(&self, text: &'d [u8], out: &mut Emit<'_, Word<'d>, u64>) {
        let mut table = Tables::new(table_bytes(out));
        self.count_into(text, &mut table, out);
        drain(&mut table, out);
    }

    fn count_into<'d>(
        &self,
        text: &'d [u8],
        table: &mut Tables,
        out: &mut Emit<'_, Word<'d>, u64>,
    ) {
        let mut lower = LowerBuf::default();
        // Inlined by force: the compiler's heuristics would otherwise call
        // it, at a cost of 10% of the whole count.
        let newlines = self.scan(
            text,
            #[inline(always)]
            |start, end, shape| {
                let len = end - start;
                if shape == Shape::Unicode || len > count_table::MAX_LEN {
                    return self.emit_one(&text[start..end], shape, &mut lower, out);
                }
                // Lowercasing a packed word costs a few arithmetic operations,
                // less than a branch on its shape that mispredicts.
                let fold = !self.case_sensitive;
                // A table full at its largest size is handed on at once,
                // where the memory budget applies.
                if len <= count_table::SHORT_LEN {
                    let word = count_table::pack_short(text, start, len);
                    let word = if fold { word.ascii_lowercase() } else { word };
                    if table.short.add(word) {
                        drain_one(&mut table.short, out);
                    }
                } else {
                    let word = count_table::pack(text, start, len);
                    let word = if fold { word.ascii_lowercase() } else { word };
                    if table.long.add(word) {
                        drain_one(&mut table.long, out);
                    }
                }
            },
        );
        // Records are lines; the last one may lack its newline.
        let unterminated = text.last().is_some_and(|&b| b != b'\n');
        out.count_records(newlines + u64::from(unterminated));
    }

    /// The general path, for words too long for the table or not ASCII:
    /// kept out of line so the scanner's loop stays small.
    #[cold]
    #[inline(never)]
    fn emit_one<'d>(
        &self,
        word: &'d [u8],
        shape: Shape,
        lower: &mut LowerBuf,
        out: &mut Emit<'_, Word<'d>, u64>,
    ) {
        match self.fold_case(word, shape, lower) {
            Folded::Same => out.emit(Word::borrowed(word), 1),
            Folded::Into(bytes) => out.emit(Word::copied(bytes), 1),
        }
    }

    #[inline]
    fn fold_case<'b>(&self, word: &[u8], shape: Shape, lower: &'b mut LowerBuf) -> Folded<'b> {
        if self.case_sensitive || shape == Shape::Lower {
            return Folded::Same;
        }
        if shape == Shape::AsciiUpper {
            return Folded::Into(lower.ascii(word));
        }
        // Only a word of the whitespace split holds bytes that are not
        // UTF-8: its valid pieces are lowercased one by one.
        let Ok(text) = std::str::from_utf8(word) else {
            return lower.pieces(word);
        };
        if !text.chars().any(changes_when_lowercased) {
            return Folded::Same;
        }
        lower.unicode = text.to_lowercase();
        Folded::Into(lower.unicode.as_bytes())
    }
}

/// The most memory a thread's tables take: an eighth of the thread's share
/// of the memory budget, within these bounds. A table full at its size is
/// emitted and emptied (see [`CountTable::add`]), so a huge vocabulary
/// costs more pairs to reduce, never more memory.
const MIN_TABLE_BYTES: usize = 256 << 10;
const MAX_TABLE_BYTES: usize = 32 << 20;

/// The bytes a thread's tables may take in the run `out` belongs to.
fn table_bytes(out: &Emit<'_, Word<'_>, u64>) -> usize {
    (out.memory_share() / 8).clamp(MIN_TABLE_BYTES, MAX_TABLE_BYTES)
}

thread_local! {
    /// Each pool thread's word table, with the run it belongs to.
    static THREAD_TABLE: RefCell<Option<(RunId, Tables)>> = const { RefCell::new(None) };
}

/// The counting tables: one for short words, with smaller slots, and one
/// for the others up to [`count_table::MAX_LEN`] bytes.
struct Tables {
    short: CountTable<Short>,
    long: CountTable<Long>,
}

impl Tables {
    /// Tables that take at most `bytes` together.
    fn new(bytes: usize) -> Tables {
        Tables {
            short: CountTable::with_max_bytes(bytes / 2),
            long: CountTable::with_max_bytes(bytes / 2),
        }
    }
}

/// Emits every word of a full `table` with its count, emptying it.
#[cold]
#[inline(never)]
fn drain_one<'d, K: count_table::Packed>(
    table: &mut CountTable<K>,
    out: &mut Emit<'_, Word<'d>, u64>,
) {
    table.drain(|word, n| out.emit_folded(Word::copied(word), n, n));
}

/// Emits every word of `tables` with its count, emptying them.
fn drain<'d>(tables: &mut Tables, out: &mut Emit<'_, Word<'d>, u64>) {
    let mut emit = |word: &[u8], n| out.emit_folded(Word::copied(word), n, n);
    tables.short.drain(&mut emit);
    tables.long.drain(&mut emit);
}

/// Counts the words of `inputs` and returns them by count descending, ties
/// by word ascending (bytewise).
///
/// # Errors
///
/// None today: word count's mapper never fails. The `Result` is there for
/// the engine's errors to come.
pub fn count_words<'d>(
    job: &Job,
    inputs: &'d Inputs,
    words: &WordCount,
) -> Result<Vec<(Word<'d>, u64)>, Error> {
    let mut counts = job
        .map_with(inputs, words)
        .spill()
        .streamed()
        .fold(crate::jobs::add_count)?
        .into_vec();
    job.par_sort_by(&mut counts, |a, b| {
        b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0))
    });
    Ok(counts)
}

/// What a raw word needs before it can be counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// ASCII with no uppercase letter: counted as it is.
    Lower,
    /// ASCII with an uppercase letter.
    AsciiUpper,
    /// Holds a character outside ASCII.
    Unicode,
}

enum Folded<'b> {
    Same,
    Into(&'b [u8]),
}

/// Scratch space for lowercased words, reused across a split.
#[derive(Default)]
struct LowerBuf {
    ascii: Vec<u8>,
    unicode: String,
    pieces: Vec<u8>,
}

impl LowerBuf {
    #[inline]
    fn ascii(&mut self, word: &[u8]) -> &[u8] {
        self.ascii.clear();
        self.ascii.extend(word.iter().map(u8::to_ascii_lowercase));
        &self.ascii
    }

    /// `word` with each of its valid UTF-8 pieces lowercased on its own,
    /// the bytes between them kept.
    #[cold]
    fn pieces(&mut self, word: &[u8]) -> Folded<'_> {
        self.pieces.clear();
        for chunk in word.utf8_chunks() {
            let valid = chunk.valid();
            if valid.chars().any(changes_when_lowercased) {
                self.pieces
                    .extend_from_slice(valid.to_lowercase().as_bytes());
            } else {
                self.pieces.extend_from_slice(valid.as_bytes());
            }
            self.pieces.extend_from_slice(chunk.invalid());
        }
        Folded::Into(&self.pieces)
    }
}

fn changes_when_lowercased(c: char) -> bool {
    let mut lower = c.to_lowercase();
    !(lower.len() == 1 && lower.next() == Some(c))
}

/// Byte classes of the scanner's tables.
const SEP: u8 = 0;
const LOWER: u8 = 1;
const UPPER: u8 = 2;
const HIGH: u8 = 3;

/// Classes for [`WordSplit::Alphanumeric`].
static ALPHANUMERIC: [u8; 256] = class_table(false);
/// Classes for [`WordSplit::Whitespace`].
static NON_WHITESPACE: [u8; 256] = class_table(true);

const fn class_table(whitespace_split: bool) -> [u8; 256] {
    let mut table = [SEP; 256];
    let mut b = 0;
    while b < 256 {
        let byte = b as u8;
        table[b] = if byte >= 0x80 {
            HIGH
        } else if byte.is_ascii_uppercase() {
            UPPER
        } else if whitespace_split {
            // `char::is_whitespace` on ASCII: tab, LF, VT, FF, CR, space.
            // (Not `u8::is_ascii_whitespace`, which leaves out VT.)
            match byte {
                b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ' => SEP,
                _ => LOWER,
            }
        } else if byte.is_ascii_lowercase() || byte.is_ascii_digit() {
            LOWER
        } else {
            SEP
        };
        b += 1;
    }
    table
}

/// Calls `each` with the start, end and shape of every maximal run of word
/// characters in `text`, and returns the number of newlines in `text`.
///
/// The text goes by in blocks of 64 bytes. A block that is all ASCII
/// becomes bit masks (see [`blocks`]), whose words are found by bit
/// operations: a word starts at a word byte after a separator and ends at
/// a separator after a word byte, so the `k`th start of a block pairs with
/// its `k`th end, once any word left open by the blocks before is closed.
/// Blocks holding other bytes, and the last bytes of the text, go to
/// [`scan_bytes`], with the same `table`, `classify` and `is_word_char`
/// (which must agree with `class` on ASCII), and `INVALID_IN_WORDS`.
#[inline(always)]
fn scan<const INVALID_IN_WORDS: bool>(
    text: &[u8],
    class: Class,
    table: &[u8; 256],
    classify: impl Fn(u64) -> Swar + Copy,
    is_word_char: impl Fn(char) -> bool + Copy,
    mut each: impl FnMut(usize, usize, Shape),
) -> u64 {
    let mut newlines = 0;
    let mut i = 0;
    // A word running on past the blocks seen so far: its start, and
    // whether it has an uppercase letter so far.
    let mut open: Option<(usize, bool)> = None;
    while let Some(block) = text.get(i..i + BLOCK) {
        // The hardware's prefetcher stops at each 4 KiB page of a mapped
        // file, whose next page may lie anywhere: ask for the text ahead.
        if let Some(ahead) = text.get(i + PREFETCH_AHEAD) {
            blocks::prefetch(ahead);
        }
        let masks = blocks::classify(block.try_into().expect("a block"), class);
        if masks.high != 0 {
            // The byte-by-byte path takes this block, from the start of a
            // word running into it to the first separator after it, so no
            // word crosses the place where blocks resume.
            let from = open.take().map_or(i, |(start, _)| start);
            let to = text[i + BLOCK..]
                .iter()
                .position(|&b| table[b as usize] == SEP)
                .map_or(text.len(), |k| i + BLOCK + k);
            newlines += scan_bytes::<INVALID_IN_WORDS>(
                &text[from..to],
                table,
                classify,
                is_word_char,
                |s, e, shape| each(from + s, from + e, shape),
            );
            i = to;
            continue;
        }
        newlines += ones(masks.newline);
        // Bit k: byte k - 1 (of this block or the one before) is a word byte.
        let after_word = (masks.word << 1) | u64::from(open.is_some());
        let mut starts = masks.word & !after_word;
        let mut ends = !masks.word & after_word;
        if let Some((start, upper)) = open {
            if ends == 0 {
                open = Some((start, upper || masks.upper != 0));
                i += BLOCK;
                continue;
            }
            let end = ends.trailing_zeros();
            ends &= ends - 1;
            let upper = upper || masks.upper & ((1 << end) - 1) != 0;
            each(start, i + end as usize, ascii_shape(upper));
            open = None;
        }
        while starts != 0 {
            let start = starts.trailing_zeros();
            starts &= starts - 1;
            if ends == 0 {
                open = Some((i + start as usize, masks.upper >> start != 0));
                break;
            }
            let end = ends.trailing_zeros();
            ends &= ends - 1;
            let inside = (1u64 << end) - (1u64 << start);
            each(
                i + start as usize,
                i + end as usize,
                ascii_shape(masks.upper & inside != 0),
            );
        }
        i += BLOCK;
    }
    // The last bytes, from the start of a word still open.
    let from = open.map_or(i, |(start, _)| start);
    newlines
        + scan_bytes::<INVALID_IN_WORDS>(
            &text[from..],
            table,
            classify,
            is_word_char,
            |s, e, shape| each(from + s, from + e, shape),
        )
}

/// How far ahead of the block being scanned [`scan`] prefetches the text.
const PREFETCH_AHEAD: usize = 1024;

#[inline(always)]
fn ascii_shape(upper: bool) -> Shape {
    if upper {
        Shape::AsciiUpper
    } else {
        Shape::Lower
    }
}

/// [`scan`] byte by byte, for text that is not ASCII and for short text.
///
/// Where eight bytes in a row are ASCII, they are classified at once by
/// `classify` (see [`Swar`]); elsewhere bytes below 0x80 are classified by
/// `table`, a character outside ASCII is decoded and judged by
/// `is_word_char`, and a byte that starts no valid UTF-8 character
/// separates words, or with `INVALID_IN_WORDS` is a word byte (making the
/// word's shape [`Shape::Unicode`]).
///
/// Kept out of line, so that `scan`'s loop over blocks stays small.
#[inline(never)]
fn scan_bytes<const INVALID_IN_WORDS: bool>(
    text: &[u8],
    table: &[u8; 256],
    classify: impl Fn(u64) -> Swar,
    is_word_char: impl Fn(char) -> bool,
    mut each: impl FnMut(usize, usize, Shape),
) -> u64 {
    let mut newlines = 0;
    let mut i = 0;
    while i < text.len() {
        // Skip separators, eight at a time while the text is ASCII.
        while let Some(x) = ascii_chunk(text, i) {
            let word = classify(x).word;
            let newline = in_range(x, b'\n', b'\n');
            if word != 0 {
                let skipped = word.trailing_zeros() as usize / 8;
                newlines += ones(newline & ((1u64 << (skipped * 8)) - 1));
                i += skipped;
                break;
            }
            newlines += ones(newline);
            i += 8;
        }
        if i >= text.len() {
            break;
        }
        match table[text[i] as usize] {
            SEP => {
                newlines += u64::from(text[i] == b'\n');
                i += 1;
                continue;
            }
            HIGH => match decode(&text[i..]) {
                Ok((c, _)) if is_word_char(c) => {}
                Ok((_, len)) => {
                    i += len;
                    continue;
                }
                Err(()) if INVALID_IN_WORDS => {}
                Err(()) => {
                    i += 1;
                    continue;
                }
            },
            _ => {}
        }
        let start = i;
        let mut class_seen = 0;
        loop {
            if let Some(x) = ascii_chunk(text, i) {
                let Swar { word, upper } = classify(x);
                let stop = !word & TOP_BITS;
                if stop == 0 {
                    class_seen |= if upper != 0 { UPPER } else { LOWER };
                    i += 8;
                    continue;
                }
                // The word ends at the first separator of the chunk.
                let inside = (stop.trailing_zeros() / 8) as usize;
                if upper & ((1u64 << (inside * 8)) - 1) != 0 {
                    class_seen |= UPPER;
                }
                i += inside;
                break;
            }
            let Some(&byte) = text.get(i) else { break };
            let class = table[byte as usize];
            if class == LOWER || class == UPPER {
                class_seen |= class;
                i += 1;
            } else if class == HIGH {
                match decode(&text[i..]) {
                    Ok((c, len)) if is_word_char(c) => {
                        class_seen |= HIGH;
                        i += len;
                    }
                    // One byte at a time: a valid character may start at
                    // the next one.
                    Err(()) if INVALID_IN_WORDS => {
                        class_seen |= HIGH;
                        i += 1;
                    }
                    _ => break,
                }
            } else {
                break;
            }
        }
        let shape = if class_seen & HIGH == HIGH {
            Shape::Unicode
        } else if class_seen & UPPER == UPPER {
            Shape::AsciiUpper
        } else {
            Shape::Lower
        };
        each(start, i, shape);
    }
    newlines
}

const ONES: u64 = 0x0101_0101_0101_0101;
const TOP_BITS: u64 = 0x8080_8080_8080_8080;

/// Eight bytes classified at once: the top bit of each byte of `word` is set
/// where that byte belongs to a word, and of `upper` where it is `A`..=`Z`.
#[derive(Clone, Copy)]
struct Swar {
    word: u64,
    upper: u64,
}

/// The number of set bits of `x`, which has few: newlines are rare, and
/// without the POPCNT instruction (not in baseline x86-64) `count_ones`
/// costs a dozen operations every time.
#[inline]
fn ones(mut x: u64) -> u64 {
    let mut n = 0;
    while x != 0 {
        x &= x - 1;
        n += 1;
    }
    n
}

/// The eight bytes at `i`, if there are eight and all are ASCII.
#[inline]
fn ascii_chunk(text: &[u8], i: usize) -> Option<u64> {
    let bytes = text.get(i..i + 8)?;
    let x = u64::from_le_bytes(bytes.try_into().ok()?);
    (x & TOP_BITS == 0).then_some(x)
}

/// Sets the top bit of each byte of `x` that lies in `lo..=hi`. Every byte
/// of `x` must be below 0x80, so no addition carries into the next byte.
#[inline]
fn in_range(x: u64, lo: u8, hi: u8) -> u64 {
    let at_least_lo = x.wrapping_add(ONES * (0x80 - u64::from(lo)));
    let above_hi = x.wrapping_add(ONES * (0x7f - u64::from(hi)));
    at_least_lo & !above_hi & TOP_BITS
}

/// [`WordSplit::Alphanumeric`] on eight ASCII bytes: `[0-9A-Za-z]`.
#[inline]
fn alphanumeric(x: u64) -> Swar {
    let upper = in_range(x, b'A', b'Z');
    Swar {
        word: in_range(x, b'0', b'9') | upper | in_range(x, b'a', b'z'),
        upper,
    }
}

/// [`WordSplit::Whitespace`] on eight ASCII bytes: anything but tab, LF,
/// VT, FF, CR and space.
#[inline]
fn non_whitespace(x: u64) -> Swar {
    let space = in_range(x, b'\t', b'\r') | in_range(x, b' ', b' ');
    Swar {
        word: !space & TOP_BITS,
        upper: in_range(x, b'A', b'Z'),
    }
}

/// Decodes the UTF-8 character at the start of `bytes` (whose first byte is
/// 0x80 or more), returning it with its length, or `Err` if the bytes there
/// are not a valid character.
///
/// On `Err` the caller skips one byte: the bytes after it are either
/// continuation bytes, which are invalid on their own too, or the start of
/// the next character, so every invalid sequence ends up as separators
/// exactly as `<[u8]>::utf8_chunks` would split it.
#[inline]
fn decode(bytes: &[u8]) -> Result<(char, usize), ()> {
    let (len, min, bits) = match bytes[0] {
        0xc2..=0xdf => (2, 0x80, bytes[0] & 0x1f),
        0xe0..=0xef => (3, 0x800, bytes[0] & 0x0f),
        0xf0..=0xf4 => (4, 0x1_0000, bytes[0] & 0x07),
        _ => return Err(()),
    };
    if bytes.len() < len {
        return Err(());
    }
    let mut code = u32::from(bits);
    for &b in &bytes[1..len] {
        if b & 0xc0 != 0x80 {
            return Err(());
        }
        code = (code << 6) | u32::from(b & 0x3f);
    }
    if code < min {
        return Err(()); // overlong
    }
    // Rejects surrogates and code points past U+10FFFF.
    char::from_u32(code).map(|c| (c, len)).ok_or(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::reference_words;

    fn words(wc: WordCount, text: &[u8]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        wc.for_each_word(text, |w| out.push(w.into_owned()));
        out
    }

    fn check(text: &[u8]) {
        for split in [WordSplit::Alphanumeric, WordSplit::Whitespace] {
            for case_sensitive in [false, true] {
                let wc = WordCount {
                    split,
                    case_sensitive,
                };
                assert_eq!(
                    words(wc, text),
                    reference_words(&wc, text),
                    "{wc:?} on {text:?}"
                );
            }
        }
    }

    #[test]
    fn eight_byte_classification_agrees_with_the_tables() {
        for (table, classify) in [
            (&ALPHANUMERIC, alphanumeric as fn(u64) -> Swar),
            (&NON_WHITESPACE, non_whitespace),
        ] {
            for start in (0u8..0x80).step_by(3) {
                let bytes: Vec<u8> = (0..8).map(|k| (start + k * 5) % 0x80).collect();
                let swar = classify(u64::from_le_bytes(bytes[..].try_into().unwrap()));
                for (k, &b) in bytes.iter().enumerate() {
                    let word = swar.word >> (k * 8 + 7) & 1 == 1;
                    let upper = swar.upper >> (k * 8 + 7) & 1 == 1;
                    assert_eq!(word, table[b as usize] != SEP, "byte {b:#x}");
                    assert_eq!(upper, b.is_ascii_uppercase(), "byte {b:#x}");
                }
            }
        }
    }

    #[test]
    fn words_across_eight_byte_chunks_at_every_offset() {
        let text =
            "Alphabetically, SEPARATED\twords;UPPER-lower 0123456789abcdefXYZ ünïcödé\x0bend é"
                .as_bytes();
        for start in 0..text.len() {
            check(&text[start..]);
            check(&text[..text.len() - start]);
        }
    }

    #[test]
    fn words_across_blocks_at_every_alignment() {
        // Words of every length from 1 to 70 between separators of one to
        // three bytes: words start, end and run on at every position of a
        // block.
        let mut ascii = Vec::new();
        for len in 1..=70 {
            ascii.extend((0..len).map(|k| b"aZ0q9Mx-"[(len + k) % 8]));
            ascii.extend_from_slice(&b" \n,\t. "[..1 + len % 3]);
        }
        // The same with characters outside ASCII (and a byte that is not
        // UTF-8) in some blocks, inside words and between them.
        let mut mixed = Vec::new();
        for (k, chunk) in ascii.chunks(50).enumerate() {
            mixed.extend_from_slice(chunk);
            let extra = ["é", "ΟΔΟΣ ", "\u{3000}", "x\u{a0}y", "\u{ff}\n"][k % 5];
            mixed.extend_from_slice(extra.as_bytes());
            if k == 7 {
                mixed.push(0xff);
            }
        }
        for offset in 0..=BLOCK {
            check(&ascii[offset..]);
            check(&mixed[offset..]);
        }
    }

    #[test]
    fn full_tables_are_emptied_as_they_fill_and_every_count_survives() {
        // 40,000 distinct words, each three times, short and long, in one
        // split: far more than tables of the smallest size hold (6,144
        // short words, 3,072 long ones).
        let text: String = (0..120_000u32)
            .map(|i| format!("{} w{:011} ", i % 40_000, i % 40_000))
            .collect();
        let mut inputs = Inputs::new();
        inputs.push_bytes("text", text);
        let job = Job::builder().threads(1).memory(1 << 16).build().unwrap();
        let output = job
            .map_reduce_with(&inputs, &WordCount::default(), |a, b| *a += b)
            .unwrap();
        assert_eq!(output.counters().distinct_keys, 80_000);
        assert!(output.into_vec().iter().all(|(_, n)| *n == 3));
    }

    #[test]
    fn counters_count_lines_and_words() {
        // Six lines and fourteen words, three times; the very last line has
        // no newline.
        let unit = "one two\nThree\n\nfour  five six seven eight nine ten eleven\nünï\nlast line";
        let text = [unit, unit, unit].join("\n");
        let mut inputs = Inputs::new();
        inputs.push_bytes("text", text.clone());
        for threads in [1, 2] {
            let job = Job::builder()
                .threads(threads)
                .split_size(16)
                .build()
                .unwrap();
            let output = job
                .map_reduce_with(&inputs, &WordCount::default(), |a, b| *a += b)
                .unwrap();
            let counters = output.counters();
            assert_eq!(counters.records, 18);
            assert_eq!(counters.map_output_records, 3 * 14);
            assert_eq!(counters.distinct_keys, 14);
            assert_eq!(counters.input_bytes, text.len() as u64);
        }
    }

    #[test]
    fn ascii_words_and_separators() {
        assert_eq!(
            words(WordCount::default(), b"Hello, world! 42nd"),
            [&b"hello"[..], b"world", b"42nd"]
        );
        let ws = WordCount {
            split: WordSplit::Whitespace,
            case_sensitive: false,
        };
        assert_eq!(
            words(ws, b"Hello, world!\x0bnext\r\n"),
            [&b"hello,"[..], b"world!", b"next"]
        );
        check(b"Hello, world! 42nd\r\nLine two\x0bVT\x0cFF\t\0nul");
    }

    #[test]
    fn unicode_words_follow_the_standard_library() {
        check("Straße ΟΔΟΣ İstanbul naïve café 東京 ١٢٣ ǅemal".as_bytes());
        check("हिन्दी ไทย 한국어 Ünïcödé\u{00a0}nbsp\u{2003}em\u{3000}ideo".as_bytes());
        // Final sigma needs the whole word: "ΟΔΟΣ" → "οδος" with ς.
        assert_eq!(
            words(WordCount::default(), "ΟΔΟΣ".as_bytes()),
            ["οδος".as_bytes()]
        );
    }

    #[test]
    fn invalid_utf8_separates_words() {
        assert_eq!(
            words(WordCount::default(), b"ab\xffcd\xc3"),
            [&b"ab"[..], b"cd"]
        );
        check(b"ab\xffcd\xe0\x80\x80ef\xed\xa0\x80gh\xf4\x90\x80\x80ij\xc3");
        check(b"\xc3\xa9t\xc3\xa9\xc3 x\xe2\x82");
    }

    #[test]
    fn invalid_utf8_belongs_to_whitespace_words() {
        let wc = WordCount {
            split: WordSplit::Whitespace,
            case_sensitive: false,
        };
        // Each valid piece is lowercased on its own: the Σ before a byte
        // that is not UTF-8 ends its piece, so it is final.
        assert_eq!(
            words(
                wc,
                b"Fa\xe7ADE caf\xe9 \xce\xa3\xce\xa3\xffX\xe3\x80\x80\xff"
            ),
            [
                &b"fa\xe7ade"[..],
                b"caf\xe9",
                b"\xcf\x83\xcf\x82\xffx",
                b"\xff"
            ]
        );
        // Around and across 64-byte blocks, and the 8-byte chunks of the
        // byte-by-byte path.
        let long = [
            &b"A".repeat(70)[..],
            b"\xff",
            &b"b".repeat(70),
            b"\xe3\x80 z\xc3",
        ]
        .concat();
        for start in 0..long.len() {
            check(&long[start..]);
        }
    }

    #[test]
    fn decode_agrees_with_the_standard_library_on_every_two_byte_prefix() {
        for a in 0x80..=0xffu8 {
            for b in 0..=0xffu8 {
                for tail in [&[][..], &[0x80, 0x80], &[0xbf, 0x41]] {
                    let mut bytes = vec![a, b];
                    bytes.extend_from_slice(tail);
                    let std = std::str::from_utf8(&bytes[..])
                        .map(|s| s.chars().next())
                        .unwrap_or_else(|e| {
                            let valid = &bytes[..e.valid_up_to()];
                            std::str::from_utf8(valid)
                                .ok()
                                .and_then(|s| s.chars().next())
                        });
                    assert_eq!(decode(&bytes).ok().map(|(c, _)| c), std, "{bytes:x?}");
                }
            }
        }
    }
}
