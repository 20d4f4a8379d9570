//! The engine's step function: requests and the passage of time in, history events, mutable
//! state and responses out. This file holds the `Engine` itself, its configuration, and the
//! bookkeeping every step shares; the Temporal concepts live in the files beside it (see the map
//! in `engine/mod.rs`).
//!
//! Invariants:
//! - no I/O and no clock: `now` is passed in, and steps never go back in time;
//! - every change to a run is one `StoreWrite` (events appended + the new mutable state), handed
//!   to the caller to make durable before any response of the same step leaves;
//! - a step starts with nothing touched and ends (`finish_step`) with every touched run checked
//!   (`assert_run_consistent`): indexes agree with state, a closed run has no pending work, and
//!   every dispatched task's run is written in the step that hands it out;
//! - all iterated state is in `BTreeMap`/`BTreeSet`/`Vec`: no hash order anywhere.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

use super::matching::{ParkedPoll, PollKind, QueueEntry};
use super::queries::PendingQuery;
use super::runs::{Execution, Run, RunIdx, Runs};
use super::store::{StoreSnapshot, StoreWrite};
use super::updates::UpdateWaiter;
use crate::history::{EventType, ExecKey, Timestamp};
use crate::lookup::LookupMap;
use crate::rng::splitmix64;
use crate::wire::{Request, Response, ServerError};

/// Deliberate defects, for proving that the harness catches them. All off by default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Defects {
    /// Accept an activity completion whose attempt is stale or already timed out.
    pub accept_stale_activity_completion: bool,
    /// Reply to requests before their store write is synced.
    pub reply_before_sync: bool,
    /// Forget an update once it is accepted: a retried request with its id is admitted (and
    /// run) again.
    pub readmit_accepted_updates: bool,
}

/// Limits (Temporal's defaults).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest payload a command may carry; a bigger one fails the workflow task.
    pub payload_error_bytes: usize,
    /// Events after which the server terminates the run.
    pub history_max_events: usize,
    /// Activities a run may have scheduled and not closed at once.
    pub pending_activities: usize,
    /// Timers a run may have started and not fired or cancelled at once.
    pub pending_timers: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            payload_error_bytes: 2 * 1024 * 1024,
            history_max_events: 51_200,
            pending_activities: 2_000,
            pending_timers: 2_000,
        }
    }
}

/// How the server behaves: its name, defaults, limits and (for tests of the harness) planted
/// defects.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// The identity the server writes into the events it produces itself.
    pub identity: String,
    /// Start-to-close timeout of workflow tasks when the start does not set one.
    pub default_workflow_task_timeout: Duration,
    /// Longest a poll is held. Workers and clients ask for a year (`transport::LONG_POLL_WAIT`)
    /// and are answered when work arrives: a quiet month of virtual time costs no message.
    pub max_long_poll: Duration,
    /// Size and count limits (Temporal's defaults).
    pub limits: Limits,
    /// Honour a ScheduleActivityTask's `request_eager_execution` (Temporal's
    /// `system.enableActivityEagerExecution`, on in the dev server and test servers the SDKs
    /// start): the first attempt starts with the workflow task's completion and goes back to the
    /// completing worker in its reply, bypassing the task queue.
    pub activity_eager_execution: bool,
    /// Deliberate defects, all off by default.
    pub defects: Defects,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            identity: "durasim-server".to_string(),
            default_workflow_task_timeout: Duration::from_secs(10),
            max_long_poll: crate::transport::LONG_POLL_WAIT,
            limits: Limits::default(),
            activity_eager_execution: true,
            defects: Defects::default(),
        }
    }
}

/// Where a response goes. The engine is generic over it and never looks inside: it keeps the
/// handle a request came with (parked with a long poll, for instance) and hands it back with the
/// response. The server node uses the transport's address; tests use plain numbers.
pub trait ReplyHandle: Copy + Eq + std::fmt::Debug {}

impl<T: Copy + Eq + std::fmt::Debug> ReplyHandle for T {}

/// What one step of the engine produced.
#[derive(Debug)]
pub struct Step<R> {
    /// Durable changes: write and sync these before sending `replies`.
    pub writes: Vec<StoreWrite>,
    /// Responses, each with the handle its request came with.
    pub replies: Vec<(R, Response)>,
}

impl<R> Default for Step<R> {
    fn default() -> Self {
        Step {
            writes: Vec::new(),
            replies: Vec::new(),
        }
    }
}

