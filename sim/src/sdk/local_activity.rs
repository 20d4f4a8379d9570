//! Local activities: activities the worker runs inside the workflow task that asks for them, as
//! sdk-core does, with no activity task on the server. Each result is recorded as the marker
//! core writes (`core_local_activity`, details `data` = core's `LocalActivityMarkerData` as JSON
//! and, on success, `result`; on failure the marker's `failure`), and on replay the marker
//! answers without running the activity again (`local-activity-patched.json` is Temporal's).
//!
//! Retries: the worker retries failed attempts inside the task while the policy's backoff is at
//! most the local retry threshold (`LOCAL_RETRY_THRESHOLD`, core's default: 1 min); a longer
//! backoff ends the task's attempts with a marker carrying `backoff`, and the workflow waits
//! for it with a durable timer, then schedules the local activity again with the next attempt
//! (core's `DoBackoff`).
//!
//! Non-determinism on replay: code asking for a local activity where the replayed task recorded
//! no marker for its sequence number, or a marker for another activity type, is an error naming
//! the task; a marker the code no longer asks for is a "missing" command (`matching.rs`).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::history::{MarkerDetails, Payloads, RetryPolicy, Timestamp};

/// Marker name of local activity results (core's `LOCAL_ACTIVITY_MARKER_NAME`).
pub const LOCAL_ACTIVITY_MARKER_NAME: &str = "core_local_activity";

/// Backoffs up to this long are waited for inside the workflow task; longer ones with a timer
/// (core's default `local_retry_threshold`).
pub const LOCAL_RETRY_THRESHOLD: Duration = Duration::from_secs(60);

/// How [`crate::sdk::WorkflowContext::local_activity`] runs the activity.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LocalActivityOptions {
    /// The activity id; `None`: the local activity sequence number ("1", "2", ...).
    pub activity_id: Option<String>,
    /// Bound on one attempt. This or `schedule_to_close_timeout` is required.
    pub start_to_close_timeout: Option<Duration>,
    /// Bound on all attempts, backoffs included.
    pub schedule_to_close_timeout: Option<Duration>,
    /// `None`: Temporal's default policy.
    pub retry_policy: Option<RetryPolicy>,
    /// Backoffs up to this long are waited for inside the workflow task; a longer one ends the
    /// task and the workflow backs off with a durable timer (`None`: a minute, core's default).
    pub local_retry_threshold: Option<Duration>,
}

impl LocalActivityOptions {
    /// Options with only a start-to-close timeout.
    pub fn start_to_close(timeout: Duration) -> Self {
        LocalActivityOptions {
            start_to_close_timeout: Some(timeout),
            ..LocalActivityOptions::default()
        }
    }

    /// Sets the local retry threshold (see [`LocalActivityOptions::local_retry_threshold`]).
    pub fn with_local_retry_threshold(mut self, d: Duration) -> Self {
        self.local_retry_threshold = Some(d);
        self
    }

    /// Sets the retry policy.
    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry_policy = Some(policy);
        self
    }

    /// Sets the schedule-to-close timeout.
    pub fn with_schedule_to_close_timeout(mut self, d: Duration) -> Self {
        self.schedule_to_close_timeout = Some(d);
        self
    }

    /// Sets an explicit activity id.
    pub fn with_activity_id(mut self, id: impl Into<String>) -> Self {
        self.activity_id = Some(id.into());
        self
    }
}

/// A protobuf `Timestamp` as core's marker JSON holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProtoTime {
    /// Seconds since the Unix epoch.
    pub seconds: i64,
    /// Nanoseconds within the second.
    pub nanos: i32,
}

impl From<Timestamp> for ProtoTime {
    fn from(t: Timestamp) -> Self {
        let n = t.as_nanos();
        ProtoTime {
            seconds: n.div_euclid(1_000_000_000),
            nanos: i32::try_from(n.rem_euclid(1_000_000_000)).unwrap_or(0),
        }
    }
}

/// A protobuf `Duration` as core's marker JSON holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProtoDuration {
    /// Whole seconds.
    pub seconds: i64,
    /// Nanoseconds beyond them.
    pub nanos: i32,
}

impl From<Duration> for ProtoDuration {
    fn from(d: Duration) -> Self {
        ProtoDuration {
            seconds: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            nanos: i32::try_from(d.subsec_nanos()).unwrap_or(0),
        }
    }
}

