//! Mutable state of one run: what the server knows beyond the history (pending workflow task,
//! pending activities with their attempts, timers, buffered events, sticky queue).
//!
//! Invariant: everything the server needs after a restart is here or in the history; task
//! queues and timer indexes are derived from it (`Engine::recover`).

use std::collections::BTreeMap;
use std::time::Duration;

use crate::history::{
    EventAttributes, EventId, Failure, ParentClosePolicy, Payload, Payloads, RetryPolicy,
    TaskQueue, Timestamp, UpdateOutcome, UpdateRequest,
};
use crate::wire::WorkflowStatus;

/// Sticky schedule-to-start timeout the SDKs ask for (10 s, as seen in the fixtures).
pub const STICKY_SCHEDULE_TO_START: Duration = Duration::from_secs(10);

#[derive(Clone, Debug, PartialEq)]
pub struct WftStarted {
    /// 0 for a transient task (attempt >= 2: its events are written only when it completes).
    pub started_event_id: EventId,
    pub time: Timestamp,
    pub identity: String,
    pub request_id: String,
}

/// The pending workflow task.
#[derive(Clone, Debug, PartialEq)]
pub struct WftState {
    /// 0 for a transient task.
    pub scheduled_event_id: EventId,
    pub attempt: i32,
    pub task_queue: TaskQueue,
    pub scheduled_time: Timestamp,
    /// Not dispatchable before this time (retry backoff of failed tasks).
    pub ready_at: Timestamp,
    /// The run's next event id when the task was scheduled. A transient task whose history
    /// moved on before it started (a signal, an activity result) is written when it starts, as
    /// Temporal converts it to a normal task.
    pub scheduled_next_event_id: EventId,
    pub started: Option<WftStarted>,
    /// Scheduled for an update alone (Temporal's speculative task): like a transient task its
    /// events are written only when it completes, and not at all when it only rejected updates.
    pub speculative: bool,
}

