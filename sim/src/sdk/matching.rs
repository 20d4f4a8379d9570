//! Matching a workflow task's commands against the command events history recorded for it: the
//! non-determinism check every workflow runtime shares (this crate's SDK and foreign runtimes).
//!
//! Commands are matched in order, each to the next command event after the task's
//! WorkflowTaskCompleted: activities by id and type, timers by id, markers by name (patch
//! markers also by patch id), terminal commands by type. Deprecated patch markers may be missing
//! on either side. Messages follow Temporal's `[TMPRL1100]` wording.

use std::collections::VecDeque;

use super::context::{parse_patch_marker, PATCH_MARKER_NAME};
use super::machine::{NonDeterminismError, NonDeterminismKind, WorkflowTaskError};
use crate::history::{Command, EventAttributes, EventId, HistoryEvent};

/// The key commands and command events are matched by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Key {
    Activity {
        id: String,
        ty: String,
    },
    CancelActivity(EventId),
    Timer(String),
    CancelTimer(String),
    Marker {
        name: String,
        patch: Option<(String, bool)>,
    },
    Complete,
    Fail,
    Cancel,
    ContinueAsNew,
    /// Child workflows by id and type (sdk-core's id-and-type determinism check).
    Child {
        id: String,
        ty: String,
    },
    /// Signals and cancel requests to other workflows by kind only, as sdk-core matches them.
    SignalExternal,
    CancelExternal,
    /// Search attribute and memo upserts are matched by kind only (as core does).
    UpsertSearchAttributes,
    ModifyProperties,
    /// An update's acceptance and completion, by update id (the worker's message ids are
    /// `<update id>/accept` and `<update id>/complete`: [`update_message_id`]).
    UpdateAccepted(String),
    UpdateCompleted(String),
    /// A protocol message command of no known form: matches no event.
    Message(String),
}

/// The id of the message a worker sends for update `update_id`: `kind` is `accept`, `reject`
/// or `complete` (the ids the engine's events are matched back by on replay).
pub fn update_message_id(update_id: &str, kind: &str) -> String {
    format!("{update_id}/{kind}")
}

impl Key {
    fn of_command(cmd: &Command) -> Key {
        match cmd {
            Command::ScheduleActivityTask(s) => Key::Activity {
                id: s.activity_id.clone(),
                ty: s.activity_type.clone(),
            },
            Command::RequestCancelActivityTask { scheduled_event_id } => {
                Key::CancelActivity(*scheduled_event_id)
            }
            Command::StartTimer { timer_id, .. } => Key::Timer(timer_id.clone()),
            Command::CancelTimer { timer_id } => Key::CancelTimer(timer_id.clone()),
            Command::RecordMarker {
                marker_name,
                details,
                ..
            } => Key::Marker {
                name: marker_name.clone(),
                patch: if marker_name == PATCH_MARKER_NAME {
                    parse_patch_marker(details)
                } else {
                    None
                },
            },
            Command::CompleteWorkflowExecution { .. } => Key::Complete,
            Command::FailWorkflowExecution { .. } => Key::Fail,
            Command::CancelWorkflowExecution { .. } => Key::Cancel,
            Command::ContinueAsNewWorkflowExecution(_) => Key::ContinueAsNew,
            Command::StartChildWorkflowExecution(c) => Key::Child {
                id: c.workflow_id.clone(),
                ty: c.workflow_type.clone(),
            },
            Command::SignalExternalWorkflowExecution(_) => Key::SignalExternal,
            Command::RequestCancelExternalWorkflowExecution(_) => Key::CancelExternal,
            Command::UpsertWorkflowSearchAttributes { .. } => Key::UpsertSearchAttributes,
            Command::ModifyWorkflowProperties { .. } => Key::ModifyProperties,
            Command::ProtocolMessage { message_id } => {
                if let Some(id) = message_id.strip_suffix("/accept") {
                    Key::UpdateAccepted(id.to_string())
                } else if let Some(id) = message_id.strip_suffix("/complete") {
                    Key::UpdateCompleted(id.to_string())
                } else {
                    Key::Message(message_id.clone())
                }
            }
        }
    }

