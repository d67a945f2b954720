//! Classifying text 64 bytes at a time, into one bit per byte.
//!
//! The word scanner's fast path: a block's bytes become four masks (word
//! characters, uppercase letters, newlines, bytes of 0x80 or more), and the
//! scanner then finds every word of the block with bit operations, without
//! a branch per byte or per word boundary. On x86-64 the masks come from
//! SSE2 (part of the architecture's baseline, so always present), sixteen
//! bytes per instruction; elsewhere from eight-byte integer arithmetic.
//!
//! [`prefetch`] (from `hint.rs`) is re-exported here, the other
//! instruction the scanner and its tables use directly.
//!
//! Only the `high` mask is meaningful in a block holding a byte of 0x80 or
//! more: the scanner hands such blocks to its byte-by-byte path.

#![allow(unsafe_code)]

/// Bytes per block, one bit of a `u64` each.
pub(crate) const BLOCK: usize = 64;

/// One block's bytes as bit masks: bit `k` describes byte `k`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Masks {
    /// Bytes that belong to a word.
    pub word: u64,
    /// `A`..=`Z`.
    pub upper: u64,
    /// `\n`.
    pub newline: u64,
    /// Bytes of 0x80 or more.
    pub high: u64,
}

/// Which bytes are word characters: the two ways of splitting words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Class {
    /// `[0-9A-Za-z]`.
    Alphanumeric,
    /// Anything but tab, LF, VT, FF, CR and space.
    NonWhitespace,
}

/// Classifies the 64 bytes of `block`.
#[inline(always)]
pub(crate) fn classify(block: &[u8; BLOCK], class: Class) -> Masks {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: SSE2 is part of the x86-64 baseline: every x86-64 processor
    // has it, and Rust's x86-64 targets assume it.
    unsafe {
        sse2::classify(block, class)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        swar::classify(block, class)
    }
}

pub(crate) use crate::hint::prefetch;

#[cfg(target_arch = "x86_64")]
mod sse2 {
    use std::arch::x86_64::{
        __m128i, _mm_add_epi8, _mm_cmpeq_epi8, _mm_cmplt_epi8, _mm_loadu_si128, _mm_movemask_epi8,
        _mm_or_si128, _mm_set1_epi8,
    };

    use super::{Class, Masks, BLOCK};

    #[inline]
    #[target_feature(enable = "sse2")]
    fn splat(byte: u8) -> __m128i {
        _mm_set1_epi8(byte as i8)
    }

    /// Sets every byte of `v` that lies in `lo..=hi` (both below 0x80) to
    /// 0xff. Adding `0x80 - lo` moves that range to the lowest signed
    /// values, so one signed comparison tests both ends. Bytes of 0x80 or
    /// more come out as garbage.
    #[inline]
    #[target_feature(enable = "sse2")]
    fn in_range(v: __m128i, lo: u8, hi: u8) -> __m128i {
        let shifted = _mm_add_epi8(v, splat(0x80u8.wrapping_sub(lo)));
        _mm_cmplt_epi8(shifted, splat(0x80 + (hi - lo) + 1))
    }

    /// The top bit of each byte of `v`, as sixteen bits.
    #[inline]
    #[target_feature(enable = "sse2")]
    fn bits(v: __m128i) -> u64 {
        u64::from(_mm_movemask_epi8(v) as u16)
    }

    #[inline]
    #[target_feature(enable = "sse2")]
    pub(super) fn classify(block: &[u8; BLOCK], class: Class) -> Masks {
        let mut masks = Masks::default();
        for (k, lane) in block.chunks_exact(16).enumerate() {
            // SAFETY: `lane` is 16 readable bytes (a chunk of exactly 16 of
            // the array), and `_mm_loadu_si128` has no alignment requirement.
            let v = unsafe { _mm_loadu_si128(lane.as_ptr().cast::<__m128i>()) };
            let upper = in_range(v, b'A', b'Z');
            let word = match class {
                Class::Alphanumeric => {
                    // Setting bit 0x20 maps `A..=Z` onto `a..=z` and keeps
                    // every other byte out of that range.
                    let letter = in_range(_mm_or_si128(v, splat(0x20)), b'a', b'z');
                    bits(_mm_or_si128(letter, in_range(v, b'0', b'9')))
                }
                Class::NonWhitespace => {
                    let space =
                        _mm_or_si128(in_range(v, b'\t', b'\r'), _mm_cmpeq_epi8(v, splat(b' ')));
                    !bits(space) & 0xffff
                }
            };
            let shift = 16 * k;
            masks.word |= word << shift;
            masks.upper |= bits(upper) << shift;
            masks.newline |= bits(_mm_cmpeq_epi8(v, splat(b'\n'))) << shift;
            masks.high |= bits(v) << shift;
        }
        masks
    }
}

