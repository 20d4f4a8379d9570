//! Fault-space coverage: which fault kinds hit which protocol steps, per run and per sweep.
//!
//! A *step* is a message kind on the network (a request or a response: `CompleteActivityTask`,
//! `WorkflowTaskCompleted`, `ServiceCall`...) or a window in a node's work that a crash can
//! cut (the server's writes not yet synced, a worker's workflow task in progress, an activity
//! after it called a service and before its result was acknowledged; a node killed inside no
//! window is a crash of an idle node). A *hit* is a fault
//! applied to a step: a message dropped, duplicated, delayed or lost to a partition; a node
//! killed while it was inside a window. Every step a run exercised is recorded too, so a sweep
//! can name the pairs no seed reached, and the first few times each step happened (a
//! [`Sighting`]: node, peer, virtual time, store write), so a guided search can aim a fault at
//! it.
//!
//! Recorded where the faults are applied (the transport, the supervisor's kills), outside
//! every node; off unless the scenario asks for it (`Scenario::record_coverage`): a sweep
//! without `--coverage` pays one branch per message.
//!
//! Invariants: iteration is in key order (ordered maps); a window is entered and left in
//! pairs (`PhaseGuard`), and a crash reads the windows open at the moment of the kill.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};

/// How a fault hit a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FaultKind {
    /// The message was lost (a drop rule).
    Drop,
    /// The message was delivered more than once.
    Duplicate,
    /// The message was held back (a delay rule: it may arrive after later ones).
    Delay,
    /// The message was lost to a partition (a clogged link).
    Partition,
    /// The node was killed inside the window.
    Crash,
}

impl FaultKind {
    /// The fault kinds that can hit `step`.
    pub fn applicable(step: &Step) -> &'static [FaultKind] {
        match step {
            Step::Message(_) => &[
                FaultKind::Drop,
                FaultKind::Duplicate,
                FaultKind::Delay,
                FaultKind::Partition,
            ],
            Step::Window { .. } => &[FaultKind::Crash],
        }
    }

    fn name(self) -> &'static str {
        match self {
            FaultKind::Drop => "drop",
            FaultKind::Duplicate => "duplicate",
            FaultKind::Delay => "delay",
            FaultKind::Partition => "partition",
            FaultKind::Crash => "crash",
        }
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

/// A protocol step a fault can hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Step {
    /// A message of this kind on the network.
    Message(&'static str),
    /// A window in a node's work that a crash can cut.
    Window {
        /// The node's role: server, worker, service, client.
        role: &'static str,
        /// What is in progress.
        what: &'static str,
        /// The request kind the work belongs to (empty when none).
        of: &'static str,
    },
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Message(kind) => write!(f, "message {kind}"),
            Step::Window { role, what, of: "" } => write!(f, "{role}: {what}"),
            Step::Window { role, what, of } => write!(f, "{role}: {what} ({of})"),
        }
    }
}

/// The windows a server, worker or service passes through.
pub mod windows {
    use super::Step;

    /// The server wrote a request's changes and has not synced them: a crash loses them.
    pub fn server_unsynced(of: &'static str) -> Step {
        Step::Window {
            role: "server",
            what: "write not synced",
            of,
        }
    }

    /// A worker took a workflow task and has not had its completion answered.
    pub const WORKFLOW_TASK: Step = Step::Window {
        role: "worker",
        what: "workflow task in progress",
        of: "",
    };

    /// A worker runs an activity attempt that has called no service yet.
    pub const ACTIVITY_BEFORE_CALL: Step = Step::Window {
        role: "worker",
        what: "activity running, no service called",
        of: "",
    };

    /// A worker's activity attempt called a service (its effect may be applied) and its result
    /// is not acknowledged by the server yet: the window exactly-once lives in.
    pub const ACTIVITY_AFTER_CALL: Step = Step::Window {
        role: "worker",
        what: "activity after a service call, result not acknowledged",
        of: "",
    };

    /// A node killed while inside no window (the crash cut no work in progress).
    pub fn idle(role: &'static str) -> Step {
        Step::Window {
            role,
            what: "idle",
            of: "",
        }
    }
}

