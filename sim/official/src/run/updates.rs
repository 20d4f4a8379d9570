//! Updates and queries, as sdk-core's update state machine and its query handling hand them to
//! the SDK.
//!
//! An update request reaches the code as a `DoUpdate` job. A live request (a protocol message
//! the server sent with the task, given by [`OfficialRun::deliver`]) becomes its job when the
//! walk reaches the first event after its sequencing event, as core's
//! `WorkflowMachines::apply_next_wft_from_history` processes messages; it runs the validator. On
//! replay, the WorkflowExecutionUpdateAccepted events among a task's command events become jobs
//! after the task's other events (core's look-ahead), without the validator. Core sorts signals
//! and updates alike (ordinal 3), stably: a task's signals come before its replayed updates.
//!
//! The SDK answers with `UpdateResponse` commands, which the native host places before every
//! other command of the activation (acceptances and rejections in job order, then completions
//! in routine order). As core's `UpdateMachine`: an acceptance is an Acceptance message and a
//! `ProtocolMessage` command; a rejection before acceptance is a Rejection message only; a
//! completion (or a failure after acceptance) is a Response message and a second
//! `ProtocolMessage` command. Message ids are durasim's (`<update id>/accept`, ...:
//! [`update_message_id`]), by which replay matches the commands to the events. Messages are
//! produced only for a task run live, never on replay.
//!
//! A query is a `QueryWorkflow` job in an activation of its own, after the whole history was
//! replayed; the SDK answers synchronously and its answer is what its host sends as
//! `RespondToQuery`.

// Query answers are `Result<_, Failure>` by contract with the worker (`WorkflowRuntime::query`).
#![allow(clippy::result_large_err)]

use super::*;
use sim::history::{MessageBody, ProtocolMessage, UpdateMeta, UpdateOutcome, UpdateRequest};
use sim::sdk::update_message_id;
use temporalio_common::protos::coresdk::workflow_activation::{DoUpdate, QueryWorkflow};
use temporalio_common::protos::coresdk::workflow_commands::{
    update_response::Response as UpdateAnswer, UpdateResponse,
};
use temporalio_common::protos::temporal::api::update::v1 as pu;
use temporalio_workflow::__private::sdk::{StartedRoutine, UpdateRoutineCompletion};

/// The query id core gives a legacy query (one carried by a query task).
const LEGACY_QUERY_ID: &str = "legacy";

/// An update request: from a message (live) or an accepted event (replay).
#[derive(Clone, Debug)]
pub(super) struct Incoming {
    message_id: String,
    sequencing_event_id: EventId,
    request: UpdateRequest,
}

/// An update handed to the code and not finished.
#[derive(Clone, Debug)]
struct Handed {
    incoming: Incoming,
    accepted: bool,
}

/// The run's update bookkeeping.
#[derive(Default)]
pub(super) struct Updates {
    /// Live requests delivered with the next task, not yet turned into jobs.
    live: Vec<Incoming>,
    /// Updates handed to the code, by protocol instance id.
    handed: BTreeMap<String, Handed>,
    /// `UpdateResponse`s of the activation being applied, in the native host's order.
    pub(super) responses: Vec<WorkflowCommand>,
    /// The answers of the task run live, for the worker.
    outgoing: Vec<ProtocolMessage>,
}

impl Updates {
    /// Forgets the live requests not handed to the code.
    pub(super) fn clear_live(&mut self) {
        self.live.clear();
    }

    /// Takes over the live requests of `other` (a run rebuilt for the same task).
    pub(super) fn take_live_from(&mut self, other: &mut Updates) {
        self.live = std::mem::take(&mut other.live);
    }
}

fn answer(protocol_instance_id: String, response: UpdateAnswer) -> WorkflowCommand {
    WorkflowCommand {
        variant: Some(Cmd::UpdateResponse(UpdateResponse {
            protocol_instance_id,
            response: Some(response),
        })),
        ..Default::default()
    }
}

impl OfficialRun {
    /// The server's messages for the task about to run: its update requests (other bodies
    /// are not for a workflow).
    pub(super) fn deliver(&mut self, messages: Vec<ProtocolMessage>) {
        self.updates.live = messages
            .into_iter()
            .filter_map(|m| match m.body {
                MessageBody::Request(request) => Some(Incoming {
                    message_id: m.id,
                    sequencing_event_id: m.sequencing_event_id,
                    request,
                }),
                _ => None,
            })
            .collect();
    }