impl From<ProtoDuration> for Duration {
    fn from(d: ProtoDuration) -> Self {
        Duration::new(
            u64::try_from(d.seconds).unwrap_or(0),
            u32::try_from(d.nanos).unwrap_or(0),
        )
    }
}

/// Core's `LocalActivityMarkerData`, the `data` detail of a local activity marker, field for
/// field in core's order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LocalActivityMarkerData {
    /// The local activity's sequence number in its run.
    pub seq: u32,
    /// The attempt that produced this result.
    pub attempt: u32,
    /// Its activity id.
    pub activity_id: String,
    /// Its activity type.
    pub activity_type: String,
    /// When it finished.
    pub complete_time: Option<ProtoTime>,
    /// Set when the attempts ended for a backoff longer than the local retry threshold: the
    /// workflow waits this long with a timer, then schedules the next attempt.
    pub backoff: Option<ProtoDuration>,
    /// When the first attempt was scheduled.
    pub original_schedule_time: Option<ProtoTime>,
    /// Which activation of the task resolved it.
    #[serde(default)]
    pub activation_index: Option<u32>,
}

/// The details of a local activity marker: `data`, and `result` when it succeeded.
pub fn local_activity_marker_details(
    data: &LocalActivityMarkerData,
    result: Option<&Payloads>,
) -> MarkerDetails {
    let mut details = MarkerDetails::new();
    details.insert(
        "data".to_string(),
        Payloads::json(data).expect("marker data encodes as JSON"),
    );
    if let Some(r) = result {
        details.insert("result".to_string(), r.clone());
    }
    details
}

/// The `data` of a local activity marker's details, if they hold core's marker data.
pub fn parse_local_activity_marker(details: &MarkerDetails) -> Option<LocalActivityMarkerData> {
    details.get("data")?.decode_first().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporals_marker_data_reads_and_writes_back_the_same_json() {
        let text = r#"{"seq":1,"attempt":1,"activity_id":"1","activity_type":"shout","complete_time":{"seconds":1796607242,"nanos":466986366},"backoff":null,"original_schedule_time":{"seconds":1796607242,"nanos":566392363},"activation_index":1}"#;
        let data: LocalActivityMarkerData = serde_json::from_str(text).unwrap();
        assert_eq!(data.activity_type, "shout");
        assert_eq!(serde_json::to_string(&data).unwrap(), text);
    }

    #[test]
    fn proto_time_splits_nanoseconds() {
        let t = Timestamp::from_nanos(1_796_607_242_466_986_366);
        assert_eq!(
            ProtoTime::from(t),
            ProtoTime {
                seconds: 1_796_607_242,
                nanos: 466_986_366
            }
        );
    }
}

// ----- the workflow side -----

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use serde::de::DeserializeOwned;

use super::context::{Link, State, WorkflowContext};
use super::error::ActivityFailed;
use super::runtime::{LocalActivityRequest, LocalActivityResult};
use super::LocalBoxFuture;
use crate::history::{Command, EventId, Failure, FailureInfo, RetryState};

/// How one scheduling of a local activity ended.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum LocalOutcome {
    Done(Result<Option<Payloads>, Failure>),
    /// Wait `backoff` with a timer, then schedule attempt `attempt + 1`.
    Backoff {
        attempt: u32,
        backoff: Duration,
        original_schedule_time: Option<ProtoTime>,
    },
}

/// One scheduling of a local activity, waiting for its outcome.
pub(crate) struct LocalSlot {
    pub activity_id: String,
    pub activity_type: String,
    pub original_schedule_time: ProtoTime,
    pub outcome: Option<LocalOutcome>,
}

/// A recorded marker of the task being replayed.
#[derive(Clone, Debug)]
pub(crate) struct RecordedLocal {
    pub data: LocalActivityMarkerData,
    pub details: MarkerDetails,
    pub failure: Option<Failure>,
}

/// The local-activity part of a run's workflow-visible state.
#[derive(Default)]
pub(crate) struct LocalState {
    pub seq: u32,
    pub slots: std::collections::BTreeMap<u32, LocalSlot>,
    /// Asked for in the task running for real, not handed to the worker yet.
    pub requests: Vec<LocalActivityRequest>,
    /// Markers of the task being replayed, by sequence number.
    pub recorded: std::collections::BTreeMap<u32, RecordedLocal>,
    /// A non-determinism found while replaying: (what history has, what the code did).
    pub mismatch: Option<(String, String)>,
}

