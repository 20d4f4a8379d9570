//! Failures as Temporal records them: a message, a source, a stack trace, a typed info, and a
//! chain of causes.
//!
//! Invariant: pure data, no I/O.

use super::event::{EventId, Extra, RetryState, TimeoutType};
use super::payload::Payloads;

/// A failure (`temporal.api.failure.v1.Failure`): what an activity or workflow raised, or what the
/// server decided (timeout, termination), with the failure that caused it.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    /// Human-readable message (`account B-INVALID is invalid`, `activity StartToClose timeout`).
    pub message: String,
    /// Who produced it: `Server` for failures the server made (timeouts), the SDK's name for some
    /// SDKs (`GoSDK`); empty for failures from the Python SDK or from this crate's SDK.
    pub source: String,
    /// Stack trace of the code that raised it, as text; empty when there is none (server failures,
    /// failures built by this crate).
    pub stack_trace: String,
    /// The failure that led to this one, if any (an activity failure wraps the activity's own
    /// error; a workflow can raise from a caught error).
    pub cause: Option<Box<Failure>>,
    /// The typed part: which kind of failure, and its kind-specific fields.
    pub info: FailureInfo,
    /// Failure keys we do not model (`encodedAttributes`, unmodelled `*FailureInfo` objects such as
    /// `childWorkflowExecutionFailureInfo`, unmodelled keys inside modelled ones), kept verbatim so
    /// the failure round-trips.
    pub extra: Extra,
}

/// The `*FailureInfo` part of a failure.
#[derive(Clone, Debug, PartialEq)]
pub enum FailureInfo {
    /// No `*FailureInfo`, or only one we do not model (kept in [`Failure::extra`]).
    None,
    /// `applicationFailureInfo`: an error raised by activity or workflow code.
    Application {
        /// The error's type name (the exception class in Python, `InvalidAccountError`); what
        /// `non_retryable_error_types` is matched against.
        error_type: String,
        /// Set by the raiser: never retry this failure, whatever the retry policy says.
        non_retryable: bool,
        /// Structured details attached by the raiser; `None` for none.
        details: Option<Payloads>,
    },
    /// `timeoutFailureInfo`: a timeout enforced by the server.
    Timeout {
        /// Which timeout expired.
        timeout_type: TimeoutType,
        /// The last heartbeat details recorded before the timeout (for activities that heartbeat);
        /// `None` for none.
        last_heartbeat_details: Option<Payloads>,
    },
    /// `canceledFailureInfo`: the activity or workflow was canceled.
    Canceled {
        /// Details attached on cancellation; `None` for none.
        details: Option<Payloads>,
    },
    /// `terminatedFailureInfo`: the workflow was terminated from outside.
    Terminated,
    /// `serverFailureInfo`: a failure raised by the server itself.
    Server {
        /// Never retry this failure.
        non_retryable: bool,
    },
    /// `activityFailureInfo`: the wrapper workflow code receives when an activity did not complete
    /// (message `Activity task failed`); its cause is the activity's own failure.
    Activity {
        /// The activity's ActivityTaskScheduled event; 0 if it was never scheduled (canceled before
        /// its command was sent).
        scheduled_event_id: EventId,
        /// The ActivityTaskStarted event of the last attempt; 0 if no attempt started.
        started_event_id: EventId,
        /// Identity of the worker that ran the last attempt; empty if none did.
        identity: String,
        /// The activity's type name.
        activity_type: String,
        /// The activity's id within the run.
        activity_id: String,
        /// Why the activity is not retried further ([`RetryState::MaximumAttemptsReached`],
        /// [`RetryState::NonRetryableFailure`], ...).
        retry_state: RetryState,
    },
}

impl Failure {
    fn new(message: impl Into<String>, info: FailureInfo) -> Failure {
        Failure {
            message: message.into(),
            source: String::new(),
            stack_trace: String::new(),
            cause: None,
            info,
            extra: Extra::new(),
        }
    }

    /// An application error with a type name (what activities and workflows raise).
    pub fn application(
        message: impl Into<String>,
        error_type: impl Into<String>,
        non_retryable: bool,
    ) -> Failure {
        Failure::new(
            message,
            FailureInfo::Application {
                error_type: error_type.into(),
                non_retryable,
                details: None,
            },
        )
    }

    /// A server-side timeout failure (`activity StartToClose timeout`).
    pub fn timeout(timeout_type: TimeoutType, message: impl Into<String>) -> Failure {
        let mut f = Failure::new(
            message,
            FailureInfo::Timeout {
                timeout_type,
                last_heartbeat_details: None,
            },
        );
        f.source = "Server".to_string();
        f
    }

    /// A cancellation (`canceledFailureInfo`), without details: what an activity or workflow that
    /// was canceled ends with.
    pub fn canceled(message: impl Into<String>) -> Failure {
        Failure::new(message, FailureInfo::Canceled { details: None })
    }

    /// Sets `cause` (replacing any previous one) and returns the failure.
    pub fn with_cause(mut self, cause: Failure) -> Failure {
        self.cause = Some(Box::new(cause));
        self
    }

    /// The application error type, if this is an application failure.
    pub fn error_type(&self) -> Option<&str> {
        match &self.info {
            FailureInfo::Application { error_type, .. } => Some(error_type),
            _ => None,
        }
    }

    /// Whether the failure itself forbids a retry (application or server failure with
    /// `non_retryable`). A retry policy's `non_retryable_error_types` can forbid one too; this does
    /// not look at it.
    pub fn is_non_retryable(&self) -> bool {
        matches!(
            self.info,
            FailureInfo::Application {
                non_retryable: true,
                ..
            } | FailureInfo::Server {
                non_retryable: true
            }
        )
    }

    /// Iterates this failure and its causes, outermost first (bounded by the chain length).
    pub fn chain(&self) -> impl Iterator<Item = &Failure> {
        std::iter::successors(Some(self), |f| f.cause.as_deref())
    }
}
