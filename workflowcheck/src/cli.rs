//! The command line, shared by `workflowcheck` and `cargo workflowcheck`.
//!
//! Exit codes: 0 when no deny-level finding remains, 1 when one does, 2 on usage, config or
//! I/O errors, and 2 as well when a file that may hold workflow code could not be analysed
//! (syntax error, nesting limit, non-UTF-8, NUL bytes, oversized): the scan is incomplete, so
//! it cannot pass, whatever the findings. `--allow-unanalysed` reports such files and goes
//! by the findings alone. Files that cannot hold workflow code are reported as warnings and
//! never change the exit code.

use crate::config::Config;
use crate::report::{self, Format};
use crate::{baseline, check, Options};
use clap::Parser;
use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;

/// `--color`.
// Variant doc comments would change `--help` (clap shows them).
#[allow(missing_docs)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

/// Finds non-deterministic code reachable from durable workflow definitions.
#[derive(Debug, Parser)]
#[command(name = "workflowcheck", version)]
pub struct Args {
    /// Files or directories to scan. A file is checked in its crate: the rest of its
    /// package (nearest Cargo.toml above it) is scanned too, and the workflows the file
    /// defines are checked with everything they reach there.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Configuration file (default: workflowcheck.toml found upward from the first path).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Ignore any workflowcheck.toml.
    #[arg(long, conflicts_with = "config")]
    pub no_config: bool,
    /// Report only findings not recorded in FILE; creates FILE if it does not exist.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Rewrite the --baseline file with the current findings.
    #[arg(long, requires = "baseline")]
    pub write_baseline: bool,
    /// Colour in human output.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
    /// Worker threads.
    #[arg(short, long)]
    pub jobs: Option<usize>,
    /// Files larger than this many bytes are reported and skipped.
    #[arg(long, default_value_t = crate::discover::DEFAULT_MAX_FILE_BYTES)]
    pub max_file_size: u64,
    /// Parse every file, also those of crates that cannot reach workflow code (which are
    /// otherwise only read): same findings, syntax errors reported everywhere.
    #[arg(long)]
    pub parse_all: bool,
    /// Analyse test code too: `tests/`, `benches/`, `#[cfg(test)]` items and `#[test]`
    /// functions (skipped by default).
    #[arg(long)]
    pub include_tests: bool,
    /// Do not follow path dependencies. By default the `path = ".."` dependencies of the
    /// packages given (also through `workspace = true`, renamed ones under the name the
    /// code uses; dev-dependencies with --include-tests) are scanned too, transitively, so
    /// calls into them are followed; their own workflows are not checked.
    #[arg(long)]
    pub no_follow_path_deps: bool,
    /// List every call from workflow code that could not be resolved (by default the
    /// first few are listed with the count).
    #[arg(short, long)]
    pub verbose: bool,
    /// Do not fail (exit 2) when a file that may hold workflow code could not be analysed;
    /// such files are still reported.
    #[arg(long)]
    pub allow_unanalysed: bool,
    /// List the rules and exit.
    #[arg(long)]
    pub list_rules: bool,
    /// Scan, then list the workflow entry points recognised and why (one per line:
    /// function, position, reason; JSON with --format json) instead of findings.
    #[arg(long)]
    pub list_entry_points: bool,
}

/// Exit code: no deny-level finding, every file that may hold workflow code analysed.
pub const EXIT_CLEAN: i32 = 0;
/// Exit code: a deny-level finding.
pub const EXIT_FINDINGS: i32 = 1;
/// Exit code: usage, config or I/O error, or a file that may hold workflow code could not be
/// analysed (unless `--allow-unanalysed`).
pub const EXIT_ERROR: i32 = 2;

/// Colour for a stream: never with `NO_COLOR` set or when it is not a terminal.
fn auto_color(terminal: bool) -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && terminal
}

