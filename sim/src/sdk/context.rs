//! What workflow code sees: [`WorkflowContext`] and the futures it hands out.
//!
//! All of it shares one run's [`State`] (an `Rc<RefCell<..>>`, never `Send`). Futures never
//! register wakers: the machine polls the workflow until nothing makes progress, and every
//! state change a future can observe bumps `State::progress`.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::marker::PhantomData;
use std::rc::Rc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::cancellation::ActivityCancellationType;
use super::error::{WorkflowError, WorkflowErrorKind};
use super::futures::{
    ActivityFuture, CancelledFuture, ConditionFuture, SignalChannel, TimerFuture,
};
use super::rng::WorkflowRng;
use crate::history::{
    Command, ContinueAsNewWorkflowExecution, EventId, Failure, FailureInfo, MarkerDetails,
    Payloads, RetryPolicy, RetryState, ScheduleActivityTask, TaskQueue, Timestamp,
};

/// Marker name of `patched` / `deprecate_patch` markers (as Temporal core writes them).
pub const PATCH_MARKER_NAME: &str = "core_patch";
/// Marker name of `side_effect` markers.
pub const SIDE_EFFECT_MARKER_NAME: &str = "SideEffect";

/// Facts about the running workflow.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WorkflowInfo {
    /// The workflow id; the same across continue-as-new runs.
    pub workflow_id: String,
    /// This run's id (it seeds the workflow RNG).
    pub run_id: String,
    /// The registered workflow type this run executes.
    pub workflow_type: String,
    /// The run's task queue: where its workflow tasks go, and its activities by default.
    pub task_queue: String,
    /// Workflow retry attempt, 1 for the first (from WorkflowExecutionStarted).
    pub attempt: i32,
}

/// How a `ScheduleActivityTask` command is filled in. Activity ids default to the activity
/// sequence number ("1", "2", ...), as Temporal's Python SDK does.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ActivityOptions {
    /// The activity id; `None`: the activity sequence number in this run ("1", "2", ...). Must be
    /// unique among the run's pending activities.
    pub activity_id: Option<String>,
    /// Defaults to the workflow's task queue.
    pub task_queue: Option<String>,
    /// Bound on the whole activity, all attempts and retry backoff included; `None`: unlimited.
    /// This or `start_to_close_timeout` is required, or the server fails the workflow task.
    pub schedule_to_close_timeout: Option<Duration>,
    /// Bound on how long an attempt may wait on the queue before a worker picks it up; `None`:
    /// unlimited.
    pub schedule_to_start_timeout: Option<Duration>,
    /// Bound on one attempt; the only way a crashed worker is noticed (its attempt times out and is
    /// retried). This or `schedule_to_close_timeout` is required.
    pub start_to_close_timeout: Option<Duration>,
    /// Longest gap allowed between heartbeats of a running attempt; `None`: no heartbeat timeout.
    pub heartbeat_timeout: Option<Duration>,
    /// `None`: the server applies Temporal's default policy.
    pub retry_policy: Option<RetryPolicy>,
    /// What [`ActivityFuture::cancel`] does (see [`ActivityCancellationType`]).
    pub cancellation_type: ActivityCancellationType,
    /// Never run the first attempt eagerly on this worker (Temporal's `disable_eager_execution`);
    /// by default the SDK asks for eager execution and the worker grants it when it has a free
    /// activity slot on the activity's task queue.
    pub disable_eager_execution: bool,
}

impl ActivityOptions {
    /// Options with only a start-to-close timeout (the usual choice).
    pub fn start_to_close(timeout: Duration) -> Self {
        ActivityOptions {
            start_to_close_timeout: Some(timeout),
            ..ActivityOptions::default()
        }
    }

    /// Options with only a schedule-to-close timeout.
    pub fn schedule_to_close(timeout: Duration) -> Self {
        ActivityOptions {
            schedule_to_close_timeout: Some(timeout),
            ..ActivityOptions::default()
        }
    }

    /// Sets an explicit activity id instead of the sequence number.
    pub fn with_activity_id(mut self, id: impl Into<String>) -> Self {
        self.activity_id = Some(id.into());
        self
    }

