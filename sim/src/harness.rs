//! Seed sweeps: run a scenario over many seeds, each with a fault plan drawn from a profile,
//! check invariants, shrink failing plans, and report with a one-line reproduction.
//!
//! ```no_run
//! use sim::{Harness, Profile, Registry, Scenario};
//! let scenario = Scenario::new("mine", Registry::new(), "queue");
//! Harness::new(scenario).profile(Profile::Chaos).seeds(0..500).assert_ok();
//! ```
//!
//! `SIM_SEED=N` (or `MADSIM_TEST_SEED=N`) re-runs one seed; `SIM_PLAN=FILE` replays a plan
//! file instead of generating one. Both are read once per sweep, when it starts; a value that
//! cannot be used is a [`HarnessError`] naming the variable (and the file and position), never a
//! silently different sweep. [`load_plan`] is the one plan loader: `SIM_PLAN`, the CLI's
//! `--plan` and [`Harness::plan_file`] all go through it.

use std::fmt;
use std::fmt::Write as _;
use std::io::Read as _;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::checkers::{check_all, default_invariants, Invariant, Violation};
use crate::faults::shrink::shrink_with_probes;
use crate::faults::{generate, Fault, FaultEvent, FaultPlan, NodeRef, Profile, Topology, When};
use crate::scenario::{run, Outcome, Scenario};

/// Why a sweep could not start: its input (an environment variable, a plan file) is unusable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HarnessError {
    /// An environment variable the harness reads has a value it cannot use.
    Env {
        /// The variable (`SIM_SEED`, `MADSIM_TEST_SEED`, `SIM_PLAN`).
        var: &'static str,
        /// What is wrong with its value.
        message: String,
    },
    /// A fault plan file that cannot be read, parsed or carried out.
    Plan {
        /// The file as given.
        path: PathBuf,
        /// What is wrong, with the line and column or the event where that applies.
        message: String,
    },
    /// The sweep holds no seed (an empty range, or a shard holding none of its seeds).
    NoSeeds {
        /// The seeds asked for and the shard, as text.
        asked: String,
    },
}

impl fmt::Display for HarnessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HarnessError::Env { var, message } => write!(f, "{var}: {message}"),
            HarnessError::Plan { path, message } => write!(f, "{}: {message}", path.display()),
            HarnessError::NoSeeds { asked } => write!(f, "no seed to run ({asked})"),
        }
    }
}

impl std::error::Error for HarnessError {}

