//! Conversions between durasim's history types and the official SDK's prost types: payloads,
//! failures, durations, retry policies.
//!
//! Invariant: lossless for every field both sides model; pure functions, no I/O.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use sim::history::{
    Failure, FailureInfo, Payload, Payloads, RetryPolicy, RetryState, TimeoutType, Timestamp,
};
use temporalio_common::protos::temporal::api::common::v1 as pc;
use temporalio_common::protos::temporal::api::failure::v1 as pf;

/// Our payload as the SDK's.
pub(crate) fn payload_out(p: &Payload) -> pc::Payload {
    pc::Payload {
        metadata: p
            .metadata
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<HashMap<_, _>>(),
        data: p.data.clone(),
        ..Default::default()
    }
}

/// The SDK's payload as ours (metadata sorted by key).
pub(crate) fn payload_in(p: &pc::Payload) -> Payload {
    let metadata: BTreeMap<String, Vec<u8>> = p
        .metadata
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Payload {
        metadata: Arc::new(metadata),
        data: p.data.clone(),
    }
}

/// Our payload list as the SDK's repeated payload field.
pub(crate) fn payload_list_out(p: Option<&Payloads>) -> Vec<pc::Payload> {
    p.map(|p| p.0.iter().map(payload_out).collect())
        .unwrap_or_default()
}

/// A repeated payload field as our payload list (`None` when empty).
pub(crate) fn payload_list_in(p: &[pc::Payload]) -> Option<Payloads> {
    (!p.is_empty()).then(|| Payloads::from_vec(p.iter().map(payload_in).collect()))
}

pub(crate) fn payloads_out(p: Option<&Payloads>) -> Option<pc::Payloads> {
    p.map(|p| pc::Payloads {
        payloads: p.0.iter().map(payload_out).collect(),
    })
}

pub(crate) fn payloads_in(p: Option<&pc::Payloads>) -> Option<Payloads> {
    p.and_then(|p| payload_list_in(&p.payloads))
}

pub(crate) fn duration_in(d: Option<&prost_types::Duration>) -> Option<Duration> {
    let d = d?;
    if d.seconds < 0 || d.nanos < 0 {
        return None;
    }
    let out = Duration::new(d.seconds as u64, d.nanos as u32);
    (!out.is_zero()).then_some(out)
}

pub(crate) fn duration_out(d: Option<Duration>) -> Option<prost_types::Duration> {
    d.map(|d| prost_types::Duration {
        seconds: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        nanos: d.subsec_nanos() as i32,
    })
}

pub(crate) fn timestamp_out(t: Timestamp) -> prost_types::Timestamp {
    let n = t.as_nanos();
    prost_types::Timestamp {
        seconds: n.div_euclid(1_000_000_000),
        nanos: n.rem_euclid(1_000_000_000) as i32,
    }
}

pub(crate) fn retry_policy_in(p: Option<&pc::RetryPolicy>) -> Option<RetryPolicy> {
    let p = p?;
    Some(RetryPolicy {
        initial_interval: duration_in(p.initial_interval.as_ref()),
        backoff_coefficient: (p.backoff_coefficient != 0.0).then_some(p.backoff_coefficient),
        maximum_interval: duration_in(p.maximum_interval.as_ref()),
        maximum_attempts: p.maximum_attempts,
        non_retryable_error_types: p.non_retryable_error_types.clone(),
        ..RetryPolicy::default()
    })
}

pub(crate) fn retry_policy_out(p: Option<&RetryPolicy>) -> Option<pc::RetryPolicy> {
    let p = p?;
    Some(pc::RetryPolicy {
        initial_interval: duration_out(p.initial_interval),
        backoff_coefficient: p.backoff_coefficient.unwrap_or(0.0),
        maximum_interval: duration_out(p.maximum_interval),
        maximum_attempts: p.maximum_attempts,
        non_retryable_error_types: p.non_retryable_error_types.clone(),
    })
}

fn timeout_type_out(t: TimeoutType) -> i32 {
    t as i32
}

