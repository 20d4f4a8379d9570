//! Enums as protobuf JSON writes them: long proto names (`TIMEOUT_TYPE_START_TO_CLOSE`),
//! read also from short PascalCase names or numbers; and event type names.

use super::*;

// ---------------------------------------------------------------------------------------------
// Enums: long proto names, short PascalCase names, or numbers
// ---------------------------------------------------------------------------------------------

pub(super) struct EnumDef {
    what: &'static str,
    prefix: &'static str,
    /// (number, name without prefix in UPPER_SNAKE)
    values: &'static [(i32, &'static str)],
}

pub(super) const TIMEOUT_TYPE: EnumDef = EnumDef {
    what: "timeout type",
    prefix: "TIMEOUT_TYPE_",
    values: &[
        (0, "UNSPECIFIED"),
        (1, "START_TO_CLOSE"),
        (2, "SCHEDULE_TO_START"),
        (3, "SCHEDULE_TO_CLOSE"),
        (4, "HEARTBEAT"),
    ],
};

pub(super) const RETRY_STATE: EnumDef = EnumDef {
    what: "retry state",
    prefix: "RETRY_STATE_",
    values: &[
        (0, "UNSPECIFIED"),
        (1, "IN_PROGRESS"),
        (2, "NON_RETRYABLE_FAILURE"),
        (3, "TIMEOUT"),
        (4, "MAXIMUM_ATTEMPTS_REACHED"),
        (5, "RETRY_POLICY_NOT_SET"),
        (6, "INTERNAL_SERVER_ERROR"),
        (7, "CANCEL_REQUESTED"),
    ],
};

pub(super) const TASK_QUEUE_KIND: EnumDef = EnumDef {
    what: "task queue kind",
    prefix: "TASK_QUEUE_KIND_",
    values: &[(0, "UNSPECIFIED"), (1, "NORMAL"), (2, "STICKY")],
};

pub(super) const WFT_FAILED_CAUSE: EnumDef = EnumDef {
    what: "workflow task failed cause",
    prefix: "WORKFLOW_TASK_FAILED_CAUSE_",
    values: &[
        (0, "UNSPECIFIED"),
        (1, "UNHANDLED_COMMAND"),
        (2, "BAD_SCHEDULE_ACTIVITY_ATTRIBUTES"),
        (3, "BAD_REQUEST_CANCEL_ACTIVITY_ATTRIBUTES"),
        (4, "BAD_START_TIMER_ATTRIBUTES"),
        (5, "BAD_CANCEL_TIMER_ATTRIBUTES"),
        (6, "BAD_RECORD_MARKER_ATTRIBUTES"),
        (7, "BAD_COMPLETE_WORKFLOW_EXECUTION_ATTRIBUTES"),
        (8, "BAD_FAIL_WORKFLOW_EXECUTION_ATTRIBUTES"),
        (9, "BAD_CANCEL_WORKFLOW_EXECUTION_ATTRIBUTES"),
        (
            10,
            "BAD_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_ATTRIBUTES",
        ),
        (11, "BAD_CONTINUE_AS_NEW_ATTRIBUTES"),
        (12, "START_TIMER_DUPLICATE_ID"),
        (13, "RESET_STICKY_TASK_QUEUE"),
        (14, "WORKFLOW_WORKER_UNHANDLED_FAILURE"),
        (15, "BAD_SIGNAL_WORKFLOW_EXECUTION_ATTRIBUTES"),
        (16, "BAD_START_CHILD_EXECUTION_ATTRIBUTES"),
        (17, "FORCE_CLOSE_COMMAND"),
        (18, "FAILOVER_CLOSE_COMMAND"),
        (19, "BAD_SIGNAL_INPUT_SIZE"),
        (20, "RESET_WORKFLOW"),
        (21, "BAD_BINARY"),
        (22, "SCHEDULE_ACTIVITY_DUPLICATE_ID"),
        (23, "BAD_SEARCH_ATTRIBUTES"),
        (24, "NON_DETERMINISTIC_ERROR"),
        (25, "BAD_MODIFY_WORKFLOW_PROPERTIES_ATTRIBUTES"),
        (26, "PENDING_CHILD_WORKFLOWS_LIMIT_EXCEEDED"),
        (27, "PENDING_ACTIVITIES_LIMIT_EXCEEDED"),
        (28, "PENDING_SIGNALS_LIMIT_EXCEEDED"),
        (29, "PENDING_REQUEST_CANCEL_LIMIT_EXCEEDED"),
        (30, "BAD_UPDATE_WORKFLOW_EXECUTION_MESSAGE"),
        (31, "UNHANDLED_UPDATE"),
        (32, "BAD_SCHEDULE_NEXUS_OPERATION_ATTRIBUTES"),
        (33, "PENDING_NEXUS_OPERATIONS_LIMIT_EXCEEDED"),
        (34, "BAD_REQUEST_CANCEL_NEXUS_OPERATION_ATTRIBUTES"),
        (35, "FEATURE_DISABLED"),
        (36, "GRPC_MESSAGE_TOO_LARGE"),
        (37, "PAYLOADS_TOO_LARGE"),
        (38, "EXTERNAL_STORAGE_FAILURE"),
        (39, "WORKFLOW_PAUSE_REQUESTED_BEFORE_TASK_STARTED"),
    ],
};

