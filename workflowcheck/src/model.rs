//! Plain data shared by the stages, below all of them: levels and severities, what one file
//! contributes to the global picture, what the call graph reaches, and the findings.
//!
//! A [`FileSummary`] is produced per file in parallel (parse + per-file name resolution) and
//! holds no syn types, so the syntax trees can be dropped as soon as a file is summarised.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;
use std::path::PathBuf;

/// How a rule is reported, as configured (`deny | warn | allow` in `workflowcheck.toml`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Not reported.
    Allow,
    /// Reported as a warning.
    Warn,
    /// Reported as an error: the run fails.
    Deny,
}

impl Level {
    /// The severity of a finding at this level; `None` for `allow`, which is not reported.
    pub fn severity(self) -> Option<Severity> {
        match self {
            Level::Deny => Some(Severity::Error),
            Level::Warn => Some(Severity::Warning),
            Level::Allow => None,
        }
    }

    /// The level as written in `workflowcheck.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Allow => "allow",
            Level::Warn => "warn",
            Level::Deny => "deny",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How bad a reported finding is: an `error` makes the run fail (exit code 1), a `warning`
/// does not. Serialised as `"error"` / `"warning"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Reported, does not fail the run.
    Warning,
    /// Reported, fails the run.
    Error,
}

impl Severity {
    /// `"error"` or `"warning"`, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for Severity {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// Methods of the SDKs that register workflow closures (their closure arguments are entry
/// points).
pub const REGISTER_WORKFLOW: &[&str] = &[
    "register_wf",
    "register_workflow",
    "register_orchestration",
    "register_orchestration_fn",
];
/// Methods of the SDKs that register activities (their function arguments are activities).
pub const REGISTER_ACTIVITY: &[&str] = &[
    "register_activity",
    "register_activities",
    "register_activity_fn",
];

/// A path as a list of segments, e.g. `["std", "time", "SystemTime", "now"]`.
pub type Segs = Vec<String>;

/// Joins segments with `::`.
pub fn join(segs: &[String]) -> String {
    segs.join("::")
}

/// A position in a source file; `line` and `column` are 1-based, `len` is the caret width.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Loc {
    /// 1-based line.
    pub line: u32,
    /// 1-based column (in characters).
    pub column: u32,
    /// Caret width.
    pub len: u32,
}

impl Loc {
    /// Location of a span's start, with the caret covering the span if it is on one line.
    pub fn of(span: proc_macro2::Span) -> Loc {
        Loc::between(span, span)
    }

    /// [`Loc::of`] the span from `first`'s start to `last`'s end (`first` no later than
    /// `last`), as `Loc::of(first.join(last))` but without joining.
    pub fn between(first: proc_macro2::Span, last: proc_macro2::Span) -> Loc {
        let s = first.start();
        let e = last.end();
        let len = if e.line == s.line && e.column > s.column {
            (e.column - s.column) as u32
        } else {
            1
        };
        Loc {
            line: s.line as u32,
            column: s.column as u32 + 1,
            len,
        }
    }
}

/// A file to scan, placed in the module tree.
#[derive(Clone, Debug, Default)]
pub struct SourceFile {
    /// The file's path.
    pub path: PathBuf,
    /// The file as shown in the output.
    pub display: String,
    /// The crate the file belongs to.
    pub crate_name: String,
    /// Module path inside the crate (without the crate name).
    pub module: Segs,
    /// Test code (`tests/`, `benches/`, `#[cfg(test)]` modules).
    pub test: bool,
    /// Directory of the package (nearest `Cargo.toml` with a `[package]`) the file belongs
    /// to; `None` for files outside any package.
    pub package: Option<PathBuf>,
    /// Declared through a private `mod` somewhere between the crate root and the file, so
    /// other crates cannot name its items by their own paths (only through re-exports).
    pub hidden: bool,
    /// Dependencies of the file's package known in its code by another name than the crate
    /// they build (`prices = { package = "pricing", .. }`): `(name in the code, crate)`.
    pub renames: Vec<(String, String)>,
    /// Scanned only as context for the paths given (the rest of a given file's crate, path
    /// dependencies): what the given code reaches in it is checked, its own workflow entry
    /// points are not.
    pub context_only: bool,
}

/// A non-deterministic operation found directly in a function body.
#[derive(Clone, Debug)]
pub struct Op {
    /// The id of the rule reporting it.
    pub rule: &'static str,
    /// Where the operation is.
    pub loc: Loc,
    /// What it does and why that breaks replay.
    pub message: String,
    /// What to write instead.
    pub suggestion: String,
}

