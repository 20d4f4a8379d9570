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
//! The code is a pipeline: each stage is a module that takes the previous stage's output and
//! knows nothing of the next, and [`check`] calls them in order.
//!
//! ```text
//! paths ─discover─> Sources ─select─> files to parse ─parse─> syn::File ─collect─> FileSummary
//!         (select, parse and collect repeat, file by file in parallel, while the selection grows)
//! [FileSummary] ─callgraph─> Reachability ─apply─> Report ─report─> human | json | sarif | github
//! ```
//!
//! | stage | module | takes | hands on |
//! | --- | --- | --- | --- |
//! | 1 | [`discover`] | paths, config | [`discover::Sources`]: files walked (walkdir; skips `target/`, hidden dirs, symlink loops, skip globs), with the crate of a file given alone and the path dependencies of the packages given as context ([`discover::expand`], [`discover::manifest`]), read, placed in crates and modules ([`discover::modtree`]: `mod` declarations, `Cargo.toml`) |
//! | 2 | [`select`] | sources, summaries so far | which files to parse: packages with workflow markers (memchr pre-pass over raw bytes) and what they reference; other files are read, never parsed |
//! | 3 | [`parse`] | one file's text | its `syn::File`: tokenised, nesting guarded, parsed under `catch_unwind` |
//! | 4 | [`collect`] | one `syn::File` and its placement | a [`model::FileSummary`] (no syntax tree): functions, calls with candidate targets ([`collect::resolve`]: `use` trees, globs, scopes), entry points and activities ([`collect::entry`]), rule hits, statics, unordered-collection fields, suppression comments |
//! | 5 | [`callgraph`] | every summary | a [`model::Reachability`]: the global index (re-exports, globs across files and crates), a memoised worklist walk from each workflow (of the files given, not of context files), each reached operation with a shortest chain, the calls walked that resolve to nothing scanned |
//! | 6 | [`apply`] | reachability, summaries | [`model::Finding`]s: rule levels from the config, `workflowcheck:ignore` comments ([`suppress`]), invalid and unused suppressions |
//! | 7 | [`report`] | a [`model::Report`] | text: human, JSON, SARIF, GitHub renderers (called by [`cli`], the edge) |
//!
//! Below the stages, used by them and importing none of them:
//!
//! | module | role |
//! | --- | --- |
//! | [`model`] | plain data shared by the stages: [`model::Level`], [`model::Severity`], summaries, reached operations, findings, the SDK vocabulary. Imports nothing of the crate |
//! | [`rules`] | the [`rules::Rule`] trait and the registry ([`rules::RULES`]), one file per rule: what it matches, why it breaks replay, what to write instead. `collect` and `callgraph` call the registry, never a rule; rules import only the model |
//! | [`config`] | `workflowcheck.toml`; rule ids are resolved through the registry ([`rules::meta`]) |
//! | [`suppress`], [`baseline`] | `workflowcheck:ignore` comments, `--baseline` files |
//!
//! At the edge, [`cli`]: argument parsing, I/O and exit codes, shared by `workflowcheck` and
//! `cargo workflowcheck`.
//!
//! | elsewhere | role |
//! | --- | --- |
//! | `benches/throughput.rs` | lines/s, ratio to a parse-only pass and to `cargo clippy` with `disallowed-methods` |
//! | `tests/` | fixture snapshots (`fixtures/workflowcheck/`, insta) and end-to-end CLI tests |
//!
//! Files of crates that cannot reach workflow code are not parsed, so their syntax errors
//! are not reported (`--parse-all` parses everything, with the same findings). Parsing and
//! collecting run in parallel; the call graph is built and walked on one thread.
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
//! "errors":[{"file","line"?,"column"?,"message","may_hold_workflow"}],"unanalysed",
//! "unresolved":[{"file","line","column","callee","reason","function","workflows"}]}`: a
//! finding locates the operation itself; `workflows` lists every entry point reaching it and
//! `chain` is a shortest call path from one of them; `unanalysed` counts the errors that may
//! hold workflow code (the CLI then exits 2 unless `--allow-unanalysed`); `unresolved` lists
//! the calls from workflow code that resolve to no code scanned (notes, see
//! [`callgraph`]: they never change the exit code).

#![warn(missing_docs)]

