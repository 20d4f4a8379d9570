//! A failing seed's artifacts on disk: its plans, trace, violation and every run's history in
//! Temporal's JSON, so `sim show`, `sim replay` and Temporal's own tools read them.

use std::path::{Path, PathBuf};

use crate::checkers::Violation;
use crate::record::Outcome;

/// Writes one outcome's artifacts to `dir`; returns the plan file's path.
pub fn write_outcome(
    dir: &Path,
    outcome: &Outcome,
    original: Option<&Outcome>,
    v: Option<&Violation>,
) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir.join("histories"))?;
    let plan_path = dir.join(if original.is_some() {
        "minimal-plan.json"
    } else {
        "plan.json"
    });
    std::fs::write(&plan_path, outcome.plan.to_json())?;
    if let Some(o) = original {
        std::fs::write(dir.join("plan.json"), o.plan.to_json())?;
    }
    std::fs::write(dir.join("trace.txt"), outcome.trace_text())?;
    for (key, h) in &outcome.histories {
        let name = format!(
            "{}__{}.json",
            sanitize(&key.workflow_id),
            sanitize(&key.run_id)
        );
        std::fs::write(dir.join("histories").join(name), crate::history::to_json(h))?;
    }
    if let Some(v) = v {
        std::fs::write(dir.join("violation.txt"), format!("{v}\n"))?;
    }
    Ok(plan_path)
}

fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}
