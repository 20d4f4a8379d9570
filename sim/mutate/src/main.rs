//! `mutate`: the harness's mutation score.
//!
//! Plants each of a declared list of realistic engine, worker, SDK, store and transport bugs
//! ([`mutations::MUTATIONS`]) in a scratch copy of this repository, builds the copy's `sim`
//! binary, sweeps the mutation's scenarios and fault profiles with it, and reports which
//! invariant caught the bug, after how many seeds, and how small the shrunk fault plan is.
//!
//! ```text
//! cargo run --release -p sim-mutate -- [--seeds N] [--only NAME]... [--jobs J] [--json]
//! ```
//!
//! Exit 0 after a completed run (whatever the score), 2 when a mutation is stale (its snippet
//! no longer occurs exactly once), a build fails, a sweep cannot run, or the unmutated copy
//! fails its own sweeps (the harness itself is red); each is named.

mod mutations;
mod report;
mod scratch;
mod sweep;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;

use mutations::{Mutation, MUTATIONS};
use report::{Comparison, MutationResult, Verdict};
use scratch::Scratch;
use sweep::{Search, Sweep};

/// Plant realistic bugs in a scratch copy, sweep, and print which the harness caught.
#[derive(Parser, Debug)]
#[command(name = "mutate", version)]
struct Args {
    /// Seeds per sweep (0..N).
    #[arg(long, default_value_t = 1000)]
    seeds: u64,
    /// Only this mutation (repeat for several).
    #[arg(long)]
    only: Vec<String>,
    /// Threads per sweep.
    #[arg(long, default_value_t = 2)]
    jobs: usize,
    /// Print the results as JSON.
    #[arg(long)]
    json: bool,
    /// Print the mutations and exit.
    #[arg(long)]
    list: bool,
    /// Cargo target directory of the mutated builds, kept between runs [default:
    /// <repo>/target/mutate].
    #[arg(long)]
    target_dir: Option<PathBuf>,
    /// Skip the unmutated baseline's sweeps (its build still runs).
    #[arg(long)]
    skip_baseline: bool,
    /// Also measure the coverage-guided search (`sim run --guided`) against plain plans: for
    /// each caught mutation, its catching sweep from N starting seeds (0, 100000, 200000, ...),
    /// plain and guided side by side, seeds to the first failure (up to --seeds).
    #[arg(long, default_value_t = 0, value_name = "N")]
    compare_guided: u64,
}

/// The repository this tool belongs to: two levels above its manifest.
fn repo_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .nth(2)
        .unwrap_or(manifest)
        .to_path_buf()
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("mutate: {message}");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.seeds == 0 || !(1..=64).contains(&args.jobs) {
        return fail("--seeds must be at least 1 and --jobs within 1..=64");
    }
    let selected: Vec<&Mutation> = match select(&args.only) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    if args.list {
        print!("{}", report::list(&selected));
        return ExitCode::SUCCESS;
    }
    let repo = repo_root();
    let stale: Vec<String> = selected
        .iter()
        .filter_map(|m| {
            scratch::check_applies(&repo, m)
                .err()
                .map(|e| format!("mutation {} ({}): {e}", m.name, m.file))
        })
        .collect();
    if !stale.is_empty() {
        return fail(format!("stale mutation(s):\n  {}", stale.join("\n  ")));
    }
    let target_dir = args
        .target_dir
        .clone()
        .unwrap_or_else(|| repo.join("target").join("mutate"));
    let mut scratch = match Scratch::new(&repo, &target_dir.join("scratch")) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    match run(&args, &selected, &mut scratch, &target_dir) {
        Ok(results) => {
            if args.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&report::to_json(&results, args.seeds))
                        .unwrap_or_default()
                );
            } else {
                print!("{}", report::table(&results, args.seeds));
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

/// The mutations `--only` names (all without it); an unknown name is an error naming it.
fn select(only: &[String]) -> Result<Vec<&'static Mutation>, String> {
    if only.is_empty() {
        return Ok(MUTATIONS.iter().collect());
    }
    only.iter()
        .flat_map(|o| o.split(','))
        .map(|name| {
            MUTATIONS.iter().find(|m| m.name == name).ok_or_else(|| {
                let names: Vec<&str> = MUTATIONS.iter().map(|m| m.name).collect();
                format!(
                    "no mutation named {name:?}; the mutations are: {}",
                    names.join(", ")
                )
            })
        })
        .collect()
}

