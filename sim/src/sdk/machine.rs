//! The deterministic executor: one run's state machine, workflow-task replay with
//! non-determinism checks, and whole-history replay.
//!
//! A batch of events is walked in order. Non-command events (activity results, timers fired,
//! signals, cancel requests) update the run's [`State`]. At a WorkflowTaskStarted the workflow
//! code runs: if the history shows that task completed, in replay mode (its commands are then
//! checked against the command events after the WorkflowTaskCompleted); if the task failed or
//! timed out, not at all (its commands were never recorded, so the next task re-runs from the
//! same state); if it is the last event of the batch, for real (its commands are returned).

// Activity results are `Result<_, Failure>` by contract with the engine and worker.
#![allow(clippy::result_large_err)]

use std::cell::RefCell;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use super::context::{
    activity_failure, parse_patch_marker, parse_side_effect_marker, Link, State, TimerResult,
    WorkflowContext, WorkflowInfo, PATCH_MARKER_NAME, SIDE_EFFECT_MARKER_NAME,
};
use super::error::WorkflowErrorKind;
use super::matching::CommandMatcher;
use super::registry::{panic_message, Registry, WorkflowRun};
use super::rng::seed_from;
use super::runtime::{undoes_live_task, unseen_events};
use crate::history::json::truncated;
use crate::history::{
    Command, EventAttributes, EventId, EventType, Failure, HistoryEvent, Payloads, RetryState,
};

mod replay;

pub use replay::{query, replay, ReplayOutcome};

/// Upper bound on polls of one workflow task (each must have made progress).
const MAX_POLLS_PER_TASK: u32 = 1_000_000;

/// Which way replay diverged from history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NonDeterminismKind {
    /// The code produced a command the history lacks.
    Extra,
    /// The history has a command event the code no longer produces.
    Missing,
    /// Command and event differ in kind, or in id/type.
    Mismatch,
    /// Workflow code waited on something outside the SDK (a tokio timer or channel, a thread):
    /// a waker was invoked by a non-SDK source (the official SDK's detection).
    Future,
}

/// A non-determinism error, naming the event and both sides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NonDeterminismError {
    /// Which way the code diverged: an extra command, a missing one, or a mismatch.
    pub kind: NonDeterminismKind,
    /// The history event where code and history diverge. For a command the code produced after
    /// the last of a task's command events: the event after them (one past the end of history if
    /// there is none).
    pub event_id: EventId,
    /// What the history has there.
    pub history: String,
    /// What the code did there.
    pub code: String,
    /// The one-line explanation (Temporal's wording where it has one).
    pub message: String,
}

impl fmt::Display for NonDeterminismError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[TMPRL1100] nondeterminism at event {}: {}",
            self.event_id,
            truncated(&self.message, MAX_ERROR_CHARS)
        )
    }
}

impl std::error::Error for NonDeterminismError {}

/// The most characters of a message (or quoted name) a workflow task error displays.
const MAX_ERROR_CHARS: usize = 2000;

/// Why a workflow task could not produce commands. The worker fails the task (the server
/// retries it); the machine should then be dropped (evicted) and the run replayed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WorkflowTaskError {
    /// WFT fails with cause NonDeterministicError.
    NonDeterminism(NonDeterminismError),
    /// The workflow code panicked: WFT fails with WorkflowWorkerUnhandledFailure.
    Panic(String),
    /// The workflow input could not be decoded.
    BadInput(String),
    /// The run's workflow type is not registered on this worker; WFT fails with
    /// WorkflowWorkerUnhandledFailure.
    UnknownWorkflowType(String),
    /// The events are not a well-formed history (gaps, a result for an unknown activity...).
    BadHistory(String),
    /// The workflow code asked for something the simulated engine does not offer yet (a child
    /// workflow, an update...); the message names it.
    Unsupported(String),
}

