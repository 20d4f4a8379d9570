//! The durable store: one atomic write per state transition, durable only once synced.
//!
//! The simulated store lives outside the server node, so it survives a kill; writes not yet
//! synced when the node dies are lost, as on a real disk without fsync. The trait leaves room
//! for a file-backed store.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use super::state::MutableState;
use crate::history::ExecKey;
use crate::history::{EventId, EventType, HistoryEvent};
use crate::lookup::LookupMap;
use crate::record::AckedEvent;

/// A run's key and the events (id, type) a batch appended to its history.
pub type AppendedRun = (ExecKey, Vec<(EventId, EventType)>);

/// One part of an atomic write.
#[derive(Clone, Debug)]
pub enum StoreWrite {
    /// Events appended to a run's history and the run's new mutable state.
    Execution {
        key: ExecKey,
        new_events: Vec<HistoryEvent>,
        state: Box<MutableState>,
    },
    /// The current run of a workflow id.
    CurrentRun { workflow_id: String, run_id: String },
}

/// Everything durable: what the server rebuilds itself from.
#[derive(Clone, Debug, Default)]
pub struct StoreSnapshot {
    pub executions: BTreeMap<ExecKey, (Vec<HistoryEvent>, MutableState)>,
    pub current_runs: BTreeMap<String, String>,
}

/// What is synced, kept for cheap writes: runs in the order they were first written, found by
/// key through a lookup-only index. [`StoreSnapshot`] is its ordered view.
#[derive(Default)]
struct Durable {
    runs: Vec<(ExecKey, Vec<HistoryEvent>, MutableState)>,
    index: LookupMap<ExecKey, usize>,
    current_runs: BTreeMap<String, String>,
}

impl Durable {
    fn apply(&mut self, batch: Vec<StoreWrite>) {
        for w in batch {
            match w {
                StoreWrite::Execution {
                    key,
                    new_events,
                    state,
                } => match self.index.get(&key) {
                    Some(&i) => {
                        let (_, history, ms) = &mut self.runs[i];
                        history.extend(new_events);
                        *ms = *state;
                    }
                    None => {
                        self.index.insert(key.clone(), self.runs.len());
                        self.runs.push((key, new_events, *state));
                    }
                },
                StoreWrite::CurrentRun {
                    workflow_id,
                    run_id,
                } => {
                    self.current_runs.insert(workflow_id, run_id);
                }
            }
        }
    }

    fn snapshot(&self) -> StoreSnapshot {
        StoreSnapshot {
            executions: self
                .runs
                .iter()
                .map(|(k, h, ms)| (k.clone(), (h.clone(), ms.clone())))
                .collect(),
            current_runs: self.current_runs.clone(),
        }
    }
}

/// A durable store.
pub trait Store {
    /// Buffers one atomic batch (not yet durable).
    fn write(&self, batch: Vec<StoreWrite>);
    /// Makes every buffered batch durable.
    fn sync(&self);
    /// After a crash: drops unsynced batches and returns what is durable.
    fn recover(&self) -> StoreSnapshot;
}

#[derive(Default)]
struct SimStoreInner {
    synced: Durable,
    unsynced: Vec<Vec<StoreWrite>>,
    /// Events the server told a client about (acknowledged): they must never be lost.
    /// Per run, so no single vector grows with the whole simulation; read sorted by run.
    acked: LookupMap<ExecKey, Vec<(EventId, EventType)>>,
    batches_written: u64,
    batches_lost: u64,
}

/// The simulated store: shared by the server node (across restarts) and the checkers.
#[derive(Clone, Default)]
pub struct SimStore {
    inner: Arc<Mutex<SimStoreInner>>,
}

impl SimStore {
    pub fn new() -> Self {
        SimStore::default()
    }

    fn lock(&self) -> MutexGuard<'_, SimStoreInner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The durable state (what a checker reads after the run).
    pub fn snapshot(&self) -> StoreSnapshot {
        self.lock().synced.snapshot()
    }

    /// Every synced history, by run, in key order.
    #[cfg(test)]
    pub fn histories(&self) -> BTreeMap<ExecKey, Vec<HistoryEvent>> {
        self.lock()
            .synced
            .runs
            .iter()
            .map(|(k, h, _)| (k.clone(), h.clone()))
            .collect()
    }

    /// Moves every synced history out (after a run, for the outcome).
    pub fn take_histories(&self) -> BTreeMap<ExecKey, Vec<HistoryEvent>> {
        let mut inner = self.lock();
        inner.synced.index.clear();
        std::mem::take(&mut inner.synced.runs)
            .into_iter()
            .map(|(k, h, _)| (k, h))
            .collect()
    }

    /// Drops unsynced writes (a crash of the disk cache). Returns how many batches were lost.
    pub fn lose_unsynced(&self) -> usize {
        let mut inner = self.lock();
        let n = inner.unsynced.len();
        inner.unsynced.clear();
        inner.batches_lost += n as u64;
        n
    }

    /// Records that these appended events were acknowledged to a client.
    pub fn record_acked(&self, appended: &[AppendedRun]) {
        let mut inner = self.lock();
        for (exec, events) in appended {
            match inner.acked.get_mut(exec) {
                Some(acked) => acked.extend_from_slice(events),
                None => {
                    inner.acked.insert(exec.clone(), events.clone());
                }
            }
        }
    }

    /// Every acknowledged event, by run then in acknowledgement order.
    pub fn acked(&self) -> Vec<AckedEvent> {
        let inner = self.lock();
        let mut runs: Vec<_> = inner.acked.iter().collect();
        runs.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let mut out = Vec::with_capacity(runs.iter().map(|(_, e)| e.len()).sum());
        for (exec, events) in runs {
            out.extend(events.iter().map(|(event_id, event_type)| AckedEvent {
                exec: exec.clone(),
                event_id: *event_id,
                event_type: *event_type,
            }));
        }
        out
    }

    pub fn stats(&self) -> (u64, u64) {
        let inner = self.lock();
        (inner.batches_written, inner.batches_lost)
    }
}

impl Store for SimStore {
    fn write(&self, batch: Vec<StoreWrite>) {
        let mut inner = self.lock();
        inner.batches_written += 1;
        inner.unsynced.push(batch);
    }

    fn sync(&self) {
        let mut inner = self.lock();
        let pending = std::mem::take(&mut inner.unsynced);
        for batch in pending {
            inner.synced.apply(batch);
        }
    }

    fn recover(&self) -> StoreSnapshot {
        self.lose_unsynced();
        self.snapshot()
    }
}
