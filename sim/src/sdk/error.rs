//! Errors workflow and activity code returns, and how they become Temporal failures.

use std::fmt;

use crate::history::{
    ContinueAsNewWorkflowExecution, Failure, FailureInfo, PayloadError, Payloads,
};

/// The error type of an activity's own cancellation ([`ActivityError::cancelled`]).
pub const CANCELLED_ERROR_TYPE: &str = "CancelledError";

/// An error returned by an activity attempt. Becomes an application failure
/// (`applicationFailureInfo {type, nonRetryable}`); whether it is retried is decided by the
/// activity's retry policy (`non_retryable_error_types`) unless `non_retryable` is set. A
/// cancellation ([`ActivityError::cancelled`]) becomes a cancellation instead.
#[derive(Clone, Debug, PartialEq)]
pub struct ActivityError {
    /// Human-readable message; becomes the failure's `message`.
    pub message: String,
    /// The error's type name; what the retry policy's `non_retryable_error_types` matches against.
    pub error_type: String,
    /// Never retry this failure, whatever the retry policy says.
    pub non_retryable: bool,
    /// Structured details for the failure (`applicationFailureInfo.details`); `None` for none.
    pub details: Option<Payloads>,
}

impl ActivityError {
    /// An error of type `error_type` that the retry policy may retry.
    pub fn retryable(error_type: impl Into<String>, message: impl Into<String>) -> Self {
        ActivityError {
            message: message.into(),
            error_type: error_type.into(),
            non_retryable: false,
            details: None,
        }
    }

    /// An error of type `error_type` that ends the activity at once, whatever the retry policy
    /// (ActivityTaskFailed with [`RetryState::NonRetryableFailure`]).
    ///
    /// [`RetryState::NonRetryableFailure`]: crate::history::RetryState::NonRetryableFailure
    pub fn non_retryable(error_type: impl Into<String>, message: impl Into<String>) -> Self {
        ActivityError {
            non_retryable: true,
            ..ActivityError::retryable(error_type, message)
        }
    }

    /// The error an activity sees when its cancellation was requested (via heartbeat).
    pub fn cancelled() -> Self {
        ActivityError::retryable(CANCELLED_ERROR_TYPE, "activity cancelled")
    }

    /// Attaches `details` to the failure.
    pub fn with_details(mut self, details: Payloads) -> Self {
        self.details = Some(details);
        self
    }

    /// The failure the worker reports: a cancellation (`canceledFailureInfo`, so the worker
    /// answers RespondActivityTaskCanceled and history says ActivityTaskCanceled) for an error of
    /// type [`CANCELLED_ERROR_TYPE`] (what [`ActivityError::cancelled`] builds), otherwise the
    /// application failure recorded in `ActivityTaskFailed`.
    pub fn into_failure(self) -> Failure {
        if self.error_type == CANCELLED_ERROR_TYPE {
            let mut f = Failure::canceled(self.message);
            f.info = FailureInfo::Canceled {
                details: self.details,
            };
            return f;
        }
        let mut f = Failure::application(self.message, self.error_type, self.non_retryable);
        if let FailureInfo::Application { details, .. } = &mut f.info {
            *details = self.details;
        }
        f
    }
}

impl fmt::Display for ActivityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error_type, self.message)
    }
}

impl std::error::Error for ActivityError {}

impl From<ActivityError> for Failure {
    fn from(e: ActivityError) -> Failure {
        e.into_failure()
    }
}

impl From<PayloadError> for ActivityError {
    fn from(e: PayloadError) -> Self {
        ActivityError::non_retryable("PayloadError", e.0)
    }
}

/// What an activity future resolves to when the activity did not complete: the
/// `ActivityFailure` Temporal hands the workflow (`message` "Activity task failed",
/// `activityFailureInfo`), whose cause is the activity's own failure (application error,
/// timeout, cancellation).
#[derive(Clone, Debug, PartialEq)]
pub struct ActivityFailed {
    /// The whole `ActivityFailure` (`activityFailureInfo` with the activity's id, type and retry
    /// state), its cause the activity's own failure.
    pub failure: Failure,
}

impl ActivityFailed {
    /// The activity's own failure (the cause of the `ActivityFailure` wrapper).
    pub fn cause(&self) -> Option<&Failure> {
        self.failure.cause.as_deref()
    }

    /// The application error type of the cause, if the activity raised an application error.
    pub fn error_type(&self) -> Option<&str> {
        self.cause().and_then(Failure::error_type)
    }

