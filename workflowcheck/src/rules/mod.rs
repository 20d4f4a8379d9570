//! The rules: one file each, every one opening with a clippy-style description.
//!
//! Rules are data plus small hooks. Path rules are tables of [`PathRule`] matched against
//! every *resolved* call or path expression (after `use` aliases and globs are expanded by
//! [`crate::index`]); method, macro and static rules are functions the collector calls.
//! Rules never print: they return [`Hit`]s that the collector turns into [`crate::model::Op`]s.

pub mod activity_call;
pub mod block_on;
pub mod channel;
pub mod env;
pub mod global_state;
pub mod hash_iteration;
pub mod io;
pub mod random;
pub mod sleep;
pub mod spawn;
pub mod stdio;
pub mod unordered_select;
pub mod wall_clock;

use crate::config::Level;

/// Static description of a rule.
#[derive(Clone, Copy, Debug)]
pub struct RuleMeta {
    pub id: &'static str,
    pub default_level: Level,
    pub summary: &'static str,
}

/// All rules, in documentation order.
pub const ALL: &[RuleMeta] = &[
    wall_clock::META,
    sleep::META,
    random::META,
    spawn::META,
    channel::META,
    unordered_select::META,
    hash_iteration::META,
    global_state::META,
    io::META,
    env::META,
    stdio::META,
    activity_call::META,
    block_on::META,
];

/// Diagnostics about suppression comments themselves (not rules, but configurable alike).
pub const INVALID_SUPPRESSION: RuleMeta = RuleMeta {
    id: "invalid-suppression",
    default_level: Level::Deny,
    summary: "a `workflowcheck:ignore` comment without a known rule id or without a reason",
};
/// A suppression that suppressed nothing.
pub const UNUSED_SUPPRESSION: RuleMeta = RuleMeta {
    id: "unused-suppression",
    default_level: Level::Warn,
    summary: "a `workflowcheck:ignore` comment that suppresses no finding",
};

/// Looks a rule (or suppression diagnostic) up by id.
pub fn meta(id: &str) -> Option<&'static RuleMeta> {
    ALL.iter()
        .chain([&INVALID_SUPPRESSION, &UNUSED_SUPPRESSION])
        .find(|m| m.id == id)
}

/// How a path rule matches a resolved path.
#[derive(Clone, Copy, Debug)]
pub enum Matcher {
    /// First segment is one of `roots` (any if empty) and the path ends with `tail`.
    Tail(&'static [&'static str], &'static [&'static str]),
    /// The path starts with these segments.
    Prefix(&'static [&'static str]),
}

impl Matcher {
    pub fn matches(&self, segs: &[String]) -> bool {
        match self {
            Matcher::Tail(roots, tail) => {
                segs.len() > tail.len()
                    && (roots.is_empty() || roots.iter().any(|r| *r == segs[0]))
                    && segs[segs.len() - tail.len()..]
                        .iter()
                        .zip(tail.iter())
                        .all(|(a, b)| a == b)
            }
            Matcher::Prefix(prefix) => {
                segs.len() >= prefix.len() && segs.iter().zip(prefix.iter()).all(|(a, b)| a == b)
            }
        }
    }
}

/// A non-deterministic function or path.
#[derive(Clone, Copy, Debug)]
pub struct PathRule {
    pub rule: &'static str,
    pub matcher: Matcher,
    /// Completes "`<path>` ..." in the message, e.g. "reads the host's wall clock".
    pub what: &'static str,
    pub instead: &'static str,
}

/// What a rule reports; the collector attaches the location.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    pub rule: &'static str,
    pub message: String,
    pub suggestion: String,
}

impl Hit {
    pub fn new(
        rule: &'static str,
        message: impl Into<String>,
        suggestion: impl Into<String>,
    ) -> Hit {
        Hit {
            rule,
            message: message.into(),
            suggestion: suggestion.into(),
        }
    }
}

/// Every path table, searched in order.
pub fn path_tables() -> [&'static [PathRule]; 11] {
    [
        wall_clock::PATHS,
        sleep::PATHS,
        random::PATHS,
        spawn::PATHS,
        channel::PATHS,
        unordered_select::PATHS,
        io::PATHS,
        env::PATHS,
        stdio::PATHS,
        block_on::PATHS,
        global_state::PATHS,
    ]
}

/// Matches a resolved path against every built-in path rule.
pub fn match_path(segs: &[String], shown: &str) -> Option<Hit> {
    for table in path_tables() {
        for r in table {
            if r.matcher.matches(segs) {
                return Some(Hit::new(r.rule, format!("`{shown}` {}", r.what), r.instead));
            }
        }
    }
    None
}

/// Last segment of a type, through references, parens and groups.
pub fn type_last_ident(ty: &syn::Type) -> Option<String> {
    let mut ty = ty;
    loop {
        match ty {
            syn::Type::Reference(r) => ty = &r.elem,
            syn::Type::Paren(p) => ty = &p.elem,
            syn::Type::Group(g) => ty = &g.elem,
            syn::Type::Path(p) => return p.path.segments.last().map(|s| s.ident.to_string()),
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(p: &str) -> Vec<String> {
        p.split("::").map(String::from).collect()
    }

    #[test]
    fn tail_matcher_needs_root_and_tail() {
        let m = Matcher::Tail(&["chrono"], &["Utc", "now"]);
        assert!(m.matches(&s("chrono::Utc::now")));
        assert!(m.matches(&s("chrono::prelude::Utc::now")));
        assert!(!m.matches(&s("my_crate::Utc::now")));
        assert!(!m.matches(&s("Utc::now")));
    }

    #[test]
    fn prefix_matcher() {
        let m = Matcher::Prefix(&["std", "fs"]);
        assert!(m.matches(&s("std::fs::read_to_string")));
        assert!(!m.matches(&s("std::fsx")));
    }

    #[test]
    fn every_rule_has_a_meta_and_unique_id() {
        let mut ids: Vec<_> = ALL.iter().map(|m| m.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 13);
        assert!(meta("stdio").is_some());
        assert_eq!(meta("stdio").unwrap().default_level, Level::Warn);
        assert!(meta("nope").is_none());
    }

    #[test]
    fn builtin_paths_match() {
        assert_eq!(
            match_path(&s("std::time::SystemTime::now"), "SystemTime::now")
                .unwrap()
                .rule,
            "wall-clock"
        );
        assert_eq!(
            match_path(&s("tokio::time::sleep"), "sleep").unwrap().rule,
            "sleep"
        );
        assert_eq!(
            match_path(&s("rand::thread_rng"), "x").unwrap().rule,
            "random"
        );
        assert!(match_path(&s("crate_x::Utc::now"), "x").is_none());
        assert!(match_path(&s("rand::SeedableRng::seed_from_u64"), "x").is_none());
    }
}
