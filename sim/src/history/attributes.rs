//! The attributes of the event types beyond a run's own lifecycle, its workflow tasks,
//! activities, timers, markers and signals (those are in `event.rs`): child workflows, other
//! workflows signalled or cancelled, updates, search attributes and memo, changes made from
//! outside, Nexus operations, pauses and time skipping. With Temporal's names and numbering.
//!
//! Each struct models the fields that link events or that a reader needs (ids, names, results,
//! failures, causes); every other key of the message is kept in its `extra` map, so a history
//! read from Temporal and written back loses nothing.
//!
//! Invariant: pure data, like the rest of `history/`.

use std::collections::BTreeMap;
use std::time::Duration;

use super::event::{EventId, Extra, RetryPolicy, RetryState, TaskQueue, Timestamp};
use super::failure::Failure;
use super::payload::{Payload, Payloads};

// ---------------------------------------------------------------------------------------------
// Values inside the attributes
// ---------------------------------------------------------------------------------------------

/// A workflow execution (`temporal.api.common.v1.WorkflowExecution`): a workflow id and, when
/// known, one of its runs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorkflowExecution {
    /// The workflow id.
    pub workflow_id: String,
    /// The run id; empty when the event names the workflow only (its current run).
    pub run_id: String,
    /// Keys we do not model, kept verbatim so the event round-trips.
    pub extra: Extra,
}

/// Indexed values by name, each one payload (`temporal.api.common.v1.SearchAttributes`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SearchAttributes {
    /// Attribute name -> its value (the payload's `type` metadata names the attribute's type).
    pub indexed_fields: BTreeMap<String, Payload>,
    /// Keys we do not model, kept verbatim so the event round-trips.
    pub extra: Extra,
}

/// Non-indexed values by name, each one payload (`temporal.api.common.v1.Memo`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Memo {
    /// Memo key -> its value; a `binary/null` value removes the key when upserted.
    pub fields: BTreeMap<String, Payload>,
    /// Keys we do not model, kept verbatim so the event round-trips.
    pub extra: Extra,
}

/// Who sent an update and under which id (`temporal.api.update.v1.Meta`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UpdateMeta {
    /// The update's id, unique within the run (the protocol instance id).
    pub update_id: String,
    /// Identity of the client that sent the update.
    pub identity: String,
    /// Keys we do not model, kept verbatim so the event round-trips.
    pub extra: Extra,
}

/// The update's handler name and arguments (`temporal.api.update.v1.Input`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UpdateInput {
    /// The update handler's name.
    pub name: String,
    /// The arguments; `None` for none.
    pub args: Option<Payloads>,
    /// Keys we do not model (`header`), kept verbatim so the event round-trips.
    pub extra: Extra,
}

/// An update request (`temporal.api.update.v1.Request`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UpdateRequest {
    /// Its id and sender.
    pub meta: Option<UpdateMeta>,
    /// Its handler and arguments.
    pub input: Option<UpdateInput>,
    /// Keys we do not model (`requestId`, `completionCallbacks`, `links`), kept verbatim so the
    /// event round-trips.
    pub extra: Extra,
}

/// How an update ended (`temporal.api.update.v1.Outcome`): a result or a failure.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UpdateOutcome {
    /// The handler's result, when it succeeded.
    pub success: Option<Payloads>,
    /// The handler's failure, when it failed.
    pub failure: Option<Failure>,
    /// Keys we do not model, kept verbatim so the event round-trips.
    pub extra: Extra,
}

/// What happens to a child when its parent closes (`PARENT_CLOSE_POLICY_*`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ParentClosePolicy {
    /// Not given (0); the server applies Terminate.
    #[default]
    Unspecified = 0,
    /// The child is terminated (1).
    Terminate = 1,
    /// The child runs on (2).
    Abandon = 2,
    /// The child is asked to cancel (3).
    RequestCancel = 3,
}

impl ParentClosePolicy {
    /// The policy with Temporal's number `n`; unknown numbers are `Unspecified`.
    pub fn from_number(n: i32) -> ParentClosePolicy {
        match n {
            1 => ParentClosePolicy::Terminate,
            2 => ParentClosePolicy::Abandon,
            3 => ParentClosePolicy::RequestCancel,
            _ => ParentClosePolicy::Unspecified,
        }
    }
}

