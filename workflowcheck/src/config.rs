//! `workflowcheck.toml`: rule levels, extra entry points, extra (non-)deterministic paths,
//! skip globs. Found upward from the first scanned path, or given with `--config`.
//!
//! ```toml
//! [rules]
//! stdio = "deny"            # deny | warn | allow
//! hash-iteration = "warn"
//!
//! [entry-points]
//! types = ["MyWorkflowCtx"]          # parameter types that make a fn a workflow
//! attributes = ["my_workflow"]       # fn attributes that make a fn a workflow
//! activity-types = ["MyActivityCtx"] # parameter types that make a fn an activity
//!
//! [[nondeterministic]]
//! path = "billing::clock::now"
//! reason = "reads the billing server's clock"
//! replacement = "ctx.workflow_time()"
//! rule = "wall-clock"                # optional, default "io"
//!
//! [deterministic]
//! paths = ["billing::ids::stable_id", "std::time::Instant::now"]
//!
//! [skip]
//! globs = ["generated/**", "**/legacy_*.rs"]
//! ```

use crate::model::{Level, REGISTER_ACTIVITY, REGISTER_WORKFLOW};
use crate::rules;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// `[entry-points]`: what else makes a function workflow or activity code.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct EntryPoints {
    /// Parameter types that make a function a workflow.
    #[serde(default)]
    pub types: Vec<String>,
    /// Function attributes that make a function a workflow.
    #[serde(default)]
    pub attributes: Vec<String>,
    /// Parameter types that make a function an activity.
    #[serde(default)]
    pub activity_types: Vec<String>,
}

/// A `[[nondeterministic]]` entry.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtraPath {
    /// The path, `::`-separated; a trailing `*` matches everything under it.
    pub path: String,
    /// Completes "`<path>` ..." in the message.
    pub reason: String,
    /// What to write instead (default: move the call into an activity).
    #[serde(default)]
    pub replacement: Option<String>,
    /// The rule reporting it (default `io`).
    #[serde(default)]
    pub rule: Option<String>,
}

/// `[deterministic]`: paths never reported and never walked into.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deterministic {
    /// The paths, `::`-separated; a trailing `*` matches everything under it.
    #[serde(default)]
    pub paths: Vec<String>,
}

/// `[skip]`: files not scanned.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Skip {
    /// Globs matched against paths as given and relative to the scanned root.
    #[serde(default)]
    pub globs: Vec<String>,
}

/// The file as written.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawConfig {
    /// `[rules]`: rule id -> level.
    #[serde(default)]
    pub rules: BTreeMap<String, Level>,
    /// `[entry-points]`.
    #[serde(default)]
    pub entry_points: EntryPoints,
    /// `[[nondeterministic]]`.
    #[serde(default)]
    pub nondeterministic: Vec<ExtraPath>,
    /// `[deterministic]`.
    #[serde(default)]
    pub deterministic: Deterministic,
    /// `[skip]`.
    #[serde(default)]
    pub skip: Skip,
}

