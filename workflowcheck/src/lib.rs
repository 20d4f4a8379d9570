//! # workflowcheck
//!
//! A determinism linter for durable workflows written in Rust. It reads source trees with
//! syn (never compiling or running them: no build scripts, no proc macros), resolves names
//! itself, builds a call graph over every scanned crate, and reports each non-deterministic
//! operation reachable from a workflow entry point, with the chain of calls that reaches it
//! and what to write instead.
//!
//! ## Map of the code
//!
//! | module | role |
//! | --- | --- |
//! | [`parse`] | reads files (size and UTF-8 checks), tokenises, guards nesting depth, parses with syn under `catch_unwind` |
//! | [`select`] | the pre-pass over raw bytes (memchr) choosing the files to parse: packages with workflow markers and what they reference; other files are read, never parsed |
//! | [`index::modtree`] | walks directories (walkdir; skips `target/`, hidden dirs, symlink loops), places each file in its crate and module from `mod` declarations and `Cargo.toml` |
//! | [`index::resolve`] | `use` trees (aliases, globs, groups, `self`/`super`/`crate`, nested and block scopes) and path resolution to candidate absolute paths |
//! | [`index::entry`] | workflow entry points (context parameter types, `#[workflow_methods]` attributes, configured attributes) and activities |
//! | [`index::collect`] | the per-file syn visitor: functions, calls, rule hits, macro arguments parsed as expressions, statics, hash-typed fields |
//! | [`callgraph`] | the global index (re-exports, globs across files and crates) and the memoised worklist walk from each workflow |
//! | [`rules`] | one file per rule: what it matches, why it breaks replay, what to write instead |
//! | [`suppress`], [`config`], [`baseline`] | `workflowcheck:ignore` comments, `workflowcheck.toml`, `--baseline` files |
//! | [`report`] | findings as data, and the human, JSON, SARIF and GitHub renderers |
//! | [`cli`] | argument parsing and exit codes shared by `workflowcheck` and `cargo workflowcheck` |
//! | `benches/throughput.rs` | lines/s, ratio to a parse-only pass and to `cargo clippy` with `disallowed-methods` |
//! | `tests/` | fixture snapshots (`fixtures/workflowcheck/`, insta) and end-to-end CLI tests |
//!
//! Data flows one way: files are read and placed, the pre-pass picks the files that can
//! matter (files of crates that cannot reach workflow code are not parsed, so their syntax
//! errors are not reported), those are parsed and summarised in parallel
//! (each [`model::FileSummary`] holds no syntax tree), then the call graph is built and
//! walked on one thread, then levels, suppressions and the baseline are applied and the
//! report is rendered.
//!
//! ## Example
//!
//! ```
//! use workflowcheck::{check_sources, config::Config};
//!
//! let src = r#"
//!     use std::time::SystemTime as Clock;
//!     pub async fn expire(ctx: WorkflowContext, order: Order) -> Result<(), WorkflowError> {
//!         if deadline_passed(&order) { ctx.timer(Duration::from_secs(1)).await; }
//!         Ok(())
//!     }
//!     fn deadline_passed(order: &Order) -> bool { Clock::now() > order.deadline }
//! "#;
//! let report = check_sources(&[("orders.rs", src)], &Config::default());
//! assert_eq!(report.workflows_found, 1);
//! let f = &report.findings[0];
//! assert_eq!((f.rule.as_str(), f.line, f.column), ("wall-clock", 7, 49));
//! assert_eq!(f.chain.len(), 2); // expire -> deadline_passed
//! assert!(f.suggestion.contains("ctx.workflow_time()"));
//! ```
//!
//! ## JSON output
//!
//! `{"findings":[{"rule","severity","message","file","line","column","workflows","chain":
//! [{"function","file","line","column"}],"suggestion"}],"files_scanned","workflows_found",
//! "errors":[{"file","message"}]}`: a finding locates the operation itself; `workflows` lists
//! every entry point reaching it and `chain` is a shortest call path from one of them.

pub mod baseline;
pub mod callgraph;
pub mod cli;
pub mod config;
pub mod index;
pub mod model;
pub mod parse;
pub mod report;
pub mod rules;
pub mod select;
pub mod suppress;

use config::Config;
use index::modtree::{self, SourceFile};
use model::{FileError, FileSummary};
use rayon::prelude::*;
use report::{Finding, Report, Step};
use std::path::{Path, PathBuf};

