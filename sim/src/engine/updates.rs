//! Updates (UpdateWorkflowExecution), as Temporal's update registry and protocol do them.
//!
//! A client's request is admitted into the run's mutable state and handed to the workflow as a
//! protocol message with the next workflow task that starts; when no task is pending, the update
//! gets one of its own, a speculative task (written only when it completes, and not at all when
//! all it did was reject). The worker answers with an acceptance (written as
//! WorkflowExecutionUpdateAccepted), a rejection (no event: the client is told), and later a
//! response (WorkflowExecutionUpdateCompleted). Clients wait for the stage they asked for; a
//! request with an update id the run knows attaches to that update, so a retry never runs it
//! twice, and a completed update answers with its outcome for as long as the run exists.
//!
//! Invariants:
//! - an update is in `MutableState::updates` from its admission on; a rejected one is removed
//!   (a later request with its id is validated afresh, as in Temporal);
//! - requests ride only on a started workflow task, and a task that fails or times out gives its
//!   requests back (they go with the next attempt);
//! - waiting clients are not durable: a restart forgets them, and they ask again.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::commands::{BadCommand, CommandContext};
use super::core::{error, not_found, Engine, ReplyHandle, Step};
use super::runs::RunIdx;
use super::state::{UpdateProgress, UpdateState, WftState};
use crate::history::{
    EventAttributes, EventId, Extra, MessageBody, ProtocolMessage, TaskQueue, Timestamp,
    UpdateInput, UpdateMeta, UpdateRequest, WorkflowExecutionUpdateAccepted,
    WorkflowExecutionUpdateCompleted, WorkflowTaskFailedCause,
};
use crate::wire::{
    Response, ServerError, UpdateResult, UpdateStage, UpdateWorkflow, WorkflowStatus,
};

/// Temporal's cause for a task whose update messages do not fit the updates it was given
/// (`BAD_UPDATE_WORKFLOW_EXECUTION_MESSAGE`).
const BAD_UPDATE_MESSAGE: WorkflowTaskFailedCause = WorkflowTaskFailedCause::Other(30);

/// A client waiting for an update to reach a stage.
#[derive(Clone, Debug)]
pub(super) struct UpdateWaiter<R> {
    reply: R,
    update_id: String,
    wait_for: UpdateStage,
    deadline: Timestamp,
}

/// The id of the request message that carries update `update_id` (Temporal's form).
fn request_message_id(update_id: &str) -> String {
    format!("{update_id}/request")
}

fn stage_of(p: &UpdateProgress) -> UpdateStage {
    match p {
        UpdateProgress::Admitted { .. } => UpdateStage::Admitted,
        UpdateProgress::Accepted { .. } => UpdateStage::Accepted,
        UpdateProgress::Completed { .. } => UpdateStage::Completed,
    }
}

impl<R: ReplyHandle> Engine<R> {
    /// UpdateWorkflowExecution: attach to the update with this id, or admit a new one (and give
    /// it a speculative workflow task when none is pending); answered at once if the update has
    /// reached the stage asked for, else when it does (or when the wait runs out).
    pub(super) fn update(
        &mut self,
        now: Timestamp,
        from: R,
        u: UpdateWorkflow,
    ) -> Option<Response> {
        if u.update_id.is_empty() || u.name.is_empty() {
            return Some(error(ServerError::InvalidArgument(
                "an update needs an update id and a handler name".into(),
            )));
        }
        let Some(run) = self.resolve(&u.workflow_id, u.run_id.as_deref()) else {
            return Some(not_found(format!("workflow {}", u.workflow_id)));
        };
        if self.cfg.defects.readmit_accepted_updates
            && self.ms(run).is_open()
            && self
                .ms(run)
                .updates
                .get(&u.update_id)
                .is_some_and(|s| !matches!(s.progress, UpdateProgress::Admitted { .. }))
        {
            self.touch(run);
            self.ms_mut(run).updates.remove(&u.update_id);
        }
        if !self.ms(run).updates.contains_key(&u.update_id) {
            if !self.ms(run).is_open() {
                return Some(not_found(format!(
                    "workflow {} already completed",
                    self.runs[run].key
                )));
            }
            let request = UpdateRequest {
                meta: Some(UpdateMeta {
                    update_id: u.update_id.clone(),
                    identity: u.identity.clone(),
                    extra: Extra::new(),
                }),
                input: Some(UpdateInput {
                    name: u.name.clone(),
                    args: u.args.clone(),
                    extra: Extra::new(),
                }),
                extra: Extra::new(),
            };
            self.touch(run);
            self.ms_mut(run).updates.insert(
                u.update_id.clone(),
                UpdateState {
                    request,
                    progress: UpdateProgress::Admitted { sent_with: None },
                },
            );
            if self.ms(run).sticky_seen_through > 0 {
                self.schedule_speculative_wft(run, now);
            }
        }
        let state = &self.ms(run).updates[&u.update_id];
        if stage_of(&state.progress) >= u.wait_for {
            return Some(self.update_response(run, &u.update_id));
        }
        let deadline = now.plus(u.wait.min(self.cfg.max_long_poll));
        self.update_deadlines.insert((deadline, run));
        self.update_waiters
            .entry(run)
            .or_default()
            .push(UpdateWaiter {
                reply: from,
                update_id: u.update_id,
                wait_for: u.wait_for,
                deadline,
            });
        None
    }

