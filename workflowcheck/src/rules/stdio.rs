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

use super::{Hit, Matcher::*, PathRule, Rule, RuleMeta};
use proc_macro2::TokenStream;
use crate::model::Level;

/// The rule's description.
pub const META: RuleMeta = RuleMeta {
    id: "stdio",
    default_level: Level::Warn,
    summary: "writes to or reads from the console",
};

const WHAT: &str = "touches the console, a side effect that is repeated on every replay";
const INSTEAD: &str = "log through the SDK's replay-aware logger, or do console I/O in an activity";

const fn r(matcher: super::Matcher) -> PathRule {
    PathRule {
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

/// The rule, for the registry.
pub struct Stdio;

impl Rule for Stdio {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn paths(&self) -> &'static [PathRule] {
        PATHS
    }

    /// `println!` and friends, resolved to `path` (bare or under `std`/`core`).
    fn macro_call(&self, path: &[String], _tokens: &TokenStream) -> Option<Hit> {
        let name = path.last()?.as_str();
        let std_or_bare = path.len() == 1 || matches!(path[0].as_str(), "std" | "core");
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
}
