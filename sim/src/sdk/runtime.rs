//! Workflow code from another SDK: the seam a foreign workflow runtime plugs into.
//!
//! A worker needs three things from a run's workflow code: the id of the last history event it
//! has seen, a way to feed it new events and get the current task's commands back (with
//! completed tasks replayed and checked), and whole-history replay for the determinism checker.
//! This crate's SDK provides them with [`WorkflowMachine`](super::WorkflowMachine); a runtime
//! that hosts workflows written against another SDK (Temporal's official Rust SDK, in the
//! `sim-official` crate) implements [`WorkflowRuntime`] and is registered with
//! [`Registry::register_runtime`](super::Registry::register_runtime).

// Query answers are `Result<_, Failure>` by contract with the worker and the engine.
#![allow(clippy::result_large_err)]

use std::time::Duration;

use super::machine::{ReplayOutcome, WorkflowTaskError};
use crate::history::{
    Command, EventId, Failure, History, HistoryEvent, Payloads, ProtocolMessage, RetryPolicy,
};

/// A local activity the workflow code asked for: the worker runs it inside the workflow task
/// (retrying as its policy says) and hands the result back before completing the task.
#[derive(Clone, Debug, PartialEq)]
pub struct LocalActivityRequest {
    /// The runtime's sequence number for it.
    pub seq: u32,
    /// Its activity id.
    pub activity_id: String,
    /// The registered activity type to run.
    pub activity_type: String,
    /// Its arguments.
    pub input: Option<Payloads>,
    /// The attempt to start with (1 unless the code backs off with a timer).
    pub attempt: i32,
    /// Bound on one attempt.
    pub start_to_close_timeout: Option<Duration>,
    /// Bound on all attempts.
    pub schedule_to_close_timeout: Option<Duration>,
    /// How failed attempts are retried (Temporal's defaults when `None`).
    pub retry_policy: Option<RetryPolicy>,
    /// Backoffs up to this long are waited for inside the workflow task, longer ones with a
    /// timer (core's `local_retry_threshold`); `None`: core's default, a minute.
    pub local_retry_threshold: Option<Duration>,
}

/// What running a [`LocalActivityRequest`] gave.
#[derive(Clone, Debug, PartialEq)]
pub struct LocalActivityResult {
    /// The request's sequence number.
    pub seq: u32,
    /// The last attempt run.
    pub attempt: i32,
    /// Its result or failure.
    pub result: Result<Option<Payloads>, Failure>,
    /// Virtual time from the task's start until it finished.
    pub runtime: Duration,
    /// Set when the attempts stopped because the next backoff is longer than the local retry
    /// threshold (`result` is the last failure): the workflow waits this long with a timer and
    /// schedules the next attempt (core's `DoBackoff`).
    pub backoff: Option<Duration>,
}

/// One run's workflow code as a worker caches it (sticky execution). Not `Send`: it lives on
/// its worker's node.
pub trait WorkflowExecutor {
    /// The id of the last history event this executor has seen.
    fn last_event_id(&self) -> EventId;

    /// Feeds history events not seen yet (already-seen ids are skipped), ending with the
    /// WorkflowTaskStarted of the task to run now. Completed tasks in the batch are replayed and
    /// their commands checked against history (a mismatch is
    /// [`WorkflowTaskError::NonDeterminism`]); the current task's commands are returned. After an
    /// error the executor is dropped and the run replayed in a fresh one.
    fn activate(&mut self, events: &[HistoryEvent]) -> Result<Vec<Command>, WorkflowTaskError>;

    /// What the SDK records about itself in the WorkflowTaskCompleted of the task just run
    /// (Temporal's `sdkMetadata`: core's internal flags, SDK name and version). `None` (the
    /// default): nothing, as for this crate's SDK.
    fn task_metadata(&mut self) -> Option<crate::history::JsonMap> {
        None
    }

    /// Local activities the task just run is waiting on (taken: each is returned once). The
    /// worker runs them and calls [`WorkflowExecutor::resolve_local_activities`] before it
    /// completes the task. Empty (the default) for runtimes without local activities.
    fn take_local_activities(&mut self) -> Vec<LocalActivityRequest> {
        Vec::new()
    }

    /// Hands the update requests the server sent with the task about to be activated (before
    /// [`WorkflowExecutor::activate`]): the workflow validates them and answers with
    /// [`WorkflowExecutor::take_messages`]. The default (a runtime without updates) fails the
    /// task, naming the feature.
    fn deliver_messages(
        &mut self,
        messages: Vec<ProtocolMessage>,
    ) -> Result<(), WorkflowTaskError> {
        if messages.is_empty() {
            return Ok(());
        }
        Err(WorkflowTaskError::Unsupported(
            "updates in this runtime".to_string(),
        ))
    }