/// Why a child could not start (`START_CHILD_WORKFLOW_EXECUTION_FAILED_CAUSE_*`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StartChildWorkflowExecutionFailedCause {
    /// Not given (0).
    #[default]
    Unspecified = 0,
    /// A workflow with the child's id is running (or its reuse policy forbids another) (1).
    WorkflowAlreadyExists = 1,
    /// The child's namespace does not exist (2).
    NamespaceNotFound = 2,
    /// The child's versioning override is invalid (3).
    InvalidVersioningOverride = 3,
}

impl StartChildWorkflowExecutionFailedCause {
    /// The cause with Temporal's number `n`; unknown numbers are `Unspecified`.
    pub fn from_number(n: i32) -> Self {
        match n {
            1 => Self::WorkflowAlreadyExists,
            2 => Self::NamespaceNotFound,
            3 => Self::InvalidVersioningOverride,
            _ => Self::Unspecified,
        }
    }
}

/// Why a signal to another workflow failed (`SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_*`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SignalExternalWorkflowExecutionFailedCause {
    /// Not given (0).
    #[default]
    Unspecified = 0,
    /// No such workflow (or run) is running (1).
    ExternalWorkflowExecutionNotFound = 1,
    /// Its namespace does not exist (2).
    NamespaceNotFound = 2,
    /// The target has received as many signals as it may (3).
    SignalCountLimitExceeded = 3,
}

impl SignalExternalWorkflowExecutionFailedCause {
    /// The cause with Temporal's number `n`; unknown numbers are `Unspecified`.
    pub fn from_number(n: i32) -> Self {
        match n {
            1 => Self::ExternalWorkflowExecutionNotFound,
            2 => Self::NamespaceNotFound,
            3 => Self::SignalCountLimitExceeded,
            _ => Self::Unspecified,
        }
    }
}

/// Why a cancel request to another workflow failed
/// (`CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_*`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CancelExternalWorkflowExecutionFailedCause {
    /// Not given (0).
    #[default]
    Unspecified = 0,
    /// No such workflow (or run) is running (1).
    ExternalWorkflowExecutionNotFound = 1,
    /// Its namespace does not exist (2).
    NamespaceNotFound = 2,
}

impl CancelExternalWorkflowExecutionFailedCause {
    /// The cause with Temporal's number `n`; unknown numbers are `Unspecified`.
    pub fn from_number(n: i32) -> Self {
        match n {
            1 => Self::ExternalWorkflowExecutionNotFound,
            2 => Self::NamespaceNotFound,
            _ => Self::Unspecified,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Other workflows: cancel requests and signals
// ---------------------------------------------------------------------------------------------

/// Attributes of RequestCancelExternalWorkflowExecutionInitiated: the workflow asked to cancel
/// another workflow (a RequestCancelExternalWorkflowExecution command; also how a parent cancels
/// its child).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RequestCancelExternalWorkflowExecutionInitiated {
    /// The WorkflowTaskCompleted event whose commands included the request.
    pub workflow_task_completed_event_id: EventId,
    /// The target's namespace.
    pub namespace: String,
    /// The workflow to cancel.
    pub workflow_execution: Option<WorkflowExecution>,
    /// Whether the target must be a child of this workflow.
    pub child_workflow_only: bool,
    /// Free-text reason passed on to the target.
    pub reason: String,
    /// Keys we do not model (`namespaceId`, `control`), kept verbatim so the event round-trips.
    pub extra: Extra,
}

/// Attributes of RequestCancelExternalWorkflowExecutionFailed: the cancel request could not be
/// delivered.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RequestCancelExternalWorkflowExecutionFailed {
    /// Why (the target was not found, ...).
    pub cause: CancelExternalWorkflowExecutionFailedCause,
    /// The WorkflowTaskCompleted event of the request's command (0 when not written).
    pub workflow_task_completed_event_id: EventId,
    /// The target's namespace.
    pub namespace: String,
    /// The workflow the request was for.
    pub workflow_execution: Option<WorkflowExecution>,
    /// The RequestCancelExternalWorkflowExecutionInitiated event this answers.
    pub initiated_event_id: EventId,
    /// Keys we do not model (`namespaceId`, `control`), kept verbatim so the event round-trips.
    pub extra: Extra,
}

/// Attributes of ExternalWorkflowExecutionCancelRequested: the target recorded the cancel request.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExternalWorkflowExecutionCancelRequested {
    /// The RequestCancelExternalWorkflowExecutionInitiated event this answers.
    pub initiated_event_id: EventId,
    /// The target's namespace.
    pub namespace: String,
    /// The workflow that was asked to cancel.
    pub workflow_execution: Option<WorkflowExecution>,
    /// Keys we do not model (`namespaceId`), kept verbatim so the event round-trips.
    pub extra: Extra,
}

