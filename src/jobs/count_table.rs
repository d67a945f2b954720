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

use super::blocks::prefetch;
use crate::buffer::fold;

/// Longest word the tables hold; longer words take the general path.
pub(crate) const MAX_LEN: usize = 15;

/// Longest word a [`Short`] key holds.
pub(crate) const SHORT_LEN: usize = 7;

/// Slots in a new table (it doubles when three quarters full: fuller than
/// usual for linear probing, but a smaller table stays in the caches, which
/// measured 2-4% faster than doubling at half full).
const INITIAL_SLOTS: usize = 1 << 12;

/// A word packed into integers, with its length in the top byte.
pub(crate) trait Packed: Copy + Eq + Default {
    /// The word's hash, keyed with `seeds`.
    fn hash(self, seeds: (u64, u64)) -> u64;
    /// The word's bytes (zero-padded) and length.
    fn unpack(self) -> ([u8; 16], usize);
}

/// A word of at most [`SHORT_LEN`] bytes: its bytes and, in the top byte,
/// its length. Most words are this short, and their slots are 16 bytes, so
/// more of them stay in the caches.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Short(u64);

/// A word of at most [`MAX_LEN`] bytes: bytes 0..8, then bytes 8..15 and,
/// in the top byte, the length.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Long(u64, u64);

impl Packed for Short {
    #[inline]
    fn hash(self, seeds: (u64, u64)) -> u64 {
        fold(self.0 ^ seeds.0, seeds.1)
    }

    fn unpack(self) -> ([u8; 16], usize) {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.0.to_le_bytes());
        (bytes, (self.0 >> 56) as usize)
    }
}

impl Packed for Long {
    #[inline]
    fn hash(self, seeds: (u64, u64)) -> u64 {
        fold(self.0 ^ seeds.0, self.1 ^ seeds.1)
    }

    fn unpack(self) -> ([u8; 16], usize) {
        unpack(self.0, self.1)
    }
}

#[derive(Clone, Copy, Default)]
struct Slot<K> {
    key: K,
    /// Occurrences; 0 marks an empty slot.
    count: u64,
}

pub(crate) struct CountTable<K> {
    slots: Vec<Slot<K>>,
    len: usize,
    /// The most slots the table grows to: once it is three quarters full
    /// at this size, [`CountTable::add`] says so, and the caller drains it.
    max_slots: usize,
    seeds: (u64, u64),
    /// Words hashed, with their slots prefetched, and not yet counted.
    pending: [(K, u64); BATCH],
    pending_len: usize,
    /// Whether the slots have outgrown [`CACHED_BYTES`], so that words
    /// wait in `pending`.
    batching: bool,
}

/// Words hashed ahead of counting them. A table too large for the caches
/// costs a memory access per rare word; prefetching each slot when the
/// word is seen and counting it `BATCH` words later lets those accesses
/// overlap instead of following one another.
const BATCH: usize = 16;

/// Bytes of slots small enough to stay in a core's caches (its level-2
/// cache, on today's servers): such a table counts each word at once, as
/// batching would only add work.
const CACHED_BYTES: usize = 1 << 20;

impl<K: Packed> CountTable<K> {
    /// An empty table of unbounded size (for tests).
    #[cfg(test)]
    pub fn new() -> CountTable<K> {
        CountTable::with_max_bytes(usize::MAX)
    }

    /// An empty table whose slots never take more than `max_bytes` (but at
    /// least its initial size).
    pub fn with_max_bytes(max_bytes: usize) -> CountTable<K> {
        let fit = max_bytes / std::mem::size_of::<Slot<K>>();
        let max_slots = match fit.checked_next_power_of_two() {
            Some(p) if p == fit => p,
            Some(p) => p / 2,
            None => 1 << (usize::BITS - 1),
        };
        // Two random words from ahash's per-process random state.
        let random = ahash::RandomState::new();
        let seeds = (
            random.hash_one(0x6d72_u64) | 1,
            random.hash_one(0x6c6f_u64) | 1,
        );
        CountTable {
            slots: vec![Slot::default(); INITIAL_SLOTS],
            len: 0,
            max_slots: max_slots.max(INITIAL_SLOTS),
            seeds,
            pending: [(K::default(), 0); BATCH],
            pending_len: 0,
            batching: false,
        }
    }

