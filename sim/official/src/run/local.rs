//! Local activities: a result the worker ran becomes the job the code gets and the marker core
//! records (`core_local_activity`), and a recorded marker is read back on replay.

use super::*;

/// A local-activity marker's `data` (core's `LocalActivityMarkerData`).
pub(super) fn local_marker_data(
    details: &sim::history::MarkerDetails,
) -> Option<LocalActivityMarkerData> {
    let proto: std::collections::HashMap<
        String,
        temporalio_common::protos::temporal::api::common::v1::Payloads,
    > = details
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                temporalio_common::protos::temporal::api::common::v1::Payloads {
                    payloads: v.0.iter().map(crate::convert::payload_out).collect(),
                },
            )
        })
        .collect();
    extract_local_activity_marker_data(&proto)
}

impl OfficialRun {
    /// A local activity resolved: the job the code gets and the marker core records.
    pub(super) fn resolve_local(
        &mut self,
        seq: u32,
        details: sim::history::MarkerDetails,
        failure: Option<Failure>,
        task: &mut Vec<(Command, Link)>,
    ) {
        let meta = self.local_waiting.remove(&seq);
        // Attempts that stopped for a backoff over the local retry threshold: the SDK waits with
        // a timer and schedules the next attempt (core's DoBackoff), live and on replay.
        let backoff = sim::sdk::parse_local_activity_marker(&details).and_then(|d| {
            d.backoff.map(|b| DoBackoff {
                attempt: d.attempt.saturating_add(1),
                backoff_duration: Some(prost_types::Duration {
                    seconds: b.seconds,
                    nanos: b.nanos,
                }),
                original_schedule_time: meta.as_ref().and_then(|m| m.original_schedule_time),
            })
        });
        let result = match &failure {
            _ if backoff.is_some() => Resolution::Backoff(backoff.expect("checked")),
            None => Resolution::Completed(Success {
                result: details
                    .get("result")
                    .and_then(|p| p.0.first())
                    .map(crate::convert::payload_out),
            }),
            Some(f) => {
                let m = ActivityMeta {
                    activity_id: meta
                        .as_ref()
                        .map(|m| m.activity_id.clone())
                        .unwrap_or_default(),
                    activity_type: meta
                        .as_ref()
                        .map(|m| m.activity_type.clone())
                        .unwrap_or_default(),
                    scheduled_event_id: 0,
                    cancellation_type: TRY_CANCEL,
                    resolved: true,
                };
                Resolution::Failed(ActivityFailed {
                    failure: Some(failure_out(&activity_failure(
                        "Local Activity task failed",
                        &m,
                        0,
                        "",
                        RetryState::Unspecified,
                        Some(f.clone()),
                    ))),
                    ..Default::default()
                })
            }
        };
        self.jobs.push(Job::ResolveActivity(ResolveActivity {
            seq,
            result: Some(ActivityResolution {
                status: Some(result),
            }),
            is_local: true,
        }));
        task.push((
            Command::RecordMarker {
                marker_name: LOCAL_ACTIVITY_MARKER_NAME.to_string(),
                details,
                failure,
            },
            Link::Other,
        ));
    }

    pub(super) fn resolve_locals(
        &mut self,
        results: Vec<LocalActivityResult>,
    ) -> Result<Vec<Command>, WorkflowTaskError> {
        let mut task = std::mem::take(&mut self.task.commands);
        for r in results {
            let Some(meta) = self.local_waiting.get(&r.seq).cloned() else {
                continue;
            };
            let data = LocalActivityMarkerData {
                seq: r.seq,
                attempt: u32::try_from(r.attempt).unwrap_or(1),
                activity_id: meta.activity_id.clone(),
                activity_type: meta.activity_type.clone(),
                complete_time: Some(timestamp_out(self.task.time.plus(r.runtime))),
                backoff: crate::convert::duration_out(r.backoff),
                original_schedule_time: meta.original_schedule_time,
                activation_index: Some(self.task.activations),
            };
            let (payload, failure) = match r.result {
                Ok(p) => (
                    p.and_then(|p| p.0.first().map(crate::convert::payload_out)),
                    None,
                ),
                Err(f) => (None, Some(f)),
            };
            let details = build_local_activity_marker_details(data, payload)
                .into_iter()
                .map(|(k, v)| (k, payload_list_in(&v.payloads).unwrap_or_default()))
                .collect();
            self.resolve_local(r.seq, details, failure, &mut task);
        }
        self.task.commands = task;
        self.drive_task()?;
        self.finish_task_unless_waiting()
    }
}