/// Where and when a run exercised a step: what a guided search needs to aim a fault at it
/// (`sim run --guided`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sighting {
    /// Virtual time since the run started (microseconds) when the message was sent or the
    /// window entered.
    pub at_us: u64,
    /// When the window was left or cut (the same as `at_us` for a message).
    pub until_us: u64,
    /// The node that sent the message, or that was inside the window.
    pub node: String,
    /// The node the message went to (empty for a window).
    pub peer: String,
    /// For a server's unsynced write: which store write of the run it was, 1-based, as
    /// `When::StoreWrite` counts them (0 otherwise).
    pub store_write: u32,
}

/// Sightings a run keeps per step (the first ones).
pub const SIGHTINGS_PER_STEP: usize = 8;

/// What one run recorded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CoverageRecord {
    /// Every step the run exercised, with how often.
    pub seen: BTreeMap<Step, u64>,
    /// Every fault/step pair the run hit, with how often.
    pub hits: BTreeMap<(FaultKind, Step), u64>,
    /// The first [`SIGHTINGS_PER_STEP`] times each step was exercised.
    pub sightings: BTreeMap<Step, Vec<Sighting>>,
}

#[derive(Default)]
struct Inner {
    record: CoverageRecord,
    /// Open windows by node name, with how many are open of each.
    open: BTreeMap<String, BTreeMap<Step, u32>>,
    /// Links a partition clogs now, as (from, to).
    clogged: BTreeSet<(IpAddr, IpAddr)>,
    /// The run's clock (none in unit tests: sightings at time 0).
    clock: Option<crate::clock::SimClock>,
    /// Node names by address, for sightings of messages.
    names: BTreeMap<IpAddr, String>,
    /// Store writes so far.
    store_writes: u32,
    /// Sightings of windows still open, by node and window (indices into `sightings`).
    open_sightings: BTreeMap<(String, Step), Vec<usize>>,
}

impl Inner {
    fn now_us(&self) -> u64 {
        self.clock
            .map(|c| c.elapsed().as_micros() as u64)
            .unwrap_or(0)
    }

    /// Records a sighting of `step` if it is among the step's first ones; returns its index.
    fn sight(&mut self, step: Step, node: String, peer: String) -> Option<usize> {
        let at_us = self.now_us();
        let store_write = match step {
            Step::Window { role: "server", .. } => self.store_writes,
            _ => 0,
        };
        let list = self.record.sightings.entry(step).or_default();
        if list.len() >= SIGHTINGS_PER_STEP {
            return None;
        }
        list.push(Sighting {
            at_us,
            until_us: at_us,
            node,
            peer,
            store_write,
        });
        Some(list.len() - 1)
    }

    /// The window sighting `i` of `step` ends now.
    fn close_sighting(&mut self, step: Step, i: usize) {
        let now = self.now_us();
        if let Some(s) = self
            .record
            .sightings
            .get_mut(&step)
            .and_then(|l| l.get_mut(i))
        {
            s.until_us = now;
        }
    }
}

/// The recorder every node shares (outside the nodes); `CoverageLog::default()` records
/// nothing.
#[derive(Clone, Default)]
pub struct CoverageLog {
    inner: Option<Arc<Mutex<Inner>>>,
}

impl CoverageLog {
    /// A recorder that records.
    pub fn enabled() -> Self {
        CoverageLog {
            inner: Some(Arc::default()),
        }
    }

    /// A recorder that records, with sighting times read from the run's clock.
    pub fn enabled_with_clock(clock: crate::clock::SimClock) -> Self {
        let log = CoverageLog::enabled();
        if let Some(mut g) = log.lock() {
            g.clock = Some(clock);
        }
        log
    }

    /// Names the node at `ip` (for sightings of its messages).
    pub fn name_node(&self, ip: IpAddr, name: &str) {
        if let Some(mut g) = self.lock() {
            g.names.insert(ip, name.to_string());
        }
    }

