//! Idle virtual time costs nothing: workers and clients long-poll until work arrives, however
//! far away, and learn of a lost request, a lost reply or a server that died holding their poll
//! through the call's connection watch (`transport::LineWatch`), not by waking up to poll again.
//!
//! The checks count messages (deterministic), not CPU time; the CPU figures are in
//! `cargo bench --bench sim_throughput -- --only idle`.
#![cfg(madsim)]

use std::time::Duration;

use sim::faults::{Fault, FaultEvent, FaultPlan, NodeRef, When};
use sim::{Registry, TestEnv, WorkflowContext, WorkflowError};

const DAY: Duration = Duration::from_secs(24 * 3600);

/// Sleeps for `secs` seconds of virtual time, then answers.
async fn nap(ctx: WorkflowContext, secs: u64) -> Result<String, WorkflowError> {
    let _fired = ctx.timer(Duration::from_secs(secs)).await;
    Ok(format!("slept {secs}s"))
}

fn env() -> TestEnv {
    let mut registry = Registry::new();
    registry.register_workflow("Nap", nap);
    TestEnv::new(registry).deadline(40 * DAY)
}

/// Runs `Nap` for `secs` under `plan`; returns the answer and the messages the run sent.
fn nap_for(secs: u64, plan: FaultPlan) -> (String, u64) {
    let run = env().plan(plan).run(move |client| async move {
        let h = client.start("Nap", "nap", &secs).await.unwrap();
        h.result::<String>().await.unwrap()
    });
    let sent = run.outcome.messages_sent;
    (run.value(), sent)
}

fn at(ms: u64, fault: Fault) -> FaultEvent {
    FaultEvent {
        when: When::At { ms },
        fault,
    }
}

#[test]
fn thirty_idle_days_send_no_more_messages_than_thirty_idle_seconds() {
    let (month, month_sent) = nap_for(30 * 24 * 3600, FaultPlan::none());
    let (half_minute, half_minute_sent) = nap_for(30, FaultPlan::none());
    assert_eq!(month, "slept 2592000s");
    assert_eq!(half_minute, "slept 30s");
    assert_eq!(
        month_sent, half_minute_sent,
        "a month of idleness sent {month_sent} messages, 30 s sent {half_minute_sent}"
    );
    // Start, polls, two workflow tasks, the result: a few dozen at most.
    assert!(month_sent < 40, "{month_sent} messages");
}

/// The server dies an hour into the month with every poll parked on it. The pollers hear of it
/// through their connections, poll the restarted server, and the timer fires on time.
#[test]
fn pollers_parked_on_a_server_that_dies_poll_its_successor() {
    let plan = FaultPlan {
        events: vec![at(
            3_600_000,
            Fault::Kill {
                node: NodeRef::Named("server".into()),
                restart_after_ms: 10_000,
            },
        )],
        heal_at_ms: 3_700_000,
    };
    let (answer, sent) = nap_for(30 * 24 * 3600, plan);
    assert_eq!(answer, "slept 2592000s");
    let (_, fault_free) = nap_for(30 * 24 * 3600, FaultPlan::none());
    assert!(
        sent < fault_free + 20,
        "{sent} messages with one restart, {fault_free} without"
    );
}

/// The timer fires while the worker is cut off: the workflow task handed to its parked sticky
/// poll is lost on the way, and so is its retry (after the 10 s task timeout) handed to the
/// parked poll of the normal queue. The worker hears both connections broke, polls again, and
/// gets the task's next attempt (year-long polls would otherwise wait a year).
#[test]
fn a_task_reply_lost_in_a_partition_is_noticed_and_polled_again() {
    let fire_ms = 30 * 24 * 3600 * 1000;
    let plan = FaultPlan {
        events: vec![at(
            fire_ms - 1_000,
            Fault::Partition {
                nodes: vec!["worker-1".into()],
                duration_ms: 15_000,
            },
        )],
        heal_at_ms: fire_ms + 15_000,
    };
    let run = env().plan(plan).run(|client| async move {
        let h = client
            .start("Nap", "nap", &(30u64 * 24 * 3600))
            .await
            .unwrap();
        h.result::<String>().await.unwrap()
    });
    let history = run.history("nap").expect("the run's history").clone();
    let closed = history.events.last().expect("events").event_time;
    let started = history.events[0].event_time;
    assert_eq!(run.value(), "slept 2592000s");
    // Closed within two minutes of the timer: the lost tasks were noticed and handed out again.
    let took = Duration::from_nanos((closed.0 - started.0) as u64);
    assert!(
        took < 30 * DAY + Duration::from_secs(120),
        "closed {took:?} after the start"
    );
}
