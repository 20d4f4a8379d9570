//! ### What it does
//! Finds threads and tasks started from workflow code: `std::thread::{spawn, scope}`,
//! `thread::Builder`, `tokio::spawn`, `tokio::task::{spawn, spawn_blocking, spawn_local}`,
//! rayon's `join`/`scope`/`spawn` and parallel iterators (`par_iter` and friends, when rayon is
//! imported in the file).
//!
//! ### Why it breaks replay
//! The scheduler of the host decides when another thread or task runs. Work done there
//! interleaves with the workflow in an order that is not recorded, is lost on a crash, and is
//! not re-created on replay.
//!
//! ### Example
//! ```text
//! tokio::spawn(async move { notify(order).await });
//! let totals: Vec<_> = items.par_iter().map(price).collect();
//! ```
//!
//! ### Instead
//! Start child work through the SDK (`ctx.start_activity(..)` or a child workflow) and join
//! the returned futures; compute sequentially with `iter()`.
//!
//! ### Known problems
//! Parallel-iterator methods are recognised by name when the file imports rayon.

use super::{Hit, Matcher::*, MethodCall, PathRule, Rule, RuleMeta};
use crate::model::Level;

/// The rule's description.
pub const META: RuleMeta = RuleMeta {
    id: "spawn",
    default_level: Level::Deny,
    summary: "starts a thread or task whose scheduling is not recorded",
};

const WHAT: &str = "starts a thread or task whose scheduling is not recorded in the history";
const INSTEAD: &str =
    "run concurrent work as activities or child workflows through `ctx` and join their futures";

const fn r(matcher: super::Matcher) -> PathRule {
    PathRule {
        matcher,
        what: WHAT,
        instead: INSTEAD,
    }
}

pub(crate) const PATHS: &[PathRule] = &[
    r(Tail(&["std"], &["thread", "spawn"])),
    r(Tail(&["std"], &["thread", "scope"])),
    r(Tail(&["std"], &["Builder", "new"])),
    r(Tail(&["tokio", "madsim"], &["spawn"])),
    r(Tail(&["tokio", "madsim"], &["task", "spawn_blocking"])),
    r(Tail(&["tokio", "madsim"], &["task", "spawn_local"])),
    r(Tail(&["tokio", "madsim"], &["task", "block_in_place"])),
    r(Tail(&["async_std"], &["task", "spawn"])),
    r(Tail(&["smol"], &["spawn"])),
    r(Tail(&["rayon"], &["join"])),
    r(Tail(&["rayon"], &["join_context"])),
    r(Tail(&["rayon"], &["scope"])),
    r(Tail(&["rayon"], &["spawn"])),
    r(Tail(&["rayon"], &["spawn_fifo"])),
];

const PAR_METHODS: &[&str] = &[
    "par_iter",
    "par_iter_mut",
    "into_par_iter",
    "par_bridge",
    "par_chunks",
    "par_chunks_mut",
    "par_windows",
    "par_extend",
    "par_sort",
    "par_sort_unstable",
    "par_drain",
    "par_lines",
    "par_split",
];

/// The rule, for the registry.
pub struct Spawn;

impl Rule for Spawn {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn paths(&self) -> &'static [PathRule] {
        PATHS
    }

    /// A rayon parallel-iterator method, when the file imports rayon.
    fn method_call(&self, call: &MethodCall<'_>) -> Option<Hit> {
        let name = call.method;
        (PAR_METHODS.contains(&name) && call.imports("rayon")).then(|| {
            Hit::new(
                META.id,
                format!("`.{name}()` runs closures on rayon's thread pool in an unrecorded order"),
                "iterate sequentially (`iter()`), or move the parallel work into an activity",
            )
        })
    }
}