impl fmt::Display for WorkflowTaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Messages quote names and values from history and code, which can be of any size (a
        // 10 MB activity name); every consumer (the failure written to history, replay's report,
        // checkers) gets at most `MAX_ERROR_CHARS` of each.
        let clip = |m: &str| truncated(m, MAX_ERROR_CHARS);
        match self {
            WorkflowTaskError::NonDeterminism(e) => e.fmt(f),
            WorkflowTaskError::Panic(m) => write!(f, "workflow code panicked: {}", clip(m)),
            WorkflowTaskError::BadInput(m) => write!(f, "bad workflow input: {}", clip(m)),
            WorkflowTaskError::UnknownWorkflowType(t) => write!(
                f,
                "workflow type {:?} is not registered on this worker",
                clip(t)
            ),
            WorkflowTaskError::BadHistory(m) => write!(f, "bad history: {}", clip(m)),
            WorkflowTaskError::Unsupported(m) => {
                write!(f, "not supported by durasim's engine yet: {}", clip(m))
            }
        }
    }
}

impl std::error::Error for WorkflowTaskError {}

/// What the code's terminal command said (for [`ReplayOutcome::Closed`]).
#[derive(Clone, Debug, PartialEq)]
enum CodeOutcome {
    Completed(Option<Payloads>),
    Failed(Box<Failure>),
    Cancelled,
    ContinuedAsNew,
}

struct NoopWake;

impl Wake for NoopWake {
    fn wake(self: Arc<Self>) {}
    fn wake_by_ref(self: &Arc<Self>) {}
}

/// One workflow run's deterministic executor state: what a worker caches per run (sticky).
/// Not `Send`.
pub struct WorkflowMachine {
    registry: Registry,
    workflow_id: String,
    run_id: String,
    started: HistoryEvent,
    st: Rc<RefCell<State>>,
    root: Option<WorkflowRun>,
    waker: Waker,
    last_event_id: EventId,
    pending: CommandMatcher<Link>,
    /// `Some(WorkflowTaskCompleted id)` while the command events after it are being matched.
    window: Option<EventId>,
    /// Every event seen (kept so a failed task can be undone by replaying); `None` for
    /// one-shot [`replay`].
    retained: Option<Vec<HistoryEvent>>,
    /// WorkflowTaskStarted id of the last task run for real (not replayed).
    last_live_task: EventId,
    poisoned: Option<WorkflowTaskError>,
    outcome: Option<CodeOutcome>,
    /// The commands of the task running for real so far (local activities resolve into it).
    live_commands: Vec<Command>,
    /// Accepted updates whose handlers are still running, in acceptance order (`updates.rs`).
    updates_running: Vec<(crate::history::UpdateRequest, super::updates::UpdateRoutine)>,
}

impl fmt::Debug for WorkflowMachine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkflowMachine")
            .field("workflow_id", &self.workflow_id)
            .field("run_id", &self.run_id)
            .field("last_event_id", &self.last_event_id)
            .field("finished", &self.root.is_none())
            .finish()
    }
}

impl WorkflowMachine {
    /// A machine for the run that `started` (its WorkflowExecutionStarted event) began.
    pub fn new(
        registry: &Registry,
        workflow_id: &str,
        run_id: &str,
        started: &HistoryEvent,
    ) -> Result<Self, WorkflowTaskError> {
        Self::build(registry, workflow_id, run_id, started, true)
    }

