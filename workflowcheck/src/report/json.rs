//! `--format json`: the [`Report`] serialised as documented in the crate docs.

use super::Report;

/// Renders the report as pretty-printed JSON.
pub fn render(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(report).unwrap_or_else(|e| {
        format!("{{\"findings\":[],\"errors\":[{{\"file\":\"\",\"message\":\"cannot serialise report: {e}\"}}]}}")
    });
    s.push('\n');
    s
}