/// Method names too common to link by name alone when the receiver type is unknown (the call
/// graph's by-name fallback skips them, and so does the pre-pass that anticipates it).
pub const COMMON_METHODS: &[&str] = &[
    "new",
    "default",
    "clone",
    "len",
    "is_empty",
    "iter",
    "iter_mut",
    "into_iter",
    "get",
    "get_mut",
    "insert",
    "remove",
    "push",
    "pop",
    "contains",
    "contains_key",
    "unwrap",
    "expect",
    "map",
    "and_then",
    "ok",
    "err",
    "to_string",
    "to_owned",
    "as_ref",
    "as_mut",
    "borrow",
    "borrow_mut",
    "from",
    "into",
    "try_into",
    "try_from",
    "fmt",
    "eq",
    "ne",
    "cmp",
    "partial_cmp",
    "hash",
    "next",
    "poll",
    "send",
    "recv",
    "lock",
    "read",
    "write",
    "run",
    "start",
    "call",
    "build",
    "with",
    "set",
    "take",
    "replace",
    "extend",
    "drain",
    "clear",
    "collect",
    "filter",
    "find",
    "first",
    "last",
    "keys",
    "values",
    "entry",
    "join",
    "split",
    "parse",
    "as_str",
    "as_bytes",
    "as_slice",
    "len_utf8",
    "drop",
    "deref",
    "deref_mut",
    "index",
    "add",
    "sub",
    "mul",
    "div",
    "neg",
    "not",
    "finish",
    "flush",
    "close",
    "wait",
    "apply",
    "handle",
    "process",
    "execute",
    "update",
    "load",
    "store",
    "serialize",
    "deserialize",
    "visit",
    "to_vec",
    "copied",
    "cloned",
    "sum",
    "count",
    "min",
    "max",
    "unwrap_or",
    "unwrap_or_default",
    "unwrap_or_else",
    "map_err",
    "ok_or",
    "ok_or_else",
    "is_some",
    "is_none",
    "is_ok",
    "is_err",
    "sort",
    "sort_by",
    "sort_by_key",
    "retain",
    "truncate",
    "resize",
    "append",
    "chars",
    "bytes",
    "lines",
    "trim",
    "starts_with",
    "ends_with",
    "to_lowercase",
    "to_uppercase",
    "fold",
    "for_each",
    "any",
    "all",
    "position",
    "zip",
    "chain",
    "rev",
    "skip",
    "enumerate",
    "flat_map",
    "flatten",
    "peekable",
    "step_by",
    "windows",
    "chunks",
    "len_hint",
    "size_hint",
    "await",
    "timer",
    "start_activity",
    "side_effect",
    "random_seed",
    "workflow_time",
];

/// How a function is referred to at a call site.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallKind {
    /// `path(..)`.
    Call,
    /// A path used as a value (`.map(helper)`, `COUNTER.fetch_add(..)`).
    Ref,
    /// `recv.name(..)`: resolved through the receiver's type only (the candidates, or the
    /// call site's deferred `receiver`), never by name alone.
    Method(String),
}

/// A type the collect stage could not name from one file, resolved by the call graph once
/// every file is indexed: the type of a field, of a function's or method's return value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TypeExpr {
    /// Candidate paths of the type itself.
    Paths(Vec<Segs>),
    /// The type of field `.1` of a value of type `.0`.
    Field(Box<TypeExpr>, String),
    /// What a function (candidate paths) returns.
    Return(Vec<Segs>),
    /// What method `.1` returns when called on a value of type `.0`.
    MethodReturn(Box<TypeExpr>, String),
}

impl TypeExpr {
    /// Nesting depth (a chain of builder calls is as deep as it is long).
    pub fn depth(&self) -> usize {
        match self {
            TypeExpr::Paths(_) | TypeExpr::Return(_) => 1,
            TypeExpr::Field(b, _) | TypeExpr::MethodReturn(b, _) => 1 + b.depth(),
        }
    }
}

/// A call (or reference) from a function body, with its candidate targets in priority order.
#[derive(Clone, Debug)]
pub struct CallSite {
    /// Where the call is.
    pub loc: Loc,
    /// How the callee is referred to.
    pub kind: CallKind,
    /// Candidate absolute paths of the callee, in priority order.
    pub candidates: Vec<Segs>,
    /// Text shown for the callee when resolution fails, e.g. `helper`.
    pub display: String,
    /// Arguments passed (for a method call, not counting the receiver); `None` for a
    /// reference. A target taking another number of arguments is not this call's callee.
    pub args: Option<usize>,
    /// For a method call whose receiver's type the file alone does not tell: that type, for
    /// the call graph to resolve.
    pub receiver: Option<TypeExpr>,
}