    fn build(
        registry: &Registry,
        workflow_id: &str,
        run_id: &str,
        started: &HistoryEvent,
        retain: bool,
    ) -> Result<Self, WorkflowTaskError> {
        let EventAttributes::WorkflowExecutionStarted(s) = &started.attributes else {
            return Err(WorkflowTaskError::BadHistory(format!(
                "event {} is {}, not WorkflowExecutionStarted",
                started.event_id,
                started.event_type()
            )));
        };
        let info = WorkflowInfo {
            workflow_id: workflow_id.to_string(),
            run_id: run_id.to_string(),
            workflow_type: s.workflow_type.clone(),
            task_queue: s.task_queue.name.clone(),
            attempt: s.attempt.max(1),
        };
        let mut state = State::new(info, seed_from(run_id));
        state.now = started.event_time;
        let st = Rc::new(RefCell::new(state));
        let ctx = WorkflowContext::new(Rc::clone(&st));
        let root = match registry.start_workflow(&s.workflow_type, ctx, s.input.as_ref()) {
            None => {
                return Err(WorkflowTaskError::UnknownWorkflowType(
                    s.workflow_type.clone(),
                ))
            }
            Some(Err(e)) => return Err(WorkflowTaskError::BadInput(e)),
            Some(Ok(root)) => root,
        };
        Ok(WorkflowMachine {
            registry: registry.clone(),
            workflow_id: workflow_id.to_string(),
            run_id: run_id.to_string(),
            started: started.clone(),
            st,
            root: Some(root),
            waker: Waker::from(Arc::new(NoopWake)),
            last_event_id: started.event_id,
            pending: CommandMatcher::new(),
            window: None,
            retained: retain.then(|| vec![started.clone()]),
            last_live_task: 0,
            poisoned: None,
            outcome: None,
            live_commands: Vec::new(),
            updates_running: Vec::new(),
        })
    }

    /// The id of the last event this machine has seen.
    pub fn last_event_id(&self) -> EventId {
        self.last_event_id
    }

    /// Whether the task being run (or last run) was a replay of a recorded task.
    pub fn is_replaying(&self) -> bool {
        self.st.borrow().replaying
    }

    /// Whether the workflow code has returned (a terminal command was produced).
    pub fn is_finished(&self) -> bool {
        self.root.is_none()
    }

    /// The workflow id of the run.
    pub fn workflow_id(&self) -> &str {
        &self.workflow_id
    }

    /// The run id (it seeds the workflow RNG).
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// Feeds history events the machine has not seen yet (already-seen ids are skipped),
    /// ending with the WorkflowTaskStarted of the task to run now. Completed tasks inside the
    /// batch are replayed and checked; the current task runs and its commands are returned.
    ///
    /// After an error the machine is poisoned (every later call returns the same error): drop
    /// it and replay the run in a fresh one.
    pub fn activate(&mut self, events: &[HistoryEvent]) -> Result<Vec<Command>, WorkflowTaskError> {
        if let Some(e) = &self.poisoned {
            return Err(e.clone());
        }
        let new = unseen_events(self.last_event_id, events)?;
        // A task this machine ran for real failed or timed out: its effects on the workflow
        // state must be undone, so rebuild from the retained history and replay.
        let undone = undoes_live_task(self.last_live_task, new);
        if undone {
            if let Some(mut all) = self.retained.take() {
                all.extend_from_slice(new);
                let mut fresh = Self::build(
                    &self.registry,
                    &self.workflow_id,
                    &self.run_id,
                    &self.started,
                    true,
                )?;
                let result = fresh.process(&all[1..]);
                fresh.retained = Some(all);
                *self = fresh;
                return self.poison_on_err(result);
            }
        }
        if let Some(r) = &mut self.retained {
            r.extend_from_slice(new);
        }
        let result = self.process(new);
        self.poison_on_err(result)
    }

    fn poison_on_err<T>(
        &mut self,
        r: Result<T, WorkflowTaskError>,
    ) -> Result<T, WorkflowTaskError> {
        if let Err(e) = &r {
            self.poisoned = Some(e.clone());
        }
        r
    }

