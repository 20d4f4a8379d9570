//! Commands: each `WorkflowCommand` the SDK's code pushes becomes durasim's [`Command`], with
//! core's local rules applied where they change history (a timer started and cancelled in one
//! task leaves no command; an activity cancelled before its schedule was sent is dropped and
//! resolved as cancelled).

use super::*;

impl OfficialRun {
    /// Turns one SDK command into durasim's, applying core's local rules.
    pub(super) fn translate(
        &mut self,
        c: WorkflowCommand,
        task: &mut Vec<(Command, Link)>,
    ) -> Result<(), WorkflowTaskError> {
        let Some(variant) = c.variant else {
            return Err(WorkflowTaskError::BadInput(
                "the workflow pushed a command without a variant".into(),
            ));
        };
        if self.translate_family(&variant, task)? {
            return Ok(());
        }
        match variant {
            Cmd::StartTimer(t) => {
                let timer_id = t.seq.to_string();
                self.timers.insert(timer_id.clone(), t.seq);
                let Some(d) = duration_in(t.start_to_fire_timeout.as_ref()) else {
                    return Err(WorkflowTaskError::BadInput(format!(
                        "timer {} has no positive duration",
                        t.seq
                    )));
                };
                task.push((
                    Command::StartTimer {
                        timer_id,
                        start_to_fire_timeout: d,
                    },
                    Link::Other,
                ));
            }
            Cmd::CancelTimer(t) => {
                let timer_id = t.seq.to_string();
                self.timers.remove(&timer_id);
                let unsent = task.iter().position(|(c, _)| {
                    matches!(c, Command::StartTimer { timer_id: id, .. } if *id == timer_id)
                });
                match unsent {
                    // Started and cancelled in one task: core sends neither command.
                    Some(i) => {
                        task.remove(i);
                    }
                    None => task.push((Command::CancelTimer { timer_id }, Link::Other)),
                }
            }
            Cmd::ScheduleActivity(a) => {
                let activity_id = if a.activity_id.is_empty() {
                    a.seq.to_string()
                } else {
                    a.activity_id.clone()
                };
                let queue = if a.task_queue.is_empty() {
                    self.task_queue.clone()
                } else {
                    a.task_queue.clone()
                };
                self.activities.insert(
                    a.seq,
                    ActivityMeta {
                        activity_id: activity_id.clone(),
                        activity_type: a.activity_type.clone(),
                        scheduled_event_id: 0,
                        cancellation_type: a.cancellation_type,
                        resolved: false,
                    },
                );
                task.push((
                    Command::ScheduleActivityTask(ScheduleActivityTask {
                        activity_id,
                        activity_type: a.activity_type,
                        task_queue: TaskQueue::normal(&queue),
                        input: payload_list_in(&a.arguments),
                        schedule_to_close_timeout: duration_in(
                            a.schedule_to_close_timeout.as_ref(),
                        ),
                        schedule_to_start_timeout: duration_in(
                            a.schedule_to_start_timeout.as_ref(),
                        ),
                        start_to_close_timeout: duration_in(a.start_to_close_timeout.as_ref()),
                        heartbeat_timeout: duration_in(a.heartbeat_timeout.as_ref()),
                        retry_policy: retry_policy_in(a.retry_policy.as_ref()),
                        request_eager_execution: !a.do_not_eagerly_execute,
                    }),
                    Link::Activity(a.seq),
                ));
            }
            Cmd::RequestCancelActivity(r) => {
                let Some(meta) = self.activities.get(&r.seq).cloned() else {
                    return Err(WorkflowTaskError::BadInput(format!(
                        "cancel of activity {} that the workflow did not schedule",
                        r.seq
                    )));
                };
                if meta.resolved {
                    return Ok(());
                }
                let unsent = task
                    .iter()
                    .position(|(_, l)| matches!(l, Link::Activity(s) if *s == r.seq));
                let resolve_now = match unsent {
                    // Cancelled before its schedule was sent: core drops the command.
                    Some(i) => {
                        task.remove(i);
                        true
                    }
                    None if meta.cancellation_type == ABANDON => true,
                    None => {
                        task.push((
                            Command::RequestCancelActivityTask {
                                scheduled_event_id: meta.scheduled_event_id,
                            },
                            Link::Other,
                        ));
                        meta.cancellation_type == TRY_CANCEL
                    }
                };
                if resolve_now {
                    // As core's `new_cancel_failure` with no ActivityTaskCanceled event: ids 0,
                    // no identity, a cause with no message.
                    let unscheduled = ActivityMeta {
                        scheduled_event_id: 0,
                        ..meta.clone()
                    };
                    let failure = activity_failure(
                        "Activity cancelled",
                        &unscheduled,
                        0,
                        "",
                        RetryState::CancelRequested,
                        Some(Failure::canceled("")),
                    );
                    if let Some(m) = self.activities.get_mut(&r.seq) {
                        m.resolved = true;
                    }
                    self.jobs.push(Job::ResolveActivity(ResolveActivity {
                        seq: r.seq,
                        result: Some(ActivityResolution {
                            status: Some(Resolution::Cancelled(Cancellation {
                                failure: Some(failure_out(&failure)),
                            })),
                        }),
                        is_local: false,
                    }));
                }
            }
            Cmd::ScheduleLocalActivity(la) => {
                let activity_id = if la.activity_id.is_empty() {
                    la.seq.to_string()
                } else {
                    la.activity_id.clone()
                };
                self.local_waiting.insert(
                    la.seq,
                    LocalMeta {
                        activity_id: activity_id.clone(),
                        activity_type: la.activity_type.clone(),
                        original_schedule_time: la
                            .original_schedule_time
                            .or_else(|| Some(timestamp_out(self.task.time))),
                    },
                );
                if self.task.replaying {
                    // Replay: the marker the task recorded resolves it; it does not run again.
                    let Some((details, failure)) = self.task.markers.remove(&la.seq) else {
                        return Err(WorkflowTaskError::NonDeterminism(NonDeterminismError {
                            kind: NonDeterminismKind::Extra,
                            event_id: self.current_task,
                            history: "no local activity marker".to_string(),
                            code: format!(
                                "ScheduleLocalActivity(seq={}, activity_type={})",
                                la.seq, la.activity_type
                            ),
                            message: format!(
                                "the workflow code scheduled local activity {} ({}) but the task recorded no marker for it",
                                la.seq, la.activity_type
                            ),
                        }));
                    };
                    self.resolve_local(la.seq, details, failure, task);
                } else {
                    self.local_requests.push(LocalActivityRequest {
                        seq: la.seq,
                        activity_id,
                        activity_type: la.activity_type,
                        input: payload_list_in(&la.arguments),
                        attempt: i32::try_from(la.attempt.max(1)).unwrap_or(1),
                        start_to_close_timeout: duration_in(la.start_to_close_timeout.as_ref()),
                        schedule_to_close_timeout: duration_in(
                            la.schedule_to_close_timeout.as_ref(),
                        ),
                        retry_policy: retry_policy_in(la.retry_policy.as_ref()),
                        local_retry_threshold: duration_in(la.local_retry_threshold.as_ref()),
                    });
                }
            }
            Cmd::CompleteWorkflowExecution(c) => {
                let result = c.result.as_ref().map(|p| Payloads::one(payload_in(p)));
                self.outcome = Some(CodeOutcome::Completed(result.clone()));
                task.push((Command::CompleteWorkflowExecution { result }, Link::Other));
            }
            Cmd::FailWorkflowExecution(f) => {
                let failure = f
                    .failure
                    .as_ref()
                    .map(failure_in)
                    .unwrap_or_else(|| Failure::application("workflow failed", "", false));
                self.outcome = Some(CodeOutcome::Failed(Box::new(failure.clone())));
                task.push((Command::FailWorkflowExecution { failure }, Link::Other));
            }
            Cmd::CancelWorkflowExecution(c) => {
                self.outcome = Some(CodeOutcome::Cancelled);
                task.push((
                    Command::CancelWorkflowExecution {
                        details: payloads_in(c.details.as_ref()),
                    },
                    Link::Other,
                ));
            }
            Cmd::ContinueAsNewWorkflowExecution(c) => {
                self.outcome = Some(CodeOutcome::ContinuedAsNew);
                task.push((
                    Command::ContinueAsNewWorkflowExecution(ContinueAsNewWorkflowExecution {
                        workflow_type: c.workflow_type,
                        task_queue: TaskQueue::normal(&c.task_queue),
                        input: payload_list_in(&c.arguments),
                        workflow_run_timeout: duration_in(c.workflow_run_timeout.as_ref()),
                        workflow_task_timeout: duration_in(c.workflow_task_timeout.as_ref()),
                    }),
                    Link::Other,
                ));
            }
            // The details core writes (`patch-data`: `{id, deprecated}` as JSON).
            Cmd::SetPatchMarker(p) => {
                let details = build_has_change_marker_details(p.patch_id.clone(), p.deprecated)
                    .map_err(|e| WorkflowTaskError::BadInput(format!("patch marker: {e}")))?
                    .into_iter()
                    .map(|(k, v)| (k, payload_list_in(&v.payloads).unwrap_or_default()))
                    .collect();
                task.push((
                    Command::RecordMarker {
                        marker_name: PATCH_MARKER_NAME.to_string(),
                        details,
                        failure: None,
                    },
                    Link::Other,
                ))
            }
            // Search attributes and memo go to the server as they are (core's own mapping).
            Cmd::UpsertWorkflowSearchAttributes(u) => {
                let search_attributes = sim::history::SearchAttributes {
                    indexed_fields: payload_map_in(u.search_attributes.map(|s| s.indexed_fields)),
                    extra: Default::default(),
                };
                task.push((
                    Command::UpsertWorkflowSearchAttributes { search_attributes },
                    Link::Other,
                ));
            }
            Cmd::ModifyWorkflowProperties(m) => {
                let upserted_memo = sim::history::Memo {
                    fields: payload_map_in(m.upserted_memo.map(|s| s.fields)),
                    extra: Default::default(),
                };
                task.push((
                    Command::ModifyWorkflowProperties { upserted_memo },
                    Link::Other,
                ));
            }
            Cmd::UpdateResponse(u) => self.translate_update_response(u, task)?,
            other => {
                return Err(WorkflowTaskError::Unsupported(format!(
                    "the {} command",
                    command_name(&other)
                )))
            }
        }
        Ok(())
    }
}

