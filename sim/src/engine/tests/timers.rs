//! Durable timers.

use super::*;

#[test]
fn timers_fire_exactly_at_their_deadline_and_canceled_timers_never_fire() {
    let mut h = H::new();
    let key = h.start("timers");
    h.advance_to(at(1));
    h.run_wft(vec![timer("a", secs(30)), timer("b", secs(40))]);
    let events = h.events(&key);
    assert_eq!(
        types(&events[3..]),
        seq("WorkflowTaskCompleted TimerStarted TimerStarted")
    );
    assert_eq!(h.eng.next_wakeup(), Some(at(31)));
    h.advance_to(at_ms(30_999));
    assert_eq!(h.events(&key).len(), 6, "not a millisecond early");
    h.advance_to(at(31));
    let events = h.events(&key);
    assert_eq!(types(&events[6..]), seq("TimerFired WorkflowTaskScheduled"));
    assert_eq!(events[6].event_time, at(31));
    match &events[6].attributes {
        A::TimerFired(f) => {
            assert_eq!(f.timer_id, "a");
            assert_eq!(f.started_event_id, 5);
        }
        other => panic!("{other:?}"),
    }
    h.run_wft(vec![Command::CancelTimer {
        timer_id: "b".into(),
    }]);
    assert_eq!(
        types(&h.events(&key)[8..]),
        seq("WorkflowTaskStarted WorkflowTaskCompleted TimerCanceled")
    );
    assert_eq!(h.eng.next_wakeup(), None);
    h.advance_to(at(100));
    assert_eq!(h.events(&key).len(), 11);
}