/// Stack size of the scanning threads: syn and the visitors recurse per nesting level.
pub const STACK_SIZE: usize = 256 << 20;

/// What to scan and how.
#[derive(Clone, Debug)]
pub struct Options {
    pub paths: Vec<PathBuf>,
    pub config: Config,
    /// Paths in the output are shown relative to this directory when they are under it.
    pub display_root: Option<PathBuf>,
    pub max_file_bytes: u64,
    /// Worker threads (default: one per CPU).
    pub jobs: Option<usize>,
    /// Parse every file, even those of crates that cannot reach workflow code (see
    /// [`select`]); the findings are the same, syntax errors are reported everywhere.
    pub parse_all: bool,
}

impl Options {
    pub fn new(paths: Vec<PathBuf>, config: Config) -> Options {
        Options {
            paths,
            config,
            display_root: None,
            max_file_bytes: parse::DEFAULT_MAX_FILE_BYTES,
            jobs: None,
            parse_all: false,
        }
    }
}

/// Runs `f` on a thread pool whose threads have large stacks.
pub fn with_pool<T: Send>(jobs: Option<usize>, f: impl FnOnce() -> T + Send) -> T {
    let mut b = rayon::ThreadPoolBuilder::new().stack_size(STACK_SIZE);
    if let Some(j) = jobs {
        b = b.num_threads(j.max(1));
    }
    match b.build() {
        Ok(pool) => pool.install(f),
        Err(_) => f(),
    }
}

fn display_path(p: &Path, root: Option<&Path>) -> String {
    let shown = root.and_then(|r| p.strip_prefix(r).ok()).unwrap_or(p);
    let s = shown.display().to_string().replace('\\', "/");
    s.strip_prefix("./").map(str::to_string).unwrap_or(s)
}

/// Scans files and directories.
pub fn check(opts: &Options) -> Report {
    let mut errors = Vec::new();
    let paths = modtree::discover(&opts.paths, &opts.config, &mut errors);
    let root = opts.display_root.as_deref();
    let displays: Vec<String> = paths.iter().map(|p| display_path(p, root)).collect();
    with_pool(opts.jobs, || {
        let texts: Vec<Result<String, String>> = paths
            .par_iter()
            .map(|p| parse::read_source(p, opts.max_file_bytes))
            .collect();
        let inputs: Vec<(String, Result<String, String>)> =
            displays.into_iter().zip(texts).collect();
        analyze(&paths, inputs, &opts.config, opts.parse_all, errors)
    })
}

/// Scans in-memory sources, each `(file name, text)`; file names place them in modules as
/// on disk (`a.rs` with `mod b;` includes `a/b.rs` or `b.rs`).
pub fn check_sources(sources: &[(&str, &str)], config: &Config) -> Report {
    let paths: Vec<PathBuf> = sources.iter().map(|(n, _)| PathBuf::from(n)).collect();
    let inputs = sources
        .iter()
        .map(|(n, t)| (n.to_string(), Ok(t.to_string())))
        .collect();
    with_pool(None, || analyze(&paths, inputs, config, false, Vec::new()))
}

/// Parses and summarises one file (under `catch_unwind`).
pub fn summarize(file: &SourceFile, text: &str, config: &Config) -> Result<FileSummary, String> {
    parse::guarded(|| {
        let ast = parse::parse_source(text)?;
        let mut summary = if file.test {
            FileSummary::default()
        } else {
            let mut module = vec![file.crate_name.clone()];
            module.extend(file.module.iter().cloned());
            index::collect::Collector::new(config, &file.crate_name).run(&ast, module)
        };
        summary.suppressions = suppress::parse(text);
        Ok(summary)
    })
}

/// Lines as `str::lines` counts them.
fn count_lines(text: &str) -> usize {
    let newlines = memchr::memchr_iter(b'\n', text.as_bytes()).count();
    newlines + usize::from(!text.is_empty() && !text.ends_with('\n'))
}

/// What a file that is not parsed contributes: its lines and suppression comments.
fn unparsed_summary(text: &str) -> FileSummary {
    let mut s = FileSummary::default();
    if memchr::memmem::find(text.as_bytes(), b"workflowcheck:ignore").is_some() {
        s.suppressions = suppress::parse(text);
    }
    s
}