    /// The update's stage (and outcome, once completed) as a response.
    fn update_response(&self, run: RunIdx, update_id: &str) -> Response {
        let state = &self.ms(run).updates[update_id];
        let outcome = match &state.progress {
            UpdateProgress::Completed { outcome } => Some(outcome.to_result()),
            _ => None,
        };
        Response::Update(Box::new(UpdateResult {
            exec: self.runs[run].key.clone(),
            update_id: update_id.to_string(),
            stage: stage_of(&state.progress),
            outcome,
            rejected: false,
        }))
    }

    /// A workflow task for updates alone: on the sticky queue when the run has one, its events
    /// written only when it completes with something to write.
    pub(super) fn schedule_speculative_wft(&mut self, run: RunIdx, now: Timestamp) {
        let ms = self.ms_mut(run);
        if !ms.is_open() || ms.wft.is_some() {
            return;
        }
        let task_queue = match &ms.sticky_queue {
            Some(s) => TaskQueue::sticky(s.clone(), ms.task_queue.clone()),
            None => TaskQueue::normal(ms.task_queue.clone()),
        };
        ms.wft = Some(WftState {
            scheduled_event_id: 0,
            attempt: 1,
            task_queue,
            scheduled_time: now,
            ready_at: now,
            started: None,
            scheduled_next_event_id: ms.next_event_id,
            speculative: true,
        });
    }

    /// The request messages of every admitted update, for the workflow task starting now
    /// (scheduled as `scheduled_event_id`); each is marked as sent with it.
    pub(super) fn take_update_requests(
        &mut self,
        run: RunIdx,
        scheduled_event_id: EventId,
    ) -> Vec<ProtocolMessage> {
        let ms = self.ms_mut(run);
        let mut out = Vec::new();
        // As Temporal: no update reaches a workflow before its first task has completed (the
        // code has registered its handlers); they wait for the task after it.
        if ms.sticky_seen_through == 0 {
            return out;
        }
        for (id, u) in ms.updates.iter_mut() {
            if let UpdateProgress::Admitted { sent_with } = &mut u.progress {
                *sent_with = Some(scheduled_event_id);
                out.push(ProtocolMessage {
                    id: request_message_id(id),
                    protocol_instance_id: id.clone(),
                    sequencing_event_id: scheduled_event_id,
                    body: MessageBody::Request(u.request.clone()),
                });
            }
        }
        out
    }

    /// A task that failed or timed out gives its requests back: they go with the next one.
    pub(super) fn unsend_updates(&mut self, run: RunIdx) {
        for u in self.ms_mut(run).updates.values_mut() {
            if let UpdateProgress::Admitted { sent_with } = &mut u.progress {
                *sent_with = None;
            }
        }
    }