/// The validated configuration used by a scan.
#[derive(Clone, Debug)]
pub struct Config {
    /// The level of every rule and suppression diagnostic, configured or default.
    pub levels: BTreeMap<String, Level>,
    /// Context types that make a function workflow code (built-in and configured).
    pub workflow_types: Vec<String>,
    /// Configured function attributes that make a function workflow code.
    pub workflow_attributes: Vec<String>,
    /// Context types that make a function an activity (built-in and configured).
    pub activity_types: Vec<String>,
    /// (path segments, rule id, reason, replacement)
    pub nondeterministic: Vec<(Vec<String>, &'static str, String, String)>,
    /// Paths declared deterministic.
    pub deterministic: Vec<Vec<String>>,
    /// Skip globs.
    pub skip: globset::GlobSet,
    /// The file this configuration was read from, if any.
    pub source: Option<PathBuf>,
}

/// Context types that make a function workflow code.
pub const WORKFLOW_TYPES: &[&str] = &[
    "WorkflowContext",
    "SyncWorkflowContext",
    "WorkflowContextView",
    "WfContext",
    "SharedWorkflowContext",
    "ObjectContext",
    "SharedObjectContext",
    "OrchestrationContext",
];
/// Attributes of traits whose implementations are workflow handlers (Restate's services,
/// virtual objects and workflows).
pub const ENTRY_TRAIT_ATTRS: &[&str] = &["service", "object", "workflow"];
/// Substrings that mark a file as possibly holding entry points beyond the configured
/// names: Restate's SDK (handler traits) and duroxide's registry (untyped closures).
pub const EXTRA_MARKERS: &[&str] = &["restate_sdk", "OrchestrationRegistry"];
/// Attributes of `#[workflow_methods]` impls that mark workflow code.
pub const WORKFLOW_METHOD_ATTRS: &[&str] = &[
    "run",
    "signal",
    "update",
    "update_validator",
    "query",
    "init",
];
/// Context types that make a function an activity.
pub const ACTIVITY_TYPES: &[&str] = &["ActivityContext", "ActContext"];

impl Default for Config {
    fn default() -> Self {
        Config::from_raw(RawConfig::default(), None).expect("the default config is valid")
    }
}

fn split_path(p: &str) -> Vec<String> {
    p.trim()
        .trim_start_matches("::")
        .split("::")
        .map(|s| s.trim().to_string())
        .collect()
}

impl Config {
    /// Validates a parsed file.
    pub fn from_raw(raw: RawConfig, source: Option<PathBuf>) -> Result<Config, String> {
        let mut levels = BTreeMap::new();
        for m in rules::configurable() {
            levels.insert(m.id.to_string(), m.default_level);
        }
        for (id, level) in raw.rules {
            if rules::meta(&id).is_none() {
                return Err(format!("unknown rule `{id}` in [rules]"));
            }
            levels.insert(id, level);
        }
        let mut nondeterministic = Vec::new();
        for e in raw.nondeterministic {
            let rule = match e.rule.as_deref() {
                None => "io",
                Some(r) => match rules::rule_meta(r) {
                    Some(m) => m.id,
                    None => return Err(format!("unknown rule `{r}` for `{}`", e.path)),
                },
            };
            if e.path.trim().is_empty() {
                return Err("empty path in [[nondeterministic]]".into());
            }
            nondeterministic.push((
                split_path(&e.path),
                rule,
                e.reason,
                e.replacement
                    .unwrap_or_else(|| "move this call into an activity".to_string()),
            ));
        }
        let mut skip = globset::GlobSetBuilder::new();
        for g in &raw.skip.globs {
            let glob = globset::GlobBuilder::new(g)
                .literal_separator(false)
                .build()
                .map_err(|e| format!("bad skip glob `{g}`: {e}"))?;
            skip.add(glob);
        }
        let mut workflow_types: Vec<String> =
            WORKFLOW_TYPES.iter().map(|s| s.to_string()).collect();
        workflow_types.extend(raw.entry_points.types);
        let mut activity_types: Vec<String> =
            ACTIVITY_TYPES.iter().map(|s| s.to_string()).collect();
        activity_types.extend(raw.entry_points.activity_types);
        Ok(Config {
            levels,
            workflow_types,
            workflow_attributes: raw.entry_points.attributes,
            activity_types,
            nondeterministic,
            deterministic: raw
                .deterministic
                .paths
                .iter()
                .map(|p| split_path(p))
                .collect(),
            skip: skip.build().map_err(|e| format!("bad skip globs: {e}"))?,
            source,
        })
    }