fn analyze(
    paths: &[PathBuf],
    inputs: Vec<(String, Result<String, String>)>,
    config: &Config,
    parse_all: bool,
    mut errors: Vec<FileError>,
) -> Report {
    let texts: Vec<Option<&str>> = inputs
        .iter()
        .map(|(_, t)| t.as_ref().ok().map(String::as_str))
        .collect();
    let placed = modtree::place(paths, &texts);
    let mut selection = select::Selection::new(&placed, &texts, config, parse_all);
    let mut parsed: Vec<Option<Result<FileSummary, String>>> =
        (0..inputs.len()).map(|_| None).collect();
    loop {
        let todo: Vec<usize> = (0..inputs.len())
            .filter(|&i| selection.parse[i] && parsed[i].is_none())
            .collect();
        if todo.is_empty() {
            break;
        }
        let round: Vec<(usize, Result<FileSummary, String>)> = todo
            .par_iter()
            .map(|&i| {
                let r = match &inputs[i].1 {
                    Ok(text) => summarize(&placed[i], text, config),
                    Err(e) => Err(e.clone()),
                };
                (i, r)
            })
            .collect();
        for (i, r) in round {
            parsed[i] = Some(r);
        }
        if parse_all {
            break;
        }
        selection.grow(&parsed);
    }
    let files_parsed = (0..texts.len())
        .filter(|&i| parsed[i].is_some() && texts[i].is_some())
        .count();
    let results: Vec<Result<FileSummary, String>> = parsed
        .into_par_iter()
        .zip(inputs.par_iter())
        .zip(placed.par_iter())
        .map(|((r, (display, text)), file)| {
            let text = text.as_ref().map_err(Clone::clone)?;
            let mut s = match r {
                Some(r) => r?,
                None => unparsed_summary(text),
            };
            s.path = file.path.clone();
            s.display = display.clone();
            s.lines = count_lines(text);
            Ok(s)
        })
        .collect();
    let mut summaries = Vec::with_capacity(results.len());
    let mut lines = Vec::with_capacity(results.len());
    for (r, (display, text)) in results.into_iter().zip(&inputs) {
        match r {
            Ok(s) => {
                summaries.push(s);
                lines.push(text.as_ref().ok());
            }
            Err(message) => errors.push(FileError {
                file: display.clone(),
                message,
            }),
        }
    }
    let lines_scanned = summaries.iter().map(|s| s.lines).sum();
    let model::Reachability {
        workflows_found,
        reached,
    } = callgraph::reach(&summaries, config);
    let source_line = |file: usize, line: u32| -> String {
        lines[file]
            .and_then(|t| t.lines().nth(line.saturating_sub(1) as usize))
            .unwrap_or("")
            .to_string()
    };
    let mut used: Vec<Vec<bool>> = summaries
        .iter()
        .map(|s| vec![false; s.suppressions.len()])
        .collect();
    let mut findings = Vec::new();
    let mut suppressed = 0;
    for r in reached {
        let sups = &summaries[r.file].suppressions;
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
                file: summaries[link.file].display.clone(),
                line: link.loc.line,
                column: link.loc.column,
            })
            .collect();
        findings.push(Finding {
            rule: r.op.rule.to_string(),
            severity,
            message: r.op.message,
            file: summaries[r.file].display.clone(),
            line: r.op.loc.line,
            column: r.op.loc.column,
            workflows: r.workflows.into_iter().collect(),
            chain,
            suggestion: r.op.suggestion,
            len: r.op.loc.len,
            source_line: source_line(r.file, r.op.loc.line),
        });
    }
    for (fi, s) in summaries.iter().enumerate() {
        for (si, sup) in s.suppressions.iter().enumerate() {
            let (meta, message, suggestion) = match &sup.problem {
                Some(p) => (
                    &rules::INVALID_SUPPRESSION,
                    p.clone(),
                    "write `// workflowcheck:ignore[rule-id] reason`".to_string(),
                ),
                None if !used[fi][si] => (
                    &rules::UNUSED_SUPPRESSION,
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
                source_line: source_line(fi, sup.line),
            });
        }
    }
    findings.sort_by(|a, b| {
        (&a.file, a.line, a.column, &a.rule).cmp(&(&b.file, b.line, b.column, &b.rule))
    });
    errors.sort();
    Report {
        findings,
        files_scanned: inputs.len(),
        workflows_found,
        errors,
        lines_scanned,
        suppressed,
        baselined: 0,
        files_parsed,
    }
}
