//! ### What it does
//! Finds reads of the process environment in workflow code: `std::env::{var, vars, var_os,
//! vars_os, args, args_os, current_dir, temp_dir, home_dir, current_exe}`, and of the
//! process's and thread's identity: `std::process::id`, `std::thread::current` (its `id()`
//! and `name()`).
//!
//! ### Why it breaks replay
//! A replay can run on another worker, with other variables, arguments and working
//! directory, in another process on another thread. A decision taken on them is taken
//! differently.
//!
//! ### Example
//! ```text
//! let region = std::env::var("REGION").unwrap_or_default();
//! ```
//!
//! ### Instead
//! Pass configuration in the workflow input, or read it in an activity.
//!
//! ### Known problems
//! `env!`/`option_env!` are compile-time and deterministic, so they are not reported.

use super::{Matcher::*, PathRule, Rule, RuleMeta};
use crate::model::Level;

/// The rule's description.
pub const META: RuleMeta = RuleMeta {
    id: "env",
    default_level: Level::Deny,
    summary: "reads the process environment",
};

const WHAT: &str = "reads the worker's environment, which can differ on the worker that replays";
const INSTEAD: &str = "pass the value in the workflow input, or read it in an activity";

const fn r(matcher: super::Matcher) -> PathRule {
    PathRule {
        matcher,
        what: WHAT,
        instead: INSTEAD,
    }
}

pub(crate) const PATHS: &[PathRule] = &[
    r(Prefix(&["std", "env", "var"])),
    r(Prefix(&["std", "env", "vars"])),
    r(Prefix(&["std", "env", "var_os"])),
    r(Prefix(&["std", "env", "vars_os"])),
    r(Prefix(&["std", "env", "args"])),
    r(Prefix(&["std", "env", "args_os"])),
    r(Prefix(&["std", "env", "current_dir"])),
    r(Prefix(&["std", "env", "temp_dir"])),
    r(Prefix(&["std", "env", "home_dir"])),
    r(Prefix(&["std", "env", "current_exe"])),
    PathRule {
        matcher: Prefix(&["std", "process", "id"]),
        what: "reads the worker process's id, which differs on the worker that replays",
        instead: INSTEAD,
    },
    PathRule {
        matcher: Prefix(&["std", "thread", "current"]),
        what: "reads the current thread's identity, which differs on replay",
        instead: INSTEAD,
    },
];

/// The rule, for the registry.
pub struct Env;

impl Rule for Env {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn paths(&self) -> &'static [PathRule] {
        PATHS
    }
}
