//! The rules, one file each (every one opening with a clippy-style description), and the
//! registry that lists them.
//!
//! A rule is a [`Rule`]: its description ([`RuleMeta`]: id, default level, summary) and the
//! hooks through which it sees the code. The stages never name a rule: the collector
//! ([`crate::collect`]) and the call graph ([`crate::callgraph`]) call the registry functions
//! below, which ask every rule in registry order; where one answer is wanted, the first rule
//! that answers wins. Rules never print and never read the configuration: they return
//! [`Hit`]s, which the stages turn into [`crate::model::Op`]s.
//!
//! Path rules are tables of [`PathRule`]s matched against every *resolved* call or path
//! expression (after `use` aliases and globs are expanded by [`crate::collect`]); the other
//! hooks are functions with a default that matches nothing.
//!
//! Adding a rule: one file here defining `pub const META: RuleMeta` and a unit struct
//! implementing [`Rule`], one line in the `registry!` list below, and its cases in
//! `fixtures/workflowcheck/rules/`.

use crate::model::{Level, Loc, Op, Segs, KNOWN_CRATES};
use proc_macro2::TokenStream;
use std::collections::HashSet;
use std::sync::LazyLock;

/// Declares the rule modules and lists them, in documentation order, as [`RULES`] (the
/// hooks) and [`ALL`] (their descriptions): one line per rule, `module::Type`.
macro_rules! registry {
    ($($module:ident::$rule:ident,)*) => {
        $(pub mod $module;)*

        /// The registry: every rule, in documentation order.
        pub static RULES: &[&dyn Rule] = &[$(&$module::$rule),*];

        /// The description of every rule of [`RULES`], in the same order.
        pub const ALL: &[RuleMeta] = &[$($module::META),*];
    };
}

registry! {
    wall_clock::WallClock,
    sleep::Sleep,
    random::Random,
    spawn::Spawn,
    channel::Channel,
    unordered_select::UnorderedSelect,
    hash_iteration::HashIteration,
    global_state::GlobalState,
    io::Io,
    env::Env,
    stdio::Stdio,
    activity_call::ActivityCall,
    block_on::BlockOn,
}

/// Static description of a rule.
#[derive(Clone, Copy, Debug)]
pub struct RuleMeta {
    /// The id used in output, `[rules]` and `workflowcheck:ignore[..]`, e.g. `wall-clock`.
    pub id: &'static str,
    /// The level when `workflowcheck.toml` does not set one.
    pub default_level: Level,
    /// One line saying what the rule finds (`--list-rules`, SARIF).
    pub summary: &'static str,
}

/// A determinism rule: its description and its hooks. Each hook has a default that matches
/// nothing, so a rule implements only the ones it needs.
pub trait Rule: Sync {
    /// Id, default level and summary.
    fn meta(&self) -> &'static RuleMeta;

