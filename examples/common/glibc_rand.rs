//! glibc's `rand()`, so that examples generating their data as Phoenix++'s
//! apps do (`rand() % n`, never seeded) see the very same numbers.
//!
//! glibc's default generator (`random()`, `TYPE_3`) is an additive lagged
//! Fibonacci generator: `r[i] = r[i-3] + r[i-31]` (mod 2^32), its first 31
//! words filled from the seed by the "minimal standard" LCG
//! (`r[i] = 16807 * r[i-1] mod (2^31 - 1)`), words 31..34 copying words
//! 0..3. Its first 310 outputs are thrown away; each output is the word
//! shifted right by one, so in `0..2^31`.
//!
//! Checked against gcc: the first values for seed 1 (`rand()` unseeded) are
//! 1804289383, 846930886, 1681692777, ...; `tests/examples.rs` checks the
//! data the examples generate with a copy of its own.

/// glibc's `rand()` from a seed (`srand(seed)`; 1 when never seeded).
pub struct GlibcRand {
    /// The last 31 words, word `i` at `i % 31`.
    ring: [u32; 31],
    /// Where the next word goes: `i % 31` for word `i`.
    at: usize,
}

impl GlibcRand {
    /// The generator `srand(seed)` makes (`seed` 0 counts as 1, as in glibc).
    pub fn new(seed: u32) -> GlibcRand {
        let mut r = [0u32; 34];
        r[0] = if seed == 0 { 1 } else { seed };
        for i in 1..31 {
            // 16807 * r mod (2^31 - 1), as glibc computes it: on the word
            // read as a signed number, by Schrage's method.
            let prev = i64::from(r[i - 1] as i32);
            let (hi, lo) = (prev / 127_773, prev % 127_773);
            let mut word = 16_807 * lo - 2_836 * hi;
            if word < 0 {
                word += 2_147_483_647;
            }
            r[i] = word as u32;
        }
        for i in 31..34 {
            r[i] = r[i - 31];
        }
        let mut ring = [0u32; 31];
        for (i, &word) in r.iter().enumerate().skip(3) {
            ring[i % 31] = word;
        }
        let mut rand = GlibcRand { ring, at: 34 % 31 };
        for _ in 0..310 {
            rand.next_word();
        }
        rand
    }

    fn next_word(&mut self) -> u32 {
        // r[i] = r[i-3] + r[i-31]; r[i-31] is the word at i's own slot.
        let word = self.ring[(self.at + 28) % 31].wrapping_add(self.ring[self.at]);
        self.ring[self.at] = word;
        self.at = (self.at + 1) % 31;
        word
    }

    /// The next `rand()`: a number in `0..=2^31 - 1`.
    pub fn rand(&mut self) -> i32 {
        (self.next_word() >> 1) as i32
    }
}
