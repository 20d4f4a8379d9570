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
    /// Workflow id of the run that scheduled the activity.
    pub workflow_id: String,
    /// Run id of the run that scheduled the activity.
    pub run_id: String,
    /// Workflow type of that run.
    pub workflow_type: String,
    /// The activity's id within the run (the SDK's default is its sequence number, "1", "2", ...);
    /// the same for every attempt.
    pub activity_id: String,
    /// The registered activity type this attempt runs.
    pub activity_type: String,
    /// 1 for the first attempt.
    pub attempt: i32,
    /// The ActivityTaskScheduled event of the activity; with `attempt`, what the task token names.
    pub scheduled_event_id: EventId,
    /// Details of the last heartbeat of an earlier attempt.
    pub heartbeat_details: Option<Payloads>,
    /// The queue the activity task was polled from.
    pub task_queue: String,
}

/// What the server answered to a heartbeat.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeartbeatOutcome {
    /// Recorded; keep going. (The worker also answers this when the server did not answer.)
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

/// The error of [`ActivityContext::call_service`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceCallError {
    /// Whether the service answered at all.
    pub kind: ServiceCallErrorKind,
    /// The service's error type (`InsufficientFunds`), or `ServiceUnavailable` when it did not
    /// answer; becomes the activity failure's error type via `?`.
    pub error_type: String,
    /// Human-readable description.
    pub message: String,
}

impl ServiceCallError {
    /// No answer: [`ServiceCallErrorKind::Unavailable`] with error type `ServiceUnavailable`.
    pub fn unavailable(message: impl Into<String>) -> Self {
        ServiceCallError {
            kind: ServiceCallErrorKind::Unavailable,
            error_type: "ServiceUnavailable".to_string(),
            message: message.into(),
        }
    }

    /// The service answered with error `error_type`: [`ServiceCallErrorKind::Rejected`].
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
    /// Sends a heartbeat with `details` to the server and resolves to its answer.
    fn heartbeat(&self, details: Option<Payloads>) -> LocalBoxFuture<'static, HeartbeatOutcome>;
    /// Sends `request` to `operation` of the service node named `service` on behalf of the activity
    /// attempt `caller`; resolves to the service's JSON answer or why there is none.
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
    /// The context of one attempt described by `info`, with `host` doing its I/O. Built by the
    /// worker; tests can pass their own host.
    pub fn new(info: ActivityInfo, host: Rc<dyn ActivityHost>) -> Self {
        ActivityContext {
            info: Rc::new(info),
            host,
            cancelled: Rc::new(Cell::new(false)),
        }
    }

    /// Everything known about this attempt.
    pub fn info(&self) -> &ActivityInfo {
        &self.info
    }

    /// Workflow id of the run that scheduled the activity.
    pub fn workflow_id(&self) -> &str {
        &self.info.workflow_id
    }

    /// Run id of the run that scheduled the activity.
    pub fn run_id(&self) -> &str {
        &self.info.run_id
    }

    /// The activity's id within its run; stable across attempts.
    pub fn activity_id(&self) -> &str {
        &self.info.activity_id
    }

    /// This attempt's number: 1 for the first, 2 for the first retry, ...
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
        self.heartbeat_payloads(Some(payloads)).await
    }

    /// Records a heartbeat with details already encoded (`None`: no details), for activities of
    /// another SDK that encode their own values; answers as [`ActivityContext::heartbeat`].
    pub async fn heartbeat_payloads(&self, details: Option<Payloads>) -> Result<(), ActivityError> {
        match self.host.heartbeat(details).await {
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