    /// Whether admitted updates wait for a task to carry them (after a task completed: those
    /// it carried and did not answer go again). `sticky_seen_through` is the last completed
    /// task's started event: 0 until the first task completes.
    pub(super) fn updates_waiting(&mut self, run: RunIdx) -> bool {
        self.unsend_updates(run);
        let ms = self.ms(run);
        ms.sticky_seen_through > 0
            && ms
                .updates
                .values()
                .any(|u| matches!(u.progress, UpdateProgress::Admitted { .. }))
    }

    /// Checks a completed task's messages against the run's updates before anything is applied:
    /// each answers an update the task carried (a response, one accepted before or in the same
    /// task), once, and every ProtocolMessage command names one of them.
    pub(super) fn validate_messages(
        &self,
        run: RunIdx,
        commands: &[crate::history::Command],
        messages: &[ProtocolMessage],
    ) -> Result<(), BadCommand> {
        let ms = self.ms(run);
        let bad = |m: String| Err(BadCommand::new(BAD_UPDATE_MESSAGE, m));
        let mut accepted_now = BTreeSet::new();
        let mut seen = BTreeSet::new();
        for m in messages {
            if !seen.insert(m.id.as_str()) {
                return bad(format!("message {} is sent twice", m.id));
            }
            let Some(u) = ms.updates.get(&m.protocol_instance_id) else {
                return bad(format!(
                    "message {} ({}) is for update {}, which the run does not have",
                    m.id,
                    m.body.name(),
                    m.protocol_instance_id
                ));
            };
            let ok = match (&m.body, &u.progress) {
                (
                    MessageBody::Acceptance { .. } | MessageBody::Rejection { .. },
                    UpdateProgress::Admitted { sent_with: Some(_) },
                ) => accepted_now.insert(m.protocol_instance_id.as_str()),
                (MessageBody::Response { .. }, UpdateProgress::Accepted { .. }) => true,
                (MessageBody::Response { .. }, UpdateProgress::Admitted { .. }) => {
                    accepted_now.contains(m.protocol_instance_id.as_str())
                }
                _ => false,
            };
            if !ok {
                return bad(format!(
                    "message {} ({}) does not fit update {}, which is {:?}",
                    m.id,
                    m.body.name(),
                    m.protocol_instance_id,
                    stage_of(&u.progress)
                ));
            }
        }
        for c in commands {
            if let crate::history::Command::ProtocolMessage { message_id } = c {
                if !messages.iter().any(|m| &m.id == message_id) {
                    return bad(format!(
                        "ProtocolMessage command names message {message_id}, which the task \
                         did not send"
                    ));
                }
            }
        }
        Ok(())
    }

    /// Processes one of the worker's messages: an acceptance or a response becomes its event; a
    /// rejection removes the update and tells its waiting clients.
    pub(super) fn apply_update_message(&mut self, cx: &CommandContext, m: ProtocolMessage) {
        let run = cx.run;
        let update_id = m.protocol_instance_id;
        let Some(state) = self.ms(run).updates.get(&update_id).cloned() else {
            return;
        };
        match (m.body, state.progress) {
            (MessageBody::Acceptance { .. }, UpdateProgress::Admitted { sent_with }) => {
                let id = self.append(
                    run,
                    cx.now,
                    EventAttributes::WorkflowExecutionUpdateAccepted(Arc::new(
                        WorkflowExecutionUpdateAccepted {
                            protocol_instance_id: update_id.clone(),
                            accepted_request_message_id: request_message_id(&update_id),
                            accepted_request_sequencing_event_id: sent_with.unwrap_or_default(),
                            accepted_request: Some(state.request),
                            extra: Extra::new(),
                        },
                    )),
                );
                self.set_progress(
                    run,
                    &update_id,
                    UpdateProgress::Accepted {
                        accepted_event_id: id,
                    },
                );
            }
            (MessageBody::Rejection { failure, .. }, UpdateProgress::Admitted { .. }) => {
                self.ms_mut(run).updates.remove(&update_id);
                self.rejections.push((run, update_id, failure));
            }
            (
                MessageBody::Response { outcome, .. },
                UpdateProgress::Accepted { accepted_event_id },
            ) => {
                self.append(
                    run,
                    cx.now,
                    EventAttributes::WorkflowExecutionUpdateCompleted(Arc::new(
                        WorkflowExecutionUpdateCompleted {
                            meta: state.request.meta.clone(),
                            accepted_event_id,
                            outcome: Some(outcome.clone()),
                            extra: Extra::new(),
                        },
                    )),
                );
                self.set_progress(run, &update_id, UpdateProgress::Completed { outcome });
            }
            // Validated before the batch: nothing else reaches here.
            _ => {}
        }
    }

