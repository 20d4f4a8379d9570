//! `--format human`: rustc-style diagnostics.
//!
//! ```text
//! error[wall-clock]: `SystemTime::now` reads the host's wall clock, ...
//!   --> src/workflows.rs:12:15
//!    |
//! 12 |     let now = SystemTime::now();
//!    |               ^^^^^^^^^^^^^^^
//!    = note: reached from workflow `app::workflows::expire`:
//!            1. app::workflows::expire  src/workflows.rs:8:5
//!            2. app::util::deadline     src/workflows.rs:12:15
//!    = help: use `ctx.workflow_time()`, ...
//! ```

use super::{Finding, Report};
use std::fmt::Write;

struct Style {
    on: bool,
}

impl Style {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
}

fn finding(out: &mut String, f: &Finding, st: &Style) {
    let (word, code) = if f.is_error() {
        ("error", "1;31")
    } else {
        ("warning", "1;33")
    };
    let _ = writeln!(
        out,
        "{}{}",
        st.paint(code, &format!("{word}[{}]", f.rule)),
        st.paint("1", &format!(": {}", f.message))
    );
    let num = f.line.to_string();
    let pad = " ".repeat(num.len());
    let _ = writeln!(
        out,
        "{pad}{} {}:{}:{}",
        st.paint("1;34", "-->"),
        f.file,
        f.line,
        f.column
    );
    if !f.source_line.is_empty() {
        let bar = st.paint("1;34", "|");
        let _ = writeln!(out, "{pad} {bar}");
        // A window of a long line: `...` marks the cut ends.
        let (lead, tail) = if f.source_start > 0 {
            ("...", "...")
        } else {
            ("", "")
        };
        let _ = writeln!(
            out,
            "{} {bar} {lead}{}{tail}",
            st.paint("1;34", &num),
            f.source_line.trim_end()
        );
        let prefix: String = lead
            .chars()
            .chain(f.source_line.chars())
            .take((f.column.saturating_sub(1) - f.source_start) as usize + lead.len())
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        let carets = "^".repeat(f.len.clamp(1, 200) as usize);
        let _ = writeln!(out, "{pad} {bar} {prefix}{}", st.paint(code, &carets));
    }
    let eq = st.paint("1;34", "=");
    if !f.workflows.is_empty() {
        let label = if f.workflows.len() == 1 {
            "workflow"
        } else {
            "workflows"
        };
        let names: Vec<String> = f.workflows.iter().map(|w| format!("`{w}`")).collect();
        let _ = writeln!(
            out,
            "{pad} {eq} note: reached from {label} {}",
            names.join(", ")
        );
    }
    if f.chain.len() > 1 {
        let _ = writeln!(out, "{pad} {eq} note: call chain:");
        let width = f.chain.iter().map(|s| s.function.len()).max().unwrap_or(0);
        for (i, s) in f.chain.iter().enumerate() {
            let _ = writeln!(
                out,
                "{pad}           {}. {:<width$}  {}:{}:{}",
                i + 1,
                s.function,
                s.file,
                s.line,
                s.column
            );
        }
    }
    let _ = writeln!(out, "{pad} {eq} help: {}", f.suggestion);
    out.push('\n');
}

/// Renders rustc-style diagnostics and a summary line; `color` adds ANSI colours.
pub fn render(report: &Report, color: bool) -> String {
    let st = Style { on: color };
    let mut out = String::new();
    for f in &report.findings {
        finding(&mut out, f, &st);
    }
    for e in &report.errors {
        if e.may_hold_workflow {
            let _ = writeln!(
                out,
                "{}: {}: {}",
                st.paint("1;31", "error[unanalysed]"),
                e.position(),
                e.message
            );
            let _ = writeln!(
                out,
                "  {} note: this file may hold workflow code (or code workflows reach) and was not analysed",
                st.paint("1;34", "=")
            );
        } else {
            let _ = writeln!(
                out,
                "{}: {}: {}",
                st.paint("1;33", "warning[scan]"),
                e.position(),
                e.message
            );
        }
    }
    if !report.errors.is_empty() {
        out.push('\n');
    }
    let errors = report.findings.iter().filter(|f| f.is_error()).count();
    let warnings = report.findings.len() - errors;
    let _ = write!(
        out,
        "workflowcheck: {errors} error{}, {warnings} warning{} in {} file{} scanned ({} workflow{} found",
        if errors == 1 { "" } else { "s" },
        if warnings == 1 { "" } else { "s" },
        report.files_scanned,
        if report.files_scanned == 1 { "" } else { "s" },
        report.workflows_found,
        if report.workflows_found == 1 { "" } else { "s" },
    );
    if !report.errors.is_empty() {
        let _ = write!(
            out,
            ", {} file{} not analysed",
            report.errors.len(),
            if report.errors.len() == 1 { "" } else { "s" }
        );
        if report.unanalysed > 0 {
            let _ = write!(
                out,
                ", {} of which may hold workflow code",
                report.unanalysed
            );
        }
    }
    if report.suppressed > 0 {
        let _ = write!(out, ", {} suppressed", report.suppressed);
    }
    if report.baselined > 0 {
        let _ = write!(out, ", {} in baseline", report.baselined);
    }
    out.push_str(")\n");
    out
}