/// Runs the CLI; returns the exit code.
pub fn run(
    args: impl IntoIterator<Item = OsString>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let args = match Args::try_parse_from(args) {
        Ok(a) => a,
        Err(e) => {
            use std::io::IsTerminal;
            let code = if e.use_stderr() {
                EXIT_ERROR
            } else {
                EXIT_CLEAN
            };
            let terminal = if code == 0 {
                std::io::stdout().is_terminal()
            } else {
                std::io::stderr().is_terminal()
            };
            let text = if auto_color(terminal) {
                e.render().ansi().to_string()
            } else {
                e.render().to_string()
            };
            let _ = if code == 0 {
                write!(out, "{text}")
            } else {
                write!(err, "{text}")
            };
            return code;
        }
    };
    match execute(&args, out) {
        Ok(code) => code,
        Err(msg) => {
            let _ = writeln!(err, "workflowcheck: error: {msg}");
            EXIT_ERROR
        }
    }
}

fn execute(args: &Args, out: &mut dyn Write) -> Result<i32, String> {
    if args.list_rules {
        for m in crate::rules::ALL {
            let _ = writeln!(
                out,
                "{:<18} {:<5} {}",
                m.id,
                m.default_level.as_str(),
                m.summary
            );
        }
        return Ok(0);
    }
    for p in &args.paths {
        if !p.exists() {
            return Err(format!("no such file or directory: {}", p.display()));
        }
    }
    let config = if args.no_config {
        Config::default()
    } else {
        match args
            .config
            .clone()
            .or_else(|| Config::discover(&args.paths[0]))
        {
            Some(path) => Config::load(&path)?,
            None => Config::default(),
        }
    };
    let mut opts = Options::new(args.paths.clone(), config);
    opts.jobs = args.jobs;
    opts.max_file_bytes = args.max_file_size;
    opts.parse_all = args.parse_all;
    opts.include_tests = args.include_tests;
    opts.follow_path_deps = !args.no_follow_path_deps;
    let mut report = check(&opts);
    if args.list_entry_points {
        let text = if args.format == Format::Json {
            let mut t = serde_json::to_string_pretty(&report.entry_points)
                .map_err(|e| format!("cannot serialise entry points: {e}"))?;
            t.push('\n');
            t
        } else {
            let mut t = String::new();
            for e in &report.entry_points {
                t.push_str(&format!(
                    "{}  {}:{}:{}  {}\n",
                    e.function, e.file, e.line, e.column, e.reason
                ));
            }
            t.push_str(&format!(
                "workflowcheck: {} entry point{}\n",
                report.entry_points.len(),
                if report.entry_points.len() == 1 {
                    ""
                } else {
                    "s"
                }
            ));
            t
        };
        out.write_all(text.as_bytes())
            .map_err(|e| format!("cannot write output: {e}"))?;
        return Ok(EXIT_CLEAN);
    }
    if let Some(path) = &args.baseline {
        if args.write_baseline || !path.exists() {
            baseline::write(&report, path)?;
            report.baselined = report.findings.len();
            report.findings.clear();
        } else {
            let b = baseline::read(path)?;
            baseline::apply(&mut report, &b);
        }
    }
    let color = match args.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => {
            use std::io::IsTerminal;
            args.format == Format::Human && auto_color(std::io::stdout().is_terminal())
        }
    };
    out.write_all(report::render(&report, args.format, color, args.verbose).as_bytes())
        .map_err(|e| format!("cannot write output: {e}"))?;
    Ok(if !report.complete() && !args.allow_unanalysed {
        EXIT_ERROR
    } else if report.has_errors() {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    })
}

/// `cargo workflowcheck ARGS` runs `cargo-workflowcheck workflowcheck ARGS`: drop the
/// subcommand name.
pub fn cargo_args(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let mut v: Vec<OsString> = args.into_iter().collect();
    if v.get(1).is_some_and(|a| a == "workflowcheck") {
        v.remove(1);
    }
    v
}