    /// Jobs for the live requests the code sees before event `event_id` (those sequenced
    /// before it), as core processes messages before each event.
    pub(super) fn live_update_jobs(&mut self, event_id: EventId) {
        let (due, later): (Vec<Incoming>, Vec<Incoming>) = std::mem::take(&mut self.updates.live)
            .into_iter()
            .partition(|r| r.sequencing_event_id < event_id);
        self.updates.live = later;
        for r in due {
            self.push_update_job(r, true);
        }
    }

    /// Jobs for the updates a replayed task accepted (its WorkflowExecutionUpdateAccepted
    /// command events), validators not run.
    pub(super) fn replayed_update_jobs(&mut self, recorded: &[HistoryEvent]) {
        for ev in recorded
            .iter()
            .take_while(|e| e.event_type().is_command_event())
        {
            if let EventAttributes::WorkflowExecutionUpdateAccepted(a) = &ev.attributes {
                let mut request = a.accepted_request.clone().unwrap_or_default();
                if request.update_id().is_empty() {
                    request.meta = Some(UpdateMeta {
                        update_id: a.protocol_instance_id.clone(),
                        ..request.meta.unwrap_or_default()
                    });
                }
                self.push_update_job(
                    Incoming {
                        message_id: a.accepted_request_message_id.clone(),
                        sequencing_event_id: a.accepted_request_sequencing_event_id,
                        request,
                    },
                    false,
                );
            }
        }
    }

    fn push_update_job(&mut self, incoming: Incoming, run_validator: bool) {
        let r = &incoming.request;
        let update_id = r.update_id().to_string();
        let meta = r.meta.as_ref();
        let job = DoUpdate {
            id: update_id.clone(),
            protocol_instance_id: update_id.clone(),
            name: r.name().to_string(),
            input: payload_list_out(r.input.as_ref().and_then(|i| i.args.as_ref())),
            headers: Default::default(),
            meta: Some(pu::Meta {
                update_id: update_id.clone(),
                identity: meta.map(|m| m.identity.clone()).unwrap_or_default(),
            }),
            run_validator,
        };
        self.updates.handed.insert(
            update_id,
            Handed {
                incoming,
                accepted: false,
            },
        );
        self.jobs.push(Job::DoUpdate(job));
    }

    /// What applying the update job for `protocol_instance_id` gave, as the native host
    /// answers it: a started routine is accepted (and polled from now on), a rejection by the
    /// validator or for a missing handler is rejected.
    pub(super) fn update_job_result(
        &mut self,
        protocol_instance_id: String,
        result: ActivationJobResult,
    ) -> Result<(), WorkflowTaskError> {
        let response = match result {
            ActivationJobResult::StartedRoutine(StartedRoutine {
                routine_id,
                kind: RoutineKind::Update(_),
            }) => {
                self.routines.push(routine_id);
                UpdateAnswer::Accepted(())
            }
            ActivationJobResult::UpdateRejected(f) => UpdateAnswer::Rejected(*f),
            other => {
                return Err(WorkflowTaskError::BadInput(format!(
                    "update {protocol_instance_id:?} gave {other:?}"
                )))
            }
        };
        self.updates
            .responses
            .push(answer(protocol_instance_id, response));
        Ok(())
    }

    /// An update routine returned: its `UpdateResponse`.
    pub(super) fn update_routine_done(&mut self, done: UpdateRoutineCompletion) {
        let cmd = match done {
            UpdateRoutineCompletion::Completed {
                protocol_instance_id,
                result,
            } => answer(protocol_instance_id, UpdateAnswer::Completed(result)),
            UpdateRoutineCompletion::Rejected {
                protocol_instance_id,
                failure,
            } => answer(protocol_instance_id, UpdateAnswer::Rejected(*failure)),
        };
        self.updates.responses.push(cmd);
    }

