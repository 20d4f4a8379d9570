//! The mutation score as a table, one progress line per mutation, and JSON.

use std::fmt::Write as _;

use crate::mutations::Mutation;
use crate::sweep::{Caught, Sweep};

/// The largest shrunk plan that counts as small (the target).
pub const SMALL_PLAN_EVENTS: usize = 3;

/// Whether a mutation was caught, and where.
#[derive(Clone, Debug)]
pub enum Verdict {
    /// A sweep failed a seed.
    Caught { sweep: Sweep, caught: Caught },
    /// Every sweep passed every seed.
    Missed,
    /// The mutated `sim` crashed or answered without a report (not a catch by an invariant).
    Crashed { sweep: Sweep, error: String },
}

/// One mutation's result.
#[derive(Clone, Debug)]
pub struct MutationResult {
    pub mutation: &'static Mutation,
    pub verdict: Verdict,
    /// Seeds run over its sweeps (up to the catching one).
    pub seeds_run: u64,
    pub build_seconds: f64,
    pub sweep_seconds: f64,
}

/// The mutations, one per line with what they model and where.
pub fn list(mutations: &[&Mutation]) -> String {
    let mut s = String::new();
    for m in mutations {
        let sweeps: Vec<String> = m.sweeps.iter().map(Sweep::to_string).collect();
        let _ = writeln!(
            s,
            "{:<30} {} [{}; {}]",
            m.name,
            m.bug,
            m.file,
            sweeps.join(", ")
        );
    }
    s
}

/// One mutation's progress line.
pub fn line(r: &MutationResult) -> String {
    match &r.verdict {
        Verdict::Caught { sweep, caught } => format!(
            "{}: caught by {} in {sweep} at seed {} ({} plan event(s)), build {:.0} s + sweeps {:.0} s",
            r.mutation.name,
            caught.invariant,
            caught.seed,
            caught.plan_events,
            r.build_seconds,
            r.sweep_seconds
        ),
        Verdict::Missed => format!(
            "{}: MISSED over {} seed(s), build {:.0} s + sweeps {:.0} s",
            r.mutation.name, r.seeds_run, r.build_seconds, r.sweep_seconds
        ),
        Verdict::Crashed { sweep, error } => {
            format!("{}: sim CRASHED in {sweep}: {error}", r.mutation.name)
        }
    }
}

/// The table and the score line.
pub fn table(results: &[MutationResult], seeds: u64) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<30} {:<20} {:<24} {:>6} {:>6} {:>8}",
        "mutation", "caught by", "sweep", "seeds", "events", "seconds"
    );
    for r in results {
        let secs = format!("{:.0}+{:.0}", r.build_seconds, r.sweep_seconds);
        match &r.verdict {
            Verdict::Caught { sweep, caught } => {
                let _ = writeln!(
                    s,
                    "{:<30} {:<20} {:<24} {:>6} {:>6} {:>8}",
                    r.mutation.name,
                    caught.invariant,
                    sweep.to_string(),
                    caught.seeds_to_failure,
                    caught.plan_events,
                    secs
                );
            }
            Verdict::Missed => {
                let _ = writeln!(
                    s,
                    "{:<30} {:<20} {:<24} {:>6} {:>6} {:>8}",
                    r.mutation.name, "MISSED", "-", r.seeds_run, "-", secs
                );
            }
            Verdict::Crashed { sweep, .. } => {
                let _ = writeln!(
                    s,
                    "{:<30} {:<20} {:<24} {:>6} {:>6} {:>8}",
                    r.mutation.name,
                    "CRASHED",
                    sweep.to_string(),
                    "-",
                    "-",
                    secs
                );
            }
        }
    }
    let _ = writeln!(s, "{}", score(results, seeds));
    s
}

/// "caught 11/12 within 1000 seeds; 10 shrunk to <= 3 events".
pub fn score(results: &[MutationResult], seeds: u64) -> String {
    let caught: Vec<&Caught> = results
        .iter()
        .filter_map(|r| match &r.verdict {
            Verdict::Caught { caught, .. } => Some(caught),
            Verdict::Missed | Verdict::Crashed { .. } => None,
        })
        .collect();
    let small = caught
        .iter()
        .filter(|c| c.plan_events <= SMALL_PLAN_EVENTS)
        .count();
    format!(
        "caught {}/{} within {seeds} seeds; {small} shrunk to <= {SMALL_PLAN_EVENTS} events",
        caught.len(),
        results.len()
    )
}

/// The `--json` document.
pub fn to_json(results: &[MutationResult], seeds: u64) -> serde_json::Value {
    let rows: Vec<serde_json::Value> = results
        .iter()
        .map(|r| {
            let m = r.mutation;
            let mut row = serde_json::json!({
                "mutation": m.name,
                "bug": m.bug,
                "file": m.file,
                "sweeps": m.sweeps.iter().map(Sweep::to_string).collect::<Vec<_>>(),
                "caught": matches!(r.verdict, Verdict::Caught { .. }),
                "seeds_run": r.seeds_run,
                "build_seconds": r.build_seconds,
                "sweep_seconds": r.sweep_seconds,
            });
            if let Verdict::Caught { sweep, caught } = &r.verdict {
                row["caught_by"] = caught.invariant.clone().into();
                row["sweep"] = sweep.to_string().into();
                row["seed"] = caught.seed.into();
                row["seeds_to_failure"] = caught.seeds_to_failure.into();
                row["plan_events"] = caught.plan_events.into();
                row["shrunk"] = caught.shrunk.into();
                row["message"] = caught.message.clone().into();
                row["repro"] = caught.repro.clone().into();
            }
            if let Verdict::Crashed { sweep, error } = &r.verdict {
                row["crashed"] = format!("{sweep}: {error}").into();
            }
            row
        })
        .collect();
    serde_json::json!({
        "seeds": seeds,
        "mutations": rows,
        "score": score(results, seeds),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mutations::MUTATIONS;

    fn caught(events: usize) -> Verdict {
        Verdict::Caught {
            sweep: Sweep {
                scenario: "money-transfer",
                profile: "crash",
            },
            caught: Caught {
                seed: 4,
                seeds_to_failure: 5,
                invariant: "durability".into(),
                message: String::new(),
                plan_events: events,
                shrunk: true,
                repro: String::new(),
            },
        }
    }

    #[test]
    fn the_score_counts_caught_and_small_plans() {
        let result = |verdict| MutationResult {
            mutation: &MUTATIONS[0],
            verdict,
            seeds_run: 5,
            build_seconds: 1.0,
            sweep_seconds: 2.0,
        };
        let results = vec![
            result(caught(1)),
            result(caught(4)),
            result(Verdict::Missed),
        ];
        assert_eq!(
            score(&results, 1000),
            "caught 2/3 within 1000 seeds; 1 shrunk to <= 3 events"
        );
        let t = table(&results, 1000);
        assert!(
            t.contains("MISSED") && t.contains("money-transfer/crash"),
            "{t}"
        );
        let j = to_json(&results, 1000);
        assert_eq!(j["mutations"][0]["seeds_to_failure"], 5);
        assert_eq!(j["mutations"][2]["caught"], false);
    }
}
