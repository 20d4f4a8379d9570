//! Every message the history codec models, declared once: its keys in protobuf declaration
//! order (`temporal/api/*/v1/message.proto`), each modelled (`"key" => field`) or bare (`"key"`,
//! kept in `extra` and written back at its place). The macros are documented in `mod.rs` and
//! `declare.rs`; this file is only data.

use super::*;

message!(TaskQueue {
    "name" => name,
    "kind" => kind,
    "normalName" => normal_name,
});

message!(RetryPolicy {
    "initialInterval" => initial_interval,
    "backoffCoefficient" => backoff_coefficient,
    "maximumInterval" => maximum_interval,
    "maximumAttempts" => maximum_attempts,
    "nonRetryableErrorTypes" => non_retryable_error_types,
});

message!(Failure {
    "message" => message,
    "source" => source,
    "stackTrace" => stack_trace,
    "encodedAttributes",
    "cause" => cause,
} oneof info: FailureInfo);

oneof!(FailureInfo ("a failure has one info") {
    "applicationFailureInfo" => Application {
        "type" => error_type,
        "nonRetryable" => non_retryable,
        "details" => details,
    },
    "timeoutFailureInfo" => Timeout {
        "timeoutType" => timeout_type,
        "lastHeartbeatDetails" => last_heartbeat_details,
    },
    "canceledFailureInfo" => Canceled { "details" => details },
    "terminatedFailureInfo" => Terminated {},
    "serverFailureInfo" => Server { "nonRetryable" => non_retryable },
    "resetWorkflowFailureInfo",
    "activityFailureInfo" => Activity {
        "scheduledEventId" => scheduled_event_id,
        "startedEventId" => started_event_id,
        "identity" => identity,
        "activityType" => activity_type as Named,
        "activityId" => activity_id,
        "retryState" => retry_state,
    },
    "childWorkflowExecutionFailureInfo",
    "nexusOperationExecutionFailureInfo",
    "nexusHandlerFailureInfo",
});

message!(WorkflowExecution {
    "workflowId" => workflow_id,
    "runId" => run_id,
});

message!(SearchAttributes {
    "indexedFields" => indexed_fields,
});

message!(Memo {
    "fields" => fields,
});

message!(UpdateMeta {
    "updateId" => update_id,
    "identity" => identity,
});

message!(UpdateInput {
    "header",
    "name" => name,
    "args" => args,
});

message!(UpdateRequest {
    "meta" => meta,
    "input" => input,
    "requestId",
    "completionCallbacks",
    "links",
});

message!(UpdateOutcome {
    "success" => success,
    "failure" => failure,
});

