//! Findings as data, and their renderers. Nothing outside this module formats output.

pub mod github;
pub mod human;
pub mod json;
pub mod sarif;

use crate::model::FileError;
use serde::Serialize;

/// One frame of a call chain: a function and the position in it of the next call (or, for
/// the last frame, of the operation).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Step {
    pub function: String,
    pub file: String,
    pub line: u32,
    pub column: u32,
}

/// A reported non-deterministic operation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule: String,
    pub severity: String,
    pub message: String,
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub workflows: Vec<String>,
    pub chain: Vec<Step>,
    pub suggestion: String,
    /// Caret width (rendering only).
    #[serde(skip)]
    pub len: u32,
    /// The source line (rendering and baselines only).
    #[serde(skip)]
    pub source_line: String,
}

impl Finding {
    pub fn is_error(&self) -> bool {
        self.severity == "error"
    }
}

/// The result of a scan.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    pub findings: Vec<Finding>,
    pub files_scanned: usize,
    pub workflows_found: usize,
    pub errors: Vec<FileError>,
    /// Lines of source read (not serialised; shown in the human summary and benchmarks).
    #[serde(skip)]
    pub lines_scanned: usize,
    #[serde(skip)]
    pub suppressed: usize,
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
}

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
    Sarif,
    Github,
}

/// Renders a report.
pub fn render(report: &Report, format: Format, color: bool) -> String {
    match format {
        Format::Human => human::render(report, color),
        Format::Json => json::render(report),
        Format::Sarif => sarif::render(report),
        Format::Github => github::render(report),
    }
}
