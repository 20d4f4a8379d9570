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
//!
//! Here: the [`Harness`] (builder, sweep, shrinking). `input.rs`: plan files, the environment,
//! the seed set. `report.rs`: [`Report`] as text and JSON. `artifacts.rs`: a failing seed's files.

mod artifacts;
mod guided;
mod input;
mod reader;
mod report;

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

pub use artifacts::write_outcome;
pub use input::{load_plan, HarnessError};
use input::{EnvOverrides, SeedSet};
pub use reader::InputReader;
pub use report::{EffectCalls, Report, Repro, SeedFailure};

use crate::checkers::{check_all, default_invariants, Invariant, Violation};
use crate::faults::shrink::shrink_with_probes;
use crate::faults::{generate, Fault, FaultEvent, FaultPlan, NodeRef, Profile, When};
use crate::scenario::{run, Outcome, Scenario};

/// The most seeds a sweep runs at once (each on an OS thread of its own).
pub const MAX_JOBS: usize = 1024;

/// One run and the invariants it broke.
type Checked = (Outcome, Vec<Violation>);

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
    /// `SIM_OUT` as the running sweep read it (used when `out_dir` is not set).
    env_out: std::sync::OnceLock<PathBuf>,
    always_write: bool,
    check_determinism: bool,
    plan_override: Option<FaultPlan>,
    /// Where `plan_override` came from, for the report (`plan FILE`).
    plan_source: Option<String>,
    stop_after: Option<usize>,
    shrink_limit: usize,
    repro: Repro,
    progress: Option<Arc<dyn Fn(u64, u64) + Send + Sync>>,
    registration_check: bool,
    coverage: bool,
    guided: bool,
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
            shrink_runs: 1000,
            out_dir: None,
            env_out: std::sync::OnceLock::new(),
            always_write: false,
            check_determinism: false,
            plan_override: None,
            plan_source: None,
            stop_after: None,
            shrink_limit: 3,
            repro,
            progress: None,
            registration_check: true,
            coverage: false,
            guided: false,
        }
    }

    /// Records and reports fault-space coverage: which fault kinds hit which protocol steps,
    /// with the seeds that hit each, and the pairs no seed reached (`Report::coverage`).
    pub fn coverage(mut self, on: bool) -> Self {
        self.coverage = on;
        Arc::make_mut(&mut self.scenario).record_coverage = on;
        Arc::make_mut(&mut self.recording).record_coverage = on;
        self
    }

    /// Coverage-guided plans: after the first round, half the seeds' plans carry faults aimed
    /// at the fault/step pairs reached least, built from where and when earlier runs saw each
    /// step, and a quarter derive from a corpus of plans that reached new pairs (see
    /// `guided.rs`); turns coverage on. A seed alone no longer names its plan: failures are
    /// reproduced from their plan (the report prints it; `--out` writes it).
    pub fn guided(mut self, on: bool) -> Self {
        self.guided = on;
        if on {
            self = self.coverage(true);
        }
        self
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
        self.plan_source = Some("a given fault plan".into());
        self
    }

    /// Uses the plan in this file (see [`load_plan`]) for every seed, checked against this
    /// sweep's scenario.
    pub fn plan_file(self, path: &Path) -> Result<Self, HarnessError> {
        let plan = load_plan(path, &self.scenario.topology())?;
        let mut h = self.plan(plan);
        h.plan_source = Some(format!("plan {}", path.display()));
        Ok(h)
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
                None if self.guided => format!(
                    "cargo run --release --bin sim -- run {scenario} --seed {seed} --plan PLAN.json \
                     (PLAN.json: the plan above; --out DIR writes it)"
                ),
                None => format!(
                    "cargo run --release --bin sim -- run {scenario} --seed {seed} --faults {}",
                    self.profile
                ),
            },
            Repro::CargoTest { test } => {
                // An #[ignore]d test runs only with --ignored / --include-ignored: when this
                // process was given one, the line keeps it (harmless for a test that is not
                // ignored), or the repro would run nothing.
                let ignored = include_ignored(std::env::args());
                match plan_file {
                    Some(p) => format!(
                        "SIM_SEED={seed} SIM_PLAN={} cargo test -- --exact {test}{ignored}",
                        p.display()
                    ),
                    None => format!("SIM_SEED={seed} cargo test -- --exact {test}{ignored}"),
                }
            }
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
        match run_guarded(sc, seed, plan) {
            Ok(outcome) => {
                let violations = check_all(&self.invariants, &outcome);
                (outcome, violations)
            }
            Err(panic) => (
                Outcome::aborted(&sc.name, seed, plan.clone(), sc.liveness_deadline),
                vec![Violation {
                    invariant: "no-panic".into(),
                    message: format!(
                        "the simulation panicked (in the code under test or the harness): {panic}"
                    ),
                }],
            ),
        }
    }

    /// Checks, before the first seed, that every workflow and activity type the scenario uses
    /// is registered: the client's starts statically, then one fault-free run of `seed` for
    /// the types only the workflows' code names (activities, continue-as-new). A misspelt
    /// registration otherwise reads as a liveness failure of every seed.
    pub fn check_registrations(&self, seed: u64) -> Result<(), HarnessError> {
        let registry = &self.scenario.registry;
        for s in &self.scenario.starts {
            if !registry.has_workflow(&s.workflow_type) {
                return Err(HarnessError::Unregistered {
                    kind: "workflow",
                    name: s.workflow_type.clone(),
                    used_by: format!("the client's start of {}", s.workflow_id),
                    known: registry.workflow_types(),
                });
            }
        }
        let outcome = run_or_aborted(&self.scenario, seed, &FaultPlan::none());
        if let Some(f) = outcome
            .activity_failures
            .iter()
            .find(|f| f.failure_type == "ActivityNotRegistered")
        {
            return Err(HarnessError::Unregistered {
                kind: "activity",
                name: f.activity_type.clone(),
                used_by: format!(
                    "workflow {} (activity id {})",
                    f.exec.workflow_id, f.activity_id
                ),
                known: registry.activity_types(),
            });
        }
        for (key, h) in &outcome.histories {
            let Some(ty) = h.workflow_type() else {
                continue;
            };
            if !registry.has_workflow(ty) {
                return Err(HarnessError::Unregistered {
                    kind: "workflow",
                    name: ty.to_string(),
                    used_by: format!("workflow {} run {}", key.workflow_id, key.run_id),
                    known: registry.workflow_types(),
                });
            }
        }
        Ok(())
    }

    /// Turns off the registration check [`Harness::run`] makes before the first seed (for
    /// scenarios that use an unregistered type on purpose).
    pub fn skip_registration_check(mut self) -> Self {
        self.registration_check = false;
        self
    }

    /// Runs the sweep. Fails before running anything when `SIM_SEED`, `MADSIM_TEST_SEED` or
    /// `SIM_PLAN` has a value it cannot use, when no seed is left to run, or when the scenario
    /// uses a workflow or activity type that is not registered ([`Harness::check_registrations`]).
    pub fn run(&self) -> Result<Report, HarnessError> {
        let env = EnvOverrides::read(&self.scenario.topology())?;
        let seeds = self.seeds_for(&env)?;
        if let Some(dir) = &env.out {
            let _ = self.env_out.set(dir.clone());
        }
        if self.registration_check {
            if let Some(first) = seeds.get(0) {
                self.check_registrations(first)?;
            }
        }
        let total = seeds.count;
        let started = Instant::now();
        let next = AtomicU64::new(0);
        let done = AtomicU64::new(0);
        let failed: Mutex<Vec<(u64, FaultPlan, Outcome, Violation)>> = Mutex::new(Vec::new());
        let last_hash = Mutex::new(None);
        let coverage = Mutex::new(crate::record::CoverageReport::default());
        let effect_calls = Mutex::new(report::EffectCalls::default());
        let failures_seen = AtomicU64::new(0);
        // Everything done with a seed's run once it has run (in seed order when guided).
        let finish =
            |seed: u64, plan: FaultPlan, outcome: Outcome, mut violations: Vec<Violation>| {
                if self.check_determinism {
                    let again = run_or_aborted(&self.scenario, seed, &plan);
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
                if let Some(c) = &outcome.coverage {
                    coverage.lock().unwrap_or_else(|e| e.into_inner()).merge(c);
                }
                {
                    let applied = outcome.effects.iter().filter(|e| e.applied).count() as u64;
                    let duplicates = outcome.effects.len() as u64 - applied;
                    let mut c = effect_calls.lock().unwrap_or_else(|e| e.into_inner());
                    c.applied += applied;
                    c.duplicates += duplicates;
                    c.seeds_with_duplicates += u64::from(duplicates > 0);
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
        let stopped = || {
            self.stop_after
                .is_some_and(|n| failures_seen.load(Ordering::Relaxed) >= n as u64)
        };
        if self.guided && self.plan_override.is_none() && env.plan.is_none() {
            self.run_guided(&seeds, &stopped, &finish);
        } else {
            let worker = || loop {
                if stopped() {
                    return;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(seed) = seeds.get(i) else {
                    return;
                };
                let plan = self.plan_for(seed, &env);
                let (outcome, violations) = self.run_one(seed, &plan);
                finish(seed, plan, outcome, violations);
            };
            std::thread::scope(|s| {
                for _ in 0..(self.jobs as u64).min(seeds.count.max(1)) {
                    spawn_sweeper(s, &worker);
                }
            });
        }
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
        let faults = match (&self.plan_source, &env.plan) {
            (Some(source), _) => source.clone(),
            (None, Some(_)) => "the SIM_PLAN fault plan".to_string(),
            (None, None) => self.profile.to_string(),
        };
        Ok(Report {
            scenario: self.scenario.name.clone(),
            profile: self.profile,
            faults,
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
            coverage: self
                .coverage
                .then(|| coverage.into_inner().unwrap_or_else(|e| e.into_inner())),
            effect_calls: effect_calls.into_inner().unwrap_or_else(|e| e.into_inner()),
        })
    }

    /// The guided sweep: rounds of `GUIDED_ROUND` seeds (a fixed size, so the plans do not
    /// depend on `jobs`), each round's plans drawn from the corpus as it stood, run on up to
    /// `jobs` threads, then learned from and finished in seed order.
    fn run_guided(
        &self,
        seeds: &SeedSet,
        stopped: &(dyn Fn() -> bool + Sync),
        finish: &(dyn Fn(u64, FaultPlan, Outcome, Vec<Violation>) + Sync),
    ) {
        const GUIDED_ROUND: u64 = 16;
        let mut guide = guided::Guide::new(self.profile, self.scenario.topology());
        let mut i = 0u64;
        while i < seeds.count && !stopped() {
            let n = GUIDED_ROUND.min(seeds.count - i);
            let round: Vec<(u64, FaultPlan)> = (i..i + n)
                .filter_map(|k| seeds.get(k))
                .map(|seed| (seed, guide.plan_for(seed)))
                .collect();
            let slots: Vec<Mutex<Option<Checked>>> =
                round.iter().map(|_| Mutex::new(None)).collect();
            let next = AtomicU64::new(0);
            let work = || loop {
                let k = next.fetch_add(1, Ordering::Relaxed) as usize;
                let Some((seed, plan)) = round.get(k) else {
                    return;
                };
                let r = self.run_one(*seed, plan);
                *slots[k].lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
            };
            std::thread::scope(|s| {
                for _ in 0..(self.jobs as u64).min(n) {
                    spawn_sweeper(s, &work);
                }
            });
            for ((seed, plan), slot) in round.into_iter().zip(slots) {
                let Some((outcome, violations)) =
                    slot.into_inner().unwrap_or_else(|e| e.into_inner())
                else {
                    continue;
                };
                guide.learn(&plan, outcome.coverage.as_ref());
                finish(seed, plan, outcome, violations);
            }
            i += n;
        }
    }

    /// Reports a failing seed without shrinking it (beyond the shrink limit).
    fn unshrunk(&self, seed: u64, plan: FaultPlan, outcome: Outcome, v: Violation) -> SeedFailure {
        let outcome = if self.artifacts_dir().is_some() && outcome.trace.is_empty() {
            run_or_aborted(&self.recording, seed, &plan)
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
        let again = run_or_aborted(&self.scenario, seed, &minimal);
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

    /// Where failing seeds' artifacts go: [`Harness::out_dir`], else `SIM_OUT`.
    fn artifacts_dir(&self) -> Option<&Path> {
        self.out_dir
            .as_deref()
            .or(self.env_out.get().map(|p| p.as_path()))
    }

    /// Writes `seed-N/` with plan(s), trace, and each run's history in Temporal's JSON; returns
    /// the path of the plan that reproduces.
    fn write_artifacts(
        &self,
        outcome: &Outcome,
        original: Option<&Outcome>,
        v: Option<&Violation>,
    ) -> Option<PathBuf> {
        let dir = self.artifacts_dir()?.join(format!("seed-{}", outcome.seed));
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

/// Runs one seed; a panic anywhere in the simulation (a node's task, the engine's own
/// assertions, a checker-free harness step) is returned as its message instead of ending the
/// sweep.
fn run_guarded(sc: &Arc<Scenario>, seed: u64, plan: &FaultPlan) -> Result<Outcome, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(sc, seed, plan))).map_err(|p| {
        p.downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic with a non-string payload".to_string())
    })
}

/// [`run_guarded`], an aborted (empty) outcome for a panic.
fn run_or_aborted(sc: &Arc<Scenario>, seed: u64, plan: &FaultPlan) -> Outcome {
    run_guarded(sc, seed, plan)
        .unwrap_or_else(|_| Outcome::aborted(&sc.name, seed, plan.clone(), sc.liveness_deadline))
}

/// ` --include-ignored` when the test process was run with `--ignored` or `--include-ignored`
/// (the test being reproduced may be `#[ignore]`d), else nothing.
fn include_ignored(mut args: impl Iterator<Item = String>) -> &'static str {
    if args.any(|a| a == "--ignored" || a == "--include-ignored") {
        " --include-ignored"
    } else {
        ""
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

impl Harness {
    /// Runs the sweep and panics with the report when any seed failed, or with the error when
    /// the sweep could not start (for `#[test]`s; the panic points at the calling test).
    /// `SIM_OUT=DIR` in the environment writes each failing seed's plan, trace and histories
    /// under `DIR/seed-N/`.
    #[track_caller]
    pub fn assert_ok(self) -> Report {
        let report = match self.run() {
            Ok(r) => r,
            Err(e) => panic!("\nthe sweep did not start: {e}"),
        };
        for note in &report.overrides {
            eprintln!("note: {note}");
        }
        if !report.ok() {
            panic!("\n{}", report.render());
        }
        report
    }
}

/// Starts a sweep thread running `work`, with the stack a seed needs and leave to run seeds
/// itself (no hand-over to a runner thread per seed). When the OS refuses a thread, `work`
/// runs here instead (its seeds then go through this thread's runner): slower, never skipped.
fn spawn_sweeper<'scope, F>(s: &'scope std::thread::Scope<'scope, '_>, work: &'scope F)
where
    F: Fn() + Sync,
{
    let started = std::thread::Builder::new()
        .name("durasim-sweep".into())
        .stack_size(crate::scenario::RUN_STACK_BYTES)
        .spawn_scoped(s, move || {
            crate::scenario::run_seeds_here();
            work();
        });
    if started.is_err() {
        work();
    }
}

#[cfg(test)]
mod tests {
    use super::include_ignored;

    #[test]
    fn an_ignored_sweeps_repro_line_keeps_it_runnable() {
        let args = |a: &[&str]| {
            a.iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .into_iter()
        };
        assert_eq!(
            include_ignored(args(&["t", "--ignored"])),
            " --include-ignored"
        );
        assert_eq!(
            include_ignored(args(&["t", "name", "--include-ignored"])),
            " --include-ignored"
        );
        assert_eq!(include_ignored(args(&["t", "--exact", "name"])), "");
    }
}