/// The portable version, eight bytes at a time; on x86-64 only its tests
/// use it, checking the SSE2 version against it.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
mod swar {
    use super::{Class, Masks, BLOCK};

    const ONES: u64 = 0x0101_0101_0101_0101;
    const TOP_BITS: u64 = 0x8080_8080_8080_8080;

    /// Sets the top bit of each byte of `x` in `lo..=hi`; meaningful only
    /// where every byte of `x` is below 0x80 (so no addition carries).
    #[inline(always)]
    fn in_range(x: u64, lo: u8, hi: u8) -> u64 {
        let at_least_lo = x.wrapping_add(ONES * (0x80 - u64::from(lo)));
        let above_hi = x.wrapping_add(ONES * (0x7f - u64::from(hi)));
        at_least_lo & !above_hi & TOP_BITS
    }

    /// Gathers the top bits of the eight bytes of `x` (nothing else set)
    /// into eight bits. Multiplying moves byte `i`'s bit to bit `56 + i`,
    /// and no two of the partial products overlap, so nothing carries.
    #[inline(always)]
    fn bits(x: u64) -> u64 {
        ((x >> 7).wrapping_mul(0x0102_0408_1020_4080)) >> 56
    }

    #[inline(always)]
    pub(super) fn classify(block: &[u8; BLOCK], class: Class) -> Masks {
        let mut masks = Masks::default();
        for (k, chunk) in block.chunks_exact(8).enumerate() {
            let x = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
            let word = match class {
                Class::Alphanumeric => {
                    in_range(x, b'0', b'9') | in_range(x, b'A', b'Z') | in_range(x, b'a', b'z')
                }
                Class::NonWhitespace => {
                    !(in_range(x, b'\t', b'\r') | in_range(x, b' ', b' ')) & TOP_BITS
                }
            };
            let shift = 8 * k;
            masks.word |= bits(word) << shift;
            masks.upper |= bits(in_range(x, b'A', b'Z')) << shift;
            masks.newline |= bits(in_range(x, b'\n', b'\n')) << shift;
            masks.high |= bits(x & TOP_BITS) << shift;
        }
        masks
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The masks byte by byte, for blocks without high bytes.
    fn reference(block: &[u8; BLOCK], class: Class) -> Masks {
        let mut masks = Masks::default();
        for (k, &b) in block.iter().enumerate() {
            let word = match class {
                Class::Alphanumeric => b.is_ascii_alphanumeric(),
                Class::NonWhitespace => !matches!(b, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' '),
            };
            masks.word |= u64::from(word) << k;
            masks.upper |= u64::from(b.is_ascii_uppercase()) << k;
            masks.newline |= u64::from(b == b'\n') << k;
            masks.high |= u64::from(b >= 0x80) << k;
        }
        masks
    }

    #[test]
    fn every_ascii_byte_at_every_position() {
        for class in [Class::Alphanumeric, Class::NonWhitespace] {
            for start in 0..0x80usize {
                let block: [u8; BLOCK] = std::array::from_fn(|k| ((start + k * 7) % 0x80) as u8);
                assert_eq!(swar::classify(&block, class), reference(&block, class));
                assert_eq!(classify(&block, class), reference(&block, class));
            }
        }
    }

    #[test]
    fn high_bytes_are_found_wherever_they_are() {
        for class in [Class::Alphanumeric, Class::NonWhitespace] {
            for position in 0..BLOCK {
                for high in [0x80, 0xc3, 0xff] {
                    let mut block = [b'a'; BLOCK];
                    block[position] = high;
                    assert_eq!(swar::classify(&block, class).high, 1 << position);
                    assert_eq!(classify(&block, class).high, 1 << position);
                }
            }
        }
    }
}