/// Attributes of SignalExternalWorkflowExecutionInitiated: the workflow signalled another
/// workflow (a SignalExternalWorkflowExecution command).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SignalExternalWorkflowExecutionInitiated {
    /// The WorkflowTaskCompleted event whose commands included the signal.
    pub workflow_task_completed_event_id: EventId,
    /// The target's namespace.
    pub namespace: String,
    /// The workflow to signal.
    pub workflow_execution: Option<WorkflowExecution>,
    /// The signal's name.
    pub signal_name: String,
    /// The signal's arguments; `None` for none.
    pub input: Option<Payloads>,
    /// Whether the target must be a child of this workflow.
    pub child_workflow_only: bool,
    /// Keys we do not model (`namespaceId`, `control`, `header`), kept verbatim so the event
    /// round-trips.
    pub extra: Extra,
}

/// Attributes of SignalExternalWorkflowExecutionFailed: the signal could not be delivered.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SignalExternalWorkflowExecutionFailed {
    /// Why (the target was not found, ...).
    pub cause: SignalExternalWorkflowExecutionFailedCause,
    /// The WorkflowTaskCompleted event of the signal's command (0 when not written).
    pub workflow_task_completed_event_id: EventId,
    /// The target's namespace.
    pub namespace: String,
    /// The workflow the signal was for.
    pub workflow_execution: Option<WorkflowExecution>,
    /// The SignalExternalWorkflowExecutionInitiated event this answers.
    pub initiated_event_id: EventId,
    /// Keys we do not model (`namespaceId`, `control`), kept verbatim so the event round-trips.
    pub extra: Extra,
}

/// Attributes of ExternalWorkflowExecutionSignaled: the target received the signal.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExternalWorkflowExecutionSignaled {
    /// The SignalExternalWorkflowExecutionInitiated event this answers.
    pub initiated_event_id: EventId,
    /// The target's namespace.
    pub namespace: String,
    /// The workflow signalled.
    pub workflow_execution: Option<WorkflowExecution>,
    /// Keys we do not model (`namespaceId`, `control`), kept verbatim so the event round-trips.
    pub extra: Extra,
}

// ---------------------------------------------------------------------------------------------
// Child workflows
// ---------------------------------------------------------------------------------------------

/// Attributes of StartChildWorkflowExecutionInitiated: the workflow started a child (a
/// StartChildWorkflowExecution command).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StartChildWorkflowExecutionInitiated {
    /// The child's namespace.
    pub namespace: String,
    /// The child's workflow id.
    pub workflow_id: String,
    /// The child's workflow type.
    pub workflow_type: String,
    /// The child's task queue.
    pub task_queue: Option<TaskQueue>,
    /// The child's arguments; `None` for none.
    pub input: Option<Payloads>,
    /// The child's execution timeout; `None` or zero: unlimited.
    pub workflow_execution_timeout: Option<Duration>,
    /// The child's run timeout; `None` or zero: unlimited.
    pub workflow_run_timeout: Option<Duration>,
    /// The child's workflow task timeout.
    pub workflow_task_timeout: Option<Duration>,
    /// What happens to the child when this workflow closes.
    pub parent_close_policy: ParentClosePolicy,
    /// The WorkflowTaskCompleted event whose commands included the start.
    pub workflow_task_completed_event_id: EventId,
    /// The child's retry policy; `None`: not retried.
    pub retry_policy: Option<RetryPolicy>,
    /// The child's memo.
    pub memo: Option<Memo>,
    /// The child's search attributes.
    pub search_attributes: Option<SearchAttributes>,
    /// Keys we do not model (`namespaceId`, `control`, `workflowIdReusePolicy`, `cronSchedule`,
    /// `header`, `inheritBuildId`, `priority`, ...), kept verbatim so the event round-trips.
    pub extra: Extra,
}