    /// Walks `events` (contiguous, after `last_event_id`); returns the commands of the task
    /// run for real, if the batch ends with one.
    fn process(&mut self, events: &[HistoryEvent]) -> Result<Vec<Command>, WorkflowTaskError> {
        let mut out = Vec::new();
        for (i, ev) in events.iter().enumerate() {
            if let Some(e) = super::runtime::unreplayable_event(ev) {
                return Err(e);
            }
            let ty = ev.event_type();
            if ty.is_command_event() {
                if self.window.is_none() {
                    return Err(WorkflowTaskError::BadHistory(format!(
                        "command event {} ({ty}) does not follow a WorkflowTaskCompleted",
                        ev.event_id
                    )));
                }
                self.match_event(ev, events, i)?;
            } else {
                if let Some(completed) = self.window {
                    if !super::matching::within_task(ev, completed) {
                        self.close_window(ev.event_id, Some(ev))?;
                    }
                }
                match &ev.attributes {
                    EventAttributes::WorkflowTaskStarted(_) => {
                        match events.get(i + 1).map(HistoryEvent::event_type) {
                            Some(EventType::WorkflowTaskCompleted) => {
                                self.run_task(ev, events, i, true)?;
                            }
                            // Never recorded: the next task re-runs from the same state.
                            Some(
                                EventType::WorkflowTaskFailed | EventType::WorkflowTaskTimedOut,
                            ) => {}
                            None => {
                                out = self.run_task(ev, events, i, false)?;
                                self.last_live_task = ev.event_id;
                            }
                            Some(other) => {
                                return Err(WorkflowTaskError::BadHistory(format!(
                                    "WorkflowTaskStarted {} is followed by {other}",
                                    ev.event_id
                                )))
                            }
                        }
                    }
                    EventAttributes::WorkflowTaskCompleted(_) => {
                        self.window = Some(ev.event_id);
                    }
                    _ => self.apply(ev)?,
                }
            }
            self.last_event_id = ev.event_id;
        }
        Ok(out)
    }

    /// Applies a non-command event to the workflow state.
    fn apply(&mut self, ev: &HistoryEvent) -> Result<(), WorkflowTaskError> {
        let mut st = self.st.borrow_mut();
        let st = &mut *st;
        match &ev.attributes {
            EventAttributes::ActivityTaskCompleted(a) => {
                resolve_activity(st, a.scheduled_event_id, ev.event_id, |_| {
                    Ok(a.result.clone())
                })?;
            }
            EventAttributes::ActivityTaskFailed(a) => {
                resolve_activity(st, a.scheduled_event_id, ev.event_id, |slot| {
                    Err(activity_failure(
                        "Activity task failed",
                        slot,
                        a.started_event_id,
                        &a.identity,
                        a.retry_state,
                        a.failure.clone(),
                    ))
                })?;
            }
            EventAttributes::ActivityTaskTimedOut(a) => {
                resolve_activity(st, a.scheduled_event_id, ev.event_id, |slot| {
                    Err(activity_failure(
                        "Activity task timed out",
                        slot,
                        a.started_event_id,
                        "",
                        a.retry_state,
                        a.failure.clone(),
                    ))
                })?;
            }
            EventAttributes::ActivityTaskCanceled(a) => {
                resolve_activity(st, a.scheduled_event_id, ev.event_id, |slot| {
                    Err(activity_failure(
                        "Activity cancelled",
                        slot,
                        a.started_event_id,
                        &a.identity,
                        RetryState::CancelRequested,
                        Some(Failure::canceled("Activity cancelled")),
                    ))
                })?;
            }
            EventAttributes::TimerFired(t) => {
                let Some(seq) = st.timer_by_id.get(&t.timer_id).copied() else {
                    return Err(WorkflowTaskError::BadHistory(format!(
                        "TimerFired {} for timer {:?} that the workflow did not start",
                        ev.event_id, t.timer_id
                    )));
                };
                if let Some(slot) = st.timers.get_mut(&seq) {
                    if slot.result.is_none() {
                        slot.result = Some(TimerResult::Fired);
                    }
                }
            }
            EventAttributes::WorkflowExecutionSignaled(s) => {
                st.signals
                    .entry(s.signal_name.clone())
                    .or_default()
                    .push_back(s.input.clone());
            }
            EventAttributes::WorkflowExecutionCancelRequested(_) => {
                st.cancel_requested = true;
            }
            _ => super::children::apply_event(st, ev)?,
        }
        Ok(())
    }

