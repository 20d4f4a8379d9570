//! End-to-end tests of the two binaries: exit codes, output formats, baselines and
//! hostile input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_workflowcheck"))
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("wfc-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run(cmd: &mut Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().unwrap();
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

const BAD: &str =
    "pub async fn wf(ctx: WorkflowContext) { let _ = std::time::Instant::now(); helper(); }\n\
                   fn helper() { println!(\"hi\"); }\n";
const WARN_ONLY: &str = "pub async fn wf(ctx: WorkflowContext) { println!(\"hi\"); }\n";

fn project(name: &str, src: &str) -> PathBuf {
    let d = tmpdir(name);
    std::fs::write(d.join("wf.rs"), src).unwrap();
    d
}

#[test]
fn exit_codes() {
    let d = project("exit", BAD);
    let (code, out, _) = run(bin().arg(&d).arg("--color=never"));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("error[wall-clock]") && out.contains("warning[stdio]"),
        "{out}"
    );
    let w = project("warn", WARN_ONLY);
    assert_eq!(run(bin().arg(&w)).0, 0, "warnings alone exit 0");
    let (code, _, err) = run(bin().arg(w.join("missing")));
    assert_eq!(code, 2);
    assert!(err.contains("no such file"), "{err}");
    assert_eq!(run(bin().arg("--format=xml").arg(&w)).0, 2);
    let cfg = w.join("bad.toml");
    std::fs::write(&cfg, "[rules]\nnope = \"deny\"\n").unwrap();
    assert_eq!(run(bin().arg(&w).arg("--config").arg(&cfg)).0, 2);
    assert_eq!(run(bin().arg("--help")).0, 0);
}

#[test]
fn json_shape_and_chain() {
    let d = project("json", BAD);
    let (code, out, _) = run(bin().arg(&d).arg("--format=json"));
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["files_scanned"], 1);
    assert_eq!(v["workflows_found"], 1);
    assert_eq!(v["errors"].as_array().unwrap().len(), 0);
    let f = &v["findings"][1];
    assert_eq!(f["rule"], "stdio");
    assert_eq!(f["severity"], "warning");
    assert_eq!(
        (f["line"].as_u64(), f["column"].as_u64()),
        (Some(2), Some(15))
    );
    assert_eq!(f["workflows"][0], "wf::wf");
    let chain = f["chain"].as_array().unwrap();
    assert_eq!(chain.len(), 2);
    assert_eq!(chain[0]["function"], "wf::wf");
    assert_eq!(chain[0]["column"], 76);
    assert_eq!(chain[1]["function"], "wf::helper");
    assert!(f["suggestion"].as_str().unwrap().contains("logger"));
}

#[test]
fn sarif_and_github() {
    let d = project("sarif", BAD);
    let (_, out, _) = run(bin().arg(&d).arg("--format=sarif"));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let results = v["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(results[1]["ruleId"], "stdio");
    let flow = &results[1]["codeFlows"][0]["threadFlows"][0]["locations"];
    assert_eq!(flow.as_array().unwrap().len(), 2);
    assert_eq!(
        v["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .unwrap()
            .len(),
        15
    );
    let (_, out, _) = run(bin().arg(&d).arg("--format=github"));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].starts_with("::error file=") && lines[0].contains("line=1,col="),
        "{out}"
    );
    assert!(
        lines[1].starts_with("::warning ") && lines[1].contains("%0A"),
        "{out}"
    );
}