pub(super) const PARENT_CLOSE_POLICY: EnumDef = EnumDef {
    what: "parent close policy",
    prefix: "PARENT_CLOSE_POLICY_",
    values: &[
        (0, "UNSPECIFIED"),
        (1, "TERMINATE"),
        (2, "ABANDON"),
        (3, "REQUEST_CANCEL"),
    ],
};

pub(super) const START_CHILD_FAILED_CAUSE: EnumDef = EnumDef {
    what: "start child workflow failed cause",
    prefix: "START_CHILD_WORKFLOW_EXECUTION_FAILED_CAUSE_",
    values: &[
        (0, "UNSPECIFIED"),
        (1, "WORKFLOW_ALREADY_EXISTS"),
        (2, "NAMESPACE_NOT_FOUND"),
        (3, "INVALID_VERSIONING_OVERRIDE"),
    ],
};

pub(super) const SIGNAL_EXTERNAL_FAILED_CAUSE: EnumDef = EnumDef {
    what: "signal external workflow failed cause",
    prefix: "SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_",
    values: &[
        (0, "UNSPECIFIED"),
        (1, "EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND"),
        (2, "NAMESPACE_NOT_FOUND"),
        (3, "SIGNAL_COUNT_LIMIT_EXCEEDED"),
    ],
};

pub(super) const CANCEL_EXTERNAL_FAILED_CAUSE: EnumDef = EnumDef {
    what: "cancel external workflow failed cause",
    prefix: "CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_",
    values: &[
        (0, "UNSPECIFIED"),
        (1, "EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND"),
        (2, "NAMESPACE_NOT_FOUND"),
    ],
};

/// `pascal` (`ActivityTaskScheduled`) equals `snake` (`ACTIVITY_TASK_SCHEDULED`), allocation-free.
pub(super) fn pascal_matches_snake(pascal: &str, snake: &str) -> bool {
    let mut p = pascal.bytes();
    let mut first = true;
    for s in snake.bytes() {
        if s == b'_' {
            // A word boundary: the next PascalCase byte must start a word.
            first = true;
            continue;
        }
        match p.next() {
            Some(c) if c.to_ascii_uppercase() == s => {
                if first != c.is_ascii_uppercase() && !c.is_ascii_digit() {
                    return false;
                }
                first = false;
            }
            _ => return false,
        }
    }
    p.next().is_none()
}

