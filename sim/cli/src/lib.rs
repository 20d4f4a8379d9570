//! The `sim` command line over a [`Catalogue`] of scenarios and workflows.
//!
//! durasim's own `sim` binary runs it over the built-in scenarios; a crate of your own gets the
//! same command (`run` with `--seeds`, `--faults`, `--plan`, `--out`, `--json`, `--shard`,
//! `--max-failures`, `show`, `replay`, and the exit codes CI gates on) over its own workflows
//! with a three-line binary:
//!
//! ```no_run
//! // src/bin/sim.rs
//! # fn checkout_scenario() -> sim::Scenario { unimplemented!() }
//! # fn checkout_registry(_as_type: &str) -> sim::Registry { unimplemented!() }
//! fn main() -> std::process::ExitCode {
//!     sim_cli::main(
//!         sim_cli::Catalogue::new()
//!             .scenario("checkout", "the order saga under faults", &["Checkout"], checkout_scenario)
//!             .workflow("Checkout", "the order saga", "Checkout", checkout_registry),
//!     )
//! }
//! ```
//!
//! then `cargo run --release --bin sim -- run checkout --seeds 0..1000 --faults chaos`.
//!
//! Exit codes: 0 everything held / replayed, 1 an invariant failed or a replay found
//! non-determinism, 2 usage or input errors.
#![warn(missing_docs)]

mod catalogue;
mod commands;

use std::ffi::OsString;
use std::io::IsTerminal;
use std::io::Write;
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use sim::faults::Profile;
use sim::{Harness, Repro};

pub use catalogue::{Catalogue, ScenarioEntry, WorkflowEntry};
pub use commands::{
    check_writable_dir, parse_range, parse_shard, read_history, read_text, MAX_INPUT_BYTES,
};

#[derive(Parser)]
#[command(
    name = "sim",
    version,
    about = "Deterministic simulation of durable workflows under faults"
)]
struct Args {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// List the scenarios and the workflows histories replay against.
    List,
    /// Run a scenario over seeds with a fault profile and check its invariants.
    Run(RunArgs),
    /// Print a history file (ours or Temporal's JSON) as `temporal workflow show` does.
    Show {
        file: PathBuf,
        /// Every event with its attributes.
        #[arg(long)]
        detailed: bool,
    },
    /// Replay history files against a workflow implementation; fails on non-determinism.
    Replay {
        /// A history file, or a directory of `.json` histories.
        path: PathBuf,
        /// The workflow implementation to replay against (see `sim list`).
        #[arg(long)]
        workflow: String,
        /// Replay histories of every workflow type against it (by default, histories of other
        /// types are skipped, and said so).
        #[arg(long)]
        any_type: bool,
    },
}

// A value that starts with `-` (`--shard -1/2`, `--jobs -1`) is taken as the value, so the error
// quotes what was typed; clap would otherwise read it as unknown short flags (`'-1'`).
#[derive(clap::Args)]
struct RunArgs {
    /// Scenario name (see `sim list`).
    scenario: String,
    /// Run exactly this seed.
    #[arg(long, conflicts_with = "seeds", allow_negative_numbers = true)]
    seed: Option<u64>,
    /// Run a range of seeds, `A..B` (B excluded).
    #[arg(long, allow_hyphen_values = true, default_value = "0..100")]
    seeds: Option<String>,
    /// Fault profile: none, network, crash, chaos, swarm.
    #[arg(long, default_value = "chaos")]
    faults: String,
    /// Replay this fault plan (JSON, as written by --out) instead of generating one.
    #[arg(long)]
    plan: Option<PathBuf>,
    /// Parallel seeds, 1 to 1024 (default: the number of CPUs).
    #[arg(
        long,
        allow_negative_numbers = true,
        value_parser = clap::value_parser!(u64).range(1..=sim::MAX_JOBS as u64)
    )]
    jobs: Option<u64>,
    /// Run every N-th seed starting at I: `I/N`.
    #[arg(long, allow_hyphen_values = true)]
    shard: Option<String>,
    /// Write plan, trace and histories per failing seed (and for --seed N always).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Run each seed twice and fail when the traces differ.
    #[arg(long)]
    check_determinism: bool,
    /// Evict cached workflow state before every workflow task (replay every task).
    #[arg(long)]
    evict: bool,
    /// Report fault-space coverage: which fault kinds (drop, duplicate, delay, partition,
    /// crash) hit which protocol steps (message kinds, crash windows), in how many seeds, and
    /// the pairs no seed reached (in --json under "coverage").
    #[arg(long)]
    coverage: bool,
    /// Steer the sweep toward the fault/step pairs reached least: after the first 16 seeds,
    /// half the plans add faults aimed at such pairs (built from where and when earlier runs
    /// saw each step), a quarter derive from plans that reached new pairs. Implies
    /// --coverage; a failure reproduces from its plan (printed; --out writes it), not from
    /// its seed alone.
    #[arg(long, conflicts_with = "plan")]
    guided: bool,
    /// Shrinking budget: runs per failing seed.
    #[arg(long, default_value_t = 1000, allow_negative_numbers = true)]
    shrink_runs: usize,
    /// Shrink the first N failing seeds (by seed); later ones report their whole plan.
    #[arg(long, default_value_t = 3, allow_negative_numbers = true)]
    shrink_limit: usize,
    /// Stop starting new seeds once N have failed (seeds already running finish).
    #[arg(
        long,
        allow_negative_numbers = true,
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    max_failures: Option<u64>,
}