    fn of_event(ev: &HistoryEvent) -> Option<Key> {
        Some(match &ev.attributes {
            EventAttributes::ActivityTaskScheduled(a) => Key::Activity {
                id: a.activity_id.clone(),
                ty: a.activity_type.clone(),
            },
            EventAttributes::ActivityTaskCancelRequested(a) => {
                Key::CancelActivity(a.scheduled_event_id)
            }
            EventAttributes::TimerStarted(a) => Key::Timer(a.timer_id.clone()),
            EventAttributes::TimerCanceled(a) => Key::CancelTimer(a.timer_id.clone()),
            EventAttributes::MarkerRecorded(a) => Key::Marker {
                name: a.marker_name.clone(),
                patch: if a.marker_name == PATCH_MARKER_NAME {
                    parse_patch_marker(&a.details)
                } else {
                    None
                },
            },
            EventAttributes::WorkflowExecutionCompleted(_) => Key::Complete,
            EventAttributes::WorkflowExecutionFailed(_) => Key::Fail,
            EventAttributes::WorkflowExecutionCanceled(_) => Key::Cancel,
            EventAttributes::WorkflowExecutionContinuedAsNew(_) => Key::ContinueAsNew,
            EventAttributes::StartChildWorkflowExecutionInitiated(a) => Key::Child {
                id: a.workflow_id.clone(),
                ty: a.workflow_type.clone(),
            },
            EventAttributes::SignalExternalWorkflowExecutionInitiated(_) => Key::SignalExternal,
            EventAttributes::RequestCancelExternalWorkflowExecutionInitiated(_) => {
                Key::CancelExternal
            }
            EventAttributes::UpsertWorkflowSearchAttributes(_) => Key::UpsertSearchAttributes,
            EventAttributes::WorkflowPropertiesModified(_) => Key::ModifyProperties,
            EventAttributes::WorkflowExecutionUpdateAccepted(a) => {
                Key::UpdateAccepted(a.protocol_instance_id.clone())
            }
            EventAttributes::WorkflowExecutionUpdateCompleted(a) => Key::UpdateCompleted(
                a.meta
                    .as_ref()
                    .map_or_else(String::new, |m| m.update_id.clone()),
            ),
            _ => return None,
        })
    }

    /// Whether a command and a command event correspond: activities by id and type, timers by
    /// id, markers by name (patch markers also by patch id, whatever their `deprecated`
    /// flag), terminal commands by type.
    fn matches(&self, other: &Key) -> bool {
        match (self, other) {
            (Key::Marker { name: a, patch: pa }, Key::Marker { name: b, patch: pb }) => {
                a == b && pa.as_ref().map(|p| &p.0) == pb.as_ref().map(|p| &p.0)
            }
            _ => self == other,
        }
    }

    /// Same kind of command (activity/activity, timer/timer...).
    fn same_kind(&self, other: &Key) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
    }

    fn is_terminal(&self) -> bool {
        matches!(
            self,
            Key::Complete | Key::Fail | Key::Cancel | Key::ContinueAsNew
        )
    }

    fn is_deprecated_patch(&self) -> bool {
        matches!(
            self,
            Key::Marker {
                patch: Some((_, true)),
                ..
            }
        )
    }

    fn describe_command(&self) -> String {
        match self {
            Key::Activity { id, ty } => {
                format!("ScheduleActivityTask(activity_id={id}, activity_type={ty})")
            }
            Key::CancelActivity(sid) => {
                format!("RequestCancelActivityTask(scheduled_event_id={sid})")
            }
            Key::Timer(id) => format!("StartTimer(timer_id={id})"),
            Key::CancelTimer(id) => format!("CancelTimer(timer_id={id})"),
            Key::Marker { name, patch } => match patch {
                Some((id, dep)) => {
                    format!("RecordMarker(marker_name={name}, patch_id={id}, deprecated={dep})")
                }
                None => format!("RecordMarker(marker_name={name})"),
            },
            Key::Complete => "CompleteWorkflowExecution".to_string(),
            Key::Fail => "FailWorkflowExecution".to_string(),
            Key::Cancel => "CancelWorkflowExecution".to_string(),
            Key::ContinueAsNew => "ContinueAsNewWorkflowExecution".to_string(),
            Key::Child { id, ty } => {
                format!("StartChildWorkflowExecution(workflow_id={id}, workflow_type={ty})")
            }
            Key::SignalExternal => "SignalExternalWorkflowExecution".to_string(),
            Key::CancelExternal => "RequestCancelExternalWorkflowExecution".to_string(),
            Key::UpsertSearchAttributes => "UpsertWorkflowSearchAttributes".to_string(),
            Key::ModifyProperties => "ModifyWorkflowProperties".to_string(),
            Key::UpdateAccepted(id) => format!("ProtocolMessage(accept update {id})"),
            Key::UpdateCompleted(id) => format!("ProtocolMessage(complete update {id})"),
            Key::Message(id) => format!("ProtocolMessage({id})"),
        }
    }

    fn describe_event(&self) -> String {
        match self {
            Key::Activity { id, ty } => {
                format!("ActivityTaskScheduled(activity_id={id}, activity_type={ty})")
            }
            Key::CancelActivity(sid) => {
                format!("ActivityTaskCancelRequested(scheduled_event_id={sid})")
            }
            Key::Timer(id) => format!("TimerStarted(timer_id={id})"),
            Key::CancelTimer(id) => format!("TimerCanceled(timer_id={id})"),
            Key::Marker { name, patch } => match patch {
                Some((id, dep)) => {
                    format!("MarkerRecorded(marker_name={name}, patch_id={id}, deprecated={dep})")
                }
                None => format!("MarkerRecorded(marker_name={name})"),
            },
            Key::Complete => "WorkflowExecutionCompleted".to_string(),
            Key::Fail => "WorkflowExecutionFailed".to_string(),
            Key::Cancel => "WorkflowExecutionCanceled".to_string(),
            Key::ContinueAsNew => "WorkflowExecutionContinuedAsNew".to_string(),
            Key::Child { id, ty } => format!(
                "StartChildWorkflowExecutionInitiated(workflow_id={id}, workflow_type={ty})"
            ),
            Key::SignalExternal => "SignalExternalWorkflowExecutionInitiated".to_string(),
            Key::CancelExternal => "RequestCancelExternalWorkflowExecutionInitiated".to_string(),
            Key::UpsertSearchAttributes => "UpsertWorkflowSearchAttributes".to_string(),
            Key::ModifyProperties => "WorkflowPropertiesModified".to_string(),
            Key::UpdateAccepted(id) => format!("WorkflowExecutionUpdateAccepted(update_id={id})"),
            Key::UpdateCompleted(id) => {
                format!("WorkflowExecutionUpdateCompleted(update_id={id})")
            }
            Key::Message(id) => format!("protocol message {id}"),
        }
    }
}

