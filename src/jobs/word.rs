//! [`Word`]: a compact word-count key that keeps short words inline.
//!
//! Why not borrow every key from the input? Because a hash table compares
//! the key it finds with the one it looks up, and a borrowed key points back
//! into the input where the word was first seen: on a large corpus with a
//! large vocabulary, that is a cache miss (and often a TLB miss) per word.
//! Measured on a 200 MB Zipf corpus with 480k distinct words, `memcmp` on
//! such keys took 35% of the run. A word of up to [`INLINE`] bytes (nearly
//! every word of any language) is therefore copied into the key itself, so
//! the comparison touches only the table slot the probe has already loaded;
//! longer words are borrowed from the input (or owned, when lowercasing
//! changed them), with their first [`PREFIX`] bytes kept in the key too, so
//! that sorting long keys (the lines of `mr-local sort`) mostly compares
//! those and reads the bytes behind the pointer only on a tie.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

use crate::error::BoxError;
use crate::spill::codec::{get_len, put_varint, take};
use crate::spill::Spill;

/// Longest word stored inline. With the length byte and the enum's tag the
/// key is 24 bytes, the size of a slice reference plus its tag.
pub const INLINE: usize = 22;

/// Bytes of a longer word kept in the key beside its pointer: the room a
/// slice reference leaves in 24 bytes after the enum's tag.
const PREFIX: usize = 7;

/// A counted word: its bytes, stored inline when short.
///
/// It dereferences to `[u8]`, and compares, orders and hashes as its bytes
/// do.
///
/// # Example
///
/// ```
/// use mr_local::jobs::wordcount::Word;
///
/// let short = Word::copied(b"ant");
/// let long = Word::borrowed(b"antidisestablishmentarianism");
/// assert_eq!(&*short, b"ant");
/// assert!(short < long);
/// assert_eq!(long.len(), 28);
/// ```
#[derive(Clone)]
pub struct Word<'d>(Repr<'d>);

#[derive(Clone)]
enum Repr<'d> {
    /// Bytes past `len` are zero, so whole arrays can be compared.
    Inline { len: u8, bytes: [u8; INLINE] },
    /// `prefix` is the first [`PREFIX`] bytes of `bytes`, as in every
    /// long variant.
    Borrowed {
        prefix: [u8; PREFIX],
        bytes: &'d [u8],
    },
    Owned {
        prefix: [u8; PREFIX],
        bytes: Box<[u8]>,
    },
}

impl<'d> Word<'d> {
    /// A word equal to `bytes`, borrowing them if they are too long to
    /// store inline.
    #[inline]
    pub fn borrowed(bytes: &'d [u8]) -> Word<'d> {
        Word::inline(bytes).unwrap_or(Word(Repr::Borrowed {
            prefix: prefix(bytes),
            bytes,
        }))
    }

    /// A word equal to `bytes`, copying them.
    #[inline]
    pub fn copied(bytes: &[u8]) -> Word<'d> {
        Word::inline(bytes).unwrap_or_else(|| {
            Word(Repr::Owned {
                prefix: prefix(bytes),
                bytes: bytes.into(),
            })
        })
    }

    #[inline]
    fn inline(bytes: &[u8]) -> Option<Word<'d>> {
        if bytes.len() > INLINE {
            return None;
        }
        Some(Word(Repr::Inline {
            len: bytes.len() as u8,
            bytes: copy_short(bytes),
        }))
    }

    /// Returns the word's bytes.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { len, bytes } => &bytes[..*len as usize],
            Repr::Borrowed { bytes, .. } => bytes,
            Repr::Owned { bytes, .. } => bytes,
        }
    }

    /// The word's first [`PREFIX`] bytes, zero past its end, as a
    /// big-endian integer: it orders words as their bytes do wherever two
    /// words' heads differ (see [`cmp_padded`] for why the zeros do not
    /// mislead), without reading a long word's bytes.
    #[inline]
    fn head(&self) -> u64 {
        let prefix = match &self.0 {
            Repr::Inline { bytes, .. } => bytes[..PREFIX].try_into().expect("INLINE > PREFIX"),
            Repr::Borrowed { prefix, .. } | Repr::Owned { prefix, .. } => *prefix,
        };
        let mut eight = [0; 8];
        eight[..PREFIX].copy_from_slice(&prefix);
        u64::from_be_bytes(eight)
    }

    /// Returns the bytes this word holds on the heap: its own copy, if it
    /// has one.
    pub fn heap_size(&self) -> usize {
        match &self.0 {
            Repr::Owned { bytes, .. } => bytes.len(),
            Repr::Inline { .. } | Repr::Borrowed { .. } => 0,
        }
    }

    /// Returns a copy that borrows nothing, so it may outlive the input.
    pub fn into_owned(self) -> Word<'static> {
        match self.0 {
            Repr::Inline { len, bytes } => Word(Repr::Inline { len, bytes }),
            Repr::Borrowed { prefix, bytes } => Word(Repr::Owned {
                prefix,
                bytes: bytes.into(),
            }),
            Repr::Owned { prefix, bytes } => Word(Repr::Owned { prefix, bytes }),
        }
    }
}