/// What one `sim` invocation printed and its exit code.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CliOutput {
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// The exit code.
    pub code: u8,
}

/// Why a command stopped before its work was done: its input (exit 2, with the message after
/// `error: `), or its output could not be written (exit 2 too).
pub(crate) enum Stop {
    Input(String),
    Output(std::io::Error),
}

impl From<String> for Stop {
    fn from(message: String) -> Self {
        Stop::Input(message)
    }
}

impl From<std::io::Error> for Stop {
    fn from(e: std::io::Error) -> Self {
        Stop::Output(e)
    }
}

/// Runs the `sim` command with the process's arguments over `catalogue`, printing as it goes
/// (a progress bar on a terminal); the exit code to return from `main`.
pub fn main(catalogue: Catalogue) -> ExitCode {
    let terminal = std::io::stderr().is_terminal();
    // Not `stdout().lock()` held for the whole run: a seed runs on a thread of its own, and
    // anything it prints would wait for the lock forever.
    let mut out = std::io::BufWriter::new(std::io::stdout());
    let mut err = std::io::stderr();
    ExitCode::from(run_with(
        std::env::args_os(),
        &catalogue,
        terminal,
        &mut out,
        &mut err,
    ))
}

/// Runs the `sim` command with `args` (the program name first, as `std::env::args_os` gives
/// them) over `catalogue`, writing what it prints to `out` and `err` as it goes (a long
/// history's `show` is written an event at a time); returns the exit code. Output that cannot
/// be written ends the command with exit code 2, said on `err`.
pub fn run<I, T>(args: I, catalogue: &Catalogue, out: &mut dyn Write, err: &mut dyn Write) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    run_with(args, catalogue, false, out, err)
}

/// Runs the `sim` command with `args` (the program name first, as `std::env::args_os` gives
/// them) over `catalogue` and returns what it printed, without printing it (for tests).
pub fn execute<I, T>(args: I, catalogue: &Catalogue) -> CliOutput
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = run(args, catalogue, &mut out, &mut err);
    CliOutput {
        stdout: String::from_utf8_lossy(&out).into_owned(),
        stderr: String::from_utf8_lossy(&err).into_owned(),
        code,
    }
}

fn run_with<I, T>(
    args: I,
    catalogue: &Catalogue,
    terminal: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args = match Args::try_parse_from(args) {
        Ok(a) => a,
        Err(e) => {
            let text = if terminal {
                e.render().ansi().to_string()
            } else {
                e.render().to_string()
            };
            let (sink, code): (&mut dyn Write, u8) = if e.use_stderr() {
                (&mut *err, 2)
            } else {
                (&mut *out, 0)
            };
            let written = sink.write_all(text.as_bytes()).and_then(|()| sink.flush());
            return if written.is_ok() { code } else { 2 };
        }
    };
    let result = dispatch(args, catalogue, terminal, out, err).and_then(|code| {
        out.flush()?;
        Ok(code)
    });
    match result {
        Ok(code) => code,
        Err(stop) => {
            let _ = out.flush();
            let _ = match stop {
                Stop::Input(message) => writeln!(err, "error: {message}"),
                Stop::Output(e) => writeln!(err, "error: writing the output: {e}"),
            };
            2
        }
    }
}

