//! The `sim` command as a user runs it: output, exit codes, artifacts.
#![cfg(madsim)]

use std::path::PathBuf;
use std::process::{Command, Output};

fn sim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sim"))
        .args(args)
        .output()
        .expect("run sim")
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/temporal-histories")
        .join(name)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn show_prints_what_temporal_workflow_show_prints() {
    for name in [
        "transfer-completed",
        "transfer-failed",
        "transfer-retried",
        "transfer-worker-killed",
        "greeting-sleep-30d",
    ] {
        let o = sim(&["show", fixture(&format!("{name}.json")).to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let expected = std::fs::read_to_string(fixture(&format!("{name}.txt"))).unwrap();
        assert_eq!(stdout(&o), expected, "{name}");
    }
    let o = sim(&[
        "show",
        "--detailed",
        fixture("transfer-completed.json").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("withdraw"), "{}", stdout(&o));
}

#[test]
fn replay_accepts_temporal_histories_and_names_the_non_determinism() {
    let dir = fixture("");
    let dir = dir.to_str().unwrap();
    // The directory holds MoneyTransfer and Greeting histories; replay the transfers one by one.
    for name in [
        "transfer-completed",
        "transfer-failed",
        "transfer-retried",
        "transfer-worker-killed",
    ] {
        let o = sim(&[
            "replay",
            fixture(&format!("{name}.json")).to_str().unwrap(),
            "--workflow",
            "MoneyTransfer",
        ]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{name}: {}{}",
            stdout(&o),
            stderr(&o)
        );
    }
    let o = sim(&[
        "replay",
        fixture("transfer-completed.json").to_str().unwrap(),
        "--workflow",
        "MoneyTransferDepositFirst",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(
        out.contains("event 5") && out.contains("'withdraw'") && out.contains("'deposit'"),
        "{out}"
    );
    // A directory of both types: each workflow replays its own histories and names the ones
    // it skipped (README's own example).
    let o = sim(&["replay", dir, "--workflow", "MoneyTransfer"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let others = std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            let p = e.as_ref().unwrap().path();
            p.extension().is_some_and(|x| x == "json")
                && !p
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("transfer-")
        })
        .count();
    assert!(
        stdout(&o).contains(&format!(
            "4 replayed, 0 failed, 0 unreadable, {others} skipped (other workflow types)"
        )) && stdout(&o).contains(
            "greeting-sleep-30d.json (a Greeting history; MoneyTransfer implements \
                 MoneyTransfer; --any-type replays it anyway)"
        ),
        "{}",
        stdout(&o)
    );
    let o = sim(&["replay", dir, "--workflow", "Greeting"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("1 replayed, 0 failed"),
        "{}",
        stdout(&o)
    );
    // Asked to, every history replays against it: the transfers do not replay as Greeting.
    let o = sim(&["replay", dir, "--workflow", "Greeting", "--any-type"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "transfers do not replay as Greeting: {}",
        stdout(&o)
    );
}

#[test]
fn bad_input_is_exit_code_2_with_the_file_named() {
    let tmp = std::env::temp_dir().join(format!("durasim-cli-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let bad = tmp.join("bad.json");
    std::fs::write(&bad, "{\"events\": [ {\"eventId\": \"1\", ").unwrap();
    let o = sim(&["show", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("bad.json") && stderr(&o).contains("line"),
        "{}",
        stderr(&o)
    );
    let latin1 = tmp.join("latin1.json");
    std::fs::write(&latin1, [0x7b, 0xe9, 0x7d]).unwrap();
    let o = sim(&["show", latin1.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not UTF-8"), "{}", stderr(&o));
    let o = sim(&[
        "replay",
        bad.to_str().unwrap(),
        "--workflow",
        "MoneyTransfer",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    let o = sim(&[
        "replay",
        fixture("transfer-completed.json").to_str().unwrap(),
        "--workflow",
        "Nope",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let o = sim(&["run", "no-such-scenario", "--seed", "1"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("sim list"), "{}", stderr(&o));
    let o = sim(&["run", "money-transfer", "--seeds", "5..1"]);
    assert_eq!(o.status.code(), Some(2));
    let o = sim(&["run", "money-transfer", "--faults", "lots"]);
    assert_eq!(o.status.code(), Some(2));
    let plan = tmp.join("plan.json");
    std::fs::write(&plan, "{\"events\": [{\"when\": 3}]}").unwrap();
    let o = sim(&[
        "run",
        "money-transfer",
        "--seed",
        "1",
        "--plan",
        plan.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("plan.json") && stderr(&o).contains("line 1"),
        "{}",
        stderr(&o)
    );
    // Absurd plans are refused with the event named, not run forever.
    for (bad_plan, expect) in [
        (
            r#"{"events":[],"heal_at_ms":18446744073709551615}"#,
            "heal_at_ms",
        ),
        (
            r#"{"events":[{"when":{"on":"at","ms":5},"fault":{"kind":"drop","target":"all","rate":7.5,"duration_ms":100}}],"heal_at_ms":1000}"#,
            "rate 7.5",
        ),
        (
            r#"{"events":[{"when":{"on":"at","ms":5},"fault":{"kind":"kill","node":{"named":"worker-9"},"restart_after_ms":10}}],"heal_at_ms":1000}"#,
            "worker-9",
        ),
        // Triggers that could never fire.
        (
            r#"{"events":[{"when":{"on":"history","event_type":"ActivityStarted","nth":1},"fault":{"kind":"kill","node":"caller","restart_after_ms":10}}],"heal_at_ms":1000}"#,
            "\"ActivityStarted\" is not a history event type",
        ),
        (
            r#"{"events":[{"when":{"on":"effect","service":"bank","operation":"refund","nth":1},"fault":{"kind":"kill","node":"caller","restart_after_ms":10}}],"heal_at_ms":1000}"#,
            "bank records no effect \"refund\"",
        ),
        (
            r#"{"events":[{"when":{"on":"at","ms":5},"fault":{"kind":"partition","nodes":[],"duration_ms":10}}],"heal_at_ms":1000}"#,
            "a partition of no nodes cuts nothing off",
        ),
    ] {
        std::fs::write(&plan, bad_plan).unwrap();
        let o = sim(&[
            "run",
            "money-transfer",
            "--seed",
            "1",
            "--plan",
            plan.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(2), "{bad_plan}");
        assert!(
            stderr(&o).contains(expect) && stderr(&o).contains("event") || expect == "heal_at_ms",
            "{}",
            stderr(&o)
        );
    }
    // Mistakes serde_json would report in its own terms: named by field, position and value.
    for (bad_plan, expect) in [
        (
            r#"{"events":[],"heal_at_ms":1000,"heal_at":5}"#,
            "line 1 column 40: unknown field `heal_at`",
        ),
        (
            r#"{"events":[],"heal_at_ms":18446744073709551616}"#,
            "line 1 column 27: 18446744073709551616 is not a whole number from 0 to \
             18446744073709551615",
        ),
    ] {
        std::fs::write(&plan, bad_plan).unwrap();
        let o = sim(&[
            "run",
            "money-transfer",
            "--seed",
            "1",
            "--plan",
            plan.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(2), "{bad_plan}");
        let want = format!("error: {}: {expect}", plan.display());
        assert!(stderr(&o).starts_with(&want), "{}", stderr(&o));
        assert!(!stderr(&o).contains("e+19"), "{}", stderr(&o));
    }
    let o = sim(&["frobnicate"]);
    assert_eq!(o.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&tmp);
}

/// `SIM_SEED` and `SIM_PLAN` go through the same loader as `--plan`: a value that cannot be used
/// is an exit 2 naming the variable and the file, never a panic or a silently different sweep.
#[test]
fn environment_overrides_are_checked_once_and_reported() {
    let run = |env: &[(&str, &str)], args: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_sim"));
        c.args(["run", "money-transfer"]).args(args);
        c.env_remove("SIM_SEED").env_remove("SIM_PLAN");
        c.env_remove("MADSIM_TEST_SEED");
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().expect("run sim")
    };
    let tmp = std::env::temp_dir().join(format!("durasim-env-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let not_json = tmp.join("not-a-plan.txt");
    std::fs::write(&not_json, "hello").unwrap();
    let missing = tmp.join("missing.json");
    let unknown_node = tmp.join("unknown-node.json");
    std::fs::write(
        &unknown_node,
        r#"{"events":[{"when":{"on":"at","ms":5},"fault":{"kind":"kill","node":{"named":"worker-9"},"restart_after_ms":10}}],"heal_at_ms":1000}"#,
    )
    .unwrap();
    for (env, expect) in [
        (
            ("SIM_PLAN", not_json.to_str().unwrap()),
            "not-a-plan.txt: line 1 column 1: expected value",
        ),
        (("SIM_PLAN", missing.to_str().unwrap()), "missing.json"),
        (
            ("SIM_PLAN", unknown_node.to_str().unwrap()),
            "unknown-node.json: event 1 (at 5ms: kill worker-9, restart after 10ms): no node \
             named \"worker-9\"",
        ),
        (("SIM_SEED", "abc"), "\"abc\" is not a seed"),
    ] {
        let o = run(&[env], &["--seeds", "0..3", "--faults", "none"]);
        assert_eq!(o.status.code(), Some(2), "{env:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(env.0) && stderr(&o).contains(expect),
            "{env:?}: {}",
            stderr(&o)
        );
        assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    }
    // The largest seed is a seed like any other.
    let o = run(&[], &["--seed", "18446744073709551615", "--faults", "none"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("1 seed(s)"), "{}", stdout(&o));
    // Seed ranges are computed, never listed: the widest range, sharded down to a seed or two,
    // starts at once (a list of 2^64 or 10^10 seeds would never be built).
    for (range, shard, seeds) in [
        ("0..18446744073709551615", "0/18446744073709551615", 1),
        ("0..10000000000", "0/5000000000", 2),
    ] {
        let o = run(
            &[],
            &["--seeds", range, "--shard", shard, "--faults", "none"],
        );
        assert_eq!(o.status.code(), Some(0), "{range}: {}", stderr(&o));
        assert!(
            stdout(&o).contains(&format!("{seeds} seed(s)")),
            "{}",
            stdout(&o)
        );
    }
    // A shard that holds none of the seeds runs nothing and says so.
    let o = run(&[], &["--seeds", "0..3", "--shard", "5/7"]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(stderr(&o).contains("no seed to run"), "{}", stderr(&o));
    // Job counts the machine cannot honour are refused, not rounded.
    for jobs in ["0", "5000"] {
        let o = run(&[], &["--seeds", "0..3", "--jobs", jobs]);
        assert_eq!(o.status.code(), Some(2), "--jobs {jobs}: {}", stdout(&o));
        assert!(stderr(&o).contains("--jobs"), "{}", stderr(&o));
    }
    // A good SIM_SEED runs that one seed, and says on stderr that it replaced the range.
    let o = run(
        &[("SIM_SEED", "7")],
        &["--seeds", "0..3", "--faults", "none"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("1 seed(s)"), "{}", stdout(&o));
    assert!(
        stderr(&o).contains("SIM_SEED=7 from the environment"),
        "{}",
        stderr(&o)
    );
    let _ = std::fs::remove_dir_all(&tmp);
}

/// Inputs that are not one run's history are refused with the file and the event named; a
/// byte-order mark is not a reason to refuse one; replay reports links it cannot follow.
#[test]
fn histories_are_checked_before_they_are_shown_or_replayed() {
    let tmp = std::env::temp_dir().join(format!("durasim-hist-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap();
    let good = std::fs::read_to_string(fixture("transfer-completed.json")).unwrap();
    let bom = tmp.join("bom.json");
    std::fs::write(&bom, format!("\u{feff}{good}")).unwrap();
    let o = sim(&["show", bom.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        std::fs::read_to_string(fixture("transfer-completed.txt")).unwrap()
    );
    for (name, text, expect) in [
        ("empty-object.json", "{}".to_string(), "has no events"),
        ("empty-array.json", "[]".to_string(), "has no events"),
        (
            "swapped.json",
            good.replacen("\"eventId\": \"2\"", "\"eventId\": \"3\"", 1),
            "event 2 (index 1) has eventId 3, expected 2",
        ),
        (
            "duplicate.json",
            good.replacen("\"eventId\": \"3\"", "\"eventId\": \"2\"", 1),
            "event 3 (index 2) has eventId 2, expected 3",
        ),
        (
            "negative.json",
            good.replacen("\"eventId\": \"1\"", "\"eventId\": \"-1\"", 1),
            "event 1 (index 0) has eventId -1, expected 1",
        ),
    ] {
        let f = tmp.join(name);
        std::fs::write(&f, text).unwrap();
        for args in [vec!["show"], vec!["replay", "--workflow", "MoneyTransfer"]] {
            let mut args = args.clone();
            args.insert(1, f.to_str().unwrap());
            let o = sim(&args);
            assert_eq!(o.status.code(), Some(2), "{name} {args:?}: {}", stdout(&o));
            assert!(
                stderr(&o).contains(name) && stderr(&o).contains(expect),
                "{name}: {}",
                stderr(&o)
            );
        }
    }
    // A directory with a good history and a dangling link: the link is an error on stderr.
    let dir = tmp.join("dir");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("good.json"), &good).unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(tmp.join("absent.json"), dir.join("dangling.json")).unwrap();
        std::os::unix::fs::symlink(dir.join("loop.json"), dir.join("loop.json")).unwrap();
    }
    let o = sim(&[
        "replay",
        dir.to_str().unwrap(),
        "--workflow",
        "MoneyTransfer",
    ]);
    assert!(stdout(&o).contains("ok    "), "{}", stdout(&o));
    #[cfg(unix)]
    {
        assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
        assert!(stderr(&o).contains("ERROR "), "{}", stderr(&o));
        assert!(stderr(&o).contains("dangling.json"), "{}", stderr(&o));
        assert!(stderr(&o).contains("loop.json"), "{}", stderr(&o));
        assert!(stdout(&o).contains("2 unreadable"), "{}", stdout(&o));
        // The errors go to stderr only: stdout holds the results.
        assert!(!stdout(&o).contains("ERROR"), "{}", stdout(&o));
    }
    // An --out that cannot be written is refused before the sweep runs.
    let file = tmp.join("a-file");
    std::fs::write(&file, "").unwrap();
    let out = file.join("out");
    let o = sim(&[
        "run",
        "money-transfer",
        "--seed",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(stderr(&o).contains("--out"), "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(&tmp);
}

/// `replay` refuses what no Temporal server writes (a retry policy the server refuses, times
/// that run backwards) rather than judging the workflow code on it; a failure's line quotes a
/// 10 MB name cut short.
#[test]
fn replay_refuses_histories_no_server_writes() {
    let tmp = std::env::temp_dir().join(format!("durasim-server-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap();
    let good = std::fs::read_to_string(fixture("transfer-completed.json")).unwrap();
    let second = "\"eventTime\": \"2026-11-25T09:42:43.989518022Z\"";
    let fourth = "\"eventTime\": \"2026-11-25T09:42:44.049903066Z\"";
    assert!(
        good.contains(second) && good.contains(fourth),
        "the fixture's times changed"
    );
    for (name, text, expect) in [
        (
            "backoff.json",
            good.replace("\"backoffCoefficient\": 2", "\"backoffCoefficient\": -2"),
            "event 5 (ActivityTaskScheduled): retryPolicy.backoffCoefficient -2: must be a \
             number of at least 1",
        ),
        (
            "attempts.json",
            good.replace(
                "\"backoffCoefficient\": 2",
                "\"backoffCoefficient\": 2, \"maximumAttempts\": -3",
            ),
            "event 5 (ActivityTaskScheduled): retryPolicy.maximumAttempts -3: cannot be negative",
        ),
        (
            "before-start.json",
            good.replacen(second, "\"eventTime\": \"2020-01-01T00:00:00Z\"", 1),
            "event 2 (WorkflowTaskScheduled): eventTime 2020-01-01T00:00:00Z is before the run \
             started",
        ),
        (
            "backwards.json",
            good.replacen(
                fourth,
                "\"eventTime\": \"2026-11-25T09:42:43.999000000Z\"",
                1,
            ),
            "event 4 (WorkflowTaskCompleted): eventTime 2026-11-25T09:42:43.999",
        ),
    ] {
        assert_ne!(text, good, "{name}: the fixture changed");
        let f = tmp.join(name);
        std::fs::write(&f, text).unwrap();
        let o = sim(&["replay", f.to_str().unwrap(), "--workflow", "MoneyTransfer"]);
        assert_eq!(o.status.code(), Some(2), "{name}: {}", stdout(&o));
        let want = format!("ERROR {}: {expect}", f.display());
        assert!(stderr(&o).starts_with(&want), "{name}: {}", stderr(&o));
    }
    // A 10 MB activity name: the FAIL line names the event and quotes the name cut short.
    let huge = good.replace(
        "\"name\": \"withdraw\"",
        &format!("\"name\": \"{}\"", "x".repeat(10 << 20)),
    );
    let f = tmp.join("huge-name.json");
    std::fs::write(&f, huge).unwrap();
    let o = sim(&["replay", f.to_str().unwrap(), "--workflow", "MoneyTransfer"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stdout(&o).contains("FAIL  "), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("nondeterminism at event 5"),
        "{}",
        stdout(&o)
    );
    assert!(stdout(&o).len() < 4096, "{} bytes", stdout(&o).len());
    let _ = std::fs::remove_dir_all(&tmp);
}

/// Inputs that never end (`/dev/zero`) are refused at their first byte or at the read limit,
/// with the input named, and output that cannot be written ends the command with exit 2.
#[cfg(unix)]
#[test]
fn endless_inputs_and_unwritable_output_end_with_exit_2() {
    let start = std::time::Instant::now();
    for args in [
        vec!["show", "/dev/zero"],
        vec!["show", "--detailed", "/dev/urandom"],
        vec!["replay", "/dev/zero", "--workflow", "MoneyTransfer"],
        vec![
            "run",
            "money-transfer",
            "--seed",
            "1",
            "--plan",
            "/dev/zero",
        ],
    ] {
        let o = sim(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stdout(&o));
        assert!(stderr(&o).contains("/dev/"), "{args:?}: {}", stderr(&o));
    }
    let o = Command::new(env!("CARGO_BIN_EXE_sim"))
        .args(["run", "money-transfer", "--seed", "1"])
        .env("SIM_PLAN", "/dev/zero")
        .output()
        .expect("run sim");
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(
        stderr(&o).contains("SIM_PLAN: /dev/zero: larger than 16 MiB; not read"),
        "{}",
        stderr(&o)
    );
    assert!(start.elapsed().as_secs() < 60, "{:?}", start.elapsed());
    // `sim show FILE > /dev/full`: the output is not written, and the exit code says so.
    let full = std::fs::File::create("/dev/full").expect("/dev/full");
    let o = Command::new(env!("CARGO_BIN_EXE_sim"))
        .args(["show", fixture("transfer-completed.json").to_str().unwrap()])
        .stdout(full)
        .output()
        .expect("run sim");
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("error: writing the output: No space left on device"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn run_one_seed_writes_histories_that_show_and_replay() {
    let out = std::env::temp_dir().join(format!("durasim-run-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let o = sim(&[
        "run",
        "money-transfer",
        "--seed",
        "3",
        "--faults",
        "none",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let dir = out.join("seed-3");
    assert!(dir.join("trace.txt").exists());
    assert!(dir.join("plan.json").exists());
    let histories: Vec<_> = std::fs::read_dir(dir.join("histories"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(histories.len(), 10);
    // Our histories are Temporal's format: `sim show` and `sim replay` read them back.
    let o = sim(&["show", histories[0].to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("WorkflowExecutionCompleted"));
    let o = sim(&[
        "replay",
        dir.join("histories").to_str().unwrap(),
        "--workflow",
        "MoneyTransfer",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let _ = std::fs::remove_dir_all(&out);
}

/// The official SDK's examples from the command line: a seed's histories replay against the
/// example that wrote them and fail, naming the event, against another.
#[test]
fn official_sdk_histories_replay_from_the_command_line() {
    let out = std::env::temp_dir().join(format!("durasim-official-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let o = sim(&[
        "run",
        "official-saga",
        "--seed",
        "2",
        "--faults",
        "chaos",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let histories = out.join("seed-2").join("histories");
    let o = sim(&[
        "replay",
        histories.to_str().unwrap(),
        "--workflow",
        "SagaWorkflow",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    // Saga histories are not HelloWorldWorkflow's: skipped, so nothing was checked (exit 2).
    let o = sim(&[
        "replay",
        histories.to_str().unwrap(),
        "--workflow",
        "HelloWorldWorkflow",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stderr(&o).contains("no HelloWorldWorkflow history to replay"),
        "{}",
        stderr(&o)
    );
    let o = sim(&[
        "replay",
        histories.to_str().unwrap(),
        "--workflow",
        "HelloWorldWorkflow",
        "--any-type",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("[TMPRL1100] nondeterminism at event 5"),
        "{}",
        stdout(&o)
    );
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn run_json_has_the_documented_keys_and_is_reproducible() {
    let a = sim(&[
        "run",
        "money-transfer",
        "--seed",
        "11",
        "--faults",
        "chaos",
        "--json",
    ]);
    assert_eq!(a.status.code(), Some(0), "{}{}", stdout(&a), stderr(&a));
    let v: serde_json::Value = serde_json::from_slice(&a.stdout).expect("json");
    for key in [
        "scenario",
        "profile",
        "seeds_run",
        "seeds_failed",
        "failures",
        "trace_hash",
        "wall_seconds",
        "seeds_per_second",
    ] {
        assert!(v.get(key).is_some(), "missing {key}: {v}");
    }
    assert_eq!(v["seeds_run"], 1);
    let b = sim(&[
        "run",
        "money-transfer",
        "--seed",
        "11",
        "--faults",
        "chaos",
        "--json",
    ]);
    let w: serde_json::Value = serde_json::from_slice(&b.stdout).expect("json");
    assert_eq!(v["trace_hash"], w["trace_hash"], "same seed, same trace");
}

#[test]
fn a_failing_seed_reports_invariant_minimal_plan_and_repro() {
    let out = std::env::temp_dir().join(format!("durasim-fail-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let plan = out.join("in-plan.json");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(
        &plan,
        r#"{"events":[
            {"when":{"on":"at","ms":5},"fault":{"kind":"drop","target":"all","rate":0.1,"duration_ms":200}},
            {"when":{"on":"effect","service":"bank","operation":"deposit","nth":1},"fault":{"kind":"kill","node":"caller","restart_after_ms":800}},
            {"when":{"on":"at","ms":50},"fault":{"kind":"duplicate","target":"all","rate":0.2,"duration_ms":300}}
        ],"heal_at_ms":10000}"#,
    )
    .unwrap();
    let o = sim(&[
        "run",
        "money-transfer-buggy",
        "--seed",
        "1",
        "--plan",
        plan.to_str().unwrap(),
        "--json",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let f = &v["failures"][0];
    assert_eq!(f["seed"], 1);
    assert!(
        f["invariant"] == "exactly-once" || f["invariant"] == "conservation",
        "{f}"
    );
    let minimal = f["minimal_plan"].as_array().unwrap();
    assert_eq!(minimal.len(), 1, "only the kill matters: {f}");
    let repro = f["repro"].as_str().unwrap();
    assert!(
        repro.contains("--seed 1") && repro.contains("minimal-plan.json"),
        "{repro}"
    );
    // The repro line reproduces: run it (minus `cargo run --release --bin sim --`).
    let minimal_plan = out.join("seed-1/minimal-plan.json");
    let again = sim(&[
        "run",
        "money-transfer-buggy",
        "--seed",
        "1",
        "--plan",
        minimal_plan.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(again.status.code(), Some(1));
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn list_names_the_scenarios() {
    let o = sim(&["list"]);
    assert_eq!(o.status.code(), Some(0));
    for s in [
        "money-transfer",
        "money-transfer-buggy",
        "transfer-retried",
        "greeting",
        "expense-report",
    ] {
        assert!(stdout(&o).contains(s), "{s}");
    }
}

#[test]
fn coverage_names_the_fault_step_pairs_reached_and_those_no_seed_reached() {
    let args = [
        "run",
        "money-transfer",
        "--seeds",
        "0..40",
        "--faults",
        "chaos",
        "--jobs",
        "2",
        "--coverage",
    ];
    let text = sim(&args);
    assert_eq!(text.status.code(), Some(0), "{}", stderr(&text));
    let out = stdout(&text);
    assert!(
        out.contains("fault-space coverage over 40 seed(s):")
            && out.contains("crash     x worker: activity after a service call")
            && out.contains("not reached by any seed:"),
        "{out}"
    );
    let mut with_json = args.to_vec();
    with_json.push("--json");
    let j = sim(&with_json);
    let v: serde_json::Value = serde_json::from_slice(&j.stdout).expect("json");
    let c = &v["coverage"];
    assert_eq!(c["seeds"], 40);
    let reached = c["reached"].as_array().expect("reached");
    let unreached = c["unreached"].as_array().expect("unreached");
    assert_eq!(
        reached.len() + unreached.len(),
        c["possible"].as_u64().unwrap() as usize,
        "every possible pair is reached or not: {c}"
    );
    assert!(reached
        .iter()
        .any(|p| p["fault"] == "drop" && p["step"] == "message CompleteActivityTask"));
    // Without the flag, nothing is recorded or printed.
    let plain = sim(&args[..args.len() - 1]);
    assert!(!stdout(&plain).contains("coverage"));
    let mut plain_json = args[..args.len() - 1].to_vec();
    plain_json.push("--json");
    let p: serde_json::Value = serde_json::from_slice(&sim(&plain_json).stdout).expect("json");
    assert!(p.get("coverage").is_none(), "{p}");
}

#[test]
fn a_guided_failure_is_reproduced_from_its_plan() {
    let out = std::env::temp_dir().join(format!("durasim-guided-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let args = [
        "run",
        "money-transfer-buggy",
        "--seeds",
        "0..64",
        "--faults",
        "swarm",
        "--guided",
        "--max-failures",
        "1",
        "--shrink-limit",
        "1",
    ];
    let o = sim(&args);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let text = stdout(&o);
    assert!(
        text.contains("--plan PLAN.json (PLAN.json: the plan above; --out DIR writes it)")
            && text.contains("fault-space coverage over"),
        "{text}"
    );
    let mut with_out = args.to_vec();
    with_out.extend(["--out", out.to_str().unwrap()]);
    let o = sim(&with_out);
    let text = stdout(&o);
    let line = text
        .lines()
        .find(|l| l.contains("reproduce:"))
        .unwrap_or_else(|| panic!("{text}"));
    let plan = line
        .split("--plan ")
        .nth(1)
        .unwrap_or_else(|| panic!("{line}"))
        .trim();
    let seed = line
        .split("--seed ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap();
    let again = sim(&[
        "run",
        "money-transfer-buggy",
        "--seed",
        seed,
        "--plan",
        plan,
    ]);
    assert_eq!(again.status.code(), Some(1), "{}", stdout(&again));
    assert!(
        stdout(&again).contains("broke exactly-once"),
        "{}",
        stdout(&again)
    );
    let _ = std::fs::remove_dir_all(&out);
}

/// With --json, stdout holds only the report: what the simulated code prints (the official
/// saga example's println!) goes to stderr.
#[test]
fn json_stdout_holds_only_the_report_when_the_code_under_test_prints() {
    let o = sim(&[
        "run",
        "official-saga",
        "--seeds",
        "0..3",
        "--faults",
        "none",
        "--jobs",
        "1",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let report: serde_json::Value =
        serde_json::from_slice(&o.stdout).expect("stdout is one JSON document");
    assert_eq!(report["seeds_run"], 3);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("Cancelled flight booking"), "{stderr}");
}