events! {
    WorkflowExecutionStarted {
        "workflowType" => workflow_type as Named (required),
        "parentWorkflowNamespace" => parent_workflow_namespace,
        "parentWorkflowNamespaceId",
        "parentWorkflowExecution" => parent_workflow_execution,
        "parentInitiatedEventId" => parent_initiated_event_id,
        "taskQueue" => task_queue (required),
        "input" => input,
        "workflowExecutionTimeout" => workflow_execution_timeout,
        "workflowRunTimeout" => workflow_run_timeout,
        "workflowTaskTimeout" => workflow_task_timeout,
        "continuedExecutionRunId" => continued_execution_run_id,
        "initiator",
        "continuedFailure",
        "lastCompletionResult",
        "originalExecutionRunId" => original_execution_run_id,
        "identity" => identity,
        "firstExecutionRunId" => first_execution_run_id,
        "retryPolicy" => retry_policy,
        "attempt" => attempt,
        "workflowExecutionExpirationTime",
        "cronSchedule",
        "firstWorkflowTaskBackoff" => first_workflow_task_backoff,
        "memo" => memo,
        "searchAttributes" => search_attributes,
        "prevAutoResetPoints",
        "header",
        "parentInitiatedEventVersion",
        "workflowId" => workflow_id,
        "sourceVersionStamp",
        "completionCallbacks",
        "rootWorkflowExecution" => root_workflow_execution,
        "inheritedBuildId",
        "versioningOverride",
        "parentPinnedWorkerDeploymentVersion",
        "priority",
        "inheritedPinnedVersion",
        "inheritedAutoUpgradeInfo",
        "eagerExecutionAccepted",
        "declinedTargetVersionUpgrade",
        "timeSkippingConfig",
        "timeSkippingStatePropagation",
    }
    WorkflowExecutionCompleted {
        "result" => result,
        "workflowTaskCompletedEventId" => workflow_task_completed_event_id,
        "newExecutionRunId" => new_execution_run_id,
    }
    WorkflowExecutionFailed {
        "failure" => failure,
        "retryState" => retry_state,
        "workflowTaskCompletedEventId" => workflow_task_completed_event_id,
        "newExecutionRunId" => new_execution_run_id,
    }
    WorkflowExecutionTimedOut {
        "retryState" => retry_state,
        "newExecutionRunId" => new_execution_run_id,
    }
    WorkflowTaskScheduled {
        "taskQueue" => task_queue,
        "startToCloseTimeout" => start_to_close_timeout,
        "attempt" => attempt,
    }
    WorkflowTaskStarted {
        "scheduledEventId" => scheduled_event_id (required),
        "identity" => identity,
        "requestId" => request_id,
        "suggestContinueAsNew",
        "suggestContinueAsNewReasons",
        "targetWorkerDeploymentVersionChanged",
        "historySizeBytes" => history_size_bytes,
        "workerVersion",
        "buildIdRedirectCounter",
    }
    WorkflowTaskCompleted {
        "scheduledEventId" => scheduled_event_id (required),
        "startedEventId" => started_event_id,
        "identity" => identity,
        "binaryChecksum",
        "workerVersion",
        "sdkMetadata",
        "meteringMetadata",
        "deployment",
        "versioningBehavior",
        "workerDeploymentVersion",
        "workerDeploymentName",
        "deploymentVersion",
    }
    WorkflowTaskTimedOut {
        "scheduledEventId" => scheduled_event_id (required),
        "startedEventId" => started_event_id,
        "timeoutType" => timeout_type,
    }
    WorkflowTaskFailed {
        "scheduledEventId" => scheduled_event_id (required),
        "startedEventId" => started_event_id,
        "cause" => cause,
        "failure" => failure,
        "identity" => identity,
        "baseRunId",
        "newRunId",
        "forkEventVersion",
        "binaryChecksum",
        "workerVersion",
    }
    ActivityTaskScheduled {
        "activityId" => activity_id (required),
        "activityType" => activity_type as Named (required),
        "taskQueue" => task_queue,
        "header",
        "input" => input,
        "scheduleToCloseTimeout" => schedule_to_close_timeout,
        "scheduleToStartTimeout" => schedule_to_start_timeout,
        "startToCloseTimeout" => start_to_close_timeout,
        "heartbeatTimeout" => heartbeat_timeout,
        "workflowTaskCompletedEventId" => workflow_task_completed_event_id,
        "retryPolicy" => retry_policy,
        "useWorkflowBuildId",
        "priority",
    }
    ActivityTaskStarted {
        "scheduledEventId" => scheduled_event_id (required),
        "identity" => identity,
        "requestId" => request_id,
        "attempt" => attempt,
        "lastFailure" => last_failure,
        "workerVersion",
        "buildIdRedirectCounter",
    }
    ActivityTaskCompleted {
        "result" => result,
        "scheduledEventId" => scheduled_event_id (required),
        "startedEventId" => started_event_id,
        "identity" => identity,
        "workerVersion",
    }
    ActivityTaskFailed {
        "failure" => failure,
        "scheduledEventId" => scheduled_event_id (required),
        "startedEventId" => started_event_id,
        "identity" => identity,
        "retryState" => retry_state,
        "workerVersion",
        "cause",
    }
    ActivityTaskTimedOut {
        "failure" => failure,
        "scheduledEventId" => scheduled_event_id (required),
        "startedEventId" => started_event_id,
        "retryState" => retry_state,
    }
    ActivityTaskCancelRequested {
        "scheduledEventId" => scheduled_event_id (required),
        "workflowTaskCompletedEventId" => workflow_task_completed_event_id,
    }
    ActivityTaskCanceled {
        "details" => details,
        "latestCancelRequestedEventId" => latest_cancel_requested_event_id,
        "scheduledEventId" => scheduled_event_id (required),
        "startedEventId" => started_event_id,
        "identity" => identity,
        "workerVersion",
    }
    TimerStarted {
        "timerId" => timer_id (required),
        "startToFireTimeout" => start_to_fire_timeout (required),
        "workflowTaskCompletedEventId" => workflow_task_completed_event_id,
    }
    TimerFired {
        "timerId" => timer_id (required),
        "startedEventId" => started_event_id,
    }
    TimerCanceled {
        "timerId" => timer_id (required),
        "startedEventId" => started_event_id,
        "workflowTaskCompletedEventId" => workflow_task_completed_event_id,
        "identity" => identity,
    }
    WorkflowExecutionCancelRequested {
        "cause" => cause,
        "externalInitiatedEventId" => external_initiated_event_id,
        "externalWorkflowExecution" => external_workflow_execution,
        "identity" => identity,
    }
    WorkflowExecutionCanceled {
        "workflowTaskCompletedEventId" => workflow_task_completed_event_id,
        "details" => details,
    }
    MarkerRecorded {
        "markerName" => marker_name (required),
        "details" => details,
        "workflowTaskCompletedEventId" => workflow_task_completed_event_id,
        "header",
        "failure" => failure,
    }
    WorkflowExecutionSignaled {
        "signalName" => signal_name (required),
        "input" => input,
        "identity" => identity,
        "header",
        "skipGenerateWorkflowTask",
        "externalWorkflowExecution" => external_workflow_execution,
        "requestId",
    }
    WorkflowExecutionTerminated {
        "reason" => reason,
        "details" => details,
        "identity" => identity,
    }
    WorkflowExecutionContinuedAsNew {
        "newExecutionRunId" => new_execution_run_id (required),
        "workflowType" => workflow_type as Named,
        "taskQueue" => task_queue,
        "input" => input,
        "workflowRunTimeout" => workflow_run_timeout,
        "workflowTaskTimeout" => workflow_task_timeout,
        "workflowTaskCompletedEventId" => workflow_task_completed_event_id,
        "backoffStartInterval",
        "initiator",
        "failure",
        "lastCompletionResult",
        "header",
        "memo",
        "searchAttributes",
        "inheritBuildId",
        "initialVersioningBehavior",
    }
    RequestCancelExternalWorkflowExecutionInitiated {
        "workflowTaskCompletedEventId" => workflow_task_completed_event_id,
        "namespace" => namespace,
        "namespaceId",
        "workflowExecution" => workflow_execution,
        "control",
        "childWorkflowOnly" => child_workflow_only,
        "reason" => reason,
    }
    RequestCancelExternalWorkflowExecutionFailed {
        "cause" => cause,
        "workflowTaskCompletedEventId" => workflow_task_completed_event_id,
        "namespace" => namespace,
        "namespaceId",
        "workflowExecution" => workflow_execution,
        "initiatedEventId" => initiated_event_id (required),
        "control",
    }
    ExternalWorkflowExecutionCancelRequested {
        "initiatedEventId" => initiated_event_id (required),
        "namespace" => namespace,
        "namespaceId",
        "workflowExecution" => workflow_execution,
    }
    StartChildWorkflowExecutionInitiated {
        "namespace" => namespace,
        "namespaceId",
        "workflowId" => workflow_id (required),
        "workflowType" => workflow_type as Named (required),
        "taskQueue" => task_queue,
        "input" => input,
        "workflowExecutionTimeout" => workflow_execution_timeout,
        "workflowRunTimeout" => workflow_run_timeout,
        "workflowTaskTimeout" => workflow_task_timeout,
        "parentClosePolicy" => parent_close_policy,
        "control",
        "workflowTaskCompletedEventId" => workflow_task_completed_event_id,
        "workflowIdReusePolicy",
        "retryPolicy" => retry_policy,
        "cronSchedule",
        "header",
        "memo" => memo,
        "searchAttributes" => search_attributes,
        "inheritBuildId",
        "priority",
        "timeSkippingConfig",
        "timeSkippingStatePropagation",
        "versioningOverride",
    }
    StartChildWorkflowExecutionFailed {
        "namespace" => namespace,
        "namespaceId",
        "workflowId" => workflow_id,
        "workflowType" => workflow_type as Named,
        "cause" => cause,
        "control",
        "initiatedEventId" => initiated_event_id (required),
        "workflowTaskCompletedEventId" => workflow_task_completed_event_id,
    }
    ChildWorkflowExecutionStarted {
        "namespace" => namespace,
        "namespaceId",
        "initiatedEventId" => initiated_event_id (required),
        "workflowExecution" => workflow_execution,
        "workflowType" => workflow_type as Named,
        "header",
    }
    ChildWorkflowExecutionCompleted {
        "result" => result,
        "namespace" => namespace,
        "namespaceId",
        "workflowExecution" => workflow_execution,
        "workflowType" => workflow_type as Named,
        "initiatedEventId" => initiated_event_id (required),
        "startedEventId" => started_event_id,
    }
    ChildWorkflowExecutionFailed {
        "failure" => failure,
        "namespace" => namespace,
        "namespaceId",
        "workflowExecution" => workflow_execution,
        "workflowType" => workflow_type as Named,
        "initiatedEventId" => initiated_event_id (required),
        "startedEventId" => started_event_id,
        "retryState" => retry_state,
    }
    ChildWorkflowExecutionCanceled {
        "details" => details,
        "namespace" => namespace,
        "namespaceId",
        "workflowExecution" => workflow_execution,
        "workflowType" => workflow_type as Named,
        "initiatedEventId" => initiated_event_id (required),
        "startedEventId" => started_event_id,
    }
    ChildWorkflowExecutionTimedOut {
        "namespace" => namespace,
        "namespaceId",
        "workflowExecution" => workflow_execution,
        "workflowType" => workflow_type as Named,
        "initiatedEventId" => initiated_event_id (required),
        "startedEventId" => started_event_id,
        "retryState" => retry_state,
    }
    ChildWorkflowExecutionTerminated {
        "namespace" => namespace,
        "namespaceId",
        "workflowExecution" => workflow_execution,
        "workflowType" => workflow_type as Named,
        "initiatedEventId" => initiated_event_id (required),
        "startedEventId" => started_event_id,
    }
    SignalExternalWorkflowExecutionInitiated {
        "workflowTaskCompletedEventId" => workflow_task_completed_event_id,
        "namespace" => namespace,
        "namespaceId",
        "workflowExecution" => workflow_execution,
        "signalName" => signal_name (required),
        "input" => input,
        "control",
        "childWorkflowOnly" => child_workflow_only,
        "header",
    }
    SignalExternalWorkflowExecutionFailed {
        "cause" => cause,
        "workflowTaskCompletedEventId" => workflow_task_completed_event_id,
        "namespace" => namespace,
        "namespaceId",
        "workflowExecution" => workflow_execution,
        "initiatedEventId" => initiated_event_id (required),
        "control",
    }
    ExternalWorkflowExecutionSignaled {
        "initiatedEventId" => initiated_event_id (required),
        "namespace" => namespace,
        "namespaceId",
        "workflowExecution" => workflow_execution,
        "control",
    }
    UpsertWorkflowSearchAttributes {
        "workflowTaskCompletedEventId" => workflow_task_completed_event_id,
        "searchAttributes" => search_attributes,
    }
    WorkflowExecutionUpdateAccepted {
        "protocolInstanceId" => protocol_instance_id,
        "acceptedRequestMessageId" => accepted_request_message_id,
        "acceptedRequestSequencingEventId" => accepted_request_sequencing_event_id,
        "acceptedRequest" => accepted_request,
    }
    WorkflowExecutionUpdateRejected {
        "protocolInstanceId" => protocol_instance_id,
        "rejectedRequestMessageId" => rejected_request_message_id,
        "rejectedRequestSequencingEventId" => rejected_request_sequencing_event_id,
        "rejectedRequest" => rejected_request,
        "failure" => failure,
    }
    WorkflowExecutionUpdateCompleted {
        "meta" => meta,
        "acceptedEventId" => accepted_event_id,
        "outcome" => outcome,
    }
    WorkflowPropertiesModifiedExternally {
        "newTaskQueue",
        "newWorkflowTaskTimeout",
        "newWorkflowRunTimeout",
        "newWorkflowExecutionTimeout",
        "upsertedMemo" => upserted_memo,
    }
    ActivityPropertiesModifiedExternally {
        "scheduledEventId" => scheduled_event_id (required),
        "newRetryPolicy" => new_retry_policy,
    }
    WorkflowPropertiesModified {
        "workflowTaskCompletedEventId" => workflow_task_completed_event_id,
        "upsertedMemo" => upserted_memo,
    }
    WorkflowExecutionUpdateAdmitted {
        "request" => request,
        "origin",
    }
    NexusOperationScheduled {
        "endpoint" => endpoint,
        "service" => service,
        "operation" => operation,
        "input" => input,
        "scheduleToCloseTimeout" => schedule_to_close_timeout,
        "nexusHeader",
        "workflowTaskCompletedEventId" => workflow_task_completed_event_id,
        "requestId" => request_id,
        "endpointId",
        "scheduleToStartTimeout" => schedule_to_start_timeout,
        "startToCloseTimeout" => start_to_close_timeout,
    }
    NexusOperationStarted {
        "scheduledEventId" => scheduled_event_id (required),
        "operationId",
        "requestId" => request_id,
        "operationToken" => operation_token,
    }
    NexusOperationCompleted {
        "scheduledEventId" => scheduled_event_id (required),
        "result" => result,
        "requestId" => request_id,
    }
    NexusOperationFailed {
        "scheduledEventId" => scheduled_event_id (required),
        "failure" => failure,
        "requestId" => request_id,
    }
    NexusOperationCanceled {
        "scheduledEventId" => scheduled_event_id (required),
        "failure" => failure,
        "requestId" => request_id,
    }
    NexusOperationTimedOut {
        "scheduledEventId" => scheduled_event_id (required),
        "failure" => failure,
        "requestId" => request_id,
    }
    NexusOperationCancelRequested {
        "scheduledEventId" => scheduled_event_id (required),
        "workflowTaskCompletedEventId" => workflow_task_completed_event_id,
    }
    WorkflowExecutionOptionsUpdated {
        "versioningOverride",
        "unsetVersioningOverride",
        "attachedRequestId",
        "attachedCompletionCallbacks",
        "identity" => identity,
        "priority",
        "timeSkippingConfig",
        "timeSkippingConfigUpdated",
        "workflowUpdateOptions",
    }
    NexusOperationCancelRequestCompleted {
        "requestedEventId" => requested_event_id,
        "workflowTaskCompletedEventId" => workflow_task_completed_event_id,
        "scheduledEventId" => scheduled_event_id,
    }
    NexusOperationCancelRequestFailed {
        "requestedEventId" => requested_event_id,
        "workflowTaskCompletedEventId" => workflow_task_completed_event_id,
        "failure" => failure,
        "scheduledEventId" => scheduled_event_id,
    }
    WorkflowExecutionPaused {
        "identity" => identity,
        "reason" => reason,
        "requestId" => request_id,
    }
    WorkflowExecutionUnpaused {
        "identity" => identity,
        "reason" => reason,
        "requestId" => request_id,
    }
    WorkflowExecutionTimeSkippingTransitioned {
        "targetTime" => target_time,
        "disabledAfterFastForward" => disabled_after_fast_forward,
        "wallClockTime" => wall_clock_time,
    }
}
