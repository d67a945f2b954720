//! The vocabulary: pronounceable pseudo-English words, one per rank, built
//! from syllables; a word is a pure function of its rank.

use std::collections::HashSet;

use super::random::{mix64, SplitMix64};

/// Longest word, in letters.
pub(super) const MAX_WORD: usize = 12;

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
pub(super) fn build_vocabulary(n: usize) -> Vec<[u8; 16]> {
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

#[cfg(test)]
mod tests {

    use super::*;

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
}
