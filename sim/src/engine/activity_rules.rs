//! Temporal's rules for an activity's timeouts and the failures they end with, as Server 1.32
//! applies them (each measured against recordings in `fixtures/temporal-histories/`, made with
//! `activity_features.py`; `tests/activity_conformance.rs` compares).
//!
//! **Timeouts on ActivityTaskScheduled** (`normalize_timeouts`): the frontend fills in what the
//! command left out before the event is written. With a schedule-to-close timeout, a missing
//! schedule-to-start or start-to-close becomes the schedule-to-close value, and given ones are
//! capped by it; without one, a start-to-close timeout is required (and schedule-to-close
//! stays 0: durasim has no run timeout to fill it with). The heartbeat timeout is capped by
//! schedule-to-close. (`activity-schedule-to-close-retries.json`: only `4s` schedule-to-close
//! given; the event has schedule-to-start and start-to-close `4s` too.)
//!
//! **Heartbeat timeout timing** (`heartbeat_timer_at`): the server does not re-arm the heartbeat
//! timer on each heartbeat. It creates one timer task when the attempt starts, at start +
//! heartbeat timeout; a heartbeat only records its time. When the timer task fires and the last
//! heartbeat plus the timeout has not passed, a new timer task is created for that moment, but
//! Temporal's timer queue reads ahead by `TIMER_READ_AHEAD` (its
//! `history.timerProcessorMaxTimeShift`, 1 s): a task created for a time before the queue's read
//! level is moved just past it, so the new timer fires no sooner than 1 s after it was created.
//! Rule: a heartbeat timer created at `now` for expiry `e` fires at `max(e, now + 1 s)`.
//! Measured on Server 1.32 (`activity-heartbeat*.json`): timeout 1 s, no heartbeat: +1.0 s;
//! timeout 1 s, one heartbeat at start: +2.0 s (timer at +1 s, re-armed to +2 s); timeout 3 s,
//! one heartbeat at start: +4.0 s; timeout 3 s, one heartbeat at +2.5 s: +5.5 s.
//!
//! **Timeout failures** (`timeout_close_failure`): the failure of an ActivityTaskTimedOut event
//! carries the activity's last heartbeat details (`timeoutFailureInfo.lastHeartbeatDetails`) and,
//! as `cause`, the failure of the attempt before (the `lastFailure` ActivityTaskStarted shows);
//! a failure kept for a retry (`lastFailure`) carries neither. A start-to-close or heartbeat
//! timeout whose retry would end past schedule-to-close is not retried and becomes a
//! SCHEDULE_TO_CLOSE timeout with the message `NOT_ENOUGH_TIME` (retry state TIMEOUT). A failure
//! reported by the worker keeps its own failure (ActivityTaskFailed, retry state TIMEOUT).
//!
//! Invariant: pure functions of their arguments (no clock, no state).

use std::time::Duration;

use crate::history::{Failure, FailureInfo, Payloads, TimeoutType, Timestamp};

/// How far Temporal's timer queue reads ahead (`history.timerProcessorMaxTimeShift`): a timer
/// task created for an earlier time fires this long after it was created.
pub(super) const TIMER_READ_AHEAD: Duration = Duration::from_secs(1);

/// The message of a timeout that stopped retries because the next attempt would start past
/// schedule-to-close.
pub(super) const NOT_ENOUGH_TIME: &str =
    "Not enough time to schedule next retry before activity ScheduleToClose timeout, giving up retrying";

/// An activity's four timeouts as the server records them (zero: none).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct ActivityTimeouts {
    pub schedule_to_close: Duration,
    pub schedule_to_start: Duration,
    pub start_to_close: Duration,
    pub heartbeat: Duration,
}

/// The smaller of two timeouts where zero means none.
fn min_set(a: Duration, b: Duration) -> Duration {
    match (a.is_zero(), b.is_zero()) {
        (true, _) => b,
        (_, true) => a,
        _ => a.min(b),
    }
}