/// Reads a fault plan file (JSON, as `--out` writes it) and checks that a run of a scenario
/// with these `nodes` can carry it out. Every error names the file, and the line and column
/// (malformed JSON) or the event (an impossible fault).
pub fn load_plan(path: &Path, topology: &Topology) -> Result<FaultPlan, HarnessError> {
    // The message names the place; a long value it quotes (a 100 KB node name) is cut short.
    let err = |message: String| HarnessError::Plan {
        path: path.to_path_buf(),
        message: clipped(message, MAX_MESSAGE_CHARS),
    };
    // A plan of the most events a run can carry is far smaller; `/dev/zero` is not a plan.
    const MAX_PLAN_BYTES: u64 = 64 << 20;
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| std::io::Read::read_to_end(&mut f.take(MAX_PLAN_BYTES + 1), &mut bytes))
        .map_err(|e| err(e.to_string()))?;
    if bytes.len() as u64 > MAX_PLAN_BYTES {
        return Err(err(format!(
            "larger than {} MiB; not a fault plan",
            MAX_PLAN_BYTES >> 20
        )));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        err(format!(
            "not UTF-8 (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ))
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let plan = FaultPlan::from_json(text).map_err(err)?;
    plan.validate(topology).map_err(err)?;
    Ok(plan)
}

/// The most characters of a plan error's message that are printed.
const MAX_MESSAGE_CHARS: usize = 2000;

/// At most `max` characters of `s`, saying how much was cut.
fn clipped(s: String, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s,
        Some((cut, _)) => format!("{}... ({} more bytes)", &s[..cut], s.len() - cut),
    }
}

/// What the environment asks of one sweep, read once when it starts.
#[derive(Default)]
struct EnvOverrides {
    seed: Option<u64>,
    plan: Option<FaultPlan>,
    /// What was overridden, one line each, for the report.
    notes: Vec<String>,
}

impl EnvOverrides {
    fn read(topology: &Topology) -> Result<EnvOverrides, HarnessError> {
        let mut env = EnvOverrides::default();
        for var in ["SIM_SEED", "MADSIM_TEST_SEED"] {
            let Some(value) = std::env::var_os(var) else {
                continue;
            };
            let text = value.to_str().ok_or_else(|| HarnessError::Env {
                var,
                message: "not UTF-8".into(),
            })?;
            let seed = text.trim().parse::<u64>().map_err(|_| HarnessError::Env {
                var,
                message: format!("{text:?} is not a seed (a number from 0 to 2^64-1)"),
            })?;
            env.seed = Some(seed);
            env.notes.push(format!(
                "{var}={seed} from the environment: only seed {seed} runs"
            ));
            break;
        }
        if let Some(path) = std::env::var_os("SIM_PLAN") {
            // A plan the user asked for by name must be used as given, or not at all.
            let plan = load_plan(Path::new(&path), topology).map_err(|e| HarnessError::Env {
                var: "SIM_PLAN",
                message: e.to_string(),
            })?;
            env.plan = Some(plan);
            env.notes.push(format!(
                "SIM_PLAN={} from the environment: every seed runs that plan",
                Path::new(&path).display()
            ));
        }
        Ok(env)
    }
}

/// The seeds a sweep runs: every `step`-th seed from `first`, `count` of them. Computed, never
/// listed: a sweep over `0..u64::MAX` costs no memory before it runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct SeedSet {
    first: u64,
    step: u64,
    count: u64,
}

impl SeedSet {
    /// The seeds of `first..=last` with `seed % n == i % n`.
    fn new(first: u64, last: u64, (i, n): (u64, u64)) -> SeedSet {
        let n = n.max(1);
        let offset = (i % n + n - first % n) % n;
        match first.checked_add(offset) {
            Some(start) if start <= last => SeedSet {
                first: start,
                step: n,
                count: (last - start) / n + 1,
            },
            _ => SeedSet {
                first,
                step: n,
                count: 0,
            },
        }
    }

    fn get(&self, k: u64) -> Option<u64> {
        (k < self.count).then(|| self.first + k * self.step)
    }
}

/// The most seeds a sweep runs at once (each on an OS thread of its own).
pub const MAX_JOBS: usize = 1024;

/// One failing seed.
#[derive(Clone, Debug)]
pub struct SeedFailure {
    /// The seed that failed.
    pub seed: u64,
    /// The invariant it broke first (`exactly-once`).
    pub invariant: String,
    /// What was wrong, as the invariant reported it (for the minimal plan's run when shrunk).
    pub message: String,
    /// The plan the seed generated (or was given).
    pub plan: FaultPlan,
    /// The smallest plan found that still breaks the same invariant (the whole plan when the
    /// seed was not shrunk).
    pub minimal_plan: FaultPlan,
    /// Whether the plan was shrunk: only the first `shrink_limit` failing seeds are.
    pub shrunk: bool,
    /// Runs the shrinker spent (0 when not shrunk).
    pub shrink_runs: usize,
    /// A paste-ready command that replays the seed with the minimal plan.
    pub repro: String,
    /// The trace hash of the reported run (the minimal plan's, when shrunk).
    pub trace_hash: u64,
    /// Whether re-running the seed gave the same trace hash.
    pub deterministic: bool,
}

/// What a sweep found.
#[derive(Clone, Debug)]
pub struct Report {
    /// The scenario's name.
    pub scenario: String,
    /// The fault profile plans were drawn from.
    pub profile: Profile,
    /// Seeds that ran to the end.
    pub seeds_run: u64,
    /// Seeds that broke an invariant.
    pub seeds_failed: u64,
    /// One entry per failing seed, by seed.
    pub failures: Vec<SeedFailure>,
    /// The trace hash, when exactly one seed ran.
    pub trace_hash: Option<u64>,
    /// Wall-clock seconds the sweep took, shrinking included.
    pub wall_seconds: f64,
    /// Seeds per wall-clock second of the sweep itself (shrinking excluded).
    pub seeds_per_second: f64,
    /// What the environment changed about this sweep (`SIM_SEED`, `SIM_PLAN`), one line each;
    /// the `sim` command prints them on stderr.
    pub overrides: Vec<String>,
}

