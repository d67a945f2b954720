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
//! With `--split whitespace` a word is instead a maximal run of chars for
//! which `char::is_whitespace` does not hold (punctuation kept); the rest is
//! the same.

use std::collections::HashMap;
use std::fmt::Write as _;

/// Word counts, summed over any number of inputs.
#[derive(Debug, Default)]
pub struct Counts {
    counts: HashMap<String, u64>,
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
    pub fn words(&self) -> impl Iterator<Item = &str> {
        self.counts.keys().map(String::as_str)
    }

    /// Adds the words of one input. Words never span two inputs.
    pub fn add(&mut self, bytes: &[u8]) -> &mut Counts {
        let mut word = String::new();
        for chunk in bytes.utf8_chunks() {
            for c in chunk.valid().chars() {
                if self.is_word_char(c) {
                    word.push(c);
                } else {
                    self.flush(&mut word);
                }
            }
            // Either invalid bytes follow (a separator) or the input ends.
            self.flush(&mut word);
        }
        self
    }

    fn flush(&mut self, word: &mut String) {
        if word.is_empty() {
            return;
        }
        let key = if self.case_sensitive {
            word.clone()
        } else {
            word.to_lowercase()
        };
        *self.counts.entry(key).or_insert(0) += 1;
        word.clear();
    }

    /// The counts as `mr-local wordcount` prints them.
    pub fn to_tsv(&self) -> String {
        let mut pairs: Vec<(&String, u64)> = self.counts.iter().map(|(w, &n)| (w, n)).collect();
        pairs.sort_by(|a, b| {
            b.1.cmp(&a.1)
                .then_with(|| a.0.as_bytes().cmp(b.0.as_bytes()))
        });
        let mut out = String::new();
        for (word, count) in pairs {
            let _ = writeln!(out, "{word}\t{count}");
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
            .to_tsv(),
        "a,\t2\nb\t2\nc\t1\n"
    );
    assert_eq!(wordcount(b""), "");
    assert_eq!(wordcount(b" \r\n-- \xff"), "");
}
