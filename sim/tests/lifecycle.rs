//! A workflow's lifecycle in a whole simulated run (server, worker, client script): run and
//! execution timeouts across continue-as-new, signal-with-start, search attributes and memo,
//! compared with the real server's histories in `fixtures/temporal-histories/` (and those
//! histories replayed against the ports of the workflows that wrote them).
#![cfg(madsim)]

use std::time::Duration;

use sim::history::{EventAttributes as A, EventType, History, RetryState};
use sim::sdk::{memo, search_attributes, ReplayOutcome, SearchAttributeValue as Sa};
use sim::{
    Registry, StartOptions, TestClientError, TestEnv, WorkflowContext, WorkflowError,
    WorkflowStatus,
};

mod common;
use common::fixture;

const HOUR: Duration = Duration::from_secs(3600);

fn types(h: &History) -> Vec<EventType> {
    h.events.iter().map(|e| e.event_type()).collect()
}

/// features.py's `Sleeper`: sleeps an hour.
async fn sleeper(ctx: WorkflowContext, _: ()) -> Result<(), WorkflowError> {
    ctx.timer(HOUR).await;
    Ok(())
}

/// Sleeps a second, then continues as new with the next number, forever.
async fn chain(ctx: WorkflowContext, n: u32) -> Result<(), WorkflowError> {
    ctx.timer(Duration::from_secs(1)).await;
    Err(ctx.continue_as_new(&(n + 1)))
}

/// features.py's `Waiter`: returns the argument of the first `hello` signal.
async fn waiter(ctx: WorkflowContext, _: ()) -> Result<String, WorkflowError> {
    let greeting: String = ctx.signal_channel::<String>("hello").recv().await?;
    Ok(format!("got {greeting}"))
}

/// features.py's `Properties`: upserts search attributes, sleeps 100 ms, upserts the memo
/// (one key removed with a null).
async fn properties(ctx: WorkflowContext, _: ()) -> Result<String, WorkflowError> {
    ctx.upsert_search_attributes([
        ("CustomKeywordField", Sa::Keyword("upserted".into())),
        ("CustomIntField", Sa::Int(42)),
    ]);
    ctx.timer(Duration::from_millis(100)).await;
    ctx.upsert_memo([
        ("note", serde_json::json!("modified")),
        ("origin", serde_json::Value::Null),
    ]);
    Ok("properties set".into())
}

fn registry() -> Registry {
    let mut registry = Registry::new();
    registry
        .register_workflow("Sleeper", sleeper)
        .register_workflow("Chain", chain)
        .register_workflow("Waiter", waiter)
        .register_workflow("Properties", properties);
    registry
}

fn env() -> TestEnv {
    TestEnv::new(registry())
}

fn timed_out(r: &Result<(), TestClientError>) -> bool {
    matches!(
        r,
        Err(TestClientError::Closed {
            status: WorkflowStatus::TimedOut,
            ..
        })
    )
}

#[test]
fn execution_timeout_writes_the_real_servers_history() {
    let opts = StartOptions {
        execution_timeout: Some(Duration::from_secs(2)),
        ..StartOptions::default()
    };
    let run = env().run(move |client| async move {
        let h = client
            .start_with("Sleeper", "execution-timeout", &(), &opts)
            .await
            .unwrap();
        let r = h.result::<()>().await;
        (r, client.elapsed(), h.history().await.unwrap())
    });
    assert!(run.violations.is_empty(), "{:?}", run.violations);
    let (result, elapsed, ours) = run.value();
    assert!(timed_out(&result), "{result:?}");
    assert!(
        elapsed >= Duration::from_secs(2) && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );
    let theirs = fixture("execution-timeout");
    assert_eq!(types(&ours), types(&theirs));
    let close = ours.events.last().unwrap();
    match &close.attributes {
        sim::history::EventAttributes::WorkflowExecutionTimedOut(t) => {
            assert_eq!(t.retry_state, RetryState::Timeout)
        }
        other => panic!("{other:?}"),
    }
    let took = close.event_time.as_nanos() - ours.events[0].event_time.as_nanos();
    assert!((1_999_000_000..=2_000_000_000).contains(&took), "{took} ns");
}

