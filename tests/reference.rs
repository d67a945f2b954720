//! An independent, deliberately plain word count to check `mr-local`
//! against. It shares no code with the library.
//!
//! Definition (the default mode of `mr-local wordcount`):
//!
//! - a word is a maximal run of chars for which `char::is_alphanumeric`
//!   holds;
//! - bytes that are not valid UTF-8 separate words (found with
//!   `<[u8]>::utf8_chunks`);
//! - unless `case_sensitive`, each word is lowercased with
//!   `str::to_lowercase` (after splitting);
//! - output lines are `word<TAB>count\n`, sorted by count descending, then
//!   by word ascending, bytewise.
//!
//! With `--split whitespace` a word is instead a maximal run of bytes that
//! are not whitespace characters (punctuation kept): bytes that are not
//! valid UTF-8 belong to the word and are kept as they are, and each valid
//! piece of the word is lowercased on its own; the rest is the same.

use std::collections::HashMap;
use std::io::Write as _;

/// Word counts, summed over any number of inputs.
#[derive(Debug, Default)]
pub struct Counts {
    counts: HashMap<Vec<u8>, u64>,
    case_sensitive: bool,
    whitespace_split: bool,
}

impl Counts {
    /// Empty counts; words are lowercased unless `case_sensitive`.
    pub fn new(case_sensitive: bool) -> Counts {
        Counts {
            counts: HashMap::new(),
            case_sensitive,
            whitespace_split: false,
        }
    }

    /// Like `new`, for `--split whitespace`.
    pub fn whitespace_split(case_sensitive: bool) -> Counts {
        Counts {
            whitespace_split: true,
            ..Counts::new(case_sensitive)
        }
    }

    fn is_word_char(&self, c: char) -> bool {
        if self.whitespace_split {
            !c.is_whitespace()
        } else {
            c.is_alphanumeric()
        }
    }

    /// The distinct words counted so far, in no particular order.
    ///
    /// # Panics
    ///
    /// If a word is not UTF-8 (only `--split whitespace` makes those).
    pub fn words(&self) -> impl Iterator<Item = &str> {
        self.counts
            .keys()
            .map(|w| std::str::from_utf8(w).expect("a UTF-8 word"))
    }

    /// Adds the words of one input. Words never span two inputs.
    pub fn add(&mut self, bytes: &[u8]) -> &mut Counts {
        // The word so far: its pieces, each lowercased on its own.
        let mut word = Vec::new();
        let mut piece = String::new();
        for chunk in bytes.utf8_chunks() {
            for c in chunk.valid().chars() {
                if self.is_word_char(c) {
                    piece.push(c);
                } else {
                    self.end_piece(&mut word, &mut piece);
                    self.flush(&mut word);
                }
            }
            self.end_piece(&mut word, &mut piece);
            if self.whitespace_split {
                // Invalid bytes are part of the word.
                word.extend_from_slice(chunk.invalid());
            } else {
                // Invalid bytes (or the end of the input) separate words.
                self.flush(&mut word);
            }
        }
        self.flush(&mut word);
        self
    }

    fn end_piece(&self, word: &mut Vec<u8>, piece: &mut String) {
        if self.case_sensitive {
            word.extend_from_slice(piece.as_bytes());
        } else {
            word.extend_from_slice(piece.to_lowercase().as_bytes());
        }
        piece.clear();
    }

    fn flush(&mut self, word: &mut Vec<u8>) {
        if !word.is_empty() {
            *self.counts.entry(std::mem::take(word)).or_insert(0) += 1;
        }
    }

    /// The counts as `mr-local wordcount` prints them.
    ///
    /// # Panics
    ///
    /// If a word is not UTF-8: use [`Counts::to_tsv_bytes`] for those.
    pub fn to_tsv(&self) -> String {
        String::from_utf8(self.to_tsv_bytes()).expect("UTF-8 words (else use to_tsv_bytes)")
    }

    /// The counts as `mr-local wordcount` prints them, bytes as they are.
    pub fn to_tsv_bytes(&self) -> Vec<u8> {
        let mut pairs: Vec<(&Vec<u8>, u64)> = self.counts.iter().map(|(w, &n)| (w, n)).collect();
        pairs.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        let mut out = Vec::new();
        for (word, count) in pairs {
            out.extend_from_slice(word);
            let _ = writeln!(out, "\t{count}");
        }
        out
    }
}

/// The default-mode (lowercased) output for one input.
pub fn wordcount(bytes: &[u8]) -> String {
    Counts::new(false).add(bytes).to_tsv()
}

/// Checks of the reference itself, so that a wrong oracle cannot hide a
/// wrong program.
#[test]
fn reference_on_a_small_text() {
    let text = b"The cat\r\nthe CAT, x\xffy caf\xc3\xa9 \xce\xa3\xce\xa3";
    assert_eq!(
        wordcount(text),
        "cat\t2\nthe\t2\ncaf\u{e9}\t1\nx\t1\ny\t1\n\u{3c3}\u{3c2}\t1\n"
    );
    assert_eq!(Counts::new(true).add(b"a A a").to_tsv(), "a\t2\nA\t1\n");
    assert_eq!(
        Counts::whitespace_split(false)
            .add(b"A, b\xc2\xa0a,\x0bB\xffc")
            .to_tsv_bytes(),
        b"a,\t2\nb\t1\nb\xffc\t1\n"
    );
    // Bytes that are not UTF-8 are part of a whitespace-split word, and
    // each valid piece is lowercased on its own.
    assert_eq!(
        Counts::whitespace_split(false)
            .add(b"Fa\xe7ADE caf\xe9 \xce\xa3\xff\xce\xa3\xce\xa3 FA\xe7ade")
            .to_tsv_bytes(),
        b"fa\xe7ade\t2\ncaf\xe9\t1\n\xcf\x83\xff\xcf\x83\xcf\x82\t1\n"
    );
    assert_eq!(wordcount(b""), "");
    assert_eq!(wordcount(b" \r\n-- \xff"), "");
}
