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

/// Unresolved calls listed without `--verbose`.
pub const NOTES_LISTED: usize = 5;

/// What the unresolved calls have in common: how many go into each crate that was not
/// scanned (most first), and how many name nothing in the code scanned.
fn unresolved_causes(report: &Report) -> String {
    let mut crates: std::collections::BTreeMap<&str, usize> = Default::default();
    let mut missing = 0;
    for u in &report.unresolved {
        let krate = u
            .reason
            .strip_prefix("crate `")
            .and_then(|r| r.strip_suffix("` was not scanned"));
        match krate {
            Some(k) => *crates.entry(k).or_default() += 1,
            None => missing += 1,
        }
    }
    let mut by_count: Vec<(&str, usize)> = crates.into_iter().collect();
    by_count.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let mut parts: Vec<String> = Vec::new();
    if !by_count.is_empty() {
        const NAMED: usize = 3;
        let mut names: Vec<String> = by_count
            .iter()
            .take(NAMED)
            .map(|(k, c)| format!("{c} into `{k}`"))
            .collect();
        if by_count.len() > NAMED {
            let rest: usize = by_count[NAMED..].iter().map(|(_, c)| c).sum();
            names.push(format!(
                "{rest} into {} other crates",
                by_count.len() - NAMED
            ));
        }
        parts.push(format!("{}, not scanned", names.join(", ")));
    }
    if missing > 0 {
        parts.push(format!("{missing} naming nothing in the code scanned"));
    }
    parts.join("; ")
}

/// The note on calls from workflow code that could not be resolved: the count, then the
/// first [`NOTES_LISTED`] (all with `verbose`), each with its position.
fn unresolved(out: &mut String, report: &Report, st: &Style, verbose: bool) {
    let n = report.unresolved.len();
    if n == 0 {
        return;
    }
    let _ = writeln!(
        out,
        "{}: {n} call{} from workflow code could not be resolved ({}); the code {} reach{} is not checked:",
        st.paint("1;36", "note"),
        if n == 1 { "" } else { "s" },
        unresolved_causes(report),
        if n == 1 { "it" } else { "they" },
        if n == 1 { "es" } else { "" },
    );
    let shown = if verbose { n } else { n.min(NOTES_LISTED) };
    for u in &report.unresolved[..shown] {
        let _ = writeln!(
            out,
            "  {} {}:{}:{}  `{}` in `{}`: {}",
            st.paint("1;34", "-->"),
            u.file,
            u.line,
            u.column,
            u.callee,
            u.function,
            u.reason
        );
    }
    if shown < n {
        let _ = writeln!(
            out,
            "  ... and {} more (--verbose lists them all)",
            n - shown
        );
    }
    out.push('\n');
}

/// Renders rustc-style diagnostics, the note on unresolved calls and a summary line;
/// `color` adds ANSI colours, `verbose` lists every unresolved call.
pub fn render(report: &Report, color: bool, verbose: bool) -> String {
    let st = Style { on: color };
    let mut out = String::new();
    for f in &report.findings {
        finding(&mut out, f, &st);
    }
    unresolved(&mut out, report, &st, verbose);
    for e in &report.errors {
        if e.may_hold_workflow {
            let _ = writeln!(
                out,
                "{}: {}: {}",
                st.paint("1;31", "error[unanalysed]"),
                e.position(),
                e.message
            );
            let why = if e.file.ends_with("Cargo.toml") {
                "the scan relies on this manifest (the package of a path given, or a path dependency)"
            } else {
                "this file may hold workflow code (or code workflows reach) and was not analysed"
            };
            let _ = writeln!(out, "  {} note: {why}", st.paint("1;34", "="));
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
