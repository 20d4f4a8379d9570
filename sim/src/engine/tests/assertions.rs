//! The engine's own assertions (`history_builder.rs`, `core.rs`): each one fires on the broken
//! state or call it guards against. The state is broken by hand here; no request can do it.

use std::sync::Arc;

use crate::history::{ActivityTaskCompleted, Extra, WorkflowExecutionSignaled};

use super::*;

fn signaled() -> A {
    A::WorkflowExecutionSignaled(Arc::new(WorkflowExecutionSignaled {
        signal_name: "poke".to_string(),
        input: None,
        identity: "test".to_string(),
        external_workflow_execution: None,
        extra: Extra::new(),
    }))
}

/// Breaks a run's mutable state, then lets a signal touch the run so that its step ends.
fn corrupt_then_touch(h: &mut H, key: &ExecKey, corrupt: impl FnOnce(&mut MutableState)) {
    let run = h.eng.runs.get(key).expect("run");
    corrupt(h.eng.ms_mut(run));
    h.signal(key, "poke", "poke-1");
}

#[test]
#[should_panic(expected = "nothing is appended to a closed run")]
fn appending_to_a_closed_run_panics() {
    let mut h = H::new();
    let key = started_with(&mut h, "closed", vec![complete_wf()]);
    let run = h.eng.runs.get(&key).expect("run");
    h.eng.append(run, h.now, signaled());
}

#[test]
#[should_panic(expected = "no event from the future")]
fn an_event_from_the_future_panics() {
    let mut h = H::new();
    let key = h.start("future");
    let run = h.eng.runs.get(&key).expect("run");
    h.eng.append(run, h.now.plus(secs(1)), signaled());
}

#[test]
#[should_panic(expected = "event time never moves back")]
fn an_event_older_than_the_one_before_it_panics() {
    let mut h = H::new();
    h.advance_to(at(5));
    let key = h.start("past");
    let run = h.eng.runs.get(&key).expect("run");
    h.eng.append(run, at(1), signaled());
}

#[test]
#[should_panic(expected = "a step never goes back in time")]
fn a_step_back_in_time_panics() {
    let mut h = H::new();
    h.advance_to(at(10));
    h.eng.tick(at(5));
}

#[test]
#[should_panic(expected = "a step starts with nothing touched")]
fn a_step_left_unfinished_is_caught_by_the_next() {
    let mut h = H::new();
    let key = h.start("unfinished");
    let run = h.eng.runs.get(&key).expect("run");
    h.eng.touch(run);
    h.advance(secs(1));
}

#[test]
#[should_panic(expected = "events are buffered only while a workflow task runs")]
fn buffered_events_without_a_running_task_are_caught_at_step_end() {
    let mut h = H::new();
    let key = started_with(&mut h, "buffered", vec![timer("t", secs(60))]);
    let at_now = h.now;
    corrupt_then_touch(&mut h, &key, |ms| ms.buffered.push((at_now, signaled())));
}

#[test]
#[should_panic(expected = "pending activity 3 has its Scheduled event")]
fn a_pending_activity_without_its_scheduled_event_is_caught_at_step_end() {
    let mut h = H::new();
    let key = started_with(&mut h, "no-scheduled", vec![schedule(act("1"))]);
    corrupt_then_touch(&mut h, &key, |ms| {
        let mut a = (*ms.activities[&5]).clone();
        a.scheduled_event_id = 3;
        ms.activities.insert(3, Arc::new(a));
    });
}

#[test]
#[should_panic(expected = "a buffered activity close follows its Started event")]
fn a_buffered_close_without_its_started_event_is_caught_at_flush() {
    let mut h = H::new();
    let key = started_with(&mut h, "no-started", vec![schedule(act("1"))]);
    h.signal(&key, "go", "go-1");
    let task = h.poll_wft();
    let run = h.eng.runs.get(&key).expect("run");
    let close = A::ActivityTaskCompleted(Arc::new(ActivityTaskCompleted {
        result: None,
        scheduled_event_id: 5,
        started_event_id: -1,
        identity: WORKER.to_string(),
        extra: Extra::new(),
    }));
    let at_now = h.now;
    h.eng.ms_mut(run).buffered.push((at_now, close));
    h.complete(&task, vec![]);
}