#[test]
fn execution_timeout_ends_a_continue_as_new_chain() {
    let opts = StartOptions {
        execution_timeout: Some(Duration::from_millis(3500)),
        ..StartOptions::default()
    };
    let run = env().run(move |client| async move {
        let h = client
            .start_with("Chain", "chain", &0, &opts)
            .await
            .unwrap();
        (h.result::<()>().await, client.elapsed())
    });
    assert!(run.violations.is_empty(), "{:?}", run.violations);
    let outcome = run.outcome.clone();
    let (result, elapsed) = run.value();
    assert!(timed_out(&result), "{result:?}");
    assert!(elapsed < Duration::from_secs(4), "{elapsed:?}");
    let runs: Vec<&History> = outcome
        .histories
        .iter()
        .filter(|(k, _)| k.workflow_id == "chain")
        .map(|(_, h)| h)
        .collect();
    assert!(runs.len() >= 3, "{} runs", runs.len());
    let expirations: Vec<_> = runs
        .iter()
        .map(|h| match &h.events[0].attributes {
            sim::history::EventAttributes::WorkflowExecutionStarted(s) => {
                s.extra.get("workflowExecutionExpirationTime").cloned()
            }
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(expirations[0].is_some());
    assert!(
        expirations.iter().all(|e| *e == expirations[0]),
        "{expirations:?}"
    );
    let closes: Vec<EventType> = runs
        .iter()
        .map(|h| h.events.last().unwrap().event_type())
        .collect();
    let timed_out = closes
        .iter()
        .filter(|t| **t == EventType::WorkflowExecutionTimedOut)
        .count();
    let continued = closes
        .iter()
        .filter(|t| **t == EventType::WorkflowExecutionContinuedAsNew)
        .count();
    assert_eq!((timed_out, continued), (1, runs.len() - 1), "{closes:?}");
}

#[test]
fn signal_with_start_writes_the_real_servers_history() {
    let run = env().run(|client| async move {
        let opts = StartOptions::default();
        let h = client
            .signal_with_start(
                "Waiter",
                "signal-with-start",
                &(),
                "hello",
                "at start",
                &opts,
            )
            .await
            .unwrap();
        let r: String = h.result().await.unwrap();
        // A second signal-with-start on the closed id starts a new run, signalled at once.
        let again = client
            .signal_with_start("Waiter", "signal-with-start", &(), "hello", "again", &opts)
            .await
            .unwrap();
        let r2: String = again.result().await.unwrap();
        (r, r2, h.first_run_id() != again.first_run_id())
    });
    let outcome = run.outcome.clone();
    assert!(run.violations.is_empty(), "{:?}", run.violations);
    let (r, r2, two_runs) = run.value();
    assert_eq!((r.as_str(), r2.as_str()), ("got at start", "got again"));
    assert!(two_runs);
    let theirs = fixture("signal-with-start");
    for (key, ours) in &outcome.histories {
        assert_eq!(types(ours), types(&theirs), "{key}");
    }
    assert_eq!(outcome.histories.len(), 2);
}

/// The search attributes and memo of the event that carries them (start, upsert, modify).
fn properties_of(e: &sim::history::HistoryEvent) -> Option<String> {
    Some(match &e.attributes {
        A::WorkflowExecutionStarted(s) => format!("{:?} {:?}", s.memo, s.search_attributes),
        A::UpsertWorkflowSearchAttributes(u) => format!("{:?}", u.search_attributes),
        A::WorkflowPropertiesModified(m) => format!("{:?}", m.upserted_memo),
        _ => return None,
    })
}

#[test]
fn properties_port_writes_the_real_servers_history_and_replays_it() {
    let theirs = fixture("properties");
    let opts = StartOptions {
        memo: Some(memo([("origin", serde_json::json!("client"))])),
        search_attributes: Some(search_attributes([(
            "CustomKeywordField",
            Sa::Keyword("started".into()),
        )])),
        ..StartOptions::default()
    };
    let run = env().run(move |client| async move {
        let h = client
            .start_with("Properties", "properties", &(), &opts)
            .await
            .unwrap();
        let r: String = h.result().await.unwrap();
        (r, h.history().await.unwrap(), h.describe().await.unwrap())
    });
    assert!(run.violations.is_empty(), "{:?}", run.violations);
    let (result, ours, described) = run.value();
    assert_eq!(result, "properties set");
    assert_eq!(types(&ours), types(&theirs));
    // The same search attributes and memo, byte for byte, in the same events.
    let props = |h: &History| -> Vec<(usize, String)> {
        h.events
            .iter()
            .enumerate()
            .filter_map(|(i, e)| properties_of(e).map(|p| (i, p)))
            .collect()
    };
    assert_eq!(props(&ours), props(&theirs));
    assert_eq!(props(&ours).len(), 3);
    let names: Vec<&str> = described
        .search_attributes
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(names, ["CustomIntField", "CustomKeywordField"]);
    let memo_keys: Vec<&str> = described.memo.keys().map(String::as_str).collect();
    assert_eq!(memo_keys, ["note"]);
    // The real history replays against the port.
    match sim::replay(&registry(), &theirs) {
        ReplayOutcome::Closed { result, close } => {
            assert_eq!(close, EventType::WorkflowExecutionCompleted);
            let r: String = result.unwrap().unwrap().decode_first().unwrap();
            assert_eq!(r, "properties set");
        }
        other => panic!("{other:?}"),
    }
}

/// Code that no longer upserts the search attributes history recorded is non-deterministic,
/// and the error names the recorded event.
#[test]
fn replaying_properties_without_the_upsert_is_non_deterministic() {
    async fn forgetful(ctx: WorkflowContext, _: ()) -> Result<String, WorkflowError> {
        ctx.timer(Duration::from_millis(100)).await;
        ctx.upsert_memo([("note", serde_json::json!("modified"))]);
        Ok("properties set".into())
    }
    let mut r = Registry::new();
    r.register_workflow("Properties", forgetful);
    match sim::replay(&r, &fixture("properties")) {
        ReplayOutcome::Failed(e) => {
            let text = e.to_string();
            assert!(text.contains("UpsertWorkflowSearchAttributes"), "{text}");
        }
        other => panic!("{other:?}"),
    }
}