    /// An `UpdateResponse` command: the messages and commands core's update machine issues.
    pub(super) fn translate_update_response(
        &mut self,
        u: UpdateResponse,
        task: &mut Vec<(Command, Link)>,
    ) -> Result<(), WorkflowTaskError> {
        let id = u.protocol_instance_id;
        let Some(handed) = self.updates.handed.get(&id).cloned() else {
            return Err(WorkflowTaskError::BadInput(format!(
                "the workflow answered update {id:?}, which it was not given"
            )));
        };
        let live = !self.task.replaying;
        let failure_after_acceptance = match u.response {
            None => {
                return Err(WorkflowTaskError::BadInput(format!(
                    "the workflow's answer to update {id:?} is empty"
                )))
            }
            Some(UpdateAnswer::Accepted(())) => {
                if handed.accepted {
                    return Err(WorkflowTaskError::BadInput(format!(
                        "the workflow accepted update {id:?} twice"
                    )));
                }
                if let Some(h) = self.updates.handed.get_mut(&id) {
                    h.accepted = true;
                }
                let message_id = update_message_id(&id, "accept");
                if live {
                    let i = &handed.incoming;
                    self.updates.outgoing.push(ProtocolMessage {
                        id: message_id.clone(),
                        protocol_instance_id: id.clone(),
                        sequencing_event_id: 0,
                        body: MessageBody::Acceptance {
                            accepted_request_message_id: i.message_id.clone(),
                            accepted_request_sequencing_event_id: i.sequencing_event_id,
                            accepted_request: i.request.clone(),
                        },
                    });
                }
                task.push((Command::ProtocolMessage { message_id }, Link::Other));
                return Ok(());
            }
            Some(UpdateAnswer::Rejected(f)) if !handed.accepted => {
                self.updates.handed.remove(&id);
                if live {
                    let i = handed.incoming;
                    self.updates.outgoing.push(ProtocolMessage {
                        id: update_message_id(&id, "reject"),
                        protocol_instance_id: id,
                        sequencing_event_id: 0,
                        body: MessageBody::Rejection {
                            rejected_request_message_id: i.message_id,
                            rejected_request_sequencing_event_id: i.sequencing_event_id,
                            rejected_request: i.request,
                            failure: failure_in(&f),
                        },
                    });
                }
                return Ok(());
            }
            Some(UpdateAnswer::Rejected(f)) => Err(failure_in(&f)),
            Some(UpdateAnswer::Completed(p)) => Ok(Some(Payloads::one(payload_in(&p)))),
        };
        if !handed.accepted {
            return Err(WorkflowTaskError::BadInput(format!(
                "the workflow completed update {id:?} before accepting it"
            )));
        }
        self.updates.handed.remove(&id);
        let message_id = update_message_id(&id, "complete");
        if live {
            let meta = handed.incoming.request.meta.clone().unwrap_or(UpdateMeta {
                update_id: id.clone(),
                ..UpdateMeta::default()
            });
            self.updates.outgoing.push(ProtocolMessage {
                id: message_id.clone(),
                protocol_instance_id: id,
                sequencing_event_id: 0,
                body: MessageBody::Response {
                    meta,
                    outcome: UpdateOutcome::from_result(failure_after_acceptance),
                },
            });
        }
        task.push((Command::ProtocolMessage { message_id }, Link::Other));
        Ok(())
    }

    /// The answers to the live task's update requests, taken.
    pub(super) fn take_outgoing(&mut self) -> Vec<ProtocolMessage> {
        std::mem::take(&mut self.updates.outgoing)
    }

    /// Answers query `query_type` from the code's state now (after whole-history replay): a
    /// `QueryWorkflow` job alone in an activation, answered without polling any routine.
    pub(crate) fn query(
        &mut self,
        query_type: &str,
        args: Option<&Payloads>,
    ) -> Result<Option<Payloads>, Failure> {
        let activation = WorkflowActivation {
            run_id: self.run_id.clone(),
            timestamp: Some(timestamp_out(self.task.time)),
            is_replaying: false,
            history_length: self.task.history_length,
            jobs: vec![WorkflowActivationJob {
                variant: Some(Job::QueryWorkflow(QueryWorkflow {
                    query_id: LEGACY_QUERY_ID.to_string(),
                    query_type: query_type.to_string(),
                    arguments: payload_list_out(args),
                    headers: Default::default(),
                })),
            }],
            ..Default::default()
        };
        let failed = |message: String| {
            Failure::application(
                format!("query {query_type:?}: {message}"),
                "QueryFailed",
                true,
            )
        };
        let Some(instance) = self.instance.as_mut().or(self.finished.as_mut()) else {
            return Err(failed("the workflow has no instance".into()));
        };
        let waker = &self.waker;
        let results = match catch_unwind(AssertUnwindSafe(|| instance.activate(activation, waker)))
        {
            Ok(Ok(r)) => r.job_results,
            Ok(Err(f)) => return Err(failed(f.message.clone())),
            Err(p) => return Err(failed(panic_message(p.as_ref()))),
        };
        match results.into_iter().next() {
            Some(ActivationJobResult::QueryResponse(r)) => match r.result {
                Ok(p) => Ok(Some(Payloads::one(payload_in(&p)))),
                Err(f) => Err(failure_in(&f)),
            },
            other => Err(failed(format!("the SDK answered {other:?}"))),
        }
    }
}