/// The server state machine, generic over the handle `R` its responses go to.
pub struct Engine<R> {
    pub(super) cfg: EngineConfig,
    pub(super) runs: Runs,
    /// The current run of each workflow id.
    pub(super) current_run: LookupMap<String, RunIdx>,
    /// Ready tasks per (kind, queue name), oldest first.
    pub(super) queues: BTreeMap<(PollKind, String), BTreeSet<QueueEntry>>,
    /// Every run's earliest deadline (`Indexed::deadline`), soonest first.
    pub(super) deadlines: BTreeSet<(Timestamp, RunIdx)>,
    pub(super) pollers: BTreeMap<(PollKind, String), VecDeque<ParkedPoll<R>>>,
    pub(super) history_waiters: BTreeMap<RunIdx, Vec<(R, Timestamp)>>,
    /// Deadlines of `history_waiters` (entries may outlive their waiter: checked lazily).
    pub(super) waiter_deadlines: BTreeSet<(Timestamp, RunIdx)>,
    /// Clients waiting for an update to reach a stage (`updates.rs`), by run.
    pub(super) update_waiters: BTreeMap<RunIdx, Vec<UpdateWaiter<R>>>,
    /// Deadlines of `update_waiters` (checked lazily, as `waiter_deadlines`).
    pub(super) update_deadlines: BTreeSet<(Timestamp, RunIdx)>,
    /// Updates rejected in this step, for their waiting clients (run, update id, why).
    pub(super) rejections: Vec<(RunIdx, String, crate::history::Failure)>,
    /// Queries waiting for a worker's answer, by id (`queries.rs`); never durable.
    pub(super) queries: BTreeMap<u64, PendingQuery<R>>,
    pub(super) next_query_id: u64,
    /// Deadlines of `queries`.
    pub(super) query_deadlines: BTreeSet<(Timestamp, u64)>,
    /// Replies to parked requests made in this step (sent with the step's other replies).
    pub(super) pending_replies: Vec<(R, Response)>,
    /// History length per touched run before this step (for building writes).
    pub(super) dirty: BTreeMap<RunIdx, usize>,
    pub(super) dirty_current: BTreeSet<String>,
    /// The time of the latest step: a step never goes back in time.
    pub(super) step_time: Timestamp,
    pub(super) rng: u64,
}

pub(super) fn error(e: ServerError) -> Response {
    Response::Error(e)
}

pub(super) fn not_found(what: impl Into<String>) -> Response {
    error(ServerError::NotFound(what.into()))
}

impl<R: ReplyHandle> Engine<R> {
    pub fn new(cfg: EngineConfig, seed: u64) -> Self {
        Engine {
            cfg,
            runs: Runs::default(),
            current_run: LookupMap::default(),
            queues: BTreeMap::new(),
            deadlines: BTreeSet::new(),
            pollers: BTreeMap::new(),
            history_waiters: BTreeMap::new(),
            waiter_deadlines: BTreeSet::new(),
            update_waiters: BTreeMap::new(),
            update_deadlines: BTreeSet::new(),
            rejections: Vec::new(),
            queries: BTreeMap::new(),
            next_query_id: 1,
            query_deadlines: BTreeSet::new(),
            pending_replies: Vec::new(),
            dirty: BTreeMap::new(),
            dirty_current: BTreeSet::new(),
            step_time: Timestamp::from_nanos(i64::MIN),
            rng: seed,
        }
    }

    /// Rebuilds the engine from what the store synced: runs (handed out in key order), then
    /// task queues and deadlines.
    pub fn recover(cfg: EngineConfig, seed: u64, snapshot: StoreSnapshot, now: Timestamp) -> Self {
        let mut engine = Engine::new(cfg, seed);
        // Continue from a different point of the id sequence than the engine that wrote the
        // snapshot started from, or a restart with the same seed would hand out the run ids
        // (and request ids) it handed out before.
        for (key, (history, _)) in &snapshot.executions {
            for b in key.run_id.bytes() {
                engine.rng ^= u64::from(b);
                splitmix64(&mut engine.rng);
            }
            engine.rng ^= history.len() as u64;
            splitmix64(&mut engine.rng);
        }
        for (key, (history, ms)) in snapshot.executions {
            engine.runs.insert(key, Execution { history, ms });
        }
        // The current run is written in the same batch as the run it names; a name without
        // a run would resolve to nothing, as if absent.
        for (workflow_id, run_id) in snapshot.current_runs {
            let key = ExecKey {
                workflow_id,
                run_id,
            };
            if let Some(run) = engine.runs.get(&key) {
                engine.current_run.insert(key.workflow_id, run);
            }
        }
        let handles: Vec<RunIdx> = engine.runs.handles().collect();
        for run in handles {
            engine.reindex(run, now);
        }
        engine
    }

