//! Type-aware call resolution (issue #13, point 1): a method call reaches an implementation
//! only through its receiver's type (a field's, a return value's, a trait object's or a
//! generic bound's, then every implementation in the tree), with the arguments passed and
//! across crates only to public items. A call whose receiver's type is unknown reaches
//! nothing.

use workflowcheck::config::Config;
use workflowcheck::model::Report;
use workflowcheck::{check, Options};

/// Writes one package per `(name, lib.rs)` under a fresh directory and scans it.
fn scan(test: &str, crates: &[(&str, &str)]) -> Report {
    let root = std::env::temp_dir().join(format!("wfc-res-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    for (name, lib) in crates {
        let dir = root.join(name);
        std::fs::create_dir_all(dir.join("src")).unwrap();
        let manifest = format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\n");
        std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
        std::fs::write(dir.join("src/lib.rs"), lib).unwrap();
    }
    let mut opts = Options::new(vec![root.clone()], Config::default());
    opts.display_root = Some(root);
    let report = check(&opts);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    report
}

fn rules_at(report: &Report) -> Vec<String> {
    report
        .findings
        .iter()
        .map(|f| format!("{} {}:{}", f.rule, f.file, f.line))
        .collect()
}

/// The example: a builder call in a workflow must not reach an unrelated private,
/// zero-argument method of the same name in another crate.
#[test]
fn a_builder_call_does_not_reach_a_same_named_method_elsewhere() {
    let r = scan(
        "builder",
        &[
            (
                "examples",
                "use sdk::ActivityOptions;\n\
                 pub async fn wf(ctx: WorkflowContext, d: Duration) {\n\
                     let opts = ActivityOptions::builder().heartbeat_timeout(d).build();\n\
                     ctx.activity(opts).await;\n\
                 }\n",
            ),
            (
                "engine",
                "struct Poller;\n\
                 impl Poller {\n\
                     fn heartbeat_timeout(&self) -> u64 { std::time::SystemTime::now(); 1 }\n\
                 }\n",
            ),
        ],
    );
    assert_eq!(rules_at(&r), Vec::<String>::new());
}

#[test]
fn fields_return_values_and_builders_are_followed() {
    let r = scan(
        "typed",
        &[(
            "app",
            "pub struct Client { pub retries: u32 }\n\
             impl Client {\n\
                 pub fn charge(&self, cents: u64) { let _ = std::time::Instant::now(); }\n\
                 pub fn with_retries(mut self, n: u32) -> Self { self.retries = n; self }\n\
                 pub fn audit(&self) { let _ = rand::random::<u8>(); }\n\
             }\n\
             pub fn make_client() -> Result<Client, String> { Ok(Client { retries: 0 }) }\n\
             pub struct Transfer { client: Client }\n\
             impl Transfer {\n\
                 pub async fn run(&self, ctx: WorkflowContext) {\n\
                     self.client.charge(5);\n\
                     let c = make_client().unwrap();\n\
                     c.with_retries(3).audit();\n\
                 }\n\
             }\n",
        )],
    );
    let found = rules_at(&r);
    assert_eq!(
        found,
        ["wall-clock app/src/lib.rs:3", "random app/src/lib.rs:5"]
    );
}

#[test]
fn trait_objects_and_bounds_reach_every_implementation() {
    let r = scan(
        "traits",
        &[(
            "app",
            "pub trait Clock { fn now_ms(&self) -> u64; }\n\
             pub struct Wall;\n\
             impl Clock for Wall { fn now_ms(&self) -> u64 { std::time::SystemTime::now(); 0 } }\n\
             pub struct Fixed;\n\
             impl Clock for Fixed { fn now_ms(&self) -> u64 { let _ = std::env::var(\"T\"); 0 } }\n\
             pub async fn by_object(ctx: WorkflowContext, c: &dyn Clock) { c.now_ms(); }\n\
             pub async fn by_bound<C: Clock>(ctx: WorkflowContext, c: C) { c.now_ms(); }\n\
             pub async fn by_where<C>(ctx: WorkflowContext, c: Box<C>) where C: Clock + Send { c.now_ms(); }\n",
        )],
    );
    assert_eq!(
        rules_at(&r),
        ["wall-clock app/src/lib.rs:3", "env app/src/lib.rs:5"]
    );
    for f in &r.findings {
        assert_eq!(f.workflows.len(), 3, "{f:?}");
    }
}

#[test]
fn arity_visibility_and_unknown_receivers_make_no_edge() {
    let r = scan(
        "noedge",
        &[
            (
                "app",
                "use lib::Store;\n\
                 pub async fn wf(ctx: WorkflowContext, s: Store, x: Unknown) {\n\
                     s.save(1, 2);\n\
                     s.load();\n\
                     x.refresh();\n\
                     lib::hidden();\n\
                 }\n\
                 pub async fn control(ctx: WorkflowContext, s: Store) { s.save(1); }\n",
            ),
            (
                "lib",
                "pub struct Store;\n\
                 impl Store {\n\
                     pub fn save(&self, v: u32) { let _ = std::time::Instant::now(); }\n\
                     fn load(&self) { let _ = std::time::Instant::now(); }\n\
                 }\n\
                 pub struct Cache;\n\
                 impl Cache { pub fn refresh(&self) { let _ = std::time::Instant::now(); } }\n\
                 fn hidden() { let _ = std::time::Instant::now(); }\n",
            ),
        ],
    );
    // The same method with the right arguments is reached, from the control only.
    assert_eq!(rules_at(&r), ["wall-clock lib/src/lib.rs:3"]);
    assert_eq!(r.findings[0].workflows, ["app::control"]);
}