/// Attributes of StartChildWorkflowExecutionFailed: the child could not be started.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StartChildWorkflowExecutionFailed {
    /// The child's namespace.
    pub namespace: String,
    /// The child's workflow id.
    pub workflow_id: String,
    /// The child's workflow type.
    pub workflow_type: String,
    /// Why (the id is taken, ...).
    pub cause: StartChildWorkflowExecutionFailedCause,
    /// The StartChildWorkflowExecutionInitiated event this answers.
    pub initiated_event_id: EventId,
    /// The WorkflowTaskCompleted event of the start's command (0 when not written).
    pub workflow_task_completed_event_id: EventId,
    /// Keys we do not model (`namespaceId`, `control`), kept verbatim so the event round-trips.
    pub extra: Extra,
}

/// Attributes of ChildWorkflowExecutionStarted: the child's first run started.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ChildWorkflowExecutionStarted {
    /// The child's namespace.
    pub namespace: String,
    /// The StartChildWorkflowExecutionInitiated event of this child.
    pub initiated_event_id: EventId,
    /// The child's workflow id and run id.
    pub workflow_execution: Option<WorkflowExecution>,
    /// The child's workflow type.
    pub workflow_type: String,
    /// Keys we do not model (`namespaceId`, `header`), kept verbatim so the event round-trips.
    pub extra: Extra,
}

/// Attributes of ChildWorkflowExecutionCompleted: the child returned a result.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ChildWorkflowExecutionCompleted {
    /// The child's result; `None` for none.
    pub result: Option<Payloads>,
    /// The child's namespace.
    pub namespace: String,
    /// The child's workflow id and run id.
    pub workflow_execution: Option<WorkflowExecution>,
    /// The child's workflow type.
    pub workflow_type: String,
    /// The StartChildWorkflowExecutionInitiated event of this child.
    pub initiated_event_id: EventId,
    /// The ChildWorkflowExecutionStarted event of this child.
    pub started_event_id: EventId,
    /// Keys we do not model (`namespaceId`), kept verbatim so the event round-trips.
    pub extra: Extra,
}

/// Attributes of ChildWorkflowExecutionFailed: the child failed.
#[derive(Clone, Debug, PartialEq)]
pub struct ChildWorkflowExecutionFailed {
    /// The child's failure.
    pub failure: Option<Failure>,
    /// The child's namespace.
    pub namespace: String,
    /// The child's workflow id and run id.
    pub workflow_execution: Option<WorkflowExecution>,
    /// The child's workflow type.
    pub workflow_type: String,
    /// The StartChildWorkflowExecutionInitiated event of this child.
    pub initiated_event_id: EventId,
    /// The ChildWorkflowExecutionStarted event of this child.
    pub started_event_id: EventId,
    /// Whether the child is retried.
    pub retry_state: RetryState,
    /// Keys we do not model (`namespaceId`), kept verbatim so the event round-trips.
    pub extra: Extra,
}

/// Attributes of ChildWorkflowExecutionCanceled: the child accepted cancellation.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ChildWorkflowExecutionCanceled {
    /// Details the child attached; `None` for none.
    pub details: Option<Payloads>,
    /// The child's namespace.
    pub namespace: String,
    /// The child's workflow id and run id.
    pub workflow_execution: Option<WorkflowExecution>,
    /// The child's workflow type.
    pub workflow_type: String,
    /// The StartChildWorkflowExecutionInitiated event of this child.
    pub initiated_event_id: EventId,
    /// The ChildWorkflowExecutionStarted event of this child.
    pub started_event_id: EventId,
    /// Keys we do not model (`namespaceId`), kept verbatim so the event round-trips.
    pub extra: Extra,
}

