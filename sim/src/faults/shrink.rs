//! Shrinking a failing fault plan: fewer events, then simpler ones.
//!
//! 1. Delta debugging (Zeller's ddmin) over the events: try the empty plan, then subsets and
//!    complements at growing granularity, until removing any single event makes the failure
//!    vanish.
//! 2. Simplifying each remaining event, one field at a time, greedily: earlier times, `nth`
//!    towards 1, shorter durations, smaller restart delays, rates towards 1.0 or a round
//!    number, smaller delays and counts, smaller partitions, broader-but-simpler targets,
//!    `Caller` for a kill triggered by an effect, lower-numbered workers; then an earlier heal.
//! 3. Repeat while anything changed (a simpler event can make another one redundant).
//! 4. While more than one event is left, try the caller's probes, single canonical faults not
//!    drawn from the plan (see [`shrink_with_probes`]); a failing probe is shrunk the same way
//!    and kept when it ends smaller.
//!
//! Every candidate is a plain `FaultPlan`; a candidate is adopted only when `still_fails` says
//! so, so the result always fails (given that the input does). Candidates already tried are
//! remembered and never re-run. At most `max_runs` calls to `still_fails`; deterministic.

use std::collections::BTreeMap;

use super::generate::last_timed;
use super::{Fault, FaultEvent, FaultPlan, MessageFault, NodeRef, Target, When};

/// What a shrink cost and achieved.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShrinkStats {
    /// Calls to `still_fails`.
    pub runs: usize,
    /// Events in the plan the shrink started from.
    pub original_events: usize,
    /// Events in the plan it ended with.
    pub final_events: usize,
}

/// Shortest duration the shrinker tries (ms).
const MIN_DURATION_MS: u64 = 1;
/// Shortest restart delay the shrinker tries (ms).
const MIN_RESTART_MS: u64 = 10;

struct Oracle<F> {
    still_fails: F,
    max_runs: usize,
    runs: usize,
    /// Plan JSON -> verdict (lookups only).
    seen: BTreeMap<String, bool>,
}

impl<F: FnMut(&FaultPlan) -> bool> Oracle<F> {
    fn exhausted(&self) -> bool {
        self.runs >= self.max_runs
    }

    /// Whether `plan` still fails; `false` without running once the budget is spent.
    fn fails(&mut self, plan: &FaultPlan) -> bool {
        let key = plan.to_json();
        if let Some(v) = self.seen.get(&key) {
            return *v;
        }
        if self.exhausted() {
            return false;
        }
        self.runs += 1;
        let v = (self.still_fails)(plan);
        self.seen.insert(key, v);
        v
    }
}

/// Reduces `plan` to a minimal plan for which `still_fails` is still true. `plan` itself is
/// assumed to fail (it is not re-run); every other plan returned was seen to fail. At most
/// `max_runs` calls to `still_fails`. Deterministic.
pub fn shrink(
    plan: &FaultPlan,
    max_runs: usize,
    still_fails: impl FnMut(&FaultPlan) -> bool,
) -> (FaultPlan, ShrinkStats) {
    shrink_with_probes(plan, &[], max_runs, still_fails)
}

/// [`shrink`], then, while the result has more than one event, `probes`: plans built without
/// looking at `plan` (the caller's canonical faults, such as a crash right after an external
/// effect). Ddmin only removes events, so its result is minimal among the subsets of `plan`;
/// one seed's failure can also follow from a single well-placed fault that `plan` reached
/// through a chain of four. A probe with fewer events than the result that still fails is
/// shrunk in turn and replaces the result when it ends smaller. Same budget, deterministic.
pub fn shrink_with_probes(
    plan: &FaultPlan,
    probes: &[FaultPlan],
    max_runs: usize,
    still_fails: impl FnMut(&FaultPlan) -> bool,
) -> (FaultPlan, ShrinkStats) {
    let mut oracle = Oracle {
        still_fails,
        max_runs,
        runs: 0,
        seen: BTreeMap::new(),
    };
    oracle.seen.insert(plan.to_json(), true);
    let mut best = reduce(plan.clone(), &mut oracle);
    let mut probes: Vec<&FaultPlan> = probes.iter().collect();
    // Smallest first; the sort is stable, so the caller's order breaks ties.
    probes.sort_by_key(|p| p.events.len());
    for probe in probes {
        if probe.events.len() >= best.events.len() || oracle.exhausted() {
            break;
        }
        if oracle.fails(probe) {
            let candidate = reduce(probe.clone(), &mut oracle);
            if candidate.events.len() < best.events.len() {
                best = candidate;
            }
        }
    }
    let stats = ShrinkStats {
        runs: oracle.runs,
        original_events: plan.events.len(),
        final_events: best.events.len(),
    };
    (best, stats)
}