#[test]
fn baseline_reports_only_new_findings() {
    let d = project("baseline", BAD);
    let base = d.join("baseline.json");
    let (code, _, _) = run(bin().arg(d.join("wf.rs")).arg("--baseline").arg(&base));
    assert_eq!(code, 0, "creating the baseline succeeds");
    assert!(base.exists());
    let (code, out, _) = run(bin()
        .arg(d.join("wf.rs"))
        .arg("--baseline")
        .arg(&base)
        .arg("--format=json"));
    assert_eq!(code, 0, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["findings"].as_array().unwrap().len(), 0);
    // A new finding, on shifted lines: only the new one is reported.
    std::fs::write(d.join("wf.rs"), format!("// moved\n{BAD}fn more() {{}}\npub async fn wf2(ctx: WorkflowContext) {{ let _ = rand::random::<u8>(); }}\n")).unwrap();
    let (code, out, _) = run(bin()
        .arg(d.join("wf.rs"))
        .arg("--baseline")
        .arg(&base)
        .arg("--format=json"));
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let rules: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["random"]);
}

#[test]
fn bad_files_are_reported_and_the_scan_goes_on() {
    let d = project("hostile", BAD);
    std::fs::write(d.join("broken.rs"), "fn f( {").unwrap();
    std::fs::write(d.join("latin1.rs"), b"// caf\xe9\nfn f() {}\n").unwrap();
    let deep = format!(
        "fn f() {{ let x = {}1{}; }}",
        "(".repeat(2_000),
        ")".repeat(2_000)
    );
    std::fs::write(d.join("deep.rs"), deep).unwrap();
    let unary = format!("fn f() {{ let x = {}true; }}", "!".repeat(20_000));
    std::fs::write(d.join("unary.rs"), unary).unwrap();
    std::fs::write(d.join("huge.rs"), "// x\n".repeat(20_000)).unwrap();
    let (code, out, _) = run(bin()
        .arg(&d)
        .arg("--format=json")
        .arg("--max-file-size=50000"));
    assert_eq!(
        code, 2,
        "files that may hold workflow code were not analysed: {out}"
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["unanalysed"], 5, "{out}");
    let errors = v["errors"].as_array().unwrap();
    let msg = |name: &str| {
        errors
            .iter()
            .find(|e| e["file"].as_str().unwrap().ends_with(name))
            .map(|e| e["message"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("{name} not reported: {errors:?}"))
    };
    let broken = errors
        .iter()
        .find(|e| e["file"].as_str().unwrap().ends_with("broken.rs"))
        .unwrap();
    assert_eq!((&broken["line"], &broken["column"]), (&1.into(), &7.into()));
    assert_eq!(broken["may_hold_workflow"], true);
    assert!(msg("broken.rs").contains("cannot"));
    assert!(msg("latin1.rs").contains("UTF-8"));
    assert!(msg("deep.rs").contains("nesting"));
    assert!(msg("unary.rs").contains("operators"));
    assert!(msg("huge.rs").contains("too large"));
    assert_eq!(v["files_scanned"], 6);
    assert_eq!(v["findings"].as_array().unwrap().len(), 2);
    // Opting out: the files are still reported, the findings decide.
    let (code, out, _) = run(bin()
        .arg(&d)
        .arg("--format=json")
        .arg("--max-file-size=50000")
        .arg("--allow-unanalysed"));
    assert_eq!(code, 1, "the bad workflow is still reported: {out}");
}

#[test]
fn walks_directories_skipping_target_hidden_and_tests() {
    let d = tmpdir("walk");
    for sub in ["target", ".git", "src", "tests"] {
        std::fs::create_dir_all(d.join(sub)).unwrap();
        std::fs::write(d.join(sub).join("wf.rs"), BAD).unwrap();
    }
    std::fs::write(d.join("Cargo.toml"), "[package]\nname = \"demo-app\"\n").unwrap();
    let (_, out, _) = run(bin().arg(&d).arg("--format=json"));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["files_scanned"], 2, "src/wf.rs and tests/wf.rs: {out}");
    let files: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    assert!(
        files.iter().all(|f| f.ends_with("src/wf.rs")),
        "integration tests are test code: {files:?}"
    );
    assert_eq!(v["findings"][0]["workflows"][0], "demo_app::wf::wf");
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&d, d.join("src").join("loop")).unwrap();
        let (code, out, _) = run(bin().arg(&d).arg("--format=json"));
        assert_eq!(code, 1, "{out}");
    }
}