    /// The server wrote a batch (not yet synced): windows it enters next belong to it.
    pub fn store_write(&self) {
        if let Some(mut g) = self.lock() {
            g.store_writes += 1;
        }
    }

    /// Whether this recorder records.
    pub fn is_enabled(&self) -> bool {
        self.inner.is_some()
    }

    fn lock(&self) -> Option<MutexGuard<'_, Inner>> {
        self.inner
            .as_ref()
            .map(|m| m.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// A message of `kind` from `from` to `to` went to the network with `copies` copies (0:
    /// dropped) after an extra delay `delayed`.
    pub fn message(&self, from: IpAddr, to: IpAddr, kind: &'static str, copies: u8, delayed: bool) {
        let Some(mut g) = self.lock() else {
            return;
        };
        let step = Step::Message(kind);
        let seen = g.record.seen.entry(step).or_default();
        *seen += 1;
        if *seen as usize <= SIGHTINGS_PER_STEP {
            let name = |g: &Inner, ip: IpAddr| g.names.get(&ip).cloned().unwrap_or_default();
            let (node, peer) = (name(&g, from), name(&g, to));
            g.sight(step, node, peer);
        }
        let partitioned = g.clogged.contains(&(from, to));
        let mut hit = |k: FaultKind| *g.record.hits.entry((k, step)).or_default() += 1;
        if copies == 0 {
            hit(FaultKind::Drop);
        }
        if copies > 1 {
            hit(FaultKind::Duplicate);
        }
        if delayed && copies > 0 {
            hit(FaultKind::Delay);
        }
        if partitioned && copies > 0 {
            hit(FaultKind::Partition);
        }
    }

    /// A partition clogs the link `from` -> `to`.
    pub fn clog(&self, from: IpAddr, to: IpAddr) {
        if let Some(mut g) = self.lock() {
            g.clogged.insert((from, to));
        }
    }

    /// The link `from` -> `to` works again.
    pub fn unclog(&self, from: IpAddr, to: IpAddr) {
        if let Some(mut g) = self.lock() {
            g.clogged.remove(&(from, to));
        }
    }

    /// `node` enters `window` until the guard drops.
    pub fn enter(&self, node: &str, window: Step) -> PhaseGuard {
        let Some(mut g) = self.lock() else {
            return PhaseGuard { open: None };
        };
        *g.record.seen.entry(window).or_default() += 1;
        if let Some(i) = g.sight(window, node.to_string(), String::new()) {
            g.open_sightings
                .entry((node.to_string(), window))
                .or_default()
                .push(i);
        }
        *g.open
            .entry(node.to_string())
            .or_default()
            .entry(window)
            .or_default() += 1;
        PhaseGuard {
            open: Some((self.clone(), node.to_string(), window)),
        }
    }

    fn leave(&self, node: &str, window: Step) {
        let Some(mut g) = self.lock() else {
            return;
        };
        let key = (node.to_string(), window);
        if let Some(i) = g.open_sightings.get_mut(&key).and_then(Vec::pop) {
            g.close_sighting(window, i);
        }
        if let Some(open) = g.open.get_mut(node) {
            if let Some(n) = open.get_mut(&window) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    open.remove(&window);
                }
            }
        }
    }

    /// `node` is killed now: every window it has open is hit by a crash (and closed: the
    /// process that held it is gone); with none open, the crash hit an idle node.
    pub fn crash(&self, node: &str) {
        let Some(mut g) = self.lock() else {
            return;
        };
        let open = g.open.remove(node).unwrap_or_default();
        let cut: Vec<(String, Step)> = g
            .open_sightings
            .keys()
            .filter(|(n, _)| n == node)
            .cloned()
            .collect();
        for key in cut {
            for i in g.open_sightings.remove(&key).unwrap_or_default() {
                g.close_sighting(key.1, i);
            }
        }
        if open.is_empty() {
            let idle = windows::idle(role_of(node));
            *g.record.seen.entry(idle).or_default() += 1;
            *g.record.hits.entry((FaultKind::Crash, idle)).or_default() += 1;
        }
        for window in open.into_keys() {
            *g.record.hits.entry((FaultKind::Crash, window)).or_default() += 1;
        }
    }

    /// What the run recorded (`None` when not recording).
    pub fn snapshot(&self) -> Option<CoverageRecord> {
        self.lock().map(|g| g.record.clone())
    }
}