    /// Never runs the first attempt eagerly on the scheduling worker: it goes through the task
    /// queue like every retry.
    pub fn without_eager_execution(mut self) -> Self {
        self.disable_eager_execution = true;
        self
    }

    /// Sends the activity to `queue` instead of the workflow's task queue.
    pub fn with_task_queue(mut self, queue: impl Into<String>) -> Self {
        self.task_queue = Some(queue.into());
        self
    }

    /// Sets the retry policy (unset fields of it still take Temporal's defaults).
    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry_policy = Some(policy);
        self
    }

    /// Sets the start-to-close timeout (one attempt).
    pub fn with_start_to_close_timeout(mut self, d: Duration) -> Self {
        self.start_to_close_timeout = Some(d);
        self
    }

    /// Sets the schedule-to-close timeout (all attempts).
    pub fn with_schedule_to_close_timeout(mut self, d: Duration) -> Self {
        self.schedule_to_close_timeout = Some(d);
        self
    }

    /// Sets the schedule-to-start timeout (time on the queue).
    pub fn with_schedule_to_start_timeout(mut self, d: Duration) -> Self {
        self.schedule_to_start_timeout = Some(d);
        self
    }

    /// Sets the heartbeat timeout.
    pub fn with_heartbeat_timeout(mut self, d: Duration) -> Self {
        self.heartbeat_timeout = Some(d);
        self
    }

    /// Sets what cancelling the activity does.
    pub fn with_cancellation_type(mut self, t: ActivityCancellationType) -> Self {
        self.cancellation_type = t;
        self
    }
}

/// Options of [`WorkflowContext::continue_as_new_with`]. `None` fields keep this run's values.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ContinueAsNewOptions {
    /// The new run's workflow type; `None`: this run's.
    pub workflow_type: Option<String>,
    /// The new run's task queue; `None`: this run's.
    pub task_queue: Option<String>,
    /// The new run's run timeout; `None`: this run's (as Temporal does), in either case cut to
    /// the execution timeout, which spans the whole chain.
    pub workflow_run_timeout: Option<Duration>,
    /// The new run's workflow task timeout; `None`: this run's.
    pub workflow_task_timeout: Option<Duration>,
}

/// How a timer ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimerResult {
    /// The timer's duration elapsed (TimerFired), or it was zero.
    Fired,
    /// The workflow canceled the timer with [`TimerFuture::cancel`] before it fired.
    Cancelled,
}

/// Which slot a command belongs to, so the matching history event can be linked back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Link {
    None,
    Activity(u32),
    Timer(u32),
    /// A child workflow's start (`children.rs`).
    Child(u32),
    /// A signal or cancel request to another workflow (`children.rs`).
    External(u32),
}

pub(crate) struct Emitted {
    pub cmd: Command,
    pub link: Link,
    /// Cancelled before it was ever sent: not sent at all.
    pub dropped: bool,
}

pub(crate) struct ActivitySlot {
    pub activity_id: String,
    pub activity_type: String,
    pub scheduled_event_id: Option<EventId>,
    /// Index into `State::commands` while the command is unsent (current activation).
    pub cmd_index: Option<usize>,
    /// Boxed: a `Failure` is large, and a machine's activity map allocates room for eleven
    /// slots at once.
    pub result: Option<Box<Result<Option<Payloads>, Failure>>>,
    pub cancellation_type: ActivityCancellationType,
    /// A cancel request was sent (or, abandoned, the activity was let go).
    pub cancel_requested: bool,
}

pub(crate) struct TimerSlot {
    pub timer_id: String,
    pub cmd_index: Option<usize>,
    pub started: bool,
    pub result: Option<TimerResult>,
}

