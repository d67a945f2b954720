//! [`CountTable`]: the word counter's in-mapper combining table.
//!
//! Word count emits one pair per word, and a general hash table pays for
//! its generality on every one of them: hashing a byte slice of any length,
//! probing control bytes, comparing through a function call, and calling
//! the combiner through a pointer. This table does one thing. A word of at
//! most [`MAX_LEN`] bytes is packed into two `u64`s (its bytes, zero-padded,
//! and its length in the top byte), so that building a key is two loads and
//! a mask, lowercasing ASCII is a few arithmetic operations on both words at
//! once, hashing is one multiplication, and comparing is two integer
//! compares. Slots are 24 bytes, probed linearly, so a lookup usually
//! touches one cache line.
//!
//! The word counter fills a table per split and then emits each distinct
//! word once with its count ("in-mapper combining"): the engine's combiner
//! still folds those across splits and threads.
//!
//! The hash is keyed with seeds drawn at random for each process, so input
//! crafted to collide cannot be prepared in advance.

/// Longest word the table holds; longer words take the general path.
pub(crate) const MAX_LEN: usize = 15;

/// Slots in a new table (it doubles when half full).
const INITIAL_SLOTS: usize = 1 << 12;

#[derive(Clone, Copy, Default)]
struct Slot {
    /// Bytes 0..8 of the word, little-endian, zero-padded.
    low: u64,
    /// Bytes 8..15, zero-padded, and the length in the top byte.
    high: u64,
    /// Occurrences; 0 marks an empty slot.
    count: u64,
}

pub(crate) struct CountTable {
    slots: Vec<Slot>,
    len: usize,
    seeds: (u64, u64),
}

impl CountTable {
    pub fn new() -> CountTable {
        // Two random words from ahash's per-process random state.
        let random = ahash::RandomState::new();
        let seeds = (
            random.hash_one(0x6d72_u64) | 1,
            random.hash_one(0x6c6f_u64) | 1,
        );
        CountTable {
            slots: vec![Slot::default(); INITIAL_SLOTS],
            len: 0,
            seeds,
        }
    }

    /// Counts one occurrence of the packed word `(low, high)`.
    #[inline]
    pub fn add(&mut self, (low, high): (u64, u64)) {
        let mask = self.slots.len() - 1;
        let mut i = self.hash(low, high) as usize & mask;
        loop {
            let slot = &mut self.slots[i];
            if slot.low == low && slot.high == high && slot.count != 0 {
                slot.count += 1;
                return;
            }
            if slot.count == 0 {
                *slot = Slot {
                    low,
                    high,
                    count: 1,
                };
                self.len += 1;
                if self.len * 2 > self.slots.len() {
                    self.grow();
                }
                return;
            }
            i = (i + 1) & mask;
        }
    }

    /// Calls `each` with every word and its count, and empties the table
    /// (keeping its size for the next split).
    pub fn drain(&mut self, mut each: impl FnMut(&[u8], u64)) {
        if self.len == 0 {
            return;
        }
        for slot in &mut self.slots {
            if slot.count != 0 {
                let (bytes, len) = unpack(slot.low, slot.high);
                each(&bytes[..len], slot.count);
                *slot = Slot::default();
            }
        }
        self.len = 0;
    }

    /// Empties the table without emitting anything.
    pub fn clear(&mut self) {
        if self.len != 0 {
            self.slots.fill(Slot::default());
            self.len = 0;
        }
    }

    #[inline]
    fn hash(&self, low: u64, high: u64) -> u64 {
        fold(low ^ self.seeds.0, high ^ self.seeds.1)
    }

    #[cold]
    fn grow(&mut self) {
        let doubled = vec![Slot::default(); self.slots.len() * 2];
        let old = std::mem::replace(&mut self.slots, doubled);
        let mask = self.slots.len() - 1;
        for slot in old.into_iter().filter(|s| s.count != 0) {
            let mut i = self.hash(slot.low, slot.high) as usize & mask;
            while self.slots[i].count != 0 {
                i = (i + 1) & mask;
            }
            self.slots[i] = slot;
        }
    }
}

/// Multiplies as 128 bits and folds the halves together: every input bit
/// reaches every output bit.
#[inline]
fn fold(x: u64, y: u64) -> u64 {
    let product = u128::from(x) * u128::from(y);
    (product as u64) ^ ((product >> 64) as u64)
}