/// Our failure as the SDK's (with its chain of causes).
pub(crate) fn failure_out(f: &Failure) -> pf::Failure {
    use pf::failure::FailureInfo as I;
    let info = match &f.info {
        FailureInfo::None => None,
        FailureInfo::Application {
            error_type,
            non_retryable,
            details,
        } => Some(I::ApplicationFailureInfo(pf::ApplicationFailureInfo {
            r#type: error_type.clone(),
            non_retryable: *non_retryable,
            details: payloads_out(details.as_ref()),
            ..Default::default()
        })),
        FailureInfo::Timeout {
            timeout_type,
            last_heartbeat_details,
        } => Some(I::TimeoutFailureInfo(pf::TimeoutFailureInfo {
            timeout_type: timeout_type_out(*timeout_type),
            last_heartbeat_details: payloads_out(last_heartbeat_details.as_ref()),
        })),
        FailureInfo::Canceled { details } => {
            Some(I::CanceledFailureInfo(pf::CanceledFailureInfo {
                details: payloads_out(details.as_ref()),
                ..Default::default()
            }))
        }
        FailureInfo::Terminated => Some(I::TerminatedFailureInfo(
            pf::TerminatedFailureInfo::default(),
        )),
        FailureInfo::Server { non_retryable } => {
            Some(I::ServerFailureInfo(pf::ServerFailureInfo {
                non_retryable: *non_retryable,
            }))
        }
        FailureInfo::Activity {
            scheduled_event_id,
            started_event_id,
            identity,
            activity_type,
            activity_id,
            retry_state,
        } => Some(I::ActivityFailureInfo(pf::ActivityFailureInfo {
            scheduled_event_id: *scheduled_event_id,
            started_event_id: *started_event_id,
            identity: identity.clone(),
            activity_type: Some(pc::ActivityType {
                name: activity_type.clone(),
            }),
            activity_id: activity_id.clone(),
            retry_state: *retry_state as i32,
        })),
    };
    pf::Failure {
        message: f.message.clone(),
        source: f.source.clone(),
        stack_trace: f.stack_trace.clone(),
        cause: f.cause.as_deref().map(|c| Box::new(failure_out(c))),
        failure_info: info,
        ..Default::default()
    }
}

/// The SDK's failure as ours. Kinds we do not model become [`FailureInfo::None`].
pub(crate) fn failure_in(f: &pf::Failure) -> Failure {
    use pf::failure::FailureInfo as I;
    let info = match &f.failure_info {
        Some(I::ApplicationFailureInfo(a)) => FailureInfo::Application {
            error_type: a.r#type.clone(),
            non_retryable: a.non_retryable,
            details: payloads_in(a.details.as_ref()),
        },
        Some(I::TimeoutFailureInfo(t)) => FailureInfo::Timeout {
            timeout_type: TimeoutType::from_number(t.timeout_type),
            last_heartbeat_details: payloads_in(t.last_heartbeat_details.as_ref()),
        },
        Some(I::CanceledFailureInfo(c)) => FailureInfo::Canceled {
            details: payloads_in(c.details.as_ref()),
        },
        Some(I::TerminatedFailureInfo(_)) => FailureInfo::Terminated,
        Some(I::ServerFailureInfo(s)) => FailureInfo::Server {
            non_retryable: s.non_retryable,
        },
        Some(I::ActivityFailureInfo(a)) => FailureInfo::Activity {
            scheduled_event_id: a.scheduled_event_id,
            started_event_id: a.started_event_id,
            identity: a.identity.clone(),
            activity_type: a
                .activity_type
                .as_ref()
                .map(|t| t.name.clone())
                .unwrap_or_default(),
            activity_id: a.activity_id.clone(),
            retry_state: RetryState::from_number(a.retry_state),
        },
        _ => FailureInfo::None,
    };
    let mut out = match &info {
        FailureInfo::Application {
            error_type,
            non_retryable,
            ..
        } => Failure::application(f.message.clone(), error_type.clone(), *non_retryable),
        _ => Failure::application(f.message.clone(), "", false),
    };
    out.info = info;
    out.source = f.source.clone();
    out.stack_trace = f.stack_trace.clone();
    out.cause = f.cause.as_deref().map(|c| Box::new(failure_in(c)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_round_trip_with_causes() {
        let inner = Failure::application("bad account", "InvalidAccount", true);
        let mut outer = Failure::canceled("cancelled").with_cause(inner);
        outer.source = "RustSDK".into();
        assert_eq!(failure_in(&failure_out(&outer)), outer);
        let t = Failure::timeout(TimeoutType::Heartbeat, "activity Heartbeat timeout");
        assert_eq!(failure_in(&failure_out(&t)), t);
    }

    #[test]
    fn payloads_round_trip() {
        let p = Payloads::json(&("a", 1)).unwrap();
        assert_eq!(payload_list_in(&payload_list_out(Some(&p))), Some(p));
        assert_eq!(payload_list_in(&[]), None);
    }

    #[test]
    fn durations_round_trip_and_zero_is_unset() {
        let d = Duration::from_millis(1500);
        assert_eq!(duration_in(duration_out(Some(d)).as_ref()), Some(d));
        assert_eq!(
            duration_in(duration_out(Some(Duration::ZERO)).as_ref()),
            None
        );
    }
}
