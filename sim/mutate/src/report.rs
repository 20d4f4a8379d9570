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
    /// Guided against plain plans (`--compare-guided`), when measured.
    pub comparison: Option<Comparison>,
}

/// Seeds to the first failure of one sweep from several starting seeds, plain plans against
/// coverage-guided ones; `None` where none of `cap` seeds failed.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    pub sweep: Sweep,
    pub cap: u64,
    pub plain: Vec<Option<u64>>,
    pub guided: Vec<Option<u64>>,
}

impl Comparison {
    /// Median seeds to the first failure; a start with no failure counts as `cap` (so the
    /// median is a lower bound when such starts are in the upper half).
    pub fn median(&self, guided: bool) -> u64 {
        let mut v: Vec<u64> = (if guided { &self.guided } else { &self.plain })
            .iter()
            .map(|f| f.unwrap_or(self.cap))
            .collect();
        v.sort_unstable();
        v.get(v.len() / 2).copied().unwrap_or(0)
    }
}

fn found(v: &[Option<u64>], cap: u64) -> String {
    v.iter()
        .map(|f| f.map_or(format!(">{cap}"), |n| n.to_string()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One mutation's comparison line.
pub fn comparison_line(name: &str, c: &Comparison) -> String {
    format!(
        "{name}: {} seeds to the first failure from {} starts: plain median {} ({}), guided median {} ({})",
        c.sweep,
        c.plain.len(),
        c.median(false),
        found(&c.plain, c.cap),
        c.median(true),
        found(&c.guided, c.cap)
    )
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
    let compared: Vec<(&str, &Comparison)> = results
        .iter()
        .filter_map(|r| Some((r.mutation.name, r.comparison.as_ref()?)))
        .collect();
    if !compared.is_empty() {
        let _ = writeln!(
            s,
            "\nguided against plain plans: seeds to the first failure, median over starts (each start's figure; >N: none within N)"
        );
        let (mut faster, mut slower) = (0, 0);
        for (name, c) in &compared {
            let (p, g) = (c.median(false), c.median(true));
            faster += usize::from(g < p);
            slower += usize::from(g > p);
            let _ = writeln!(
                s,
                "{name:<30} {:<24} plain {p:>6} guided {g:>6}   plain: {}; guided: {}",
                c.sweep.to_string(),
                found(&c.plain, c.cap),
                found(&c.guided, c.cap)
            );
        }
        let _ = writeln!(
            s,
            "guided needed fewer seeds for {faster}, more for {slower}, as many for {} of {} mutations",
            compared.len() - faster - slower,
            compared.len()
        );
    }
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
            if let Some(c) = &r.comparison {
                row["guided_comparison"] = serde_json::json!({
                    "sweep": c.sweep.to_string(),
                    "cap": c.cap,
                    "plain": c.plain,
                    "guided": c.guided,
                    "plain_median": c.median(false),
                    "guided_median": c.median(true),
                });
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
            comparison: None,
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

    #[test]
    fn the_comparison_counts_a_start_without_failure_as_the_cap() {
        let c = Comparison {
            sweep: Sweep {
                scenario: "signals",
                profile: "chaos",
            },
            cap: 1000,
            plain: vec![Some(400), None, Some(30)],
            guided: vec![Some(20), Some(50), Some(10)],
        };
        assert_eq!((c.median(false), c.median(true)), (400, 20));
        let line = comparison_line("m", &c);
        assert!(line.contains("plain median 400 (400, >1000, 30)"), "{line}");
        let r = MutationResult {
            mutation: &MUTATIONS[0],
            verdict: caught(1),
            seeds_run: 5,
            build_seconds: 1.0,
            sweep_seconds: 2.0,
            comparison: Some(c),
        };
        let t = table(std::slice::from_ref(&r), 1000);
        assert!(
            t.contains("guided needed fewer seeds for 1, more for 0"),
            "{t}"
        );
        assert_eq!(
            to_json(&[r], 1000)["mutations"][0]["guided_comparison"]["plain"][1],
            serde_json::Value::Null
        );
    }
}