/// The role of a node by its name (`server`, `worker-2`, a service's name).
fn role_of(node: &str) -> &'static str {
    if node == "server" {
        "server"
    } else if node.starts_with("worker") {
        "worker"
    } else if node == "client" {
        "client"
    } else {
        "service"
    }
}

/// An open window; leaving it is dropping the guard (a no-op when not recording).
pub struct PhaseGuard {
    open: Option<(CoverageLog, String, Step)>,
}

impl PhaseGuard {
    /// A guard that holds no window.
    pub fn none() -> Self {
        PhaseGuard { open: None }
    }
}

impl Drop for PhaseGuard {
    fn drop(&mut self) {
        if let Some((log, node, window)) = self.open.take() {
            log.leave(&node, window);
        }
    }
}

/// How often a fault/step pair was hit over a sweep.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PairStats {
    /// Seeds in which it was hit at least once.
    pub seeds: u64,
    /// Times it was hit, over all seeds.
    pub hits: u64,
}

/// Fault-space coverage of a sweep: the records of its seeds merged.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CoverageReport {
    /// Seeds merged.
    pub seeds: u64,
    /// Steps exercised, with the number of seeds that exercised each.
    pub steps: BTreeMap<Step, u64>,
    /// Fault/step pairs hit.
    pub pairs: BTreeMap<(FaultKind, Step), PairStats>,
}

impl CoverageReport {
    /// Adds one seed's record.
    pub fn merge(&mut self, r: &CoverageRecord) {
        self.seeds += 1;
        for step in r.seen.keys() {
            *self.steps.entry(*step).or_default() += 1;
        }
        for (pair, n) in &r.hits {
            let s = self.pairs.entry(*pair).or_default();
            s.seeds += 1;
            s.hits += n;
        }
    }

    /// The pairs of an exercised step and a fault kind that can hit it that no seed reached.
    pub fn unreached(&self) -> Vec<(FaultKind, Step)> {
        let mut out = Vec::new();
        for step in self.steps.keys() {
            for kind in FaultKind::applicable(step) {
                if !self.pairs.contains_key(&(*kind, *step)) {
                    out.push((*kind, *step));
                }
            }
        }
        out
    }

    /// Pairs that can be hit (an exercised step and an applicable fault kind).
    pub fn possible(&self) -> usize {
        self.steps
            .keys()
            .map(|s| FaultKind::applicable(s).len())
            .sum()
    }