impl Report {
    /// Whether every seed held every invariant.
    pub fn ok(&self) -> bool {
        self.failures.is_empty()
    }

    /// Human-readable summary, one block per failing seed.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{}: {} seed(s) under {}, {} failed ({:.1} s, {:.0} seeds/s)",
            self.scenario,
            self.seeds_run,
            self.profile,
            self.seeds_failed,
            self.wall_seconds,
            self.seeds_per_second
        );
        if let Some(h) = self.trace_hash {
            let _ = writeln!(s, "trace hash {h:016x}");
        }
        for f in &self.failures {
            let _ = writeln!(s, "\nseed {} broke {}: {}", f.seed, f.invariant, f.message);
            if f.shrunk {
                let _ = writeln!(
                    s,
                    "  minimal fault plan ({} of {} events, {} shrink runs):",
                    f.minimal_plan.len(),
                    f.plan.len(),
                    f.shrink_runs
                );
            } else {
                let _ = writeln!(
                    s,
                    "  fault plan ({} events; not shrunk: only the first failing seeds are, \
                     see --shrink-limit, or run this seed alone):",
                    f.plan.len()
                );
            }
            for e in &f.minimal_plan.events {
                let _ = writeln!(s, "    - {e}");
            }
            if f.minimal_plan.is_empty() {
                let _ = writeln!(s, "    (none: fails without faults)");
            }
            if !f.deterministic {
                let _ = writeln!(s, "  WARNING: re-running the seed gave a different trace (the simulation is not deterministic)");
            }
            let _ = writeln!(s, "  reproduce: {}", f.repro);
        }
        s
    }

    /// The `--json` object.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "scenario": self.scenario,
            "profile": self.profile.name(),
            "seeds_run": self.seeds_run,
            "seeds_failed": self.seeds_failed,
            "failures": self.failures.iter().map(|f| serde_json::json!({
                "seed": f.seed,
                "invariant": f.invariant,
                "message": f.message,
                "minimal_plan": serde_json::to_value(&f.minimal_plan.events).unwrap_or_default(),
                "shrunk": f.shrunk,
                "repro": f.repro,
                "trace_hash": format!("{:016x}", f.trace_hash),
                "deterministic": f.deterministic,
            })).collect::<Vec<_>>(),
            "trace_hash": self.trace_hash.map(|h| format!("{h:016x}")),
            "wall_seconds": self.wall_seconds,
            "seeds_per_second": self.seeds_per_second,
        })
    }
}

/// How a failing seed is reproduced.
#[derive(Clone, Debug)]
pub enum Repro {
    /// A built-in scenario: `sim run NAME --seed N --plan FILE`.
    Cli {
        /// The built-in scenario's name.
        scenario: String,
    },
    /// A `cargo test` scenario: `SIM_SEED=N cargo test NAME`.
    CargoTest {
        /// The test's full name (`--exact`).
        test: String,
    },
}

/// A seed sweep over one scenario.
pub struct Harness {
    /// The scenario as sweeps run it: trace hashed, entries not kept.
    scenario: Arc<Scenario>,
    /// The same with trace entries kept: for failing seeds' artifacts.
    recording: Arc<Scenario>,
    profile: Profile,
    invariants: Vec<Arc<dyn Invariant>>,
    /// First and last seed (inclusive), or `None` for an empty range.
    seeds: Option<(u64, u64)>,
    jobs: usize,
    shard: (u64, u64),
    shrink_runs: usize,
    out_dir: Option<PathBuf>,
    always_write: bool,
    check_determinism: bool,
    plan_override: Option<FaultPlan>,
    stop_after: Option<usize>,
    shrink_limit: usize,
    repro: Repro,
    progress: Option<Arc<dyn Fn(u64, u64) + Send + Sync>>,
}

