//! Entry points as real projects write them (issue #13, points 2 and 3): Restate handler
//! traits, duroxide's untyped registered closures, runtimes' own functions taking their
//! context (by reference, or by value as the SDK's handler dispatch does), `std::task::Context`, test code on request, and
//! `--list-entry-points`.

use std::process::Command;
use workflowcheck::config::Config;
use workflowcheck::model::Report;
use workflowcheck::{check, Options};

/// Writes `(relative path, text)` files under a fresh directory and scans it.
fn scan_with(test: &str, files: &[(&str, &str)], config: Config, include_tests: bool) -> Report {
    let root = write(test, files);
    let mut opts = Options::new(vec![root.clone()], config);
    opts.display_root = Some(root);
    opts.include_tests = include_tests;
    check(&opts)
}

fn write(test: &str, files: &[(&str, &str)]) -> std::path::PathBuf {
    let root = std::env::temp_dir().join(format!("wfc-entry-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    for (path, text) in files {
        let p = root.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    root
}

fn scan(test: &str, files: &[(&str, &str)]) -> Report {
    scan_with(test, files, Config::default(), false)
}

fn entries(r: &Report) -> Vec<String> {
    r.entry_points.iter().map(|e| e.function.clone()).collect()
}

const MANIFEST: &str = "[package]\nname = \"app\"\nversion = \"0.1.0\"\n";

#[test]
fn restate_service_object_and_workflow_handlers() {
    let r = scan(
        "restate",
        &[
            ("Cargo.toml", MANIFEST),
            (
                "src/lib.rs",
                "use restate_sdk::prelude::*;\n\
                 #[restate_sdk::service]\n\
                 pub trait Greeter { async fn greet(name: String) -> HandlerResult<String>; }\n\
                 pub struct GreeterImpl;\n\
                 impl Greeter for GreeterImpl {\n\
                     async fn greet(&self, ctx: Context<'_>, name: String) -> HandlerResult<String> {\n\
                         let _ = std::time::SystemTime::now();\n\
                         Ok(name)\n\
                     }\n\
                 }\n\
                 #[restate_sdk::object]\n\
                 pub trait Counter { async fn add(n: u64) -> HandlerResult<u64>; }\n\
                 pub struct CounterImpl;\n\
                 impl Counter for CounterImpl {\n\
                     async fn add(&self, ctx: ObjectContext<'_>, n: u64) -> HandlerResult<u64> { Ok(n) }\n\
                 }\n\
                 #[workflow]\n\
                 pub trait SignUp { async fn run(email: String) -> HandlerResult<bool>; }\n\
                 pub struct SignUpImpl;\n\
                 impl SignUp for SignUpImpl {\n\
                     async fn run(&self, ctx: WorkflowContext<'_>, email: String) -> HandlerResult<bool> { Ok(true) }\n\
                 }\n\
                 impl std::future::Future for GreeterImpl {\n\
                     type Output = ();\n\
                     fn poll(self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> { std::task::Poll::Ready(()) }\n\
                 }\n",
            ),
        ],
    );
    assert_eq!(
        entries(&r),
        [
            "app::CounterImpl::add",
            "app::GreeterImpl::greet",
            "app::SignUpImpl::run"
        ]
    );
    assert_eq!(r.findings.len(), 1, "{:?}", r.findings);
    assert_eq!(r.findings[0].rule, "wall-clock");
}

#[test]
fn a_configured_context_is_not_std_task_context() {
    let config =
        Config::parse("[entry-points]\ntypes = [\"Context\"]\n", None).expect("valid config");
    let r = scan_with(
        "context",
        &[
            ("Cargo.toml", MANIFEST),
            (
                "src/lib.rs",
                "use std::task::Context;\n\
                 pub struct Fut;\n\
                 impl Fut { pub fn poll_it(&mut self, cx: &mut Context<'_>) { let _ = std::time::Instant::now(); } }\n\
                 pub fn other(cx: &mut core::task::Context<'_>) {}\n\
                 pub async fn handler(ctx: restate::Context<'_>) {}\n",
            ),
        ],
        config,
        false,
    );
    assert_eq!(entries(&r), ["app::handler"]);
}

#[test]
fn duroxide_untyped_closures_and_the_runtimes_own_functions() {
    let r = scan(
        "duroxide",
        &[
            (
                "app/Cargo.toml",
                "[package]\nname = \"app\"\nversion = \"0.1.0\"\n",
            ),
            (
                "app/src/lib.rs",
                "use duroxide::{OrchestrationRegistry, ActivityRegistry};\n\
                 pub fn registry() -> OrchestrationRegistry {\n\
                     OrchestrationRegistry::builder()\n\
                         .register(\"Greet\", |ctx, name: String| async move {\n\
                             let _ = std::time::SystemTime::now();\n\
                             Ok(name)\n\
                         })\n\
                         .register_versioned(\"Greet\", \"2.0.0\", |ctx, name| async move { duroxide::internal_helper(&ctx); Ok(name) })\n\
                         .build()\n\
                 }\n\
                 pub fn activities() -> ActivityRegistry {\n\
                     ActivityRegistry::builder().register(\"Send\", |ctx, x: String| async move {\n\
                         let _ = std::time::SystemTime::now(); Ok(x) })\n\
                         .build()\n\
                 }\n\
                 pub fn metrics(r: &mut prometheus::Registry) { r.register(|x| x + 1); }\n",
            ),
            (
                "duroxide/Cargo.toml",
                "[package]\nname = \"duroxide\"\nversion = \"0.1.0\"\n",
            ),
            (
                "duroxide/src/lib.rs",
                "pub struct OrchestrationContext;\n\
                 pub struct ReplayEngine;\n\
                 impl ReplayEngine {\n\
                     pub fn apply(&mut self, ctx: &OrchestrationContext) { let _ = std::time::Instant::now(); }\n\
                 }\n\
                 pub fn internal_helper(ctx: &OrchestrationContext) { CURRENT.with(|c| c.set(2)); }\n\
                 thread_local! { static CURRENT: std::cell::Cell<u8> = std::cell::Cell::new(0); }\n\
                 pub struct Dispatch;\n\
                 impl Dispatch {\n\
                     pub fn dispatch(self, ctx: OrchestrationContext) { CURRENT.with(|c| c.set(1)); }\n\
                 }\n",
            ),
        ],
    );
    let found = entries(&r);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found
            .iter()
            .all(|e| e.starts_with("app::registry::{closure#")),
        "{found:?}"
    );
    assert_eq!(r.findings.len(), 1, "{:?}", r.findings);
    assert_eq!(r.findings[0].line, 5);
}

#[test]
fn test_code_is_analysed_on_request() {
    let files = [
        ("Cargo.toml", MANIFEST),
        (
            "src/lib.rs",
            "pub async fn wf(ctx: WorkflowContext) {}\n\
             #[cfg(test)]\n\
             mod tests {\n\
                 async fn test_wf(ctx: WorkflowContext) { let _ = std::time::Instant::now(); }\n\
             }\n",
        ),
        (
            "tests/integration.rs",
            "static HITS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);\n\
             async fn counting_wf(ctx: WorkflowContext) { std::thread::sleep(std::time::Duration::from_secs(1)); }\n\
             #[test]\n\
             fn run_it() { let _ = std::time::SystemTime::now(); }\n",
        ),
    ];
    let without = scan_with("tests-off", &files, Config::default(), false);
    assert_eq!(entries(&without), ["app::wf"]);
    assert!(without.findings.is_empty(), "{:?}", without.findings);
    let with = scan_with("tests-on", &files, Config::default(), true);
    assert_eq!(with.entry_points.len(), 3, "{:?}", entries(&with));
    let rules: Vec<&str> = with.findings.iter().map(|f| f.rule.as_str()).collect();
    assert_eq!(rules, ["wall-clock", "sleep"], "{:?}", with.findings);
}

#[test]
fn list_entry_points_prints_what_and_why() {
    let root = write(
        "list",
        &[(
            "wf.rs",
            "pub async fn wf(ctx: WorkflowContext) {}\nfn helper(x: u8) {}\n",
        )],
    );
    let out = Command::new(env!("CARGO_BIN_EXE_workflowcheck"))
        .arg(&root)
        .arg("--list-entry-points")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("wf.rs:1:14"), "{text}");
    assert!(
        text.contains("takes a `WorkflowContext` parameter"),
        "{text}"
    );
    assert!(text.ends_with("workflowcheck: 1 entry point\n"), "{text}");
}