/// Whether `ev`, a non-command event among a completed task's command events (the task's
/// WorkflowTaskCompleted is `completed`), is a consequence the server wrote while applying
/// those commands, so more of the task's command events may follow it: an ActivityTaskCanceled
/// answering a cancel request of the same task (an activity cancelled before it started is
/// canceled at once, between the task's command events).
pub fn within_task(ev: &HistoryEvent, completed: EventId) -> bool {
    match &ev.attributes {
        EventAttributes::ActivityTaskCanceled(c) => c.latest_cancel_requested_event_id > completed,
        _ => false,
    }
}

/// The commands of replayed workflow tasks whose events have not been seen yet, each with a link
/// `L` the runtime uses to tie the command's event back to its own state (an activity's sequence
/// number...).
pub struct CommandMatcher<L> {
    pending: VecDeque<(Key, L)>,
}

impl<L> Default for CommandMatcher<L> {
    fn default() -> Self {
        CommandMatcher {
            pending: VecDeque::new(),
        }
    }
}

impl<L> std::fmt::Debug for CommandMatcher<L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.pending.iter().map(|(k, _)| k.describe_command()))
            .finish()
    }
}

impl<L> CommandMatcher<L> {
    /// An empty matcher.
    pub fn new() -> Self {
        Self::default()
    }

    /// Queues a command the code produced; its event must come next in history.
    pub fn push(&mut self, cmd: &Command, link: L) {
        self.pending.push_back((Key::of_command(cmd), link));
    }

    /// Matches command event `events[i]` against the next pending command: `Ok(Some(link))` of
    /// the command it matched, `Ok(None)` for a deprecated patch marker the code no longer
    /// produces, or the non-determinism error naming the event.
    pub fn match_event(
        &mut self,
        events: &[HistoryEvent],
        i: usize,
    ) -> Result<Option<L>, WorkflowTaskError> {
        let ev = &events[i];
        let Some(ek) = Key::of_event(ev) else {
            return Err(WorkflowTaskError::BadHistory(format!(
                "event {} ({}) is not a command event",
                ev.event_id,
                ev.event_type()
            )));
        };
        loop {
            let Some((front, _)) = self.pending.front() else {
                if ek.is_deprecated_patch() {
                    return Ok(None);
                }
                return Err(nondet(
                    NonDeterminismKind::Missing,
                    ev.event_id,
                    ek.describe_event(),
                    "no command".to_string(),
                    format!(
                        "history has {} but the workflow code produced no command for it",
                        ek.describe_event()
                    ),
                ));
            };
            if front.matches(&ek) {
                let (_, link) = self.pending.pop_front().expect("front exists");
                return Ok(Some(link));
            }
            if front.is_deprecated_patch() {
                self.pending.pop_front();
                continue;
            }
            if ek.is_deprecated_patch() {
                return Ok(None);
            }
            return Err(self.classify(&ek, ev, events, i));
        }
    }

