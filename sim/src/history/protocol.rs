//! Protocol messages (`temporal.api.protocol.v1.Message`): how the server and a worker carry an
//! update, beside the workflow task's events and commands. The server hands a worker each update
//! it has admitted as a request message; the worker answers with an acceptance or a rejection
//! (the validator's verdict) and, once the handler returns, a response. A
//! [`Command::ProtocolMessage`](super::Command::ProtocolMessage) places a message among the
//! task's commands, so the events it becomes (WorkflowExecutionUpdateAccepted, ...Completed) are
//! written in the order the workflow code produced them.

// Update outcomes are `Result<_, Failure>`, as the wire and the engine carry them.
#![allow(clippy::result_large_err)]

use super::{EventId, Failure, UpdateMeta, UpdateOutcome, UpdateRequest};

/// One protocol message of the update protocol.
#[derive(Clone, Debug, PartialEq)]
pub struct ProtocolMessage {
    /// The message's id (`<update id>/request`, `<update id>/accept`, ...).
    pub id: String,
    /// The update's id: every message of one update carries it.
    pub protocol_instance_id: String,
    /// For a request: the event after which the workflow sees it (the scheduled event of the
    /// workflow task that carries it). 0 for the worker's messages.
    pub sequencing_event_id: EventId,
    /// What it says.
    pub body: MessageBody,
}

/// What a protocol message says.
#[derive(Clone, Debug, PartialEq)]
pub enum MessageBody {
    /// Server to worker: an update to validate and run.
    Request(UpdateRequest),
    /// Worker to server: the validator accepted the request; becomes
    /// WorkflowExecutionUpdateAccepted.
    Acceptance {
        /// The request message accepted.
        accepted_request_message_id: String,
        /// Its sequencing event.
        accepted_request_sequencing_event_id: EventId,
        /// The request itself.
        accepted_request: UpdateRequest,
    },
    /// Worker to server: the validator (or the lack of a handler) rejected the request. Writes
    /// no event: the client is told the failure.
    Rejection {
        /// The request message rejected.
        rejected_request_message_id: String,
        /// Its sequencing event.
        rejected_request_sequencing_event_id: EventId,
        /// The request itself.
        rejected_request: UpdateRequest,
        /// Why.
        failure: Failure,
    },
    /// Worker to server: the handler of an accepted update returned; becomes
    /// WorkflowExecutionUpdateCompleted.
    Response {
        /// The update's id and sender.
        meta: UpdateMeta,
        /// Its result or failure.
        outcome: UpdateOutcome,
    },
}

impl MessageBody {
    /// Temporal's name of the body's type, for messages.
    pub fn name(&self) -> &'static str {
        match self {
            MessageBody::Request(_) => "Request",
            MessageBody::Acceptance { .. } => "Acceptance",
            MessageBody::Rejection { .. } => "Rejection",
            MessageBody::Response { .. } => "Response",
        }
    }
}

impl UpdateRequest {
    /// The update's id (empty when the request has no meta).
    pub fn update_id(&self) -> &str {
        self.meta.as_ref().map_or("", |m| m.update_id.as_str())
    }

    /// The handler's name (empty when the request has no input).
    pub fn name(&self) -> &str {
        self.input.as_ref().map_or("", |i| i.name.as_str())
    }
}

impl UpdateOutcome {
    /// The outcome as a `Result`: the handler's result or its failure.
    pub fn to_result(&self) -> Result<Option<super::Payloads>, Failure> {
        match &self.failure {
            Some(f) => Err(f.clone()),
            None => Ok(self.success.clone()),
        }
    }

    /// An outcome from a handler's `Result`.
    pub fn from_result(r: Result<Option<super::Payloads>, Failure>) -> UpdateOutcome {
        match r {
            Ok(success) => UpdateOutcome {
                success: Some(success.unwrap_or_default()),
                ..UpdateOutcome::default()
            },
            Err(f) => UpdateOutcome {
                failure: Some(f),
                ..UpdateOutcome::default()
            },
        }
    }
}
