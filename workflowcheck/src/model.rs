//! Plain data shared by the phases: what one file contributes to the global picture.
//!
//! A [`FileSummary`] is produced per file in parallel (parse + per-file name resolution) and
//! holds no syn types, so the syntax trees can be dropped as soon as a file is summarised.

use std::path::PathBuf;

/// A path as a list of segments, e.g. `["std", "time", "SystemTime", "now"]`.
pub type Segs = Vec<String>;

/// Joins segments with `::`.
pub fn join(segs: &[String]) -> String {
    segs.join("::")
}

/// A position in a source file; `line` and `column` are 1-based, `len` is the caret width.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Loc {
    pub line: u32,
    pub column: u32,
    pub len: u32,
}

impl Loc {
    /// Location of a span's start, with the caret covering the span if it is on one line.
    pub fn of(span: proc_macro2::Span) -> Loc {
        let s = span.start();
        let e = span.end();
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

/// A non-deterministic operation found directly in a function body.
#[derive(Clone, Debug)]
pub struct Op {
    pub rule: &'static str,
    pub loc: Loc,
    pub message: String,
    pub suggestion: String,
}

/// How a function is referred to at a call site.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallKind {
    /// `path(..)`.
    Call,
    /// A path used as a value (`.map(helper)`, `COUNTER.fetch_add(..)`).
    Ref,
    /// `recv.name(..)` whose receiver type is unknown: resolved by method name.
    Method(String),
}

/// A call (or reference) from a function body, with its candidate targets in priority order.
#[derive(Clone, Debug)]
pub struct CallSite {
    pub loc: Loc,
    pub kind: CallKind,
    pub candidates: Vec<Segs>,
    /// Text shown for the callee when resolution fails, e.g. `helper`.
    pub display: String,
}

/// An iteration over a struct field whose type is only known once all files are indexed.
#[derive(Clone, Debug)]
pub struct FieldIter {
    pub loc: Loc,
    /// Candidate paths of the struct owning the field.
    pub owner: Vec<Segs>,
    pub field: String,
    /// What the iteration does, e.g. "`.keys()`".
    pub how: String,
}

/// Why a function is a workflow entry point.
#[derive(Clone, Debug)]
pub struct Entry {
    pub reason: String,
}

/// One function (or entry closure) and what its body does.
#[derive(Clone, Debug)]
pub struct FnInfo {
    /// Fully qualified path: crate, modules, optional type, name.
    pub qual: Segs,
    /// Short display name, e.g. `Transfer::run` or `money_transfer`.
    pub name: String,
    pub loc: Loc,
    pub entry: Option<Entry>,
    pub activity: bool,
    /// A method of a workflow-context type (the SDK itself): trusted, never walked.
    pub sdk: bool,
    /// An associated function (inside an impl or trait).
    pub method: bool,
    pub calls: Vec<CallSite>,
    pub ops: Vec<Op>,
    pub field_iters: Vec<FieldIter>,
}

/// What kind of shared mutable state a static holds.
#[derive(Clone, Debug)]
pub struct StaticInfo {
    pub qual: Segs,
    pub what: String,
}

/// A `workflowcheck:ignore` comment.
#[derive(Clone, Debug)]
pub struct Suppression {
    pub line: u32,
    pub column: u32,
    pub rules: Vec<String>,
    pub reason: String,
    /// Why the comment is malformed, if it is.
    pub problem: Option<String>,
}

/// Everything one file contributes.
#[derive(Clone, Debug, Default)]
pub struct FileSummary {
    pub path: PathBuf,
    pub display: String,
    pub lines: usize,
    pub fns: Vec<FnInfo>,
    /// `module path ++ [name]` -> absolute target, from `use` items.
    pub aliases: Vec<(Segs, Segs)>,
    /// module path -> glob-imported prefix.
    pub globs: Vec<(Segs, Segs)>,
    pub statics: Vec<StaticInfo>,
    /// `struct path ++ [field]` -> `HashMap` / `HashSet`.
    pub hash_fields: Vec<(Segs, &'static str)>,
    /// Candidate paths of functions registered as activities.
    pub activity_regs: Vec<Vec<Segs>>,
    pub suppressions: Vec<Suppression>,
}

/// A file that could not be scanned.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct FileError {
    pub file: String,
    pub message: String,
}