/// An iteration over a struct field whose type is only known once all files are indexed.
#[derive(Clone, Debug)]
pub struct FieldIter {
    /// Where the iteration is.
    pub loc: Loc,
    /// Candidate paths of the struct owning the field.
    pub owner: Vec<Segs>,
    /// The field's name.
    pub field: String,
    /// What the iteration does, e.g. "`.keys()`".
    pub how: String,
}

/// Why a function is a workflow entry point.
#[derive(Clone, Debug)]
pub struct Entry {
    /// Why, e.g. "takes a `WorkflowContext` parameter".
    pub reason: String,
    /// The context type, when the function is an entry point only because it takes one as
    /// a parameter (by value or by reference): inside the crate that defines that type (the
    /// runtime itself, e.g. the SDK's own handler dispatch) it is not.
    pub context_param: Option<String>,
}

/// A recognised workflow entry point, for `--list-entry-points`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct EntryPoint {
    /// Qualified path of the function or closure.
    pub function: String,
    /// The file, as displayed.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// Why it is an entry point.
    pub reason: String,
}

/// One function (or entry closure) and what its body does.
#[derive(Clone, Debug)]
pub struct FnInfo {
    /// Fully qualified path: crate, modules, optional type, name.
    pub qual: Segs,
    /// Short display name, e.g. `Transfer::run` or `money_transfer`.
    pub name: String,
    /// Where the function's name is.
    pub loc: Loc,
    /// Why it is a workflow entry point, if it is one.
    pub entry: Option<Entry>,
    /// An activity: its body is not workflow code.
    pub activity: bool,
    /// A method of a workflow-context type (the SDK itself): trusted, never walked.
    pub sdk: bool,
    /// An associated function (inside an impl or trait).
    pub method: bool,
    /// Parameters, not counting `self`.
    pub params: usize,
    /// Takes `self` (in any form).
    pub has_self: bool,
    /// Callable from other crates: `pub`, or a trait's method.
    pub public: bool,
    /// Other crates cannot name it by its own path: declared in a private module (or a
    /// function body). A re-export (`pub use`) or a method call can still reach it.
    pub hidden: bool,
    /// Candidate paths of the trait of the enclosing `impl Trait for ..`, if any.
    pub impl_trait: Vec<Segs>,
    /// Candidate paths of the returned type (`Self` replaced by the impl's type; through
    /// references, `Box`/`Arc`/`Rc`, and `Result`/`Option`, whose value `?` or `unwrap`
    /// takes out).
    pub ret: Vec<Segs>,
    /// Calls and references made by the body.
    pub calls: Vec<CallSite>,
    /// Operations the rules flagged in the body.
    pub ops: Vec<Op>,
    /// Iterations of fields whose type the call graph resolves.
    pub field_iters: Vec<FieldIter>,
}

/// What kind of shared mutable state a static holds.
#[derive(Clone, Debug)]
pub struct StaticInfo {
    /// Fully qualified path of the static.
    pub qual: Segs,
    /// What it holds, e.g. "a `static mut`".
    pub what: String,
}

/// A `workflowcheck:ignore` comment.
#[derive(Clone, Debug)]
pub struct Suppression {
    /// 1-based line of the comment.
    pub line: u32,
    /// 1-based column of the comment.
    pub column: u32,
    /// Rule ids named in `[..]`.
    pub rules: Vec<String>,
    /// The reason written after the ids.
    pub reason: String,
    /// Why the comment is malformed, if it is.
    pub problem: Option<String>,
}

