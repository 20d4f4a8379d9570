//! Runs: Temporal's workflow executions as the history service holds them (a history and its
//! mutable state), the interned handle (`RunIdx`) every internal index is keyed by, and the
//! derived indexes: a run's ready tasks in the task queues and its earliest deadline.
//!
//! Invariants:
//! - a run is never removed or overwritten, so a `RunIdx` stays valid for the engine's life;
//! - a request's `ExecKey` (or workflow id) is resolved to a `RunIdx` once, where it enters;
//!   `Runs::by_key` and `Engine::current_run` are look-up maps, never iterated;
//! - a run's index entries are exactly what `index_entries` derives from its mutable state at
//!   the time of its last `reindex`: they are never durable and are rebuilt on recovery.

use std::ops::{Index, IndexMut};

use super::core::{Engine, ReplyHandle};
use super::matching::{QueueEntry, TaskKind};
use super::state::{MutableState, STICKY_SCHEDULE_TO_START};
use crate::history::{ExecKey, HistoryEvent, TaskQueueKind, Timestamp};
use crate::lookup::LookupMap;
use crate::rng::splitmix64;

/// A run's history and mutable state.
#[derive(Clone, Debug)]
pub struct Execution {
    pub history: Vec<HistoryEvent>,
    pub ms: MutableState,
}

/// A run's handle inside the engine: its position in `Runs`. Handed out when a run is created,
/// or rebuilt by `Engine::recover`; runs are never removed, so a handle stays valid for the
/// engine's life. Comparing two handles is one integer comparison and copying one allocates
/// nothing, which is why every internal index is keyed by it rather than by `ExecKey`.
///
/// Handles are in creation order (after a recovery: key order). That is also the tie order of
/// index entries due at the same time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct RunIdx(u32);

/// A run's entries in the task queues and the deadline index, so that reindexing removes
/// exactly what was added.
#[derive(Clone, Debug, Default)]
pub(super) struct Indexed {
    /// The run's ready tasks, each with the name of its queue.
    pub(super) queue_entries: Vec<(String, QueueEntry)>,
    /// The earliest time at which `Engine::tick` has something to do for the run.
    pub(super) deadline: Option<Timestamp>,
}

/// One run as the engine holds it: its key, its history and state, and its index entries.
pub(super) struct Run {
    pub(super) key: ExecKey,
    pub(super) exec: Execution,
    pub(super) indexed: Indexed,
}

/// Every run the engine knows, by handle and by key.
///
/// Invariant: `by_key` maps each run's key to its handle, and holds nothing else. It is for
/// look-ups only (see `crate::lookup`); key order comes from sorting.
#[derive(Default)]
pub(super) struct Runs {
    runs: Vec<Run>,
    by_key: LookupMap<ExecKey, RunIdx>,
}

impl Runs {
    /// Adds a run under a key no run has, and hands out its handle.
    pub(super) fn insert(&mut self, key: ExecKey, exec: Execution) -> RunIdx {
        let run = RunIdx(u32::try_from(self.runs.len()).expect("fewer than 2^32 runs"));
        let previous = self.by_key.insert(key.clone(), run);
        assert!(previous.is_none(), "a run is never overwritten: {key}");
        self.runs.push(Run {
            key,
            exec,
            indexed: Indexed::default(),
        });
        run
    }

    pub(super) fn get(&self, key: &ExecKey) -> Option<RunIdx> {
        self.by_key.get(key).copied()
    }

    pub(super) fn contains(&self, key: &ExecKey) -> bool {
        self.by_key.contains_key(key)
    }

    /// Every run, in key order.
    #[cfg(test)]
    pub(super) fn by_key(&self) -> impl Iterator<Item = (&ExecKey, &Execution)> {
        let mut runs: Vec<&Run> = self.runs.iter().collect();
        runs.sort_unstable_by(|a, b| a.key.cmp(&b.key));
        runs.into_iter().map(|run| (&run.key, &run.exec))
    }

    /// Every handle, in creation order.
    pub(super) fn handles(&self) -> impl Iterator<Item = RunIdx> {
        (0..self.runs.len() as u32).map(RunIdx)
    }
}

impl Index<RunIdx> for Runs {
    type Output = Run;

    fn index(&self, run: RunIdx) -> &Run {
        &self.runs[run.0 as usize]
    }
}

impl IndexMut<RunIdx> for Runs {
    fn index_mut(&mut self, run: RunIdx) -> &mut Run {
        &mut self.runs[run.0 as usize]
    }
}

impl<R: ReplyHandle> Engine<R> {
    pub(super) fn ms(&self, run: RunIdx) -> &MutableState {
        &self.runs[run].exec.ms
    }

    pub(super) fn ms_mut(&mut self, run: RunIdx) -> &mut MutableState {
        &mut self.runs[run].exec.ms
    }

    /// The run a client request names: the given run of a workflow id, or its current run.
    pub(super) fn resolve(&self, workflow_id: &str, run_id: Option<&str>) -> Option<RunIdx> {
        match run_id {
            Some(run_id) if !run_id.is_empty() => self.runs.get(&ExecKey {
                workflow_id: workflow_id.to_string(),
                run_id: run_id.to_string(),
            }),
            _ => self.current_run.get(workflow_id).copied(),
        }
    }

    /// A fresh UUID-shaped id (run ids, request ids) from the engine's seeded sequence.
    pub(super) fn new_uuid(&mut self) -> String {
        let a = splitmix64(&mut self.rng);
        let b = splitmix64(&mut self.rng);
        uuid_text(a, b)
    }