#[test]
fn untyped_closures_bound_to_a_let_and_registered_later_are_entry_points() {
    let r = scan(
        "let-bound",
        &[
            ("Cargo.toml", MANIFEST),
            (
                "src/lib.rs",
                "use duroxide::OrchestrationRegistry;\n\
                 pub fn registry() -> OrchestrationRegistry {\n\
                     let greet = |ctx, name: String| async move {\n\
                         let _ = std::time::SystemTime::now();\n\
                         Ok(name)\n\
                     };\n\
                     let unused = |x: u8| x + 1;\n\
                     OrchestrationRegistry::builder().register(\"Greet\", greet).build()\n\
                 }\n\
                 pub fn worker(w: &mut Worker) {\n\
                     let wf = move |ctx| async move { std::thread::sleep(std::time::Duration::from_secs(1)); };\n\
                     w.register_wf(\"sleepy\", wf);\n\
                 }\n\
                 pub fn metrics(r: &mut prometheus::Registry) {\n\
                     let inc = |x: u64| { let _ = std::time::Instant::now(); x + 1 };\n\
                     r.register(inc);\n\
                 }\n",
            ),
        ],
    );
    let found = entries(&r);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found[0].starts_with("app::registry::{closure#3:"),
        "{found:?}"
    );
    assert!(
        found[1].starts_with("app::worker::{closure#11:"),
        "{found:?}"
    );
    let rules: Vec<(&str, u32)> = r
        .findings
        .iter()
        .map(|f| (f.rule.as_str(), f.line))
        .collect();
    assert_eq!(
        rules,
        [("wall-clock", 4), ("sleep", 11)],
        "{:?}",
        r.findings
    );
}