/// Ddmin then simplification, repeated while anything changes.
fn reduce<F: FnMut(&FaultPlan) -> bool>(plan: FaultPlan, oracle: &mut Oracle<F>) -> FaultPlan {
    let mut best = plan;
    loop {
        let before = best.clone();
        best = ddmin(best, oracle);
        best = simplify(best, oracle);
        if best == before || oracle.exhausted() {
            return best;
        }
    }
}

fn with_events(plan: &FaultPlan, events: Vec<FaultEvent>) -> FaultPlan {
    FaultPlan {
        events,
        heal_at_ms: plan.heal_at_ms,
    }
}

/// ddmin over the events of a failing plan.
fn ddmin<F: FnMut(&FaultPlan) -> bool>(plan: FaultPlan, oracle: &mut Oracle<F>) -> FaultPlan {
    if plan.events.is_empty() {
        return plan;
    }
    let empty = with_events(&plan, Vec::new());
    if oracle.fails(&empty) {
        return empty;
    }
    let mut events = plan.events.clone();
    let mut n = 2usize;
    while events.len() >= 2 && !oracle.exhausted() {
        let len = events.len();
        let n_eff = n.min(len);
        let bounds: Vec<(usize, usize)> = (0..n_eff)
            .map(|i| (i * len / n_eff, (i + 1) * len / n_eff))
            .collect();
        let mut reduced = false;
        // Subsets first (a big cut), then complements.
        for &(a, b) in &bounds {
            let subset = events[a..b].to_vec();
            if subset.len() < len && oracle.fails(&with_events(&plan, subset.clone())) {
                events = subset;
                n = 2;
                reduced = true;
                break;
            }
        }
        if !reduced && n_eff > 2 {
            for &(a, b) in &bounds {
                let mut complement = events[..a].to_vec();
                complement.extend_from_slice(&events[b..]);
                if oracle.fails(&with_events(&plan, complement.clone())) {
                    events = complement;
                    n = (n_eff - 1).max(2);
                    reduced = true;
                    break;
                }
            }
        }
        if !reduced {
            if n_eff >= len {
                break;
            }
            n = (n_eff * 2).min(len);
        }
    }
    with_events(&plan, events)
}

/// Candidate values for an integer moving down towards `lo`: `lo` itself, the value rounded to
/// one and two significant digits, and the midpoint. Most aggressive first.
fn smaller(x: u64, lo: u64) -> Vec<u64> {
    if x <= lo {
        return Vec::new();
    }
    let mut out = vec![lo];
    let mut p = 1u64;
    while p.saturating_mul(10) <= x {
        p *= 10;
    }
    for step in [p, (p / 10).max(1)] {
        let r = x / step * step;
        if r > lo && r < x {
            out.push(r);
        }
    }
    let mid = lo + (x - lo) / 2;
    if mid > lo && mid < x {
        out.push(mid);
    }
    out.dedup();
    out
}

/// How simple a rate reads: 1.0, then 0.5, then one decimal, then anything else.
fn rate_rank(r: f64) -> u8 {
    if r == 1.0 {
        0
    } else if r == 0.5 {
        1
    } else if ((r * 10.0).round() / 10.0 - r).abs() < 1e-9 {
        2
    } else {
        3
    }
}

