//! `sim`: run seeded fault scenarios, show and replay workflow histories.
//!
//! Exit codes: 0 everything held / replayed, 1 an invariant failed or a replay found
//! non-determinism, 2 usage or input errors.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use durasim::cli;
use sim::faults::Profile;
use sim::{Harness, Repro};

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// List the built-in scenarios and their workflows.
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
    /// Replay history files against a built-in workflow; fails on non-determinism.
    Replay {
        /// A history file, or a directory of `.json` histories.
        path: PathBuf,
        /// The workflow implementation to replay against (e.g. `MoneyTransfer`).
        #[arg(long)]
        workflow: String,
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
    #[arg(long, allow_hyphen_values = true)]
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
    /// Shrinking budget: runs per failing seed.
    #[arg(long, default_value_t = 200, allow_negative_numbers = true)]
    shrink_runs: usize,
    /// Shrink the first N failing seeds (by seed); later ones report their whole plan.
    #[arg(long, default_value_t = 3, allow_negative_numbers = true)]
    shrink_limit: usize,
}

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(a) => a,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = match args.cmd {
        Cmd::List => {
            print!("{}", cli::list());
            Ok(0)
        }
        Cmd::Run(r) => run(r),
        Cmd::Show { file, detailed } => cli::show(&file, detailed).map(|text| {
            print!("{text}");
            0
        }),
        Cmd::Replay { path, workflow } => cli::replay(&path, &workflow).map(|r| {
            eprint!("{}", r.errors);
            print!("{}", r.text);
            r.exit_code
        }),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(r: RunArgs) -> Result<u8, String> {
    let unknown = || {
        format!(
            "unknown scenario {:?}; `sim list` shows the built-in ones",
            r.scenario
        )
    };
    let entry = fixtures::scenarios::entry(&r.scenario).ok_or_else(unknown)?;
    let mut scenario = fixtures::scenarios::scenario(entry.name).ok_or_else(unknown)?;
    scenario.evict_every_task = r.evict;
    let profile: Profile = r.faults.parse().map_err(|_| {
        format!(
            "unknown fault profile {:?} (none, network, crash, chaos, swarm)",
            r.faults
        )
    })?;
    let h = Harness::new(scenario);
    let h = match (&r.seed, &r.seeds) {
        (Some(s), _) => h.seed(*s),
        (None, Some(range)) => h.seeds(cli::parse_range(range)?),
        (None, None) => h.seeds(0..100),
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
        .repro(Repro::Cli {
            scenario: entry.name.to_string(),
        });
    for inv in entry.extra_invariants() {
        h = h.invariant(inv);
    }
    if let Some(s) = &r.shard {
        let (i, n) = cli::parse_shard(s)?;
        h = h.shard(i, n);
    }
    if let Some(p) = &r.plan {
        h = h.plan_file(p).map_err(|e| e.to_string())?;
    }
    if let Some(out) = &r.out {
        cli::check_writable_dir(out)?;
        h = h.out_dir(out, r.seed.is_some());
    }
    let bar = (!r.json && std::io::stderr().is_terminal()).then(|| {
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
    let report = h.run().map_err(|e| e.to_string())?;
    for note in &report.overrides {
        eprintln!("note: {note}");
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if r.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report.to_json()).unwrap_or_default()
        );
    } else {
        print!("{}", report.render());
    }
    Ok(if report.ok() { 0 } else { 1 })
}
