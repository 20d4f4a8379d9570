//! Cross-crate edges only through a crate's public paths (issue #13, point 1): a call from
//! another crate reaches a function only if that crate could name it, through `pub mod`s
//! from the crate root or a `pub use` re-export (of the function, its type or a module
//! above it). A `pub fn` in a private or `pub(crate)` module is reachable from its own crate
//! only; a method call still reaches a `pub` method whatever module its type is in (a value
//! of the type can be had without naming it).

use workflowcheck::config::Config;
use workflowcheck::model::Report;
use workflowcheck::{check, Options};

/// Writes one package per `(name, [(path under src/, text)])` under a fresh directory and
/// scans it.
fn scan(test: &str, crates: &[(&str, &[(&str, &str)])]) -> Report {
    let root = std::env::temp_dir().join(format!("wfc-vis-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    for (name, files) in crates {
        let dir = root.join(name);
        let manifest = format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\n");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
        for (path, text) in *files {
            let file = dir.join("src").join(path);
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(file, text).unwrap();
        }
    }
    let mut opts = Options::new(vec![root.clone()], Config::default());
    opts.display_root = Some(root.clone());
    let report = check(&opts);
    let _ = std::fs::remove_dir_all(&root);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    report
}

fn found(report: &Report) -> Vec<String> {
    let mut out: Vec<String> = report
        .findings
        .iter()
        .map(|f| format!("{} {}:{}", f.rule, f.file, f.line))
        .collect();
    out.sort();
    out
}

const WORKFLOW: &str = "pub async fn wf(ctx: WorkflowContext) {\n\
        engine::clock::now_ms();\n\
        engine::timing::elapsed();\n\
        engine::open::jitter();\n\
        engine::reexported();\n\
        engine::Pacer::pace();\n\
        engine::make_pacer().wait();\n\
        engine::inline::tick();\n\
        engine::shared::roll();\n\
    }\n";

const ENGINE_LIB: &str = "mod clock;\n\
    pub(crate) mod timing;\n\
    pub mod open;\n\
    mod hidden;\n\
    mod pacing;\n\
    pub use hidden::reexported;\n\
    pub use pacing::Pacer;\n\
    pub fn make_pacer() -> Pacer { Pacer }\n\
    mod inline { pub fn tick() { let _ = std::time::Instant::now(); } }\n\
    pub mod shared { pub(crate) mod dice { pub fn roll() { let _ = rand::random::<u8>(); } } pub use dice::roll; }\n";

#[test]
fn only_public_paths_reach_into_another_crate() {
    let r = scan(
        "paths",
        &[
            ("app", &[("lib.rs", WORKFLOW)]),
            (
                "engine",
                &[
                    ("lib.rs", ENGINE_LIB),
                    (
                        "clock.rs",
                        "pub fn now_ms() -> u128 { std::time::SystemTime::now(); 0 }\n",
                    ),
                    (
                        "timing.rs",
                        "pub fn elapsed() { let _ = std::time::Instant::now(); }\n",
                    ),
                    (
                        "open.rs",
                        "pub fn jitter() { let _ = rand::random::<u8>(); }\n",
                    ),
                    (
                        "hidden.rs",
                        "pub fn reexported() { std::thread::sleep(std::time::Duration::ZERO); }\n",
                    ),
                    (
                        "pacing.rs",
                        "pub struct Pacer;\n\
                         impl Pacer {\n\
                             pub fn pace() { std::thread::sleep(std::time::Duration::ZERO); }\n\
                             pub fn wait(&self) { let _ = std::time::SystemTime::now(); }\n\
                         }\n",
                    ),
                ],
            ),
        ],
    );
    // Reached: the `pub mod` (open.rs), the re-exported function (hidden.rs), the methods
    // of the re-exported type (pacing.rs, by path and by method call), and the function a
    // public module re-exports from its `pub(crate)` child (lib.rs:10). Not reached: the
    // private `mod clock`, the `pub(crate) mod timing`, the private inline `mod inline`.
    assert_eq!(
        found(&r),
        [
            "random engine/src/lib.rs:10",
            "random engine/src/open.rs:1",
            "sleep engine/src/hidden.rs:1",
            "sleep engine/src/pacing.rs:3",
            "wall-clock engine/src/pacing.rs:4",
        ]
    );
}

#[test]
fn a_private_module_is_reached_from_its_own_crate_and_by_method_calls() {
    let r = scan(
        "own",
        &[
            (
                "app",
                &[(
                    "lib.rs",
                    "pub async fn wf(ctx: WorkflowContext) {\n\
                         engine::make_clock().read();\n\
                         engine::through_own_crate();\n\
                     }\n",
                )],
            ),
            (
                "engine",
                &[
                    (
                        "lib.rs",
                        "mod clock;\n\
                         pub fn make_clock() -> clock::Clock { clock::Clock }\n\
                         pub fn through_own_crate() { clock::direct(); }\n",
                    ),
                    (
                        "clock.rs",
                        "pub struct Clock;\n\
                         impl Clock { pub fn read(&self) { let _ = std::time::SystemTime::now(); } }\n\
                         pub fn direct() { let _ = std::time::Instant::now(); }\n",
                    ),
                ],
            ),
        ],
    );
    assert_eq!(
        found(&r),
        [
            "wall-clock engine/src/clock.rs:2",
            "wall-clock engine/src/clock.rs:3",
        ]
    );
}