/// Runs [`Word::sort_pairs`] leaves to a comparison sort: short enough
/// that reading behind a few pointers costs less than a pass of digits.
const SMALL_RUN: usize = 16;

/// A word's digit at some depth (see [`Word::digit`]).
type Digit = (u64, usize);

impl<'d> Word<'d> {
    /// Sorts `pairs` by word, in the words' `Ord` order and in no set order
    /// of equal words, as `sort_unstable_by` on the words would; made for
    /// [`MapReduce::sorted_with`](crate::MapReduce::sorted_with).
    ///
    /// A comparison sort of long words reads both words' bytes, behind
    /// their pointers, at every comparison: a cache miss each time on a
    /// large input. This sorts by digits instead, most significant first:
    /// the words' first seven bytes, which every word holds in itself,
    /// and then, within each run of words tied so far, their next eight
    /// bytes, read once per word. A run of a few words is sorted by
    /// comparison, and so are pairs whose words are mostly short enough to
    /// be held inline, which compare without reading behind a pointer.
    ///
    /// # Example
    ///
    /// ```
    /// use mr_local::jobs::wordcount::Word;
    ///
    /// let lines: [&[u8]; 3] = [
    ///     b"a line long enough to be borrowed: 2",
    ///     b"b",
    ///     b"a line long enough to be borrowed: 1",
    /// ];
    /// let mut pairs: Vec<(Word<'_>, usize)> = lines
    ///     .iter()
    ///     .enumerate()
    ///     .map(|(i, line)| (Word::borrowed(line), i))
    ///     .collect();
    /// Word::sort_pairs(&mut pairs);
    /// let order: Vec<usize> = pairs.iter().map(|pair| pair.1).collect();
    /// assert_eq!(order, [2, 0, 1]);
    /// ```
    pub fn sort_pairs<V>(pairs: &mut [(Word<'d>, V)]) {
        // Inline words compare as integers, without a pointer to follow:
        // a comparison sort, which moves pairs in cache, beats digits.
        let long = pairs.iter().filter(|(word, _)| word.is_long()).count();
        if long * 2 < pairs.len() {
            pairs.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            return;
        }
        // Runs whose words agree in every byte before `depth`.
        let mut tied = vec![(0, pairs.len(), 0)];
        while let Some((start, end, depth)) = tied.pop() {
            let run = &mut pairs[start..end];
            if run.len() <= SMALL_RUN {
                run.sort_unstable_by(|a, b| a.0.cmp(&b.0));
                continue;
            }
            let digits = sort_by_digit(run, depth);
            let next = if depth == 0 { PREFIX } else { depth + 8 };
            let mut from = 0;
            for group in digits.chunk_by(|a, b| a == b) {
                // Words that reach past this digit tie only so far.
                if group.len() > 1 && group[0].1 == next {
                    tied.push((start + from, start + from + group.len(), next));
                }
                from += group.len();
            }
        }
    }

    /// Whether the word is too long to be held inline.
    #[inline]
    fn is_long(&self) -> bool {
        !matches!(self.0, Repr::Inline { .. })
    }

    /// The word's digit at `depth`, 0 or [`PREFIX`] plus a multiple of
    /// eight: the bytes from there (the first [`PREFIX`] at depth 0, else
    /// eight), zero past the word's end, as a big-endian integer, and where
    /// the word's bytes stop within them. Between words that agree in every
    /// byte before `depth`, digits order as the words do where they differ
    /// (a word that stops first is the other's prefix, so the lesser); where
    /// they are equal and stop at the digit's end, the words tie so far.
    #[inline]
    fn digit(&self, depth: usize) -> Digit {
        if depth == 0 {
            return (self.head(), self.len().min(PREFIX));
        }
        let bytes = self.as_bytes();
        let end = bytes.len().min(depth + 8);
        let mut eight = [0; 8];
        if depth < end {
            eight[..end - depth].copy_from_slice(&bytes[depth..end]);
        }
        (u64::from_be_bytes(eight), end)
    }
}

/// Sorts `run` by each word's digit at `depth`, reading every word once,
/// and returns the digits in the run's new order.
fn sort_by_digit<V>(run: &mut [(Word<'_>, V)], depth: usize) -> Vec<Digit> {
    let mut keyed: Vec<(Digit, usize)> = run
        .iter()
        .enumerate()
        .map(|(i, (word, _))| (word.digit(depth), i))
        .collect();
    // Words that share a long stem share digit after digit: no sort then.
    if keyed.iter().all(|(digit, _)| *digit == keyed[0].0) {
        return keyed.into_iter().map(|(digit, _)| digit).collect();
    }
    keyed.sort_unstable();
    // Puts the pair from `keyed[i].1` at `i`, for each `i` in turn. A pair
    // an earlier step swapped away from position `p` went to where that
    // step recorded, in `keyed[p].1`: follow those to where it is now.
    for i in 0..keyed.len() {
        let mut at = keyed[i].1;
        while at < i {
            at = keyed[at].1;
        }
        keyed[i].1 = at;
        run.swap(i, at);
    }
    keyed.into_iter().map(|(digit, _)| digit).collect()
}

/// The first [`PREFIX`] bytes of `bytes`, zero past its end.
#[inline]
fn prefix(bytes: &[u8]) -> [u8; PREFIX] {
    let mut out = [0; PREFIX];
    let len = bytes.len().min(PREFIX);
    out[..len].copy_from_slice(&bytes[..len]);
    out
}

/// Copies `bytes` (at most [`INLINE`] long) into a zeroed array.
///
/// A plain `copy_from_slice` of a variable length compiles to a call to
/// `memcpy`, which costs more than the copy itself for words this short;
/// overlapping fixed-size copies (two of 8 bytes cover 8 to 16 bytes) are a
/// few moves each.
#[inline]
fn copy_short(bytes: &[u8]) -> [u8; INLINE] {
    let mut out = [0; INLINE];
    let len = bytes.len();
    debug_assert!(len <= INLINE);
    match len {
        0..=3 => {
            for (o, b) in out.iter_mut().zip(bytes) {
                *o = *b;
            }
        }
        4..=7 => {
            out[..4].copy_from_slice(&bytes[..4]);
            out[len - 4..len].copy_from_slice(&bytes[len - 4..]);
        }
        8..=16 => {
            out[..8].copy_from_slice(&bytes[..8]);
            out[len - 8..len].copy_from_slice(&bytes[len - 8..]);
        }
        _ => {
            out[..8].copy_from_slice(&bytes[..8]);
            out[8..16].copy_from_slice(&bytes[8..16]);
            out[len - 8..len].copy_from_slice(&bytes[len - 8..]);
        }
    }
    out
}

impl Deref for Word<'_> {
    type Target = [u8];

    #[inline]
    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl AsRef<[u8]> for Word<'_> {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl PartialEq for Word<'_> {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            // Fixed-size arrays compare without a call to memcmp.
            (Repr::Inline { len: a, bytes: x }, Repr::Inline { len: b, bytes: y }) => {
                a == b && x == y
            }
            // Heads that differ settle it without reading behind a pointer.
            _ => self.head() == other.head() && self.as_bytes() == other.as_bytes(),
        }
    }
}

impl Eq for Word<'_> {}

impl Hash for Word<'_> {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

impl PartialOrd for Word<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Word<'_> {
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        match (&self.0, &other.0) {
            (Repr::Inline { len: a, bytes: x }, Repr::Inline { len: b, bytes: y }) => {
                cmp_padded(x, y).then(a.cmp(b))
            }
            // A long word: its head first, its bytes only on a tie.
            _ => self
                .head()
                .cmp(&other.head())
                .then_with(|| self.as_bytes().cmp(other.as_bytes())),
        }
    }
}