/// The timeouts Temporal writes on ActivityTaskScheduled for a command's timeouts (`None` or
/// zero: not given). The caller has checked that start-to-close or schedule-to-close is given.
pub(super) fn normalize_timeouts(
    schedule_to_close: Option<Duration>,
    schedule_to_start: Option<Duration>,
    start_to_close: Option<Duration>,
    heartbeat: Option<Duration>,
) -> ActivityTimeouts {
    let s2c = schedule_to_close.unwrap_or(Duration::ZERO);
    let s2s = schedule_to_start.unwrap_or(Duration::ZERO);
    let stc = start_to_close.unwrap_or(Duration::ZERO);
    let hb = heartbeat.unwrap_or(Duration::ZERO);
    let (s2s, stc) = if s2c.is_zero() {
        (s2s, stc)
    } else {
        (min_set(s2s, s2c), min_set(stc, s2c))
    };
    ActivityTimeouts {
        schedule_to_close: s2c,
        schedule_to_start: s2s,
        start_to_close: stc,
        heartbeat: if hb.is_zero() { hb } else { min_set(hb, s2c) },
    }
}

/// When a heartbeat timer created at `now` for an attempt whose heartbeat expires at `expiry`
/// fires (see the module doc: no sooner than `TIMER_READ_AHEAD` after its creation).
pub(super) fn heartbeat_timer_at(now: Timestamp, expiry: Timestamp) -> Timestamp {
    expiry.max(now.plus(TIMER_READ_AHEAD))
}

/// The failure of an ActivityTaskTimedOut event: `failure` with the last heartbeat details and,
/// as its cause, the failure of the attempt before (if any).
pub(super) fn timeout_close_failure(
    mut failure: Failure,
    last_heartbeat_details: Option<&Payloads>,
    previous_attempt_failure: Option<&Failure>,
) -> Failure {
    if let FailureInfo::Timeout {
        last_heartbeat_details: details,
        ..
    } = &mut failure.info
    {
        *details = last_heartbeat_details.cloned();
    }
    if let Some(previous) = previous_attempt_failure {
        failure = failure.with_cause(previous.clone());
    }
    failure
}

/// The timeout that replaces a server-side attempt timeout when the retry would end past
/// schedule-to-close.
pub(super) fn not_enough_time() -> Failure {
    Failure::timeout(TimeoutType::ScheduleToClose, NOT_ENOUGH_TIME)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(secs: u64) -> Option<Duration> {
        Some(Duration::from_secs(secs))
    }

    #[test]
    fn schedule_to_close_fills_and_caps_the_others() {
        let t = normalize_timeouts(s(4), None, None, None);
        assert_eq!(t.schedule_to_start, Duration::from_secs(4));
        assert_eq!(t.start_to_close, Duration::from_secs(4));
        let t = normalize_timeouts(s(3), s(10), s(2), s(5));
        assert_eq!(t.schedule_to_start, Duration::from_secs(3));
        assert_eq!(t.start_to_close, Duration::from_secs(2));
        assert_eq!(t.heartbeat, Duration::from_secs(3));
        let t = normalize_timeouts(None, None, s(60), s(1));
        assert_eq!(t.schedule_to_close, Duration::ZERO);
        assert_eq!(t.schedule_to_start, Duration::ZERO);
        assert_eq!(t.heartbeat, Duration::from_secs(1));
    }

    #[test]
    fn a_heartbeat_timer_fires_no_sooner_than_the_read_ahead() {
        let t0 = Timestamp::from_nanos(10_000_000_000);
        assert_eq!(
            heartbeat_timer_at(t0, t0.plus(Duration::from_millis(10))),
            t0.plus(Duration::from_secs(1))
        );
        assert_eq!(
            heartbeat_timer_at(t0, t0.plus(Duration::from_millis(2_500))),
            t0.plus(Duration::from_millis(2_500))
        );
    }
}