    /// Ends the command events of a completed task (at event `at`, `next` being the event after
    /// them, if any): every command must have been matched.
    pub fn close(
        &mut self,
        at: EventId,
        next: Option<&HistoryEvent>,
    ) -> Result<(), WorkflowTaskError> {
        while let Some((k, _)) = self.pending.front() {
            if !k.is_deprecated_patch() {
                break;
            }
            self.pending.pop_front();
        }
        let Some((k, _)) = self.pending.front() else {
            return Ok(());
        };
        let code = k.describe_command();
        let history = match next {
            Some(e) => format!("{} (no further command events)", e.event_type()),
            None => "end of history".to_string(),
        };
        Err(nondet(
            NonDeterminismKind::Extra,
            at,
            history.clone(),
            code.clone(),
            format!("the workflow code produced {code} but history has {history}"),
        ))
    }

    fn classify(
        &self,
        ek: &Key,
        ev: &HistoryEvent,
        events: &[HistoryEvent],
        i: usize,
    ) -> WorkflowTaskError {
        let fk = &self.pending.front().expect("front exists").0;
        let history = ek.describe_event();
        let code = fk.describe_command();
        let id = ev.event_id;
        if fk.same_kind(ek) {
            let message = match (ek, fk) {
                (Key::Activity { id: hid, ty: hty }, Key::Activity { id: cid, ty: cty }) => {
                    if hty != cty {
                        format!(
                            "activity type of scheduled event '{hty}' does not match activity type of activity command '{cty}'"
                        )
                    } else {
                        format!(
                            "activity id of scheduled event '{hid}' does not match activity id of activity command '{cid}'"
                        )
                    }
                }
                (Key::Child { id: hid, ty: hty }, Key::Child { id: cid, ty: cty }) => {
                    if hid != cid {
                        format!(
                            "Child workflow id of scheduled event '{hid}' does not match child workflow id of command '{cid}'"
                        )
                    } else {
                        format!(
                            "Child workflow type of scheduled event '{hty}' does not match child workflow type of command '{cty}'"
                        )
                    }
                }
                (Key::Timer(h), Key::Timer(c)) => format!(
                    "timer id of timer started event '{h}' does not match timer id of timer command '{c}'"
                ),
                (Key::Marker { name: hn, patch: hp }, Key::Marker { name: cn, patch: cp }) => {
                    if hn != cn {
                        format!(
                            "marker name of marker recorded event '{hn}' does not match marker name of marker command '{cn}'"
                        )
                    } else {
                        let h = hp.as_ref().map_or("?", |p| p.0.as_str());
                        let c = cp.as_ref().map_or("?", |p| p.0.as_str());
                        format!(
                            "patch id of marker recorded event '{h}' does not match patch id of marker command '{c}'"
                        )
                    }
                }
                _ => format!("history has {history} but the workflow code produced {code}"),
            };
            return nondet(NonDeterminismKind::Mismatch, id, history, code, message);
        }
        let missing = || {
            nondet(
                NonDeterminismKind::Missing,
                id,
                history.clone(),
                code.clone(),
                format!(
                    "history has {history} but the workflow code no longer produces it (it produced {code})"
                ),
            )
        };
        let extra = || {
            nondet(
                NonDeterminismKind::Extra,
                id,
                history.clone(),
                code.clone(),
                format!(
                    "the workflow code produced {code} which history lacks (history has {history})"
                ),
            )
        };
        if fk.is_terminal() && !ek.is_terminal() {
            return missing();
        }
        if ek.is_terminal() && !fk.is_terminal() {
            return extra();
        }
        if self.pending.iter().skip(1).any(|p| p.0.matches(ek)) {
            return extra();
        }
        let later_events = events[i + 1..]
            .iter()
            .take_while(|e| e.event_type().is_command_event());
        if later_events
            .filter_map(Key::of_event)
            .any(|k| k.matches(fk))
        {
            return missing();
        }
        nondet(
            NonDeterminismKind::Mismatch,
            id,
            history.clone(),
            code.clone(),
            format!("history has {history} but the workflow code produced {code}"),
        )
    }
}

fn nondet(
    kind: NonDeterminismKind,
    event_id: EventId,
    history: String,
    code: String,
    message: String,
) -> WorkflowTaskError {
    WorkflowTaskError::NonDeterminism(NonDeterminismError {
        kind,
        event_id,
        history,
        code,
        message,
    })
}
