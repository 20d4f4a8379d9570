//! A local activity whose retry backoff exceeds the local retry threshold (a minute), in a
//! workflow written with the official Rust SDK: as sdk-core does it, the attempts stop with a
//! `core_local_activity` marker carrying `backoff`, the SDK waits with a durable timer and
//! schedules the next attempt (core's DoBackoff), and the history replays.
#![cfg(madsim)]

use std::time::Duration;

use sim::history::{EventAttributes as A, EventType};
use sim::sdk::{parse_local_activity_marker, ReplayOutcome, LOCAL_ACTIVITY_MARKER_NAME};
use sim::{Registry, TestEnv};
use sim_official::OfficialSdk;
use temporalio_common::RetryPolicy;
use temporalio_macros::{activities, workflow, workflow_methods};
use temporalio_sdk::activities::{ActivityContext, ActivityError};
use temporalio_sdk::{LocalActivityOptions, WorkflowContext, WorkflowResult};

pub struct Flaky;

#[activities]
impl Flaky {
    /// Fails its first two attempts.
    #[activity]
    pub async fn third_time_lucky(ctx: ActivityContext, _n: u32) -> Result<String, ActivityError> {
        let attempt = ctx.info().attempt;
        if attempt < 3 {
            return Err(ActivityError::Application(Box::new(
                temporalio_sdk::ApplicationFailure::new(format!("attempt {attempt} failed")),
            )));
        }
        Ok(format!("ok on attempt {attempt}"))
    }
}

#[workflow]
#[derive(Default)]
pub struct SlowRetries;

#[workflow_methods]
impl SlowRetries {
    #[run]
    pub async fn run(ctx: &mut WorkflowContext<Self>, _input: ()) -> WorkflowResult<String> {
        let opts = LocalActivityOptions::builder()
            .start_to_close_timeout(Duration::from_secs(5))
            // The SDK's default bound on all attempts is 100 s: room for two 2-minute waits.
            .schedule_to_close_timeout(Duration::from_secs(3600))
            .retry_policy(
                RetryPolicy::builder()
                    .initial_interval(Duration::from_secs(120))
                    .backoff_coefficient(1.0)
                    .maximum_attempts(5)
                    .build(),
            )
            .build();
        Ok(ctx
            .execute_local_activity(Flaky::third_time_lucky, 0u32, opts)
            .await?)
    }
}

fn registry() -> Registry {
    let mut r = Registry::new();
    OfficialSdk::new()
        .workflow::<SlowRetries>()
        .activity(Flaky::third_time_lucky)
        .register(&mut r);
    r
}

#[test]
fn a_local_backoff_over_a_minute_becomes_a_timer_and_the_next_attempt() {
    let run = TestEnv::new(registry()).run(|client| async move {
        let h = client
            .start_payloads("SlowRetries", "slow", sim_official::encode(&()).unwrap())
            .await
            .unwrap();
        let out = h.result_payloads().await;
        (out, client.elapsed())
    });
    assert!(run.violations.is_empty(), "{:?}", run.violations);
    let (out, elapsed) = run.try_value().cloned().expect("script finished");
    let h = run.history("slow").unwrap();
    let out = out
        .unwrap_or_else(|e| panic!("{e:?}\n{}", sim::history::to_json(h)))
        .expect("a result");
    assert_eq!(
        out.decode_first::<String>().unwrap(),
        "ok on attempt 3",
        "the third attempt ran after two timers"
    );
    assert!(
        elapsed >= Duration::from_secs(240),
        "two 2-minute timers: {elapsed:?}"
    );
    let h = run.history("slow").unwrap();
    let markers: Vec<(u32, bool)> = h
        .events
        .iter()
        .filter_map(|e| match &e.attributes {
            A::MarkerRecorded(m) if m.marker_name == LOCAL_ACTIVITY_MARKER_NAME => {
                let d = parse_local_activity_marker(&m.details).expect("core's marker data");
                Some((d.attempt, d.backoff.is_some()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(markers, [(1, true), (2, true), (3, false)], "{h:?}");
    let timers = h
        .events
        .iter()
        .filter(|e| e.event_type() == EventType::TimerFired)
        .count();
    assert_eq!(timers, 2);
    match sim::replay(&registry(), h) {
        ReplayOutcome::Closed { close, .. } => {
            assert_eq!(close, EventType::WorkflowExecutionCompleted)
        }
        other => panic!("{other:?}"),
    }
}