    /// The workflow's answers to update requests in the task just run (acceptances,
    /// rejections, responses), taken: each is returned once. Their place among the commands is
    /// given by [`Command::ProtocolMessage`]s.
    fn take_messages(&mut self) -> Vec<ProtocolMessage> {
        Vec::new()
    }

    /// Hands the results of local activities back; the task continues and its commands so far
    /// are returned (more local activities may be waiting then).
    fn resolve_local_activities(
        &mut self,
        results: Vec<LocalActivityResult>,
    ) -> Result<Vec<Command>, WorkflowTaskError> {
        let _ = results;
        Err(WorkflowTaskError::Unsupported(
            "local activities in this runtime".to_string(),
        ))
    }
}

/// The events of `events` after `last_seen` (an executor is handed the whole task, whose
/// start it may have seen), checked to follow it without a gap.
pub fn unseen_events(
    last_seen: EventId,
    events: &[HistoryEvent],
) -> Result<&[HistoryEvent], WorkflowTaskError> {
    let skip = events
        .iter()
        .take_while(|e| e.event_id <= last_seen)
        .count();
    let new = &events[skip..];
    for (k, e) in new.iter().enumerate() {
        let expected = last_seen + 1 + k as EventId;
        if e.event_id != expected {
            return Err(WorkflowTaskError::BadHistory(format!(
                "expected event {expected}, got event {} ({})",
                e.event_id,
                e.event_type()
            )));
        }
    }
    Ok(new)
}

/// The error for an event that neither of durasim's executors (its SDK and the official-SDK
/// host) can replay yet: a Nexus operation (search attribute and memo upserts and updates
/// replay as commands). `None` for every other event; events
/// that change nothing the workflow code sees (options, properties or activity retry policies
/// changed from outside, pauses, time skipping) are replayable and ignored.
pub fn unreplayable_event(ev: &HistoryEvent) -> Option<WorkflowTaskError> {
    use crate::history::EventType as T;
    let feature = match ev.event_type() {
        T::NexusOperationScheduled
        | T::NexusOperationStarted
        | T::NexusOperationCompleted
        | T::NexusOperationFailed
        | T::NexusOperationCanceled
        | T::NexusOperationTimedOut
        | T::NexusOperationCancelRequested
        | T::NexusOperationCancelRequestCompleted
        | T::NexusOperationCancelRequestFailed => "Nexus operations",
        _ => return None,
    };
    Some(WorkflowTaskError::Unsupported(format!(
        "replaying event {} {} ({feature})",
        ev.event_id,
        ev.event_type()
    )))
}

/// Whether `new` fails or times out the task started at `live_task` (one the executor ran for
/// real, 0 for none): its effects on the workflow state must then be undone by replaying.
pub fn undoes_live_task(live_task: EventId, new: &[HistoryEvent]) -> bool {
    live_task > 0
        && new.iter().any(|e| match &e.attributes {
            crate::history::EventAttributes::WorkflowTaskFailed(f) => {
                f.started_event_id == live_task
            }
            crate::history::EventAttributes::WorkflowTaskTimedOut(t) => {
                t.started_event_id == live_task
            }
            _ => false,
        })
}

/// A runtime for workflow types written against another SDK.
pub trait WorkflowRuntime: Send + Sync {
    /// Who runs the code, for messages (`temporalio-sdk 1.1.1`).
    fn name(&self) -> String;

    /// The workflow types it runs, sorted.
    fn workflow_types(&self) -> Vec<String>;

    /// An executor for the run that `started` (its WorkflowExecutionStarted event) began.
    fn start(
        &self,
        workflow_id: &str,
        run_id: &str,
        started: &HistoryEvent,
    ) -> Result<Box<dyn WorkflowExecutor>, WorkflowTaskError>;

    /// Replays a whole history of one of its workflow types.
    fn replay(&self, history: &History) -> ReplayOutcome;

    /// Answers query `query_type` from the state the workflow reaches by replaying `history`
    /// (an open run's history up to its last completed task, or a closed run's whole
    /// history). The default, for a runtime without queries, fails naming the feature.
    fn query(
        &self,
        history: &History,
        query_type: &str,
        args: Option<&Payloads>,
    ) -> Result<Option<Payloads>, Failure> {
        let _ = (history, args);
        Err(Failure::application(
            format!(
                "{}: query {query_type:?}: queries are not supported",
                self.name()
            ),
            "QueryNotSupported",
            true,
        ))
    }
}
