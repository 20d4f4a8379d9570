//! One sweep of the built `sim` binary (`sim run SCENARIO --seeds 0..N --faults PROFILE --json
//! --max-failures 1`) and what its JSON report says about the first failing seed.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// A scenario swept under a fault profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Sweep {
    /// A built-in scenario (`sim list`).
    pub scenario: &'static str,
    /// `none`, `network`, `crash`, `chaos` or `swarm`.
    pub profile: &'static str,
}

impl std::fmt::Display for Sweep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.scenario, self.profile)
    }
}

/// The first failing seed of a sweep.
#[derive(Clone, Debug, PartialEq)]
pub struct Caught {
    /// The failing seed.
    pub seed: u64,
    /// Seeds from the sweep's first up to and including it.
    pub seeds_to_failure: u64,
    /// The invariant it broke.
    pub invariant: String,
    /// The invariant's message (for the minimal plan's run when shrunk).
    pub message: String,
    /// Fault events in the minimal plan.
    pub plan_events: usize,
    /// Whether the plan was shrunk.
    pub shrunk: bool,
    /// The line that reproduces it (in the scratch copy).
    pub repro: String,
}

/// What one sweep found.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepResult {
    /// Seeds that ran.
    pub seeds_run: u64,
    /// The first failing seed, if any.
    pub caught: Option<Caught>,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// How a sweep picks its seeds' plans and what it does with a failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Search {
    /// The first seed; the sweep runs `start..start + seeds`.
    pub start: u64,
    /// Coverage-guided plans (`sim run --guided`) instead of each seed's own.
    pub guided: bool,
    /// Shrink the first failure to a minimal plan (off when only the seed count matters).
    pub shrink: bool,
}

impl Search {
    /// The mutation score's sweep: seeds from 0, plain plans, the failure shrunk.
    pub const SCORE: Search = Search {
        start: 0,
        guided: false,
        shrink: true,
    };
}

/// Runs `sweep` with `sim` over `seeds` seeds from `search.start` on `jobs` threads, stopping
/// at the first failure. `Err` when the binary did not run or did not answer with its JSON
/// report (exit 2, a crash): the text says why.
pub fn run(
    sim: &Path,
    sweep: Sweep,
    seeds: u64,
    jobs: usize,
    search: Search,
) -> Result<SweepResult, String> {
    let started = Instant::now();
    let end = search.start.saturating_add(seeds);
    let mut cmd = Command::new(sim);
    cmd.args(["run", sweep.scenario])
        .args(["--seeds", &format!("{}..{end}", search.start)])
        .args(["--faults", sweep.profile])
        .args(["--jobs", &jobs.to_string()])
        .args(["--json", "--max-failures", "1"]);
    if search.guided {
        cmd.arg("--guided");
    }
    if !search.shrink {
        cmd.args(["--shrink-limit", "0"]);
    }
    let out = cmd
        .env_remove("SIM_SEED")
        .env_remove("SIM_PLAN")
        .env_remove("SIM_OUT")
        .output()
        .map_err(|e| format!("cannot run {}: {e}", sim.display()))?;
    let seconds = started.elapsed().as_secs_f64();
    let code = out.status.code();
    if !matches!(code, Some(0) | Some(1)) {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let lines: Vec<&str> = stderr.lines().collect();
        return Err(format!(
            "`sim run {} --faults {}` exited with {} (no report): {}",
            sweep.scenario,
            sweep.profile,
            code.map_or("a signal".to_string(), |c| format!("code {c}")),
            lines[lines.len().saturating_sub(8)..].join(" | ")
        ));
    }
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(|e| {
        format!(
            "`sim run {} --faults {}` printed no JSON report ({e})",
            sweep.scenario, sweep.profile
        )
    })?;
    parse_report(&report, search.start, seconds)
}

/// Reads a `sim run --json` report of a sweep from seed `start`: seeds run and the lowest
/// failing seed.
pub fn parse_report(
    report: &serde_json::Value,
    start: u64,
    seconds: f64,
) -> Result<SweepResult, String> {
    let seeds_run = report["seeds_run"]
        .as_u64()
        .ok_or("the report has no seeds_run")?;
    let failures = report["failures"]
        .as_array()
        .ok_or("the report has no failures list")?;
    let first = failures
        .iter()
        .filter_map(|f| Some((f["seed"].as_u64()?, f)))
        .min_by_key(|(seed, _)| *seed);
    let caught = first.map(|(seed, f)| Caught {
        seed,
        seeds_to_failure: seed.saturating_sub(start) + 1,
        invariant: f["invariant"].as_str().unwrap_or("?").to_string(),
        message: f["message"].as_str().unwrap_or_default().to_string(),
        plan_events: f["minimal_plan"].as_array().map_or(0, Vec::len),
        shrunk: f["shrunk"].as_bool().unwrap_or(false),
        repro: f["repro"].as_str().unwrap_or_default().to_string(),
    });
    Ok(SweepResult {
        seeds_run,
        caught,
        seconds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lowest_failing_seed_is_reported_with_its_minimal_plan() {
        let report = serde_json::json!({
            "seeds_run": 40,
            "failures": [
                {"seed": 31, "invariant": "dispatch", "message": "m2", "minimal_plan": [],
                 "shrunk": true, "repro": "r2"},
                {"seed": 17, "invariant": "retry-policy", "message": "m1",
                 "minimal_plan": [{"at_ms": 1}, {"at_ms": 2}], "shrunk": true, "repro": "r1"}
            ]
        });
        let r = parse_report(&report, 0, 1.5).unwrap();
        assert_eq!(r.seeds_run, 40);
        let c = r.caught.unwrap();
        assert_eq!((c.seed, c.seeds_to_failure), (17, 18));
        assert_eq!((c.invariant.as_str(), c.plan_events), ("retry-policy", 2));
        let clean = serde_json::json!({"seeds_run": 1000, "failures": []});
        assert_eq!(parse_report(&clean, 0, 0.0).unwrap().caught, None);
        assert!(parse_report(&serde_json::json!({}), 0, 0.0).is_err());
        // From a later start, seeds to the failure count from there.
        let later = serde_json::json!({"seeds_run": 9, "failures": [{"seed": 100_007}]});
        let c = parse_report(&later, 100_000, 0.0).unwrap().caught.unwrap();
        assert_eq!((c.seed, c.seeds_to_failure), (100_007, 8));
    }
}