/// Everything one file contributes.
#[derive(Clone, Debug, Default)]
pub struct FileSummary {
    /// The file's path.
    pub path: PathBuf,
    /// The file as shown in the output.
    pub display: String,
    /// The crate the file belongs to.
    pub crate_name: String,
    /// Lines in the file.
    pub lines: usize,
    /// Functions (and entry closures) with bodies.
    pub fns: Vec<FnInfo>,
    /// `module path ++ [name]` -> absolute target, from `use` items.
    pub aliases: Vec<(Segs, Segs)>,
    /// module path -> glob-imported prefix.
    pub globs: Vec<(Segs, Segs)>,
    /// Targets of `pub use` items (names and globs) in modules other crates can name: the
    /// items, and everything under the modules, other crates can reach by those names.
    pub reexports: Vec<Segs>,
    /// Statics holding shared mutable state.
    pub statics: Vec<StaticInfo>,
    /// `struct path ++ [field]` -> the kind of unordered collection the field holds (e.g.
    /// `HashMap`), as a rule classified its type.
    pub unordered_fields: Vec<(Segs, &'static str)>,
    /// Candidate paths of functions registered as activities.
    pub activity_regs: Vec<Vec<Segs>>,
    /// `struct path ++ [field]` -> candidate paths of the field's type (through references,
    /// `Box`/`Arc`/`Rc`; a trait object's trait).
    pub field_types: Vec<(Segs, Vec<Segs>)>,
    /// `impl Trait for Type`: candidate paths of the trait, and the type.
    pub trait_impls: Vec<(Vec<Segs>, Segs)>,
    /// `struct path ++ [field]` -> what shared mutable state the field holds (a rule's
    /// description, e.g. "an `Arc` of `AtomicUsize`").
    pub shared_fields: Vec<(Segs, String)>,
    /// Traits whose implementations are workflow handlers (Restate's `#[service]`,
    /// `#[object]`, `#[workflow]`): qualified path and the attribute.
    pub entry_traits: Vec<(Segs, String)>,
    /// Workflow context types (by configured name) this file defines, qualified: the crate
    /// defining one is the runtime.
    pub context_defs: Vec<Segs>,
    /// `workflowcheck:ignore` comments.
    pub suppressions: Vec<Suppression>,
    /// Scanned as context only ([`SourceFile::context_only`]): its entry points are not
    /// checked, and its suppression comments are not reported when unused.
    pub context_only: bool,
}

/// Why a file could not be analysed, and where in it (when a position is known).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Problem {
    /// 1-based line.
    pub line: Option<u32>,
    /// 1-based column, in characters.
    pub column: Option<u32>,
    /// What went wrong.
    pub message: String,
}

impl Problem {
    /// A problem with no position in the file.
    pub fn new(message: impl Into<String>) -> Problem {
        Problem {
            line: None,
            column: None,
            message: message.into(),
        }
    }

    /// A problem at `line`:`column` (1-based).
    pub fn at(line: u32, column: u32, message: impl Into<String>) -> Problem {
        Problem {
            line: Some(line),
            column: Some(column),
            message: message.into(),
        }
    }
}

/// A file (or directory entry) that could not be analysed.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct FileError {
    /// The file, as displayed.
    pub file: String,
    /// 1-based line of the problem, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// 1-based column of the problem, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    /// Why it could not be analysed.
    pub message: String,
    /// The file may hold workflow code (its package holds a workflow marker, or its own
    /// bytes hold one): the scan is incomplete, and the run fails unless
    /// `--allow-unanalysed`.
    pub may_hold_workflow: bool,
}

impl FileError {
    /// `problem` in `file`.
    pub fn new(file: impl Into<String>, problem: Problem, may_hold_workflow: bool) -> FileError {
        FileError {
            file: file.into(),
            line: problem.line,
            column: problem.column,
            message: problem.message,
            may_hold_workflow,
        }
    }

    /// `file:line:column` (as much of it as is known).
    pub fn position(&self) -> String {
        match (self.line, self.column) {
            (Some(l), Some(c)) => format!("{}:{l}:{c}", self.file),
            (Some(l), None) => format!("{}:{l}", self.file),
            _ => self.file.clone(),
        }
    }
}

/// One function on a call chain from a workflow entry point, and the position in it of the
/// next call (or, for the last one, of the operation).
#[derive(Clone, Debug)]
pub struct ChainLink {
    /// Qualified path of the function, `::`-joined.
    pub function: String,
    /// Index of the function's file among the summaries.
    pub file: usize,
    /// Position of the next call in it (of the operation, for the last link).
    pub loc: Loc,
}

/// An operation reached from workflows, before levels, suppressions and rendering.
#[derive(Clone, Debug)]
pub struct Reached {
    /// Index of the operation's file among the summaries.
    pub file: usize,
    /// The operation.
    pub op: Op,
    /// Every entry point reaching the operation (qualified paths).
    pub workflows: BTreeSet<String>,
    /// A shortest call chain from one of the entry points to the operation.
    pub chain: Vec<ChainLink>,
}

/// What the call graph stage hands on: the entry points found and each operation they reach.
#[derive(Clone, Debug, Default)]
pub struct Reachability {
    /// Workflow entry points found.
    pub workflows_found: usize,
    /// The entry points, with why each was recognised.
    pub entry_points: Vec<EntryPoint>,
    /// Each reached operation once, ordered by (file, location, rule).
    pub reached: Vec<Reached>,
    /// Calls from workflow code that resolve to no code scanned, ordered by file and
    /// position.
    pub unresolved: Vec<Unresolved>,
}