/// The baseline, then every mutation: build, sweep until one sweep catches it.
fn run(
    args: &Args,
    selected: &[&'static Mutation],
    scratch: &mut Scratch,
    target_dir: &Path,
) -> Result<Vec<MutationResult>, String> {
    let progress = |line: String| {
        if !args.json {
            eprintln!("{line}");
        }
    };
    progress(format!(
        "mutate: scratch copy {} (target {})",
        scratch.dir().display(),
        target_dir.display()
    ));
    scratch.copy(selected).map_err(|e| e.to_string())?;
    let (sim, secs) = scratch
        .build(target_dir)
        .map_err(|e| format!("the unmutated copy: {e}"))?;
    progress(format!("baseline: built in {secs:.0} s"));
    if !args.skip_baseline {
        let sweeps: BTreeSet<Sweep> = selected
            .iter()
            .flat_map(|m| m.sweeps.iter().copied())
            .collect();
        for s in sweeps {
            let r = sweep::run(&sim, s, args.seeds, args.jobs, Search::SCORE)?;
            if let Some(c) = r.caught {
                return Err(format!(
                    "the harness itself is red: the unmutated {s} fails seed {} ({}: {}); \
                     reproduce: {}",
                    c.seed, c.invariant, c.message, c.repro
                ));
            }
            progress(format!(
                "baseline: {s} passed {} seeds in {:.0} s",
                r.seeds_run, r.seconds
            ));
        }
    }
    let mut results = Vec::new();
    for m in selected {
        scratch
            .apply(Some(m))
            .map_err(|e| format!("mutation {} ({}): {e}", m.name, m.file))?;
        let (sim, build_seconds) = scratch
            .build(target_dir)
            .map_err(|e| format!("mutation {} ({}): {e}", m.name, m.file))?;
        let mut result = MutationResult {
            mutation: m,
            verdict: Verdict::Missed,
            seeds_run: 0,
            build_seconds,
            sweep_seconds: 0.0,
            comparison: None,
        };
        for s in m.sweeps {
            let r = match sweep::run(&sim, *s, args.seeds, args.jobs, Search::SCORE) {
                Ok(r) => r,
                Err(e) => {
                    // The mutated binary crashed (an engine assertion, a panic): not a catch
                    // by an invariant, and reported with its own words.
                    result.verdict = Verdict::Crashed {
                        sweep: *s,
                        error: e,
                    };
                    break;
                }
            };
            result.sweep_seconds += r.seconds;
            result.seeds_run += r.seeds_run;
            if let Some(c) = r.caught {
                result.verdict = Verdict::Caught {
                    sweep: *s,
                    caught: c,
                };
                break;
            }
        }
        progress(report::line(&result));
        if let (true, Verdict::Caught { sweep, .. }) = (args.compare_guided > 0, &result.verdict) {
            let c = compare(&sim, *sweep, args)
                .map_err(|e| format!("mutation {}: guided comparison: {e}", m.name))?;
            progress(report::comparison_line(m.name, &c));
            result.comparison = Some(c);
        }
        results.push(result);
    }
    // Leave the copy unmutated, so a later build of it starts from the baseline.
    scratch.apply(None).map_err(|e| e.to_string())?;
    Ok(results)
}

/// Seeds to the first failure of `sweep` with plain and with guided plans, from each of
/// `--compare-guided` starting seeds; `None` where no seed up to `--seeds` failed.
fn compare(sim: &Path, sweep: Sweep, args: &Args) -> Result<Comparison, String> {
    let mut c = Comparison {
        sweep,
        cap: args.seeds,
        plain: Vec::new(),
        guided: Vec::new(),
    };
    for k in 0..args.compare_guided {
        for guided in [false, true] {
            let search = Search {
                start: k * 100_000,
                guided,
                shrink: false,
            };
            let r = sweep::run(sim, sweep, args.seeds, args.jobs, search)?;
            let found = r.caught.map(|c| c.seeds_to_failure);
            if guided {
                c.guided.push(found);
            } else {
                c.plain.push(found);
            }
        }
    }
    Ok(c)
}