/// One run's workflow-visible state.
pub(crate) struct State {
    pub info: WorkflowInfo,
    pub now: Timestamp,
    pub replaying: bool,
    pub seed: u64,
    pub rng_streams: u64,
    /// Bumped by every change a workflow future can observe; the machine polls until it stops.
    pub progress: u64,
    /// Condition futures currently waiting (they need one extra poll after a quiet poll).
    pub waiting_conditions: usize,
    /// Commands of the current activation, in the order the code issued them.
    pub commands: Vec<Emitted>,
    pub activity_seq: u32,
    pub timer_seq: u32,
    pub side_effect_seq: u32,
    pub activities: BTreeMap<u32, ActivitySlot>,
    pub activity_by_event: BTreeMap<EventId, u32>,
    pub timers: BTreeMap<u32, TimerSlot>,
    pub timer_by_id: BTreeMap<String, u32>,
    pub signals: BTreeMap<String, VecDeque<Option<Payloads>>>,
    pub cancel_requested: bool,
    /// Patch ids whose markers the history of the task being replayed holds.
    pub patches_notified: BTreeSet<String>,
    pub patches_memo: BTreeMap<String, bool>,
    /// Side-effect values recorded in the history of the task being replayed, by sequence.
    pub side_effects: BTreeMap<u32, Payloads>,
    pub child_seq: u32,
    pub children: BTreeMap<u32, super::children::ChildSlot>,
    /// StartChildWorkflowExecutionInitiated event -> child sequence number.
    pub child_by_event: BTreeMap<EventId, u32>,
    pub external_seq: u32,
    pub externals: BTreeMap<u32, super::children::ExternalSlot>,
    /// Signal/RequestCancel...Initiated event -> external sequence number.
    pub external_by_event: BTreeMap<EventId, u32>,
    /// Local activities (`local_activity.rs`).
    pub locals: super::local_activity::LocalState,
    /// Update and query handlers, update requests and answers (`updates.rs`).
    pub messages: super::updates::MessageState,
}

impl State {
    pub fn new(info: WorkflowInfo, seed: u64) -> Self {
        State {
            info,
            now: Timestamp::UNIX_EPOCH,
            replaying: false,
            seed,
            rng_streams: 0,
            progress: 0,
            waiting_conditions: 0,
            commands: Vec::new(),
            activity_seq: 0,
            timer_seq: 0,
            side_effect_seq: 0,
            activities: BTreeMap::new(),
            activity_by_event: BTreeMap::new(),
            timers: BTreeMap::new(),
            timer_by_id: BTreeMap::new(),
            signals: BTreeMap::new(),
            cancel_requested: false,
            patches_notified: BTreeSet::new(),
            patches_memo: BTreeMap::new(),
            side_effects: BTreeMap::new(),
            child_seq: 0,
            children: BTreeMap::new(),
            child_by_event: BTreeMap::new(),
            external_seq: 0,
            externals: BTreeMap::new(),
            external_by_event: BTreeMap::new(),
            locals: Default::default(),
            messages: Default::default(),
        }
    }

    pub fn emit(&mut self, cmd: Command, link: Link) -> usize {
        self.commands.push(Emitted {
            cmd,
            link,
            dropped: false,
        });
        self.progress += 1;
        self.commands.len() - 1
    }
}

/// The details of a patch marker (`core_patch`) as Temporal's core writes them (the Python
/// and official Rust SDKs): one `patch-data` payload, `{"id": .., "deprecated": ..}` as JSON.
pub fn patch_marker_details(patch_id: &str, deprecated: bool) -> MarkerDetails {
    let mut d = MarkerDetails::new();
    d.insert(
        "patch-data".to_string(),
        Payloads::json(&serde_json::json!({"id": patch_id, "deprecated": deprecated}))
            .expect("JSON encodes"),
    );
    d
}

/// Reads a patch marker's details: `{"patch-data": {id, deprecated}}` (what Temporal's core
/// writes: the official Rust SDK, the Python SDK), `{patch_id, deprecated}` (this crate's SDK) or
/// `{patch_data: {id, deprecated}}` (older writers).
pub fn parse_patch_marker(details: &MarkerDetails) -> Option<(String, bool)> {
    if let Some(p) = details.get("patch_id") {
        let id: String = p.decode_first().ok()?;
        let deprecated = details
            .get("deprecated")
            .and_then(|d| d.decode_first::<bool>().ok())
            .unwrap_or(false);
        return Some((id, deprecated));
    }
    let data: serde_json::Value = details
        .get("patch-data")
        .or_else(|| details.get("patch_data"))?
        .decode_first()
        .ok()?;
    let id = data
        .get("id")
        .or_else(|| data.get("patch_id"))?
        .as_str()?
        .to_string();
    let deprecated = data
        .get("deprecated")
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false);
    Some((id, deprecated))
}