    /// Runs the workflow code for the task started by `events[i]`.
    fn run_task(
        &mut self,
        started: &HistoryEvent,
        events: &[HistoryEvent],
        i: usize,
        replaying: bool,
    ) -> Result<Vec<Command>, WorkflowTaskError> {
        {
            let mut st = self.st.borrow_mut();
            st.now = st.now.max(started.event_time);
            st.replaying = replaying;
            if replaying {
                // What Temporal core announces before activating a replayed task: the patch and
                // side-effect markers that task recorded.
                for ev in events[i + 2..]
                    .iter()
                    .take_while(|e| e.event_type().is_command_event())
                {
                    if let EventAttributes::MarkerRecorded(m) = &ev.attributes {
                        if m.marker_name == PATCH_MARKER_NAME {
                            if let Some((id, _)) = parse_patch_marker(&m.details) {
                                st.patches_notified.insert(id);
                            }
                        } else if m.marker_name == SIDE_EFFECT_MARKER_NAME {
                            if let Some((seq, data)) = parse_side_effect_marker(&m.details) {
                                st.side_effects.insert(seq, data);
                            }
                        } else if m.marker_name == super::local_activity::LOCAL_ACTIVITY_MARKER_NAME
                        {
                            super::local_activity::note_recorded(&mut st, &m.details, &m.failure);
                        }
                    }
                }
            }
        }
        self.poll_workflow()?;
        // Update requests go to the handlers the first poll registered.
        let incoming = if replaying {
            let command_events: Vec<HistoryEvent> = events[i + 2..]
                .iter()
                .take_while(|e| e.event_type().is_command_event())
                .cloned()
                .collect();
            super::updates::replayed_requests(&command_events)
        } else {
            std::mem::take(&mut self.st.borrow_mut().messages.requests)
        };
        if !incoming.is_empty() {
            self.start_updates(started.event_id, &incoming, replaying)?;
            self.poll_workflow()?;
        }
        self.check_local_activities(started.event_id)?;
        let out = self.drain_commands(replaying);
        self.st.borrow_mut().side_effects.clear();
        self.st.borrow_mut().locals.recorded.clear();
        if !replaying {
            self.live_commands = out.clone();
        }
        Ok(out)
    }

    /// A local activity the replayed task `task` has no (matching) marker for is a
    /// non-determinism error.
    fn check_local_activities(&mut self, task: EventId) -> Result<(), WorkflowTaskError> {
        let Some((history, code)) = self.st.borrow_mut().locals.mismatch.take() else {
            return Ok(());
        };
        Err(WorkflowTaskError::NonDeterminism(NonDeterminismError {
            kind: NonDeterminismKind::Mismatch,
            event_id: task,
            message: format!(
                "[TMPRL1100] the workflow task started at event {task} recorded {history}, but the code asked for {code}"
            ),
            history,
            code,
        }))
    }

    /// Moves the commands the code issued since the last drain into the pending matcher, and
    /// returns them unless replaying.
    fn drain_commands(&mut self, replaying: bool) -> Vec<Command> {
        let emitted = std::mem::take(&mut self.st.borrow_mut().commands);
        let mut out = Vec::with_capacity(if replaying { 0 } else { emitted.len() });
        {
            let mut st = self.st.borrow_mut();
            for e in emitted {
                match e.link {
                    Link::Activity(seq) => {
                        if let Some(s) = st.activities.get_mut(&seq) {
                            s.cmd_index = None;
                        }
                    }
                    Link::Timer(seq) => {
                        if let Some(s) = st.timers.get_mut(&seq) {
                            s.cmd_index = None;
                            s.started = !e.dropped;
                        }
                    }
                    Link::Child(seq) => {
                        if let Some(s) = st.children.get_mut(&seq) {
                            s.cmd_index = None;
                        }
                    }
                    Link::External(seq) => {
                        if let Some(s) = st.externals.get_mut(&seq) {
                            s.cmd_index = None;
                        }
                    }
                    Link::None => {}
                }
                if e.dropped {
                    continue;
                }
                self.pending.push(&e.cmd, e.link);
                if !replaying {
                    out.push(e.cmd);
                }
            }
        }
        out
    }

    /// Resolves local activities of the task running for real and runs the code on; returns
    /// all the task's commands so far.
    fn resolve_locals(
        &mut self,
        results: Vec<super::runtime::LocalActivityResult>,
    ) -> Result<Vec<Command>, WorkflowTaskError> {
        super::local_activity::resolve(&mut self.st.borrow_mut(), results);
        self.poll_workflow()?;
        let more = self.drain_commands(false);
        self.live_commands.extend(more);
        Ok(self.live_commands.clone())
    }

