//! ### What it does
//! Finds console output and input in workflow code: `print!`, `println!`, `eprint!`,
//! `eprintln!`, `dbg!` and `std::io::{stdin, stdout, stderr}`. A warning by default.
//!
//! ### Why it breaks replay
//! Output is a side effect outside the history: it is repeated on every replay, so logs show
//! the same line many times, and reading stdin is input the history does not hold.
//!
//! ### Example
//! ```text
//! println!("charging {}", order.id);
//! ```
//!
//! ### Instead
//! Use the SDK's replay-aware logger (`ctx.log(..)`/`tracing` through the worker), which
//! drops output during replay, or write from an activity.
//!
//! ### Known problems
//! Harmless debugging output is reported too, which is why the default level is `warn`.

use super::{Hit, Matcher::*, PathRule, RuleMeta};
use crate::config::Level;

pub const META: RuleMeta = RuleMeta {
    id: "stdio",
    default_level: Level::Warn,
    summary: "writes to or reads from the console",
};

const WHAT: &str = "touches the console, a side effect that is repeated on every replay";
const INSTEAD: &str = "log through the SDK's replay-aware logger, or do console I/O in an activity";

const fn r(matcher: super::Matcher) -> PathRule {
    PathRule {
        rule: "stdio",
        matcher,
        what: WHAT,
        instead: INSTEAD,
    }
}

pub(crate) const PATHS: &[PathRule] = &[
    r(Prefix(&["std", "io", "stdin"])),
    r(Prefix(&["std", "io", "stdout"])),
    r(Prefix(&["std", "io", "stderr"])),
    r(Prefix(&["tokio", "io", "stdin"])),
    r(Prefix(&["tokio", "io", "stdout"])),
    r(Prefix(&["tokio", "io", "stderr"])),
];

/// `println!` and friends, resolved to `segs` (bare or under `std`/`core`).
pub fn macro_hit(segs: &[String]) -> Option<Hit> {
    let name = segs.last()?.as_str();
    let std_or_bare = segs.len() == 1 || matches!(segs[0].as_str(), "std" | "core");
    (std_or_bare && matches!(name, "print" | "println" | "eprint" | "eprintln" | "dbg")).then(
        || {
            Hit::new(
                META.id,
                format!("`{name}!` {WHAT}"),
                if name == "dbg" {
                    "remove the `dbg!` before shipping the workflow".to_string()
                } else {
                    INSTEAD.to_string()
                },
            )
        },
    )
}