pub(crate) fn parse_side_effect_marker(details: &MarkerDetails) -> Option<(u32, Payloads)> {
    let id: u32 = details.get("side_effect_id")?.decode_first().ok()?;
    Some((id, details.get("data")?.clone()))
}

/// The `ActivityFailure` wrapper Temporal hands workflow code.
pub(crate) fn activity_failure(
    message: &str,
    slot: &ActivitySlot,
    started_event_id: EventId,
    identity: &str,
    retry_state: RetryState,
    cause: Option<Failure>,
) -> Failure {
    Failure {
        message: message.to_string(),
        source: String::new(),
        stack_trace: String::new(),
        cause: cause.map(Box::new),
        info: FailureInfo::Activity {
            scheduled_event_id: slot.scheduled_event_id.unwrap_or(0),
            started_event_id,
            identity: identity.to_string(),
            activity_type: slot.activity_type.clone(),
            activity_id: slot.activity_id.clone(),
            retry_state,
        },
        extra: Default::default(),
    }
}

pub(crate) fn cancelled_activity_failure(slot: &ActivitySlot) -> Failure {
    activity_failure(
        "Activity cancelled",
        slot,
        0,
        "",
        RetryState::CancelRequested,
        Some(Failure::canceled("Activity cancelled")),
    )
}

/// The handle workflow code uses for everything that must be deterministic. Cheap to clone.
#[derive(Clone)]
pub struct WorkflowContext {
    pub(crate) st: Rc<RefCell<State>>,
}

impl std::fmt::Debug for WorkflowContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkflowContext")
            .field("info", &self.st.borrow().info)
            .finish()
    }
}

impl WorkflowContext {
    /// The run's shared state (for the other files of the SDK).
    pub(crate) fn state(&self) -> Rc<RefCell<State>> {
        Rc::clone(&self.st)
    }

    pub(crate) fn new(st: Rc<RefCell<State>>) -> Self {
        WorkflowContext { st }
    }

    /// Facts about this run: ids, type, task queue, attempt (a copy).
    pub fn info(&self) -> WorkflowInfo {
        self.st.borrow().info.clone()
    }

    /// The time of the current workflow task's WorkflowTaskStarted event; never moves back.
    pub fn workflow_time(&self) -> Timestamp {
        self.st.borrow().now
    }

    /// Whether the code is re-running a workflow task already recorded in history.
    pub fn is_replaying(&self) -> bool {
        self.st.borrow().replaying
    }

    /// A seed derived from the run id: the same on every replay of this run.
    pub fn random_seed(&self) -> u64 {
        self.st.borrow().seed
    }

    /// A deterministic RNG seeded from the run id. Each call returns a new stream (the n-th
    /// call in a run always gets the same one).
    pub fn rng(&self) -> WorkflowRng {
        let mut st = self.st.borrow_mut();
        st.rng_streams += 1;
        let mut base = WorkflowRng::new(st.seed ^ st.rng_streams.wrapping_mul(0x9e37_79b9));
        WorkflowRng::new(base.next_u64())
    }

