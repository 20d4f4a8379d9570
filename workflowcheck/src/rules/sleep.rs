//! ### What it does
//! Finds real sleeps and timers in workflow code: `std::thread::sleep`,
//! `tokio::time::{sleep, sleep_until, interval, interval_at, timeout}`,
//! `async_std::task::sleep`, and the same under `madsim`.
//!
//! ### Why it breaks replay
//! A real timer is not recorded in the history. On replay the workflow waits again (or, in a
//! simulation, the wait is not a durable event at all), so a crash during the wait loses it,
//! and the order of a timer against other events can differ between executions.
//! `std::thread::sleep` additionally blocks the worker thread that runs every workflow.
//!
//! ### Example
//! ```text
//! tokio::time::sleep(Duration::from_secs(60)).await;
//! ```
//!
//! ### Instead
//! `ctx.timer(duration).await`, a durable timer recorded in the history.
//!
//! ### Known problems
//! A timeout around an activity is better expressed as an activity option
//! (`start_to_close_timeout`) than as a timer raced against it.

use super::{Matcher::*, PathRule, Rule, RuleMeta};
use crate::model::Level;

/// The rule's description.
pub const META: RuleMeta = RuleMeta {
    id: "sleep",
    default_level: Level::Deny,
    summary: "waits on a real timer that is not recorded in the history",
};

const WHAT: &str = "waits on a real timer that is not recorded in the workflow history";
const INSTEAD: &str = "use `ctx.timer(duration).await`, a durable timer";

const fn r(matcher: super::Matcher) -> PathRule {
    PathRule {
        matcher,
        what: WHAT,
        instead: INSTEAD,
    }
}

pub(crate) const PATHS: &[PathRule] = &[
    r(Tail(&["std"], &["thread", "sleep"])),
    r(Tail(&["std"], &["thread", "sleep_ms"])),
    r(Tail(&["tokio", "madsim"], &["time", "sleep"])),
    r(Tail(&["tokio", "madsim"], &["time", "sleep_until"])),
    r(Tail(&["tokio", "madsim"], &["time", "interval"])),
    r(Tail(&["tokio", "madsim"], &["time", "interval_at"])),
    r(Tail(&["tokio", "madsim"], &["time", "timeout"])),
    r(Tail(&["tokio", "madsim"], &["time", "timeout_at"])),
    r(Tail(&["async_std"], &["task", "sleep"])),
    r(Tail(&["async_std"], &["future", "timeout"])),
    r(Tail(&["futures_timer"], &["Delay", "new"])),
];

/// The rule, for the registry.
pub struct Sleep;

impl Rule for Sleep {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn paths(&self) -> &'static [PathRule] {
        PATHS
    }
}