impl Harness {
    /// A sweep of `scenario` with the defaults: seeds `0..100`, the `chaos` profile, the
    /// default invariants, one job, failing seeds shrunk within 200 runs (the first 3 of them),
    /// and a reproduction line for `cargo test` when called from a test thread (for the `sim`
    /// command otherwise).
    pub fn new(scenario: Scenario) -> Self {
        let test = std::thread::current().name().unwrap_or("").to_string();
        let repro = if test.is_empty() || test == "main" {
            Repro::Cli {
                scenario: scenario.name.clone(),
            }
        } else {
            Repro::CargoTest { test }
        };
        let invariants = default_invariants(&scenario.registry);
        let mut sweep = scenario.clone();
        sweep.record_trace = false;
        let mut recording = scenario;
        recording.record_trace = true;
        Harness {
            scenario: Arc::new(sweep),
            recording: Arc::new(recording),
            profile: Profile::Chaos,
            invariants,
            seeds: Some((0, 99)),
            jobs: 1,
            shard: (0, 1),
            shrink_runs: 200,
            out_dir: None,
            always_write: false,
            check_determinism: false,
            plan_override: None,
            stop_after: None,
            shrink_limit: 3,
            repro,
            progress: None,
        }
    }

    /// Draws each seed's fault plan from profile `p`.
    pub fn profile(mut self, p: Profile) -> Self {
        self.profile = p;
        self
    }

    /// Runs these seeds (`SIM_SEED` in the environment replaces them with one). An empty range
    /// makes [`Harness::run`] fail with [`HarnessError::NoSeeds`].
    pub fn seeds(mut self, seeds: Range<u64>) -> Self {
        self.seeds = (seeds.start < seeds.end).then(|| (seeds.start, seeds.end - 1));
        self
    }