fn dispatch(
    args: Args,
    catalogue: &Catalogue,
    progress: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8, Stop> {
    match args.cmd {
        Cmd::List => {
            out.write_all(commands::list(catalogue).as_bytes())?;
            Ok(0)
        }
        Cmd::Run(r) => run_scenario(r, catalogue, progress, out, err),
        Cmd::Show { file, detailed } => commands::show(&file, detailed, out),
        Cmd::Replay {
            path,
            workflow,
            any_type,
        } => commands::replay(catalogue, &path, &workflow, any_type, out, err),
    }
}

fn did_you_mean<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> String {
    sim::closest(name, known)
        .map(|g| format!("; did you mean {g:?}?"))
        .unwrap_or_default()
}

fn run_scenario(
    r: RunArgs,
    catalogue: &Catalogue,
    progress: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8, Stop> {
    let entry = catalogue.find_scenario(&r.scenario).ok_or_else(|| {
        let names = catalogue.scenarios().iter().map(|e| e.name.as_str());
        format!(
            "unknown scenario {:?}{} (`sim list` shows them)",
            r.scenario,
            did_you_mean(&r.scenario, names)
        )
    })?;
    let mut scenario = entry.scenario();
    scenario.evict_every_task = r.evict;
    let profile: Profile = r.faults.parse().map_err(|_| {
        let names = ["none", "network", "crash", "chaos", "swarm"];
        format!(
            "unknown fault profile {:?}{} (none, network, crash, chaos, swarm)",
            r.faults,
            did_you_mean(&r.faults, names)
        )
    })?;
    let h = Harness::new(scenario);
    let h = match (&r.seed, &r.seeds) {
        (Some(s), _) => h.seed(*s),
        (None, Some(range)) => h.seeds(commands::parse_range(range)?),
        (None, None) => h.seeds(0..100),
    };
    let h = match r.max_failures {
        Some(n) => h.stop_after(usize::try_from(n).unwrap_or(usize::MAX)),
        None => h,
    };
    let jobs = r.jobs.map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get()),
        |j| j as usize,
    );
    let mut h = h
        .profile(profile)
        .jobs(jobs)
        .shrink_runs(r.shrink_runs)
        .shrink_limit(r.shrink_limit)
        .check_determinism(r.check_determinism)
        .coverage(r.coverage)
        .guided(r.guided)
        .repro(Repro::Cli {
            scenario: entry.name.clone(),
        });
    for inv in entry.extra_invariants() {
        h = h.invariant(inv);
    }
    if let Some(s) = &r.shard {
        let (i, n) = commands::parse_shard(s)?;
        h = h.shard(i, n);
    }
    if let Some(p) = &r.plan {
        h = h.plan_file(p).map_err(|e| e.to_string())?;
    }
    if let Some(dir) = &r.out {
        commands::check_writable_dir(dir)?;
        h = h.out_dir(dir, r.seed.is_some());
    }
    let bar = (progress && !r.json).then(|| {
        let b = indicatif::ProgressBar::hidden();
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} seeds {per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    });
    if let Some(b) = bar.clone() {
        h = h.on_progress(Arc::new(move |done, total| {
            // Shown only for sweeps of more than one seed, once the first seed is done.
            if total > 1 && b.is_hidden() {
                b.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                b.set_length(total);
            }
            b.set_position(done);
        }));
    }
    // Keep stdout for the JSON report: code under test that prints (println! in an activity)
    // would otherwise interleave with it.
    let quiet_stdout = if r.json {
        match std::io::stderr()
            .as_fd()
            .try_clone_to_owned()
            .map(std::fs::File::from)
            .and_then(|f| gag::Redirect::stdout(f).map_err(|e| e.error))
        {
            Ok(redirect) => Some(redirect),
            Err(e) => {
                let _ = writeln!(
                    err,
                    "warning: cannot send the simulated code's stdout to stderr ({e}); \
                     the JSON report may be mixed with what it prints"
                );
                None
            }
        }
    } else {
        None
    };
    let report = h.run().map_err(|e| e.to_string());
    drop(quiet_stdout);
    let report = report?;
    for note in &report.overrides {
        let _ = writeln!(err, "note: {note}");
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if r.json {
        let json = serde_json::to_string_pretty(&report.to_json()).unwrap_or_default();
        writeln!(out, "{json}")?;
    } else {
        out.write_all(report.render().as_bytes())?;
    }
    Ok(if report.ok() { 0 } else { 1 })
}