    /// Schedules an activity; the future resolves to its decoded result or to the
    /// `ActivityFailure` (failed, timed out, cancelled). Dropping the future does not cancel
    /// the activity; call [`ActivityFuture::cancel`].
    pub fn start_activity<O, I>(
        &self,
        activity_type: &str,
        input: &I,
        options: ActivityOptions,
    ) -> ActivityFuture<O>
    where
        O: DeserializeOwned,
        I: Serialize + ?Sized,
    {
        let mut st = self.st.borrow_mut();
        st.activity_seq += 1;
        let seq = st.activity_seq;
        let activity_id = options.activity_id.unwrap_or_else(|| seq.to_string());
        let mut slot = ActivitySlot {
            activity_id: activity_id.clone(),
            activity_type: activity_type.to_string(),
            scheduled_event_id: None,
            cmd_index: None,
            result: None,
            cancellation_type: options.cancellation_type,
            cancel_requested: false,
        };
        match Payloads::json(input) {
            Ok(payloads) => {
                let cmd = Command::ScheduleActivityTask(ScheduleActivityTask {
                    activity_id,
                    activity_type: activity_type.to_string(),
                    task_queue: TaskQueue::normal(
                        options
                            .task_queue
                            .unwrap_or_else(|| st.info.task_queue.clone()),
                    ),
                    input: Some(payloads),
                    schedule_to_close_timeout: options.schedule_to_close_timeout,
                    schedule_to_start_timeout: options.schedule_to_start_timeout,
                    start_to_close_timeout: options.start_to_close_timeout,
                    heartbeat_timeout: options.heartbeat_timeout,
                    retry_policy: options.retry_policy,
                    request_eager_execution: !options.disable_eager_execution,
                });
                slot.cmd_index = Some(st.emit(cmd, Link::Activity(seq)));
            }
            Err(e) => {
                // Never sent: resolves at once, like an input the SDK refuses to serialise.
                slot.result = Some(Box::new(Err(Failure::application(
                    format!("activity input: {e}"),
                    "PayloadEncodeError",
                    true,
                ))));
            }
        }
        st.activities.insert(seq, slot);
        ActivityFuture {
            st: Rc::clone(&self.st),
            seq,
            done: false,
            _out: PhantomData,
        }
    }

    /// A durable timer (StartTimer); ids are the timer sequence numbers "1", "2", ...
    /// A zero duration resolves at once without a command.
    pub fn timer(&self, duration: Duration) -> TimerFuture {
        let mut st = self.st.borrow_mut();
        st.timer_seq += 1;
        let seq = st.timer_seq;
        let timer_id = seq.to_string();
        let mut slot = TimerSlot {
            timer_id: timer_id.clone(),
            cmd_index: None,
            started: false,
            result: None,
        };
        if duration.is_zero() {
            slot.result = Some(TimerResult::Fired);
        } else {
            st.timer_by_id.insert(timer_id.clone(), seq);
            slot.cmd_index = Some(st.emit(
                Command::StartTimer {
                    timer_id,
                    start_to_fire_timeout: duration,
                },
                Link::Timer(seq),
            ));
        }
        st.timers.insert(seq, slot);
        TimerFuture {
            st: Rc::clone(&self.st),
            seq,
            done: false,
        }
    }

    /// `workflow.patched(id)`: new code path if true. Not replaying: records a `core_patch`
    /// marker and returns true. Replaying: true iff this task's history holds the marker; the
    /// answer is memoised for the run.
    pub fn patched(&self, patch_id: &str) -> bool {
        self.patch(patch_id, false)
    }

    /// `workflow.deprecate_patch(id)`: records a deprecated marker (when not replaying), which
    /// replay tolerates being absent from history.
    pub fn deprecate_patch(&self, patch_id: &str) {
        self.patch(patch_id, true);
    }

    fn patch(&self, patch_id: &str, deprecated: bool) -> bool {
        let mut st = self.st.borrow_mut();
        if let Some(v) = st.patches_memo.get(patch_id) {
            return *v;
        }
        let use_patch = !st.replaying || st.patches_notified.contains(patch_id);
        st.patches_memo.insert(patch_id.to_string(), use_patch);
        if use_patch {
            st.emit(
                Command::RecordMarker {
                    marker_name: PATCH_MARKER_NAME.to_string(),
                    details: patch_marker_details(patch_id, deprecated),
                    failure: None,
                },
                Link::None,
            );
        }
        use_patch
    }

    /// Runs `f` once and records its value in a marker; on replay returns the recorded value
    /// without running `f`. Panics (failing the workflow task) if the value does not round-trip
    /// through JSON.
    pub fn side_effect<T, F>(&self, f: F) -> T
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> T,
    {
        let (seq, recorded) = {
            let mut st = self.st.borrow_mut();
            st.side_effect_seq += 1;
            let seq = st.side_effect_seq;
            let recorded = if st.replaying {
                st.side_effects.remove(&seq)
            } else {
                None
            };
            (seq, recorded)
        };
        let data = match recorded {
            Some(p) => p,
            None => Payloads::json(&f()).expect("side effect value must encode as JSON"),
        };
        let value: T = data
            .decode_first()
            .expect("side effect value must decode from its marker");
        let mut details = MarkerDetails::new();
        details.insert(
            "side_effect_id".to_string(),
            Payloads::json(&seq).expect("a number encodes"),
        );
        details.insert("data".to_string(), data);
        self.st.borrow_mut().emit(
            Command::RecordMarker {
                marker_name: SIDE_EFFECT_MARKER_NAME.to_string(),
                details,
                failure: None,
            },
            Link::None,
        );
        value
    }