impl EnumDef {
    pub(super) fn name_of(&self, n: i32) -> Option<&'static str> {
        self.values.iter().find(|(v, _)| *v == n).map(|(_, s)| *s)
    }

    pub(super) fn lookup(&self, s: &str) -> Option<i32> {
        let found = match s.strip_prefix(self.prefix) {
            Some(rest) => self.values.iter().find(|(_, name)| *name == rest),
            None => self
                .values
                .iter()
                .find(|(_, name)| pascal_matches_snake(s, name) || *name == s),
        };
        found.map(|(n, _)| *n)
    }

    /// Reads a string (long or short name) or a number. Unknown numbers are accepted only
    /// when `open` (the enum has an `Other` case).
    pub(super) fn read(&self, v: &Value, p: &Path, open: bool) -> Res<i32> {
        match v {
            Value::String(s) => match self.lookup(s) {
                Some(n) => Ok(n),
                None => p.err(format!("unknown {} {}", self.what, quoted(s))),
            },
            Value::Number(num) => {
                let n = num.as_i64().and_then(|n| i32::try_from(n).ok());
                match n {
                    Some(n) if open || self.name_of(n).is_some() => Ok(n),
                    _ => p.err(format!("unknown {} {num}", self.what)),
                }
            }
            other => p.err(format!(
                "expected a {} name or number, found {}",
                self.what,
                describe(other)
            )),
        }
    }

    pub(super) fn long_name(&self, n: i32) -> Value {
        match self.name_of(n) {
            Some(name) => Value::String(format!("{}{}", self.prefix, name)),
            None => Value::from(n),
        }
    }
}

pub(super) fn task_queue_kind_from(n: i32) -> TaskQueueKind {
    match n {
        1 => TaskQueueKind::Normal,
        2 => TaskQueueKind::Sticky,
        _ => TaskQueueKind::Unspecified,
    }
}

pub(super) fn cause_from(n: i32) -> WorkflowTaskFailedCause {
    use WorkflowTaskFailedCause as C;
    match n {
        0 => C::Unspecified,
        1 => C::UnhandledCommand,
        2 => C::BadScheduleActivityAttributes,
        4 => C::BadStartTimerAttributes,
        6 => C::BadRecordMarkerAttributes,
        12 => C::StartTimerDuplicateId,
        14 => C::WorkflowWorkerUnhandledFailure,
        22 => C::ScheduleActivityDuplicateId,
        24 => C::NonDeterministicError,
        27 => C::PendingActivitiesLimitExceeded,
        28 => C::PendingSignalsLimitExceeded,
        n => C::Other(n),
    }
}

/// Parses an event type from its long (`EVENT_TYPE_ACTIVITY_TASK_SCHEDULED`) or short
/// (`ActivityTaskScheduled`) name, without allocating.
pub fn parse_event_type(s: &str) -> Option<EventType> {
    match s.strip_prefix("EVENT_TYPE_") {
        Some(rest) => EventType::ALL
            .iter()
            .copied()
            .find(|t| pascal_matches_snake(t.name(), rest)),
        None => EventType::ALL.iter().copied().find(|t| t.name() == s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_names() {
        assert_eq!(TIMEOUT_TYPE.lookup("TIMEOUT_TYPE_START_TO_CLOSE"), Some(1));
        assert_eq!(TIMEOUT_TYPE.lookup("StartToClose"), Some(1));
        assert_eq!(TIMEOUT_TYPE.lookup("START_TO_CLOSE"), Some(1));
        assert_eq!(TIMEOUT_TYPE.lookup("Starttoclose"), None);
        assert_eq!(RETRY_STATE.lookup("NonRetryableFailure"), Some(2));
        assert_eq!(WFT_FAILED_CAUSE.lookup("NonDeterministicError"), Some(24));
        assert_eq!(WFT_FAILED_CAUSE.lookup("GrpcMessageTooLarge"), Some(36));
        assert_eq!(TASK_QUEUE_KIND.lookup("Sticky"), Some(2));
        for t in EventType::ALL {
            assert_eq!(parse_event_type(t.name()), Some(t));
            assert_eq!(parse_event_type(&t.proto_name()), Some(t));
        }
        assert_eq!(parse_event_type("EVENT_TYPE_TIMERSTARTED"), None);
        assert_eq!(parse_event_type("timerStarted"), None);
    }
}