/// Strictly simpler rates, simplest first: 1.0, 0.5, the rate rounded to one decimal (up,
/// then down). Never 0.
fn simpler_rates(r: f64) -> Vec<f64> {
    let mut out: Vec<f64> = Vec::new();
    for c in [
        1.0,
        0.5,
        (r * 10.0).ceil() / 10.0,
        (r * 10.0).floor() / 10.0,
    ] {
        if c > 0.0 && c <= 1.0 && rate_rank(c) < rate_rank(r) && !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

fn worker_number(name: &str) -> Option<u64> {
    name.strip_prefix("worker-")?.parse().ok()
}

/// Lower-numbered workers (`worker-3` -> `worker-1`, `worker-2`).
fn lower_workers(name: &str) -> Vec<String> {
    match worker_number(name) {
        Some(k) => (1..k).map(|i| format!("worker-{i}")).collect(),
        None => Vec::new(),
    }
}

fn simpler_targets(t: &Target) -> Vec<Target> {
    match t {
        // A kind names the step the fault is aimed at: more readable than any wider target.
        Target::All | Target::Message(_) => Vec::new(),
        Target::Node(n) => {
            let mut out = vec![Target::All];
            out.extend(lower_workers(n).into_iter().map(Target::Node));
            out
        }
        Target::Link { from, to } => vec![
            Target::All,
            Target::Node(from.clone()),
            Target::Node(to.clone()),
        ],
    }
}

/// One-step simplifications of a message fault's effect, field by field (duration, then rate
/// or delay bounds or count), each most aggressive first. The target is simplified by the
/// caller, after these.
fn effect_candidates(effect: &MessageFault) -> Vec<Vec<MessageFault>> {
    match *effect {
        MessageFault::Drop { rate, duration_ms }
        | MessageFault::Duplicate { rate, duration_ms } => {
            let make = |rate, duration_ms| match effect {
                MessageFault::Duplicate { .. } => MessageFault::Duplicate { rate, duration_ms },
                _ => MessageFault::Drop { rate, duration_ms },
            };
            vec![
                smaller(duration_ms, MIN_DURATION_MS)
                    .into_iter()
                    .map(|d| make(rate, d))
                    .collect(),
                simpler_rates(rate)
                    .into_iter()
                    .map(|r| make(r, duration_ms))
                    .collect(),
            ]
        }
        MessageFault::Delay {
            min_ms,
            max_ms,
            duration_ms,
        } => {
            let make = |min_ms, max_ms, duration_ms| MessageFault::Delay {
                min_ms,
                max_ms,
                duration_ms,
            };
            vec![
                smaller(duration_ms, MIN_DURATION_MS)
                    .into_iter()
                    .map(|d| make(min_ms, max_ms, d))
                    .collect(),
                smaller(min_ms, 0)
                    .into_iter()
                    .map(|m| make(m, max_ms, duration_ms))
                    .collect(),
                smaller(max_ms, min_ms.max(1))
                    .into_iter()
                    .map(|m| make(min_ms, m, duration_ms))
                    .collect(),
            ]
        }
        MessageFault::DropNext { count } => vec![smaller(u64::from(count), 1)
            .into_iter()
            .map(|c| MessageFault::DropNext { count: c as u32 })
            .collect()],
    }
}

/// One-step simplifications of the `field`-th simplifiable field of an event, most aggressive
/// first; `None` when the event has no such field. The trigger is field 0, then the fault's.
fn field_candidates(ev: &FaultEvent, field: usize) -> Option<Vec<FaultEvent>> {
    if field == 0 {
        let events = when_candidates(&ev.when)
            .into_iter()
            .map(|when| FaultEvent {
                when,
                fault: ev.fault.clone(),
            });
        return Some(events.collect());
    }
    let faults = fault_candidates(&ev.fault, &ev.when)
        .into_iter()
        .nth(field - 1)?;
    let events = faults.into_iter().map(|fault| FaultEvent {
        when: ev.when.clone(),
        fault,
    });
    Some(events.collect())
}

/// Earlier times, or `nth` towards 1.
fn when_candidates(when: &When) -> Vec<When> {
    match when {
        When::At { ms } => smaller(*ms, 0)
            .into_iter()
            .map(|ms| When::At { ms })
            .collect(),
        When::Effect {
            service,
            operation,
            nth,
        } => smaller(u64::from(*nth), 1)
            .into_iter()
            .map(|n| When::Effect {
                service: service.clone(),
                operation: operation.clone(),
                nth: n as u32,
            })
            .collect(),
        When::History { event_type, nth } => smaller(u64::from(*nth), 1)
            .into_iter()
            .map(|n| When::History {
                event_type: event_type.clone(),
                nth: n as u32,
            })
            .collect(),
        When::StoreWrite { nth } => smaller(u64::from(*nth), 1)
            .into_iter()
            .map(|n| When::StoreWrite { nth: n as u32 })
            .collect(),
    }
}

/// Smaller partitions: single-node ones first, then one node fewer.
fn smaller_partitions(nodes: &[String]) -> Vec<Vec<String>> {
    let mut sets: Vec<Vec<String>> = Vec::new();
    if nodes.len() > 1 {
        sets.extend(nodes.iter().map(|n| vec![n.clone()]));
        if nodes.len() > 2 {
            for i in 0..nodes.len() {
                let mut s = nodes.to_vec();
                s.remove(i);
                sets.push(s);
            }
        }
    }
    sets
}

/// Simpler nodes to kill: the caller (for a kill of a worker triggered by an effect), then
/// lower-numbered workers.
fn simpler_kill_targets(node: &NodeRef, when: &When) -> Vec<NodeRef> {
    let mut nodes: Vec<NodeRef> = Vec::new();
    if let NodeRef::Named(n) = node {
        if matches!(when, When::Effect { .. }) && worker_number(n).is_some() {
            nodes.push(NodeRef::Caller);
        }
        nodes.extend(lower_workers(n).into_iter().map(NodeRef::Named));
    }
    nodes
}

/// The fault's simplifiable fields, each as its one-step simplifications (most aggressive
/// first). `when` decides whether a kill may become a kill of the caller.
fn fault_candidates(fault: &Fault, when: &When) -> Vec<Vec<Fault>> {
    match fault {
        Fault::Message { target, effect } => {
            let mut fields: Vec<Vec<Fault>> = effect_candidates(effect)
                .into_iter()
                .map(|effects| {
                    let with_effect = |effect| Fault::Message {
                        target: target.clone(),
                        effect,
                    };
                    effects.into_iter().map(with_effect).collect()
                })
                .collect();
            let with_target = |target| Fault::Message {
                target,
                effect: effect.clone(),
            };
            fields.push(
                simpler_targets(target)
                    .into_iter()
                    .map(with_target)
                    .collect(),
            );
            fields
        }
        Fault::Partition { nodes, duration_ms } => {
            let make = |nodes: &[String], duration_ms| Fault::Partition {
                nodes: nodes.to_vec(),
                duration_ms,
            };
            vec![
                smaller(*duration_ms, MIN_DURATION_MS)
                    .into_iter()
                    .map(|d| make(nodes, d))
                    .collect(),
                smaller_partitions(nodes)
                    .iter()
                    .map(|s| make(s, *duration_ms))
                    .collect(),
            ]
        }
        Fault::OneWayPartition {
            from,
            to,
            duration_ms,
        } => vec![smaller(*duration_ms, MIN_DURATION_MS)
            .into_iter()
            .map(|d| Fault::OneWayPartition {
                from: from.clone(),
                to: to.clone(),
                duration_ms: d,
            })
            .collect()],
        Fault::Kill {
            node,
            restart_after_ms,
        } => {
            let make = |node: NodeRef, restart_after_ms| Fault::Kill {
                node,
                restart_after_ms,
            };
            vec![
                smaller(*restart_after_ms, MIN_RESTART_MS)
                    .into_iter()
                    .map(|r| make(node.clone(), r))
                    .collect(),
                simpler_kill_targets(node, when)
                    .into_iter()
                    .map(|n| make(n, *restart_after_ms))
                    .collect(),
            ]
        }
        Fault::ClockSkew {
            node,
            skew_ms,
            duration_ms,
        } => {
            let make = |node: &str, skew_ms, duration_ms| Fault::ClockSkew {
                node: node.to_string(),
                skew_ms,
                duration_ms,
            };
            let sign = skew_ms.signum();
            vec![
                smaller(skew_ms.unsigned_abs(), 1)
                    .into_iter()
                    .map(|m| make(node, sign * m as i64, *duration_ms))
                    .collect(),
                smaller(*duration_ms, 1)
                    .into_iter()
                    .map(|d| make(node, *skew_ms, d))
                    .collect(),
                lower_workers(node)
                    .iter()
                    .map(|n| make(n, *skew_ms, *duration_ms))
                    .collect(),
            ]
        }
        // Nothing simpler: the workflow it names is what it is about.
        Fault::Terminate { .. } | Fault::Cancel { .. } => Vec::new(),
    }
}

/// Greedy field-by-field simplification of every event, then of the heal time.
fn simplify<F: FnMut(&FaultPlan) -> bool>(
    mut plan: FaultPlan,
    oracle: &mut Oracle<F>,
) -> FaultPlan {
    for i in 0..plan.events.len() {
        let mut field = 0;
        loop {
            if oracle.exhausted() {
                return plan;
            }
            let Some(cands) = field_candidates(&plan.events[i], field) else {
                break;
            };
            let mut adopted = false;
            for c in cands {
                let mut p = plan.clone();
                p.events[i] = c;
                if oracle.fails(&p) {
                    plan = p;
                    adopted = true;
                    break;
                }
            }
            // On progress, try the same field again from its new value.
            if !adopted {
                field += 1;
            }
        }
    }
    loop {
        // The heal may not come before the latest timed event.
        let lo = last_timed(&plan.events);
        let mut adopted = false;
        for h in smaller(plan.heal_at_ms, lo) {
            let p = FaultPlan {
                events: plan.events.clone(),
                heal_at_ms: h,
            };
            if oracle.fails(&p) {
                plan = p;
                adopted = true;
                break;
            }
        }
        if !adopted || oracle.exhausted() {
            return plan;
        }
    }
}

#[cfg(test)]
mod tests;