    /// A run's history and mutable state.
    #[cfg(test)]
    pub(crate) fn execution(&self, key: &ExecKey) -> Option<&Execution> {
        self.runs.get(key).map(|run| &self.runs[run].exec)
    }

    /// Every run, in key order.
    #[cfg(test)]
    pub(crate) fn executions(&self) -> impl Iterator<Item = (&ExecKey, &Execution)> {
        self.runs.by_key()
    }

    /// The earliest time at which `tick` has work to do.
    pub fn next_wakeup(&self) -> Option<Timestamp> {
        let d = self.deadlines.first().map(|(t, _)| *t);
        let p = self.next_poll_deadline();
        let h = self.waiter_deadlines.first().map(|(t, _)| *t);
        let u = self.update_deadlines.first().map(|(t, _)| *t);
        let q = self.query_deadlines.first().map(|(t, _)| *t);
        [d, p, h, u, q].into_iter().flatten().min()
    }

    // ----- the step function -----

    /// Handles one request. Replies for parked long polls may come out of later steps.
    pub fn handle(&mut self, now: Timestamp, from: R, req: Request) -> Step<R> {
        self.begin_step(now);
        let reply = match req {
            Request::StartWorkflow(s) => Some(self.start_workflow(now, *s)),
            Request::PollWorkflowTask(p) => self.poll(now, from, p, PollKind::Workflow),
            Request::PollActivityTask(p) => self.poll(now, from, p, PollKind::Activity),
            Request::CompleteWorkflowTask(c) => Some(self.complete_wft(now, c)),
            Request::FailWorkflowTask(f) => Some(self.fail_wft(now, f)),
            Request::CompleteActivityTask(c) => Some(self.close_activity_attempt(now, c.into())),
            Request::FailActivityTask(f) => Some(self.close_activity_attempt(now, f.into())),
            Request::CancelActivityTask(c) => Some(self.close_activity_attempt(now, c.into())),
            Request::RecordHeartbeat(h) => Some(self.heartbeat(now, h)),
            Request::Signal(s) => Some(self.signal(now, s)),
            Request::SignalWithStart(s) => Some(self.signal_with_start(now, *s)),
            Request::RequestCancel(c) => Some(self.request_cancel(now, c)),
            Request::Terminate(t) => Some(self.terminate(now, t)),
            Request::Describe(d) => Some(self.describe(d)),
            Request::GetHistory(g) => self.get_history(now, from, g),
            Request::Update(u) => self.update(now, from, *u),
            Request::Query(q) => self.query(now, from, *q),
            Request::AnswerQuery(a) => Some(self.answer_query(*a)),
        };
        let mut step = Step::default();
        if let Some(r) = reply {
            step.replies.push((from, r));
        }
        self.finish_step(now, &mut step);
        step
    }

    /// Fires every deadline that is due: timeouts, timers, retry backoffs, long-poll expiry.
    pub fn tick(&mut self, now: Timestamp) -> Step<R> {
        self.begin_step(now);
        let mut step = Step::default();
        self.fire_deadlines(now);
        self.expire_polls(now, &mut step);
        self.expire_history_waiters(now, &mut step);
        self.expire_update_waiters(now, &mut step);
        self.expire_queries(now, &mut step);
        self.finish_step(now, &mut step);
        step
    }

    fn begin_step(&mut self, now: Timestamp) {
        assert!(
            now >= self.step_time,
            "a step never goes back in time ({now:?} after {:?})",
            self.step_time
        );
        assert!(
            self.dirty.is_empty() && self.dirty_current.is_empty(),
            "a step starts with nothing touched"
        );
        self.step_time = now;
    }