impl WftState {
    pub fn is_transient(&self) -> bool {
        self.scheduled_event_id == 0
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ActivityStarted {
    pub time: Timestamp,
    pub identity: String,
    pub request_id: String,
    pub last_heartbeat: Timestamp,
    /// When the server's heartbeat timer task for this attempt fires (`None`: no heartbeat
    /// timeout). Not moved by heartbeats; re-armed when it fires early (`activity_rules.rs`).
    pub heartbeat_timer_at: Option<Timestamp>,
}

/// A scheduled, not yet closed activity.
#[derive(Clone, Debug, PartialEq)]
pub struct ActivityState {
    pub scheduled_event_id: EventId,
    pub activity_id: String,
    pub activity_type: String,
    pub task_queue: String,
    pub input: Option<Payloads>,
    pub schedule_to_close_timeout: Option<Duration>,
    pub schedule_to_start_timeout: Option<Duration>,
    pub start_to_close_timeout: Option<Duration>,
    pub heartbeat_timeout: Option<Duration>,
    pub retry_policy: RetryPolicy,
    /// When ActivityTaskScheduled was written.
    pub scheduled_time: Timestamp,
    pub attempt: i32,
    /// When the current attempt becomes available to pollers (after retry backoff).
    pub attempt_ready_at: Timestamp,
    pub started: Option<ActivityStarted>,
    pub heartbeat_details: Option<Payloads>,
    pub last_failure: Option<Failure>,
    pub cancel_requested_event_id: EventId,
}

fn nonzero(d: Option<Duration>) -> Option<Duration> {
    d.filter(|d| !d.is_zero())
}

impl ActivityState {
    pub fn schedule_to_close_deadline(&self) -> Option<Timestamp> {
        nonzero(self.schedule_to_close_timeout).map(|d| self.scheduled_time.plus(d))
    }

    pub fn schedule_to_start_deadline(&self) -> Option<Timestamp> {
        if self.started.is_some() {
            return None;
        }
        nonzero(self.schedule_to_start_timeout).map(|d| self.attempt_ready_at.plus(d))
    }

    pub fn start_to_close_deadline(&self) -> Option<Timestamp> {
        let started = self.started.as_ref()?;
        nonzero(self.start_to_close_timeout).map(|d| started.time.plus(d))
    }

    /// When the heartbeat timer fires: the server looks at the heartbeat then (the index's
    /// deadline), not at every heartbeat.
    pub fn heartbeat_deadline(&self) -> Option<Timestamp> {
        self.started.as_ref()?.heartbeat_timer_at
    }

    /// When the attempt's heartbeat expires: the last heartbeat (or the start) plus the
    /// heartbeat timeout.
    pub fn heartbeat_expiry(&self) -> Option<Timestamp> {
        let started = self.started.as_ref()?;
        nonzero(self.heartbeat_timeout).map(|d| started.last_heartbeat.plus(d))
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct TimerState {
    pub started_event_id: EventId,
    pub fire_at: Timestamp,
}

/// A child's link to the parent run that started it (kept across the child's continue-as-new
/// runs: the parent hears of the chain's close).
#[derive(Clone, Debug, PartialEq)]
pub struct ParentLink {
    pub workflow_id: String,
    pub run_id: String,
    /// The parent's StartChildWorkflowExecutionInitiated event.
    pub initiated_event_id: EventId,
}

/// A child the run started that has not closed yet.
#[derive(Clone, Debug, PartialEq)]
pub struct ChildState {
    pub initiated_event_id: EventId,
    /// The parent's ChildWorkflowExecutionStarted event.
    pub started_event_id: EventId,
    pub workflow_id: String,
    /// The child's first run (the one ChildWorkflowExecutionStarted names).
    pub run_id: String,
    pub workflow_type: String,
    pub parent_close_policy: ParentClosePolicy,
}

/// Mutable state of one run.
#[derive(Clone, Debug, PartialEq)]
pub struct MutableState {
    pub workflow_id: String,
    pub run_id: String,
    pub workflow_type: String,
    pub task_queue: String,
    pub status: WorkflowStatus,
    pub start_request_id: String,
    pub workflow_task_timeout: Duration,
    pub next_event_id: EventId,
    pub wft: Option<WftState>,
    /// The sticky queue of the worker that completed the last workflow task.
    pub sticky_queue: Option<String>,
    /// Events after this id are what a sticky worker has not seen.
    pub sticky_seen_through: EventId,
    /// Events that arrived while a workflow task was running; written when it closes.
    pub buffered: Vec<(Timestamp, EventAttributes)>,
    /// Shared so that the per-write copy of the state for the store is cheap; changed with
    /// `Arc::make_mut`.
    pub activities: BTreeMap<EventId, std::sync::Arc<ActivityState>>,
    pub timers: BTreeMap<String, TimerState>,
    pub cancel_requested: bool,
    /// Signal request ids already applied (retried signals are not applied twice).
    pub signal_request_ids: Vec<String>,
    /// Why the run closed, when it did.
    pub close_time: Option<Timestamp>,
    /// For a child: the parent run to tell when the child's chain of runs closes.
    pub parent: Option<ParentLink>,
    /// Children started and not yet closed, by their Initiated event.
    pub children: BTreeMap<EventId, ChildState>,
    /// When the run times out (its start plus its run timeout); `None`: never
    /// (`run_timeouts.rs`).
    pub run_expiration_time: Option<Timestamp>,
    /// When the execution times out (the first run's start plus the execution timeout, carried
    /// across continue-as-new); `None`: never.
    pub execution_expiration_time: Option<Timestamp>,
    /// The run's search attributes: as started, then upserted (`properties.rs`).
    pub search_attributes: BTreeMap<String, Payload>,
    /// The run's memo: as started, then modified (`properties.rs`).
    pub memo: BTreeMap<String, Payload>,
    /// Updates taken in and not rejected, by update id (`updates.rs`); completed ones stay, so
    /// a retried request gets the same outcome.
    pub updates: BTreeMap<String, UpdateState>,
}

/// An update a run has taken in.
#[derive(Clone, Debug, PartialEq)]
pub struct UpdateState {
    /// What the client asked for.
    pub request: UpdateRequest,
    /// How far it has got.
    pub progress: UpdateProgress,
}

/// How far an update has got.
#[derive(Clone, Debug, PartialEq)]
pub enum UpdateProgress {
    /// Waiting for the workflow's validator. `sent_with`: the scheduled event id of the started
    /// workflow task that carries it (its sequencing event), `None` until one does.
    Admitted { sent_with: Option<EventId> },
    /// Accepted: its WorkflowExecutionUpdateAccepted event.
    Accepted { accepted_event_id: EventId },
    /// Its handler returned.
    Completed { outcome: UpdateOutcome },
}

impl MutableState {
    pub fn is_open(&self) -> bool {
        self.status == WorkflowStatus::Running
    }

    pub fn wft_in_flight(&self) -> bool {
        self.wft.as_ref().is_some_and(|w| w.started.is_some())
    }
}
