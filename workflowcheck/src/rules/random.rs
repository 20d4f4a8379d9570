//! ### What it does
//! Finds entropy sources in workflow code: `rand::{random, thread_rng, rng}`, `OsRng`,
//! `from_entropy`/`from_os_rng` on any RNG, `getrandom`, `fastrand`, `Uuid::new_v4`/`now_v7`
//! and `Ulid::new`.
//!
//! ### Why it breaks replay
//! Entropy differs on every execution. An id generated with `Uuid::new_v4()` and sent to an
//! activity on the first run is a different id on replay: the history shows a command the
//! replayed code does not issue, or an idempotency key that no longer matches.
//!
//! ### Example
//! ```text
//! let id = Uuid::new_v4();
//! let jitter: u64 = rand::random();
//! ```
//!
//! ### Instead
//! Seed an RNG from the history: `StdRng::seed_from_u64(ctx.random_seed())`; derive ids from
//! it (or from the workflow id); or generate them in an activity. An RNG seeded from
//! `ctx.random_seed()` is not reported.
//!
//! ### Known problems
//! An RNG passed in from outside the workflow is not tracked.

use super::{Matcher::*, PathRule, Rule, RuleMeta};
use crate::model::Level;

/// The rule's description.
pub const META: RuleMeta = RuleMeta {
    id: "random",
    default_level: Level::Deny,
    summary: "draws entropy, which differs on replay",
};

const WHAT: &str = "draws fresh entropy, which differs on every execution of the workflow";
const INSTEAD: &str =
    "seed an RNG from the history: `StdRng::seed_from_u64(ctx.random_seed())`, or generate the value in an activity";
const UUID_INSTEAD: &str =
    "derive the id from a seeded RNG (`ctx.random_seed()`) or the workflow id, or create it in an activity";

const fn r(matcher: super::Matcher) -> PathRule {
    PathRule {
        matcher,
        what: WHAT,
        instead: INSTEAD,
    }
}
const fn u(matcher: super::Matcher) -> PathRule {
    PathRule {
        matcher,
        what: WHAT,
        instead: UUID_INSTEAD,
    }
}

pub(crate) const PATHS: &[PathRule] = &[
    r(Tail(&["rand"], &["random"])),
    r(Tail(&["rand"], &["random_range"])),
    r(Tail(&["rand"], &["random_bool"])),
    r(Tail(&["rand"], &["random_iter"])),
    r(Tail(&["rand"], &["thread_rng"])),
    r(Tail(&["rand"], &["rng"])),
    r(Tail(&["rand", "rand_core"], &["OsRng"])),
    r(Tail(&["rand"], &["ThreadRng", "default"])),
    r(Tail(&[], &["from_entropy"])),
    r(Tail(&[], &["from_os_rng"])),
    r(Tail(&["getrandom"], &["getrandom"])),
    r(Tail(&["getrandom"], &["getrandom_uninit"])),
    r(Tail(&["getrandom"], &["fill"])),
    r(Tail(&["getrandom"], &["fill_uninit"])),
    r(Tail(&["getrandom"], &["u32"])),
    r(Tail(&["getrandom"], &["u64"])),
    r(Prefix(&["fastrand"])),
    u(Tail(&["uuid"], &["Uuid", "new_v4"])),
    u(Tail(&["uuid"], &["Uuid", "now_v7"])),
    u(Tail(&["uuid"], &["Uuid", "now_v6"])),
    u(Tail(&["uuid"], &["Uuid", "now_v1"])),
    u(Tail(&["ulid"], &["Ulid", "new"])),
    u(Tail(&["ulid"], &["Ulid", "generate"])),
];

/// The rule, for the registry.
pub struct Random;

impl Rule for Random {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn paths(&self) -> &'static [PathRule] {
        PATHS
    }
}