    /// Common end of a step: limits, reindexing, matching parked polls, answering history
    /// waiters of closed runs, checking every touched run, and collecting the durable writes.
    fn finish_step(&mut self, now: Timestamp, step: &mut Step<R>) {
        let touched: Vec<RunIdx> = self.dirty.keys().copied().collect();
        for &run in &touched {
            self.check_history_limit(run, now);
            self.reindex(run, now);
        }
        self.match_pollers(now, step);
        self.answer_close_waiters(&touched, step);
        self.answer_update_waiters(&touched, step);
        self.dispatch_queries(step);
        step.replies.append(&mut self.pending_replies);
        for &run in self.dirty.keys() {
            self.assert_run_consistent(run);
        }
        self.assert_tasks_written(step);
        for (run, before) in std::mem::take(&mut self.dirty) {
            let Run { key, exec, .. } = &self.runs[run];
            step.writes.push(StoreWrite::Execution {
                key: key.clone(),
                new_events: exec.history[before..].to_vec(),
                state: Box::new(exec.ms.clone()),
            });
        }
        for workflow_id in std::mem::take(&mut self.dirty_current) {
            if let Some(&run) = self.current_run.get(&workflow_id) {
                step.writes.push(StoreWrite::CurrentRun {
                    workflow_id,
                    run_id: self.runs[run].key.run_id.clone(),
                });
            }
        }
    }

    // ----- step-end assertions -----

    /// A touched run at the end of its step: its history, mutable state and index entries agree.
    /// Costs O(1) per run plus one look-up per pending activity, timer and queued task.
    fn assert_run_consistent(&self, run: RunIdx) {
        let Run { key, exec, indexed } = &self.runs[run];
        let ms = &exec.ms;
        assert_eq!(
            ms.next_event_id as usize,
            exec.history.len() + 1,
            "{key}: the next event id follows the history"
        );
        let before = self.dirty[&run];
        assert!(before <= exec.history.len(), "{key}: history only grows");
        let event_is = |id: i64, t: EventType| {
            usize::try_from(id - 1)
                .ok()
                .and_then(|i| exec.history.get(i))
                .is_some_and(|e| e.event_type() == t)
        };
        if !ms.is_open() {
            assert!(
                ms.wft.is_none()
                    && ms.activities.is_empty()
                    && ms.timers.is_empty()
                    && ms.buffered.is_empty()
                    && ms.close_time.is_some(),
                "{key}: a closed run has no pending work"
            );
            assert!(
                exec.history
                    .last()
                    .is_some_and(|e| e.event_type().is_close()),
                "{key}: a closed run's history ends with its close event"
            );
            assert!(
                indexed.queue_entries.is_empty() && indexed.deadline.is_none(),
                "{key}: a closed run is in no index"
            );
            return;
        }
        assert!(
            ms.buffered.is_empty() || ms.wft_in_flight(),
            "{key}: events are buffered only while a workflow task runs"
        );
        assert_eq!(
            self.current_run.get(&key.workflow_id),
            Some(&run),
            "{key}: an open run is its workflow id's current run"
        );
        if let Some(wft) = ms.wft.as_ref().filter(|w| !w.is_transient()) {
            assert!(
                event_is(wft.scheduled_event_id, EventType::WorkflowTaskScheduled),
                "{key}: the pending workflow task's Scheduled event is written"
            );
            if let Some(s) = &wft.started {
                assert!(
                    event_is(s.started_event_id, EventType::WorkflowTaskStarted),
                    "{key}: the running workflow task's Started event is written"
                );
            }
        }
        for (&id, a) in &ms.activities {
            assert!(
                id == a.scheduled_event_id && event_is(id, EventType::ActivityTaskScheduled),
                "{key}: pending activity {id} has its Scheduled event"
            );
        }
        for (timer_id, t) in &ms.timers {
            assert!(
                event_is(t.started_event_id, EventType::TimerStarted),
                "{key}: pending timer {timer_id} has its TimerStarted event"
            );
        }
        for (queue, entry) in &indexed.queue_entries {
            let queued = self
                .queues
                .get(&(entry.kind.poll_kind(), queue.clone()))
                .is_some_and(|q| q.contains(entry));
            assert!(queued, "{key}: its ready task is in queue {queue}");
        }
        if let Some(d) = indexed.deadline {
            assert!(
                self.deadlines.contains(&(d, run)),
                "{key}: its deadline is indexed"
            );
        }
    }

    /// A task handed out in this step was started in this step: its run is written with the
    /// reply (no reply announces a change the store does not get with it).
    fn assert_tasks_written(&self, step: &Step<R>) {
        for (_, resp) in &step.replies {
            let token = match resp {
                // A query task writes nothing (`queries.rs`).
                Response::WorkflowTask(Some(t)) if t.query.is_some() => continue,
                Response::WorkflowTask(Some(t)) => &t.token,
                Response::ActivityTask(Some(t)) => &t.token,
                _ => continue,
            };
            let written = self
                .runs
                .get(&token.exec)
                .is_some_and(|run| self.dirty.contains_key(&run));
            assert!(written, "{}: a task went out without its write", token.exec);
        }
    }
}