    /// Runs this one seed (any `u64`, `u64::MAX` included).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seeds = Some((seed, seed));
        self
    }

    /// Adds an invariant to the defaults.
    pub fn invariant(mut self, inv: Arc<dyn Invariant>) -> Self {
        self.invariants.push(inv);
        self
    }

    /// Replaces the invariants.
    pub fn invariants(mut self, invs: Vec<Arc<dyn Invariant>>) -> Self {
        self.invariants = invs;
        self
    }

    /// Runs this many seeds at once, each on its own thread (at least 1, at most [`MAX_JOBS`]).
    pub fn jobs(mut self, jobs: usize) -> Self {
        self.jobs = jobs.clamp(1, MAX_JOBS);
        self
    }

    /// Runs only seeds with `seed % count == index`.
    pub fn shard(mut self, index: u64, count: u64) -> Self {
        self.shard = (index, count.max(1));
        self
    }

    /// The shrinker's budget: at most `n` runs per failing seed.
    pub fn shrink_runs(mut self, n: usize) -> Self {
        self.shrink_runs = n;
        self
    }

    /// Writes plan, trace and histories of failing seeds (and of every seed when `always`).
    pub fn out_dir(mut self, dir: impl Into<PathBuf>, always: bool) -> Self {
        self.out_dir = Some(dir.into());
        self.always_write = always;
        self
    }

    /// Runs every seed twice and fails it when the trace hashes differ.
    pub fn check_determinism(mut self, on: bool) -> Self {
        self.check_determinism = on;
        self
    }

    /// Uses this plan for every seed instead of generating one.
    pub fn plan(mut self, plan: FaultPlan) -> Self {
        self.plan_override = Some(plan);
        self
    }

    /// Uses the plan in this file (see [`load_plan`]) for every seed, checked against this
    /// sweep's scenario.
    pub fn plan_file(self, path: &Path) -> Result<Self, HarnessError> {
        let plan = load_plan(path, &self.scenario.topology())?;
        Ok(self.plan(plan))
    }

    /// Stops claiming new seeds once this many have failed (seeds in flight still finish).
    pub fn stop_after(mut self, failures: usize) -> Self {
        self.stop_after = Some(failures.max(1));
        self
    }

    /// Shrinks only the first `n` failing seeds (by seed); later ones keep their full plan.
    pub fn shrink_limit(mut self, n: usize) -> Self {
        self.shrink_limit = n;
        self
    }

    /// How the reproduction line of a failing seed is written.
    pub fn repro(mut self, r: Repro) -> Self {
        self.repro = r;
        self
    }

    /// Called with (seeds done, seeds total) as the sweep goes.
    pub fn on_progress(mut self, f: Arc<dyn Fn(u64, u64) + Send + Sync>) -> Self {
        self.progress = Some(f);
        self
    }

    /// The seeds this sweep runs, after `SIM_SEED` / `MADSIM_TEST_SEED` and sharding, listed
    /// (at most `limit` of them: the sweep itself never lists its seeds).
    pub fn seed_list(&self, limit: usize) -> Result<Vec<u64>, HarnessError> {
        let env = EnvOverrides::read(&self.scenario.topology())?;
        let set = self.seeds_for(&env)?;
        Ok((0..set.count.min(limit as u64))
            .filter_map(|k| set.get(k))
            .collect())
    }

    fn seeds_for(&self, env: &EnvOverrides) -> Result<SeedSet, HarnessError> {
        if let Some(s) = env.seed {
            return Ok(SeedSet::new(s, s, (0, 1)));
        }
        let (i, n) = self.shard;
        let set = match self.seeds {
            Some((first, last)) => SeedSet::new(first, last, self.shard),
            None => SeedSet::new(1, 0, self.shard),
        };
        if set.count == 0 {
            let asked = match self.seeds {
                Some((first, last)) => format!("seeds {first}..={last}, shard {i}/{n}"),
                None => "an empty seed range".to_string(),
            };
            return Err(HarnessError::NoSeeds { asked });
        }
        Ok(set)
    }

    fn plan_for(&self, seed: u64, env: &EnvOverrides) -> FaultPlan {
        if let Some(p) = &self.plan_override {
            return p.clone();
        }
        if let Some(p) = &env.plan {
            return p.clone();
        }
        generate(self.profile, seed, &self.scenario.topology())
    }

    fn repro_line(&self, seed: u64, plan_file: Option<&Path>) -> String {
        match &self.repro {
            Repro::Cli { scenario } => match plan_file {
                Some(p) => format!(
                    "cargo run --release --bin sim -- run {scenario} --seed {seed} --plan {}",
                    p.display()
                ),
                None => format!(
                    "cargo run --release --bin sim -- run {scenario} --seed {seed} --faults {}",
                    self.profile
                ),
            },
            Repro::CargoTest { test } => match plan_file {
                Some(p) => format!(
                    "SIM_SEED={seed} SIM_PLAN={} cargo test -- --exact {test}",
                    p.display()
                ),
                None => format!("SIM_SEED={seed} cargo test -- --exact {test}"),
            },
        }
    }

    /// Runs one seed with one plan and checks the invariants (trace entries are kept only when
    /// every seed's artifacts are written).
    pub fn run_one(&self, seed: u64, plan: &FaultPlan) -> (Outcome, Vec<Violation>) {
        let sc = if self.always_write {
            &self.recording
        } else {
            &self.scenario
        };
        self.run_checked(sc, seed, plan)
    }

    fn run_checked(
        &self,
        sc: &Arc<Scenario>,
        seed: u64,
        plan: &FaultPlan,
    ) -> (Outcome, Vec<Violation>) {
        let outcome = run(sc, seed, plan);
        let violations = check_all(&self.invariants, &outcome);
        (outcome, violations)
    }

    /// Runs the sweep. Fails before running anything when `SIM_SEED`, `MADSIM_TEST_SEED` or
    /// `SIM_PLAN` has a value it cannot use, or when no seed is left to run.
    pub fn run(&self) -> Result<Report, HarnessError> {
        let env = EnvOverrides::read(&self.scenario.topology())?;
        let seeds = self.seeds_for(&env)?;
        let total = seeds.count;
        let started = Instant::now();
        let next = AtomicU64::new(0);
        let done = AtomicU64::new(0);
        let failed: Mutex<Vec<(u64, FaultPlan, Outcome, Violation)>> = Mutex::new(Vec::new());
        let last_hash = Mutex::new(None);
        let failures_seen = AtomicU64::new(0);
        let worker = || loop {
            if self
                .stop_after
                .is_some_and(|n| failures_seen.load(Ordering::Relaxed) >= n as u64)
            {
                return;
            }
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(seed) = seeds.get(i) else {
                return;
            };
            let plan = self.plan_for(seed, &env);
            let (outcome, mut violations) = self.run_one(seed, &plan);
            if self.check_determinism {
                let again = run(&self.scenario, seed, &plan);
                if again.trace_hash != outcome.trace_hash {
                    violations.push(Violation {
                        invariant: "determinism".into(),
                        message: format!(
                            "the same seed and plan gave trace hashes {:016x} and {:016x}",
                            outcome.trace_hash, again.trace_hash
                        ),
                    });
                }
            }
            if total == 1 {
                *last_hash.lock().unwrap_or_else(|e| e.into_inner()) = Some(outcome.trace_hash);
            }
            if self.always_write {
                self.write_artifacts(&outcome, None, violations.first());
            }
            if let Some(v) = violations.into_iter().next() {
                failures_seen.fetch_add(1, Ordering::Relaxed);
                failed
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((seed, plan, outcome, v));
            }
            let d = done.fetch_add(1, Ordering::Relaxed) + 1;
            if let Some(p) = &self.progress {
                p(d, total);
            }
        };
        std::thread::scope(|s| {
            for _ in 0..(self.jobs as u64).min(seeds.count.max(1)) {
                s.spawn(worker);
            }
        });
        let sweep_wall = started.elapsed().as_secs_f64();
        let mut failed = failed.into_inner().unwrap_or_else(|e| e.into_inner());
        failed.sort_by_key(|(seed, ..)| *seed);
        let failures = failed
            .into_iter()
            .enumerate()
            .map(|(i, (seed, plan, outcome, v))| {
                if i < self.shrink_limit {
                    self.explain(seed, plan, outcome, v)
                } else {
                    self.unshrunk(seed, plan, outcome, v)
                }
            })
            .collect::<Vec<_>>();
        let wall = started.elapsed().as_secs_f64();
        let seeds_run = done.load(Ordering::Relaxed);
        Ok(Report {
            scenario: self.scenario.name.clone(),
            profile: self.profile,
            seeds_run,
            seeds_failed: failures.len() as u64,
            failures,
            trace_hash: last_hash.into_inner().unwrap_or_else(|e| e.into_inner()),
            wall_seconds: wall,
            seeds_per_second: if sweep_wall > 0.0 {
                seeds_run as f64 / sweep_wall
            } else {
                0.0
            },
            overrides: env.notes.clone(),
        })
    }

    /// Reports a failing seed without shrinking it (beyond the shrink limit).
    fn unshrunk(&self, seed: u64, plan: FaultPlan, outcome: Outcome, v: Violation) -> SeedFailure {
        let outcome = if self.out_dir.is_some() && outcome.trace.is_empty() {
            run(&self.recording, seed, &plan)
        } else {
            outcome
        };
        let plan_file = self.write_artifacts(&outcome, None, Some(&v));
        SeedFailure {
            seed,
            invariant: v.invariant,
            message: v.message,
            repro: self.repro_line(seed, plan_file.as_deref()),
            minimal_plan: plan.clone(),
            shrunk: false,
            plan,
            shrink_runs: 0,
            trace_hash: outcome.trace_hash,
            deterministic: true,
        }
    }

    /// Shrinks a failing seed's plan, checks it reproduces, writes artifacts.
    fn explain(&self, seed: u64, plan: FaultPlan, outcome: Outcome, v: Violation) -> SeedFailure {
        let invariant = v.invariant.clone();
        let probes = crash_after_effect_probes(&outcome, plan.heal_at_ms);
        let (minimal, stats) = shrink_with_probes(&plan, &probes, self.shrink_runs, |candidate| {
            let (_, vs) = self.run_one(seed, candidate);
            vs.iter().any(|x| x.invariant == invariant)
        });
        // The minimal plan's run keeps its trace entries for the artifacts and the report.
        let (min_outcome, min_violations) = self.run_checked(&self.recording, seed, &minimal);
        let again = run(&self.scenario, seed, &minimal);
        let deterministic = again.trace_hash == min_outcome.trace_hash;
        let min_v = min_violations
            .into_iter()
            .find(|x| x.invariant == invariant)
            .unwrap_or(v.clone());
        let plan_file = self.write_artifacts(&min_outcome, Some(&outcome), Some(&min_v));
        SeedFailure {
            seed,
            invariant,
            message: min_v.message,
            repro: self.repro_line(seed, plan_file.as_deref()),
            plan,
            minimal_plan: minimal,
            shrunk: true,
            shrink_runs: stats.runs,
            trace_hash: min_outcome.trace_hash,
            deterministic,
        }
    }

    /// Writes `seed-N/` with plan(s), trace, and each run's history in Temporal's JSON; returns
    /// the path of the plan that reproduces.
    fn write_artifacts(
        &self,
        outcome: &Outcome,
        original: Option<&Outcome>,
        v: Option<&Violation>,
    ) -> Option<PathBuf> {
        let dir = self
            .out_dir
            .as_ref()?
            .join(format!("seed-{}", outcome.seed));
        let result = write_outcome(&dir, outcome, original, v);
        match result {
            Ok(p) => Some(p),
            Err(e) => {
                eprintln!("warning: cannot write {}: {e}", dir.display());
                None
            }
        }
    }
}