    fn set_progress(&mut self, run: RunIdx, update_id: &str, progress: UpdateProgress) {
        if let Some(u) = self.ms_mut(run).updates.get_mut(update_id) {
            u.progress = progress;
        }
    }

    /// Answers waiting clients whose update reached the stage they wait for, was rejected, or
    /// whose run closed before it could (at the end of every step).
    pub(super) fn answer_update_waiters(&mut self, touched: &[RunIdx], step: &mut Step<R>) {
        let rejections = std::mem::take(&mut self.rejections);
        for &run in touched {
            let Some(mut waiters) = self.update_waiters.remove(&run) else {
                continue;
            };
            let open = self.ms(run).is_open();
            waiters.retain(|w| {
                let rejected = rejections
                    .iter()
                    .find(|(r, id, _)| *r == run && *id == w.update_id);
                let reply = if let Some((_, id, failure)) = rejected {
                    Response::Update(Box::new(UpdateResult {
                        exec: self.runs[run].key.clone(),
                        update_id: id.clone(),
                        stage: UpdateStage::Completed,
                        outcome: Some(Err(failure.clone())),
                        rejected: true,
                    }))
                } else {
                    match self.ms(run).updates.get(&w.update_id) {
                        Some(u) if stage_of(&u.progress) >= w.wait_for => {
                            self.update_response(run, &w.update_id)
                        }
                        Some(_) if open => return true,
                        // As Temporal: an update the run never accepted before it continued as
                        // new is aborted, and the client sends it again to the new run.
                        Some(u)
                            if matches!(u.progress, UpdateProgress::Admitted { .. })
                                && self.ms(run).status == WorkflowStatus::ContinuedAsNew =>
                        {
                            Response::Error(ServerError::Aborted(format!(
                                "workflow {} continued as new before it accepted update {}: \
                                 send it again",
                                self.runs[run].key, w.update_id
                            )))
                        }
                        _ => not_found(format!(
                            "workflow {} closed before update {} completed",
                            self.runs[run].key, w.update_id
                        )),
                    }
                };
                step.replies.push((w.reply, reply));
                false
            });
            if !waiters.is_empty() {
                self.update_waiters.insert(run, waiters);
            }
        }
    }

    /// Answers waiting clients whose wait ran out, with the stage reached: they ask again.
    pub(super) fn expire_update_waiters(&mut self, now: Timestamp, step: &mut Step<R>) {
        while let Some(&(t, run)) = self.update_deadlines.first() {
            if t > now {
                break;
            }
            self.update_deadlines.remove(&(t, run));
            let Some(mut waiters) = self.update_waiters.remove(&run) else {
                continue;
            };
            waiters.retain(|w| {
                if w.deadline > now {
                    return true;
                }
                let reply = if self.ms(run).updates.contains_key(&w.update_id) {
                    self.update_response(run, &w.update_id)
                } else {
                    not_found(format!("update {}", w.update_id))
                };
                step.replies.push((w.reply, reply));
                false
            });
            if !waiters.is_empty() {
                self.update_waiters.insert(run, waiters);
            }
        }
    }
}

/// Whether a completed speculative task leaves nothing to write: no command, no update
/// accepted or answered (only rejections), nothing buffered.
pub(super) fn speculative_leaves_nothing(
    commands: &[crate::history::Command],
    messages: &[ProtocolMessage],
    buffered: bool,
) -> bool {
    commands.is_empty()
        && !buffered
        && messages
            .iter()
            .all(|m| matches!(m.body, MessageBody::Rejection { .. }))
}
