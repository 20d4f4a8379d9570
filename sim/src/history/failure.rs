//! Failures as Temporal records them: a message, a source, a stack trace, a typed info, and a
//! chain of causes.
//!
//! Invariant: pure data, no I/O.

use super::event::{EventId, Extra, RetryState, TimeoutType};
use super::payload::Payloads;

#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    pub message: String,
    pub source: String,
    pub stack_trace: String,
    pub cause: Option<Box<Failure>>,
    pub info: FailureInfo,
    pub extra: Extra,
}

/// The `*FailureInfo` part of a failure.
#[derive(Clone, Debug, PartialEq)]
pub enum FailureInfo {
    None,
    Application {
        error_type: String,
        non_retryable: bool,
        details: Option<Payloads>,
    },
    Timeout {
        timeout_type: TimeoutType,
        last_heartbeat_details: Option<Payloads>,
    },
    Canceled {
        details: Option<Payloads>,
    },
    Terminated,
    Server {
        non_retryable: bool,
    },
    Activity {
        scheduled_event_id: EventId,
        started_event_id: EventId,
        identity: String,
        activity_type: String,
        activity_id: String,
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

    pub fn canceled(message: impl Into<String>) -> Failure {
        Failure::new(message, FailureInfo::Canceled { details: None })
    }

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