    /// Counts one occurrence of the packed word `key` (at once, or with the
    /// next words: everything that reads the counts counts them first).
    /// Returns true when the table is full at its largest size: the caller
    /// must then [`drain`](CountTable::drain) it before adding more.
    #[inline]
    #[must_use]
    pub fn add(&mut self, key: K) -> bool {
        let hash = key.hash(self.seeds);
        if self.batching {
            self.add_later(key, hash)
        } else {
            self.insert(key, hash)
        }
    }

    /// Prefetches the slot of `key` and counts it with the next words.
    /// Kept out of line: a table that fits the caches never comes here.
    #[inline(never)]
    fn add_later(&mut self, key: K, hash: u64) -> bool {
        prefetch(&self.slots[hash as usize & (self.slots.len() - 1)]);
        self.pending[self.pending_len] = (key, hash);
        self.pending_len += 1;
        self.pending_len == BATCH && self.count_pending()
    }

    /// Counts the words waiting in `pending`; returns true if the table is
    /// full (a few words past three quarters at most: up to `BATCH`).
    #[inline]
    fn count_pending(&mut self) -> bool {
        let mut full = false;
        for k in 0..self.pending_len {
            let (key, hash) = self.pending[k];
            full |= self.insert(key, hash);
        }
        self.pending_len = 0;
        full
    }

    /// Counts `key`; returns true if that left the table full at its
    /// largest size.
    #[inline]
    fn insert(&mut self, key: K, hash: u64) -> bool {
        let mask = self.slots.len() - 1;
        let mut i = hash as usize & mask;
        loop {
            let slot = &mut self.slots[i];
            if slot.key == key && slot.count != 0 {
                // Cannot wrap: a count is a number of words of the input,
                // each at least one byte, so it stays below 2^64.
                slot.count += 1;
                return false;
            }
            if slot.count == 0 {
                *slot = Slot { key, count: 1 };
                self.len += 1;
                if self.len * 4 > self.slots.len() * 3 {
                    return self.grow();
                }
                return false;
            }
            i = (i + 1) & mask;
        }
    }

    /// Calls `each` with every word and its count, and empties the table
    /// (keeping its size).
    pub fn drain(&mut self, mut each: impl FnMut(&[u8], u64)) {
        let _ = self.count_pending();
        if self.len == 0 {
            return;
        }
        for slot in &mut self.slots {
            if slot.count != 0 {
                let (bytes, len) = slot.key.unpack();
                each(&bytes[..len], slot.count);
                *slot = Slot::default();
            }
        }
        self.len = 0;
    }

    /// Doubles the slots, or returns true if they are at their most.
    #[cold]
    fn grow(&mut self) -> bool {
        if self.slots.len() >= self.max_slots {
            return true;
        }
        let doubled = vec![Slot::default(); self.slots.len() * 2];
        let old = std::mem::replace(&mut self.slots, doubled);
        self.batching = self.slots.len() * std::mem::size_of::<Slot<K>>() > CACHED_BYTES;
        let mask = self.slots.len() - 1;
        for slot in old.into_iter().filter(|s| s.count != 0) {
            let mut i = slot.key.hash(self.seeds) as usize & mask;
            while self.slots[i].count != 0 {
                i = (i + 1) & mask;
            }
            self.slots[i] = slot;
        }
        false
    }
}

/// Packs `text[start..start + len]` (`len <= SHORT_LEN`).
#[inline]
pub(crate) fn pack_short(text: &[u8], start: usize, len: usize) -> Short {
    debug_assert!(len <= SHORT_LEN && start + len <= text.len());
    let word = match text.get(start..start + 8) {
        Some(window) => u64::from_le_bytes(window.try_into().expect("8 bytes")) & keep(len),
        None => {
            let mut bytes = [0u8; 8];
            bytes[..len].copy_from_slice(&text[start..start + len]);
            u64::from_le_bytes(bytes)
        }
    };
    Short(word | (len as u64) << 56)
}

/// Packs `text[start..start + len]` (`len <= MAX_LEN`).
#[inline]
pub(crate) fn pack(text: &[u8], start: usize, len: usize) -> Long {
    Long::from(pack_pair(text, start, len))
}

impl From<(u64, u64)> for Long {
    fn from((low, high): (u64, u64)) -> Long {
        Long(low, high)
    }
}

