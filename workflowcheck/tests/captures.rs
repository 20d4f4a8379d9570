//! Shared mutable state captured by workflow closures (issue #13, point 4): an
//! `Arc<AtomicUsize>`, `Arc<Mutex<_>>` or `Rc<RefCell<_>>` that a closure registered as a
//! workflow captures from the function registering it is reported where the workflow uses
//! it, under `global-state`, naming the workflow; state the workflow makes itself is not.

use workflowcheck::check_sources;
use workflowcheck::config::Config;
use workflowcheck::model::Finding;

fn findings(src: &str) -> Vec<Finding> {
    let r = check_sources(&[("wf.rs", src)], &Config::default());
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    r.findings
}

fn lines(src: &str) -> Vec<u32> {
    findings(src)
        .iter()
        .filter(|f| f.rule == "global-state")
        .map(|f| f.line)
        .collect()
}

#[test]
fn a_captured_counter_is_reported_with_its_workflow() {
    let src = "use std::sync::{Arc, atomic::{AtomicUsize, Ordering}};\n\
        pub fn setup(worker: &mut Worker) {\n\
            let runs: Arc<AtomicUsize> = Default::default();\n\
            let seen = runs.clone();\n\
            worker.register_wf(\"w\", move |ctx: WfContext| async move {\n\
                if seen.load(Ordering::SeqCst) > 1 { ctx.cancel(); }\n\
            });\n\
        }\n";
    let f = findings(src);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!((f[0].rule.as_str(), f[0].line), ("global-state", 6));
    assert!(
        f[0].message
            .contains("`seen` is an `Arc` of `AtomicUsize` captured"),
        "{}",
        f[0].message
    );
    assert_eq!(f[0].workflows.len(), 1);
    assert!(f[0].workflows[0].starts_with("wf::setup::{closure"));
    assert_eq!(f[0].chain.len(), 1, "{:?}", f[0].chain);
}

#[test]
fn shadowed_cloned_and_own_state_is_not_reported() {
    let src = "use std::sync::{Arc, Mutex};\n\
        pub fn setup(worker: &mut Worker) {\n\
            let state = Arc::new(Mutex::new(Vec::new()));\n\
            let names = vec![String::new()];\n\
            worker.register_wf(\"w\", move |ctx: WfContext| {\n\
                let copy = state.clone();\n\
                let n = names.iter().map(|state| state.len()).sum::<usize>();\n\
                let state = n + 1;\n\
                let made = Arc::new(Mutex::new(state));\n\
                register_inner(move |inner: WfContext| made.lock());\n\
                async move { copy.lock(); }\n\
            });\n\
        }\n";
    // `copy` is the captured state under another name; the closure parameter and the later
    // `let state` shadow it; `made` is the outer workflow's own state, so the workflow
    // closure inside it does not share it with code outside the workflows.
    assert_eq!(lines(src), [11]);
}

#[test]
fn captured_state_handed_to_a_helper_is_reported_where_it_escapes() {
    let src = "use std::sync::{Arc, atomic::{AtomicUsize, Ordering}};\n\
        fn over_limit(n: &AtomicUsize) -> bool { n.load(Ordering::SeqCst) > 3 }\n\
        fn bump(n: Arc<AtomicUsize>) { n.fetch_add(1, Ordering::SeqCst); }\n\
        pub fn setup(worker: &mut Worker) {\n\
            let runs = Arc::new(AtomicUsize::new(0));\n\
            worker.register_wf(\"w\", move |ctx: WfContext| async move {\n\
                if over_limit(&runs) { ctx.cancel(); }\n\
                bump(runs.clone());\n\
                let mine = Arc::new(AtomicUsize::new(0));\n\
                bump(mine.clone());\n\
                drop(Arc::clone(&runs));\n\
            });\n\
        }\n";
    assert_eq!(lines(src), [7, 8], "{:#?}", findings(src));
}
