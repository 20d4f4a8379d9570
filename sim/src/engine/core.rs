//! The engine's state machine: requests and the passage of time in, history events, mutable
//! state and responses out. No I/O and no clock: `now` is passed in, writes are handed to the
//! caller to make durable before any response leaves.
//!
//! Invariants:
//! - every change to a run is one `StoreWrite` (events appended + the new mutable state);
//! - task queues and deadlines are indexes derived from mutable state (rebuilt on recovery);
//! - a request's `ExecKey` is resolved to a `RunIdx` once, where it enters; every internal
//!   index is keyed by `RunIdx`, so the cost of a step does not grow with the number of runs'
//!   keys compared along the way;
//! - all iterated state is in `BTreeMap`/`BTreeSet`/`Vec`: no hash order anywhere.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::ops::{Index, IndexMut};
use std::sync::Arc;
use std::time::Duration;

use super::state::*;
use super::store::{StoreSnapshot, StoreWrite};
use crate::history::*;
use crate::lookup::LookupMap;
use crate::rng::splitmix64;
use crate::wire::*;

/// Deliberate defects, for proving that the harness catches them. All off by default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Defects {
    /// Accept an activity completion whose attempt is stale or already timed out.
    pub accept_stale_activity_completion: bool,
    /// Reply to requests before their store write is synced.
    pub reply_before_sync: bool,
}

/// Limits (Temporal's defaults).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub payload_error_bytes: usize,
    pub history_max_events: usize,
    pub pending_activities: usize,
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

