//! Virtual wall-clock time for histories.
//!
//! Event times are `BASE + (virtual time since the run started)`, so the same seed gives the same
//! timestamps on every machine (madsim's own `SystemTime` starts at a seed-dependent date).

use std::time::Duration;

use crate::history::Timestamp;

thread_local! {
    /// The running simulation's time source, while a run is on this thread (see [`RunClock`]).
    static TIME: std::cell::RefCell<Option<madsim::time::TimeHandle>> =
        const { std::cell::RefCell::new(None) };
}

/// Makes [`instant_now`] read the current simulation's clock directly while it lives (a run
/// holds one from its start to its end).
pub(crate) struct RunClock(());

impl RunClock {
    /// Inside a simulation only.
    pub(crate) fn enter() -> Self {
        TIME.with(|t| *t.borrow_mut() = Some(madsim::time::TimeHandle::current()));
        RunClock(())
    }
}

impl Drop for RunClock {
    fn drop(&mut self) {
        let _ = TIME.try_with(|t| t.borrow_mut().take());
    }
}

/// Virtual now: `tokio::time::Instant::now()` without its detour through the C library's
/// `clock_gettime` (which madsim intercepts, then converts to a `timespec` and back; ~5% of a
/// seed's instructions when every trace entry, send and call asks). Outside a run, the same as
/// `Instant::now()`.
pub fn instant_now() -> tokio::time::Instant {
    TIME.with(|t| match &*t.borrow() {
        Some(time) => time.now_instant(),
        None => tokio::time::Instant::now(),
    })
}

/// Virtual time since the current simulation's runtime started, as madsim counts it (`None`
/// outside a run): what [`instant_now`] adds to its zero, without the `Instant` arithmetic.
fn run_elapsed() -> Option<Duration> {
    TIME.with(|t| t.borrow().as_ref().map(|time| time.elapsed()))
}

/// 2026-01-01T00:00:00Z in nanoseconds since the Unix epoch.
pub const BASE_NANOS: i64 = 1_767_225_600_000_000_000;

/// The simulation's clock, passed explicitly to everything that stamps time.
#[derive(Clone, Copy, Debug)]
pub struct SimClock {
    start: tokio::time::Instant,
    /// [`run_elapsed`] at the start, when started inside a run: `elapsed` then subtracts two
    /// durations (a clock is read for every trace entry, send and call).
    start_elapsed: Option<Duration>,
}

impl SimClock {
    /// A clock whose zero is "now" in the current simulation.
    pub fn start() -> Self {
        SimClock {
            start: instant_now(),
            start_elapsed: run_elapsed(),
        }
    }

    /// Virtual time elapsed since the run started.
    pub fn elapsed(&self) -> Duration {
        if let Some(start) = self.start_elapsed {
            if let Some(now) = run_elapsed() {
                return now.saturating_sub(start);
            }
        }
        instant_now().saturating_duration_since(self.start)
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