    /// Parses TOML text.
    pub fn parse(text: &str, source: Option<PathBuf>) -> Result<Config, String> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| e.to_string())?;
        Config::from_raw(raw, source)
    }

    /// Loads a config file.
    pub fn load(path: &Path) -> Result<Config, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Config::parse(&text, Some(path.to_path_buf()))
            .map_err(|e| format!("invalid {}: {e}", path.display()))
    }

    /// Finds `workflowcheck.toml` in `start` or its ancestors.
    pub fn discover(start: &Path) -> Option<PathBuf> {
        let abs = std::fs::canonicalize(start).ok()?;
        let mut dir = if abs.is_dir() {
            Some(abs.as_path())
        } else {
            abs.parent()
        };
        while let Some(d) = dir {
            let candidate = d.join("workflowcheck.toml");
            if candidate.is_file() {
                return Some(candidate);
            }
            dir = d.parent();
        }
        None
    }

    /// The level of rule `rule` (deny for an id the registry does not know).
    pub fn level(&self, rule: &str) -> Level {
        self.levels.get(rule).copied().unwrap_or(Level::Deny)
    }

    /// Is this resolved path declared deterministic (exact, or `prefix::*`)?
    pub fn is_deterministic(&self, segs: &[String]) -> bool {
        self.deterministic.iter().any(|d| path_matches(d, segs))
    }

    /// A configured non-deterministic path matching `segs`.
    pub fn extra_nondeterministic(
        &self,
        segs: &[String],
    ) -> Option<&(Vec<String>, &'static str, String, String)> {
        self.nondeterministic
            .iter()
            .find(|e| path_matches(&e.0, segs))
    }

    /// Is `name` a workflow context type?
    pub fn is_workflow_type(&self, name: &str) -> bool {
        self.workflow_types.iter().any(|t| t == name)
    }

    /// Is `name` an activity context type?
    pub fn is_activity_type(&self, name: &str) -> bool {
        self.activity_types.iter().any(|t| t == name)
    }

    /// The substrings that make a file a possible holder of workflow entry points: the
    /// workflow context type names (configured ones included), the configured workflow
    /// attributes, `workflow_methods`, and the workflow and activity registration methods.
    pub fn markers(&self) -> Vec<String> {
        let mut all: Vec<String> = self
            .workflow_types
            .iter()
            .chain(&self.workflow_attributes)
            .cloned()
            .chain(["workflow_methods".to_string()])
            .chain(EXTRA_MARKERS.iter().map(|s| s.to_string()))
            .chain(
                REGISTER_WORKFLOW
                    .iter()
                    .chain(REGISTER_ACTIVITY)
                    .map(|s| s.to_string()),
            )
            .filter(|m| !m.is_empty())
            .collect();
        all.sort();
        all.dedup();
        // A marker containing another is redundant (`SyncWorkflowContext`, `WorkflowContext`).
        let kept: Vec<String> = all
            .iter()
            .filter(|m| !all.iter().any(|o| o != *m && m.contains(o.as_str())))
            .cloned()
            .collect();
        kept
    }

    /// Is a path (relative to a scanned root, or as displayed) skipped by a glob?
    pub fn is_skipped(&self, path: &Path) -> bool {
        !self.skip.is_empty() && self.skip.is_match(path)
    }
}

/// `pattern` matches when equal, when it ends in `*` and is a prefix, or when the path ends
/// with it and both agree on the first segment (so `chrono::Utc::now` matches
/// `chrono::offset::Utc::now`).
pub fn path_matches(pattern: &[String], segs: &[String]) -> bool {
    if pattern.last().map(|s| s == "*").unwrap_or(false) {
        let p = &pattern[..pattern.len() - 1];
        return segs.len() > p.len() && segs.iter().zip(p).all(|(a, b)| a == b);
    }
    if pattern == segs {
        return true;
    }
    pattern.len() >= 2
        && segs.len() > pattern.len()
        && segs[0] == pattern[0]
        && segs.ends_with(&pattern[1..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_full_config() {
        let c = Config::parse(
            r#"
[rules]
stdio = "deny"
hash-iteration = "allow"
[entry-points]
types = ["MyCtx"]
attributes = ["my_wf"]
activity-types = ["MyActCtx"]
[[nondeterministic]]
path = "billing::clock::now"
reason = "server clock"
replacement = "ctx.workflow_time()"
rule = "wall-clock"
[deterministic]
paths = ["std::time::Instant::now"]
[skip]
globs = ["generated/**"]
"#,
            None,
        )
        .unwrap();
        assert_eq!(c.level("stdio"), Level::Deny);
        assert_eq!(c.level("hash-iteration"), Level::Allow);
        assert!(c.is_workflow_type("MyCtx") && c.is_workflow_type("WfContext"));
        assert!(c.is_activity_type("MyActCtx"));
        assert_eq!(c.nondeterministic[0].1, "wall-clock");
        let p: Vec<String> = ["std", "time", "Instant", "now"].map(String::from).to_vec();
        assert!(c.is_deterministic(&p));
        assert!(c.is_skipped(Path::new("generated/a/b.rs")));
        assert!(!c.is_skipped(Path::new("src/a.rs")));
    }

    #[test]
    fn rejects_unknown_rule_and_keys() {
        assert!(Config::parse("[rules]\nnope = \"deny\"", None)
            .unwrap_err()
            .contains("nope"));
        assert!(Config::parse("[rules]\nstdio = \"loud\"", None).is_err());
        assert!(Config::parse("[bogus]\n", None).is_err());
    }

    #[test]
    fn path_patterns() {
        let s = |p: &str| p.split("::").map(String::from).collect::<Vec<_>>();
        assert!(path_matches(
            &s("chrono::Utc::now"),
            &s("chrono::offset::Utc::now")
        ));
        assert!(path_matches(&s("my::*"), &s("my::a::b")));
        assert!(!path_matches(&s("my::*"), &s("my")));
        assert!(!path_matches(&s("chrono::Utc::now"), &s("mine::Utc::now")));
    }
}
