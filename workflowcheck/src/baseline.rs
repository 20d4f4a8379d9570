//! `--baseline FILE`: record today's findings so that CI fails only on new ones.
//!
//! Entries are matched on rule, file, message and the trimmed source line (not on line
//! numbers, which move as code is edited), as a multiset: two identical findings need two
//! entries.

use crate::model::{Finding, Report};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

/// The baseline format this version reads and writes; a file with another version is
/// rejected rather than half-understood.
pub const VERSION: u32 = 1;

/// A recorded finding, matched without its line number.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Entry {
    /// The rule id.
    pub rule: String,
    /// The file, as displayed.
    pub file: String,
    /// The finding's message.
    pub message: String,
    /// The trimmed source line of the finding.
    pub source: String,
}

/// A baseline file.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    /// Format version (1).
    pub version: u32,
    /// The recorded findings (a multiset).
    pub findings: Vec<Entry>,
}

fn entry(f: &Finding) -> Entry {
    Entry {
        rule: f.rule.clone(),
        file: f.file.clone(),
        message: f.message.clone(),
        source: f.source_line.trim().to_string(),
    }
}

/// The baseline of a report.
pub fn of(report: &Report) -> Baseline {
    Baseline {
        version: VERSION,
        findings: report.findings.iter().map(entry).collect(),
    }
}

/// Writes the baseline of `report` to `path`.
pub fn write(report: &Report, path: &Path) -> Result<(), String> {
    let mut text = serde_json::to_string_pretty(&of(report)).map_err(|e| e.to_string())?;
    text.push('\n');
    std::fs::write(path, text).map_err(|e| format!("cannot write baseline {}: {e}", path.display()))
}

/// Reads a baseline file.
pub fn read(path: &Path) -> Result<Baseline, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read baseline {}: {e}", path.display()))?;
    let b: Baseline = serde_json::from_str(&text)
        .map_err(|e| format!("invalid baseline {}: {e}", path.display()))?;
    if b.version != VERSION {
        return Err(format!(
            "baseline {} has version {}; this workflowcheck reads version {VERSION} \
             (rewrite it with --write-baseline)",
            path.display(),
            b.version
        ));
    }
    Ok(b)
}

/// Removes findings recorded in `baseline`; returns how many were removed.
pub fn apply(report: &mut Report, baseline: &Baseline) -> usize {
    let mut counts: HashMap<&Entry, usize> = HashMap::new();
    for e in &baseline.findings {
        *counts.entry(e).or_default() += 1;
    }
    let before = report.findings.len();
    report.findings.retain(|f| {
        let e = entry(f);
        match counts.get_mut(&e) {
            Some(n) if *n > 0 => {
                *n -= 1;
                false
            }
            _ => true,
        }
    });
    let removed = before - report.findings.len();
    report.baselined += removed;
    removed
}
