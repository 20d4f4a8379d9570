//! The engine's state machine: requests and the passage of time in, history events, mutable
//! state and responses out. No I/O and no clock: `now` is passed in, writes are handed to the
//! caller to make durable before any response leaves.
//!
//! Invariants:
//! - every change to a run is one `StoreWrite` (events appended + the new mutable state);
//! - task queues and deadlines are indexes derived from mutable state (rebuilt on recovery);
//! - all iterated state is in `BTreeMap`/`BTreeSet`/`Vec`: no hash order anywhere.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use super::api::*;
use super::state::*;
use super::store::{StoreSnapshot, StoreWrite};
use crate::history::*;
use crate::transport::ReplyTo;

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

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct QueueEntry {
    ready: Timestamp,
    key: ExecKey,
    kind: TaskKind,
}

#[derive(Clone, Debug, Default)]
struct Indexed {
    queue_entries: Vec<(String, QueueEntry)>,
    deadline: Option<Timestamp>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum PollKind {
    Workflow,
    Activity,
}

#[derive(Clone, Debug)]
struct ParkedPoll {
    reply: ReplyTo,
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

/// What one step of the engine produced.
#[derive(Debug, Default)]
pub struct Step {
    /// Durable changes: write and sync these before sending `replies`.
    pub writes: Vec<StoreWrite>,
    pub replies: Vec<(ReplyTo, Response)>,
}

/// The server state machine.
pub struct Engine {
    cfg: EngineConfig,
    executions: BTreeMap<ExecKey, Execution>,
    current_run: BTreeMap<String, String>,
    /// Ready tasks per (kind, queue name), oldest first.
    queues: BTreeMap<(PollKind, String), BTreeSet<QueueEntry>>,
    deadlines: BTreeSet<(Timestamp, ExecKey)>,
    indexed: BTreeMap<ExecKey, Indexed>,
    pollers: BTreeMap<(PollKind, String), VecDeque<ParkedPoll>>,
    history_waiters: BTreeMap<ExecKey, Vec<(ReplyTo, Timestamp)>>,
    /// Deadlines of `history_waiters` (entries may outlive their waiter: checked lazily).
    waiter_deadlines: BTreeSet<(Timestamp, ExecKey)>,
    /// Events length per touched run before this step (for building writes).
    dirty: BTreeMap<ExecKey, usize>,
    dirty_current: BTreeSet<String>,
    rng: u64,
}

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn error(e: ServerError) -> Response {
    Response::Error(e)
}

fn not_found(what: impl Into<String>) -> Response {
    error(ServerError::NotFound(what.into()))
}

impl Engine {
    pub fn new(cfg: EngineConfig, seed: u64) -> Self {
        Engine {
            cfg,
            executions: BTreeMap::new(),
            current_run: BTreeMap::new(),
            queues: BTreeMap::new(),
            deadlines: BTreeSet::new(),
            indexed: BTreeMap::new(),
            pollers: BTreeMap::new(),
            history_waiters: BTreeMap::new(),
            waiter_deadlines: BTreeSet::new(),
            dirty: BTreeMap::new(),
            dirty_current: BTreeSet::new(),
            rng: seed,
        }
    }

    /// Rebuilds the engine from what the store synced: runs, then task queues and deadlines.
    pub fn recover(cfg: EngineConfig, seed: u64, snapshot: StoreSnapshot, now: Timestamp) -> Self {
        let mut engine = Engine::new(cfg, seed);
        // Continue from a different point of the id sequence than the engine that wrote the
        // snapshot started from, or a restart with the same seed would hand out the run ids
        // (and request ids) it handed out before.
        for (key, (history, _)) in &snapshot.executions {
            for b in key.run_id.bytes() {
                engine.rng ^= u64::from(b);
                splitmix(&mut engine.rng);
            }
            engine.rng ^= history.len() as u64;
            splitmix(&mut engine.rng);
        }
        engine.current_run = snapshot.current_runs;
        for (key, (history, ms)) in snapshot.executions {
            engine.executions.insert(key, Execution { history, ms });
        }
        let keys: Vec<ExecKey> = engine.executions.keys().cloned().collect();
        for key in keys {
            engine.reindex(&key, now);
        }
        engine
    }

    pub fn config(&self) -> &EngineConfig {
        &self.cfg
    }

    pub fn execution(&self, key: &ExecKey) -> Option<&Execution> {
        self.executions.get(key)
    }

    pub fn executions(&self) -> impl Iterator<Item = (&ExecKey, &Execution)> {
        self.executions.iter()
    }