#[derive(Clone, Debug)]
pub struct EngineConfig {
    pub identity: String,
    pub default_workflow_task_timeout: Duration,
    /// Longest a poll is held (clients ask for less; idle clients ask for more and more, so a
    /// quiet month of virtual time costs few messages).
    pub max_long_poll: Duration,
    pub limits: Limits,
    pub defects: Defects,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            identity: "durasim-server".to_string(),
            default_workflow_task_timeout: Duration::from_secs(10),
            max_long_poll: Duration::from_secs(3600),
            limits: Limits::default(),
            defects: Defects::default(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum TaskKind {
    Workflow,
    Activity(EventId),
}

impl TaskKind {
    fn poll_kind(self) -> PollKind {
        match self {
            TaskKind::Workflow => PollKind::Workflow,
            TaskKind::Activity(_) => PollKind::Activity,
        }
    }
}

/// A run's handle inside the engine: its position in `Runs`. Handed out when a run is created,
/// or rebuilt by `Engine::recover`; runs are never removed, so a handle stays valid for the
/// engine's life. Comparing two handles is one integer comparison and copying one allocates
/// nothing, which is why every internal index is keyed by it rather than by `ExecKey`.
///
/// Handles are in creation order (after a recovery: key order). That is also the tie order of
/// index entries due at the same time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct RunIdx(u32);

/// A ready task in a task queue. Ordered by readiness, then run, then task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct QueueEntry {
    ready: Timestamp,
    run: RunIdx,
    kind: TaskKind,
}

/// A run's entries in the task queues and the deadline index, so that reindexing removes
/// exactly what was added.
#[derive(Clone, Debug, Default)]
struct Indexed {
    /// The run's ready tasks, each with the name of its queue.
    queue_entries: Vec<(String, QueueEntry)>,
    /// The earliest time at which `Engine::tick` has something to do for the run.
    deadline: Option<Timestamp>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum PollKind {
    Workflow,
    Activity,
}

#[derive(Clone, Debug)]
struct ParkedPoll<R> {
    reply: R,
    received: Timestamp,
    identity: String,
    kind: PollKind,
    deadline: Timestamp,
}

#[derive(Clone, Debug)]
pub struct Execution {
    pub history: Vec<HistoryEvent>,
    pub ms: MutableState,
}

/// One run as the engine holds it: its key, its history and state, and its index entries.
struct Run {
    key: ExecKey,
    exec: Execution,
    indexed: Indexed,
}

/// Every run the engine knows, by handle and by key.
///
/// Invariant: `by_key` maps each run's key to its handle, and holds nothing else. It is for
/// look-ups only (see `crate::lookup`); key order comes from sorting.
#[derive(Default)]
struct Runs {
    runs: Vec<Run>,
    by_key: LookupMap<ExecKey, RunIdx>,
}

impl Runs {
    /// Adds a run under a key no run has, and hands out its handle.
    fn insert(&mut self, key: ExecKey, exec: Execution) -> RunIdx {
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

    fn get(&self, key: &ExecKey) -> Option<RunIdx> {
        self.by_key.get(key).copied()
    }

    fn contains(&self, key: &ExecKey) -> bool {
        self.by_key.contains_key(key)
    }

    /// Every run, in key order.
    fn by_key(&self) -> impl Iterator<Item = (&ExecKey, &Execution)> {
        let mut runs: Vec<&Run> = self.runs.iter().collect();
        runs.sort_unstable_by(|a, b| a.key.cmp(&b.key));
        runs.into_iter().map(|run| (&run.key, &run.exec))
    }

    /// Every handle, in creation order.
    fn handles(&self) -> impl Iterator<Item = RunIdx> {
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
    cfg: EngineConfig,
    runs: Runs,
    /// The current run of each workflow id.
    current_run: LookupMap<String, RunIdx>,
    /// Ready tasks per (kind, queue name), oldest first.
    queues: BTreeMap<(PollKind, String), BTreeSet<QueueEntry>>,
    /// Every run's earliest deadline (`Indexed::deadline`), soonest first.
    deadlines: BTreeSet<(Timestamp, RunIdx)>,
    pollers: BTreeMap<(PollKind, String), VecDeque<ParkedPoll<R>>>,
    history_waiters: BTreeMap<RunIdx, Vec<(R, Timestamp)>>,
    /// Deadlines of `history_waiters` (entries may outlive their waiter: checked lazily).
    waiter_deadlines: BTreeSet<(Timestamp, RunIdx)>,
    /// History length per touched run before this step (for building writes).
    dirty: BTreeMap<RunIdx, usize>,
    dirty_current: BTreeSet<String>,
    rng: u64,
}

fn error(e: ServerError) -> Response {
    Response::Error(e)
}

fn not_found(what: impl Into<String>) -> Response {
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
            dirty: BTreeMap::new(),
            dirty_current: BTreeSet::new(),
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

    pub fn config(&self) -> &EngineConfig {
        &self.cfg
    }

    pub fn execution(&self, key: &ExecKey) -> Option<&Execution> {
        self.runs.get(key).map(|run| &self.runs[run].exec)
    }

    /// Every run, in key order.
    pub fn executions(&self) -> impl Iterator<Item = (&ExecKey, &Execution)> {
        self.runs.by_key()
    }

    fn ms(&self, run: RunIdx) -> &MutableState {
        &self.runs[run].exec.ms
    }

    fn ms_mut(&mut self, run: RunIdx) -> &mut MutableState {
        &mut self.runs[run].exec.ms
    }

    fn new_uuid(&mut self) -> String {
        let a = splitmix64(&mut self.rng);
        let b = splitmix64(&mut self.rng);
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            ((b >> 48) & 0x3fff) | 0x8000,
            b & 0xffff_ffff_ffff
        )
    }

    /// A run id no run of `workflow_id` has (a run is never overwritten by a new one).
    fn new_run_id(&mut self, workflow_id: &str) -> String {
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

    /// The earliest time at which `tick` has work to do.
    pub fn next_wakeup(&self) -> Option<Timestamp> {
        let d = self.deadlines.first().map(|(t, _)| *t);
        let p = self
            .pollers
            .values()
            .flat_map(|q| q.iter().map(|p| p.deadline))
            .min();
        let h = self.waiter_deadlines.first().map(|(t, _)| *t);
        [d, p, h].into_iter().flatten().min()
    }

    // ----- indexes -----

    /// Replaces a run's entries in the task queues and the deadline index with what its
    /// mutable state says at `now`.
    fn reindex(&mut self, run: RunIdx, now: Timestamp) {
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

    // ----- history writing -----

    /// Marks a run as changed in this step, remembering where its new events start.
    fn touch(&mut self, run: RunIdx) {
        let len = self.runs[run].exec.history.len();
        self.dirty.entry(run).or_insert(len);
    }

    /// Appends one event to a run's history and returns its id.
    fn append(&mut self, run: RunIdx, time: Timestamp, attributes: EventAttributes) -> EventId {
        self.touch(run);
        let exec = &mut self.runs[run].exec;
        let event_id = exec.ms.next_event_id;
        assert_eq!(
            event_id as usize,
            exec.history.len() + 1,
            "history ids are contiguous"
        );
        exec.ms.next_event_id += 1;
        exec.history.push(HistoryEvent {
            event_id,
            event_time: time,
            task_id: event_id,
            attributes,
            extra: Extra::new(),
        });
        event_id
    }

    /// Appends, or buffers while a workflow task is running (Temporal's buffered events).
    fn append_or_buffer(&mut self, run: RunIdx, now: Timestamp, attributes: EventAttributes) {
        self.touch(run);
        let ms = self.ms_mut(run);
        if ms.wft_in_flight() {
            ms.buffered.push((now, attributes));
        } else {
            self.append(run, now, attributes);
        }
    }

    fn flush_buffered(&mut self, run: RunIdx) -> bool {
        let buffered = std::mem::take(&mut self.ms_mut(run).buffered);
        let any = !buffered.is_empty();
        for (time, attrs) in buffered {
            // The started id of an activity close is only known now.
            let attrs = self.fix_started_ids(run, attrs);
            self.append(run, time, attrs);
        }
        any
    }

    /// Buffered activity closes carry their Started event; started ids are assigned here.
    fn fix_started_ids(&self, run: RunIdx, attrs: EventAttributes) -> EventAttributes {
        let next = self.ms(run).next_event_id;
        match attrs {
            EventAttributes::ActivityTaskCompleted(mut a) if a.started_event_id == -1 => {
                Arc::make_mut(&mut a).started_event_id = next - 1;
                EventAttributes::ActivityTaskCompleted(a)
            }
            EventAttributes::ActivityTaskFailed(mut a) if a.started_event_id == -1 => {
                Arc::make_mut(&mut a).started_event_id = next - 1;
                EventAttributes::ActivityTaskFailed(a)
            }
            EventAttributes::ActivityTaskTimedOut(mut a) if a.started_event_id == -1 => {
                Arc::make_mut(&mut a).started_event_id = next - 1;
                EventAttributes::ActivityTaskTimedOut(a)
            }
            EventAttributes::ActivityTaskCanceled(mut a) if a.started_event_id == -1 => {
                Arc::make_mut(&mut a).started_event_id = next - 1;
                EventAttributes::ActivityTaskCanceled(a)
            }
            other => other,
        }
    }

    /// Schedules a workflow task if none is pending and the run is open.
    fn schedule_wft(&mut self, run: RunIdx, now: Timestamp, attempt: i32, ready_at: Timestamp) {
        let (open, pending, sticky, queue, timeout) = {
            let ms = self.ms(run);
            (
                ms.is_open(),
                ms.wft.is_some(),
                ms.sticky_queue.clone(),
                ms.task_queue.clone(),
                ms.workflow_task_timeout,
            )
        };
        if !open || pending {
            return;
        }
        let task_queue = match (&sticky, attempt) {
            (Some(s), 1) => TaskQueue::sticky(s.clone(), queue.clone()),
            _ => TaskQueue::normal(queue.clone()),
        };
        let scheduled_event_id = if attempt == 1 {
            self.append(
                run,
                now,
                EventAttributes::WorkflowTaskScheduled(Arc::new(WorkflowTaskScheduled {
                    task_queue: task_queue.clone(),
                    start_to_close_timeout: Some(timeout),
                    attempt,
                    extra: Extra::new(),
                })),
            )
        } else {
            self.touch(run);
            0
        };
        let ms = self.ms_mut(run);
        ms.wft = Some(WftState {
            scheduled_event_id,
            attempt,
            task_queue,
            scheduled_time: now,
            ready_at,
            started: None,
            scheduled_next_event_id: ms.next_event_id,
        });
    }

    /// Closes a run: drops pending work, answers history waiters.
    fn close(
        &mut self,
        run: RunIdx,
        now: Timestamp,
        status: WorkflowStatus,
        attrs: EventAttributes,
    ) {
        self.append(run, now, attrs);
        let ms = self.ms_mut(run);
        ms.status = status;
        ms.close_time = Some(now);
        ms.wft = None;
        ms.activities.clear();
        ms.timers.clear();
        ms.buffered.clear();
    }

    fn check_history_limit(&mut self, run: RunIdx, now: Timestamp) {
        let exec = &self.runs[run].exec;
        let too_long = exec.ms.is_open()
            && exec.history.len() + exec.ms.buffered.len() >= self.cfg.limits.history_max_events;
        if too_long {
            let ms = self.ms_mut(run);
            ms.buffered.clear();
            ms.wft = None;
            self.close(
                run,
                now,
                WorkflowStatus::Terminated,
                EventAttributes::WorkflowExecutionTerminated(Arc::new(
                    WorkflowExecutionTerminated {
                        reason: format!(
                            "Workflow history count exceeds limit of {} events",
                            self.cfg.limits.history_max_events
                        ),
                        details: None,
                        identity: "history-service".to_string(),
                        extra: Extra::new(),
                    },
                )),
            );
        }
    }

    // ----- the step function -----

    /// Handles one request. Replies for parked long polls may come out of later steps.
    pub fn handle(&mut self, now: Timestamp, from: R, req: Request) -> Step<R> {
        let reply = match req {
            Request::StartWorkflow(s) => Some(self.start_workflow(now, *s)),
            Request::PollWorkflowTask {
                task_queue,
                identity,
                wait,
            } => self.poll(now, from, task_queue, identity, PollKind::Workflow, wait),
            Request::PollActivityTask {
                task_queue,
                identity,
                wait,
            } => self.poll(now, from, task_queue, identity, PollKind::Activity, wait),
            Request::CompleteWorkflowTask {
                token,
                commands,
                identity,
                sticky_queue,
            } => Some(self.complete_wft(now, token, commands, identity, sticky_queue)),
            Request::FailWorkflowTask {
                token,
                cause,
                failure,
                identity,
            } => Some(self.fail_wft(now, token, cause, *failure, identity)),
            Request::CompleteActivityTask {
                token,
                result,
                identity,
            } => Some(self.close_activity_attempt(
                now,
                token,
                identity,
                AttemptOutcome::Completed(result),
            )),
            Request::FailActivityTask {
                token,
                failure,
                identity,
            } => Some(self.close_activity_attempt(
                now,
                token,
                identity,
                AttemptOutcome::Failed(*failure),
            )),
            Request::CancelActivityTask {
                token,
                details,
                identity,
            } => Some(self.close_activity_attempt(
                now,
                token,
                identity,
                AttemptOutcome::Canceled(details),
            )),
            Request::RecordHeartbeat { token, details, .. } => {
                Some(self.heartbeat(now, token, details))
            }
            Request::Signal {
                workflow_id,
                run_id,
                signal_name,
                input,
                identity,
                request_id,
            } => Some(self.signal(
                now,
                workflow_id,
                run_id,
                signal_name,
                input,
                identity,
                request_id,
            )),
            Request::RequestCancel {
                workflow_id,
                run_id,
                identity,
            } => Some(self.request_cancel(now, workflow_id, run_id, identity)),
            Request::Terminate {
                workflow_id,
                run_id,
                reason,
                identity,
            } => Some(self.terminate(now, workflow_id, run_id, reason, identity)),
            Request::Describe {
                workflow_id,
                run_id,
            } => Some(self.describe(workflow_id, run_id)),
            Request::GetHistory {
                workflow_id,
                run_id,
                wait_for_close,
                wait,
            } => self.get_history(now, from, workflow_id, run_id, wait_for_close, wait),
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
        let mut step = Step::default();
        while let Some(&(t, run)) = self.deadlines.first() {
            if t > now {
                break;
            }
            self.deadlines.remove(&(t, run));
            self.runs[run].indexed.deadline = None;
            self.on_time(run, now);
            self.reindex(run, now);
        }
        // Expired long polls get an empty answer.
        for q in self.pollers.values_mut() {
            q.retain(|p| {
                if p.deadline <= now {
                    let empty = match p.kind {
                        PollKind::Workflow => Response::WorkflowTask(None),
                        PollKind::Activity => Response::ActivityTask(None),
                    };
                    step.replies.push((p.reply, empty));
                    false
                } else {
                    true
                }
            });
        }
        while let Some(&(t, run)) = self.waiter_deadlines.first() {
            if t > now {
                break;
            }
            self.waiter_deadlines.remove(&(t, run));
            let Some(waiters) = self.history_waiters.get_mut(&run) else {
                continue;
            };
            let Run { key, exec, .. } = &self.runs[run];
            waiters.retain(|(reply, deadline)| {
                if *deadline <= now {
                    // As Temporal's close-event long poll: an empty page with the status; the
                    // caller polls again (the full history would be copied for nothing).
                    step.replies.push((
                        *reply,
                        Response::History {
                            exec: key.clone(),
                            events: Vec::new(),
                            status: exec.ms.status,
                        },
                    ));
                    false
                } else {
                    true
                }
            });
            if waiters.is_empty() {
                self.history_waiters.remove(&run);
            }
        }
        self.finish_step(now, &mut step);
        step
    }

    /// Common end of a step: limits, reindexing, matching parked polls, answering history
    /// waiters of closed runs, and collecting the durable writes.
    fn finish_step(&mut self, now: Timestamp, step: &mut Step<R>) {
        let touched: Vec<RunIdx> = self.dirty.keys().copied().collect();
        for &run in &touched {
            self.check_history_limit(run, now);
            self.reindex(run, now);
        }
        self.match_pollers(now, step);
        for &run in &touched {
            if self.ms(run).is_open() {
                continue;
            }
            if let Some(waiters) = self.history_waiters.remove(&run) {
                for (reply, _) in waiters {
                    step.replies
                        .push((reply, history_response(&self.runs[run])));
                }
            }
        }
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

    fn match_pollers(&mut self, now: Timestamp, step: &mut Step<R>) {
        // Only queues with both a parked poller and a ready task can match.
        let keys: Vec<(PollKind, String)> = self
            .pollers
            .keys()
            .filter(|k| self.queues.contains_key(*k))
            .cloned()
            .collect();
        for key in keys {
            while let Some(identity) = self
                .pollers
                .get(&key)
                .and_then(|p| p.front())
                .map(|p| p.identity.clone())
            {
                let Some(resp) = self.dispatch_key(now, &key, &identity) else {
                    break;
                };
                let poller = self
                    .pollers
                    .get_mut(&key)
                    .and_then(VecDeque::pop_front)
                    .expect("poller");
                step.replies.push((poller.reply, resp));
            }
        }
        self.pollers.retain(|_, p| !p.is_empty());
    }

    /// Forgets parked polls that a node sent before it died at `killed_at` (its connections
    /// closed with it); `sent_by_dead` tells, from a reply handle, whether that node sent it.
    pub fn drop_polls_from(&mut self, sent_by_dead: impl Fn(&R) -> bool, killed_at: Timestamp) {
        for q in self.pollers.values_mut() {
            q.retain(|p| !(sent_by_dead(&p.reply) && p.received <= killed_at));
        }
        self.pollers.retain(|_, p| !p.is_empty());
        for w in self.history_waiters.values_mut() {
            w.retain(|(r, _)| !sent_by_dead(r));
        }
        self.history_waiters.retain(|_, w| !w.is_empty());
    }

    fn poll(
        &mut self,
        now: Timestamp,
        from: R,
        queue: String,
        identity: String,
        kind: PollKind,
        wait: Duration,
    ) -> Option<Response> {
        if let Some(resp) = self.dispatch(now, &queue, &identity, kind) {
            return Some(resp);
        }
        self.pollers
            .entry((kind, queue))
            .or_default()
            .push_back(ParkedPoll {
                reply: from,
                received: now,
                identity,
                kind,
                deadline: now.plus(wait.min(self.cfg.max_long_poll)),
            });
        None
    }

    /// Takes the first ready task of `kind` from `queue` and starts it.
    fn dispatch(
        &mut self,
        now: Timestamp,
        queue: &str,
        identity: &str,
        kind: PollKind,
    ) -> Option<Response> {
        self.dispatch_key(now, &(kind, queue.to_string()), identity)
    }

    fn dispatch_key(
        &mut self,
        now: Timestamp,
        key: &(PollKind, String),
        identity: &str,
    ) -> Option<Response> {
        let entry = *self.queues.get(key)?.first()?;
        let resp = match entry.kind {
            TaskKind::Workflow => self.start_wft(now, entry.run, identity),
            TaskKind::Activity(id) => self.start_activity(now, entry.run, id, identity),
        };
        self.reindex(entry.run, now);
        Some(resp)
    }

    fn start_wft(&mut self, now: Timestamp, run: RunIdx, identity: &str) -> Response {
        let request_id = self.new_uuid();
        // New events arrived while a transient task waited: it becomes a normal task, its
        // Scheduled event written now (Temporal's AddWorkflowTaskStartedEvent does the same).
        let convert = {
            let ms = self.ms(run);
            let wft = ms.wft.as_ref().expect("queued wft");
            wft.is_transient().then(|| {
                (
                    wft.scheduled_next_event_id != ms.next_event_id,
                    wft.task_queue.clone(),
                    wft.attempt,
                    ms.workflow_task_timeout,
                )
            })
        };
        if let Some((true, task_queue, attempt, timeout)) = convert {
            let id = self.append(
                run,
                now,
                EventAttributes::WorkflowTaskScheduled(Arc::new(WorkflowTaskScheduled {
                    task_queue,
                    start_to_close_timeout: Some(timeout),
                    attempt,
                    extra: Extra::new(),
                })),
            );
            let wft = self.ms_mut(run).wft.as_mut().expect("queued wft");
            wft.scheduled_event_id = id;
        }
        let (scheduled_event_id, transient, attempt, sticky) = {
            let wft = self.ms(run).wft.as_ref().expect("queued wft");
            (
                wft.scheduled_event_id,
                wft.is_transient(),
                wft.attempt,
                wft.task_queue.kind == TaskQueueKind::Sticky,
            )
        };
        let started_event_id = if transient {
            self.touch(run);
            0
        } else {
            let size = self.runs[run].exec.history.len() as i64 * 256;
            self.append(
                run,
                now,
                EventAttributes::WorkflowTaskStarted(Arc::new(WorkflowTaskStarted {
                    scheduled_event_id,
                    identity: identity.to_string(),
                    request_id: request_id.clone(),
                    history_size_bytes: size,
                    extra: Extra::new(),
                })),
            )
        };
        let Run { key, exec, .. } = &mut self.runs[run];
        let wft = exec.ms.wft.as_mut().expect("queued wft");
        wft.started = Some(WftStarted {
            started_event_id,
            time: now,
            identity: identity.to_string(),
            request_id: request_id.clone(),
        });
        let first_event_id = if sticky {
            exec.ms.sticky_seen_through + 1
        } else {
            1
        };
        let mut events: Vec<HistoryEvent> =
            exec.history[(first_event_id as usize - 1).min(exec.history.len())..].to_vec();
        let mut token_started = started_event_id;
        let mut token_scheduled = scheduled_event_id;
        if transient {
            // Transient task: its Scheduled/Started events exist only in this response.
            let next = exec.ms.next_event_id;
            let queue = wft.task_queue.clone();
            events.push(HistoryEvent {
                event_id: next,
                event_time: wft.scheduled_time,
                task_id: 0,
                attributes: EventAttributes::WorkflowTaskScheduled(Arc::new(
                    WorkflowTaskScheduled {
                        task_queue: queue,
                        start_to_close_timeout: Some(exec.ms.workflow_task_timeout),
                        attempt,
                        extra: Extra::new(),
                    },
                )),
                extra: Extra::new(),
            });
            events.push(HistoryEvent {
                event_id: next + 1,
                event_time: now,
                task_id: 0,
                attributes: EventAttributes::WorkflowTaskStarted(Arc::new(WorkflowTaskStarted {
                    scheduled_event_id: next,
                    identity: identity.to_string(),
                    request_id,
                    history_size_bytes: 0,
                    extra: Extra::new(),
                })),
                extra: Extra::new(),
            });
            token_scheduled = next;
            token_started = next + 1;
        }
        Response::WorkflowTask(Some(Box::new(WorkflowTask {
            token: TaskToken {
                exec: key.clone(),
                scheduled_event_id: token_scheduled,
                attempt,
                started_event_id: token_started,
            },
            workflow_type: exec.ms.workflow_type.clone(),
            first_event_id,
            events,
            sticky,
        })))
    }

    fn start_activity(
        &mut self,
        now: Timestamp,
        run: RunIdx,
        scheduled_event_id: EventId,
        identity: &str,
    ) -> Response {
        let request_id = self.new_uuid();
        self.touch(run);
        let Run { key, exec, .. } = &mut self.runs[run];
        let workflow_type = exec.ms.workflow_type.clone();
        let a = exec
            .ms
            .activities
            .get_mut(&scheduled_event_id)
            .map(Arc::make_mut)
            .expect("queued activity");
        a.started = Some(ActivityStarted {
            time: now,
            identity: identity.to_string(),
            request_id,
            last_heartbeat: now,
        });
        Response::ActivityTask(Some(Box::new(ActivityTask {
            token: TaskToken {
                exec: key.clone(),
                scheduled_event_id,
                attempt: a.attempt,
                started_event_id: 0,
            },
            workflow_type,
            activity_id: a.activity_id.clone(),
            activity_type: a.activity_type.clone(),
            task_queue: a.task_queue.clone(),
            input: a.input.clone(),
            attempt: a.attempt,
            heartbeat_details: a.heartbeat_details.clone(),
            scheduled_time: a.scheduled_time,
            started_time: now,
            start_to_close_timeout: a.start_to_close_timeout,
            heartbeat_timeout: a.heartbeat_timeout,
        })))
    }

    // ----- workflow lifecycle -----

    /// The run a client request names: the given run of a workflow id, or its current run.
    fn resolve(&self, workflow_id: &str, run_id: Option<&str>) -> Option<RunIdx> {
        match run_id {
            Some(run_id) if !run_id.is_empty() => self.runs.get(&ExecKey {
                workflow_id: workflow_id.to_string(),
                run_id: run_id.to_string(),
            }),
            _ => self.current_run.get(workflow_id).copied(),
        }
    }

    fn start_workflow(&mut self, now: Timestamp, s: StartWorkflow) -> Response {
        if s.workflow_id.is_empty() || s.workflow_type.is_empty() || s.task_queue.is_empty() {
            return error(ServerError::InvalidArgument(
                "workflow id, type and task queue are required".into(),
            ));
        }
        if let Some(size) = s.input.as_ref().map(Payloads::size_bytes) {
            if size > self.cfg.limits.payload_error_bytes {
                return error(ServerError::InvalidArgument(format!(
                    "input payload of {size} bytes exceeds the {} byte limit",
                    self.cfg.limits.payload_error_bytes
                )));
            }
        }
        if let Some(run) = self.resolve(&s.workflow_id, None) {
            let Run { key, exec, .. } = &self.runs[run];
            if exec.ms.start_request_id == s.request_id {
                // A retried start: same answer, no second run.
                return Response::Started {
                    run_id: key.run_id.clone(),
                };
            }
            let allowed = match (exec.ms.status, s.id_reuse_policy) {
                (WorkflowStatus::Running, _) => false,
                (_, IdReusePolicy::AllowDuplicate) => true,
                (WorkflowStatus::Completed, IdReusePolicy::AllowDuplicateFailedOnly) => false,
                (_, IdReusePolicy::AllowDuplicateFailedOnly) => true,
                (_, IdReusePolicy::RejectDuplicate) => false,
            };
            if !allowed {
                return error(ServerError::WorkflowAlreadyStarted {
                    run_id: key.run_id.clone(),
                });
            }
        }
        let run_id = self.new_run_id(&s.workflow_id);
        let timeout = s
            .workflow_task_timeout
            .unwrap_or(self.cfg.default_workflow_task_timeout);
        self.create_run(
            now,
            &s.workflow_id,
            &run_id,
            &s.workflow_type,
            &s.task_queue,
            s.input,
            timeout,
            &s.request_id,
            &s.identity,
            None,
            s.workflow_run_timeout,
        );
        Response::Started { run_id }
    }

    #[allow(clippy::too_many_arguments)]
    fn create_run(
        &mut self,
        now: Timestamp,
        workflow_id: &str,
        run_id: &str,
        workflow_type: &str,
        task_queue: &str,
        input: Option<Payloads>,
        workflow_task_timeout: Duration,
        request_id: &str,
        identity: &str,
        continued_from: Option<(String, String)>,
        run_timeout: Option<Duration>,
    ) {
        let key = ExecKey {
            workflow_id: workflow_id.to_string(),
            run_id: run_id.to_string(),
        };
        let first = match &continued_from {
            Some((_, first)) => first.clone(),
            None => run_id.to_string(),
        };
        let run = self.runs.insert(
            key,
            Execution {
                history: Vec::new(),
                ms: MutableState {
                    workflow_id: workflow_id.to_string(),
                    run_id: run_id.to_string(),
                    workflow_type: workflow_type.to_string(),
                    task_queue: task_queue.to_string(),
                    status: WorkflowStatus::Running,
                    start_request_id: request_id.to_string(),
                    workflow_task_timeout,
                    next_event_id: 1,
                    wft: None,
                    sticky_queue: None,
                    sticky_seen_through: 0,
                    buffered: Vec::new(),
                    activities: BTreeMap::new(),
                    timers: BTreeMap::new(),
                    cancel_requested: false,
                    signal_request_ids: Vec::new(),
                    close_time: None,
                },
            },
        );
        // The whole history is new.
        self.dirty.insert(run, 0);
        self.current_run.insert(workflow_id.to_string(), run);
        self.dirty_current.insert(workflow_id.to_string());
        self.append(
            run,
            now,
            EventAttributes::WorkflowExecutionStarted(Arc::new(WorkflowExecutionStarted {
                workflow_type: workflow_type.to_string(),
                workflow_id: workflow_id.to_string(),
                task_queue: TaskQueue::normal(task_queue),
                input,
                workflow_execution_timeout: None,
                workflow_run_timeout: run_timeout,
                workflow_task_timeout: Some(workflow_task_timeout),
                continued_execution_run_id: continued_from.as_ref().map(|(prev, _)| prev.clone()),
                original_execution_run_id: run_id.to_string(),
                first_execution_run_id: first,
                identity: identity.to_string(),
                attempt: 1,
                first_workflow_task_backoff: Some(Duration::ZERO),
                retry_policy: None,
                extra: Extra::new(),
            })),
        );
        self.schedule_wft(run, now, 1, now);
    }

    #[allow(clippy::too_many_arguments)]
    fn signal(
        &mut self,
        now: Timestamp,
        workflow_id: String,
        run_id: Option<String>,
        signal_name: String,
        input: Option<Payloads>,
        identity: String,
        request_id: String,
    ) -> Response {
        let Some(run) = self.resolve(&workflow_id, run_id.as_deref()) else {
            return not_found(format!("workflow {workflow_id}"));
        };
        if !self.ms(run).is_open() {
            return not_found(format!("workflow {} is closed", self.runs[run].key));
        }
        if !request_id.is_empty() && self.ms(run).signal_request_ids.contains(&request_id) {
            return Response::Ok;
        }
        if let Some(size) = input.as_ref().map(Payloads::size_bytes) {
            if size > self.cfg.limits.payload_error_bytes {
                return error(ServerError::InvalidArgument(format!(
                    "signal input of {size} bytes exceeds the {} byte limit",
                    self.cfg.limits.payload_error_bytes
                )));
            }
        }
        if self.ms(run).buffered.len() >= self.cfg.limits.pending_timers {
            return error(ServerError::ResourceExhausted(
                "too many pending signals".into(),
            ));
        }
        self.touch(run);
        {
            let ms = self.ms_mut(run);
            if !request_id.is_empty() {
                ms.signal_request_ids.push(request_id);
                if ms.signal_request_ids.len() > 64 {
                    ms.signal_request_ids.remove(0);
                }
            }
        }
        self.append_or_buffer(
            run,
            now,
            EventAttributes::WorkflowExecutionSignaled(Arc::new(WorkflowExecutionSignaled {
                signal_name,
                input,
                identity,
                extra: Extra::new(),
            })),
        );
        self.schedule_wft(run, now, 1, now);
        Response::Ok
    }

    fn request_cancel(
        &mut self,
        now: Timestamp,
        workflow_id: String,
        run_id: Option<String>,
        identity: String,
    ) -> Response {
        let Some(run) = self.resolve(&workflow_id, run_id.as_deref()) else {
            return not_found(format!("workflow {workflow_id}"));
        };
        let ms = self.ms(run);
        if !ms.is_open() {
            return not_found(format!("workflow {} is closed", self.runs[run].key));
        }
        if ms.cancel_requested {
            return Response::Ok;
        }
        self.touch(run);
        self.ms_mut(run).cancel_requested = true;
        self.append_or_buffer(
            run,
            now,
            EventAttributes::WorkflowExecutionCancelRequested(Arc::new(
                WorkflowExecutionCancelRequested {
                    cause: String::new(),
                    identity,
                    extra: Extra::new(),
                },
            )),
        );
        self.schedule_wft(run, now, 1, now);
        Response::Ok
    }

    fn terminate(
        &mut self,
        now: Timestamp,
        workflow_id: String,
        run_id: Option<String>,
        reason: String,
        identity: String,
    ) -> Response {
        let Some(run) = self.resolve(&workflow_id, run_id.as_deref()) else {
            return not_found(format!("workflow {workflow_id}"));
        };
        if !self.ms(run).is_open() {
            return not_found(format!("workflow {} is closed", self.runs[run].key));
        }
        self.touch(run);
        let ms = self.ms_mut(run);
        ms.wft = None;
        ms.buffered.clear();
        self.close(
            run,
            now,
            WorkflowStatus::Terminated,
            EventAttributes::WorkflowExecutionTerminated(Arc::new(WorkflowExecutionTerminated {
                reason,
                details: None,
                identity,
                extra: Extra::new(),
            })),
        );
        Response::Ok
    }

    fn describe(&self, workflow_id: String, run_id: Option<String>) -> Response {
        let Some(run) = self.resolve(&workflow_id, run_id.as_deref()) else {
            return not_found(format!("workflow {workflow_id}"));
        };
        let Run { key, exec: e, .. } = &self.runs[run];
        Response::Described(Box::new(Description {
            exec: key.clone(),
            workflow_type: e.ms.workflow_type.clone(),
            status: e.ms.status,
            history_length: e.history.len(),
            pending_activities: e.ms.activities.len(),
            pending_timers: e.ms.timers.len(),
        }))
    }

    fn get_history(
        &mut self,
        now: Timestamp,
        from: R,
        workflow_id: String,
        run_id: Option<String>,
        wait_for_close: bool,
        wait: Duration,
    ) -> Option<Response> {
        let Some(run) = self.resolve(&workflow_id, run_id.as_deref()) else {
            return Some(not_found(format!("workflow {workflow_id}")));
        };
        if wait_for_close && self.ms(run).is_open() {
            let deadline = now.plus(wait.min(self.cfg.max_long_poll));
            self.waiter_deadlines.insert((deadline, run));
            self.history_waiters
                .entry(run)
                .or_default()
                .push((from, deadline));
            return None;
        }
        Some(history_response(&self.runs[run]))
    }

    // ----- workflow tasks -----

    /// The run of a workflow task token that names the current, started workflow task.
    fn check_wft_token(&self, token: &TaskToken) -> Result<RunIdx, Response> {
        let Some(run) = self.runs.get(&token.exec) else {
            return Err(not_found(format!("workflow {}", token.exec)));
        };
        let e = &self.runs[run].exec;
        if !e.ms.is_open() {
            return Err(not_found(format!("workflow {} is closed", token.exec)));
        }
        let Some(wft) = &e.ms.wft else {
            return Err(not_found("workflow task not found"));
        };
        let Some(started) = &wft.started else {
            return Err(not_found("workflow task not started"));
        };
        let (sched, start) = if wft.is_transient() {
            (e.ms.next_event_id, e.ms.next_event_id + 1)
        } else {
            (wft.scheduled_event_id, started.started_event_id)
        };
        if sched != token.scheduled_event_id
            || start != token.started_event_id
            || wft.attempt != token.attempt
        {
            return Err(not_found("stale workflow task token"));
        }
        Ok(run)
    }

    /// Writes the Scheduled/Started events of a transient task that is now closing.
    fn materialize_transient(&mut self, run: RunIdx) -> (EventId, EventId) {
        let (wft, timeout) = {
            let ms = self.ms(run);
            (ms.wft.clone().expect("wft"), ms.workflow_task_timeout)
        };
        let started = wft.started.clone().expect("started");
        if !wft.is_transient() {
            return (wft.scheduled_event_id, started.started_event_id);
        }
        let sched = self.append(
            run,
            wft.scheduled_time,
            EventAttributes::WorkflowTaskScheduled(Arc::new(WorkflowTaskScheduled {
                task_queue: wft.task_queue.clone(),
                start_to_close_timeout: Some(timeout),
                attempt: wft.attempt,
                extra: Extra::new(),
            })),
        );
        let start = self.append(
            run,
            started.time,
            EventAttributes::WorkflowTaskStarted(Arc::new(WorkflowTaskStarted {
                scheduled_event_id: sched,
                identity: started.identity.clone(),
                request_id: started.request_id.clone(),
                history_size_bytes: 0,
                extra: Extra::new(),
            })),
        );
        (sched, start)
    }

    fn validate_commands(
        &self,
        run: RunIdx,
        commands: &[Command],
    ) -> Result<(), (WorkflowTaskFailedCause, String, bool)> {
        let ms = self.ms(run);
        let limit = self.cfg.limits.payload_error_bytes;
        let mut new_activity_ids: Vec<&str> = Vec::new();
        let mut new_timer_ids: Vec<&str> = Vec::new();
        let mut scheduled = 0usize;
        for c in commands {
            let size = c.payload_bytes();
            if size > limit {
                let cause = match c {
                    Command::ScheduleActivityTask(_) => {
                        WorkflowTaskFailedCause::BadScheduleActivityAttributes
                    }
                    Command::RecordMarker { .. } => {
                        WorkflowTaskFailedCause::BadRecordMarkerAttributes
                    }
                    // Temporal's BAD_*_ATTRIBUTES numbers for the terminal commands.
                    Command::CancelWorkflowExecution { .. } => WorkflowTaskFailedCause::Other(9),
                    Command::ContinueAsNewWorkflowExecution(_) => {
                        WorkflowTaskFailedCause::Other(11)
                    }
                    _ => WorkflowTaskFailedCause::Other(7),
                };
                return Err((
                    cause,
                    format!(
                        "{} payload of {size} bytes exceeds the {limit} byte limit",
                        c.name()
                    ),
                    true,
                ));
            }
            match c {
                Command::ScheduleActivityTask(s) => {
                    if s.activity_id.is_empty() || s.activity_type.is_empty() {
                        return Err((
                            WorkflowTaskFailedCause::BadScheduleActivityAttributes,
                            "activity id and type are required".into(),
                            false,
                        ));
                    }
                    let s2c = s.schedule_to_close_timeout.filter(|d| !d.is_zero());
                    let st2c = s.start_to_close_timeout.filter(|d| !d.is_zero());
                    if s2c.is_none() && st2c.is_none() {
                        return Err((
                            WorkflowTaskFailedCause::BadScheduleActivityAttributes,
                            format!("activity {}: a start_to_close or schedule_to_close timeout is required", s.activity_id),
                            false,
                        ));
                    }
                    if ms
                        .activities
                        .values()
                        .any(|a| a.activity_id == s.activity_id)
                        || new_activity_ids.contains(&s.activity_id.as_str())
                    {
                        return Err((
                            WorkflowTaskFailedCause::ScheduleActivityDuplicateId,
                            format!("duplicate activity id {}", s.activity_id),
                            false,
                        ));
                    }
                    new_activity_ids.push(&s.activity_id);
                    scheduled += 1;
                }
                Command::StartTimer { timer_id, .. } => {
                    if ms.timers.contains_key(timer_id)
                        || new_timer_ids.contains(&timer_id.as_str())
                    {
                        return Err((
                            WorkflowTaskFailedCause::StartTimerDuplicateId,
                            format!("duplicate timer id {timer_id}"),
                            false,
                        ));
                    }
                    new_timer_ids.push(timer_id);
                }
                _ => {}
            }
        }
        if ms.activities.len() + scheduled > self.cfg.limits.pending_activities {
            return Err((
                WorkflowTaskFailedCause::PendingActivitiesLimitExceeded,
                format!(
                    "pending activities would exceed the limit of {}",
                    self.cfg.limits.pending_activities
                ),
                false,
            ));
        }
        if ms.timers.len() + new_timer_ids.len() > self.cfg.limits.pending_timers {
            return Err((
                WorkflowTaskFailedCause::Other(0),
                "too many pending timers".into(),
                false,
            ));
        }
        Ok(())
    }

    fn complete_wft(
        &mut self,
        now: Timestamp,
        token: TaskToken,
        commands: Vec<Command>,
        identity: String,
        sticky_queue: Option<String>,
    ) -> Response {
        let run = match self.check_wft_token(&token) {
            Ok(run) => run,
            Err(r) => return r,
        };
        self.touch(run);
        if let Err((cause, message, terminate)) = self.validate_commands(run, &commands) {
            let failure = Failure::application(message.clone(), "BadCommand", true);
            self.fail_wft_inner(now, run, cause, failure, identity.clone());
            if terminate {
                let ms = self.ms_mut(run);
                ms.wft = None;
                ms.buffered.clear();
                self.close(
                    run,
                    now,
                    WorkflowStatus::Terminated,
                    EventAttributes::WorkflowExecutionTerminated(Arc::new(
                        WorkflowExecutionTerminated {
                            reason: message,
                            details: None,
                            identity: "history-service".to_string(),
                            extra: Extra::new(),
                        },
                    )),
                );
            }
            return Response::Ok;
        }
        let has_terminal = commands.iter().any(Command::is_terminal);
        if has_terminal && !self.ms(run).buffered.is_empty() {
            let failure = Failure::application("UnhandledCommand", "UnhandledCommand", false);
            self.fail_wft_inner(
                now,
                run,
                WorkflowTaskFailedCause::UnhandledCommand,
                failure,
                identity,
            );
            return Response::Ok;
        }
        let (sched, started) = self.materialize_transient(run);
        let completed = self.append(
            run,
            now,
            EventAttributes::WorkflowTaskCompleted(Arc::new(WorkflowTaskCompleted {
                scheduled_event_id: sched,
                started_event_id: started,
                identity: identity.clone(),
                extra: Extra::new(),
            })),
        );
        {
            let ms = self.ms_mut(run);
            ms.wft = None;
            ms.sticky_queue = sticky_queue;
            ms.sticky_seen_through = started;
        }
        let mut closed = false;
        let mut needs_wft = false;
        for c in commands {
            if closed {
                break;
            }
            closed = self.apply_command(now, run, completed, c, &identity, &mut needs_wft);
        }
        if !closed {
            let any = self.flush_buffered(run);
            if any || needs_wft {
                self.schedule_wft(run, now, 1, now);
            }
        }
        Response::Ok
    }

    /// Applies one accepted command; returns true when it closed the run. Sets `needs_wft` when
    /// the command resolved something the workflow must see in a new task.
    fn apply_command(
        &mut self,
        now: Timestamp,
        run: RunIdx,
        completed: EventId,
        c: Command,
        identity: &str,
        needs_wft: &mut bool,
    ) -> bool {
        match c {
            Command::ScheduleActivityTask(s) => {
                let queue = if s.task_queue.name.is_empty() {
                    self.ms(run).task_queue.clone()
                } else {
                    s.task_queue.name.clone()
                };
                let s2c = s.schedule_to_close_timeout.filter(|d| !d.is_zero());
                let st2c = s.start_to_close_timeout.filter(|d| !d.is_zero()).or(s2c);
                let policy = s.retry_policy.clone().unwrap_or_default().with_defaults();
                let id = self.append(
                    run,
                    now,
                    EventAttributes::ActivityTaskScheduled(Arc::new(ActivityTaskScheduled {
                        activity_id: s.activity_id.clone(),
                        activity_type: s.activity_type.clone(),
                        task_queue: TaskQueue::normal(queue.clone()),
                        input: s.input.clone(),
                        schedule_to_close_timeout: Some(s2c.unwrap_or(Duration::ZERO)),
                        schedule_to_start_timeout: Some(
                            s.schedule_to_start_timeout.unwrap_or(Duration::ZERO),
                        ),
                        start_to_close_timeout: Some(st2c.unwrap_or(Duration::ZERO)),
                        heartbeat_timeout: Some(s.heartbeat_timeout.unwrap_or(Duration::ZERO)),
                        workflow_task_completed_event_id: completed,
                        retry_policy: Some(policy.clone()),
                        extra: Extra::new(),
                    })),
                );
                self.ms_mut(run).activities.insert(
                    id,
                    Arc::new(ActivityState {
                        scheduled_event_id: id,
                        activity_id: s.activity_id,
                        activity_type: s.activity_type,
                        task_queue: queue,
                        input: s.input,
                        schedule_to_close_timeout: s2c,
                        schedule_to_start_timeout: s.schedule_to_start_timeout,
                        start_to_close_timeout: st2c,
                        heartbeat_timeout: s.heartbeat_timeout,
                        retry_policy: policy,
                        scheduled_time: now,
                        attempt: 1,
                        attempt_ready_at: now,
                        started: None,
                        heartbeat_details: None,
                        last_failure: None,
                        cancel_requested_event_id: 0,
                    }),
                );
                false
            }
            Command::RequestCancelActivityTask { scheduled_event_id } => {
                let Some(a) = self.ms(run).activities.get(&scheduled_event_id).cloned() else {
                    return false;
                };
                let req = self.append(
                    run,
                    now,
                    EventAttributes::ActivityTaskCancelRequested(Arc::new(
                        ActivityTaskCancelRequested {
                            scheduled_event_id,
                            workflow_task_completed_event_id: completed,
                            extra: Extra::new(),
                        },
                    )),
                );
                if a.started.is_none() {
                    self.append(
                        run,
                        now,
                        EventAttributes::ActivityTaskCanceled(Arc::new(ActivityTaskCanceled {
                            details: None,
                            latest_cancel_requested_event_id: req,
                            scheduled_event_id,
                            started_event_id: 0,
                            identity: identity.to_string(),
                            extra: Extra::new(),
                        })),
                    );
                    self.ms_mut(run).activities.remove(&scheduled_event_id);
                    // The workflow learns of it in its next task.
                    *needs_wft = true;
                } else if let Some(a) = self
                    .ms_mut(run)
                    .activities
                    .get_mut(&scheduled_event_id)
                    .map(Arc::make_mut)
                {
                    a.cancel_requested_event_id = req;
                }
                false
            }
            Command::StartTimer {
                timer_id,
                start_to_fire_timeout,
            } => {
                let id = self.append(
                    run,
                    now,
                    EventAttributes::TimerStarted(Arc::new(TimerStarted {
                        timer_id: timer_id.clone(),
                        start_to_fire_timeout: Some(start_to_fire_timeout),
                        workflow_task_completed_event_id: completed,
                        extra: Extra::new(),
                    })),
                );
                self.ms_mut(run).timers.insert(
                    timer_id,
                    TimerState {
                        started_event_id: id,
                        fire_at: now.plus(start_to_fire_timeout),
                    },
                );
                false
            }
            Command::CancelTimer { timer_id } => {
                if let Some(t) = self.ms_mut(run).timers.remove(&timer_id) {
                    self.append(
                        run,
                        now,
                        EventAttributes::TimerCanceled(Arc::new(TimerCanceled {
                            timer_id,
                            started_event_id: t.started_event_id,
                            workflow_task_completed_event_id: completed,
                            identity: identity.to_string(),
                            extra: Extra::new(),
                        })),
                    );
                }
                false
            }
            Command::RecordMarker {
                marker_name,
                details,
                failure,
            } => {
                self.append(
                    run,
                    now,
                    EventAttributes::MarkerRecorded(Arc::new(MarkerRecorded {
                        marker_name,
                        details,
                        workflow_task_completed_event_id: completed,
                        failure,
                        extra: Extra::new(),
                    })),
                );
                false
            }
            Command::CompleteWorkflowExecution { result } => {
                self.close(
                    run,
                    now,
                    WorkflowStatus::Completed,
                    EventAttributes::WorkflowExecutionCompleted(Arc::new(
                        WorkflowExecutionCompleted {
                            result,
                            workflow_task_completed_event_id: completed,
                            new_execution_run_id: None,
                            extra: Extra::new(),
                        },
                    )),
                );
                true
            }
            Command::FailWorkflowExecution { failure } => {
                self.close(
                    run,
                    now,
                    WorkflowStatus::Failed,
                    EventAttributes::WorkflowExecutionFailed(Arc::new(WorkflowExecutionFailed {
                        failure: Some(failure),
                        retry_state: RetryState::RetryPolicyNotSet,
                        workflow_task_completed_event_id: completed,
                        new_execution_run_id: None,
                        extra: Extra::new(),
                    })),
                );
                true
            }
            Command::CancelWorkflowExecution { details } => {
                self.close(
                    run,
                    now,
                    WorkflowStatus::Canceled,
                    EventAttributes::WorkflowExecutionCanceled(Arc::new(
                        WorkflowExecutionCanceled {
                            workflow_task_completed_event_id: completed,
                            details,
                            extra: Extra::new(),
                        },
                    )),
                );
                true
            }
            Command::ContinueAsNewWorkflowExecution(c) => {
                let ExecKey {
                    workflow_id,
                    run_id,
                } = self.runs[run].key.clone();
                let new_run = self.new_run_id(&workflow_id);
                let (queue, timeout, first) = {
                    let ms = self.ms(run);
                    let first = self.runs[run]
                        .exec
                        .history
                        .first()
                        .and_then(|e| match &e.attributes {
                            EventAttributes::WorkflowExecutionStarted(s) => {
                                Some(s.first_execution_run_id.clone())
                            }
                            _ => None,
                        })
                        .unwrap_or_else(|| ms.run_id.clone());
                    let queue = if c.task_queue.name.is_empty() {
                        ms.task_queue.clone()
                    } else {
                        c.task_queue.name.clone()
                    };
                    (
                        queue,
                        c.workflow_task_timeout.unwrap_or(ms.workflow_task_timeout),
                        first,
                    )
                };
                let workflow_type = if c.workflow_type.is_empty() {
                    self.ms(run).workflow_type.clone()
                } else {
                    c.workflow_type.clone()
                };
                self.close(
                    run,
                    now,
                    WorkflowStatus::ContinuedAsNew,
                    EventAttributes::WorkflowExecutionContinuedAsNew(Arc::new(
                        WorkflowExecutionContinuedAsNew {
                            new_execution_run_id: new_run.clone(),
                            workflow_type: workflow_type.clone(),
                            task_queue: TaskQueue::normal(queue.clone()),
                            input: c.input.clone(),
                            workflow_run_timeout: c.workflow_run_timeout,
                            workflow_task_timeout: Some(timeout),
                            workflow_task_completed_event_id: completed,
                            extra: Extra::new(),
                        },
                    )),
                );
                let request_id = self.new_uuid();
                self.create_run(
                    now,
                    &workflow_id,
                    &new_run,
                    &workflow_type,
                    &queue,
                    c.input,
                    timeout,
                    &request_id,
                    identity,
                    Some((run_id, first)),
                    c.workflow_run_timeout,
                );
                true
            }
        }
    }

    fn fail_wft(
        &mut self,
        now: Timestamp,
        token: TaskToken,
        cause: WorkflowTaskFailedCause,
        failure: Failure,
        identity: String,
    ) -> Response {
        let run = match self.check_wft_token(&token) {
            Ok(run) => run,
            Err(r) => return r,
        };
        self.touch(run);
        self.fail_wft_inner(now, run, cause, failure, identity);
        Response::Ok
    }

    /// Records a failed workflow task (only the first failure in a row is written) and schedules
    /// the next attempt.
    fn fail_wft_inner(
        &mut self,
        now: Timestamp,
        run: RunIdx,
        cause: WorkflowTaskFailedCause,
        failure: Failure,
        identity: String,
    ) {
        let wft = self.ms(run).wft.clone().expect("wft");
        let unhandled = cause == WorkflowTaskFailedCause::UnhandledCommand;
        if !wft.is_transient() || unhandled {
            let (sched, started) = self.materialize_transient(run);
            self.append(
                run,
                now,
                EventAttributes::WorkflowTaskFailed(Arc::new(WorkflowTaskFailed {
                    scheduled_event_id: sched,
                    started_event_id: started,
                    cause,
                    failure: Some(failure),
                    identity,
                    extra: Extra::new(),
                })),
            );
        }
        {
            let ms = self.ms_mut(run);
            ms.wft = None;
            ms.sticky_queue = None;
        }
        self.flush_buffered(run);
        let (attempt, ready_at) = if unhandled {
            (1, now)
        } else {
            let attempt = wft.attempt + 1;
            (attempt, now.plus(wft_retry_backoff(attempt)))
        };
        self.schedule_wft(run, now, attempt, ready_at);
    }

    // ----- activities -----

    /// The run of an activity task token that names a pending activity's current, started
    /// attempt (any pending activity under `Defects::accept_stale_activity_completion`).
    fn check_activity_token(&self, token: &TaskToken) -> Result<RunIdx, Response> {
        let Some(run) = self.runs.get(&token.exec) else {
            return Err(not_found(format!("workflow {}", token.exec)));
        };
        let e = &self.runs[run].exec;
        if !e.ms.is_open() {
            return Err(not_found(format!("workflow {} is closed", token.exec)));
        }
        let Some(a) = e.ms.activities.get(&token.scheduled_event_id) else {
            return Err(not_found(format!(
                "activity {} not found",
                token.scheduled_event_id
            )));
        };
        if self.cfg.defects.accept_stale_activity_completion {
            return Ok(run);
        }
        if a.attempt != token.attempt || a.started.is_none() {
            return Err(not_found(format!(
                "stale activity task token (attempt {} of activity {}, current attempt {})",
                token.attempt, a.activity_id, a.attempt
            )));
        }
        Ok(run)
    }

    fn heartbeat(
        &mut self,
        now: Timestamp,
        token: TaskToken,
        details: Option<Payloads>,
    ) -> Response {
        let run = match self.check_activity_token(&token) {
            Ok(run) => run,
            Err(r) => return r,
        };
        self.touch(run);
        let ms = self.ms_mut(run);
        let a = ms
            .activities
            .get_mut(&token.scheduled_event_id)
            .map(Arc::make_mut)
            .expect("checked");
        if let Some(s) = a.started.as_mut() {
            s.last_heartbeat = now;
        }
        a.heartbeat_details = details;
        Response::Heartbeat {
            cancel_requested: a.cancel_requested_event_id != 0,
        }
    }

    fn close_activity_attempt(
        &mut self,
        now: Timestamp,
        token: TaskToken,
        identity: String,
        outcome: AttemptOutcome,
    ) -> Response {
        let run = match self.check_activity_token(&token) {
            Ok(run) => run,
            Err(r) => {
                if self.cfg.defects.accept_stale_activity_completion {
                    if let AttemptOutcome::Completed(result) = outcome {
                        return self.accept_stale_completion(now, token, identity, result, r);
                    }
                }
                return r;
            }
        };
        self.touch(run);
        let id = token.scheduled_event_id;
        // As Temporal's frontend does: a result over the payload limit is recorded as a
        // non-retryable failure of the activity instead.
        let outcome = match outcome {
            AttemptOutcome::Completed(Some(result))
                if result.size_bytes() > self.cfg.limits.payload_error_bytes =>
            {
                let mut failure = Failure::application(
                    format!(
                        "Complete result of {} bytes exceeds the {} byte payload limit.",
                        result.size_bytes(),
                        self.cfg.limits.payload_error_bytes
                    ),
                    "",
                    true,
                );
                failure.info = FailureInfo::Server {
                    non_retryable: true,
                };
                failure.source = "Server".to_string();
                AttemptOutcome::Failed(failure)
            }
            other => other,
        };
        match outcome {
            AttemptOutcome::Completed(result) => {
                self.write_activity_close(
                    now,
                    run,
                    id,
                    Some(&identity),
                    |started_event_id, identity| {
                        EventAttributes::ActivityTaskCompleted(Arc::new(ActivityTaskCompleted {
                            result,
                            scheduled_event_id: id,
                            started_event_id,
                            identity,
                            extra: Extra::new(),
                        }))
                    },
                );
            }
            AttemptOutcome::Failed(failure) => {
                self.activity_attempt_failed(now, run, id, failure, Some(identity), None);
            }
            AttemptOutcome::Canceled(details) => {
                let req = self.ms(run).activities[&id].cancel_requested_event_id;
                self.write_activity_close(
                    now,
                    run,
                    id,
                    Some(&identity),
                    |started_event_id, identity| {
                        EventAttributes::ActivityTaskCanceled(Arc::new(ActivityTaskCanceled {
                            details,
                            latest_cancel_requested_event_id: req,
                            scheduled_event_id: id,
                            started_event_id,
                            identity,
                            extra: Extra::new(),
                        }))
                    },
                );
            }
        }
        Response::Ok
    }

    /// DELIBERATE DEFECT (`Defects::accept_stale_activity_completion`): a completion whose
    /// token no longer matches a pending activity of an open run (a late attempt, a duplicate
    /// after a restart) is written anyway, as a server that skips the token check would.
    fn accept_stale_completion(
        &mut self,
        now: Timestamp,
        token: TaskToken,
        identity: String,
        result: Option<Payloads>,
        rejection: Response,
    ) -> Response {
        let Some(run) = self.runs.get(&token.exec) else {
            return rejection;
        };
        let e = &self.runs[run].exec;
        let scheduled_exists = e.ms.is_open()
            && e.history.iter().any(|ev| {
                ev.event_id == token.scheduled_event_id
                    && ev.event_type() == EventType::ActivityTaskScheduled
            });
        if !scheduled_exists {
            return rejection;
        }
        self.touch(run);
        self.append_or_buffer(
            run,
            now,
            EventAttributes::ActivityTaskCompleted(Arc::new(ActivityTaskCompleted {
                result,
                scheduled_event_id: token.scheduled_event_id,
                started_event_id: 0,
                identity,
                extra: Extra::new(),
            })),
        );
        self.schedule_wft(run, now, 1, now);
        Response::Ok
    }

    /// Handles a failed or timed-out attempt: retry per policy, or close the activity.
    fn activity_attempt_failed(
        &mut self,
        now: Timestamp,
        run: RunIdx,
        id: EventId,
        failure: Failure,
        identity: Option<String>,
        timeout: Option<TimeoutType>,
    ) {
        let a = self.ms(run).activities[&id].clone();
        let error_type = failure.error_type().unwrap_or("").to_string();
        let non_retryable = failure.is_non_retryable();
        let backoff = a.retry_policy.backoff(a.attempt);
        let within_deadline = a
            .schedule_to_close_deadline()
            .is_none_or(|d| now.plus(backoff) < d);
        let retry = a
            .retry_policy
            .should_retry(a.attempt, &error_type, non_retryable)
            && within_deadline
            && a.cancel_requested_event_id == 0;
        if retry {
            let ms = self.ms_mut(run);
            let a = ms
                .activities
                .get_mut(&id)
                .map(Arc::make_mut)
                .expect("pending");
            a.attempt += 1;
            a.started = None;
            a.attempt_ready_at = now.plus(backoff);
            a.last_failure = Some(failure);
            return;
        }
        let retry_state = if non_retryable
            || a.retry_policy
                .non_retryable_error_types
                .contains(&error_type)
        {
            RetryState::NonRetryableFailure
        } else if a.retry_policy.maximum_attempts > 0
            && a.attempt >= a.retry_policy.maximum_attempts
        {
            RetryState::MaximumAttemptsReached
        } else if !within_deadline {
            RetryState::Timeout
        } else if a.cancel_requested_event_id != 0 {
            RetryState::CancelRequested
        } else {
            RetryState::NonRetryableFailure
        };
        let identity_s = identity.clone();
        match timeout {
            None => self.write_activity_close(
                now,
                run,
                id,
                identity_s.as_deref(),
                |started_event_id, identity| {
                    EventAttributes::ActivityTaskFailed(Arc::new(ActivityTaskFailed {
                        failure: Some(failure),
                        scheduled_event_id: id,
                        started_event_id,
                        identity,
                        retry_state,
                        extra: Extra::new(),
                    }))
                },
            ),
            Some(_) => self.write_activity_close(
                now,
                run,
                id,
                identity_s.as_deref(),
                |started_event_id, _| {
                    EventAttributes::ActivityTaskTimedOut(Arc::new(ActivityTaskTimedOut {
                        failure: Some(failure),
                        scheduled_event_id: id,
                        started_event_id,
                        retry_state,
                        extra: Extra::new(),
                    }))
                },
            ),
        }
    }

    /// Writes ActivityTaskStarted (final attempt) + the close event, or buffers both while a
    /// workflow task runs, then schedules a workflow task.
    fn write_activity_close(
        &mut self,
        now: Timestamp,
        run: RunIdx,
        id: EventId,
        identity: Option<&str>,
        close: impl FnOnce(EventId, String) -> EventAttributes,
    ) {
        let a = self
            .ms_mut(run)
            .activities
            .remove(&id)
            .expect("pending activity");
        let in_flight = self.ms(run).wft_in_flight();
        let identity = identity
            .map(str::to_string)
            .or_else(|| a.started.as_ref().map(|s| s.identity.clone()))
            .unwrap_or_default();
        let started_attrs = a.started.as_ref().map(|s| {
            (
                s.time,
                EventAttributes::ActivityTaskStarted(Arc::new(ActivityTaskStarted {
                    scheduled_event_id: id,
                    identity: s.identity.clone(),
                    request_id: s.request_id.clone(),
                    attempt: a.attempt,
                    last_failure: a.last_failure.clone(),
                    extra: Extra::new(),
                })),
            )
        });
        if in_flight {
            let has_started = started_attrs.is_some();
            let ms = self.ms_mut(run);
            if let Some((t, s)) = started_attrs {
                ms.buffered.push((t, s));
            }
            // -1: "the Started event just before me", fixed when the buffer is flushed.
            ms.buffered
                .push((now, close(if has_started { -1 } else { 0 }, identity)));
        } else {
            let started_id = match started_attrs {
                Some((t, s)) => self.append(run, t, s),
                None => 0,
            };
            self.append(run, now, close(started_id, identity));
            self.schedule_wft(run, now, 1, now);
        }
    }

    // ----- time -----

    fn on_time(&mut self, run: RunIdx, now: Timestamp) {
        if !self.ms(run).is_open() {
            return;
        }
        self.touch(run);
        let exec = &self.runs[run].exec;
        // Workflow task timeouts.
        if let Some(wft) = exec.ms.wft.clone() {
            match &wft.started {
                Some(s) if s.time.plus(exec.ms.workflow_task_timeout) <= now => {
                    if !wft.is_transient() {
                        self.append(
                            run,
                            now,
                            EventAttributes::WorkflowTaskTimedOut(Arc::new(WorkflowTaskTimedOut {
                                scheduled_event_id: wft.scheduled_event_id,
                                started_event_id: s.started_event_id,
                                timeout_type: TimeoutType::StartToClose,
                                extra: Extra::new(),
                            })),
                        );
                    }
                    {
                        let ms = self.ms_mut(run);
                        ms.wft = None;
                        ms.sticky_queue = None;
                    }
                    self.flush_buffered(run);
                    let attempt = wft.attempt + 1;
                    self.schedule_wft(run, now, attempt, now.plus(wft_retry_backoff(attempt)));
                }
                None if wft.task_queue.kind == TaskQueueKind::Sticky
                    && wft.scheduled_time.plus(STICKY_SCHEDULE_TO_START) <= now =>
                {
                    self.append(
                        run,
                        now,
                        EventAttributes::WorkflowTaskTimedOut(Arc::new(WorkflowTaskTimedOut {
                            scheduled_event_id: wft.scheduled_event_id,
                            started_event_id: 0,
                            timeout_type: TimeoutType::ScheduleToStart,
                            extra: Extra::new(),
                        })),
                    );
                    {
                        let ms = self.ms_mut(run);
                        ms.wft = None;
                        ms.sticky_queue = None;
                    }
                    self.schedule_wft(run, now, wft.attempt, now);
                }
                _ => {}
            }
        }
        // Activity timeouts, in scheduled-id order.
        let activities: Vec<Arc<ActivityState>> = self.runs[run]
            .exec
            .ms
            .activities
            .values()
            .cloned()
            .collect();
        for a in activities {
            let id = a.scheduled_event_id;
            if a.schedule_to_close_deadline().is_some_and(|d| d <= now) {
                let failure = Failure::timeout(
                    TimeoutType::ScheduleToClose,
                    "activity ScheduleToClose timeout",
                );
                self.write_activity_close(now, run, id, None, |started_event_id, _| {
                    EventAttributes::ActivityTaskTimedOut(Arc::new(ActivityTaskTimedOut {
                        failure: Some(failure),
                        scheduled_event_id: id,
                        started_event_id,
                        retry_state: RetryState::Timeout,
                        extra: Extra::new(),
                    }))
                });
            } else if a.schedule_to_start_deadline().is_some_and(|d| d <= now) {
                let failure = Failure::timeout(
                    TimeoutType::ScheduleToStart,
                    "activity ScheduleToStart timeout",
                );
                self.write_activity_close(now, run, id, None, |_, _| {
                    EventAttributes::ActivityTaskTimedOut(Arc::new(ActivityTaskTimedOut {
                        failure: Some(failure),
                        scheduled_event_id: id,
                        started_event_id: 0,
                        retry_state: RetryState::Timeout,
                        extra: Extra::new(),
                    }))
                });
            } else if a.start_to_close_deadline().is_some_and(|d| d <= now) {
                let failure =
                    Failure::timeout(TimeoutType::StartToClose, "activity StartToClose timeout");
                self.activity_attempt_failed(
                    now,
                    run,
                    id,
                    failure,
                    None,
                    Some(TimeoutType::StartToClose),
                );
            } else if a.heartbeat_deadline().is_some_and(|d| d <= now) {
                let failure =
                    Failure::timeout(TimeoutType::Heartbeat, "activity Heartbeat timeout");
                self.activity_attempt_failed(
                    now,
                    run,
                    id,
                    failure,
                    None,
                    Some(TimeoutType::Heartbeat),
                );
            }
        }
        // Durable timers, in id order.
        let due: Vec<(String, TimerState)> = self.runs[run]
            .exec
            .ms
            .timers
            .iter()
            .filter(|(_, t)| t.fire_at <= now)
            .map(|(id, t)| (id.clone(), t.clone()))
            .collect();
        for (timer_id, t) in due {
            self.ms_mut(run).timers.remove(&timer_id);
            self.append_or_buffer(
                run,
                now,
                EventAttributes::TimerFired(Arc::new(TimerFired {
                    timer_id,
                    started_event_id: t.started_event_id,
                    extra: Extra::new(),
                })),
            );
            self.schedule_wft(run, now, 1, now);
        }
    }
}

#[allow(clippy::large_enum_variant)]
enum AttemptOutcome {
    Completed(Option<Payloads>),
    Failed(Failure),
    Canceled(Option<Payloads>),
}

/// Backoff before workflow task attempt `attempt` (>= 2): immediate for the second, then
/// exponential from 1 s, capped at 10 minutes.
fn wft_retry_backoff(attempt: i32) -> Duration {
    if attempt <= 2 {
        return Duration::ZERO;
    }
    let secs = 1u64 << (attempt - 3).clamp(0, 10);
    Duration::from_secs(secs.min(600))
}

fn history_response(run: &Run) -> Response {
    Response::History {
        exec: run.key.clone(),
        events: run.exec.history.clone(),
        status: run.exec.ms.status,
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
    Indexed {
        queue_entries,
        deadline,
    }
}