/// Attributes of ChildWorkflowExecutionTimedOut: the child's run or execution timeout expired.
#[derive(Clone, Debug, PartialEq)]
pub struct ChildWorkflowExecutionTimedOut {
    /// The child's namespace.
    pub namespace: String,
    /// The child's workflow id and run id.
    pub workflow_execution: Option<WorkflowExecution>,
    /// The child's workflow type.
    pub workflow_type: String,
    /// The StartChildWorkflowExecutionInitiated event of this child.
    pub initiated_event_id: EventId,
    /// The ChildWorkflowExecutionStarted event of this child.
    pub started_event_id: EventId,
    /// Whether the child is retried.
    pub retry_state: RetryState,
    /// Keys we do not model (`namespaceId`), kept verbatim so the event round-trips.
    pub extra: Extra,
}

/// Attributes of ChildWorkflowExecutionTerminated: the child was terminated.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ChildWorkflowExecutionTerminated {
    /// The child's namespace.
    pub namespace: String,
    /// The child's workflow id and run id.
    pub workflow_execution: Option<WorkflowExecution>,
    /// The child's workflow type.
    pub workflow_type: String,
    /// The StartChildWorkflowExecutionInitiated event of this child.
    pub initiated_event_id: EventId,
    /// The ChildWorkflowExecutionStarted event of this child.
    pub started_event_id: EventId,
    /// Keys we do not model (`namespaceId`), kept verbatim so the event round-trips.
    pub extra: Extra,
}

// ---------------------------------------------------------------------------------------------
// Search attributes, memo, changes from outside
// ---------------------------------------------------------------------------------------------

/// Attributes of UpsertWorkflowSearchAttributes: the workflow set search attributes (an
/// UpsertWorkflowSearchAttributes command; SDKs also record patches this way).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UpsertWorkflowSearchAttributes {
    /// The WorkflowTaskCompleted event whose commands included the upsert.
    pub workflow_task_completed_event_id: EventId,
    /// The attributes set.
    pub search_attributes: Option<SearchAttributes>,
    /// Keys we do not model, kept verbatim so the event round-trips.
    pub extra: Extra,
}

/// Attributes of WorkflowPropertiesModified: the workflow changed its memo (a
/// ModifyWorkflowProperties command).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorkflowPropertiesModified {
    /// The WorkflowTaskCompleted event whose commands included the change.
    pub workflow_task_completed_event_id: EventId,
    /// The memo keys set (a `binary/null` value removes its key).
    pub upserted_memo: Option<Memo>,
    /// Keys we do not model, kept verbatim so the event round-trips.
    pub extra: Extra,
}

/// Attributes of WorkflowPropertiesModifiedExternally (not written by current servers).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorkflowPropertiesModifiedExternally {
    /// The memo keys set.
    pub upserted_memo: Option<Memo>,
    /// Keys we do not model (the new task queue and timeouts), kept verbatim so the event
    /// round-trips.
    pub extra: Extra,
}

/// Attributes of ActivityPropertiesModifiedExternally: an activity's retry policy was changed
/// from outside.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ActivityPropertiesModifiedExternally {
    /// The ActivityTaskScheduled event of the activity.
    pub scheduled_event_id: EventId,
    /// Its new retry policy.
    pub new_retry_policy: Option<RetryPolicy>,
    /// Keys we do not model, kept verbatim so the event round-trips.
    pub extra: Extra,
}

/// Attributes of WorkflowExecutionOptionsUpdated: the run's options (versioning override,
/// priority, callbacks) were changed from outside.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorkflowExecutionOptionsUpdated {
    /// Identity of the client that changed them.
    pub identity: String,
    /// Keys we do not model (`versioningOverride`, `priority`, `attachedRequestId`, ...), kept
    /// verbatim so the event round-trips.
    pub extra: Extra,
}

