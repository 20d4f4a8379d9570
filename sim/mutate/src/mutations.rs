//! The declared mutations: realistic bugs of the engine, worker, SDK, store and transport, each
//! a small source edit as a developer would make it (not a switch), with the sweeps that
//! should catch it.
//!
//! A mutation's `find` must occur exactly once in `file` (paths from the repository root);
//! when the code it names changes, the tool reports the mutation as stale (exit 2) instead of
//! measuring something else.

use crate::sweep::Sweep;

/// One planted bug.
#[derive(Debug)]
pub struct Mutation {
    /// A short kebab-case name (`--only NAME`).
    pub name: &'static str,
    /// The realistic bug it models, in one line.
    pub bug: &'static str,
    /// The file it edits, from the repository root.
    pub file: &'static str,
    /// The exact source text to replace (must occur exactly once).
    pub find: &'static str,
    /// What replaces it.
    pub replace: &'static str,
    /// The sweeps that should catch it, run in order until one does.
    pub sweeps: &'static [Sweep],
}

const fn sweep(scenario: &'static str, profile: &'static str) -> Sweep {
    Sweep { scenario, profile }
}

/// Every mutation, in the order they run.
pub const MUTATIONS: &[Mutation] = &[
    Mutation {
        name: "retry-one-extra-attempt",
        bug: "retry off by one: maximum_attempts = N allows N+1 attempts",
        file: "sim/src/history/shared.rs",
        find: "self.maximum_attempts == 0 || failed_attempt < self.maximum_attempts",
        replace: "self.maximum_attempts == 0 || failed_attempt <= self.maximum_attempts",
        sweeps: &[sweep("retry-policies", "chaos")],
    },
    Mutation {
        name: "backoff-exponent",
        bug: "backoff with the wrong exponent: the first retry waits 2x the initial interval",
        file: "sim/src/history/shared.rs",
        find: "let exp = failed_attempt.saturating_sub(1).clamp(0, 1000);",
        replace: "let exp = failed_attempt.clamp(0, 1000);",
        sweeps: &[sweep("retry-policies", "none"), sweep("retry-policies", "chaos")],
    },
    Mutation {
        name: "non-retryable-types-ignored",
        bug: "the policy's non_retryable_error_types are not consulted: a listed error is retried",
        file: "sim/src/history/shared.rs",
        find: "        if non_retryable
            || self
                .non_retryable_error_types
                .iter()
                .any(|t| t == error_type)
        {",
        replace: "        if non_retryable {",
        sweeps: &[sweep("retry-policies", "chaos")],
    },
    Mutation {
        name: "started-activity-stays-queued",
        bug: "duplicate dispatch: a started activity stays in its task queue and goes to a second poller",
        file: "sim/src/engine/runs.rs",
        find: "if a.started.is_none() && a.cancel_requested_event_id == 0 {",
        replace: "if a.cancel_requested_event_id == 0 {",
        sweeps: &[sweep("money-transfer", "chaos")],
    },
    Mutation {
        name: "started-wft-stays-queued",
        bug: "duplicate dispatch: a started workflow task stays in its task queue and goes to a second poller",
        file: "sim/src/engine/runs.rs",
        find: "            Some(s) => consider(Some(s.time.plus(ms.workflow_task_timeout))),",
        replace: "            Some(s) => {
                consider(Some(s.time.plus(ms.workflow_task_timeout)));
                queue_entries.push((
                    wft.task_queue.name.clone(),
                    QueueEntry {
                        ready: wft.ready_at,
                        run,
                        kind: TaskKind::Workflow,
                    },
                ));
            }",
        sweeps: &[sweep("money-transfer", "chaos")],
    },
    Mutation {
        name: "wft-answers-two-pollers",
        bug: "duplicate dispatch: a workflow task matched to a parked poll also answers the next parked poll of its queue",
        file: "sim/src/engine/matching.rs",
        find: "                step.replies.push((poller.reply, resp));",
        replace: "                if let Response::WorkflowTask(Some(_)) = &resp {
                    if let Some(next) = self.pollers.get_mut(&key).and_then(VecDeque::pop_front) {
                        step.replies.push((next.reply, resp.clone()));
                    }
                }
                step.replies.push((poller.reply, resp));",
        sweeps: &[sweep("money-transfer", "chaos")],
    },
    Mutation {
        name: "wft-timeout-not-indexed",
        bug: "workflow-task timeout not enforced: a started task's deadline never enters the timer index",
        file: "sim/src/engine/runs.rs",
        find: "Some(s) => consider(Some(s.time.plus(ms.workflow_task_timeout))),",
        replace: "Some(_) => {}",
        sweeps: &[sweep("money-transfer", "crash")],
    },
    Mutation {
        name: "heartbeat-timer-not-indexed",
        bug: "heartbeat timeout never fires: the heartbeat timer is left out of the deadline index",
        file: "sim/src/engine/runs.rs",
        find: "        consider(a.heartbeat_deadline());\n",
        replace: "",
        sweeps: &[sweep("retry-policies", "crash")],
    },
    Mutation {
        name: "sticky-never-falls-back",
        bug: "a sticky task nobody starts is timed out but rescheduled on the same sticky queue",
        file: "sim/src/engine/workflow_task.rs",
        find: "                        timeout_type: TimeoutType::ScheduleToStart,
                        extra: Extra::new(),
                    })),
                );
                {
                    let ms = self.ms_mut(run);
                    ms.wft = None;
                    ms.sticky_queue = None;
                }",
        replace: "                        timeout_type: TimeoutType::ScheduleToStart,
                        extra: Extra::new(),
                    })),
                );
                {
                    let ms = self.ms_mut(run);
                    ms.wft = None;
                }",
        sweeps: &[sweep("money-transfer", "crash")],
    },
    Mutation {
        name: "close-drops-buffered-signal",
        bug: "a signal that arrives while the closing workflow task runs is dropped (off-by-one on the buffered events)",
        file: "sim/src/engine/workflow_task.rs",
        find: "if has_terminal && !self.ms(run).buffered.is_empty() {",
        replace: "if has_terminal && self.ms(run).buffered.len() > 1 {",
        sweeps: &[sweep("signals", "chaos")],
    },
    Mutation {
        name: "store-keeps-first-state",
        bug: "the store appends a run's new events but keeps its first mutable state: a restarted server forgets pending work",
        file: "sim/src/engine/store.rs",
        find: "                        history.extend(new_events);
                        *ms = *state;",
        replace: "                        history.extend(new_events);",
        sweeps: &[sweep("money-transfer", "crash")],
    },
    Mutation {
        name: "sync-skips-newest-batch",
        bug: "the store's sync makes every batch durable but the newest: a recovery loses the last acknowledged write",
        file: "sim/src/engine/store.rs",
        find: "        let pending = std::mem::take(&mut inner.unsynced);
        for batch in pending {",
        replace: "        let mut pending = std::mem::take(&mut inner.unsynced);
        let newest = pending.pop();
        inner.unsynced.extend(newest);
        for batch in pending {",
        sweeps: &[sweep("money-transfer", "crash")],
    },
    Mutation {
        name: "reply-before-sync",
        bug: "ack before sync: the server replies, then syncs (its record of acknowledgements after the sync)",
        file: "sim/src/engine/server.rs",
        find: "        tokio::time::sleep(cfg.fsync_latency).await;
        store.sync();
        trace_appends(env, &appended);
        store.record_acked(&appended);
    }
    send_replies(rpc, dedup, replies);",
        replace: "        send_replies(rpc, dedup, replies);
        tokio::time::sleep(cfg.fsync_latency).await;
        store.sync();
        trace_appends(env, &appended);
        store.record_acked(&appended);
        return;
    }
    send_replies(rpc, dedup, replies);",
        sweeps: &[sweep("money-transfer", "crash")],
    },
    Mutation {
        name: "idempotency-key-per-attempt",
        bug: "the SDK's ActivityContext::idempotency_key includes the attempt number",
        file: "sim/src/sdk/activity.rs",
        find: "            \"{}/{}/{}\",
            self.info.workflow_id, self.info.run_id, self.info.activity_id
        )",
        replace: "            \"{}/{}/{}/{}\",
            self.info.workflow_id, self.info.run_id, self.info.activity_id, self.info.attempt
        )",
        sweeps: &[sweep("retry-policies", "crash")],
    },
    Mutation {
        name: "replay-ignores-activity-type",
        bug: "replay matches activity commands to history by id only, ignoring the activity type",
        file: "sim/src/sdk/matching.rs",
        find: "            _ => self == other,",
        replace: "            (Key::Activity { id: a, .. }, Key::Activity { id: b, .. }) => a == b,
            _ => self == other,",
        sweeps: &[sweep("money-transfer", "chaos")],
    },
    Mutation {
        name: "worker-deadline-from-schedule",
        bug: "the worker measures an attempt's start-to-close deadline from the activity's schedule time",
        file: "sim/src/worker/mod.rs",
        find: "let deadline = task.started_time.plus(limit).as_nanos();",
        replace: "let deadline = task.scheduled_time.plus(limit).as_nanos();",
        sweeps: &[sweep("transfer-retried", "chaos")],
    },
    Mutation {
        name: "timers-fire-with-any-deadline",
        bug: "the per-timer due check is lost: every pending timer of a run fires when any of its deadlines comes (a task timeout, another timer)",
        file: "sim/src/engine/timers.rs",
        find: "            .filter(|(_, t)| t.fire_at <= now)\n",
        replace: "",
        sweeps: &[
            sweep("official-updatable-timer", "chaos"),
            sweep("expense-report", "crash"),
        ],
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_every_mutation_changes_something() {
        let mut names: Vec<&str> = MUTATIONS.iter().map(|m| m.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), MUTATIONS.len());
        for m in MUTATIONS {
            assert_ne!(m.find, m.replace, "{}", m.name);
            assert!(!m.sweeps.is_empty(), "{}", m.name);
        }
    }

    /// Every mutation applies to this checkout: its snippet occurs exactly once.
    #[test]
    fn every_mutation_applies_to_this_checkout() {
        let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        for m in MUTATIONS {
            let text = std::fs::read_to_string(repo.join(m.file)).unwrap();
            assert_eq!(
                crate::scratch::occurrences(&text, m.find),
                1,
                "mutation {} is stale",
                m.name
            );
        }
    }
}
