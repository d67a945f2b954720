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

use super::count_table::{self, CountTable, Long, Short};
pub use super::word::Word;
pub use scan::Shape;

mod scan;

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
        scan::words(text, self.split == WordSplit::Whitespace, each)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::blocks::BLOCK;
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
}