fn outcome_of(recorded: &RecordedLocal) -> LocalOutcome {
    match recorded.data.backoff {
        Some(b) => LocalOutcome::Backoff {
            attempt: recorded.data.attempt,
            backoff: b.into(),
            original_schedule_time: recorded.data.original_schedule_time,
        },
        None => LocalOutcome::Done(match &recorded.failure {
            Some(f) => Err(f.clone()),
            None => Ok(recorded.details.get("result").cloned()),
        }),
    }
}

/// Schedules one attempt series of a local activity: replayed from its marker, or handed to
/// the worker. Returns its sequence number.
fn schedule(
    st: &mut State,
    activity_type: &str,
    input: &Option<Payloads>,
    options: &LocalActivityOptions,
    attempt: u32,
    earlier: Option<(&str, ProtoTime)>,
) -> u32 {
    st.locals.seq += 1;
    let seq = st.locals.seq;
    // After a backoff the next attempt keeps the activity id (and so its idempotency key).
    let (activity_id, original) = match earlier {
        Some((id, t)) => (id.to_string(), Some(t)),
        None => (
            options
                .activity_id
                .clone()
                .unwrap_or_else(|| seq.to_string()),
            None,
        ),
    };
    let original_schedule_time = original.unwrap_or_else(|| st.now.into());
    let mut slot = LocalSlot {
        activity_id: activity_id.clone(),
        activity_type: activity_type.to_string(),
        original_schedule_time,
        outcome: None,
    };
    if st.replaying {
        match st.locals.recorded.remove(&seq) {
            Some(r) if r.data.activity_type == activity_type => {
                slot.outcome = Some(outcome_of(&r));
                st.emit(
                    Command::RecordMarker {
                        marker_name: LOCAL_ACTIVITY_MARKER_NAME.to_string(),
                        details: r.details,
                        failure: r.failure,
                    },
                    Link::None,
                );
            }
            Some(r) => {
                st.locals.mismatch.get_or_insert((
                    format!(
                        "a local activity marker for seq {seq} of type {}",
                        r.data.activity_type
                    ),
                    format!("local activity {seq} of type {activity_type}"),
                ));
            }
            None => {
                st.locals.mismatch.get_or_insert((
                    format!("no local activity marker for seq {seq}"),
                    format!("local activity {seq} of type {activity_type}"),
                ));
            }
        }
    } else {
        st.locals.requests.push(LocalActivityRequest {
            seq,
            activity_id,
            activity_type: activity_type.to_string(),
            input: input.clone(),
            attempt: i32::try_from(attempt).unwrap_or(i32::MAX),
            start_to_close_timeout: options.start_to_close_timeout,
            schedule_to_close_timeout: options.schedule_to_close_timeout,
            retry_policy: options.retry_policy.clone(),
            local_retry_threshold: options.local_retry_threshold,
        });
    }
    st.locals.slots.insert(seq, slot);
    st.progress += 1;
    seq
}

/// Resolves local activities with what the worker ran, recording each marker as core does.
pub(crate) fn resolve(st: &mut State, results: Vec<LocalActivityResult>) {
    for r in results {
        let Some(slot) = st.locals.slots.get_mut(&r.seq) else {
            continue;
        };
        let attempt = u32::try_from(r.attempt.max(1)).unwrap_or(1);
        let data = LocalActivityMarkerData {
            seq: r.seq,
            attempt,
            activity_id: slot.activity_id.clone(),
            activity_type: slot.activity_type.clone(),
            complete_time: Some(st.now.plus(r.runtime).into()),
            backoff: r.backoff.map(ProtoDuration::from),
            original_schedule_time: Some(slot.original_schedule_time),
            activation_index: Some(1),
        };
        let (result, failure) = match &r.result {
            Ok(p) if r.backoff.is_none() => (p.clone(), None),
            Ok(_) => (None, None),
            Err(f) => (None, Some(f.clone())),
        };
        slot.outcome = Some(match r.backoff {
            Some(backoff) => LocalOutcome::Backoff {
                attempt,
                backoff,
                original_schedule_time: Some(slot.original_schedule_time),
            },
            None => LocalOutcome::Done(r.result),
        });
        st.emit(
            Command::RecordMarker {
                marker_name: LOCAL_ACTIVITY_MARKER_NAME.to_string(),
                details: local_activity_marker_details(&data, result.as_ref()),
                failure,
            },
            Link::None,
        );
        st.progress += 1;
    }
}

