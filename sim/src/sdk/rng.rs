//! The workflow RNG: splitmix64, seeded from the run id. Nothing about it is written to history;
//! it is deterministic because the run id is.

use crate::rng::{mix64, splitmix64};

/// FNV-1a over the bytes, then a splitmix64 finaliser.
pub(crate) fn seed_from(run_id: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in run_id.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    mix64(h)
}

/// A small deterministic RNG (splitmix64).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkflowRng {
    state: u64,
}

impl WorkflowRng {
    /// An RNG starting from `seed`; the same seed gives the same sequence.
    pub fn new(seed: u64) -> Self {
        WorkflowRng { state: seed }
    }

    /// The next 64 uniformly random bits.
    pub fn next_u64(&mut self) -> u64 {
        splitmix64(&mut self.state)
    }

    /// Uniform in `0..n` (`n > 0`), by rejection so there is no modulo bias.
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "WorkflowRng::below(0)");
        let zone = u64::MAX - (u64::MAX % n);
        loop {
            let x = self.next_u64();
            if x < zone {
                return x % n;
            }
        }
    }

    /// Uniform in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `p` (`p <= 0`: never, `p >= 1`: always).
    pub fn chance(&mut self, p: f64) -> bool {
        self.next_f64() < p
    }
}
