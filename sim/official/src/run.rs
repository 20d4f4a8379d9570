//! One run of an official-SDK workflow inside a durasim worker: what sdk-core does between a
//! history and the SDK's workflow code.
//!
//! History events are walked in order, as durasim's own executor does. Non-command events become
//! activation jobs (ActivityTaskCompleted -> ResolveActivity, TimerFired -> FireTimer,
//! WorkflowExecutionSignaled -> SignalWorkflow, ...), gathered until the next workflow task. At a
//! WorkflowTaskStarted the jobs are sorted as core sorts them and applied to the SDK's
//! `WorkflowInstance`; its routines (main, signal handlers) are polled until none makes progress;
//! the `WorkflowCommand`s it pushed become durasim [`Command`]s. If history shows the task
//! completed, the commands are matched against the command events after it (a
//! [`CommandMatcher`]: `[TMPRL1100]` on a mismatch); if the task is the last event, they are
//! returned to the worker.
//!
//! Core's local rules are reproduced where they change history: a timer started and cancelled in
//! one task leaves no command; an activity cancelled before its schedule was sent is dropped and
//! resolved as cancelled; TRY_CANCEL and ABANDON resolve the activity as cancelled at once (a
//! further activation in the same task), WAIT_CANCELLATION_COMPLETED waits for its event.
//!
//! Invariant: no clock, no thread, no randomness but the seed core derives from the run id;
//! ordered maps only.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::hash::{Hash, Hasher};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Wake, Waker};

use sim::history::{
    Command, ContinueAsNewWorkflowExecution, EventAttributes, EventId, EventType, Failure,
    FailureInfo, HistoryEvent, Payloads, RetryState, ScheduleActivityTask, TaskQueue,
};
use sim::sdk::{
    parse_patch_marker, undoes_live_task, unreplayable_event, unseen_events, within_task,
    CommandMatcher, LocalActivityRequest, LocalActivityResult, NonDeterminismError,
    NonDeterminismKind, WorkflowExecutor, WorkflowTaskError, PATCH_MARKER_NAME,
};
use temporalio_common::protos::coresdk::activity_result::{
    activity_resolution::Status as Resolution, ActivityResolution, Cancellation, DoBackoff,
    Failure as ActivityFailed, Success,
};
use temporalio_common::protos::coresdk::common::{
    build_has_change_marker_details, build_local_activity_marker_details,
    extract_local_activity_marker_data,
};
use temporalio_common::protos::coresdk::external_data::LocalActivityMarkerData;
use temporalio_common::protos::coresdk::workflow_activation::{
    workflow_activation_job::Variant as Job, CancelWorkflow, FireTimer, InitializeWorkflow,
    NotifyHasPatch, ResolveActivity, SignalWorkflow, WorkflowActivation, WorkflowActivationJob,
};
use temporalio_common::protos::coresdk::workflow_commands::{
    workflow_command::Variant as Cmd, WorkflowCommand,
};
use temporalio_common::protos::temporal::api::common::v1 as common;
use temporalio_workflow::__private::sdk::{
    is_sdk_wake, ActivationJobResult, MainRoutineCompletion, RoutineCompletion, RoutineId,
    RoutineKind, TerminalOutcome, WorkflowHost, WorkflowInstance, MAIN_ROUTINE_ID,
};

use crate::convert::{
    duration_in, duration_out, failure_in, failure_out, payload_in, payload_list_in,
    payload_list_out, payload_out, payloads_in, retry_policy_in, retry_policy_out, timestamp_out,
};
use crate::WorkflowDef;

/// Upper bound on polling passes in one activation (each must have made progress).
const MAX_PASSES: u32 = 100_000;
/// Upper bound on activations in one workflow task (local resolutions chain them).
const MAX_ACTIVATIONS_PER_TASK: u32 = 10_000;

/// Marker name of local activity results (core's `LOCAL_ACTIVITY_MARKER_NAME`).
const LOCAL_ACTIVITY_MARKER_NAME: &str = "core_local_activity";

/// Core's internal flags this host behaves by (`CoreInternalFlags`): id and type determinism
/// checks (1) and terminal commands moved last (3). Flag 2 (a search-attribute upsert with every
/// patch) is not claimed: the engine has no search attributes yet.
const CORE_FLAGS: [u64; 2] = [1, 3];
/// What the official SDK's client reports as its name and version (core writes them into the
/// first task's `sdkMetadata`).
const SDK_NAME: &str = "temporal-rust";
const SDK_VERSION: &str = "1.1.2";

