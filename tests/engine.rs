//! The engine under simulation: fault-free runs write Temporal's event sequences.
#![cfg(madsim)]

use std::sync::Arc;

use sim::faults::FaultPlan;
use sim::history::{json::parse_history, EventType, History};
use sim::{run, Outcome};

fn fixture(name: &str) -> History {
    let path = format!(
        "{}/fixtures/temporal-histories/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    parse_history(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn run_named(name: &str, seed: u64, plan: &FaultPlan) -> Outcome {
    let sc = Arc::new(fixtures::scenarios::scenario(name).expect("scenario"));
    run(&sc, seed, plan)
}

fn only_history(o: &Outcome) -> &History {
    assert_eq!(
        o.histories.len(),
        1,
        "one run expected, got {:?}",
        o.histories.keys().collect::<Vec<_>>()
    );
    o.histories.values().next().unwrap()
}

#[test]
fn fault_free_transfer_writes_the_completed_sequence() {
    let o = run_named("transfer-completed", 1, &FaultPlan::none());
    let ours = only_history(&o).event_types();
    let theirs = fixture("transfer-completed.json").event_types();
    assert_eq!(ours, theirs, "\n{}", o.trace_text());
    assert_eq!(ours.len(), 17);
    assert_eq!(*ours.last().unwrap(), EventType::WorkflowExecutionCompleted);
}

fn assert_same_types(o: &Outcome, fixture_name: &str) {
    let ours = only_history(o).event_types();
    let theirs = fixture(fixture_name).event_types();
    assert_eq!(
        ours,
        theirs,
        "event types differ from {fixture_name}\n{}",
        o.trace_text()
    );
}

/// The deposit's final ActivityTaskStarted (the deposit is scheduled at event 11).
fn deposit_started(h: &History) -> sim::history::ActivityTaskStarted {
    h.events
        .iter()
        .find_map(|e| match &e.attributes {
            sim::history::EventAttributes::ActivityTaskStarted(s) if s.scheduled_event_id == 11 => {
                Some((**s).clone())
            }
            _ => None,
        })
        .expect("deposit started")
}

fn secs(d: std::time::Duration) -> f64 {
    d.as_secs_f64()
}

#[test]
fn deposit_failing_three_times_retries_1_2_4_seconds_apart() {
    use sim::TraceKind;
    let o = run_named("transfer-retried", 7, &FaultPlan::none());
    assert_same_types(&o, "transfer-retried.json");
    let h = only_history(&o);
    let started = deposit_started(h);
    assert_eq!(started.attempt, 4);
    let last = started.last_failure.expect("last failure");
    assert_eq!(
        last.message,
        "simulated transient deposit failure on attempt 3"
    );
    // Each failure reaches the server, and the server starts the next attempt one backoff
    // later (madsim's timers have millisecond resolution; the gap is measured from the failure's
    // arrival to the dispatching store write).
    let mut failures = Vec::new();
    let mut dispatch_writes = Vec::new();
    let mut last_write = None;
    for e in &o.trace {
        match &e.kind {
            TraceKind::Recv {
                msg: "FailActivityTask",
                ..
            } => failures.push(e.time),
            TraceKind::StoreWrite { .. } => last_write = Some(e.time),
            TraceKind::Send {
                msg: "ActivityTask",
                copies: 1,
                ..
            } => dispatch_writes.push(last_write.unwrap()),
            _ => {}
        }
    }
    assert_eq!(failures.len(), 3, "{}", o.trace_text());
    // Withdraw and the first deposit attempt run eagerly (handed back with the completion of
    // the workflow task that scheduled them); retries always go through the task queue.
    assert_eq!(
        dispatch_writes.len(),
        3,
        "3 deposit retries through the queue\n{}",
        o.trace_text()
    );
    let gaps_ms: Vec<u128> = failures
        .iter()
        .zip(&dispatch_writes)
        .map(|(f, d)| d.since(*f).as_millis())
        .collect();
    assert_eq!(gaps_ms, vec![1000, 2000, 4000], "{}", o.trace_text());
    // From scheduling to the final attempt's start: 1 + 2 + 4 s plus the attempts' own time.
    let total = secs(h.events[11].event_time.since(h.events[10].event_time));
    assert!((7.0..7.2).contains(&total), "{total}");
}

#[test]
fn invalid_target_account_refunds_and_fails_as_temporal_does() {
    use sim::history::EventAttributes;
    let o = run_named("transfer-failed", 3, &FaultPlan::none());
    assert_same_types(&o, "transfer-failed.json");
    let h = only_history(&o);
    let EventAttributes::WorkflowExecutionFailed(f) = &h.events.last().unwrap().attributes else {
        panic!("not failed")
    };
    let failure = f.failure.as_ref().expect("failure");
    assert_eq!(failure.error_type(), Some("DepositFailed"));
    assert!(
        failure
            .message
            .starts_with("Failed to deposit money into account B-INVALID"),
        "{}",
        failure.message
    );
    // The bank applied the withdrawal and the refund, never the deposit.
    let applied: Vec<&str> = o
        .effects
        .iter()
        .filter(|e| e.applied)
        .map(|e| e.idempotency_key.as_str())
        .collect();
    assert_eq!(
        applied,
        vec!["transfer-failed-withdrawal", "transfer-failed-refund"]
    );
}

/// Kill the worker right after the bank applied the deposit, before the completion reaches the
/// server (the transfer-worker-killed.json story).
#[test]
fn worker_killed_mid_deposit_retries_and_the_bank_applies_once() {
    use sim::faults::{Fault, FaultEvent, NodeRef, When};
    use sim::history::{EventAttributes, FailureInfo, TimeoutType};
    let plan = FaultPlan {
        events: vec![FaultEvent {
            when: When::Effect {
                service: "bank".into(),
                operation: "deposit".into(),
                nth: 1,
            },
            fault: Fault::Kill {
                node: NodeRef::Caller,
                restart_after_ms: 1000,
            },
        }],
        heal_at_ms: 60_000,
    };
    let o = run_named("transfer-worker-killed", 11, &plan);
    assert_same_types(&o, "transfer-worker-killed.json");
    let h = only_history(&o);
    let started = deposit_started(h);
    assert_eq!(started.attempt, 2, "{}", o.trace_text());
    let lf = started.last_failure.expect("timeout failure");
    assert!(
        matches!(
            lf.info,
            FailureInfo::Timeout {
                timeout_type: TimeoutType::StartToClose,
                ..
            }
        ),
        "{lf:?}"
    );
    // Attempt 2 starts 5 s (start_to_close) + 1 s (backoff) after attempt 1.
    let scheduled = &h.events[10];
    let gap = secs(h.events[11].event_time.since(scheduled.event_time));
    assert!(
        (6.0..6.1).contains(&gap),
        "attempt 2 started {gap}s after scheduling"
    );
    // The sticky workflow task on the dead worker's queue timed out after 10 s.
    let EventAttributes::WorkflowTaskTimedOut(t) = &h.events[14].attributes else {
        panic!()
    };
    assert_eq!(t.timeout_type, TimeoutType::ScheduleToStart);
    // The deposit body ran twice with the same key; the bank applied it once.
    let deposits: Vec<_> = o
        .effects
        .iter()
        .filter(|e| e.idempotency_key == "transfer-worker-killed-deposit")
        .collect();
    assert_eq!(deposits.len(), 2, "{deposits:?}");
    assert_eq!(deposits.iter().filter(|e| e.applied).count(), 1);
    assert_eq!(deposits[0].caller.as_ref().unwrap().attempt, 1);
    assert_eq!(deposits[1].caller.as_ref().unwrap().attempt, 2);
}

#[test]
fn thirty_day_greeting_completes_in_virtual_time() {
    use sim::history::EventAttributes;
    let o = run_named("greeting", 5, &FaultPlan::none());
    assert!(
        o.ended_at >= std::time::Duration::from_secs(30 * 24 * 3600),
        "ended at {:?}",
        o.ended_at
    );
    let greeting = o
        .histories
        .iter()
        .find(|(k, _)| k.workflow_id == "greeting-sleep-30d")
        .unwrap()
        .1;
    // The first five events are those of greeting-sleep-30d.json (exported while it was open).
    assert_eq!(
        greeting.event_types()[..5],
        fixture("greeting-sleep-30d.json").event_types()[..]
    );
    let EventAttributes::WorkflowExecutionCompleted(c) =
        &greeting.events.last().unwrap().attributes
    else {
        panic!("not completed: {:?}", greeting.event_types())
    };
    let result: String = c.result.as_ref().unwrap().decode_first().unwrap();
    assert_eq!(result, "Hello, Temporal! (30 days later)");
    let fired = greeting
        .events
        .iter()
        .find(|e| e.event_type() == EventType::TimerFired)
        .unwrap();
    let started = greeting
        .events
        .iter()
        .find(|e| e.event_type() == EventType::TimerStarted)
        .unwrap();
    let waited = fired.event_time.since(started.event_time);
    let thirty_days = std::time::Duration::from_secs(30 * 24 * 3600);
    assert!(
        waited >= thirty_days && waited < thirty_days + std::time::Duration::from_millis(1),
        "{waited:?}"
    );
}

#[test]
fn same_seed_gives_byte_identical_histories_and_trace() {
    use sim::faults::{Fault, FaultEvent, MessageFault, NodeRef, Target, When};
    let plan = FaultPlan {
        events: vec![
            FaultEvent {
                when: When::At { ms: 5 },
                fault: Fault::Message {
                    target: Target::All,
                    effect: MessageFault::Drop {
                        rate: 0.2,
                        duration_ms: 3000,
                    },
                },
            },
            FaultEvent {
                when: When::At { ms: 20 },
                fault: Fault::Message {
                    target: Target::All,
                    effect: MessageFault::Duplicate {
                        rate: 0.3,
                        duration_ms: 3000,
                    },
                },
            },
            FaultEvent {
                when: When::At { ms: 40 },
                fault: Fault::Kill {
                    node: NodeRef::Named("worker-2".into()),
                    restart_after_ms: 2000,
                },
            },
            FaultEvent {
                when: When::At { ms: 60 },
                fault: Fault::Kill {
                    node: NodeRef::Named("server".into()),
                    restart_after_ms: 500,
                },
            },
        ],
        heal_at_ms: 10_000,
    };
    let render = |o: &Outcome| -> String {
        o.histories
            .values()
            .map(sim::history::json::to_json)
            .collect::<Vec<_>>()
            .join("\n")
    };
    let a = run_named("money-transfer", 42, &plan);
    let b = run_named("money-transfer", 42, &plan);
    assert_eq!(a.trace_hash, b.trace_hash);
    assert_eq!(a.trace_text(), b.trace_text());
    assert_eq!(render(&a), render(&b));
    let c = run_named("money-transfer", 43, &plan);
    assert_ne!(
        a.trace_hash, c.trace_hash,
        "a different seed should give a different run"
    );
}

/// Kill and restart the server at many random points: no workflow and no acknowledged event is
/// lost, and every workflow completes after the restart.
#[test]
fn server_kill_restart_loses_nothing_acknowledged() {
    use sim::faults::{Fault, FaultEvent, NodeRef, When};
    use sim::WorkflowStatus;
    let mut kills = 0;
    for seed in 0..40u64 {
        // Spread kill points over the run with a simple deterministic mix of the seed.
        let at = (seed * 7919) % 120;
        let restart = 100 + (seed * 104_729) % 3000;
        let mut events = vec![FaultEvent {
            when: When::At { ms: at },
            fault: Fault::Kill {
                node: NodeRef::Named("server".into()),
                restart_after_ms: restart,
            },
        }];
        if seed % 2 == 0 {
            events.push(FaultEvent {
                when: When::StoreWrite {
                    nth: 5 + (seed as u32 % 40),
                },
                fault: Fault::Kill {
                    node: NodeRef::Named("server".into()),
                    restart_after_ms: 700,
                },
            });
        }
        let plan = FaultPlan {
            events,
            heal_at_ms: 10_000,
        };
        let o = run_named("money-transfer", seed, &plan);
        assert_eq!(
            o.client.len(),
            10,
            "seed {seed}: every workflow started\n{}",
            o.trace_text()
        );
        for (wid, r) in &o.client {
            assert_eq!(
                r.closed.map(|c| c.0),
                Some(WorkflowStatus::Completed),
                "seed {seed}: {wid} did not complete"
            );
        }
        for ack in &o.acked {
            let h = o
                .histories
                .get(&ack.exec)
                .unwrap_or_else(|| panic!("seed {seed}: run {} lost", ack.exec));
            let e = h
                .events
                .get(ack.event_id as usize - 1)
                .unwrap_or_else(|| panic!("seed {seed}: acked event {} lost", ack.event_id));
            assert_eq!(
                e.event_type(),
                ack.event_type,
                "seed {seed}: acked event {} changed",
                ack.event_id
            );
        }
        kills += o.applied_faults.len();
    }
    assert!(kills >= 40, "only {kills} kills landed inside the runs");
}

/// A worker whose clock runs 3 s ahead gives up the deposit attempt (after the bank applied
/// it) at its local deadline; the server times the attempt out and the retry is deduplicated.
#[test]
fn clock_skewed_worker_abandons_attempts_and_the_bank_still_applies_once() {
    use sim::faults::{Fault, FaultEvent, When};
    let plan = FaultPlan {
        events: vec![FaultEvent {
            when: When::At { ms: 0 },
            fault: Fault::ClockSkew {
                node: "worker-1".into(),
                skew_ms: 3_000,
                duration_ms: 5_500,
            },
        }],
        heal_at_ms: 60_000,
    };
    let o = run_named("transfer-worker-killed", 4, &plan);
    let text = o.trace_text();
    assert!(
        text.contains("gave up attempt 1 of activity 2 at its local deadline (clock skew 3000ms)"),
        "{text}"
    );
    let h = only_history(&o);
    let started = deposit_started(h);
    assert_eq!(started.attempt, 2, "{text}");
    assert_eq!(
        *h.event_types().last().unwrap(),
        EventType::WorkflowExecutionCompleted
    );
    let deposits: Vec<_> = o
        .effects
        .iter()
        .filter(|e| e.idempotency_key.ends_with("-deposit"))
        .collect();
    assert_eq!(
        deposits.iter().filter(|e| e.applied).count(),
        1,
        "{deposits:?}"
    );
}

/// madsim holds every receiver and sender for at least 1 ms of virtual time per message; an
/// endpoint with a single receive loop (and a server that sent its replies in line) answered
/// one request per millisecond, so 2,000 concurrent starts took over 2 s to answer and 10,000
/// made every client time out and retry. Receive loops grow with load and replies are sent
/// from tasks of their own: the burst is answered within a fraction of a second.
#[test]
fn a_burst_of_two_thousand_starts_is_answered_at_once_and_never_retried() {
    use sim::TraceKind;
    let n = 2000;
    let mut sc = fixtures::scenarios::money_transfer_n(n);
    sc.record_trace = true;
    let o = run(&Arc::new(sc), 3, &FaultPlan::none());
    let closed = o.client.values().filter(|c| c.closed.is_some()).count();
    assert_eq!(closed, n, "every transfer closed");
    let t0 = o.trace.first().expect("a trace").time.as_nanos();
    let mut starts_sent = 0;
    let mut last_started_ms = 0.0f64;
    for e in &o.trace {
        if let TraceKind::Send { msg, .. } = &e.kind {
            match *msg {
                "StartWorkflow" => starts_sent += 1,
                "Started" => {
                    last_started_ms = (e.time.as_nanos() - t0) as f64 / 1e6;
                }
                _ => {}
            }
        }
    }
    assert_eq!(starts_sent, n, "each start sent once: no client timed out");
    assert!(
        last_started_ms < 500.0,
        "the last of {n} starts was answered {last_started_ms:.1} ms into the run"
    );
}