    /// Non-deterministic functions and paths, matched against every resolved path call
    /// (`path(..)`) and path used as a value.
    fn paths(&self) -> &'static [PathRule] {
        &[]
    }

    /// A method call `receiver.method(..)`.
    fn method_call(&self, _call: &MethodCall<'_>) -> Option<Hit> {
        None
    }

    /// A macro invocation whose path resolved to `path` (one candidate at a time).
    fn macro_call(&self, _path: &[String], _tokens: &TokenStream) -> Option<Hit> {
        None
    }

    /// A static, or a name declared by `lazy_static!`/`thread_local!`: if it holds shared
    /// mutable state, what kind (e.g. "a `static mut`"); the call graph reports uses of it
    /// through [`Rule::static_access`].
    fn static_item(&self, _item: &StaticItem<'_>) -> Option<String> {
        None
    }

    /// A use, reached from a workflow, of a static that [`Rule::static_item`] classified.
    fn static_access(&self, _name: &str, _what: &str) -> Option<Hit> {
        None
    }

    /// A struct field's type: if it holds mutable state shared through a pointer
    /// (`Arc<AtomicUsize>`, `Arc<Mutex<_>>`, `Rc<RefCell<_>>`), what it holds; the call graph
    /// reports uses of the field through [`Rule::shared_field_access`].
    fn shared_field(&self, _ty: &syn::Type) -> Option<String> {
        None
    }

    /// A use, reached from a workflow, of a field that [`Rule::shared_field`] classified.
    fn shared_field_access(&self, _field: &str, _what: &str) -> Option<Hit> {
        None
    }

    /// A method called, in a workflow closure, on a local it captured from the code that
    /// built it, holding what [`Rule::shared_field`] classified (`Arc<AtomicUsize>` ..).
    fn captured_state_access(&self, _local: &str, _what: &str) -> Option<Hit> {
        None
    }

    /// A resolved type (a local's, a parameter's, a struct field's): if it is a collection
    /// whose iteration order is not reproducible, its kind (e.g. `HashMap`).
    fn unordered_collection(&self, _ty: &[String]) -> Option<&'static str> {
        None
    }

    /// Does `.method()` iterate its receiver in an order that matters, when its result is
    /// consumed by `.consumer()` (e.g. not `.values().sum()`)?
    fn iterates(&self, _method: &str, _consumer: Option<&str>) -> bool {
        false
    }

    /// An order-sensitive iteration (`for` loop, iterating method, serialising, `{:?}`) of a
    /// collection of `kind` (from [`Rule::unordered_collection`]); `how` describes it, e.g.
    /// "`for` loop over `balances`". Field types are only known in the call graph, so this is
    /// called from there too.
    fn unordered_iteration(&self, _kind: &str, _how: &str) -> Option<Hit> {
        None
    }

    /// A direct call, from workflow code, of the activity `name`.
    fn activity_call(&self, _name: &str) -> Option<Hit> {
        None
    }
}

/// A method call as the collector sees it.
#[derive(Clone, Copy, Debug)]
pub struct MethodCall<'a> {
    /// The method's name.
    pub method: &'a str,
    /// Candidate types of the receiver, when the collector could infer them.
    pub receiver_types: Option<&'a [Segs]>,
    /// First segments of the `use` targets and globs of the file seen so far.
    pub imported: &'a HashSet<String>,
}

impl MethodCall<'_> {
    /// Does the file import from crate `name` (`use name::..`)?
    pub fn imports(&self, name: &str) -> bool {
        self.imported.contains(name)
    }
}

/// A static item, or a name declared in a static-declaring macro.
#[derive(Clone, Copy, Debug)]
pub struct StaticItem<'a> {
    /// The declared type (`None` for names declared in a macro).
    pub ty: Option<&'a syn::Type>,
    /// `static mut`.
    pub mutable: bool,
    /// The macro declaring it (`lazy_static`, `thread_local`), if any.
    pub declared_by: Option<&'a str>,
}

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

/// Every configurable id: the rules, then the suppression diagnostics.
pub fn configurable() -> impl Iterator<Item = &'static RuleMeta> {
    ALL.iter()
        .chain([&INVALID_SUPPRESSION, &UNUSED_SUPPRESSION])
}

/// Looks a rule (or suppression diagnostic) up by id.
pub fn meta(id: &str) -> Option<&'static RuleMeta> {
    configurable().find(|m| m.id == id)
}

/// Looks a rule (not a suppression diagnostic) up by id.
pub fn rule_meta(id: &str) -> Option<&'static RuleMeta> {
    ALL.iter().find(|m| m.id == id)
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
    /// Does the resolved path `segs` match?
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

/// A non-deterministic function or path, reported under the id of the rule whose table
/// holds it.
#[derive(Clone, Copy, Debug)]
pub struct PathRule {
    /// Which paths.
    pub matcher: Matcher,
    /// Completes "`<path>` ..." in the message, e.g. "reads the host's wall clock".
    pub what: &'static str,
    /// What to write instead.
    pub instead: &'static str,
}

/// What a rule reports; the stage that asked attaches the location.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    /// The id of the rule reporting it.
    pub rule: &'static str,
    /// What it does and why that breaks replay.
    pub message: String,
    /// What to write instead.
    pub suggestion: String,
}

impl Hit {
    /// A hit of rule `rule`.
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