fn command_name(c: &Cmd) -> &'static str {
    match c {
        Cmd::StartTimer(_) => "StartTimer",
        Cmd::ScheduleActivity(_) => "ScheduleActivity",
        Cmd::RespondToQuery(_) => "RespondToQuery",
        Cmd::RequestCancelActivity(_) => "RequestCancelActivity",
        Cmd::CancelTimer(_) => "CancelTimer",
        Cmd::CompleteWorkflowExecution(_) => "CompleteWorkflowExecution",
        Cmd::FailWorkflowExecution(_) => "FailWorkflowExecution",
        Cmd::ContinueAsNewWorkflowExecution(_) => "ContinueAsNewWorkflowExecution",
        Cmd::CancelWorkflowExecution(_) => "CancelWorkflowExecution",
        Cmd::SetPatchMarker(_) => "SetPatchMarker",
        Cmd::StartChildWorkflowExecution(_) => "StartChildWorkflowExecution",
        Cmd::CancelChildWorkflowExecution(_) => "CancelChildWorkflowExecution",
        Cmd::RequestCancelExternalWorkflowExecution(_) => "RequestCancelExternalWorkflowExecution",
        Cmd::SignalExternalWorkflowExecution(_) => "SignalExternalWorkflowExecution",
        Cmd::CancelSignalWorkflow(_) => "CancelSignalWorkflow",
        Cmd::ScheduleLocalActivity(_) => "ScheduleLocalActivity",
        Cmd::RequestCancelLocalActivity(_) => "RequestCancelLocalActivity",
        Cmd::UpsertWorkflowSearchAttributes(_) => "UpsertWorkflowSearchAttributes",
        Cmd::ModifyWorkflowProperties(_) => "ModifyWorkflowProperties",
        Cmd::UpdateResponse(_) => "UpdateResponse",
        Cmd::ScheduleNexusOperation(_) => "ScheduleNexusOperation",
        Cmd::RequestCancelNexusOperation(_) => "RequestCancelNexusOperation",
    }
}

/// Named payloads (search attributes, memo fields) as durasim holds them, in key order.
fn payload_map_in(
    fields: Option<std::collections::HashMap<String, common::Payload>>,
) -> BTreeMap<String, sim::history::Payload> {
    fields
        .iter()
        .flatten()
        .map(|(k, v)| (k.clone(), payload_in(v)))
        .collect()
}