// ---------------------------------------------------------------------------------------------
// Updates
// ---------------------------------------------------------------------------------------------

/// Attributes of WorkflowExecutionUpdateAdmitted: the server took an update in before a worker
/// saw it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorkflowExecutionUpdateAdmitted {
    /// The update request.
    pub request: Option<UpdateRequest>,
    /// Keys we do not model (`origin`), kept verbatim so the event round-trips.
    pub extra: Extra,
}

/// Attributes of WorkflowExecutionUpdateAccepted: the workflow's validator accepted an update.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorkflowExecutionUpdateAccepted {
    /// The update's id (the protocol instance).
    pub protocol_instance_id: String,
    /// The id of the protocol message that carried the request.
    pub accepted_request_message_id: String,
    /// The event after which the worker saw the request.
    pub accepted_request_sequencing_event_id: EventId,
    /// The request accepted.
    pub accepted_request: Option<UpdateRequest>,
    /// Keys we do not model, kept verbatim so the event round-trips.
    pub extra: Extra,
}

/// Attributes of WorkflowExecutionUpdateRejected: the workflow's validator rejected an update
/// (current servers do not write it).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorkflowExecutionUpdateRejected {
    /// The update's id (the protocol instance).
    pub protocol_instance_id: String,
    /// The id of the protocol message that carried the request.
    pub rejected_request_message_id: String,
    /// The event after which the worker saw the request.
    pub rejected_request_sequencing_event_id: EventId,
    /// The request rejected.
    pub rejected_request: Option<UpdateRequest>,
    /// Why the validator rejected it.
    pub failure: Option<Failure>,
    /// Keys we do not model, kept verbatim so the event round-trips.
    pub extra: Extra,
}

/// Attributes of WorkflowExecutionUpdateCompleted: an accepted update's handler finished.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorkflowExecutionUpdateCompleted {
    /// The update's id and sender.
    pub meta: Option<UpdateMeta>,
    /// The WorkflowExecutionUpdateAccepted event of this update.
    pub accepted_event_id: EventId,
    /// Its result or failure.
    pub outcome: Option<UpdateOutcome>,
    /// Keys we do not model, kept verbatim so the event round-trips.
    pub extra: Extra,
}

// ---------------------------------------------------------------------------------------------
// Nexus operations
// ---------------------------------------------------------------------------------------------

/// Attributes of NexusOperationScheduled: the workflow scheduled a Nexus operation (a
/// ScheduleNexusOperation command).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NexusOperationScheduled {
    /// The endpoint's name.
    pub endpoint: String,
    /// The service's name.
    pub service: String,
    /// The operation's name.
    pub operation: String,
    /// The operation's input.
    pub input: Option<Payload>,
    /// Bound on the whole operation; `None` or zero: unlimited.
    pub schedule_to_close_timeout: Option<Duration>,
    /// The WorkflowTaskCompleted event whose commands included the schedule.
    pub workflow_task_completed_event_id: EventId,
    /// A unique id for the operation's start request.
    pub request_id: String,
    /// Bound on the wait for a start; `None` or zero: unlimited.
    pub schedule_to_start_timeout: Option<Duration>,
    /// Bound on an asynchronous operation once started; `None` or zero: unlimited.
    pub start_to_close_timeout: Option<Duration>,
    /// Keys we do not model (`nexusHeader`, `endpointId`), kept verbatim so the event round-trips.
    pub extra: Extra,
}

/// Attributes of NexusOperationStarted: an asynchronous Nexus operation started.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NexusOperationStarted {
    /// The NexusOperationScheduled event of the operation.
    pub scheduled_event_id: EventId,
    /// The request id of the start.
    pub request_id: String,
    /// The token that identifies the operation to its handler.
    pub operation_token: String,
    /// Keys we do not model (`operationId`), kept verbatim so the event round-trips.
    pub extra: Extra,
}

/// Attributes of NexusOperationCompleted: the operation returned a result.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NexusOperationCompleted {
    /// The NexusOperationScheduled event of the operation.
    pub scheduled_event_id: EventId,
    /// The result.
    pub result: Option<Payload>,
    /// The request id of the start.
    pub request_id: String,
    /// Keys we do not model, kept verbatim so the event round-trips.
    pub extra: Extra,
}