/// The shrinker's probes: the canonical crash for effects applied twice or lost, a kill of the
/// calling worker right after the first or second effect of each kind the failing run recorded
/// (in the order the ledger first shows them). One event each.
fn crash_after_effect_probes(outcome: &Outcome, heal_at_ms: u64) -> Vec<FaultPlan> {
    let mut kinds: Vec<(&str, &str)> = Vec::new();
    for e in &outcome.effects {
        let kind = (e.service.as_str(), e.operation.as_str());
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    let mut probes = Vec::new();
    for (service, operation) in kinds {
        for nth in 1..=2 {
            probes.push(FaultPlan {
                events: vec![FaultEvent {
                    when: When::Effect {
                        service: service.to_string(),
                        operation: operation.to_string(),
                        nth,
                    },
                    fault: Fault::Kill {
                        node: NodeRef::Caller,
                        restart_after_ms: 1000,
                    },
                }],
                heal_at_ms,
            });
        }
    }
    probes
}

/// Writes one outcome's artifacts to `dir`; returns the plan file's path.
pub fn write_outcome(
    dir: &Path,
    outcome: &Outcome,
    original: Option<&Outcome>,
    v: Option<&Violation>,
) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir.join("histories"))?;
    let plan_path = dir.join(if original.is_some() {
        "minimal-plan.json"
    } else {
        "plan.json"
    });
    std::fs::write(&plan_path, outcome.plan.to_json())?;
    if let Some(o) = original {
        std::fs::write(dir.join("plan.json"), o.plan.to_json())?;
    }
    std::fs::write(dir.join("trace.txt"), outcome.trace_text())?;
    for (key, h) in &outcome.histories {
        let name = format!(
            "{}__{}.json",
            sanitize(&key.workflow_id),
            sanitize(&key.run_id)
        );
        std::fs::write(dir.join("histories").join(name), crate::history::to_json(h))?;
    }
    if let Some(v) = v {
        std::fs::write(dir.join("violation.txt"), format!("{v}\n"))?;
    }
    Ok(plan_path)
}

fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

impl Harness {
    /// Runs the sweep and panics with the report when any seed failed, or with the error when
    /// the sweep could not start (for `#[test]`s).
    pub fn assert_ok(self) -> Report {
        let report = self
            .run()
            .unwrap_or_else(|e| panic!("\nthe sweep did not start: {e}"));
        for note in &report.overrides {
            eprintln!("note: {note}");
        }
        if !report.ok() {
            panic!("\n{}", report.render());
        }
        report
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nodes() -> Topology {
        Topology {
            workers: vec!["worker-1".into()],
            services: vec!["bank".into()],
            effect_operations: [("bank".to_string(), vec!["deposit".into()])].into(),
        }
    }

    #[test]
    fn seed_sets_are_computed_not_listed() {
        let all = |first, last, shard| {
            let set = SeedSet::new(first, last, shard);
            (0..set.count)
                .map(|k| set.get(k).unwrap())
                .collect::<Vec<u64>>()
        };
        assert_eq!(all(0, 9, (1, 3)), vec![1, 4, 7]);
        assert_eq!(all(5, 5, (0, 1)), vec![5]);
        assert_eq!(all(u64::MAX, u64::MAX, (0, 1)), vec![u64::MAX]);
        assert_eq!(all(10, 12, (5, 7)), vec![12]);
        assert_eq!(all(10, 12, (6, 7)), Vec::<u64>::new());
        let huge = SeedSet::new(0, u64::MAX, (3, 4));
        assert_eq!(huge.count, 1 << 62);
        assert_eq!(huge.get(0), Some(3));
        assert_eq!(huge.get(huge.count - 1), Some(u64::MAX));
        assert_eq!(huge.get(huge.count), None);
    }

    #[test]
    fn load_plan_names_the_file_and_the_position_of_every_problem() {
        let dir = std::env::temp_dir().join(format!("durasim-load-plan-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let write = |name: &str, bytes: &[u8]| {
            let p = dir.join(name);
            std::fs::write(&p, bytes).unwrap();
            p
        };
        let cases: Vec<(PathBuf, &str)> = vec![
            (dir.join("absent.json"), "absent.json: "),
            (write("huge.json", &vec![b' '; (64 << 20) + 1]), "larger than 64 MiB"),
            (write("latin1.json", &[b'{', 0xe9, b'}']), "not UTF-8 (invalid byte at offset 1)"),
            (write("trunc.json", b"{\"events\": ["), "line 1 column"),
            (
                write(
                    "node.json",
                    br#"{"events":[{"when":{"on":"at","ms":5},"fault":{"kind":"kill","node":{"named":"worker-9"},"restart_after_ms":10}}],"heal_at_ms":1000}"#,
                ),
                "worker-9",
            ),
            (
                write("field.json", br#"{"events":[],"heal_at_ms":10,"heal_at":5}"#),
                "unknown field `heal_at`",
            ),
            (
                write(
                    "inner-field.json",
                    br#"{"events":[{"when":{"on":"at","ms":5,"sec":1},"fault":{"kind":"kill","node":"caller","restart_after_ms":10}}],"heal_at_ms":1000}"#,
                ),
                "unknown field `sec`",
            ),
            (
                write(
                    "partition.json",
                    br#"{"events":[{"when":{"on":"at","ms":5},"fault":{"kind":"partition","nodes":[],"duration_ms":10}}],"heal_at_ms":1000}"#,
                ),
                "a partition of no nodes cuts nothing off",
            ),
            (
                write(
                    "event-type.json",
                    br#"{"events":[{"when":{"on":"history","event_type":"ActivityStarted","nth":1},"fault":{"kind":"kill","node":"caller","restart_after_ms":10}}],"heal_at_ms":1000}"#,
                ),
                "\"ActivityStarted\" is not a history event type",
            ),
            (
                write(
                    "operation.json",
                    br#"{"events":[{"when":{"on":"effect","service":"bank","operation":"refund","nth":1},"fault":{"kind":"kill","node":"caller","restart_after_ms":10}}],"heal_at_ms":1000}"#,
                ),
                "bank records no effect \"refund\" (its effect operations: deposit)",
            ),
        ];
        for (path, expect) in cases {
            let e = load_plan(&path, &nodes()).unwrap_err();
            let text = e.to_string();
            assert!(text.starts_with(&path.display().to_string()), "{text}");
            assert!(text.contains(expect), "{text}");
        }
        let good = write("good.json", FaultPlan::none().to_json().as_bytes());
        assert_eq!(load_plan(&good, &nodes()), Ok(FaultPlan::none()));
        let bom = format!("\u{feff}{}", FaultPlan::none().to_json());
        let bom = write("bom.json", bom.as_bytes());
        assert_eq!(load_plan(&bom, &nodes()), Ok(FaultPlan::none()));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