/// Packs `text[start..start + len]` (`len <= MAX_LEN`).
#[inline]
pub(crate) fn pack(text: &[u8], start: usize, len: usize) -> (u64, u64) {
    debug_assert!(len <= MAX_LEN && start + len <= text.len());
    let (low, high) = match text.get(start..start + 16) {
        // Room for two full loads: mask off what is past the word.
        Some(window) => {
            let low = u64::from_le_bytes(window[..8].try_into().expect("8 bytes"));
            let high = u64::from_le_bytes(window[8..].try_into().expect("8 bytes"));
            (low & keep(len), high & keep(len.saturating_sub(8)))
        }
        // Near the end of the text: copy what there is.
        None => {
            let mut bytes = [0u8; 16];
            bytes[..len].copy_from_slice(&text[start..start + len]);
            (
                u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")),
                u64::from_le_bytes(bytes[8..].try_into().expect("8 bytes")),
            )
        }
    };
    (low, high | (len as u64) << 56)
}

/// A mask of the low `bytes` bytes (all of them from 8 on).
#[inline]
fn keep(bytes: usize) -> u64 {
    if bytes >= 8 {
        u64::MAX
    } else {
        (1u64 << (bytes * 8)) - 1
    }
}

/// Lowercases the ASCII letters of a packed word, eight bytes at a time.
///
/// Every byte must be below 0x80 (the length byte is at most 15), so adding
/// to a byte never carries into the next one.
#[inline]
pub(crate) fn ascii_lowercase((low, high): (u64, u64)) -> (u64, u64) {
    fn lower(x: u64) -> u64 {
        const ONES: u64 = 0x0101_0101_0101_0101;
        // A byte's top bit is set after adding 0x3f iff it is >= b'A', and
        // after adding 0x25 iff it is > b'Z'.
        let at_least_a = x.wrapping_add(0x3f * ONES);
        let above_z = x.wrapping_add(0x25 * ONES);
        let upper = at_least_a & !above_z & (0x80 * ONES);
        x | (upper >> 2)
    }
    (lower(low), lower(high))
}

/// The bytes and length of a packed word.
#[inline]
fn unpack(low: u64, high: u64) -> ([u8; 16], usize) {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&low.to_le_bytes());
    bytes[8..].copy_from_slice(&high.to_le_bytes());
    (bytes, (high >> 56) as usize)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn packing_agrees_with_and_without_room_to_load() {
        let text = b"abcdefghijklmnopqrstuvwxyz0123456789";
        for start in 0..text.len() {
            for len in 0..=MAX_LEN.min(text.len() - start) {
                let packed = pack(text, start, len);
                let exact = pack(&text[start..start + len], 0, len);
                assert_eq!(packed, exact, "start {start} len {len}");
                let (bytes, n) = unpack(packed.0, packed.1);
                assert_eq!(&bytes[..n], &text[start..start + len]);
            }
        }
    }

    #[test]
    fn ascii_lowercasing_matches_the_standard_library() {
        let text: Vec<u8> = (0u8..0x80).collect();
        for start in 0..text.len() - MAX_LEN {
            let (bytes, len) = {
                let (low, high) = ascii_lowercase(pack(&text, start, MAX_LEN));
                unpack(low, high)
            };
            assert_eq!(len, MAX_LEN);
            assert_eq!(
                &bytes[..len],
                &text[start..start + MAX_LEN].to_ascii_lowercase()[..]
            );
        }
    }

    #[test]
    fn counts_survive_growth_and_drain_empties() {
        let words: Vec<String> = (0..20_000).map(|i| format!("w{}", i % 7_000)).collect();
        let mut table = CountTable::new();
        for word in &words {
            table.add(pack(word.as_bytes(), 0, word.len()));
        }
        let mut counts = HashMap::new();
        table.drain(|word, n| {
            counts.insert(word.to_vec(), n);
        });
        assert_eq!(counts.len(), 7_000);
        assert_eq!(counts[&b"w0".to_vec()], 3);
        assert_eq!(counts[&b"w6999".to_vec()], 2);
        let mut again = 0;
        table.drain(|_, _| again += 1);
        assert_eq!(again, 0);
        // The empty word is a word like any other (it has a length byte).
        table.add(pack(b"", 0, 0));
        table.drain(|word, n| assert_eq!((word, n), (&b""[..], 1)));
    }
}