/// Declares structs with the same fields as each other (Nexus endings, pause changes): the
/// fields first, then each struct's doc and name.
macro_rules! same_fields {
    (@one $doc:literal $name:ident { $( #[doc = $fdoc:literal] $field:ident: $ty:ty, )* }) => {
        #[doc = $doc]
        #[derive(Clone, Debug, Default, PartialEq)]
        pub struct $name {
            $( #[doc = $fdoc] pub $field: $ty, )*
            /// Keys we do not model, kept verbatim so the event round-trips.
            pub extra: Extra,
        }
    };
    ($fields:tt $( #[doc = $doc:literal] $name:ident )*) => {
        $( same_fields!(@one $doc $name $fields); )*
    };
}

same_fields! {
    {
        /// The NexusOperationScheduled event of the operation.
        scheduled_event_id: EventId,
        /// Why it ended.
        failure: Option<Failure>,
        /// The request id of the start.
        request_id: String,
    }
    /// Attributes of NexusOperationFailed: the operation failed.
    NexusOperationFailed
    /// Attributes of NexusOperationCanceled: the operation was canceled.
    NexusOperationCanceled
    /// Attributes of NexusOperationTimedOut: a timeout of the operation expired.
    NexusOperationTimedOut
}

/// Attributes of NexusOperationCancelRequested: the workflow asked to cancel a Nexus operation
/// (a RequestCancelNexusOperation command).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NexusOperationCancelRequested {
    /// The NexusOperationScheduled event of the operation.
    pub scheduled_event_id: EventId,
    /// The WorkflowTaskCompleted event whose commands included the request.
    pub workflow_task_completed_event_id: EventId,
    /// Keys we do not model, kept verbatim so the event round-trips.
    pub extra: Extra,
}

/// Attributes of NexusOperationCancelRequestCompleted: the handler accepted the cancel request.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NexusOperationCancelRequestCompleted {
    /// The NexusOperationCancelRequested event this answers.
    pub requested_event_id: EventId,
    /// The WorkflowTaskCompleted event of the request's command.
    pub workflow_task_completed_event_id: EventId,
    /// The NexusOperationScheduled event of the operation.
    pub scheduled_event_id: EventId,
    /// Keys we do not model, kept verbatim so the event round-trips.
    pub extra: Extra,
}

/// Attributes of NexusOperationCancelRequestFailed: the cancel request failed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NexusOperationCancelRequestFailed {
    /// The NexusOperationCancelRequested event this answers.
    pub requested_event_id: EventId,
    /// The WorkflowTaskCompleted event of the request's command.
    pub workflow_task_completed_event_id: EventId,
    /// Why it failed.
    pub failure: Option<Failure>,
    /// The NexusOperationScheduled event of the operation.
    pub scheduled_event_id: EventId,
    /// Keys we do not model, kept verbatim so the event round-trips.
    pub extra: Extra,
}

// ---------------------------------------------------------------------------------------------
// Pauses and time skipping
// ---------------------------------------------------------------------------------------------

same_fields! {
    {
        /// Identity of who did it.
        identity: String,
        /// Free-text reason.
        reason: String,
        /// The request's id.
        request_id: String,
    }
    /// Attributes of WorkflowExecutionPaused: someone paused the run.
    WorkflowExecutionPaused
    /// Attributes of WorkflowExecutionUnpaused: someone unpaused the run.
    WorkflowExecutionUnpaused
}

/// Attributes of WorkflowExecutionTimeSkippingTransitioned: the run's virtual time jumped.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorkflowExecutionTimeSkippingTransitioned {
    /// The time skipped to.
    pub target_time: Option<Timestamp>,
    /// Whether time skipping was turned off after this jump.
    pub disabled_after_fast_forward: bool,
    /// The wall-clock time of the jump.
    pub wall_clock_time: Option<Timestamp>,
    /// Keys we do not model, kept verbatim so the event round-trips.
    pub extra: Extra,
}
