//! What an activity attempt sees: its info, heartbeats, cancellation, and calls to services.

use std::cell::Cell;
use std::fmt;
use std::rc::Rc;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::error::ActivityError;
use super::LocalBoxFuture;
use crate::history::{EventId, Payloads};

/// Facts about one activity attempt (from the activity task the worker polled).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ActivityInfo {
    pub workflow_id: String,
    pub run_id: String,
    pub workflow_type: String,
    pub activity_id: String,
    pub activity_type: String,
    /// 1 for the first attempt.
    pub attempt: i32,
    pub scheduled_event_id: EventId,
    /// Details of the last heartbeat of an earlier attempt.
    pub heartbeat_details: Option<Payloads>,
    pub task_queue: String,
}

/// What the server answered to a heartbeat.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeartbeatOutcome {
    Ok,
    /// The workflow asked to cancel this activity.
    CancelRequested,
    /// The attempt is no longer current (timed out, completed, or the run closed).
    NotFound,
}

/// Why a call to a service node failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServiceCallErrorKind {
    /// No answer (timeout, network fault, service down). The call may or may not have applied.
    Unavailable,
    /// The service answered with an error.
    Rejected,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceCallError {
    pub kind: ServiceCallErrorKind,
    pub error_type: String,
    pub message: String,
}

impl ServiceCallError {
    pub fn unavailable(message: impl Into<String>) -> Self {
        ServiceCallError {
            kind: ServiceCallErrorKind::Unavailable,
            error_type: "ServiceUnavailable".to_string(),
            message: message.into(),
        }
    }

    pub fn rejected(error_type: impl Into<String>, message: impl Into<String>) -> Self {
        ServiceCallError {
            kind: ServiceCallErrorKind::Rejected,
            error_type: error_type.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ServiceCallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error_type, self.message)
    }
}

impl std::error::Error for ServiceCallError {}

impl From<ServiceCallError> for ActivityError {
    /// Both kinds are retryable application errors carrying the service's error type; the retry
    /// policy's `non_retryable_error_types` decides (as it does for Python's exceptions).
    fn from(e: ServiceCallError) -> Self {
        ActivityError::retryable(e.error_type, e.message)
    }
}

/// The worker side of an activity context: heartbeats go to the server, service calls go
/// through the worker's transport. Implemented by the worker.
pub trait ActivityHost {
    fn heartbeat(&self, details: Option<Payloads>) -> LocalBoxFuture<'static, HeartbeatOutcome>;
    fn call_service(
        &self,
        caller: &ActivityInfo,
        service: &str,
        operation: &str,
        request: serde_json::Value,
    ) -> LocalBoxFuture<'static, Result<serde_json::Value, ServiceCallError>>;
}

/// Handed to an activity function for one attempt.
#[derive(Clone)]
pub struct ActivityContext {
    info: Rc<ActivityInfo>,
    host: Rc<dyn ActivityHost>,
    cancelled: Rc<Cell<bool>>,
}

impl fmt::Debug for ActivityContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActivityContext")
            .field("info", &self.info)
            .field("cancelled", &self.cancelled.get())
            .finish()
    }
}

impl ActivityContext {
    pub fn new(info: ActivityInfo, host: Rc<dyn ActivityHost>) -> Self {
        ActivityContext {
            info: Rc::new(info),
            host,
            cancelled: Rc::new(Cell::new(false)),
        }
    }

    pub fn info(&self) -> &ActivityInfo {
        &self.info
    }

    pub fn workflow_id(&self) -> &str {
        &self.info.workflow_id
    }

    pub fn run_id(&self) -> &str {
        &self.info.run_id
    }

    pub fn activity_id(&self) -> &str {
        &self.info.activity_id
    }

    pub fn attempt(&self) -> i32 {
        self.info.attempt
    }

    /// `{workflow_id}/{run_id}/{activity_id}`: the same for every attempt of this activity.
    pub fn idempotency_key(&self) -> String {
        format!(
            "{}/{}/{}",
            self.info.workflow_id, self.info.run_id, self.info.activity_id
        )
    }

    /// Records a heartbeat. `Err` (a `CancelledError`) when the server says the activity was
    /// cancelled or is no longer current; the activity should stop then.
    pub async fn heartbeat<T: Serialize>(&self, details: &T) -> Result<(), ActivityError> {
        let payloads = Payloads::json(details)?;
        match self.host.heartbeat(Some(payloads)).await {
            HeartbeatOutcome::Ok => Ok(()),
            HeartbeatOutcome::CancelRequested | HeartbeatOutcome::NotFound => {
                self.cancelled.set(true);
                Err(ActivityError::cancelled())
            }
        }
    }

    /// Whether a heartbeat has learned that cancellation was requested.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.get()
    }

    /// The details of the last heartbeat of an earlier attempt, decoded.
    pub fn last_heartbeat_details<T: DeserializeOwned>(&self) -> Option<T> {
        self.info
            .heartbeat_details
            .as_ref()
            .and_then(|p| p.decode_first().ok())
    }

    /// Calls an operation on a service node (the bank, the translation service) through the
    /// worker's transport.
    pub async fn call_service(
        &self,
        service: &str,
        operation: &str,
        request: serde_json::Value,
    ) -> Result<serde_json::Value, ServiceCallError> {
        self.host
            .call_service(&self.info, service, operation, request)
            .await
    }
}
