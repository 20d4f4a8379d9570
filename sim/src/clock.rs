//! Virtual wall-clock time for histories.
//!
//! Event times are `BASE + (virtual time since the run started)`, so the same seed gives the same
//! timestamps on every machine (madsim's own `SystemTime` starts at a seed-dependent date).

use std::time::Duration;

use crate::history::Timestamp;

/// 2026-01-01T00:00:00Z in nanoseconds since the Unix epoch.
pub const BASE_NANOS: i64 = 1_767_225_600_000_000_000;

/// The simulation's clock, passed explicitly to everything that stamps time.
#[derive(Clone, Copy, Debug)]
pub struct SimClock {
    start: tokio::time::Instant,
}

impl SimClock {
    /// A clock whose zero is "now" in the current simulation.
    pub fn start() -> Self {
        SimClock {
            start: tokio::time::Instant::now(),
        }
    }

    /// Virtual time elapsed since the run started.
    pub fn elapsed(&self) -> Duration {
        tokio::time::Instant::now().saturating_duration_since(self.start)
    }

    /// The current virtual time as a history timestamp.
    pub fn now(&self) -> Timestamp {
        Timestamp::from_nanos(BASE_NANOS).plus(self.elapsed())
    }

    /// The tokio instant `d` after the run started.
    pub fn instant_after(&self, d: Duration) -> tokio::time::Instant {
        self.start + d
    }

    /// The tokio instant at which `t` occurs.
    pub fn instant_at(&self, t: Timestamp) -> tokio::time::Instant {
        self.start + t.since(Timestamp::from_nanos(BASE_NANOS))
    }
}
