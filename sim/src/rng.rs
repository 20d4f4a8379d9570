//! The simulation's own deterministic random numbers, outside madsim: one module, so every
//! part mixes bits the same way.
//!
//! - [`splitmix64`] / [`mix64`]: Steele, Lea and Flood's SplitMix64 step and finaliser. The
//!   engine draws run and request ids with it; the SDK's workflow RNG is built on it.
//! - [`Rng`]: xoshiro256** seeded through SplitMix64, for fault plans (generated and shrunk
//!   outside the simulation, so they cannot use madsim's RNG).
//!
//! Invariant: integer arithmetic only (no `ln`/`exp`, whose last bits vary between platforms),
//! no global state; the same seed gives the same numbers on every machine and build.

/// Advances `state` by the golden-ratio increment and returns its mix ([`mix64`]).
pub(crate) fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    mix64(*state)
}

/// SplitMix64's finaliser: a bijection on `u64` that spreads every input bit over the output.
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A small deterministic RNG: xoshiro256** seeded through splitmix64.
#[derive(Clone, Debug)]
pub(crate) struct Rng {
    s: [u64; 4],
}

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        let mut st = seed;
        let s = [
            splitmix64(&mut st),
            splitmix64(&mut st),
            splitmix64(&mut st),
            splitmix64(&mut st),
        ];
        Rng { s }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in `[0, 1)`.
    pub(crate) fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `[0, n)`; 0 when `n == 0`.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        // Multiply-shift; the bias is below 2^-64 * n, irrelevant here.
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `[lo, hi]`.
    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        lo + self.below(hi - lo + 1)
    }

    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }

    /// Roughly log-uniform in `[lo, hi]` (lo >= 1): an octave `[lo*2^k, lo*2^(k+1))` drawn
    /// uniformly, then a value uniformly within it, so short and long values are both common.
    /// Integer arithmetic only (no `ln`/`exp`, whose last bits vary between platforms).
    pub(crate) fn log_range(&mut self, lo: u64, hi: u64) -> u64 {
        let lo = lo.max(1);
        let hi = hi.max(lo);
        let mut octaves = 1u64;
        while lo.saturating_mul(1 << octaves) <= hi && octaves < 63 {
            octaves += 1;
        }
        let k = self.below(octaves) as u32;
        let start = lo.saturating_mul(1 << k);
        let end = lo.saturating_mul(1 << (k + 1)).saturating_sub(1).min(hi);
        self.range(start, end.max(start))
    }

    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// An index drawn with the given weights (all zero: index 0).
    pub(crate) fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u64 = weights.iter().map(|w| u64::from(*w)).sum();
        let mut x = self.below(total);
        for (i, w) in weights.iter().enumerate() {
            let w = u64::from(*w);
            if x < w {
                return i;
            }
            x -= w;
        }
        0
    }
}