/// `ActivityCancellationType` values.
const TRY_CANCEL: i32 = 0;
const ABANDON: i32 = 2;

/// Collects the commands the workflow code pushes.
#[derive(Default)]
struct Sink {
    commands: RefCell<Vec<WorkflowCommand>>,
}

impl WorkflowHost for Sink {
    fn set_current_details(&self, _details: String) {}

    fn push_command(&self, command: WorkflowCommand) {
        self.commands.borrow_mut().push(command);
    }
}

/// The waker workflow code is polled with. Like the SDK's own `WakeTracker`: a wake that does
/// not come from the SDK (`is_sdk_wake`) means the code awaited something outside it (a tokio
/// timer, channel or I/O, a thread), which replay cannot reproduce.
struct Tracker {
    foreign_wake: Arc<AtomicBool>,
}

impl Wake for Tracker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !is_sdk_wake() {
            self.foreign_wake.store(true, Ordering::Release);
        }
    }
}

/// What the run knows about one activity, by sequence number.
#[derive(Clone, Debug)]
struct ActivityMeta {
    activity_id: String,
    activity_type: String,
    scheduled_event_id: EventId,
    cancellation_type: i32,
    /// Resolved for the code already (cancelled locally); later events for it are ignored.
    resolved: bool,
}

mod children;
mod commands;
mod drive;
mod local;
use local::local_marker_data;
mod updates;

/// Ties a command's event back to the run's state.
#[derive(Clone, Copy, Debug)]
enum Link {
    Activity(u32),
    /// A child's start (`children.rs`).
    Child(u32),
    /// A signal to another workflow.
    Signal(u32),
    /// A cancel request to another workflow.
    CancelExternal(u32),
    /// A cancel request for child `seq`.
    ChildCancel(u32),
    Other,
}

/// What the code's terminal command said (for whole-history replay).
#[derive(Clone, Debug)]
pub(crate) enum CodeOutcome {
    Completed(Option<Payloads>),
    Failed(Box<Failure>),
    Cancelled,
    ContinuedAsNew,
}

/// One official-SDK workflow run (what a worker caches per run).
pub(crate) struct OfficialRun {
    def: Arc<WorkflowDef>,
    workflow_id: String,
    run_id: String,
    started: HistoryEvent,
    task_queue: String,
    instance: Option<Box<dyn WorkflowInstance>>,
    /// The instance after its main routine ended (queries of a closed run read it).
    finished: Option<Box<dyn WorkflowInstance>>,
    sink: Rc<Sink>,
    routines: Vec<RoutineId>,
    waker: Waker,
    foreign_wake: Arc<AtomicBool>,
    /// The WorkflowTaskStarted of the task being run (for error messages).
    current_task: EventId,
    initialized: bool,
    last_event_id: EventId,
    jobs: Vec<Job>,
    matcher: CommandMatcher<Link>,
    /// The WorkflowTaskCompleted id while a replayed task's command events are being matched.
    window: Option<EventId>,
    /// Started timers (seq) by timer id.
    timers: BTreeMap<String, u32>,
    activities: BTreeMap<u32, ActivityMeta>,
    activity_by_event: BTreeMap<EventId, u32>,
    /// Every event seen, so a failed live task can be undone by replaying; `None` for one-shot
    /// replay.
    retained: Option<Vec<HistoryEvent>>,
    last_live_task: EventId,
    poisoned: Option<WorkflowTaskError>,
    pub(crate) outcome: Option<CodeOutcome>,
    /// Core flags, SDK name and version recorded in history so far (`sdkMetadata`).
    known_flags: BTreeSet<u64>,
    last_sdk: (String, String),
    /// The `sdkMetadata` of the live task just run, for its WorkflowTaskCompleted.
    metadata: Option<sim::history::JsonMap>,
    /// The workflow task being run.
    task: TaskState,
    /// Local activities asked for and not yet handed to the worker.
    local_requests: Vec<LocalActivityRequest>,
    /// Local activities the running task waits on, by sequence number.
    local_waiting: BTreeMap<u32, LocalMeta>,
    /// Children started, by sequence number (`children.rs`).
    children: BTreeMap<u32, children::ChildMeta>,
    /// StartChildWorkflowExecutionInitiated event -> child sequence number.
    child_by_event: BTreeMap<EventId, u32>,
    /// Signal/RequestCancel...Initiated event -> what it answers to.
    external_by_event: BTreeMap<EventId, children::External>,
    /// Update requests, answers and messages (`updates.rs`).
    updates: updates::Updates,
}