    /// Whether the activity was cancelled (by the workflow's request).
    pub fn is_cancelled(&self) -> bool {
        self.failure
            .chain()
            .any(|f| matches!(f.info, FailureInfo::Canceled { .. }))
    }

    /// Whether the activity timed out.
    pub fn is_timeout(&self) -> bool {
        self.failure
            .chain()
            .any(|f| matches!(f.info, FailureInfo::Timeout { .. }))
    }
}

impl fmt::Display for ActivityFailed {
    /// As Python's `str(ActivityError)`: the wrapper's message, "Activity task failed".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.failure.message)
    }
}

impl std::error::Error for ActivityFailed {}

/// How a workflow run ends other than by returning a value.
#[derive(Clone, Debug, PartialEq)]
pub enum WorkflowErrorKind {
    /// The run fails (`FailWorkflowExecution`) with this failure.
    Failed(Box<Failure>),
    /// The run accepts cancellation (`CancelWorkflowExecution`).
    Cancelled {
        /// Details recorded in WorkflowExecutionCanceled; `None` for none.
        details: Option<Payloads>,
    },
    /// The run continues as new (`ContinueAsNewWorkflowExecution`); see
    /// [`crate::sdk::WorkflowContext::continue_as_new`].
    ContinueAsNew(Box<ContinueAsNewWorkflowExecution>),
}

/// The error side of a workflow's result.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkflowError {
    /// How the run ends.
    pub kind: WorkflowErrorKind,
}

impl WorkflowError {
    /// An application failure (retryable unless [`WorkflowError::non_retryable`]).
    pub fn application(error_type: impl Into<String>, message: impl Into<String>) -> Self {
        WorkflowError {
            kind: WorkflowErrorKind::Failed(Box::new(Failure::application(
                message, error_type, false,
            ))),
        }
    }

    /// Marks an application failure non-retryable.
    pub fn non_retryable(mut self) -> Self {
        if let WorkflowErrorKind::Failed(f) = &mut self.kind {
            if let FailureInfo::Application { non_retryable, .. } = &mut f.info {
                *non_retryable = true;
            }
        }
        self
    }

    /// Sets the cause of a failure (Python's `raise ... from err`).
    pub fn with_cause(mut self, cause: impl Into<Failure>) -> Self {
        if let WorkflowErrorKind::Failed(f) = &mut self.kind {
            f.cause = Some(Box::new(cause.into()));
        }
        self
    }

    /// Accepts cancellation: the run ends with CancelWorkflowExecution (WorkflowExecutionCanceled).
    /// Return it after [`WorkflowContext::cancelled`](crate::sdk::WorkflowContext::cancelled)
    /// resolves.
    pub fn cancelled() -> Self {
        WorkflowError {
            kind: WorkflowErrorKind::Cancelled { details: None },
        }
    }

    /// The failure the run will fail with, if it fails (not for cancellation or continue-as-new).
    pub fn failure(&self) -> Option<&Failure> {
        match &self.kind {
            WorkflowErrorKind::Failed(f) => Some(&**f),
            _ => None,
        }
    }
}

impl fmt::Display for WorkflowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            WorkflowErrorKind::Failed(fail) => f.write_str(&fail.message),
            WorkflowErrorKind::Cancelled { .. } => f.write_str("workflow cancelled"),
            WorkflowErrorKind::ContinueAsNew(c) => {
                write!(f, "continue as new ({})", c.workflow_type)
            }
        }
    }
}

impl std::error::Error for WorkflowError {}

impl From<Failure> for WorkflowError {
    fn from(f: Failure) -> Self {
        WorkflowError {
            kind: WorkflowErrorKind::Failed(Box::new(f)),
        }
    }
}

impl From<ActivityFailed> for WorkflowError {
    /// An activity failure that escapes the workflow fails the run with the whole chain.
    fn from(e: ActivityFailed) -> Self {
        WorkflowError::from(e.failure)
    }
}

impl From<ActivityFailed> for Failure {
    fn from(e: ActivityFailed) -> Failure {
        e.failure
    }
}

impl From<ActivityError> for WorkflowError {
    fn from(e: ActivityError) -> Self {
        WorkflowError::from(e.into_failure())
    }
}

impl From<PayloadError> for WorkflowError {
    fn from(e: PayloadError) -> Self {
        WorkflowError::application("PayloadError", e.0).non_retryable()
    }
}