    /// Validates and accepts the task's update requests; accepted handlers start running.
    fn start_updates(
        &mut self,
        task: EventId,
        incoming: &[super::updates::IncomingUpdate],
        replaying: bool,
    ) -> Result<(), WorkflowTaskError> {
        let ctx = WorkflowContext::new(Rc::clone(&self.st));
        for u in incoming {
            match super::updates::start_update(&ctx, u, replaying) {
                Ok(super::updates::Started::Accepted(routine)) => {
                    self.updates_running.push((u.request.clone(), routine));
                }
                Ok(super::updates::Started::Rejected) => {}
                Err(message) => {
                    return Err(WorkflowTaskError::NonDeterminism(NonDeterminismError {
                        kind: NonDeterminismKind::Mismatch,
                        event_id: task,
                        message: format!(
                            "[TMPRL1100] the workflow task started at event {task} accepted \
                             update {}, but the code cannot run it: {message}",
                            u.request.update_id()
                        ),
                        history: format!("update {} ({})", u.request.update_id(), u.request.name()),
                        code: "no handler".to_string(),
                    }));
                }
            }
        }
        Ok(())
    }

    /// Polls each running update handler once; those that returned send their response.
    fn poll_updates(&mut self, cx: &mut Context<'_>) -> Result<(), WorkflowTaskError> {
        let mut k = 0;
        while k < self.updates_running.len() {
            let polled = {
                let routine = &mut self.updates_running[k].1;
                catch_unwind(AssertUnwindSafe(|| routine.as_mut().poll(cx)))
            };
            match polled {
                Err(p) => return Err(WorkflowTaskError::Panic(panic_message(p.as_ref()))),
                Ok(Poll::Pending) => k += 1,
                Ok(Poll::Ready(result)) => {
                    let (request, _) = self.updates_running.remove(k);
                    let replaying = self.st.borrow().replaying;
                    let ctx = WorkflowContext::new(Rc::clone(&self.st));
                    super::updates::complete_update(&ctx, &request, result, replaying);
                }
            }
        }
        Ok(())
    }

    /// Polls the workflow (and its running update handlers) until it finishes or a poll
    /// changes nothing.
    fn poll_workflow(&mut self) -> Result<(), WorkflowTaskError> {
        let waker = self.waker.clone();
        let mut cx = Context::from_waker(&waker);
        if self.root.is_none() {
            return Ok(());
        }
        let mut rechecked = false;
        for _ in 0..MAX_POLLS_PER_TASK {
            let before = self.st.borrow().progress;
            let Some(root) = self.root.as_mut() else {
                return Ok(());
            };
            let polled = catch_unwind(AssertUnwindSafe(|| root.as_mut().poll(&mut cx)));
            match polled {
                Err(p) => {
                    let msg = panic_message(p.as_ref());
                    self.root = None;
                    return Err(WorkflowTaskError::Panic(msg));
                }
                Ok(Poll::Ready(result)) => {
                    self.root = None;
                    self.finish(result);
                    return Ok(());
                }
                Ok(Poll::Pending) => {
                    self.poll_updates(&mut cx)?;
                    let st = self.st.borrow();
                    if st.progress != before {
                        rechecked = false;
                    } else if st.waiting_conditions > 0 && !rechecked {
                        // A condition may depend on state changed later in the same poll.
                        rechecked = true;
                    } else {
                        return Ok(());
                    }
                }
            }
        }
        Err(WorkflowTaskError::Panic(format!(
            "workflow task did not settle after {MAX_POLLS_PER_TASK} polls"
        )))
    }