/// One workflow task in progress.
#[derive(Default)]
struct TaskState {
    /// Its WorkflowTaskStarted time (workflow time during the task).
    time: sim::history::Timestamp,
    history_length: u32,
    replaying: bool,
    /// Local-activity markers the task recorded (replay), by sequence number.
    markers: BTreeMap<u32, (sim::history::MarkerDetails, Option<Failure>)>,
    /// Its commands so far.
    commands: Vec<(Command, Link)>,
    /// Activations applied in it so far.
    activations: u64,
}

/// What a local activity's marker records about it.
#[derive(Clone, Debug)]
struct LocalMeta {
    activity_id: String,
    activity_type: String,
    original_schedule_time: Option<prost_types::Timestamp>,
}

impl OfficialRun {
    pub(crate) fn new(
        def: Arc<WorkflowDef>,
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
        let seed_run = if s.original_execution_run_id.is_empty() {
            run_id
        } else {
            &s.original_execution_run_id
        };
        let init = InitializeWorkflow {
            workflow_type: s.workflow_type.clone(),
            workflow_id: workflow_id.to_string(),
            arguments: payload_list_out(s.input.as_ref()),
            randomness_seed: randomness_seed(seed_run),
            identity: s.identity.clone(),
            workflow_execution_timeout: duration_out(s.workflow_execution_timeout),
            workflow_run_timeout: duration_out(s.workflow_run_timeout),
            workflow_task_timeout: duration_out(s.workflow_task_timeout),
            continued_from_execution_run_id: s
                .continued_execution_run_id
                .clone()
                .unwrap_or_default(),
            first_execution_run_id: s.first_execution_run_id.clone(),
            original_execution_run_id: s.original_execution_run_id.clone(),
            retry_policy: retry_policy_out(s.retry_policy.as_ref()),
            attempt: s.attempt.max(1),
            start_time: Some(timestamp_out(started.event_time)),
            // The run's memo and search attributes as it started (the SDK's local view).
            memo: s.memo.as_ref().map(|m| common::Memo {
                fields: m
                    .fields
                    .iter()
                    .map(|(k, v)| (k.clone(), payload_out(v)))
                    .collect(),
            }),
            search_attributes: s
                .search_attributes
                .as_ref()
                .map(|a| common::SearchAttributes {
                    indexed_fields: a
                        .indexed_fields
                        .iter()
                        .map(|(k, v)| (k.clone(), payload_out(v)))
                        .collect(),
                }),
            ..Default::default()
        };
        let sink = Rc::new(Sink::default());
        let foreign_wake = Arc::new(AtomicBool::new(false));
        let instance = (def.instantiate)(
            &s.task_queue.name,
            run_id,
            init.clone(),
            sink.clone() as Rc<dyn WorkflowHost>,
        )
        .map_err(WorkflowTaskError::BadInput)?;
        Ok(OfficialRun {
            def,
            workflow_id: workflow_id.to_string(),
            run_id: run_id.to_string(),
            started: started.clone(),
            task_queue: s.task_queue.name.clone(),
            instance: Some(instance),
            finished: None,
            sink,
            routines: Vec::new(),
            waker: Waker::from(Arc::new(Tracker {
                foreign_wake: Arc::clone(&foreign_wake),
            })),
            foreign_wake,
            current_task: 0,
            initialized: false,
            last_event_id: started.event_id,
            jobs: vec![Job::InitializeWorkflow(init)],
            matcher: CommandMatcher::new(),
            window: None,
            timers: BTreeMap::new(),
            activities: BTreeMap::new(),
            activity_by_event: BTreeMap::new(),
            retained: retain.then(|| vec![started.clone()]),
            last_live_task: 0,
            poisoned: None,
            outcome: None,
            known_flags: BTreeSet::new(),
            last_sdk: (String::new(), String::new()),
            metadata: None,
            task: TaskState::default(),
            local_requests: Vec::new(),
            local_waiting: BTreeMap::new(),
            children: BTreeMap::new(),
            child_by_event: BTreeMap::new(),
            external_by_event: BTreeMap::new(),
            updates: updates::Updates::default(),
        })
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
    pub(crate) fn process(
        &mut self,
        events: &[HistoryEvent],
    ) -> Result<Vec<Command>, WorkflowTaskError> {
        let mut out = Vec::new();
        for (i, ev) in events.iter().enumerate() {
            if let Some(e) = unreplayable_event(ev) {
                return Err(e);
            }
            let ty = ev.event_type();
            // Live update requests the code sees before this event (`updates.rs`).
            self.live_update_jobs(ev.event_id);
            if ty.is_command_event() {
                if self.window.is_none() {
                    return Err(WorkflowTaskError::BadHistory(format!(
                        "command event {} ({ty}) does not follow a WorkflowTaskCompleted",
                        ev.event_id
                    )));
                }
                match self.matcher.match_event(events, i)? {
                    Some(Link::Activity(seq)) => {
                        self.activity_by_event.insert(ev.event_id, seq);
                        if let Some(m) = self.activities.get_mut(&seq) {
                            m.scheduled_event_id = ev.event_id;
                        }
                    }
                    Some(link) => self.link_family_event(link, ev.event_id),
                    None => {}
                }
            } else {
                if let Some(completed) = self.window {
                    if !within_task(ev, completed) {
                        self.window = None;
                        self.matcher.close(ev.event_id, Some(ev))?;
                    }
                }
                match &ev.attributes {
                    EventAttributes::WorkflowTaskStarted(_) => {
                        match events.get(i + 1).map(HistoryEvent::event_type) {
                            Some(EventType::WorkflowTaskCompleted) => {
                                self.run_task(ev, &events[i + 2..], true)?;
                            }
                            // Never recorded: the next task sees the same jobs.
                            Some(
                                EventType::WorkflowTaskFailed | EventType::WorkflowTaskTimedOut,
                            ) => {}
                            None => {
                                out = self.run_task(ev, &[], false)?;
                                self.last_live_task = ev.event_id;
                                self.metadata = Some(self.gather_metadata());
                            }
                            Some(other) => {
                                return Err(WorkflowTaskError::BadHistory(format!(
                                    "WorkflowTaskStarted {} is followed by {other}",
                                    ev.event_id
                                )))
                            }
                        }
                    }
                    EventAttributes::WorkflowTaskCompleted(c) => {
                        self.window = Some(ev.event_id);
                        self.read_metadata(&c.extra);
                    }
                    _ => self.apply(ev)?,
                }
            }
            self.last_event_id = ev.event_id;
        }
        // Requests for a task the batch does not run are not the code's to see.
        self.updates.clear_live();
        Ok(out)
    }

    /// Takes in what a completed task recorded about its SDK (`sdkMetadata`).
    fn read_metadata(&mut self, extra: &sim::history::Extra) {
        let Some(m) = extra.get("sdkMetadata").and_then(|m| m.as_object()) else {
            return;
        };
        if let Some(flags) = m.get("coreUsedFlags").and_then(|f| f.as_array()) {
            self.known_flags
                .extend(flags.iter().filter_map(|f| f.as_u64()));
        }
        if let Some(n) = m.get("sdkName").and_then(|n| n.as_str()) {
            if !n.is_empty() {
                self.last_sdk.0 = n.to_string();
            }
        }
        if let Some(v) = m.get("sdkVersion").and_then(|v| v.as_str()) {
            if !v.is_empty() {
                self.last_sdk.1 = v.to_string();
            }
        }
    }

    /// What core writes into a live task's completion: the flags it uses that history does not
    /// record yet, and the SDK's name and version when they differ from the last recorded.
    fn gather_metadata(&mut self) -> sim::history::JsonMap {
        let mut m = sim::history::JsonMap::new();
        let new: Vec<u64> = CORE_FLAGS
            .iter()
            .copied()
            .filter(|f| !self.known_flags.contains(f))
            .collect();
        if !new.is_empty() {
            self.known_flags.extend(&new);
            m.insert("coreUsedFlags".into(), serde_json::json!(new));
        }
        if self.last_sdk.0 != SDK_NAME {
            m.insert("sdkName".into(), SDK_NAME.into());
        }
        if self.last_sdk.1 != SDK_VERSION {
            m.insert("sdkVersion".into(), SDK_VERSION.into());
        }
        self.last_sdk = (SDK_NAME.to_string(), SDK_VERSION.to_string());
        m
    }

    /// Ends whole-history replay: the last task's commands must all have been matched.
    pub(crate) fn end_of_history(&mut self) -> Result<(), WorkflowTaskError> {
        if self.window.take().is_some() {
            self.matcher.close(self.last_event_id + 1, None)?;
        }
        Ok(())
    }

    /// Turns a non-command event into the activation job core would send for it.
    fn apply(&mut self, ev: &HistoryEvent) -> Result<(), WorkflowTaskError> {
        let job = match &ev.attributes {
            EventAttributes::ActivityTaskCompleted(a) => {
                self.activity_job(a.scheduled_event_id, ev.event_id, |_| {
                    Resolution::Completed(Success {
                        result: a
                            .result
                            .as_ref()
                            .and_then(|p| p.0.first())
                            .map(crate::convert::payload_out),
                    })
                })?
            }
            EventAttributes::ActivityTaskFailed(a) => {
                let (started, identity, retry) = (a.started_event_id, &a.identity, a.retry_state);
                self.activity_job(a.scheduled_event_id, ev.event_id, |m| {
                    Resolution::Failed(ActivityFailed {
                        failure: Some(failure_out(&activity_failure(
                            "Activity task failed",
                            m,
                            started,
                            identity,
                            retry,
                            a.failure.clone(),
                        ))),
                        ..Default::default()
                    })
                })?
            }
            EventAttributes::ActivityTaskTimedOut(a) => {
                self.activity_job(a.scheduled_event_id, ev.event_id, |m| {
                    Resolution::Failed(ActivityFailed {
                        failure: Some(failure_out(&activity_failure(
                            "Activity task timed out",
                            m,
                            a.started_event_id,
                            "",
                            a.retry_state,
                            a.failure.clone(),
                        ))),
                        ..Default::default()
                    })
                })?
            }
            EventAttributes::ActivityTaskCanceled(a) => {
                self.activity_job(a.scheduled_event_id, ev.event_id, |m| {
                    // core's `new_cancel_failure`: the cause has no message.
                    let mut cause = Failure::canceled("");
                    cause.info = FailureInfo::Canceled {
                        details: a.details.clone(),
                    };
                    Resolution::Cancelled(Cancellation {
                        failure: Some(failure_out(&activity_failure(
                            "Activity cancelled",
                            m,
                            a.started_event_id,
                            &a.identity,
                            RetryState::CancelRequested,
                            Some(cause),
                        ))),
                    })
                })?
            }
            EventAttributes::TimerFired(t) => match self.timers.remove(&t.timer_id) {
                Some(seq) => Some(Job::FireTimer(FireTimer { seq })),
                None => {
                    return Err(WorkflowTaskError::BadHistory(format!(
                        "TimerFired {} for timer {:?} that the workflow did not start",
                        ev.event_id, t.timer_id
                    )))
                }
            },
            EventAttributes::WorkflowExecutionSignaled(s) => {
                Some(Job::SignalWorkflow(SignalWorkflow {
                    signal_name: s.signal_name.clone(),
                    input: payload_list_out(s.input.as_ref()),
                    identity: s.identity.clone(),
                    originating_event_id: ev.event_id,
                    ..Default::default()
                }))
            }
            EventAttributes::WorkflowExecutionCancelRequested(c) => {
                Some(Job::CancelWorkflow(CancelWorkflow {
                    reason: c.cause.clone(),
                }))
            }
            _ => self.family_job(ev)?,
        };
        if let Some(job) = job {
            self.jobs.push(job);
        }
        Ok(())
    }

    fn activity_job(
        &mut self,
        scheduled_event_id: EventId,
        event_id: EventId,
        resolution: impl FnOnce(&ActivityMeta) -> Resolution,
    ) -> Result<Option<Job>, WorkflowTaskError> {
        let Some(seq) = self.activity_by_event.get(&scheduled_event_id).copied() else {
            return Err(WorkflowTaskError::BadHistory(format!(
                "event {event_id} resolves scheduled event {scheduled_event_id}, which the workflow did not schedule"
            )));
        };
        let Some(meta) = self.activities.get_mut(&seq) else {
            return Ok(None);
        };
        if meta.resolved {
            return Ok(None);
        }
        meta.resolved = true;
        let status = resolution(meta);
        Ok(Some(Job::ResolveActivity(ResolveActivity {
            seq,
            result: Some(ActivityResolution {
                status: Some(status),
            }),
            is_local: false,
        })))
    }

    /// Runs the workflow task started by `started`; `recorded` are the events after its
    /// WorkflowTaskCompleted when it is a replay. Returns its commands (also when replaying:
    /// they are queued in the matcher either way).
    fn run_task(
        &mut self,
        started: &HistoryEvent,
        recorded: &[HistoryEvent],
        replaying: bool,
    ) -> Result<Vec<Command>, WorkflowTaskError> {
        if replaying {
            // What core announces before a replayed task: the patches that task recorded.
            for ev in recorded
                .iter()
                .take_while(|e| e.event_type().is_command_event())
            {
                if let EventAttributes::MarkerRecorded(m) = &ev.attributes {
                    if m.marker_name == PATCH_MARKER_NAME {
                        if let Some((patch_id, _)) = parse_patch_marker(&m.details) {
                            self.jobs
                                .push(Job::NotifyHasPatch(NotifyHasPatch { patch_id }));
                        }
                    }
                }
            }
            // Core's look-ahead: the updates the task accepted, after its other events.
            self.replayed_update_jobs(recorded);
        }
        self.current_task = started.event_id;
        let mut markers = BTreeMap::new();
        if replaying {
            for ev in recorded
                .iter()
                .take_while(|e| e.event_type().is_command_event() || within_task(e, 0))
            {
                if let EventAttributes::MarkerRecorded(m) = &ev.attributes {
                    if m.marker_name == LOCAL_ACTIVITY_MARKER_NAME {
                        if let Some(data) = local_marker_data(&m.details) {
                            markers.insert(data.seq, (m.details.clone(), m.failure.clone()));
                        }
                    }
                }
            }
        }
        self.task = TaskState {
            time: started.event_time,
            history_length: u32::try_from(started.event_id).unwrap_or(u32::MAX),
            replaying,
            markers,
            commands: Vec::new(),
            activations: 0,
        };
        self.drive_task()?;
        self.finish_task_unless_waiting()
    }

    /// Applies activations until no job is left (or the code finished).
    fn drive_task(&mut self) -> Result<(), WorkflowTaskError> {
        let mut task = std::mem::take(&mut self.task.commands);
        let result = self.drive_activations(&mut task);
        self.task.commands = task;
        result
    }

    fn drive_activations(
        &mut self,
        task: &mut Vec<(Command, Link)>,
    ) -> Result<(), WorkflowTaskError> {
        for _ in 0..MAX_ACTIVATIONS_PER_TASK {
            if self.instance.is_none() {
                self.jobs.clear();
                break;
            }
            let mut jobs = std::mem::take(&mut self.jobs);
            if jobs.is_empty() && self.initialized {
                break;
            }
            self.initialized = true;
            jobs.sort_by_key(job_order);
            let activation = WorkflowActivation {
                run_id: self.run_id.clone(),
                timestamp: Some(timestamp_out(self.task.time)),
                is_replaying: self.task.replaying,
                history_length: self.task.history_length,
                jobs: jobs
                    .into_iter()
                    .map(|j| WorkflowActivationJob { variant: Some(j) })
                    .collect(),
                ..Default::default()
            };
            self.activate(activation)?;
            self.task.activations += 1;
            // As the SDK's native host: update responses first, then the code's commands.
            let mut pushed = std::mem::take(&mut self.updates.responses);
            pushed.extend(std::mem::take(&mut *self.sink.commands.borrow_mut()));
            for c in pushed {
                self.translate(c, task)?;
            }
            if self.jobs.is_empty() {
                break;
            }
        }
        Ok(())
    }

    /// Ends the task unless it waits on local activities: its commands in core's order, queued
    /// for matching, returned (none when replaying). While it waits, the commands so far.
    fn finish_task_unless_waiting(&mut self) -> Result<Vec<Command>, WorkflowTaskError> {
        if !self.local_waiting.is_empty() && !self.task.replaying {
            return Ok(self.task.commands.iter().map(|(c, _)| c.clone()).collect());
        }
        let mut task = std::mem::take(&mut self.task.commands);
        // Core (flag 3): non-terminal commands first, then the first terminal one; later
        // terminal commands are dropped.
        if let Some(i) = task.iter().position(|(c, _)| c.is_terminal()) {
            let terminal = task.remove(i);
            task.retain(|(c, _)| !c.is_terminal());
            task.push(terminal);
        }
        let mut out = Vec::with_capacity(task.len());
        for (cmd, link) in task {
            self.matcher.push(&cmd, link);
            out.push(cmd);
        }
        if self.task.replaying {
            out.clear();
        }
        Ok(out)
    }
}

impl WorkflowExecutor for OfficialRun {
    fn last_event_id(&self) -> EventId {
        self.last_event_id
    }

