//! ### What it does
//! Finds reads of the host's clock in workflow code: `SystemTime::now`, `Instant::now`,
//! `chrono::{Utc, Local}::now`, `time::OffsetDateTime::now_utc`/`now_local`,
//! `tokio::time::Instant::now`, and `.elapsed()` on an `Instant` or `SystemTime`.
//!
//! ### Why it breaks replay
//! A workflow is re-executed from its history after a crash or a worker restart. The clock
//! returns a different value on every execution, so any decision taken on it (a deadline, a
//! branch, a value written into a command) can differ on replay and the history no longer
//! matches: the workflow fails with a non-determinism error, or silently takes another path.
//!
//! ### Example
//! ```text
//! async fn expire(ctx: WorkflowContext, order: Order) -> Result<(), WorkflowError> {
//!     if SystemTime::now() > order.deadline { cancel(&ctx).await?; }
//!     Ok(())
//! }
//! ```
//!
//! ### Instead
//! `ctx.workflow_time()`, which is recorded in the history and replayed.
//!
//! ### Known problems
//! `.elapsed()` is only recognised when the receiver's type is visible (a `let` annotation, a
//! parameter type or an `Instant::now()` initialiser).

use super::{Hit, Matcher::*, MethodCall, PathRule, Rule, RuleMeta};
use crate::model::Level;

/// The rule's description.
pub const META: RuleMeta = RuleMeta {
    id: "wall-clock",
    default_level: Level::Deny,
    summary: "reads the wall clock, which differs on replay",
};

const WHAT: &str = "reads the host's wall clock, which returns a different value on replay";
const INSTEAD: &str = "use `ctx.workflow_time()`, which is recorded in the workflow history";

const fn r(matcher: super::Matcher) -> PathRule {
    PathRule {
        matcher,
        what: WHAT,
        instead: INSTEAD,
    }
}

pub(crate) const PATHS: &[PathRule] = &[
    r(Tail(&["std", "core"], &["SystemTime", "now"])),
    r(Tail(&["std", "core"], &["Instant", "now"])),
    r(Tail(&["tokio", "madsim"], &["Instant", "now"])),
    r(Tail(&["chrono"], &["Utc", "now"])),
    r(Tail(&["chrono"], &["Local", "now"])),
    r(Tail(&["chrono"], &["Utc", "today"])),
    r(Tail(&["chrono"], &["Local", "today"])),
    r(Tail(&["time"], &["OffsetDateTime", "now_utc"])),
    r(Tail(&["time"], &["OffsetDateTime", "now_local"])),
    r(Tail(&["time"], &["UtcDateTime", "now"])),
    r(Tail(&["time"], &["Instant", "now"])),
    r(Tail(&["quanta"], &["Instant", "now"])),
    r(Tail(&["jiff"], &["Timestamp", "now"])),
    r(Tail(&["jiff"], &["Zoned", "now"])),
];

/// Is this resolved type a clock reading (`Instant`/`SystemTime`)?
pub fn is_clock_type(segs: &[String]) -> bool {
    segs.len() >= 2
        && matches!(segs[0].as_str(), "std" | "core" | "tokio" | "madsim")
        && matches!(segs[segs.len() - 1].as_str(), "Instant" | "SystemTime")
}

/// The rule, for the registry.
pub struct WallClock;

impl Rule for WallClock {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn paths(&self) -> &'static [PathRule] {
        PATHS
    }

    /// `.elapsed()` on a clock value.
    fn method_call(&self, call: &MethodCall<'_>) -> Option<Hit> {
        let name = call.method;
        let clock = || {
            call.receiver_types
                .is_some_and(|t| t.iter().any(|c| is_clock_type(c)))
        };
        (name == "elapsed" && clock()).then(|| {
            Hit::new(
                META.id,
                format!("`.{name}()` on an instant {WHAT}"),
                "compute durations from `ctx.workflow_time()` values",
            )
        })
    }
}
