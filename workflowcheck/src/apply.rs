//! The fifth stage: applies the configured rule levels and the `workflowcheck:ignore`
//! comments to what the call graph reached, and turns the rest into [`Finding`]s (data;
//! rendering is the report stage's). Malformed and unused suppressions become findings of
//! their own (`invalid-suppression`, `unused-suppression`).

use crate::config::Config;
use crate::model::{FileSummary, Finding, Reachability, Step, UnresolvedCall};
use crate::rules::{INVALID_SUPPRESSION, UNUSED_SUPPRESSION};
use crate::suppress;

/// What the stage hands on.
#[derive(Clone, Debug, Default)]
pub struct Applied {
    /// Findings ordered by file, line, column and rule.
    pub findings: Vec<Finding>,
    /// Reached operations a suppression comment covered.
    pub suppressed: usize,
    /// Calls from workflow code that resolve to nothing scanned, by file and position.
    pub unresolved: Vec<UnresolvedCall>,
}

/// Applies levels and suppressions. `texts[i]` is the source of `files[i]`, for the source
/// lines shown with findings.
pub fn apply(
    reach: Reachability,
    files: &[FileSummary],
    texts: &[&str],
    config: &Config,
) -> Applied {
    // Line starts of the files with findings, computed once per file.
    let mut line_starts: std::collections::HashMap<usize, Vec<usize>> = Default::default();
    let mut source_line = |file: usize, line: u32, column: u32| -> (String, u32) {
        let text = texts[file];
        let starts = line_starts.entry(file).or_insert_with(|| {
            std::iter::once(0)
                .chain(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1))
                .collect()
        });
        let Some(&start) = starts.get(line.saturating_sub(1) as usize) else {
            return (String::new(), 0);
        };
        let end = text[start..].find('\n').map_or(text.len(), |e| start + e);
        let full = text[start..end]
            .strip_suffix('\r')
            .unwrap_or(&text[start..end]);
        excerpt(full, column)
    };
    let mut used: Vec<Vec<bool>> = files
        .iter()
        .map(|s| vec![false; s.suppressions.len()])
        .collect();
    let mut findings = Vec::new();
    let mut suppressed = 0;
    let mut unresolved: Vec<UnresolvedCall> = reach
        .unresolved
        .into_iter()
        .map(|u| UnresolvedCall {
            file: files[u.file].display.clone(),
            line: u.loc.line,
            column: u.loc.column,
            callee: u.callee,
            reason: u.reason,
            function: u.function,
            workflows: u.workflows.into_iter().collect(),
        })
        .collect();
    unresolved.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
    for r in reach.reached {
        let sups = &files[r.file].suppressions;
        if let Some(i) = sups
            .iter()
            .position(|s| suppress::covers(s, r.op.rule, r.op.loc.line))
        {
            used[r.file][i] = true;
            suppressed += 1;
            continue;
        }
        let Some(severity) = config.level(r.op.rule).severity() else {
            continue;
        };
        let chain = r
            .chain
            .iter()
            .map(|link| Step {
                function: link.function.clone(),
                file: files[link.file].display.clone(),
                line: link.loc.line,
                column: link.loc.column,
            })
            .collect();
        let (source_line, source_start) = source_line(r.file, r.op.loc.line, r.op.loc.column);
        findings.push(Finding {
            rule: r.op.rule.to_string(),
            severity,
            message: r.op.message,
            file: files[r.file].display.clone(),
            line: r.op.loc.line,
            column: r.op.loc.column,
            workflows: r.workflows.into_iter().collect(),
            chain,
            suggestion: r.op.suggestion,
            len: r.op.loc.len,
            source_line,
            source_start,
        });
    }
    // A context file's workflows were not walked: its suppressions may be unused for that
    // alone, and it is not the code the run was asked to check.
    for (fi, s) in files.iter().enumerate().filter(|(_, s)| !s.context_only) {
        for (si, sup) in s.suppressions.iter().enumerate() {
            let (meta, message, suggestion) = match &sup.problem {
                Some(p) => (
                    &INVALID_SUPPRESSION,
                    p.clone(),
                    "write `// workflowcheck:ignore[rule-id] reason`".to_string(),
                ),
                None if !used[fi][si] => (
                    &UNUSED_SUPPRESSION,
                    format!(
                        "suppression of `{}` matches no finding on this line or the next",
                        sup.rules.join(", ")
                    ),
                    "remove the suppression".to_string(),
                ),
                None => continue,
            };
            let Some(severity) = config.level(meta.id).severity() else {
                continue;
            };
            let (source_line, source_start) = source_line(fi, sup.line, sup.column);
            findings.push(Finding {
                rule: meta.id.to_string(),
                severity,
                message,
                file: s.display.clone(),
                line: sup.line,
                column: sup.column,
                workflows: Vec::new(),
                chain: Vec::new(),
                suggestion,
                len: 2,
                source_line,
                source_start,
            });
        }
    }
    findings.sort_by(|a, b| {
        (&a.file, a.line, a.column, &a.rule).cmp(&(&b.file, b.line, b.column, &b.rule))
    });
    Applied {
        findings,
        suppressed,
        unresolved,
    }
}

/// Source lines longer than this many characters are cut to a window around the finding.
pub const MAX_SOURCE_LINE_CHARS: usize = 240;

/// The part of `line` shown with a finding at 1-based `column`, and how many characters were
/// cut from its start: the whole line when short, else a window of
/// [`MAX_SOURCE_LINE_CHARS`] around the column (a 4 MB one-line file must not print 4 MB per
/// finding, nor hold a copy of the line in each).
pub fn excerpt(line: &str, column: u32) -> (String, u32) {
    if line.len() <= MAX_SOURCE_LINE_CHARS {
        return (line.to_string(), 0);
    }
    let chars = line.chars().count();
    if chars <= MAX_SOURCE_LINE_CHARS {
        return (line.to_string(), 0);
    }
    let at = (column as usize).saturating_sub(1).min(chars);
    let start = at
        .saturating_sub(MAX_SOURCE_LINE_CHARS / 3)
        .min(chars - MAX_SOURCE_LINE_CHARS);
    let cut: String = line
        .chars()
        .skip(start)
        .take(MAX_SOURCE_LINE_CHARS)
        .collect();
    (cut, start as u32)
}
