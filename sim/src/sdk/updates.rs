//! Updates and queries in workflow code: handlers registered on the [`WorkflowContext`], and
//! the bookkeeping the machine does for them.
//!
//! An update request arrives with a workflow task (live: a protocol message; on replay: the
//! WorkflowExecutionUpdateAccepted event among the task's command events). After the task's
//! first poll of the workflow (when its handlers are registered) the validator runs (live only,
//! as in every Temporal SDK); a rejection is a message and nothing else, an acceptance is a
//! message plus a `ProtocolMessage` command, and the handler runs as a routine beside the
//! workflow; when it returns, a response message and a second `ProtocolMessage` command. Replay
//! matches those commands against the accepted and completed events (`matching.rs`).
//!
//! A query handler is a plain function of the workflow's state: the worker replays the run and
//! calls it; it issues no command.

// Update and query handlers answer `Result<_, Failure>` by contract with the engine.
#![allow(clippy::result_large_err)]

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::context::WorkflowContext;
use super::error::{WorkflowError, WorkflowErrorKind};
use super::matching::update_message_id;
use crate::history::{
    EventId, Failure, MessageBody, Payloads, ProtocolMessage, UpdateMeta, UpdateOutcome,
    UpdateRequest,
};

/// A running update handler.
pub(crate) type UpdateRoutine = Pin<Box<dyn Future<Output = Result<Option<Payloads>, Failure>>>>;

type Validator = Rc<dyn Fn(Option<&Payloads>) -> Result<(), Failure>>;
type Handler = Rc<dyn Fn(WorkflowContext, Option<&Payloads>) -> Result<UpdateRoutine, Failure>>;
type QueryFn = Rc<dyn Fn(Option<&Payloads>) -> Result<Option<Payloads>, Failure>>;

/// A registered update handler.
pub(crate) struct UpdateHandler {
    validator: Option<Validator>,
    handler: Handler,
}

/// An update request handed to the workflow in the current task.
#[derive(Clone, Debug)]
pub(crate) struct IncomingUpdate {
    pub request: UpdateRequest,
    /// The request message's id and sequencing event (echoed in the acceptance).
    pub message_id: String,
    pub sequencing_event_id: EventId,
    /// Run the validator (live requests; a replayed acceptance was validated when it happened).
    pub validate: bool,
}

/// Handlers, requests and answers of one run.
#[derive(Default)]
pub(crate) struct MessageState {
    handlers: BTreeMap<String, Rc<UpdateHandler>>,
    queries: BTreeMap<String, QueryFn>,
    /// Live requests of the task about to run.
    pub requests: Vec<IncomingUpdate>,
    /// The workflow's answers in the task running for real.
    pub outgoing: Vec<ProtocolMessage>,
}

fn decode<I: DeserializeOwned>(args: Option<&Payloads>) -> Result<I, Failure> {
    let r = match args {
        Some(p) => p.decode_args(),
        None => serde_json::from_value(serde_json::Value::Null)
            .map_err(|e| crate::history::PayloadError(format!("arguments missing: {e}"))),
    };
    r.map_err(|e| Failure::application(e.0, "PayloadError", true))
}

fn encode<O: Serialize>(out: &O) -> Result<Option<Payloads>, Failure> {
    Payloads::json(out)
        .map(Some)
        .map_err(|e| Failure::application(e.0, "PayloadError", true))
}

/// The failure an update handler's error becomes.
fn handler_failure(e: WorkflowError) -> Failure {
    match e.kind {
        WorkflowErrorKind::Failed(f) => *f,
        WorkflowErrorKind::Cancelled { .. } => Failure::canceled("update handler cancelled"),
        WorkflowErrorKind::ContinueAsNew(_) => Failure::application(
            "an update handler cannot continue as new",
            "UpdateHandlerError",
            true,
        ),
    }
}

impl WorkflowContext {
    /// Registers the handler of update `name` (replacing an earlier one): it runs beside the
    /// workflow, may await activities and timers, and its result (or failure) is the update's
    /// outcome. With no validator every request is accepted.
    pub fn set_update_handler<I, O, F, Fut>(&self, name: &str, handler: F)
    where
        I: DeserializeOwned + 'static,
        O: Serialize + 'static,
        F: Fn(WorkflowContext, I) -> Fut + 'static,
        Fut: Future<Output = Result<O, WorkflowError>> + 'static,
    {
        self.register_update(name, None, handler);
    }