/// Compares two inline words' arrays, each zero past the word's end, as
/// big-endian integers, eight bytes at a time: no call to `memcmp`. With
/// the lengths to break a tie, this is the words' bytewise order. Where
/// the words differ at a byte both have, that byte decides. Where one is
/// the other with more bytes after it, those bytes are at least the zeros
/// they meet, so the shorter compares less or, when all of them are zero,
/// equal, and its length decides.
#[inline]
fn cmp_padded(x: &[u8; INLINE], y: &[u8; INLINE]) -> Ordering {
    const _: () = assert!(INLINE <= 24, "three integers hold an inline word");
    let at = |bytes: &[u8; INLINE], i: usize| {
        let mut eight = [0; 8];
        let end = (i + 8).min(INLINE);
        eight[..end - i].copy_from_slice(&bytes[i..end]);
        u64::from_be_bytes(eight)
    };
    let three = |bytes| (at(bytes, 0), at(bytes, 8), at(bytes, 16));
    three(x).cmp(&three(y))
}

impl fmt::Debug for Word<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_bytes()))
    }
}

/// Spilled as its length and its bytes, like a byte string; it comes back
/// owning them.
impl Spill for Word<'_> {
    fn encode(&self, out: &mut Vec<u8>) {
        put_varint(out, self.len() as u64);
        out.extend_from_slice(self);
    }

    fn decode(input: &mut &[u8]) -> Result<Self, BoxError> {
        let len = get_len(input)?;
        Ok(Word::copied(take(input, len)?))
    }

    fn heap_size(&self) -> usize {
        self.heap_size()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_representation_of_the_same_bytes_is_the_same_word() {
        let hasher = ahash::RandomState::new();
        for len in [0, 1, INLINE - 1, INLINE, INLINE + 1, 40] {
            let bytes = vec![b'x'; len];
            let forms = [
                Word::borrowed(&bytes),
                Word::copied(&bytes),
                Word(Repr::Borrowed {
                    prefix: prefix(&bytes),
                    bytes: &bytes,
                }),
                Word(Repr::Owned {
                    prefix: prefix(&bytes),
                    bytes: bytes.clone().into(),
                }),
                Word::borrowed(&bytes).into_owned(),
            ];
            for a in &forms {
                assert_eq!(a.as_bytes(), &bytes[..]);
                for b in &forms {
                    assert_eq!(a, b);
                    assert_eq!(hasher.hash_one(a), hasher.hash_one(b));
                    assert_eq!(a.cmp(b), Ordering::Equal);
                }
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn sorting_by_digits_orders_as_the_bytes_do(
            words in proptest::collection::vec(
                (0..4usize, proptest::collection::vec(proptest::sample::select(vec![0u8, 1, b'a', 0xff]), 0..12)),
                0..300,
            ),
        ) {
            // Words that share long stems, so that runs tie for several
            // digits, in every representation.
            let stems: [&[u8]; 4] = [b"", b"a", &[b'a'; 30], &[0; 21]];
            let words: Vec<Vec<u8>> = words
                .into_iter()
                .map(|(stem, tail)| [stems[stem], &tail].concat())
                .collect();
            let mut pairs: Vec<(Word<'_>, usize)> = words
                .iter()
                .enumerate()
                .map(|(i, word)| {
                    let word = if i % 2 == 0 { Word::borrowed(word) } else { Word::copied(word) };
                    (word, i)
                })
                .collect();
            Word::sort_pairs(&mut pairs);
            let sorted: Vec<&[u8]> = pairs.iter().map(|(word, _)| word.as_bytes()).collect();
            let mut expected: Vec<&[u8]> = words.iter().map(Vec::as_slice).collect();
            expected.sort();
            proptest::prop_assert_eq!(sorted, expected);
            // Every pair is still there, with its own word.
            let mut seen: Vec<usize> = pairs.iter().map(|(_, i)| *i).collect();
            proptest::prop_assert!(pairs.iter().all(|(word, i)| word.as_bytes() == words[*i]));
            seen.sort_unstable();
            proptest::prop_assert_eq!(seen, (0..words.len()).collect::<Vec<_>>());
        }
    }

    #[test]
    fn short_copies_are_exact_and_zero_padded() {
        let source: Vec<u8> = (1..=INLINE as u8).collect();
        for len in 0..=INLINE {
            let copy = copy_short(&source[..len]);
            assert_eq!(&copy[..len], &source[..len]);
            assert!(copy[len..].iter().all(|&b| b == 0), "len {len}");
        }
    }

    #[test]
    fn words_differ_and_order_as_their_bytes() {
        assert_ne!(Word::copied(b"ab"), Word::copied(b"ab\0"));
        assert!(Word::copied(b"ab") < Word::copied(b"ab\0"));
        assert!(Word::copied(b"b") > Word::borrowed(&[b'a'; 30]));
        assert_eq!(std::mem::size_of::<Word<'_>>(), 24);
    }

    #[test]
    fn inline_words_order_as_their_bytes_at_every_length() {
        // Bytes that compare differently as signed and unsigned, zeros
        // that meet the padding, and differences at every position.
        let alphabet = [0u8, 1, b'a', 0x7f, 0x80, 0xff];
        let mut words: Vec<Vec<u8>> = vec![Vec::new()];
        for len in 1..=INLINE + 2 {
            for (i, &fill) in alphabet.iter().enumerate() {
                let mut word = vec![fill; len];
                word[len / 2] = alphabet[(i + 1) % alphabet.len()];
                words.push(word.clone());
                word[len - 1] = 0;
                words.push(word.clone());
                word[0] = alphabet[(i + 3) % alphabet.len()];
                words.push(word);
            }
        }
        for a in &words {
            for b in &words {
                let order = Word::copied(a).cmp(&Word::copied(b));
                assert_eq!(order, a.cmp(b), "{a:?} against {b:?}");
                assert_eq!(Word::borrowed(a).cmp(&Word::copied(b)), order);
            }
        }
    }
}