pub mod apply;
pub mod baseline;
pub mod callgraph;
pub mod cli;
pub mod collect;
pub mod config;
pub mod discover;
pub mod model;
pub mod parse;
pub mod report;
pub mod rules;
pub mod select;
pub mod suppress;

use config::Config;
use discover::Sources;
use model::{FileError, FileSummary, Problem, Report, SourceFile};
use rayon::prelude::*;
use std::path::PathBuf;

/// Stack size of the scanning threads: syn and the visitors recurse per nesting level.
pub const STACK_SIZE: usize = 256 << 20;

/// What to scan and how.
#[derive(Clone, Debug)]
pub struct Options {
    /// Files and directories to scan.
    pub paths: Vec<PathBuf>,
    /// Rule levels, entry points, extra paths, skip globs.
    pub config: Config,
    /// Paths in the output are shown relative to this directory when they are under it.
    pub display_root: Option<PathBuf>,
    /// Files larger than this are reported and skipped.
    pub max_file_bytes: u64,
    /// Worker threads (default: one per CPU).
    pub jobs: Option<usize>,
    /// Parse every file, even those of crates that cannot reach workflow code (see
    /// [`select`]); the findings are the same, syntax errors are reported everywhere.
    pub parse_all: bool,
    /// Analyse test code too (`tests/`, `benches/`, `#[cfg(test)]`, `#[test]` functions).
    pub include_tests: bool,
    /// Follow the path dependencies of the packages given (default), scanning them as
    /// context ([`discover::expand`]).
    pub follow_path_deps: bool,
}