    /// As [`WorkflowContext::set_update_handler`], with a validator: it sees the arguments
    /// before the update is accepted and rejects it with an error message (a rejected update
    /// writes nothing to history; the client gets the message). It must not change state.
    pub fn set_update_handler_with_validator<I, O, F, Fut, V>(
        &self,
        name: &str,
        validator: V,
        handler: F,
    ) where
        I: DeserializeOwned + 'static,
        O: Serialize + 'static,
        F: Fn(WorkflowContext, I) -> Fut + 'static,
        Fut: Future<Output = Result<O, WorkflowError>> + 'static,
        V: Fn(&I) -> Result<(), String> + 'static,
    {
        let validator: Validator = Rc::new(move |args| {
            let input: I = decode(args)?;
            validator(&input)
                .map_err(|message| Failure::application(message, "ValidationError", true))
        });
        self.register_update(name, Some(validator), handler);
    }

    fn register_update<I, O, F, Fut>(&self, name: &str, validator: Option<Validator>, handler: F)
    where
        I: DeserializeOwned + 'static,
        O: Serialize + 'static,
        F: Fn(WorkflowContext, I) -> Fut + 'static,
        Fut: Future<Output = Result<O, WorkflowError>> + 'static,
    {
        let handler: Handler = Rc::new(move |ctx, args| {
            let input: I = decode(args)?;
            let fut = handler(ctx, input);
            Ok(Box::pin(async move {
                match fut.await {
                    Ok(out) => encode(&out),
                    Err(e) => Err(handler_failure(e)),
                }
            }) as UpdateRoutine)
        });
        self.st.borrow_mut().messages.handlers.insert(
            name.to_string(),
            Rc::new(UpdateHandler { validator, handler }),
        );
    }

    /// Registers the handler of query `name` (replacing an earlier one): a function of the
    /// workflow's state, answered by replaying the run; it must not change state.
    pub fn set_query_handler<I, O, F>(&self, name: &str, handler: F)
    where
        I: DeserializeOwned + 'static,
        O: Serialize + 'static,
        F: Fn(I) -> O + 'static,
    {
        let f: QueryFn = Rc::new(move |args| {
            let input: I = decode(args)?;
            encode(&handler(input))
        });
        self.st
            .borrow_mut()
            .messages
            .queries
            .insert(name.to_string(), f);
    }
}

/// What starting an update did.
pub(crate) enum Started {
    /// Rejected: nothing runs.
    Rejected,
    /// Accepted: its handler, to run as a routine.
    Accepted(UpdateRoutine),
}

/// Validates (live) and accepts `u`: the acceptance command is emitted (and, live, the
/// acceptance or rejection message). A replayed acceptance of a handler the code no longer has
/// is `Err` (non-determinism, reported by the caller).
pub(crate) fn start_update(
    ctx: &WorkflowContext,
    u: &IncomingUpdate,
    replaying: bool,
) -> Result<Started, String> {
    let st = ctx.state();
    let update_id = u.request.update_id().to_string();
    let name = u.request.name().to_string();
    let args = u.request.input.as_ref().and_then(|i| i.args.as_ref());
    let handler = st.borrow().messages.handlers.get(&name).cloned();
    let reject = |failure: Failure| {
        if !replaying {
            st.borrow_mut().messages.outgoing.push(ProtocolMessage {
                id: update_message_id(&update_id, "reject"),
                protocol_instance_id: update_id.clone(),
                sequencing_event_id: 0,
                body: MessageBody::Rejection {
                    rejected_request_message_id: u.message_id.clone(),
                    rejected_request_sequencing_event_id: u.sequencing_event_id,
                    rejected_request: u.request.clone(),
                    failure,
                },
            });
        }
        Started::Rejected
    };
    let Some(handler) = handler else {
        let known: Vec<String> = st.borrow().messages.handlers.keys().cloned().collect();
        let message = format!("no update handler for {name:?} (known: {known:?})");
        if !u.validate {
            return Err(message);
        }
        return Ok(reject(Failure::application(message, "UnknownUpdate", true)));
    };
    if u.validate {
        if let Some(v) = &handler.validator {
            if let Err(f) = v(args) {
                return Ok(reject(f));
            }
        }
    }
    let routine = match (handler.handler)(ctx.clone(), args) {
        Ok(r) => r,
        // Arguments the handler cannot read: rejected as a validator would.
        Err(f) if u.validate => return Ok(reject(f)),
        Err(f) => return Err(format!("update {update_id}: {}", f.message)),
    };
    let accept_id = update_message_id(&update_id, "accept");
    let mut s = st.borrow_mut();
    if !replaying {
        s.messages.outgoing.push(ProtocolMessage {
            id: accept_id.clone(),
            protocol_instance_id: update_id.clone(),
            sequencing_event_id: 0,
            body: MessageBody::Acceptance {
                accepted_request_message_id: u.message_id.clone(),
                accepted_request_sequencing_event_id: u.sequencing_event_id,
                accepted_request: u.request.clone(),
            },
        });
    }
    s.emit(
        crate::history::Command::ProtocolMessage {
            message_id: accept_id,
        },
        super::context::Link::None,
    );
    Ok(Started::Accepted(routine))
}