    /// The report for people: reached pairs with their seeds and hits, then those not reached.
    pub fn render(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "fault-space coverage over {} seed(s): {} of {} fault/step pairs reached",
            self.seeds,
            self.pairs.len(),
            self.possible()
        );
        for ((kind, step), st) in &self.pairs {
            let _ = writeln!(
                s,
                "  {kind:<9} x {step}: {} seed(s), {} hit(s)",
                st.seeds, st.hits
            );
        }
        let missing = self.unreached();
        if !missing.is_empty() {
            let _ = writeln!(s, "  not reached by any seed:");
            for (kind, step) in missing {
                let _ = writeln!(s, "    {kind:<9} x {step}");
            }
        }
        s
    }

    /// The report as JSON: `{seeds, possible, reached: [{fault, step, seeds, hits}],
    /// unreached: [{fault, step}]}`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "seeds": self.seeds,
            "possible": self.possible(),
            "reached": self.pairs.iter().map(|((kind, step), st)| serde_json::json!({
                "fault": kind.to_string(),
                "step": step.to_string(),
                "seeds": st.seeds,
                "hits": st.hits,
            })).collect::<Vec<_>>(),
            "unreached": self.unreached().into_iter().map(|(kind, step)| serde_json::json!({
                "fault": kind.to_string(),
                "step": step.to_string(),
            })).collect::<Vec<_>>(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 1, 1));

    #[test]
    fn messages_and_windows_are_recorded_with_the_faults_that_hit_them() {
        let log = CoverageLog::enabled();
        log.message(A, B, "Signal", 1, false);
        log.message(A, B, "Signal", 0, false);
        log.message(A, B, "CompleteActivityTask", 2, true);
        log.clog(A, B);
        log.message(A, B, "Signal", 1, false);
        log.unclog(A, B);
        log.message(A, B, "Signal", 1, false);
        let held = log.enter("worker-1", windows::ACTIVITY_AFTER_CALL);
        {
            let _left = log.enter("worker-1", windows::WORKFLOW_TASK);
        }
        log.crash("worker-1");
        drop(held);
        log.crash("worker-1");
        log.crash("bank");
        let r = log.snapshot().unwrap();
        let hit = |k, s| r.hits.get(&(k, s)).copied();
        assert_eq!(r.seen.get(&Step::Message("Signal")), Some(&4));
        assert_eq!(hit(FaultKind::Drop, Step::Message("Signal")), Some(1));
        assert_eq!(hit(FaultKind::Partition, Step::Message("Signal")), Some(1));
        let complete = Step::Message("CompleteActivityTask");
        assert_eq!(hit(FaultKind::Duplicate, complete), Some(1));
        assert_eq!(hit(FaultKind::Delay, complete), Some(1));
        assert_eq!(
            hit(FaultKind::Crash, windows::ACTIVITY_AFTER_CALL),
            Some(1),
            "the second crash finds the window closed"
        );
        assert_eq!(hit(FaultKind::Crash, windows::idle("worker")), Some(1));
        assert_eq!(hit(FaultKind::Crash, windows::idle("service")), Some(1));
        assert_eq!(hit(FaultKind::Crash, windows::WORKFLOW_TASK), None);
        let mut report = CoverageReport::default();
        report.merge(&r);
        report.merge(&CoverageRecord::default());
        assert_eq!(report.seeds, 2);
        let unreached = report.unreached();
        assert!(unreached.contains(&(FaultKind::Crash, windows::WORKFLOW_TASK)));
        assert!(unreached.contains(&(FaultKind::Delay, Step::Message("Signal"))));
        assert!(!unreached.contains(&(FaultKind::Drop, Step::Message("Signal"))));
        assert_eq!(report.possible(), 4 + 4 + 1 + 1 + 1 + 1);
        assert!(report
            .render()
            .contains("crash     x worker: workflow task in progress"));
    }

    #[test]
    fn sightings_name_the_nodes_the_store_write_and_the_window_s_span() {
        let log = CoverageLog::enabled();
        log.name_node(A, "worker-1");
        log.name_node(B, "server");
        for _ in 0..SIGHTINGS_PER_STEP + 3 {
            log.message(A, B, "CompleteActivityTask", 1, false);
        }
        log.store_write();
        log.store_write();
        let unsynced = windows::server_unsynced("CompleteActivityTask");
        drop(log.enter("server", unsynced));
        let _held = log.enter("worker-1", windows::WORKFLOW_TASK);
        log.crash("worker-1");
        let r = log.snapshot().unwrap();
        let sent = &r.sightings[&Step::Message("CompleteActivityTask")];
        assert_eq!(sent.len(), SIGHTINGS_PER_STEP, "the first ones only");
        assert_eq!(
            (sent[0].node.as_str(), sent[0].peer.as_str()),
            ("worker-1", "server")
        );
        let write = &r.sightings[&unsynced][0];
        assert_eq!((write.node.as_str(), write.store_write), ("server", 2));
        let task = &r.sightings[&windows::WORKFLOW_TASK];
        assert_eq!(task.len(), 1);
        assert_eq!(
            task[0].store_write, 0,
            "a worker's window is no store write"
        );
    }

    #[test]
    fn a_disabled_log_records_nothing() {
        let log = CoverageLog::default();
        log.message(A, B, "Signal", 0, false);
        let _g = log.enter("worker-1", windows::WORKFLOW_TASK);
        log.crash("worker-1");
        assert_eq!(log.snapshot(), None);
    }
}