    fn new_uuid(&mut self) -> String {
        let a = splitmix(&mut self.rng);
        let b = splitmix(&mut self.rng);
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
        loop {
            let run_id = self.new_uuid();
            let key = ExecKey {
                workflow_id: workflow_id.to_string(),
                run_id,
            };
            if !self.executions.contains_key(&key) {
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

    fn reindex(&mut self, key: &ExecKey, now: Timestamp) {
        if let Some(old) = self.indexed.remove(key) {
            for (q, e) in old.queue_entries {
                let k = (e.kind.poll_kind(), q);
                if let Some(set) = self.queues.get_mut(&k) {
                    set.remove(&e);
                    if set.is_empty() {
                        self.queues.remove(&k);
                    }
                }
            }
            if let Some(d) = old.deadline {
                self.deadlines.remove(&(d, key.clone()));
            }
        }
        let Some(exec) = self.executions.get(key) else {
            return;
        };
        let ms = &exec.ms;
        if !ms.is_open() {
            return;
        }
        let mut idx = Indexed::default();
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
                        idx.queue_entries.push((
                            wft.task_queue.name.clone(),
                            QueueEntry {
                                ready: wft.ready_at,
                                key: key.clone(),
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
                    idx.queue_entries.push((
                        a.task_queue.clone(),
                        QueueEntry {
                            ready: a.attempt_ready_at,
                            key: key.clone(),
                            kind: TaskKind::Activity(*id),
                        },
                    ));
                }
            }
        }
        for t in ms.timers.values() {
            consider(Some(t.fire_at));
        }
        for (q, e) in &idx.queue_entries {
            self.queues
                .entry((e.kind.poll_kind(), q.clone()))
                .or_default()
                .insert(e.clone());
        }
        if let Some(d) = deadline {
            self.deadlines.insert((d, key.clone()));
        }
        idx.deadline = deadline;
        self.indexed.insert(key.clone(), idx);
    }

    // ----- history writing -----

    fn touch(&mut self, key: &ExecKey) {
        if !self.dirty.contains_key(key) {
            let len = self.executions.get(key).map_or(0, |e| e.history.len());
            self.dirty.insert(key.clone(), len);
        }
    }

    /// Appends one event to a run's history and returns its id.
    fn append(&mut self, key: &ExecKey, time: Timestamp, attributes: EventAttributes) -> EventId {
        self.touch(key);
        let exec = self.executions.get_mut(key).expect("append to a known run");
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
    fn append_or_buffer(&mut self, key: &ExecKey, now: Timestamp, attributes: EventAttributes) {
        self.touch(key);
        let exec = self.executions.get_mut(key).expect("known run");
        if exec.ms.wft_in_flight() {
            exec.ms.buffered.push((now, attributes));
        } else {
            self.append(key, now, attributes);
        }
    }

    fn flush_buffered(&mut self, key: &ExecKey) -> bool {
        let buffered = match self.executions.get_mut(key) {
            Some(e) => std::mem::take(&mut e.ms.buffered),
            None => return false,
        };
        let any = !buffered.is_empty();
        for (time, attrs) in buffered {
            // The started id of an activity close is only known now.
            let attrs = self.fix_started_ids(key, attrs);
            self.append(key, time, attrs);
        }
        any
    }

    /// Buffered activity closes carry their Started event; started ids are assigned here.
    fn fix_started_ids(&self, key: &ExecKey, attrs: EventAttributes) -> EventAttributes {
        let next = self.executions.get(key).map_or(0, |e| e.ms.next_event_id);
        match attrs {
            EventAttributes::ActivityTaskCompleted(mut a) if a.started_event_id == -1 => {
                a.started_event_id = next - 1;
                EventAttributes::ActivityTaskCompleted(a)
            }
            EventAttributes::ActivityTaskFailed(mut a) if a.started_event_id == -1 => {
                a.started_event_id = next - 1;
                EventAttributes::ActivityTaskFailed(a)
            }
            EventAttributes::ActivityTaskTimedOut(mut a) if a.started_event_id == -1 => {
                a.started_event_id = next - 1;
                EventAttributes::ActivityTaskTimedOut(a)
            }
            EventAttributes::ActivityTaskCanceled(mut a) if a.started_event_id == -1 => {
                a.started_event_id = next - 1;
                EventAttributes::ActivityTaskCanceled(a)
            }
            other => other,
        }
    }

    /// Schedules a workflow task if none is pending and the run is open.
    fn schedule_wft(&mut self, key: &ExecKey, now: Timestamp, attempt: i32, ready_at: Timestamp) {
        let (open, pending, sticky, queue, timeout) = {
            let ms = &self.executions[key].ms;
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
                key,
                now,
                EventAttributes::WorkflowTaskScheduled(Box::new(WorkflowTaskScheduled {
                    task_queue: task_queue.clone(),
                    start_to_close_timeout: Some(timeout),
                    attempt,
                    extra: Extra::new(),
                })),
            )
        } else {
            self.touch(key);
            0
        };
        let ms = &mut self.executions.get_mut(key).expect("known run").ms;
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
        key: &ExecKey,
        now: Timestamp,
        status: WorkflowStatus,
        attrs: EventAttributes,
    ) {
        self.append(key, now, attrs);
        let ms = &mut self.executions.get_mut(key).expect("known run").ms;
        ms.status = status;
        ms.close_time = Some(now);
        ms.wft = None;
        ms.activities.clear();
        ms.timers.clear();
        ms.buffered.clear();
    }

    fn check_history_limit(&mut self, key: &ExecKey, now: Timestamp) {
        let too_long = self.executions.get(key).is_some_and(|e| {
            e.ms.is_open()
                && e.history.len() + e.ms.buffered.len() >= self.cfg.limits.history_max_events
        });
        if too_long {
            if let Some(e) = self.executions.get_mut(key) {
                e.ms.buffered.clear();
                e.ms.wft = None;
            }
            self.close(
                key,
                now,
                WorkflowStatus::Terminated,
                EventAttributes::WorkflowExecutionTerminated(Box::new(
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
    pub fn handle(&mut self, now: Timestamp, from: ReplyTo, req: Request) -> Step {
        let reply = match req {
            Request::StartWorkflow(s) => Some(self.start_workflow(now, s)),
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
            } => Some(self.fail_wft(now, token, cause, failure, identity)),
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
                AttemptOutcome::Failed(failure),
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
    pub fn tick(&mut self, now: Timestamp) -> Step {
        let mut step = Step::default();
        while let Some((t, key)) = self.deadlines.first().cloned() {
            if t > now {
                break;
            }
            self.deadlines.remove(&(t, key.clone()));
            if let Some(idx) = self.indexed.get_mut(&key) {
                idx.deadline = None;
            }
            self.on_time(&key, now);
            self.reindex(&key, now);
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
        while let Some((t, key)) = self.waiter_deadlines.first().cloned() {
            if t > now {
                break;
            }
            self.waiter_deadlines.remove(&(t, key.clone()));
            let Some(waiters) = self.history_waiters.get_mut(&key) else {
                continue;
            };
            waiters.retain(|(reply, deadline)| {
                if *deadline <= now {
                    // As Temporal's close-event long poll: an empty page with the status; the
                    // caller polls again (the full history would be copied for nothing).
                    if let Some(e) = self.executions.get(&key) {
                        step.replies.push((
                            *reply,
                            Response::History {
                                exec: key.clone(),
                                events: Vec::new(),
                                status: e.ms.status,
                            },
                        ));
                    }
                    false
                } else {
                    true
                }
            });
            if waiters.is_empty() {
                self.history_waiters.remove(&key);
            }
        }
        self.finish_step(now, &mut step);
        step
    }

    /// Common end of a step: limits, reindexing, matching parked polls, answering history
    /// waiters of closed runs, and collecting the durable writes.
    fn finish_step(&mut self, now: Timestamp, step: &mut Step) {
        let touched: Vec<ExecKey> = self.dirty.keys().cloned().collect();
        for key in &touched {
            self.check_history_limit(key, now);
            self.reindex(key, now);
        }
        self.match_pollers(now, step);
        for key in &touched {
            let closed = self.executions.get(key).is_some_and(|e| !e.ms.is_open());
            if closed {
                if let Some(waiters) = self.history_waiters.remove(key) {
                    let e = &self.executions[key];
                    for (reply, _) in waiters {
                        step.replies.push((reply, history_response(key, e)));
                    }
                }
            }
        }
        for (key, before) in std::mem::take(&mut self.dirty) {
            let exec = &self.executions[&key];
            step.writes.push(StoreWrite::Execution {
                new_events: exec.history[before..].to_vec(),
                state: Box::new(exec.ms.clone()),
                key,
            });
        }
        for wid in std::mem::take(&mut self.dirty_current) {
            if let Some(run) = self.current_run.get(&wid) {
                step.writes.push(StoreWrite::CurrentRun {
                    workflow_id: wid.clone(),
                    run_id: run.clone(),
                });
            }
        }
    }

    fn match_pollers(&mut self, now: Timestamp, step: &mut Step) {
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

    /// Forgets parked polls that a node sent before it died (its connections closed with it).
    pub fn drop_polls_from(&mut self, ip: std::net::IpAddr, killed_at: Timestamp) {
        for q in self.pollers.values_mut() {
            q.retain(|p| !(p.reply.addr.ip() == ip && p.received <= killed_at));
        }
        self.pollers.retain(|_, p| !p.is_empty());
        for w in self.history_waiters.values_mut() {
            w.retain(|(r, _)| r.addr.ip() != ip);
        }
        self.history_waiters.retain(|_, w| !w.is_empty());
    }

    fn poll(
        &mut self,
        now: Timestamp,
        from: ReplyTo,
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
        let entry = self.queues.get(key)?.first()?.clone();
        let resp = match entry.kind {
            TaskKind::Workflow => self.start_wft(now, &entry.key, identity),
            TaskKind::Activity(id) => self.start_activity(now, &entry.key, id, identity),
        };
        self.reindex(&entry.key, now);
        Some(resp)
    }

    fn start_wft(&mut self, now: Timestamp, key: &ExecKey, identity: &str) -> Response {
        let request_id = self.new_uuid();
        // New events arrived while a transient task waited: it becomes a normal task, its
        // Scheduled event written now (Temporal's AddWorkflowTaskStartedEvent does the same).
        let convert = {
            let ms = &self.executions[key].ms;
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
                key,
                now,
                EventAttributes::WorkflowTaskScheduled(Box::new(WorkflowTaskScheduled {
                    task_queue,
                    start_to_close_timeout: Some(timeout),
                    attempt,
                    extra: Extra::new(),
                })),
            );
            let wft = self
                .executions
                .get_mut(key)
                .expect("known run")
                .ms
                .wft
                .as_mut();
            wft.expect("queued wft").scheduled_event_id = id;
        }
        let (scheduled_event_id, transient, attempt, sticky) = {
            let wft = self.executions[key].ms.wft.as_ref().expect("queued wft");
            (
                wft.scheduled_event_id,
                wft.is_transient(),
                wft.attempt,
                wft.task_queue.kind == TaskQueueKind::Sticky,
            )
        };
        let started_event_id = if transient {
            self.touch(key);
            0
        } else {
            let size = self.executions[key].history.len() as i64 * 256;
            self.append(
                key,
                now,
                EventAttributes::WorkflowTaskStarted(Box::new(WorkflowTaskStarted {
                    scheduled_event_id,
                    identity: identity.to_string(),
                    request_id: request_id.clone(),
                    history_size_bytes: size,
                    extra: Extra::new(),
                })),
            )
        };
        let exec = self.executions.get_mut(key).expect("known run");
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
                attributes: EventAttributes::WorkflowTaskScheduled(Box::new(
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
                attributes: EventAttributes::WorkflowTaskStarted(Box::new(WorkflowTaskStarted {
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
        key: &ExecKey,
        scheduled_event_id: EventId,
        identity: &str,
    ) -> Response {
        let request_id = self.new_uuid();
        self.touch(key);
        let exec = self.executions.get_mut(key).expect("known run");
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

    fn resolve(&self, workflow_id: &str, run_id: Option<&str>) -> Option<ExecKey> {
        let run = match run_id {
            Some(r) if !r.is_empty() => r.to_string(),
            _ => self.current_run.get(workflow_id)?.clone(),
        };
        let key = ExecKey {
            workflow_id: workflow_id.to_string(),
            run_id: run,
        };
        self.executions.contains_key(&key).then_some(key)
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
        if let Some(key) = self.resolve(&s.workflow_id, None) {
            let ms = &self.executions[&key].ms;
            if ms.start_request_id == s.request_id {
                // A retried start: same answer, no second run.
                return Response::Started { run_id: key.run_id };
            }
            let allowed = match (ms.status, s.id_reuse_policy) {
                (WorkflowStatus::Running, _) => false,
                (_, IdReusePolicy::AllowDuplicate) => true,
                (WorkflowStatus::Completed, IdReusePolicy::AllowDuplicateFailedOnly) => false,
                (_, IdReusePolicy::AllowDuplicateFailedOnly) => true,
                (_, IdReusePolicy::RejectDuplicate) => false,
            };
            if !allowed {
                return error(ServerError::WorkflowAlreadyStarted { run_id: key.run_id });
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
        self.executions.insert(
            key.clone(),
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
        self.dirty.insert(key.clone(), 0);
        self.current_run
            .insert(workflow_id.to_string(), run_id.to_string());
        self.dirty_current.insert(workflow_id.to_string());
        self.append(
            &key,
            now,
            EventAttributes::WorkflowExecutionStarted(Box::new(WorkflowExecutionStarted {
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
        self.schedule_wft(&key, now, 1, now);
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
        let Some(key) = self.resolve(&workflow_id, run_id.as_deref()) else {
            return not_found(format!("workflow {workflow_id}"));
        };
        if !self.executions[&key].ms.is_open() {
            return not_found(format!("workflow {key} is closed"));
        }
        if !request_id.is_empty()
            && self.executions[&key]
                .ms
                .signal_request_ids
                .contains(&request_id)
        {
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
        if self.executions[&key].ms.buffered.len() >= self.cfg.limits.pending_timers {
            return error(ServerError::ResourceExhausted(
                "too many pending signals".into(),
            ));
        }
        self.touch(&key);
        {
            let ms = &mut self.executions.get_mut(&key).expect("known").ms;
            if !request_id.is_empty() {
                ms.signal_request_ids.push(request_id);
                if ms.signal_request_ids.len() > 64 {
                    ms.signal_request_ids.remove(0);
                }
            }
        }
        self.append_or_buffer(
            &key,
            now,
            EventAttributes::WorkflowExecutionSignaled(Box::new(WorkflowExecutionSignaled {
                signal_name,
                input,
                identity,
                extra: Extra::new(),
            })),
        );
        self.schedule_wft(&key, now, 1, now);
        Response::Ok
    }

    fn request_cancel(
        &mut self,
        now: Timestamp,
        workflow_id: String,
        run_id: Option<String>,
        identity: String,
    ) -> Response {
        let Some(key) = self.resolve(&workflow_id, run_id.as_deref()) else {
            return not_found(format!("workflow {workflow_id}"));
        };
        let ms = &self.executions[&key].ms;
        if !ms.is_open() {
            return not_found(format!("workflow {key} is closed"));
        }
        if ms.cancel_requested {
            return Response::Ok;
        }
        self.touch(&key);
        self.executions
            .get_mut(&key)
            .expect("known")
            .ms
            .cancel_requested = true;
        self.append_or_buffer(
            &key,
            now,
            EventAttributes::WorkflowExecutionCancelRequested(Box::new(
                WorkflowExecutionCancelRequested {
                    cause: String::new(),
                    identity,
                    extra: Extra::new(),
                },
            )),
        );
        self.schedule_wft(&key, now, 1, now);
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
        let Some(key) = self.resolve(&workflow_id, run_id.as_deref()) else {
            return not_found(format!("workflow {workflow_id}"));
        };
        if !self.executions[&key].ms.is_open() {
            return not_found(format!("workflow {key} is closed"));
        }
        self.touch(&key);
        if let Some(e) = self.executions.get_mut(&key) {
            e.ms.wft = None;
            e.ms.buffered.clear();
        }
        self.close(
            &key,
            now,
            WorkflowStatus::Terminated,
            EventAttributes::WorkflowExecutionTerminated(Box::new(WorkflowExecutionTerminated {
                reason,
                details: None,
                identity,
                extra: Extra::new(),
            })),
        );
        Response::Ok
    }

    fn describe(&self, workflow_id: String, run_id: Option<String>) -> Response {
        let Some(key) = self.resolve(&workflow_id, run_id.as_deref()) else {
            return not_found(format!("workflow {workflow_id}"));
        };
        let e = &self.executions[&key];
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
        from: ReplyTo,
        workflow_id: String,
        run_id: Option<String>,
        wait_for_close: bool,
        wait: Duration,
    ) -> Option<Response> {
        let Some(key) = self.resolve(&workflow_id, run_id.as_deref()) else {
            return Some(not_found(format!("workflow {workflow_id}")));
        };
        let e = &self.executions[&key];
        if wait_for_close && e.ms.is_open() {
            let deadline = now.plus(wait.min(self.cfg.max_long_poll));
            self.waiter_deadlines.insert((deadline, key.clone()));
            self.history_waiters
                .entry(key)
                .or_default()
                .push((from, deadline));
            return None;
        }
        Some(history_response(&key, e))
    }

    // ----- workflow tasks -----

    fn check_wft_token(&self, token: &TaskToken) -> Result<(), Response> {
        let Some(e) = self.executions.get(&token.exec) else {
            return Err(not_found(format!("workflow {}", token.exec)));
        };
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
        Ok(())
    }

    /// Writes the Scheduled/Started events of a transient task that is now closing.
    fn materialize_transient(&mut self, key: &ExecKey) -> (EventId, EventId) {
        let (wft, timeout) = {
            let ms = &self.executions[key].ms;
            (ms.wft.clone().expect("wft"), ms.workflow_task_timeout)
        };
        let started = wft.started.clone().expect("started");
        if !wft.is_transient() {
            return (wft.scheduled_event_id, started.started_event_id);
        }
        let sched = self.append(
            key,
            wft.scheduled_time,
            EventAttributes::WorkflowTaskScheduled(Box::new(WorkflowTaskScheduled {
                task_queue: wft.task_queue.clone(),
                start_to_close_timeout: Some(timeout),
                attempt: wft.attempt,
                extra: Extra::new(),
            })),
        );
        let start = self.append(
            key,
            started.time,
            EventAttributes::WorkflowTaskStarted(Box::new(WorkflowTaskStarted {
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
        key: &ExecKey,
        commands: &[Command],
    ) -> Result<(), (WorkflowTaskFailedCause, String, bool)> {
        let ms = &self.executions[key].ms;
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
        if let Err(r) = self.check_wft_token(&token) {
            return r;
        }
        let key = token.exec.clone();
        self.touch(&key);
        if let Err((cause, message, terminate)) = self.validate_commands(&key, &commands) {
            let failure = Failure::application(message.clone(), "BadCommand", true);
            self.fail_wft_inner(now, &key, cause, failure, identity.clone());
            if terminate {
                if let Some(e) = self.executions.get_mut(&key) {
                    e.ms.wft = None;
                    e.ms.buffered.clear();
                }
                self.close(
                    &key,
                    now,
                    WorkflowStatus::Terminated,
                    EventAttributes::WorkflowExecutionTerminated(Box::new(
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
        if has_terminal && !self.executions[&key].ms.buffered.is_empty() {
            let failure = Failure::application("UnhandledCommand", "UnhandledCommand", false);
            self.fail_wft_inner(
                now,
                &key,
                WorkflowTaskFailedCause::UnhandledCommand,
                failure,
                identity,
            );
            return Response::Ok;
        }
        let (sched, started) = self.materialize_transient(&key);
        let completed = self.append(
            &key,
            now,
            EventAttributes::WorkflowTaskCompleted(Box::new(WorkflowTaskCompleted {
                scheduled_event_id: sched,
                started_event_id: started,
                identity: identity.clone(),
                extra: Extra::new(),
            })),
        );
        {
            let ms = &mut self.executions.get_mut(&key).expect("known").ms;
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
            closed = self.apply_command(now, &key, completed, c, &identity, &mut needs_wft);
        }
        if !closed {
            let any = self.flush_buffered(&key);
            if any || needs_wft {
                self.schedule_wft(&key, now, 1, now);
            }
        }
        Response::Ok
    }

    /// Applies one accepted command; returns true when it closed the run. Sets `needs_wft` when
    /// the command resolved something the workflow must see in a new task.
    fn apply_command(
        &mut self,
        now: Timestamp,
        key: &ExecKey,
        completed: EventId,
        c: Command,
        identity: &str,
        needs_wft: &mut bool,
    ) -> bool {
        match c {
            Command::ScheduleActivityTask(s) => {
                let queue = if s.task_queue.name.is_empty() {
                    self.executions[key].ms.task_queue.clone()
                } else {
                    s.task_queue.name.clone()
                };
                let s2c = s.schedule_to_close_timeout.filter(|d| !d.is_zero());
                let st2c = s.start_to_close_timeout.filter(|d| !d.is_zero()).or(s2c);
                let policy = s.retry_policy.clone().unwrap_or_default().with_defaults();
                let id = self.append(
                    key,
                    now,
                    EventAttributes::ActivityTaskScheduled(Box::new(ActivityTaskScheduled {
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
                self.executions
                    .get_mut(key)
                    .expect("known")
                    .ms
                    .activities
                    .insert(
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
                let Some(a) = self.executions[key]
                    .ms
                    .activities
                    .get(&scheduled_event_id)
                    .cloned()
                else {
                    return false;
                };
                let req = self.append(
                    key,
                    now,
                    EventAttributes::ActivityTaskCancelRequested(Box::new(
                        ActivityTaskCancelRequested {
                            scheduled_event_id,
                            workflow_task_completed_event_id: completed,
                            extra: Extra::new(),
                        },
                    )),
                );
                if a.started.is_none() {
                    self.append(
                        key,
                        now,
                        EventAttributes::ActivityTaskCanceled(Box::new(ActivityTaskCanceled {
                            details: None,
                            latest_cancel_requested_event_id: req,
                            scheduled_event_id,
                            started_event_id: 0,
                            identity: identity.to_string(),
                            extra: Extra::new(),
                        })),
                    );
                    self.executions
                        .get_mut(key)
                        .expect("known")
                        .ms
                        .activities
                        .remove(&scheduled_event_id);
                    // The workflow learns of it in its next task.
                    *needs_wft = true;
                } else if let Some(a) = self
                    .executions
                    .get_mut(key)
                    .expect("known")
                    .ms
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
                    key,
                    now,
                    EventAttributes::TimerStarted(Box::new(TimerStarted {
                        timer_id: timer_id.clone(),
                        start_to_fire_timeout: Some(start_to_fire_timeout),
                        workflow_task_completed_event_id: completed,
                        extra: Extra::new(),
                    })),
                );
                self.executions
                    .get_mut(key)
                    .expect("known")
                    .ms
                    .timers
                    .insert(
                        timer_id,
                        TimerState {
                            started_event_id: id,
                            fire_at: now.plus(start_to_fire_timeout),
                        },
                    );
                false
            }
            Command::CancelTimer { timer_id } => {
                if let Some(t) = self
                    .executions
                    .get_mut(key)
                    .expect("known")
                    .ms
                    .timers
                    .remove(&timer_id)
                {
                    self.append(
                        key,
                        now,
                        EventAttributes::TimerCanceled(Box::new(TimerCanceled {
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
                    key,
                    now,
                    EventAttributes::MarkerRecorded(Box::new(MarkerRecorded {
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
                    key,
                    now,
                    WorkflowStatus::Completed,
                    EventAttributes::WorkflowExecutionCompleted(Box::new(
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
                    key,
                    now,
                    WorkflowStatus::Failed,
                    EventAttributes::WorkflowExecutionFailed(Box::new(WorkflowExecutionFailed {
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
                    key,
                    now,
                    WorkflowStatus::Canceled,
                    EventAttributes::WorkflowExecutionCanceled(Box::new(
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
                let new_run = self.new_run_id(&key.workflow_id);
                let (queue, timeout, first) = {
                    let ms = &self.executions[key].ms;
                    let first = self.executions[key]
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
                    self.executions[key].ms.workflow_type.clone()
                } else {
                    c.workflow_type.clone()
                };
                self.close(
                    key,
                    now,
                    WorkflowStatus::ContinuedAsNew,
                    EventAttributes::WorkflowExecutionContinuedAsNew(Box::new(
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
                    &key.workflow_id,
                    &new_run,
                    &workflow_type,
                    &queue,
                    c.input,
                    timeout,
                    &request_id,
                    identity,
                    Some((key.run_id.clone(), first)),
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
        if let Err(r) = self.check_wft_token(&token) {
            return r;
        }
        self.touch(&token.exec);
        self.fail_wft_inner(now, &token.exec, cause, failure, identity);
        Response::Ok
    }

    /// Records a failed workflow task (only the first failure in a row is written) and schedules
    /// the next attempt.
    fn fail_wft_inner(
        &mut self,
        now: Timestamp,
        key: &ExecKey,
        cause: WorkflowTaskFailedCause,
        failure: Failure,
        identity: String,
    ) {
        let wft = self.executions[key].ms.wft.clone().expect("wft");
        let unhandled = cause == WorkflowTaskFailedCause::UnhandledCommand;
        if !wft.is_transient() || unhandled {
            let (sched, started) = self.materialize_transient(key);
            self.append(
                key,
                now,
                EventAttributes::WorkflowTaskFailed(Box::new(WorkflowTaskFailed {
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
            let ms = &mut self.executions.get_mut(key).expect("known").ms;
            ms.wft = None;
            ms.sticky_queue = None;
        }
        self.flush_buffered(key);
        let (attempt, ready_at) = if unhandled {
            (1, now)
        } else {
            let attempt = wft.attempt + 1;
            (attempt, now.plus(wft_retry_backoff(attempt)))
        };
        self.schedule_wft(key, now, attempt, ready_at);
    }

    // ----- activities -----

    fn check_activity_token(&self, token: &TaskToken) -> Result<(), Response> {
        let Some(e) = self.executions.get(&token.exec) else {
            return Err(not_found(format!("workflow {}", token.exec)));
        };
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
            return Ok(());
        }
        if a.attempt != token.attempt || a.started.is_none() {
            return Err(not_found(format!(
                "stale activity task token (attempt {} of activity {}, current attempt {})",
                token.attempt, a.activity_id, a.attempt
            )));
        }
        Ok(())
    }

    fn heartbeat(
        &mut self,
        now: Timestamp,
        token: TaskToken,
        details: Option<Payloads>,
    ) -> Response {
        if let Err(r) = self.check_activity_token(&token) {
            return r;
        }
        self.touch(&token.exec);
        let ms = &mut self.executions.get_mut(&token.exec).expect("known").ms;
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
        if let Err(r) = self.check_activity_token(&token) {
            if self.cfg.defects.accept_stale_activity_completion {
                if let AttemptOutcome::Completed(result) = outcome {
                    return self.accept_stale_completion(now, token, identity, result, r);
                }
            }
            return r;
        }
        self.touch(&token.exec);
        let key = token.exec.clone();
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
                    &key,
                    id,
                    Some(&identity),
                    |started_event_id, identity| {
                        EventAttributes::ActivityTaskCompleted(Box::new(ActivityTaskCompleted {
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
                self.activity_attempt_failed(now, &key, id, failure, Some(identity), None);
            }
            AttemptOutcome::Canceled(details) => {
                let req = self.executions[&key].ms.activities[&id].cancel_requested_event_id;
                self.write_activity_close(
                    now,
                    &key,
                    id,
                    Some(&identity),
                    |started_event_id, identity| {
                        EventAttributes::ActivityTaskCanceled(Box::new(ActivityTaskCanceled {
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
        let key = token.exec.clone();
        let scheduled_exists = self.executions.get(&key).is_some_and(|e| {
            e.ms.is_open()
                && e.history.iter().any(|ev| {
                    ev.event_id == token.scheduled_event_id
                        && ev.event_type() == EventType::ActivityTaskScheduled
                })
        });
        if !scheduled_exists {
            return rejection;
        }
        self.touch(&key);
        self.append_or_buffer(
            &key,
            now,
            EventAttributes::ActivityTaskCompleted(Box::new(ActivityTaskCompleted {
                result,
                scheduled_event_id: token.scheduled_event_id,
                started_event_id: 0,
                identity,
                extra: Extra::new(),
            })),
        );
        self.schedule_wft(&key, now, 1, now);
        Response::Ok
    }

    /// Handles a failed or timed-out attempt: retry per policy, or close the activity.
    fn activity_attempt_failed(
        &mut self,
        now: Timestamp,
        key: &ExecKey,
        id: EventId,
        failure: Failure,
        identity: Option<String>,
        timeout: Option<TimeoutType>,
    ) {
        let a = self.executions[key].ms.activities[&id].clone();
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
            let ms = &mut self.executions.get_mut(key).expect("known").ms;
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
                key,
                id,
                identity_s.as_deref(),
                |started_event_id, identity| {
                    EventAttributes::ActivityTaskFailed(Box::new(ActivityTaskFailed {
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
                key,
                id,
                identity_s.as_deref(),
                |started_event_id, _| {
                    EventAttributes::ActivityTaskTimedOut(Box::new(ActivityTaskTimedOut {
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
        key: &ExecKey,
        id: EventId,
        identity: Option<&str>,
        close: impl FnOnce(EventId, String) -> EventAttributes,
    ) {
        let a = self
            .executions
            .get_mut(key)
            .expect("known")
            .ms
            .activities
            .remove(&id)
            .expect("pending activity");
        let in_flight = self.executions[key].ms.wft_in_flight();
        let identity = identity
            .map(str::to_string)
            .or_else(|| a.started.as_ref().map(|s| s.identity.clone()))
            .unwrap_or_default();
        let started_attrs = a.started.as_ref().map(|s| {
            (
                s.time,
                EventAttributes::ActivityTaskStarted(Box::new(ActivityTaskStarted {
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
            let ms = &mut self.executions.get_mut(key).expect("known").ms;
            if let Some((t, s)) = started_attrs {
                ms.buffered.push((t, s));
            }
            // -1: "the Started event just before me", fixed when the buffer is flushed.
            ms.buffered
                .push((now, close(if has_started { -1 } else { 0 }, identity)));
        } else {
            let started_id = match started_attrs {
                Some((t, s)) => self.append(key, t, s),
                None => 0,
            };
            self.append(key, now, close(started_id, identity));
            self.schedule_wft(key, now, 1, now);
        }
    }

    // ----- time -----

    fn on_time(&mut self, key: &ExecKey, now: Timestamp) {
        if !self.executions.get(key).is_some_and(|e| e.ms.is_open()) {
            return;
        }
        self.touch(key);
        let exec = &self.executions[key];
        // Workflow task timeouts.
        if let Some(wft) = exec.ms.wft.clone() {
            match &wft.started {
                Some(s) if s.time.plus(exec.ms.workflow_task_timeout) <= now => {
                    if !wft.is_transient() {
                        self.append(
                            key,
                            now,
                            EventAttributes::WorkflowTaskTimedOut(Box::new(WorkflowTaskTimedOut {
                                scheduled_event_id: wft.scheduled_event_id,
                                started_event_id: s.started_event_id,
                                timeout_type: TimeoutType::StartToClose,
                                extra: Extra::new(),
                            })),
                        );
                    }
                    {
                        let ms = &mut self.executions.get_mut(key).expect("known").ms;
                        ms.wft = None;
                        ms.sticky_queue = None;
                    }
                    self.flush_buffered(key);
                    let attempt = wft.attempt + 1;
                    self.schedule_wft(key, now, attempt, now.plus(wft_retry_backoff(attempt)));
                }
                None if wft.task_queue.kind == TaskQueueKind::Sticky
                    && wft.scheduled_time.plus(STICKY_SCHEDULE_TO_START) <= now =>
                {
                    self.append(
                        key,
                        now,
                        EventAttributes::WorkflowTaskTimedOut(Box::new(WorkflowTaskTimedOut {
                            scheduled_event_id: wft.scheduled_event_id,
                            started_event_id: 0,
                            timeout_type: TimeoutType::ScheduleToStart,
                            extra: Extra::new(),
                        })),
                    );
                    {
                        let ms = &mut self.executions.get_mut(key).expect("known").ms;
                        ms.wft = None;
                        ms.sticky_queue = None;
                    }
                    self.schedule_wft(key, now, wft.attempt, now);
                }
                _ => {}
            }
        }
        // Activity timeouts, in scheduled-id order.
        let activities: Vec<Arc<ActivityState>> = self.executions[key]
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
                self.write_activity_close(now, key, id, None, |started_event_id, _| {
                    EventAttributes::ActivityTaskTimedOut(Box::new(ActivityTaskTimedOut {
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
                self.write_activity_close(now, key, id, None, |_, _| {
                    EventAttributes::ActivityTaskTimedOut(Box::new(ActivityTaskTimedOut {
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
                    key,
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
                    key,
                    id,
                    failure,
                    None,
                    Some(TimeoutType::Heartbeat),
                );
            }
        }
        // Durable timers, in id order.
        let due: Vec<(String, TimerState)> = self.executions[key]
            .ms
            .timers
            .iter()
            .filter(|(_, t)| t.fire_at <= now)
            .map(|(id, t)| (id.clone(), t.clone()))
            .collect();
        for (timer_id, t) in due {
            self.executions
                .get_mut(key)
                .expect("known")
                .ms
                .timers
                .remove(&timer_id);
            self.append_or_buffer(
                key,
                now,
                EventAttributes::TimerFired(Box::new(TimerFired {
                    timer_id,
                    started_event_id: t.started_event_id,
                    extra: Extra::new(),
                })),
            );
            self.schedule_wft(key, now, 1, now);
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

fn history_response(key: &ExecKey, e: &Execution) -> Response {
    Response::History {
        exec: key.clone(),
        events: e.history.clone(),
        status: e.ms.status,
    }
}