impl Options {
    /// Scans `paths` with `config` and the defaults for everything else.
    pub fn new(paths: Vec<PathBuf>, config: Config) -> Options {
        Options {
            paths,
            config,
            display_root: None,
            max_file_bytes: discover::DEFAULT_MAX_FILE_BYTES,
            jobs: None,
            parse_all: false,
            include_tests: false,
            follow_path_deps: true,
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

/// Scans files and directories: [`discover`], then the other stages in order.
pub fn check(opts: &Options) -> Report {
    with_pool(opts.jobs, || {
        let root = opts.display_root.as_deref();
        let reach = discover::Reach {
            follow_path_deps: opts.follow_path_deps,
            include_tests: opts.include_tests,
        };
        let sources =
            discover::from_disk(&opts.paths, &opts.config, opts.max_file_bytes, root, reach);
        pipeline(sources, &opts.config, opts.parse_all, opts.include_tests)
    })
}

/// Scans in-memory sources, each `(file name, text)`; file names place them in modules as
/// on disk (`a.rs` with `mod b;` includes `a/b.rs` or `b.rs`).
pub fn check_sources(sources: &[(&str, &str)], config: &Config) -> Report {
    with_pool(None, || {
        pipeline(discover::in_memory(sources), config, false, false)
    })
}

/// The stages after discovery, in order. Rendering, the last stage, is the caller's
/// ([`report::render`]).
fn pipeline(sources: Sources, config: &Config, parse_all: bool, include_tests: bool) -> Report {
    let Sources {
        files,
        texts,
        marked,
        mut errors,
    } = sources;
    // select -> parse -> collect
    let collected = select_parse_collect(&files, &texts, &marked, config, parse_all, include_tests);
    // -> callgraph
    let reach = callgraph::reach(&collected.summaries, config);
    let workflows_found = reach.workflows_found;
    let files_parsed = collected.files_parsed;
    let entry_points = reach.entry_points.clone();
    // -> apply
    let applied = apply::apply(reach, &collected.summaries, &collected.texts, config);
    errors.extend(collected.errors);
    errors.sort();
    let unanalysed = errors.iter().filter(|e| e.may_hold_workflow).count();
    let lines_scanned = collected.summaries.iter().map(|s| s.lines).sum();
    // Freeing the summaries (a great many small allocations) and the texts takes about as
    // long as building the call graph: it is spread over the pool too.
    drop(collected.texts);
    collected.summaries.into_par_iter().for_each(drop);
    texts.into_par_iter().for_each(drop);
    Report {
        findings: applied.findings,
        files_scanned: files.len(),
        workflows_found,
        errors,
        unanalysed,
        unresolved: applied.unresolved,
        entry_points,
        lines_scanned,
        suppressed: applied.suppressed,
        baselined: 0,
        files_parsed,
    }
}

/// The summaries of the readable files, in file order, with their texts.
struct Collected<'t> {
    summaries: Vec<FileSummary>,
    texts: Vec<&'t str>,
    /// Files that could not be read or parsed.
    errors: Vec<FileError>,
    files_parsed: usize,
}

/// Select, parse and collect: the files [`select`] picks go through [`parse`] and
/// [`collect`], file by file in parallel (each syntax tree is dropped as soon as its file is
/// summarised); what they reveal can grow the selection, so this repeats until it does not.
/// The other readable files contribute what [`collect::unparsed`] takes from their text.
fn select_parse_collect<'t>(
    files: &[SourceFile],
    texts: &'t [Result<String, Problem>],
    marked: &[bool],
    config: &Config,
    parse_all: bool,
    include_tests: bool,
) -> Collected<'t> {
    let readable: Vec<Option<&str>> = texts
        .iter()
        .map(|t| t.as_ref().ok().map(String::as_str))
        .collect();
    let mut selection = select::Selection::new(files, &readable, config, parse_all, include_tests);
    let mut parsed: Vec<Option<Result<FileSummary, Problem>>> =
        (0..files.len()).map(|_| None).collect();
    loop {
        let todo: Vec<usize> = (0..files.len())
            .filter(|&i| selection.parse[i] && parsed[i].is_none())
            .collect();
        if todo.is_empty() {
            break;
        }
        let round: Vec<(usize, Result<FileSummary, Problem>)> = todo
            .par_iter()
            .map(|&i| {
                let r = match &texts[i] {
                    Ok(text) => parse_and_collect(&files[i], text, config, include_tests),
                    Err(e) => Err(e.clone()),
                };
                (i, r)
            })
            .collect();
        for (i, r) in round {
            parsed[i] = Some(r);
        }
        // With --parse-all nothing is left to parse: growing returns at once.
        selection.grow(&parsed);
    }
    let files_parsed = (0..files.len())
        .filter(|&i| parsed[i].is_some() && readable[i].is_some())
        .count();
    // A file that could not be analysed blocks the run when it may hold workflow code: its
    // package holds a marker, or its own bytes hold one. Test code counts only when tests are
    // analysed.
    let markers = config.markers();
    let finders: Vec<memchr::memmem::Finder<'_>> =
        markers.iter().map(memchr::memmem::Finder::new).collect();
    let blocks = |i: usize| {
        (include_tests || !files[i].test)
            && (selection.may_hold_workflow(i)
                || marked[i]
                || readable[i].is_some_and(|t| select::has_marker(t, &finders)))
    };
    let results: Vec<Result<FileSummary, Problem>> = parsed
        .into_par_iter()
        .zip(texts.par_iter())
        .zip(files.par_iter())
        .map(|((r, text), file)| {
            let text = text.as_ref().map_err(Clone::clone)?;
            match r {
                Some(r) => r,
                None => Ok(collect::unparsed(file, text)),
            }
        })
        .collect();
    let mut collected = Collected {
        summaries: Vec::with_capacity(results.len()),
        texts: Vec::with_capacity(results.len()),
        errors: Vec::new(),
        files_parsed,
    };
    for (i, ((r, text), file)) in results.into_iter().zip(texts).zip(files).enumerate() {
        match r {
            Ok(s) => {
                collected.summaries.push(s);
                collected.texts.push(text.as_deref().unwrap_or_default());
            }
            Err(problem) => {
                collected
                    .errors
                    .push(FileError::new(file.display.clone(), problem, blocks(i)))
            }
        }
    }
    collected
}

/// One file through the parse and collect stages, under `catch_unwind`.
fn parse_and_collect(
    file: &SourceFile,
    text: &str,
    config: &Config,
    include_tests: bool,
) -> Result<FileSummary, Problem> {
    let summary = parse::guarded(|| {
        let ast = parse::parse_source(text)?;
        Ok(collect::file(&ast, file, text, config, include_tests))
    });
    // No span of this file outlives its summary (locations are plain numbers by now), and
    // nothing else on a thread of the scan's pool holds one (parsing and collecting run no
    // nested pool work): let proc-macro2 forget the file. It keeps a copy of every text
    // tokenized on a thread, to locate spans, so a scan would otherwise hold every source
    // twice, and its 32-bit positions would wrap past 4 GB of source on one thread.
    if rayon::current_thread_index().is_some() {
        proc_macro2::extra::invalidate_current_thread_spans();
    }
    summary
}
