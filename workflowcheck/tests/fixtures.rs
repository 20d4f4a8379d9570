//! Snapshot tests over `fixtures/workflowcheck/`, plus the fixtures' naming convention:
//! every `bad_*` workflow is reported, no `good_*` workflow is.

use std::path::{Path, PathBuf};
use workflowcheck::config::Config;
use workflowcheck::report::{self, Format, Report};
use workflowcheck::{check, Options};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/workflowcheck")
}

fn scan(group: &str) -> Report {
    let root = fixtures();
    let path = root.join(group);
    let config = match Config::discover(&path) {
        Some(c) => Config::load(&c).expect("fixture config is valid"),
        None => Config::default(),
    };
    let mut opts = Options::new(vec![path], config);
    opts.display_root = Some(root);
    check(&opts)
}

fn snapshot(group: &str) -> Report {
    let report = scan(group);
    insta::assert_snapshot!(
        format!("{group}_human"),
        report::render(&report, Format::Human, false, false)
    );
    insta::assert_snapshot!(
        format!("{group}_json"),
        report::render(&report, Format::Json, false, false)
    );
    report
}

/// Workflow names (qualified paths) with a segment starting with `prefix`.
fn marked(names: &[String], prefix: &str) -> bool {
    names
        .iter()
        .any(|n| n.split("::").any(|s| s.starts_with(prefix)))
}

fn check_convention(report: &Report, expected_bad: &[&str]) {
    for f in &report.findings {
        assert!(
            !marked(&f.workflows, "good_"),
            "a good_ workflow was reported: {f:?}"
        );
    }
    for bad in expected_bad {
        assert!(
            report
                .findings
                .iter()
                .any(|f| f.workflows.iter().any(|w| w.contains(bad))),
            "{bad} was not reported"
        );
    }
    assert!(report.errors.is_empty(), "{:?}", report.errors);
}

#[test]
fn rules() {
    let r = snapshot("rules");
    let mut rules: Vec<&str> = r.findings.iter().map(|f| f.rule.as_str()).collect();
    rules.sort_unstable();
    rules.dedup();
    let all: Vec<&str> = {
        let mut v: Vec<&str> = workflowcheck::rules::ALL.iter().map(|m| m.id).collect();
        v.sort_unstable();
        v
    };
    assert_eq!(rules, all, "every rule has a bad case");
    check_convention(
        &r,
        &[
            "bad_deadline",
            "bad_stamp_via_helper",
            "bad_backoff",
            "bad_ids",
            "bad_fan_out",
            "bad_mailbox",
            "bad_race",
            "bad_payout",
            "bad_counters",
            "bad_io",
            "bad_region",
            "bad_logging",
            "bad_transfer",
            "bad_blocking",
        ],
    );
    // A user type named `Utc` is not chrono's, and clients may read the clock.
    assert!(!r
        .findings
        .iter()
        .any(|f| f.source_line.contains("clock::Utc::now")));
    assert!(!r
        .findings
        .iter()
        .any(|f| f.workflows.iter().any(|w| w.contains("client_submit"))));
}

#[test]
fn styles() {
    let r = snapshot("styles");
    check_convention(
        &r,
        &[
            "bad_money_transfer",
            "BadGreeting::run",
            "BadGreeting::greet",
            "bad_legacy_timer",
            "bad_register",
            "bad_registry",
            "SignupWorkflowImpl::run",
        ],
    );
    // The chain through two helpers in the project's SDK style.
    let f = r
        .findings
        .iter()
        .find(|f| {
            f.workflows
                .iter()
                .any(|w| w.ends_with("bad_money_transfer"))
        })
        .expect("bad_money_transfer reported");
    let fns: Vec<&str> = f.chain.iter().map(|s| s.function.as_str()).collect();
    assert_eq!(
        fns,
        [
            "durasim::bad_money_transfer",
            "durasim::validate",
            "durasim::PaymentDetails::describe"
        ]
    );
    // Activities, side effects and Restate's ctx.run are safe zones.
    assert!(!r
        .findings
        .iter()
        .any(|f| f.workflows.iter().any(|w| w.contains("withdraw"))));
    assert!(!r
        .findings
        .iter()
        .any(|f| f.source_line.contains("side_effect")));
    assert!(!r.findings.iter().any(|f| f.source_line.contains("ctx.run")));
    assert!(!r
        .findings
        .iter()
        .any(|f| f.source_line.contains("Hello, {name}")));
}

#[test]
fn resolution() {
    let r = snapshot("resolution");
    check_convention(&r, &["bad_cross_file", "bad_recursive"]);
    // One finding per operation however many workflows reach it; the shortest chain.
    let clock: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.source_line.contains("Clock::now"))
        .collect();
    assert_eq!(clock.len(), 1);
    assert_eq!(
        clock[0].workflows,
        ["app::bad_cross_file", "app::bad_recursive"]
    );
    assert_eq!(clock[0].chain.len(), 2, "{:?}", clock[0].chain);
    assert_eq!(clock[0].file, "resolution/app/time_utils.rs");
}

#[test]
fn suppressions() {
    let r = snapshot("suppress");
    let rules: Vec<&str> = r.findings.iter().map(|f| f.rule.as_str()).collect();
    assert_eq!(
        rules,
        [
            "unused-suppression",
            "wall-clock",
            "invalid-suppression",
            "wall-clock",
            "invalid-suppression"
        ]
    );
    assert_eq!(r.suppressed, 2);
}

#[test]
fn configured() {
    let r = snapshot("configured");
    check_convention(&r, &["bad_billing", "bad_attribute_marked"]);
    assert!(
        r.findings.iter().all(|f| f.rule != "env"),
        "env is allowed by the config"
    );
    assert!(r
        .findings
        .iter()
        .any(|f| f.rule == "stdio" && f.severity == "error"));
    assert!(!r.findings.iter().any(|f| f.file.contains("generated")));
    assert!(!r.findings.iter().any(|f| f.source_line.contains("Uuid")));
}

/// The project's own example workflows are clean, except the deliberately planted bugs.
#[test]
fn project_examples_are_clean_except_planted_bugs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/src");
    let report = check(&Options::new(vec![root], Config::default()));
    assert!(report.workflows_found > 0);
    for f in report.findings.iter().filter(|f| f.is_error()) {
        assert!(
            f.file.ends_with("planted.rs"),
            "unexpected finding in the examples: {f:?}"
        );
    }
}