#[test]
fn a_closure_taking_the_context_inside_the_crate_defining_it_is_runtime_code() {
    let r = scan(
        "runtime-closure",
        &[
            (
                "sdk/Cargo.toml",
                "[package]\nname = \"sdk\"\nversion = \"0.1.0\"\n",
            ),
            (
                "sdk/src/lib.rs",
                "pub struct WorkflowContext;\n\
                 thread_local! { static CACHE: std::cell::Cell<u8> = std::cell::Cell::new(0); }\n\
                 pub fn register<F: Fn(WorkflowContext)>(f: F) -> Box<dyn Fn(WorkflowContext)> {\n\
                     Box::new(move |ctx: WorkflowContext| { CACHE.with(|c| c.set(1)); f(ctx) })\n\
                 }\n",
            ),
            ("app/Cargo.toml", "[package]\nname = \"app\"\nversion = \"0.1.0\"\n\n[dependencies]\nsdk = { path = \"../sdk\" }\n"),
            (
                "app/src/lib.rs",
                "use sdk::WorkflowContext;\n\
                 pub fn setup() {\n\
                     sdk::register(|ctx: WorkflowContext| { let _ = std::time::SystemTime::now(); });\n\
                 }\n",
            ),
        ],
    );
    let found = entries(&r);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("app::setup::{closure#"), "{found:?}");
    let rules: Vec<&str> = r.findings.iter().map(|f| f.rule.as_str()).collect();
    assert_eq!(rules, ["wall-clock"], "{:?}", r.findings);
}