/// An accepted update's handler returned: the response command (and, live, message).
pub(crate) fn complete_update(
    ctx: &WorkflowContext,
    request: &UpdateRequest,
    result: Result<Option<Payloads>, Failure>,
    replaying: bool,
) {
    let st = ctx.state();
    let mut s = st.borrow_mut();
    let update_id = request.update_id().to_string();
    let message_id = update_message_id(&update_id, "complete");
    if !replaying {
        let meta = request.meta.clone().unwrap_or_else(|| UpdateMeta {
            update_id: update_id.clone(),
            ..UpdateMeta::default()
        });
        s.messages.outgoing.push(ProtocolMessage {
            id: message_id.clone(),
            protocol_instance_id: update_id,
            sequencing_event_id: 0,
            body: MessageBody::Response {
                meta,
                outcome: UpdateOutcome::from_result(result),
            },
        });
    }
    s.emit(
        crate::history::Command::ProtocolMessage { message_id },
        super::context::Link::None,
    );
}

/// Answers query `name` from the workflow's state now.
pub(crate) fn answer_query(
    ctx: &WorkflowContext,
    name: &str,
    args: Option<&Payloads>,
) -> Result<Option<Payloads>, Failure> {
    let f = ctx.state().borrow().messages.queries.get(name).cloned();
    match f {
        Some(f) => f(args),
        None => {
            let known: Vec<String> = ctx
                .state()
                .borrow()
                .messages
                .queries
                .keys()
                .cloned()
                .collect();
            Err(Failure::application(
                format!("no query handler for {name:?} (known: {known:?})"),
                "UnknownQuery",
                true,
            ))
        }
    }
}

/// The update requests a replayed task accepted: its WorkflowExecutionUpdateAccepted events.
pub(crate) fn replayed_requests(
    command_events: &[crate::history::HistoryEvent],
) -> Vec<IncomingUpdate> {
    command_events
        .iter()
        .filter_map(|e| match &e.attributes {
            crate::history::EventAttributes::WorkflowExecutionUpdateAccepted(a) => {
                let mut request = a.accepted_request.clone().unwrap_or_default();
                if request.update_id().is_empty() {
                    request.meta = Some(UpdateMeta {
                        update_id: a.protocol_instance_id.clone(),
                        ..request.meta.unwrap_or_default()
                    });
                }
                Some(IncomingUpdate {
                    request,
                    message_id: a.accepted_request_message_id.clone(),
                    sequencing_event_id: a.accepted_request_sequencing_event_id,
                    validate: false,
                })
            }
            _ => None,
        })
        .collect()
}

/// Live requests from the server's messages (other bodies are ignored).
pub(crate) fn live_requests(messages: Vec<ProtocolMessage>) -> Vec<IncomingUpdate> {
    messages
        .into_iter()
        .filter_map(|m| match m.body {
            MessageBody::Request(request) => Some(IncomingUpdate {
                request,
                message_id: m.id,
                sequencing_event_id: m.sequencing_event_id,
                validate: true,
            }),
            _ => None,
        })
        .collect()
}