    /// A run id no run of `workflow_id` has (a run is never overwritten by a new one).
    pub(super) fn new_run_id(&mut self, workflow_id: &str) -> String {
        let mut key = ExecKey {
            workflow_id: workflow_id.to_string(),
            run_id: String::new(),
        };
        loop {
            key.run_id = self.new_uuid();
            if !self.runs.contains(&key) {
                return key.run_id;
            }
        }
    }

    /// Replaces a run's entries in the task queues and the deadline index with what its
    /// mutable state says at `now`.
    pub(super) fn reindex(&mut self, run: RunIdx, now: Timestamp) {
        self.unindex(run);
        let indexed = index_entries(run, self.ms(run), now);
        for (queue, entry) in &indexed.queue_entries {
            let queue = (entry.kind.poll_kind(), queue.clone());
            self.queues.entry(queue).or_default().insert(*entry);
        }
        if let Some(d) = indexed.deadline {
            self.deadlines.insert((d, run));
        }
        self.runs[run].indexed = indexed;
    }

    /// Removes a run's entries from the task queues and the deadline index.
    fn unindex(&mut self, run: RunIdx) {
        let old = std::mem::take(&mut self.runs[run].indexed);
        for (queue, entry) in old.queue_entries {
            let queue = (entry.kind.poll_kind(), queue);
            if let Some(set) = self.queues.get_mut(&queue) {
                set.remove(&entry);
                if set.is_empty() {
                    self.queues.remove(&queue);
                }
            }
        }
        if let Some(d) = old.deadline {
            self.deadlines.remove(&(d, run));
        }
    }
}

/// A run's index entries, as its mutable state says at `now`: each task ready to dispatch is
/// queued (a task in retry backoff waits on a deadline instead), and the deadline is the
/// earliest of its timeouts, timers and backoffs. A closed run has none.
fn index_entries(run: RunIdx, ms: &MutableState, now: Timestamp) -> Indexed {
    if !ms.is_open() {
        return Indexed::default();
    }
    let mut queue_entries = Vec::new();
    let mut deadline: Option<Timestamp> = None;
    let mut consider = |t: Option<Timestamp>| {
        if let Some(t) = t {
            deadline = Some(deadline.map_or(t, |d| d.min(t)));
        }
    };
    if let Some(wft) = &ms.wft {
        match &wft.started {
            Some(s) => consider(Some(s.time.plus(ms.workflow_task_timeout))),
            None => {
                if wft.ready_at > now {
                    consider(Some(wft.ready_at));
                } else {
                    queue_entries.push((
                        wft.task_queue.name.clone(),
                        QueueEntry {
                            ready: wft.ready_at,
                            run,
                            kind: TaskKind::Workflow,
                        },
                    ));
                }
                if wft.task_queue.kind == TaskQueueKind::Sticky {
                    consider(Some(wft.scheduled_time.plus(STICKY_SCHEDULE_TO_START)));
                }
            }
        }
    }
    for (id, a) in &ms.activities {
        consider(a.schedule_to_close_deadline());
        consider(a.schedule_to_start_deadline());
        consider(a.start_to_close_deadline());
        consider(a.heartbeat_deadline());
        if a.started.is_none() && a.cancel_requested_event_id == 0 {
            if a.attempt_ready_at > now {
                consider(Some(a.attempt_ready_at));
            } else {
                queue_entries.push((
                    a.task_queue.clone(),
                    QueueEntry {
                        ready: a.attempt_ready_at,
                        run,
                        kind: TaskKind::Activity(*id),
                    },
                ));
            }
        }
    }
    for t in ms.timers.values() {
        consider(Some(t.fire_at));
    }
    consider(ms.run_expiration_time);
    consider(ms.execution_expiration_time);
    Indexed {
        queue_entries,
        deadline,
    }
}

/// `8-4-4-4-12` lower-case hex of a version-4, variant-1 UUID made of `a` and `b` (as
/// `format!("{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}", ..)` writes it, without the formatting
/// machinery: an id is made for every task handed out).
fn uuid_text(a: u64, b: u64) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    // (value, hex digits) per group, dashes between them.
    let groups = [
        (a >> 32, 8),
        ((a >> 16) & 0xffff, 4),
        (0x4000 | (a & 0xfff), 4),
        (((b >> 48) & 0x3fff) | 0x8000, 4),
        (b & 0xffff_ffff_ffff, 12),
    ];
    let mut out = String::with_capacity(36);
    for (i, (value, digits)) in groups.into_iter().enumerate() {
        if i > 0 {
            out.push('-');
        }
        for d in (0..digits).rev() {
            out.push(char::from(HEX[((value >> (4 * d)) & 0xf) as usize]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::uuid_text;

    #[test]
    fn uuid_text_writes_what_format_writes() {
        let mut state = 7u64;
        for _ in 0..1000 {
            let a = crate::rng::splitmix64(&mut state);
            let b = crate::rng::splitmix64(&mut state);
            let want = format!(
                "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
                a >> 32,
                (a >> 16) & 0xffff,
                a & 0xfff,
                ((b >> 48) & 0x3fff) | 0x8000,
                b & 0xffff_ffff_ffff
            );
            assert_eq!(uuid_text(a, b), want);
        }
        assert_eq!(uuid_text(0, 0), "00000000-0000-4000-8000-000000000000");
    }
}