/// The markers a replayed task recorded, from its command events.
pub(crate) fn note_recorded(st: &mut State, details: &MarkerDetails, failure: &Option<Failure>) {
    if let Some(data) = parse_local_activity_marker(details) {
        st.locals.recorded.insert(
            data.seq,
            RecordedLocal {
                data,
                details: details.clone(),
                failure: failure.clone(),
            },
        );
    }
}

/// The `ActivityFailure` wrapper workflow code gets for a failed local activity.
fn local_failure(slot_id: &str, activity_type: &str, cause: Failure) -> Failure {
    Failure {
        message: "Local Activity task failed".to_string(),
        source: String::new(),
        stack_trace: String::new(),
        cause: Some(Box::new(cause)),
        info: FailureInfo::Activity {
            scheduled_event_id: 0 as EventId,
            started_event_id: 0,
            identity: String::new(),
            activity_type: activity_type.to_string(),
            activity_id: slot_id.to_string(),
            retry_state: RetryState::Unspecified,
        },
        extra: Default::default(),
    }
}

/// Waits for one scheduling's outcome.
struct LocalWait {
    st: Rc<RefCell<State>>,
    seq: u32,
}

impl Future for LocalWait {
    type Output = (LocalOutcome, String, String);

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut st = self.st.borrow_mut();
        let ready = st
            .locals
            .slots
            .get_mut(&self.seq)
            .and_then(|s| s.outcome.take());
        match ready {
            Some(o) => {
                let slot = st.locals.slots.remove(&self.seq).expect("slot");
                st.progress += 1;
                Poll::Ready((o, slot.activity_id, slot.activity_type))
            }
            None => Poll::Pending,
        }
    }
}

impl WorkflowContext {
    /// Runs a local activity: the worker runs it inside this workflow task (no activity task on
    /// the server), retrying per `options`, and its result is recorded in a
    /// `core_local_activity` marker; on replay the marker answers. Resolves to the decoded
    /// result, or to an `ActivityFailure` ("Local Activity task failed") whose cause is the
    /// activity's own failure. See [`LocalActivityOptions`].
    pub fn local_activity<O, I>(
        &self,
        activity_type: &str,
        input: &I,
        options: LocalActivityOptions,
    ) -> LocalBoxFuture<'static, Result<O, ActivityFailed>>
    where
        O: DeserializeOwned + 'static,
        I: Serialize + ?Sized,
    {
        let ctx = self.clone();
        let activity_type = activity_type.to_string();
        let input = Payloads::json(input);
        Box::pin(async move {
            let input = match input {
                Ok(p) => Some(p),
                Err(e) => {
                    return Err(ActivityFailed {
                        failure: Failure::application(
                            format!("local activity input: {e}"),
                            "PayloadEncodeError",
                            true,
                        ),
                    })
                }
            };
            let mut attempt = 1;
            let mut earlier: Option<(String, ProtoTime)> = None;
            loop {
                let seq = schedule(
                    &mut ctx.st.borrow_mut(),
                    &activity_type,
                    &input,
                    &options,
                    attempt,
                    earlier.as_ref().map(|(id, t)| (id.as_str(), *t)),
                );
                let wait = LocalWait {
                    st: Rc::clone(&ctx.st),
                    seq,
                };
                match wait.await {
                    (LocalOutcome::Done(Ok(p)), _, _) => {
                        let decoded = match &p {
                            Some(p) => p.decode_first(),
                            None => serde_json::from_value(serde_json::Value::Null)
                                .map_err(|e| crate::history::PayloadError(e.to_string())),
                        };
                        return decoded.map_err(|e| ActivityFailed {
                            failure: Failure::application(
                                format!("local activity result: {e}"),
                                "PayloadDecodeError",
                                true,
                            ),
                        });
                    }
                    (LocalOutcome::Done(Err(f)), id, ty) => {
                        return Err(ActivityFailed {
                            failure: local_failure(&id, &ty, f),
                        })
                    }
                    (
                        LocalOutcome::Backoff {
                            attempt: a,
                            backoff,
                            original_schedule_time,
                        },
                        id,
                        _,
                    ) => {
                        ctx.timer(backoff).await;
                        attempt = a + 1;
                        let t =
                            original_schedule_time.unwrap_or_else(|| ctx.st.borrow().now.into());
                        earlier = Some((id, t));
                    }
                }
            }
        })
    }
}