#[inline]
fn pack_pair(text: &[u8], start: usize, len: usize) -> (u64, u64) {
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

/// Lowercases the ASCII letters of eight bytes at once.
///
/// Every byte must be below 0x80 (a length byte is at most 15), so adding
/// to a byte never carries into the next one.
#[inline]
fn lower(x: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    // A byte's top bit is set after adding 0x3f iff it is >= b'A', and
    // after adding 0x25 iff it is > b'Z'.
    let at_least_a = x.wrapping_add(0x3f * ONES);
    let above_z = x.wrapping_add(0x25 * ONES);
    let upper = at_least_a & !above_z & (0x80 * ONES);
    x | (upper >> 2)
}

impl Short {
    /// The word with its ASCII letters lowercased.
    #[inline]
    pub fn ascii_lowercase(self) -> Short {
        Short(lower(self.0))
    }
}

impl Long {
    /// The word with its ASCII letters lowercased.
    #[inline]
    pub fn ascii_lowercase(self) -> Long {
        Long(lower(self.0), lower(self.1))
    }
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
                assert!(
                    packed == pack(&text[start..start + len], 0, len),
                    "start {start} len {len}"
                );
                let (bytes, n) = packed.unpack();
                assert_eq!(&bytes[..n], &text[start..start + len]);
                if len <= SHORT_LEN {
                    let short = pack_short(text, start, len);
                    assert!(short == pack_short(&text[start..start + len], 0, len));
                    let (bytes, n) = short.unpack();
                    assert_eq!(&bytes[..n], &text[start..start + len]);
                }
            }
        }
    }

    #[test]
    fn ascii_lowercasing_matches_the_standard_library() {
        let text: Vec<u8> = (0u8..0x80).collect();
        for start in 0..text.len() - MAX_LEN {
            let (bytes, len) = pack(&text, start, MAX_LEN).ascii_lowercase().unpack();
            assert_eq!(len, MAX_LEN);
            assert_eq!(
                &bytes[..len],
                &text[start..start + MAX_LEN].to_ascii_lowercase()[..]
            );
            let (bytes, len) = pack_short(&text, start, SHORT_LEN)
                .ascii_lowercase()
                .unpack();
            assert_eq!(len, SHORT_LEN);
            assert_eq!(
                &bytes[..len],
                &text[start..start + SHORT_LEN].to_ascii_lowercase()[..]
            );
        }
    }

    #[test]
    fn counts_survive_growth_and_drain_empties() {
        let words: Vec<String> = (0..20_000).map(|i| format!("w{}", i % 7_000)).collect();
        let mut table = CountTable::<Long>::new();
        let mut short = CountTable::<Short>::new();
        for word in &words {
            assert!(!table.add(pack(word.as_bytes(), 0, word.len())));
            assert!(!short.add(pack_short(word.as_bytes(), 0, word.len())));
        }
        let mut short_counts = HashMap::new();
        short.drain(|word, n| {
            short_counts.insert(word.to_vec(), n);
        });
        let mut counts = HashMap::new();
        table.drain(|word, n| {
            counts.insert(word.to_vec(), n);
        });
        assert_eq!(counts.len(), 7_000);
        assert_eq!(short_counts, counts);
        assert_eq!(counts[&b"w0".to_vec()], 3);
        assert_eq!(counts[&b"w6999".to_vec()], 2);
        let mut again = 0;
        table.drain(|_, _| again += 1);
        assert_eq!(again, 0);
        // The empty word is a word like any other (it has a length byte).
        assert!(!table.add(pack(b"", 0, 0)));
        table.drain(|word, n| assert_eq!((word, n), (&b""[..], 1)));
    }

    #[test]
    fn a_capped_table_says_when_it_is_full_and_never_grows_past_its_cap() {
        // 2^13 slots of 16 bytes: full past 6144 words.
        let mut table = CountTable::<Short>::with_max_bytes((1 << 17) + 100);
        let mut counts: HashMap<Vec<u8>, u64> = HashMap::new();
        let mut fulls = 0;
        for i in 0..100_000u32 {
            let word = format!("{}", i % 50_000);
            if table.add(pack_short(word.as_bytes(), 0, word.len())) {
                fulls += 1;
                assert!(table.slots.len() <= 1 << 13);
                table.drain(|w, n| *counts.entry(w.to_vec()).or_default() += n);
            }
        }
        table.drain(|w, n| *counts.entry(w.to_vec()).or_default() += n);
        assert!(fulls > 10, "{fulls}");
        assert_eq!(counts.len(), 50_000);
        assert!(counts.values().all(|&n| n == 2));
    }
}