    fn finish(&mut self, result: Result<Option<Payloads>, super::error::WorkflowError>) {
        let (cmd, outcome) = match result {
            Ok(result) => (
                Command::CompleteWorkflowExecution {
                    result: result.clone(),
                },
                CodeOutcome::Completed(result),
            ),
            Err(e) => match e.kind {
                WorkflowErrorKind::Failed(failure) => (
                    Command::FailWorkflowExecution {
                        failure: (*failure).clone(),
                    },
                    CodeOutcome::Failed(failure),
                ),
                WorkflowErrorKind::Cancelled { details } => (
                    Command::CancelWorkflowExecution { details },
                    CodeOutcome::Cancelled,
                ),
                WorkflowErrorKind::ContinueAsNew(c) => (
                    Command::ContinueAsNewWorkflowExecution(*c),
                    CodeOutcome::ContinuedAsNew,
                ),
            },
        };
        self.st.borrow_mut().emit(cmd, Link::None);
        self.outcome = Some(outcome);
    }

    /// Matches command event `events[i]` against the next pending command.
    fn match_event(
        &mut self,
        ev: &HistoryEvent,
        events: &[HistoryEvent],
        i: usize,
    ) -> Result<(), WorkflowTaskError> {
        match self.pending.match_event(events, i)? {
            Some(Link::Activity(seq)) => {
                let mut st = self.st.borrow_mut();
                st.activity_by_event.insert(ev.event_id, seq);
                if let Some(slot) = st.activities.get_mut(&seq) {
                    slot.scheduled_event_id = Some(ev.event_id);
                }
            }
            Some(Link::Child(seq)) => {
                let mut st = self.st.borrow_mut();
                st.child_by_event.insert(ev.event_id, seq);
                if let Some(slot) = st.children.get_mut(&seq) {
                    slot.initiated_event_id = Some(ev.event_id);
                }
            }
            Some(Link::External(seq)) => {
                self.st
                    .borrow_mut()
                    .external_by_event
                    .insert(ev.event_id, seq);
            }
            _ => {}
        }
        Ok(())
    }

    /// Ends the command events of a completed task: every command must have been matched.
    fn close_window(
        &mut self,
        at: EventId,
        next: Option<&HistoryEvent>,
    ) -> Result<(), WorkflowTaskError> {
        self.window = None;
        self.pending.close(at, next)
    }
}

fn resolve_activity(
    st: &mut State,
    scheduled_event_id: EventId,
    event_id: EventId,
    result: impl FnOnce(&super::context::ActivitySlot) -> Result<Option<Payloads>, Failure>,
) -> Result<(), WorkflowTaskError> {
    let Some(seq) = st.activity_by_event.get(&scheduled_event_id).copied() else {
        return Err(WorkflowTaskError::BadHistory(format!(
            "event {event_id} resolves scheduled event {scheduled_event_id}, which the workflow did not schedule"
        )));
    };
    if let Some(slot) = st.activities.get_mut(&seq) {
        if slot.result.is_none() {
            slot.result = Some(Box::new(result(slot)));
        }
    }
    Ok(())
}

impl super::runtime::WorkflowExecutor for WorkflowMachine {
    fn last_event_id(&self) -> EventId {
        WorkflowMachine::last_event_id(self)
    }

    fn activate(&mut self, events: &[HistoryEvent]) -> Result<Vec<Command>, WorkflowTaskError> {
        WorkflowMachine::activate(self, events)
    }

    fn take_local_activities(&mut self) -> Vec<super::runtime::LocalActivityRequest> {
        std::mem::take(&mut self.st.borrow_mut().locals.requests)
    }

    fn deliver_messages(
        &mut self,
        messages: Vec<crate::history::ProtocolMessage>,
    ) -> Result<(), WorkflowTaskError> {
        self.st.borrow_mut().messages.requests = super::updates::live_requests(messages);
        Ok(())
    }

    fn take_messages(&mut self) -> Vec<crate::history::ProtocolMessage> {
        std::mem::take(&mut self.st.borrow_mut().messages.outgoing)
    }

    fn resolve_local_activities(
        &mut self,
        results: Vec<super::runtime::LocalActivityResult>,
    ) -> Result<Vec<Command>, WorkflowTaskError> {
        if let Some(e) = &self.poisoned {
            return Err(e.clone());
        }
        let r = self.resolve_locals(results);
        self.poison_on_err(r)
    }
}
