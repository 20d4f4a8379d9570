//! What a sweep found: failing seeds with their minimal plans and reproduction lines, as text
//! for people and JSON for tools.

use std::fmt::Write as _;

use crate::faults::{FaultPlan, Profile};

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
    /// Where the seeds' fault plans came from, for people: the profile's name, or `plan FILE`
    /// when one plan ran for every seed.
    pub faults: String,
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
    /// Which fault kinds hit which protocol steps over the sweep, when it was asked for
    /// ([`crate::Harness::coverage`]).
    pub coverage: Option<crate::record::CoverageReport>,
    /// Calls of effect operations as the services' ledgers recorded them over the sweep.
    pub effect_calls: EffectCalls,
}

/// Calls of the services' effect operations over a sweep, from their ledgers (the services'
/// own record, not the engine's): how many applied an effect, and how many the service
/// recognised by idempotency key as a call it had already applied. Duplicates are not a
/// failure (a retried call after a lost reply is one), but a service that deduplicates hides
/// them from `exactly-once`: a count that grows with a change (a task run twice) shows here.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EffectCalls {
    /// Calls that applied their effect.
    pub applied: u64,
    /// Calls recognised as duplicates and not applied again.
    pub duplicates: u64,
    /// Seeds with at least one duplicate.
    pub seeds_with_duplicates: u64,
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
            self.faults,
            self.seeds_failed,
            self.wall_seconds,
            self.seeds_per_second
        );
        if let Some(h) = self.trace_hash {
            let _ = writeln!(s, "trace hash {h:016x}");
        }
        let c = self.effect_calls;
        if c.duplicates > 0 {
            let _ = writeln!(
                s,
                "effect calls: {} applied, {} recognised as duplicates by the services (in {} seed(s))",
                c.applied, c.duplicates, c.seeds_with_duplicates
            );
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
        if let Some(c) = &self.coverage {
            let _ = write!(s, "\n{}", c.render());
        }
        s
    }

    /// The `--json` object.
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::json!({
            "scenario": self.scenario,
            "profile": self.profile.name(),
            "faults": self.faults,
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
            "effect_calls": {
                "applied": self.effect_calls.applied,
                "duplicates": self.effect_calls.duplicates,
                "seeds_with_duplicates": self.effect_calls.seeds_with_duplicates,
            },
        });
        if let (Some(c), Some(o)) = (&self.coverage, v.as_object_mut()) {
            o.insert("coverage".to_string(), c.to_json());
        }
        v
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
