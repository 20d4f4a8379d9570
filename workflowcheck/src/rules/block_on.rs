//! ### What it does
//! Finds blocking on a future from workflow code: `futures::executor::block_on`,
//! `Runtime::block_on`, `Handle::block_on` (any `.block_on(..)` method call),
//! `pollster::block_on` and `futures_lite::future::block_on`.
//!
//! ### Why it breaks replay
//! `block_on` drives the future on the host's executor, outside the workflow's deterministic
//! scheduler: timers and I/O inside it are real, and the workflow thread blocks (or panics
//! inside an async runtime), so the history of the workflow no longer describes what ran.
//!
//! ### Example
//! ```text
//! let total = futures::executor::block_on(fetch_total());
//! ```
//!
//! ### Instead
//! `.await` the future inside the workflow, or move the blocking work into an activity.
//!
//! ### Known problems
//! Any method named `block_on` is reported, whatever its receiver.

use super::{Hit, Matcher::*, MethodCall, PathRule, Rule, RuleMeta};
use crate::model::Level;

/// The rule's description.
pub const META: RuleMeta = RuleMeta {
    id: "block-on",
    default_level: Level::Deny,
    summary: "blocks on a future outside the workflow scheduler",
};

const WHAT: &str =
    "drives a future on the host executor, outside the deterministic workflow scheduler";
const INSTEAD: &str = "`.await` the future in the workflow, or do the blocking work in an activity";

const fn r(matcher: super::Matcher) -> PathRule {
    PathRule {
        matcher,
        what: WHAT,
        instead: INSTEAD,
    }
}

pub(crate) const PATHS: &[PathRule] = &[
    r(Tail(&["futures", "futures_executor"], &["block_on"])),
    r(Tail(&["pollster"], &["block_on"])),
    r(Tail(&["futures_lite", "smol"], &["block_on"])),
    r(Tail(&["async_std"], &["task", "block_on"])),
];

/// The rule, for the registry.
pub struct BlockOn;

impl Rule for BlockOn {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn paths(&self) -> &'static [PathRule] {
        PATHS
    }

    /// Any `.block_on(..)` method call (`Runtime`, `Handle`).
    fn method_call(&self, call: &MethodCall<'_>) -> Option<Hit> {
        (call.method == "block_on")
            .then(|| Hit::new(META.id, format!("`.block_on()` {WHAT}"), INSTEAD))
    }
}