#[test]
fn cargo_subcommand_drops_its_name() {
    let d = project("cargo", WARN_ONLY);
    let (code, out, _) = run(Command::new(env!("CARGO_BIN_EXE_cargo-workflowcheck"))
        .arg("workflowcheck")
        .arg(&d)
        .arg("--format=json"));
    assert_eq!(code, 0, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["findings"][0]["rule"], "stdio");
}

#[test]
fn config_is_found_upward() {
    let d = project("upward", WARN_ONLY);
    std::fs::write(d.join("workflowcheck.toml"), "[rules]\nstdio = \"deny\"\n").unwrap();
    let sub = d.join("nested");
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::rename(d.join("wf.rs"), sub.join("wf.rs")).unwrap();
    assert_eq!(run(bin().arg(&sub)).0, 1);
    assert_eq!(run(bin().arg(&sub).arg("--no-config")).0, 0);
    let _ = Path::new(&sub);
}

#[test]
fn crates_that_cannot_reach_workflows_are_not_parsed() {
    let d = tmpdir("prepass");
    let krate = |name: &str, lib: &str| {
        let dir = d.join(name);
        std::fs::create_dir_all(dir.join("src")).unwrap();
        let manifest = format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\n");
        std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
        std::fs::write(dir.join("src/lib.rs"), lib).unwrap();
        std::fs::write(dir.join("src/broken.rs"), "fn f( {").unwrap();
    };
    // A workflow crate calling into another scanned crate by path, and into a third one only
    // through a trait object (the third crate implements the trait; nobody names it).
    krate(
        "app",
        "mod broken;\npub trait Frob { fn frobnicate_widget(&self); }\npub async fn wf(ctx: WorkflowContext, w: &dyn Frob) { helpers::tick(); w.frobnicate_widget(); }\n",
    );
    krate(
        "helpers",
        "mod broken;\npub fn tick() { let _ = std::time::Instant::now(); }\n",
    );
    krate(
        "gadgets",
        "mod broken;\npub struct Widget;\nimpl app::Frob for Widget { fn frobnicate_widget(&self) { let _ = std::env::var(\"X\"); } }\n",
    );
    // No workflow, referenced by nobody: read, never parsed.
    krate("unrelated", "mod broken;\npub fn quiet() {}\n");
    // The broken files of the crates that can reach workflow code make the scan fail.
    assert_eq!(run(bin().arg(&d)).0, 2);
    let scan = |extra: &[&str]| {
        let (code, out, err) = run(bin()
            .arg(&d)
            .arg("--format=json")
            .arg("--allow-unanalysed")
            .args(extra));
        assert_eq!(code, 1, "{out}{err}");
        serde_json::from_str::<serde_json::Value>(&out).unwrap()
    };
    let v = scan(&[]);
    let all = scan(&["--parse-all"]);
    assert_eq!(v["findings"], all["findings"]);
    assert_eq!(v["files_scanned"], 8);
    assert_eq!(all["files_scanned"], 8);
    let found: Vec<(String, String)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let file = f["file"].as_str().unwrap().replace('\\', "/");
            let krate = file
                .rsplit("/src/")
                .nth(1)
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap();
            (f["rule"].as_str().unwrap().to_string(), krate.to_string())
        })
        .collect();
    assert!(
        found.contains(&("wall-clock".into(), "helpers".into())),
        "{found:?}"
    );
    assert!(
        found.contains(&("env".into(), "gadgets".into())),
        "{found:?}"
    );
    let broken = |v: &serde_json::Value| {
        let mut crates: Vec<String> = v["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let file = e["file"].as_str().unwrap().replace('\\', "/");
                assert!(file.ends_with("src/broken.rs"), "{e}");
                file.rsplit("/src/")
                    .nth(1)
                    .unwrap()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_string()
            })
            .collect();
        crates.sort();
        crates
    };
    assert_eq!(broken(&v), ["app", "gadgets", "helpers"]);
    assert_eq!(broken(&all), ["app", "gadgets", "helpers", "unrelated"]);
    // Only `app` defines workflows: the others' broken files are warnings, with or without
    // --parse-all.
    assert_eq!(v["unanalysed"], 1);
    assert_eq!(all["unanalysed"], 1);
    // Without the crates that reach workflow code, nothing blocks.
    assert_eq!(run(bin().arg(d.join("unrelated")).arg("--parse-all")).0, 0);
}

