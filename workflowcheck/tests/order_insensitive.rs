//! Hash iteration whose result does not depend on order is not flagged, consistently
//! (issue #13, point 4): reductions through order-preserving adapters, results sorted before
//! use, results collected into sets or sorted maps. Order-dependent uses still are.

use workflowcheck::check_sources;
use workflowcheck::config::Config;

fn flagged_lines(src: &str) -> Vec<u32> {
    let r = check_sources(&[("wf.rs", src)], &Config::default());
    r.findings
        .iter()
        .filter(|f| f.rule == "hash-iteration")
        .map(|f| f.line)
        .collect()
}

#[test]
fn reductions_sorts_and_sets_are_order_insensitive() {
    let src = "use std::collections::{BTreeSet, HashMap};\n\
        pub async fn wf(ctx: WorkflowContext) {\n\
            let m: HashMap<u32, u32> = HashMap::new();\n\
            let a = m.values().filter(|v| **v > 1).count();\n\
            let b = m.values().map(|v| v * 2).sum::<u32>();\n\
            let c = m.keys().any(|k| *k == 3);\n\
            let d = m.values().copied().max();\n\
            let mut keys: Vec<u32> = m.keys().cloned().collect();\n\
            keys.sort();\n\
            let set: BTreeSet<u32> = m.keys().copied().collect();\n\
            let set2 = m.keys().copied().collect::<BTreeSet<u32>>();\n\
            let first: Vec<u32> = m.keys().cloned().collect();\n\
            for k in m.keys().filter(|k| **k > 0) { ctx.log(k); }\n\
            let firsts = m.values().take(3).count();\n\
        }\n";
    // Not sorted, a loop through a filter, a `take` (order decides which three).
    assert_eq!(flagged_lines(src), [12, 13, 14]);
}

/// `side_effect`/`local_activity` closures are recorded only when called on the workflow
/// context; the same names on another receiver are ordinary code.
#[test]
fn side_effect_suppresses_only_on_the_context() {
    let src = "pub async fn wf(ctx: WorkflowContext, cache: Cache) {\n\
            let a = ctx.side_effect(|| std::time::SystemTime::now());\n\
            let b = cache.side_effect(|| std::time::SystemTime::now());\n\
        }\n";
    let r = check_sources(&[("wf.rs", src)], &Config::default());
    let lines: Vec<u32> = r.findings.iter().map(|f| f.line).collect();
    assert_eq!(lines, [3], "{:?}", r.findings);
}

/// Process and thread identity are host state (the `env` rule).
#[test]
fn process_and_thread_identity_are_flagged() {
    let src = "pub async fn wf(ctx: WorkflowContext) {\n\
            let pid = std::process::id();\n\
            let tid = std::thread::current().id();\n\
        }\n";
    let r = check_sources(&[("wf.rs", src)], &Config::default());
    let found: Vec<(&str, u32)> = r
        .findings
        .iter()
        .map(|f| (f.rule.as_str(), f.line))
        .collect();
    assert_eq!(found, [("env", 2), ("env", 3)], "{:?}", r.findings);
}
