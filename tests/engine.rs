//! The engine under simulation: fault-free runs write Temporal's event sequences.
#![cfg(madsim)]

use std::sync::Arc;

use sim::faults::FaultPlan;
use sim::history::{json::parse_history, EventType, History};
use sim::scenario::{run, Outcome};

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