/// The gate cannot pass silently: one syntax error next to a wall-clock read in a workflow
/// fails the run in every output format.
#[test]
fn an_unanalysed_workflow_file_fails_every_format() {
    let d = project("gate", "pub async fn wf(ctx: WorkflowContext) { let _ = std::time::SystemTime::now(); }\nfn broken( {\n");
    for format in ["human", "json", "sarif", "github"] {
        let (code, out, _) = run(bin().arg(&d).arg(format!("--format={format}")));
        assert_eq!(code, 2, "{format}: {out}");
        let (code, _, _) = run(bin()
            .arg(&d)
            .arg(format!("--format={format}"))
            .arg("--allow-unanalysed"));
        assert_eq!(
            code, 0,
            "{format}: the file holds no finding that was analysed"
        );
    }
    let (_, out, _) = run(bin().arg(&d).arg("--format=sarif"));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let invocation = &v["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    let note = &invocation["toolExecutionNotifications"][0];
    assert_eq!(note["level"], "error");
    assert_eq!(
        note["locations"][0]["physicalLocation"]["region"]["startLine"],
        2
    );
    let (_, out, _) = run(bin().arg(&d).arg("--format=github"));
    assert!(
        out.starts_with("::error file=wf.rs,line=2,col=") || out.contains(",line=2,col="),
        "{out}"
    );
    assert!(
        !out.contains("::2:"),
        "the position is in properties: {out}"
    );
    let (_, out, _) = run(bin().arg(&d).arg("--color=never"));
    assert!(out.contains("error[unanalysed]: "), "{out}");
    assert!(out.contains("wf.rs:2:"), "{out}");
    // The same broken file without any workflow marker in its package is a warning.
    let quiet = project("gate-quiet", "fn broken( {\n");
    let (code, out, _) = run(bin().arg(&quiet).arg("--color=never").arg("--parse-all"));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("warning[scan]"), "{out}");
}

/// NUL bytes and non-UTF-8 bytes are positioned; when the bytes hold a workflow marker the run
/// fails, oversized files included (searched in chunks, never loaded).
#[test]
fn binary_and_oversized_files_with_markers_block() {
    let d = tmpdir("binary");
    std::fs::write(d.join("nul.rs"), b"fn f() {}\n// a\0b\n").unwrap();
    let (code, out, _) = run(bin().arg(&d).arg("--format=json"));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(code, 0, "no marker: a warning: {out}");
    assert_eq!(v["errors"][0]["line"], 2);
    assert_eq!(v["errors"][0]["column"], 5);
    assert!(v["errors"][0]["message"].as_str().unwrap().contains("NUL"));
    std::fs::write(
        d.join("nul.rs"),
        b"pub async fn wf(ctx: WorkflowContext) {}\n// a\0b\n",
    )
    .unwrap();
    assert_eq!(run(bin().arg(&d)).0, 2);
    std::fs::remove_file(d.join("nul.rs")).unwrap();
    std::fs::write(
        d.join("latin1.rs"),
        b"// caf\xe9\npub async fn wf(ctx: WorkflowContext) {}\n",
    )
    .unwrap();
    assert_eq!(run(bin().arg(&d)).0, 2);
    std::fs::remove_file(d.join("latin1.rs")).unwrap();
    let mut big = "// padding\n".repeat(300_000);
    big.push_str("pub async fn wf(ctx: WorkflowContext) {}\n");
    std::fs::write(d.join("big.rs"), &big).unwrap();
    let (code, out, _) = run(bin().arg(&d).arg("--max-file-size=100000"));
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("too large"), "{out}");
}

