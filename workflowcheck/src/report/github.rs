//! `--format github`: GitHub Actions workflow commands (`::error file=..,line=..,col=..::msg`),
//! one per finding and per file that could not be analysed (an error when it may hold
//! workflow code, else a warning), so they show up as annotations on the diff; calls from
//! workflow code that could not be resolved are notices (the first few, then a count).

use super::Report;

fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_prop(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Renders GitHub Actions workflow commands.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    for f in &report.findings {
        let level = if f.is_error() { "error" } else { "warning" };
        let mut msg = format!("{}\n", f.message);
        if !f.workflows.is_empty() {
            msg.push_str(&format!("reached from: {}\n", f.workflows.join(", ")));
        }
        if f.chain.len() > 1 {
            let chain: Vec<String> = f
                .chain
                .iter()
                .map(|s| format!("{} ({}:{}:{})", s.function, s.file, s.line, s.column))
                .collect();
            msg.push_str(&format!("call chain: {}\n", chain.join(" -> ")));
        }
        msg.push_str(&format!("help: {}", f.suggestion));
        out.push_str(&format!(
            "::{level} file={},line={},col={},title={}::{}\n",
            escape_prop(&f.file),
            f.line,
            f.column,
            escape_prop(&format!("workflowcheck {}", f.rule)),
            escape_data(&msg)
        ));
    }
    // Unresolved calls: notices, the first few with their position, then the count of the
    // rest (GitHub shows a handful of annotations of each kind per step).
    let shown = report.unresolved.len().min(super::human::NOTES_LISTED);
    for u in &report.unresolved[..shown] {
        out.push_str(&format!(
            "::notice file={},line={},col={},title={}::{}\n",
            escape_prop(&u.file),
            u.line,
            u.column,
            escape_prop("workflowcheck: unresolved call"),
            escape_data(&format!(
                "`{}` in `{}` could not be resolved: {}; the code it reaches is not checked",
                u.callee, u.function, u.reason
            ))
        ));
    }
    if report.unresolved.len() > shown {
        out.push_str(&format!(
            "::notice title={}::{} more calls from workflow code could not be resolved (run workflowcheck --verbose to list them)\n",
            escape_prop("workflowcheck: unresolved calls"),
            report.unresolved.len() - shown
        ));
    }
    for e in &report.errors {
        let (level, title) = if e.may_hold_workflow {
            ("error", "workflowcheck: file not analysed")
        } else {
            ("warning", "workflowcheck: file not analysed")
        };
        let mut props = format!("file={}", escape_prop(&e.file));
        if let Some(l) = e.line {
            props.push_str(&format!(",line={l}"));
        }
        if let Some(c) = e.column {
            props.push_str(&format!(",col={c}"));
        }
        out.push_str(&format!(
            "::{level} {props},title={}::{}\n",
            escape_prop(title),
            escape_data(&e.message)
        ));
    }
    out
}