    /// The channel of signal `name`. Signals are buffered from the start of the run and
    /// delivered in history order.
    pub fn signal_channel<T: DeserializeOwned>(&self, name: &str) -> SignalChannel<T> {
        SignalChannel {
            st: Rc::clone(&self.st),
            name: name.to_string(),
            _t: PhantomData,
        }
    }

    /// Resolves once `condition()` is true (re-checked whenever the workflow is polled).
    pub fn wait_condition<F: FnMut() -> bool>(&self, condition: F) -> ConditionFuture<F> {
        ConditionFuture {
            st: Rc::clone(&self.st),
            condition,
            registered: false,
            done: false,
        }
    }

    /// Whether cancellation of this run was requested (WorkflowExecutionCancelRequested).
    pub fn is_cancel_requested(&self) -> bool {
        self.st.borrow().cancel_requested
    }

    /// Resolves once cancellation of this run is requested.
    pub fn cancelled(&self) -> CancelledFuture {
        CancelledFuture {
            st: Rc::clone(&self.st),
        }
    }

    /// Upserts search attributes of this run (`workflow.upsert_search_attributes`): the
    /// command UpsertWorkflowSearchAttributes, matched by kind on replay. Nothing is sent for
    /// no attributes.
    pub fn upsert_search_attributes<K: Into<String>>(
        &self,
        attrs: impl IntoIterator<Item = (K, super::SearchAttributeValue)>,
    ) {
        let search_attributes = super::properties::search_attributes(attrs);
        if !search_attributes.indexed_fields.is_empty() {
            let cmd = Command::UpsertWorkflowSearchAttributes { search_attributes };
            self.st.borrow_mut().emit(cmd, Link::None);
        }
    }

    /// Upserts this run's memo (`workflow.upsert_memo`): each key set to its JSON value, a
    /// `null` value removes the key. The command ModifyWorkflowProperties, matched by kind on
    /// replay. Nothing is sent for no fields.
    pub fn upsert_memo<K: Into<String>>(
        &self,
        fields: impl IntoIterator<Item = (K, serde_json::Value)>,
    ) {
        let upserted_memo = super::properties::memo(fields);
        if !upserted_memo.fields.is_empty() {
            let cmd = Command::ModifyWorkflowProperties { upserted_memo };
            self.st.borrow_mut().emit(cmd, Link::None);
        }
    }

    /// The error to return to continue as new with `input` (same type and task queue).
    pub fn continue_as_new<I: Serialize + ?Sized>(&self, input: &I) -> WorkflowError {
        self.continue_as_new_with(input, ContinueAsNewOptions::default())
    }

    /// Like [`WorkflowContext::continue_as_new`], with the new run's type, queue or timeouts
    /// changed by `options`. If `input` does not encode, returns a non-retryable `PayloadError`
    /// failure instead.
    pub fn continue_as_new_with<I: Serialize + ?Sized>(
        &self,
        input: &I,
        options: ContinueAsNewOptions,
    ) -> WorkflowError {
        let input = match Payloads::json(input) {
            Ok(p) => p,
            Err(e) => return WorkflowError::from(e),
        };
        let st = self.st.borrow();
        WorkflowError {
            kind: WorkflowErrorKind::ContinueAsNew(Box::new(ContinueAsNewWorkflowExecution {
                workflow_type: options
                    .workflow_type
                    .unwrap_or_else(|| st.info.workflow_type.clone()),
                task_queue: TaskQueue::normal(
                    options
                        .task_queue
                        .unwrap_or_else(|| st.info.task_queue.clone()),
                ),
                input: Some(input),
                workflow_run_timeout: options.workflow_run_timeout,
                workflow_task_timeout: options.workflow_task_timeout,
            })),
        }
    }
}
