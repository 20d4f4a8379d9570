//! Every message the history codec models, declared once: its keys in protobuf declaration
//! order (`temporal/api/*/v1/message.proto`), each modelled (`"key" => field`) or bare (`"key"`,
//! kept in `extra` and written back at its place). The macros are documented in `json.rs`;
//! this file is only data.

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

events! {
    WorkflowExecutionStarted {
        "workflowType" => workflow_type as Named (required),
        "parentWorkflowNamespace",
        "parentWorkflowNamespaceId",
        "parentWorkflowExecution",
        "parentInitiatedEventId",
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
        "memo",
        "searchAttributes",
        "prevAutoResetPoints",
        "header",
        "parentInitiatedEventVersion",
        "workflowId" => workflow_id,
        "sourceVersionStamp",
        "completionCallbacks",
        "rootWorkflowExecution",
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
        "externalInitiatedEventId",
        "externalWorkflowExecution",
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
        "externalWorkflowExecution",
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
}