    fn task_metadata(&mut self) -> Option<sim::history::JsonMap> {
        self.metadata.take()
    }

    fn take_local_activities(&mut self) -> Vec<LocalActivityRequest> {
        std::mem::take(&mut self.local_requests)
    }

    fn deliver_messages(
        &mut self,
        messages: Vec<sim::history::ProtocolMessage>,
    ) -> Result<(), WorkflowTaskError> {
        self.deliver(messages);
        Ok(())
    }

    fn take_messages(&mut self) -> Vec<sim::history::ProtocolMessage> {
        self.take_outgoing()
    }

    fn resolve_local_activities(
        &mut self,
        results: Vec<LocalActivityResult>,
    ) -> Result<Vec<Command>, WorkflowTaskError> {
        let r = self.resolve_locals(results);
        self.poison_on_err(r)
    }

    fn activate(&mut self, events: &[HistoryEvent]) -> Result<Vec<Command>, WorkflowTaskError> {
        if let Some(e) = &self.poisoned {
            return Err(e.clone());
        }
        let new = match unseen_events(self.last_event_id, events) {
            Ok(new) => new,
            Err(e) => return self.poison_on_err(Err(e)),
        };
        // A task this run executed for real failed or timed out: rebuild from the retained
        // history and replay, so its effects on the workflow state are undone.
        let undone = undoes_live_task(self.last_live_task, new);
        if undone {
            if let Some(mut all) = self.retained.take() {
                all.extend_from_slice(new);
                let mut fresh = OfficialRun::new(
                    Arc::clone(&self.def),
                    &self.workflow_id,
                    &self.run_id,
                    &self.started,
                    true,
                )?;
                fresh.updates.take_live_from(&mut self.updates);
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
}

/// Core's activation job order (`prepare_to_ship_activation`): initialize, patches, random
/// seed, signals and updates, everything else, local activity resolutions, queries, eviction.
fn job_order(j: &Job) -> u8 {
    match j {
        Job::InitializeWorkflow(_) => 0,
        Job::NotifyHasPatch(_) => 1,
        Job::UpdateRandomSeed(_) => 2,
        Job::SignalWorkflow(_) | Job::DoUpdate(_) => 3,
        Job::ResolveActivity(r) if r.is_local => 5,
        Job::QueryWorkflow(_) => 6,
        Job::RemoveFromCache(_) => 7,
        _ => 4,
    }
}

/// The randomness seed core derives from a run id (SipHash-1-3 of the id, as `Hash` feeds it).
pub(crate) fn randomness_seed(run_id: &str) -> u64 {
    let mut s = siphasher::sip::SipHasher13::new();
    run_id.hash(&mut s);
    s.finish()
}

/// The `ActivityFailure` wrapper core hands workflow code.
fn activity_failure(
    message: &str,
    m: &ActivityMeta,
    started_event_id: EventId,
    identity: &str,
    retry_state: RetryState,
    cause: Option<Failure>,
) -> Failure {
    let mut f = Failure::application(message, "", false);
    f.info = FailureInfo::Activity {
        scheduled_event_id: m.scheduled_event_id,
        started_event_id,
        identity: identity.to_string(),
        activity_type: m.activity_type.clone(),
        activity_id: m.activity_id.clone(),
        retry_state,
    };
    f.cause = cause.map(Box::new);
    f
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_string()
    }
}
