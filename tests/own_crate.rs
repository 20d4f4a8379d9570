//! README's "Use durasim from your crate", taken literally: two fresh crates outside this
//! workspace are written from that section's files alone (the only edit: the README's
//! `/path/to/durasim` becomes this checkout): one with durasim's SDK, whose tests and `sim`
//! command run, and one with Temporal's official SDK (the files under `official/`), whose
//! tests run.
//!
//! They build a second dependency tree (madsim, tokio, serde, the official SDK's crates) in
//! `target/own-crate`, so this takes several minutes the first time and seconds after.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const SECTION: &str = "## Use durasim from your crate";

/// The section's files: every fenced block whose info string names a path
/// (```` ```toml Cargo.toml ````).
fn files(readme: &str) -> Vec<(String, String)> {
    let start = readme.find(SECTION).expect("README has the section");
    let rest = &readme[start + SECTION.len()..];
    let section = &rest[..rest.find("\n## ").unwrap_or(rest.len())];
    let mut out = Vec::new();
    let mut lines = section.lines();
    while let Some(line) = lines.next() {
        let Some(info) = line.strip_prefix("```") else {
            continue;
        };
        let path = info.split_whitespace().nth(1).map(str::to_string);
        let mut body = String::new();
        for l in lines.by_ref() {
            if l.starts_with("```") {
                break;
            }
            body.push_str(l);
            body.push('\n');
        }
        if let Some(p) = path {
            out.push((p, body));
        }
    }
    out
}

fn cargo(dir: &Path, target: &Path, args: &[&str]) -> std::process::Output {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut c = Command::new(cargo);
    c.args(args).current_dir(dir);
    // As a user's shell would have it: none of this workspace's build settings leak in.
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_MANIFEST_DIR",
        "CARGO_PKG_NAME",
        "CARGO_PRIMARY_PACKAGE",
        "SIM_SEED",
        "SIM_PLAN",
        "SIM_OUT",
        "MADSIM_TEST_SEED",
    ] {
        c.env_remove(var);
    }
    c.env("CARGO_TARGET_DIR", target);
    // Disk, not behaviour: two fresh crates that carry the official SDK take several GB of
    // full debug info, more than a small CI disk holds next to the workspace's own build.
    c.env("CARGO_PROFILE_DEV_DEBUG", "line-tables-only");
    c.output().expect("cargo runs")
}

fn text(o: &std::process::Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn a_fresh_crate_built_from_the_readme_sweeps_its_own_workflow() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let files = files(&readme);
    let names: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        names,
        [
            "Cargo.toml",
            ".cargo/config.toml",
            "src/lib.rs",
            "tests/sweep.rs",
            "src/bin/sim.rs",
            "official/Cargo.toml",
            "official/.cargo/config.toml",
            "official/src/lib.rs",
            "official/tests/sweep.rs",
        ]
    );
    // Outside the workspace, so its .cargo/config.toml and Cargo.toml are not ours; the two
    // crates side by side (not nested: cargo would merge their config files).
    let base = std::env::temp_dir().join(format!("durasim-own-crate-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let (dir, official) = (base.join("orders"), base.join("payments"));
    for (path, body) in &files {
        let p = match path.strip_prefix("official/") {
            Some(rest) => official.join(rest),
            None => dir.join(path),
        };
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        let body = body.replace("/path/to/durasim", root.to_str().unwrap());
        std::fs::write(p, body).unwrap();
    }
    // The versions this workspace builds with, so the run needs no network.
    for d in [&dir, &official] {
        std::fs::copy(root.join("Cargo.lock"), d.join("Cargo.lock")).unwrap();
    }
    let target = root.join("target").join("own-crate");
    let began = Instant::now();
    let o = cargo(&dir, &target, &["test", "--offline"]);
    assert!(
        o.status.success(),
        "cargo test in the fresh crate:\n{}",
        text(&o)
    );
    assert!(
        text(&o).contains("every_order_is_charged_exactly_once_through_crashes ... ok"),
        "{}",
        text(&o)
    );
    let tested = began.elapsed();
    let o = cargo(
        &dir,
        &target,
        &[
            "run",
            "--offline",
            "--bin",
            "sim",
            "--",
            "run",
            "checkout",
            "--seeds",
            "0..100",
            "--faults",
            "chaos",
            "--json",
        ],
    );
    assert!(
        o.status.success(),
        "sim run in the fresh crate:\n{}",
        text(&o)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("--json prints JSON");
    assert_eq!(v["scenario"], "checkout");
    assert_eq!(v["seeds_run"], 100);
    assert_eq!(v["seeds_failed"], 0);
    let swept = began.elapsed();
    let o = cargo(&official, &target, &["test", "--offline"]);
    assert!(
        o.status.success(),
        "cargo test in the fresh official-SDK crate:\n{}",
        text(&o)
    );
    assert!(
        text(&o).contains("every_order_is_charged_exactly_once_through_crashes ... ok"),
        "{}",
        text(&o)
    );
    eprintln!(
        "fresh crates: cargo test {:.0}s, then sim run (100 chaos seeds) {:.0}s; official-SDK crate: cargo test {:.0}s",
        tested.as_secs_f64(),
        (swept - tested).as_secs_f64(),
        (began.elapsed() - swept).as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&base);
}
