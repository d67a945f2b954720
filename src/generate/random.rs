//! The random source and the distributions both generators draw from:
//! SplitMix64 and xoshiro256** streams, Vose's alias table, and a
//! logarithm and exponential that give the same bits on every platform.

use std::f64::consts::{LN_2, SQRT_2};

/// Mixes a seed and a block index into the seed of that block's stream.
///
/// Both go through the SplitMix64 finaliser so that neighbouring seeds and
/// neighbouring blocks give unrelated streams.
pub(super) fn block_seed(seed: u64, index: u64) -> u64 {
    mix64(mix64(seed ^ 0x6a09_e667_f3bc_c908) ^ index)
}

/// The SplitMix64 output function: a bijective 64-bit mixer.
pub(super) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// SplitMix64 (Steele, Lea and Flood, 2014): a Weyl sequence passed through
/// [`mix64`]. Used to seed [`Xoshiro256`] and to derive words from ranks.
pub(super) struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub(super) fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    pub(super) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix64(self.state)
    }

    /// A value in `0..n`; the modulo bias is irrelevant for tiny `n`.
    pub(super) fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// xoshiro256** (Blackman and Vigna, 2018): the fast stream of each block.
pub(super) struct Xoshiro256 {
    s: [u64; 4],
}

impl Xoshiro256 {
    /// Seeds the state from SplitMix64, as the authors recommend. The four
    /// outputs come from four distinct SplitMix64 states, and its output
    /// function is a bijection, so at most one of them is zero and the state
    /// is never all zeros.
    pub(super) fn new(seed: u64) -> Xoshiro256 {
        let mut sm = SplitMix64::new(seed);
        let s = [sm.next_u64(), sm.next_u64(), sm.next_u64(), sm.next_u64()];
        Xoshiro256 { s }
    }

    #[inline]
    pub(super) fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }
}

/// Draws an index from an alias table made by [`build_alias`] with one
/// random number: the high half picks a column, the low half decides
/// between the column and its alias.
#[inline]
pub(super) fn alias_sample(alias: &[u64], r: u64) -> usize {
    let n = alias.len() as u64;
    let column = ((r >> 32) * n) >> 32;
    let entry = alias[column as usize];
    if (r as u32) < (entry >> 32) as u32 {
        column as usize
    } else {
        entry as u32 as usize
    }
}

/// Builds Vose's alias table for weights `(rank + 1)^-s`.
pub(super) fn build_alias(n: usize, s: f64) -> Vec<u64> {
    let mut p: Vec<f64> = (0..n)
        .map(|rank| det_exp(-s * det_ln((rank + 1) as f64)))
        .collect();
    // The weights are at most 1 (rank 0 is exactly 1) and sum to at most
    // n, so the sum is finite and at least 1.
    let sum: f64 = p.iter().sum();
    let scale = n as f64 / sum;
    for w in &mut p {
        *w *= scale;
    }
    let mut small = Vec::new();
    let mut large = Vec::new();
    for (i, &w) in p.iter().enumerate() {
        if w < 1.0 {
            small.push(i as u32);
        } else {
            large.push(i as u32);
        }
    }
    // A full column accepts itself; its alias is never taken.
    let mut table: Vec<u64> = (0..n)
        .map(|i| (u64::from(u32::MAX) << 32) | i as u64)
        .collect();
    while let (Some(&lo), Some(&hi)) = (small.last(), large.last()) {
        small.pop();
        large.pop();
        let threshold = (p[lo as usize] * 4_294_967_296.0) as u64;
        let threshold = threshold.min(u64::from(u32::MAX));
        table[lo as usize] = (threshold << 32) | u64::from(hi);
        p[hi as usize] = (p[hi as usize] + p[lo as usize]) - 1.0;
        if p[hi as usize] < 1.0 {
            small.push(hi);
        } else {
            large.push(hi);
        }
    }
    // Whatever is left is full up to rounding error and keeps the default.
    table
}

/// Natural logarithm of `x >= 1` using only basic IEEE-754 arithmetic, so
/// the result is the same on every platform (unlike `f64::ln`, which comes
/// from the C library). Accurate to a few ulps, which is plenty here.
fn det_ln(x: f64) -> f64 {
    debug_assert!(x.is_finite() && x >= 1.0);
    let bits = x.to_bits();
    let mut exponent = ((bits >> 52) & 0x7ff) as i64 - 1023;
    // Mantissa in [1, 2), then moved into [1/sqrt 2, sqrt 2] so the series
    // below converges fast.
    let mut m = f64::from_bits((bits & ((1u64 << 52) - 1)) | (1023u64 << 52));
    if m > SQRT_2 {
        m *= 0.5;
        exponent += 1;
    }
    // ln m = 2 atanh(t) = 2 (t + t^3/3 + t^5/5 + ...), with |t| < 0.172.
    let t = (m - 1.0) / (m + 1.0);
    let t2 = t * t;
    let mut power = t;
    let mut series = 0.0;
    for k in 0..14 {
        series += power / f64::from(2 * k + 1);
        power *= t2;
    }
    2.0 * series + exponent as f64 * LN_2
}

/// `e^y` for `y <= 0` using only basic IEEE-754 arithmetic; see [`det_ln`].
fn det_exp(y: f64) -> f64 {
    debug_assert!(y <= 0.0);
    if y < -745.0 {
        return 0.0;
    }
    // y = k ln 2 + r with |r| <= ln 2 / 2; `round` is exact everywhere.
    // ln 2 is split in two (Cody and Waite) so that k * LN2_HI is exact and
    // r keeps its accuracy even for large k.
    const LN2_HI: f64 = 6.931_471_803_691_238e-1; // 0x3fe62e42fee00000
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10; // 0x3dea39ef35793c76
    let k = (y / LN_2).round();
    let r = (y - k * LN2_HI) - k * LN2_LO;
    let mut term = 1.0;
    let mut sum = 1.0;
    for i in 1..20 {
        term *= r / f64::from(i);
        sum += term;
    }
    // Scale by 2^k in two steps, so subnormal results need no special case.
    let k = k as i64;
    let half = k / 2;
    sum * pow2(half) * pow2(k - half)
}

/// `2^k` for `-1022 <= k <= 1023`.
fn pow2(k: i64) -> f64 {
    debug_assert!((-1022..=1023).contains(&k));
    f64::from_bits(((k + 1023) as u64) << 52)
}

#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn deterministic_math_is_accurate() {
        for x in [1.0f64, 2.0, 3.0, 10.0, 12_345.0, 1e7, 1e300] {
            assert!((det_ln(x) - x.ln()).abs() <= 1e-14 * x.ln().max(1.0));
        }
        for y in [0.0f64, -1e-3, -0.5, -1.0, -10.0, -100.0, -700.0] {
            let want = y.exp();
            assert!((det_exp(y) - want).abs() <= 1e-14 * want, "{y}");
        }
        assert_eq!(det_exp(0.0), 1.0);
        assert_eq!(det_exp(-1000.0), 0.0);
        assert!(det_exp(-740.0) > 0.0);
    }
}
