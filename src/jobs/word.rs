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
//! changed them).

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
    Inline {
        len: u8,
        bytes: [u8; INLINE],
    },
    Borrowed(&'d [u8]),
    Owned(Box<[u8]>),
}

impl<'d> Word<'d> {
    /// A word equal to `bytes`, borrowing them if they are too long to
    /// store inline.
    #[inline]
    pub fn borrowed(bytes: &'d [u8]) -> Word<'d> {
        Word::inline(bytes).unwrap_or(Word(Repr::Borrowed(bytes)))
    }

    /// A word equal to `bytes`, copying them.
    #[inline]
    pub fn copied(bytes: &[u8]) -> Word<'d> {
        Word::inline(bytes).unwrap_or_else(|| Word(Repr::Owned(bytes.into())))
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
            Repr::Borrowed(bytes) => bytes,
            Repr::Owned(bytes) => bytes,
        }
    }

    /// Returns the bytes this word holds on the heap: its own copy, if it
    /// has one.
    pub fn heap_size(&self) -> usize {
        match &self.0 {
            Repr::Owned(bytes) => bytes.len(),
            Repr::Inline { .. } | Repr::Borrowed(_) => 0,
        }
    }

    /// Returns a copy that borrows nothing, so it may outlive the input.
    pub fn into_owned(self) -> Word<'static> {
        match self.0 {
            Repr::Inline { len, bytes } => Word(Repr::Inline { len, bytes }),
            Repr::Borrowed(bytes) => Word(Repr::Owned(bytes.into())),
            Repr::Owned(bytes) => Word(Repr::Owned(bytes)),
        }
    }
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
            _ => self.as_bytes() == other.as_bytes(),
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
            _ => self.as_bytes().cmp(other.as_bytes()),
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
                Word(Repr::Borrowed(&bytes)),
                Word(Repr::Owned(bytes.clone().into())),
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
