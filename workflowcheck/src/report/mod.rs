//! The last stage: renders a [`Report`] (data, from [`crate::model`]) as human, JSON, SARIF
//! or GitHub output. Nothing outside this module formats output.

pub mod github;
pub mod human;
pub mod json;
pub mod sarif;

pub use crate::model::{Finding, Report, Step};

/// Output formats.
// Variant doc comments would change `--help` (clap shows them).
#[allow(missing_docs)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
    Sarif,
    Github,
}

/// Renders a report; `verbose` lists every unresolved call in human output (the machine
/// formats always hold them all).
pub fn render(report: &Report, format: Format, color: bool, verbose: bool) -> String {
    match format {
        Format::Human => human::render(report, color, verbose),
        Format::Json => json::render(report),
        Format::Sarif => sarif::render(report),
        Format::Github => github::render(report),
    }
}