/// Crates whose determinism the rules decide (besides the crates their path tables name):
/// the standard library, the workflow SDKs, and the runtime, serialisation and error
/// crates workflow code calls everywhere. A call into one that resolves to nothing is not
/// reported as unresolved.
pub const KNOWN_CRATES: &[&str] = &[
    "std",
    "core",
    "alloc",
    "temporalio_sdk",
    "temporalio_workflow",
    "temporalio_common",
    "temporalio_common_wasm",
    "temporalio_client",
    "temporalio_macros",
    "temporalio_protos",
    "temporalio_sdk_core",
    "temporal_sdk",
    "temporal_sdk_core",
    "temporal_sdk_core_protos",
    "temporal_sdk_core_api",
    "temporal_client",
    "restate_sdk",
    "duroxide",
    // durasim's own SDK
    "sim",
    "tokio",
    "futures",
    "futures_util",
    "serde",
    "serde_json",
    "tracing",
    "log",
    "anyhow",
    "thiserror",
    "async_trait",
    "prost",
    "prost_types",
];

/// A call from workflow-reachable code that resolves to no code the tool was given: what it
/// reaches is not checked.
#[derive(Clone, Debug)]
pub struct Unresolved {
    /// Index of the caller's file among the summaries.
    pub file: usize,
    /// Where the call is.
    pub loc: Loc,
    /// The callee as written, e.g. `prices::missing` or `.total()`.
    pub callee: String,
    /// Why it could not be resolved.
    pub reason: String,
    /// The calling function, qualified.
    pub function: String,
    /// The entry points reaching the call.
    pub workflows: BTreeSet<String>,
}

/// A reported unresolved call ([`Unresolved`], rendered).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UnresolvedCall {
    /// The file, as displayed.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// The callee as written.
    pub callee: String,
    /// Why it could not be resolved.
    pub reason: String,
    /// The calling function, qualified.
    pub function: String,
    /// The entry points reaching the call.
    pub workflows: Vec<String>,
}

/// One frame of a call chain: a function and the position in it of the next call (or, for
/// the last frame, of the operation).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// Qualified path of the function.
    pub function: String,
    /// Its file, as displayed.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
}

/// A reported non-deterministic operation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The rule id.
    pub rule: String,
    /// Error or warning, from the rule's level.
    pub severity: Severity,
    /// What the operation does and why that breaks replay.
    pub message: String,
    /// The file, as displayed.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// Every workflow entry point reaching the operation.
    pub workflows: Vec<String>,
    /// A shortest call chain from one of them.
    pub chain: Vec<Step>,
    /// What to write instead.
    pub suggestion: String,
    /// Caret width (rendering only).
    #[serde(skip)]
    pub len: u32,
    /// The source line, or a window of it around the column when the line is long
    /// (rendering and baselines only).
    #[serde(skip)]
    pub source_line: String,
    /// Characters of the line cut before `source_line` (0 when it is the whole line).
    #[serde(skip)]
    pub source_start: u32,
}

impl Finding {
    /// Is this finding at deny level?
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// The result of a scan.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    /// Findings, ordered by file, line, column and rule.
    pub findings: Vec<Finding>,
    /// Files found, parsed or not.
    pub files_scanned: usize,
    /// Workflow entry points found.
    pub workflows_found: usize,
    /// Files that could not be analysed (each says whether it may hold workflow code).
    pub errors: Vec<FileError>,
    /// How many of `errors` may hold workflow code: the scan is incomplete when not 0.
    pub unanalysed: usize,
    /// Calls from workflow code that resolve to no code scanned (notes: they never change
    /// the exit code), ordered by file and position.
    pub unresolved: Vec<UnresolvedCall>,
    /// The workflow entry points recognised (`--list-entry-points`; not serialised).
    #[serde(skip)]
    pub entry_points: Vec<EntryPoint>,
    /// Lines of source read (not serialised; shown in the human summary and benchmarks).
    #[serde(skip)]
    pub lines_scanned: usize,
    /// Findings covered by a suppression comment (not serialised).
    #[serde(skip)]
    pub suppressed: usize,
    /// Findings removed by `--baseline` (not serialised).
    #[serde(skip)]
    pub baselined: usize,
    /// Files parsed; the others could not reach workflow code (not serialised).
    #[serde(skip)]
    pub files_parsed: usize,
}

impl Report {
    /// Any deny-level finding?
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(Finding::is_error)
    }

    /// Could every file that may hold workflow code be analysed?
    pub fn complete(&self) -> bool {
        self.unanalysed == 0
    }
}
