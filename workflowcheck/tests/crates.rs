//! End-to-end tests of what a scan reaches beyond the paths given (issue #11, point 7): a
//! file is checked in its crate, path dependencies are followed, calls that resolve to no
//! code scanned are reported as notes, and a manifest that does not parse is an error.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_workflowcheck"))
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("wfc-crates-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(root: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        let p = root.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

/// Runs the binary in `dir`: (exit code, stdout, stderr).
fn run_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = bin()
        .current_dir(dir)
        .args(args)
        .arg("--color=never")
        .output()
        .unwrap();
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

fn json(out: &str) -> serde_json::Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

const MANIFEST: &str = "[package]\nname = \"shop\"\nversion = \"0.1.0\"\nedition = \"2021\"\n";

/// A crate whose workflow in `src/orders.rs` calls a helper in `src/util.rs` that reads the
/// clock; `src/other.rs` holds a workflow of its own that sleeps.
fn shop(name: &str) -> PathBuf {
    let d = tmpdir(name);
    write(
        &d,
        &[
            ("Cargo.toml", MANIFEST),
            ("src/lib.rs", "pub mod orders;\nmod util;\npub mod other;\n"),
            (
                "src/orders.rs",
                "use crate::util;\n\
                 pub async fn place_order(ctx: WfContext, id: u64) -> Result<u64, ()> {\n\
                 \x20   Ok(util::stamp() + id)\n\
                 }\n",
            ),
            (
                "src/util.rs",
                "use std::time::SystemTime;\n\
                 pub fn stamp() -> u64 {\n\
                 \x20   SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs()\n\
                 }\n",
            ),
            (
                "src/other.rs",
                "pub async fn nap(ctx: WfContext) { std::thread::sleep(std::time::Duration::from_secs(1)); }\n",
            ),
        ],
    );
    d
}

#[test]
fn a_file_given_alone_is_checked_in_its_crate() {
    let d = shop("file");
    let (code, out, err) = run_in(&d, &["src/orders.rs"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("error[wall-clock]") && out.contains("--> src/util.rs:3:5"),
        "{out}"
    );
    assert!(
        out.contains("1. shop::orders::place_order  src/orders.rs:3:8")
            && out.contains("2. shop::util::stamp          src/util.rs:3:5"),
        "the chain goes through util: {out}"
    );
    // Only the given file's workflows are checked: `other::nap` sleeps, unreported.
    assert!(!out.contains("error[sleep]"), "{out}");
    assert!(out.contains("(1 workflow found)"), "{out}");
    // The same from inside `src/`, and as JSON.
    let (code, out, _) = run_in(&d.join("src"), &["orders.rs", "--format=json"]);
    assert_eq!(code, 1, "{out}");
    let v = json(&out);
    assert_eq!(v["workflows_found"], 1);
    assert_eq!(v["findings"].as_array().unwrap().len(), 1, "{out}");
    let f = &v["findings"][0];
    assert_eq!(f["rule"], "wall-clock");
    assert_eq!(f["file"], "../src/util.rs");
    assert_eq!(f["chain"][1]["function"], "shop::util::stamp");
    // The whole crate checks both workflows; the helper's file alone checks none.
    let (code, out, _) = run_in(&d, &["."]);
    assert_eq!(code, 1);
    assert!(
        out.contains("error[sleep]") && out.contains("(2 workflows found)"),
        "{out}"
    );
    let (code, out, _) = run_in(&d, &["src/util.rs"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("(0 workflows found)"), "{out}");
}

/// A workspace: `ws/shop` depends on `ws/common` through `workspace = true`, and on
/// `pricing`, outside the workspace, renamed `prices`.
fn workspace(name: &str, shop_deps: &str) -> PathBuf {
    let d = tmpdir(name);
    write(
        &d,
        &[
            (
                "ws/Cargo.toml",
                "[workspace]\nmembers = [\"shop\", \"common\"]\n\
                 [workspace.dependencies]\ncommon = { path = \"common\" }\n",
            ),
            ("ws/shop/Cargo.toml", &format!("{MANIFEST}{shop_deps}")),
            (
                "ws/shop/src/lib.rs",
                "pub async fn checkout(ctx: WfContext, id: u64) -> u64 {\n\
                 \x20   prices::quote(id) + common::fee()\n\
                 }\n",
            ),
            (
                "ws/common/Cargo.toml",
                "[package]\nname = \"common\"\nversion = \"0.1.0\"\n",
            ),
            (
                "ws/common/src/lib.rs",
                "pub fn fee() -> u64 { std::env::var(\"FEE\").map(|v| v.len() as u64).unwrap_or(1) }\n",
            ),
            (
                "pricing/Cargo.toml",
                "[package]\nname = \"pricing\"\nversion = \"0.1.0\"\n",
            ),
            (
                "pricing/src/lib.rs",
                "pub fn quote(id: u64) -> u64 { rand::random::<u64>() ^ id }\n\
                 pub async fn own_workflow(ctx: WfContext) { std::thread::sleep(std::time::Duration::from_secs(1)); }\n",
            ),
        ],
    );
    d
}

const SHOP_DEPS: &str =
    "[dependencies]\nprices = { package = \"pricing\", path = \"../../pricing\" }\n\
                         common = { workspace = true }\nserde = \"1\"\n";

#[test]
fn path_dependencies_are_followed_renamed_and_through_the_workspace() {
    let d = workspace("deps", SHOP_DEPS);
    let (code, out, err) = run_in(&d.join("ws"), &["shop", "--format=json"]);
    assert_eq!(code, 1, "{out}{err}");
    let v = json(&out);
    let found: Vec<(String, String, String)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let chain: Vec<&str> = f["chain"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["function"].as_str().unwrap())
                .collect();
            (
                f["rule"].as_str().unwrap().to_string(),
                f["file"].as_str().unwrap().to_string(),
                chain.join(" -> "),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (
                "random".to_string(),
                "../pricing/src/lib.rs".to_string(),
                "shop::checkout -> pricing::quote".to_string()
            ),
            (
                "env".to_string(),
                "common/src/lib.rs".to_string(),
                "shop::checkout -> common::fee".to_string()
            ),
        ],
        "{out}"
    );
    // A dependency's own workflows are not checked.
    assert_eq!(v["workflows_found"], 1, "{out}");
    assert_eq!(v["unresolved"].as_array().unwrap().len(), 0, "{out}");
    // Without following, the calls into the dependencies are notes, under the crate name.
    let (code, out, _) = run_in(&d.join("ws"), &["shop", "--no-follow-path-deps"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("note: 2 calls from workflow code could not be resolved (1 into `common`, 1 into `pricing`, not scanned)"),
        "{out}"
    );
    assert!(
        out.contains("--> shop/src/lib.rs:2:5  `prices::quote` in `shop::checkout`: crate `pricing` was not scanned"),
        "{out}"
    );
}

#[test]
fn calls_that_resolve_to_nothing_scanned_are_counted_notes() {
    let d = tmpdir("notes");
    let calls: String = (1..=7)
        .map(|i| format!("    crate::util::gone_{i}();\n"))
        .collect();
    write(
        &d,
        &[
            ("Cargo.toml", MANIFEST),
            ("src/lib.rs", "pub mod orders;\nmod util;\n"),
            ("src/util.rs", "pub fn here() {}\n"),
            (
                "src/orders.rs",
                &format!(
                    "pub async fn wf(ctx: WfContext) {{\n    crate::util::here();\n    \
                     std::mem::drop(1);\n    serde_json::to_string(&1).ok();\n{calls}    \
                     ledger::post(1);\n}}\n"
                ),
            ),
        ],
    );
    let (code, out, _) = run_in(&d, &["src/orders.rs"]);
    assert_eq!(code, 0, "notes never fail the run: {out}");
    assert!(
        out.contains(
            "note: 8 calls from workflow code could not be resolved (1 into `ledger`, not scanned; \
             7 naming nothing in the code scanned); the code they reach is not checked:"
        ),
        "{out}"
    );
    assert!(
        out.contains("--> src/orders.rs:5:5  `crate::util::gone_1` in `shop::orders::wf`: no function `shop::util::gone_1` in the code scanned"),
        "{out}"
    );
    assert!(
        out.contains("... and 3 more (--verbose lists them all)"),
        "{out}"
    );
    assert!(!out.contains("gone_6"), "{out}");
    let (_, out, _) = run_in(&d, &["src/orders.rs", "--verbose"]);
    assert!(
        out.contains("gone_7") && out.contains("`ledger::post`"),
        "{out}"
    );
    assert!(!out.contains("more (--verbose"), "{out}");
    let (_, out, _) = run_in(&d, &["src/orders.rs", "--format=json"]);
    let v = json(&out);
    let u = v["unresolved"].as_array().unwrap();
    assert_eq!(u.len(), 8);
    assert_eq!(
        (
            &u[0]["file"],
            &u[0]["line"],
            &u[0]["column"],
            &u[0]["callee"]
        ),
        (
            &serde_json::json!("src/orders.rs"),
            &serde_json::json!(5),
            &serde_json::json!(5),
            &serde_json::json!("crate::util::gone_1")
        )
    );
    assert_eq!(u[0]["workflows"][0], "shop::orders::wf");
    let (_, out, _) = run_in(&d, &["src/orders.rs", "--format=sarif"]);
    let v = json(&out);
    let notes: Vec<&serde_json::Value> = v["runs"][0]["invocations"][0]
        ["toolExecutionNotifications"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["descriptor"]["id"] == "unresolved-call")
        .collect();
    assert_eq!(notes.len(), 8);
    assert!(notes.iter().all(|n| n["level"] == "note"));
    assert_eq!(v["runs"][0]["invocations"][0]["executionSuccessful"], true);
    assert_eq!(v["runs"][0]["results"].as_array().unwrap().len(), 0);
    let (_, out, _) = run_in(&d, &["src/orders.rs", "--format=github"]);
    assert_eq!(
        out.matches("::notice file=src/orders.rs,line=").count(),
        5,
        "{out}"
    );
    assert!(
        out.contains("::notice title=workflowcheck%3A unresolved calls::3 more"),
        "{out}"
    );
}

#[test]
fn a_manifest_that_does_not_parse_is_an_error_with_its_position() {
    let d = shop("bad-manifest");
    write(
        &d,
        &[("Cargo.toml", "[package]\nname = \"shop\"\nversion = \n")],
    );
    let (code, out, err) = run_in(&d, &["src/orders.rs"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        out.contains("error[unanalysed]: Cargo.toml:3:") && out.contains("cannot parse Cargo.toml"),
        "{out}"
    );
    assert!(!err.contains("panicked"), "{err}");
    let (code, out, _) = run_in(&d, &["src/orders.rs", "--format=json"]);
    assert_eq!(code, 2);
    let e = &json(&out)["errors"][0];
    assert_eq!(
        (&e["file"], &e["line"]),
        (&serde_json::json!("Cargo.toml"), &serde_json::json!(3))
    );
    assert_eq!(e["may_hold_workflow"], true);
    // A path dependency's manifest, and a path dependency that is not there.
    let d = workspace("bad-dep", SHOP_DEPS);
    write(
        &d,
        &[("pricing/Cargo.toml", "[package\nname = \"pricing\"\n")],
    );
    let (code, out, _) = run_in(&d.join("ws"), &["shop"]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("error[unanalysed]: ../pricing/Cargo.toml:1:"),
        "{out}"
    );
    std::fs::remove_dir_all(d.join("pricing")).unwrap();
    let (code, out, _) = run_in(&d.join("ws"), &["shop"]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("path dependency `prices` (../pricing) has no Cargo.toml; not followed"),
        "{out}"
    );
}