#[cfg(unix)]
#[test]
fn symlink_loops_fifos_and_dangling_links_are_reported() {
    let d = project("special", WARN_ONLY);
    std::fs::create_dir_all(d.join("sub")).unwrap();
    std::os::unix::fs::symlink(&d, d.join("sub").join("loop")).unwrap();
    std::os::unix::fs::symlink(d.join("missing.rs"), d.join("dangling.rs")).unwrap();
    let fifo = d.join("pipe.rs");
    let made = Command::new("mkfifo").arg(&fifo).status();
    let (code, out, err) = run(bin().arg(&d).arg("--format=json"));
    assert_eq!(code, 0, "warnings only: {out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let messages: Vec<String> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{} {}", e["file"], e["message"]))
        .collect();
    let has = |what: &str| messages.iter().any(|m| m.contains(what));
    assert!(has("symbolic link loop"), "{messages:?}");
    assert!(has("dangling symbolic link"), "{messages:?}");
    if made.is_ok_and(|s| s.success()) {
        assert!(has("FIFO"), "{messages:?}");
        // Named on the command line, it is reported too, never opened.
        let (code, out, _) = run(bin().arg(&fifo));
        assert_eq!(code, 0, "{out}");
        assert!(out.contains("FIFO"), "{out}");
    }
}

/// A 4 MB one-line file: bounded output, done quickly.
#[test]
fn a_huge_one_line_literal_gives_bounded_output() {
    let d = tmpdir("oneline");
    let src = format!(
        "pub async fn wf(ctx: WorkflowContext) {{ let s = \"{}\"; let _ = std::time::SystemTime::now(); }}",
        "x".repeat(4 << 20)
    );
    std::fs::write(d.join("wf.rs"), src).unwrap();
    let started = std::time::Instant::now();
    let (code, out, _) = run(bin().arg(&d).arg("--color=never"));
    assert_eq!(code, 1, "{}", &out[..out.len().min(2000)]);
    assert!(out.len() < 4000, "{} bytes of output", out.len());
    assert!(out.contains("SystemTime::now"), "{out}");
    assert!(started.elapsed().as_secs() < 60, "{:?}", started.elapsed());
    // Broken, it is reported with a bounded message.
    std::fs::write(
        d.join("wf.rs"),
        format!(
            "pub async fn wf(ctx: WorkflowContext) {{ \"{}\" ]",
            "y".repeat(4 << 20)
        ),
    )
    .unwrap();
    let (code, out, _) = run(bin().arg(&d).arg("--color=never"));
    assert_eq!(code, 2);
    assert!(out.len() < 4000, "{} bytes of output", out.len());
}

#[test]
fn usage_errors_have_no_colour_when_redirected_or_with_no_color() {
    let (code, _, err) = run(bin().arg("--no-such-flag"));
    assert_eq!(code, 2);
    assert!(err.contains("--no-such-flag"), "{err}");
    assert!(!err.contains('\x1b'), "{err:?}");
    let (_, _, err) = run(bin().arg("--no-such-flag").env("NO_COLOR", "1"));
    assert!(!err.contains('\x1b'), "{err:?}");
    let (code, out, _) = run(bin().arg("--help"));
    assert_eq!(code, 0);
    assert!(!out.contains('\x1b'), "{out:?}");
    assert!(out.contains("--allow-unanalysed") && out.contains("--include-tests"));
}

#[test]
fn a_baseline_of_an_unknown_version_is_rejected() {
    let d = project("baseline-version", BAD);
    let base = d.join("baseline.json");
    std::fs::write(&base, r#"{"version": 7, "findings": []}"#).unwrap();
    let (code, out, err) = run(bin().arg(&d).arg("--baseline").arg(&base));
    assert_eq!(code, 2, "{out}");
    assert!(err.contains("version 7"), "{err}");
}