    /// The operation this hit reports at `loc`.
    pub fn at(self, loc: Loc) -> Op {
        Op {
            rule: self.rule,
            loc,
            message: self.message,
            suggestion: self.suggestion,
        }
    }
}

/// Every rule's path table, flattened in registry order (built once).
static PATH_TABLE: LazyLock<Vec<(&'static str, &'static PathRule)>> = LazyLock::new(|| {
    RULES
        .iter()
        .flat_map(|r| r.paths().iter().map(move |p| (r.meta().id, p)))
        .collect()
});

/// Matches a resolved path against every rule's path table.
pub fn match_path(segs: &[String], shown: &str) -> Option<Hit> {
    PATH_TABLE
        .iter()
        .find(|(_, r)| r.matcher.matches(segs))
        .map(|&(id, r)| Hit::new(id, format!("`{shown}` {}", r.what), r.instead))
}

/// The crates the path tables name (`std`, `tokio`, `rand`, ..): what code calls in them is
/// decided by the rules, so a call into one is never "unresolved".
pub fn path_roots() -> impl Iterator<Item = &'static str> {
    PATH_TABLE
        .iter()
        .flat_map(|(_, r)| match r.matcher {
            Matcher::Tail(roots, _) => roots,
            Matcher::Prefix(prefix) => &prefix[..prefix.len().min(1)],
        })
        .copied()
}

/// Do the rules decide what calls into crate `name` do (a crate of [`KNOWN_CRATES`] or of
/// the path tables)? Such a crate keeps its name even when a manifest renames another
/// package to it (`tokio = { package = "madsim-tokio", .. }` is still tokio's API).
pub fn decides_crate(name: &str) -> bool {
    KNOWN_CRATES.contains(&name) || path_roots().any(|r| r == name)
}

/// Asks every rule about a method call.
pub fn method_call(call: &MethodCall<'_>) -> Option<Hit> {
    RULES.iter().find_map(|r| r.method_call(call))
}

/// Asks every rule about a macro invocation resolved to `path`.
pub fn macro_call(path: &[String], tokens: &TokenStream) -> Option<Hit> {
    RULES.iter().find_map(|r| r.macro_call(path, tokens))
}

/// What shared mutable state a static holds, if a rule says it does.
pub fn static_item(item: &StaticItem<'_>) -> Option<String> {
    RULES.iter().find_map(|r| r.static_item(item))
}

/// A use of a classified static.
pub fn static_access(name: &str, what: &str) -> Option<Hit> {
    RULES.iter().find_map(|r| r.static_access(name, what))
}

/// What shared mutable state a struct field holds, if a rule says it does.
pub fn shared_field(ty: &syn::Type) -> Option<String> {
    RULES.iter().find_map(|r| r.shared_field(ty))
}

/// A use of a classified field.
pub fn shared_field_access(field: &str, what: &str) -> Option<Hit> {
    RULES
        .iter()
        .find_map(|r| r.shared_field_access(field, what))
}

/// A use of classified shared state a workflow closure captured.
pub fn captured_state_access(local: &str, what: &str) -> Option<Hit> {
    RULES
        .iter()
        .find_map(|r| r.captured_state_access(local, what))
}

/// The kind of unordered collection a resolved type is, if a rule tracks it.
pub fn unordered_collection(ty: &[String]) -> Option<&'static str> {
    RULES.iter().find_map(|r| r.unordered_collection(ty))
}

/// Does any rule consider `.method()` (consumed by `.consumer()`) an ordered iteration?
pub fn iterates(method: &str, consumer: Option<&str>) -> bool {
    RULES.iter().any(|r| r.iterates(method, consumer))
}

/// An order-sensitive iteration of an unordered collection of `kind`.
pub fn unordered_iteration(kind: &str, how: &str) -> Option<Hit> {
    RULES.iter().find_map(|r| r.unordered_iteration(kind, how))
}

/// A direct call of the activity `name`.
pub fn activity_call(name: &str) -> Option<Hit> {
    RULES.iter().find_map(|r| r.activity_call(name))
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
