//! Word count's scanner: where the words of a text start and end, and
//! what each needs before it is counted (see [`Shape`]).
//!
//! ASCII text goes 64 bytes at a time through bit masks (see
//! [`blocks`]); other bytes go one at a time through a class table and a
//! UTF-8 decoder. Both paths agree byte for byte, as the tests below and
//! those of the parent module check.

use crate::jobs::blocks::{self, Class, BLOCK};

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

/// Calls `each` with the start, end and shape of every word of `text`, and
/// returns the number of newlines in `text`: words split on whitespace if
/// `whitespace_split`, else on everything but alphanumeric characters (the
/// two [`WordSplit`](super::WordSplit)s).
#[inline]
pub(super) fn words(
    text: &[u8],
    whitespace_split: bool,
    each: impl FnMut(usize, usize, Shape),
) -> u64 {
    if whitespace_split {
        scan::<true>(
            text,
            Class::NonWhitespace,
            &NON_WHITESPACE,
            non_whitespace,
            |c| !c.is_whitespace(),
            each,
        )
    } else {
        scan::<false>(
            text,
            Class::Alphanumeric,
            &ALPHANUMERIC,
            alphanumeric,
            char::is_alphanumeric,
            each,
        )
    }
}

/// Byte classes of the scanner's tables.
const SEP: u8 = 0;
const LOWER: u8 = 1;
const UPPER: u8 = 2;
const HIGH: u8 = 3;

/// Classes for [`WordSplit::Alphanumeric`](super::WordSplit::Alphanumeric).
static ALPHANUMERIC: [u8; 256] = class_table(false);
/// Classes for [`WordSplit::Whitespace`](super::WordSplit::Whitespace).
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

/// [`WordSplit::Alphanumeric`](super::WordSplit::Alphanumeric) on eight ASCII bytes: `[0-9A-Za-z]`.
#[inline]
fn alphanumeric(x: u64) -> Swar {
    let upper = in_range(x, b'A', b'Z');
    Swar {
        word: in_range(x, b'0', b'9') | upper | in_range(x, b'a', b'z'),
        upper,
    }
}

/// [`WordSplit::Whitespace`](super::WordSplit::Whitespace) on eight ASCII bytes: anything but tab, LF,
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
