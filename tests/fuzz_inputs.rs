//! `sim` fed broken inputs, as a fuzzer feeds them: mutated history files (`show`, `replay`),
//! mutated fault plans (`run --plan`) and random command lines, some with `SIM_SEED`/`SIM_PLAN`
//! set. Whatever the input, `sim` must not panic, must end with exit code 0, 1 or 2, an exit 2
//! must name the input at fault (the file, the flag or value, the variable), and a sweep that an
//! environment variable changed must say so on stderr.
//!
//! The inputs are mutations of what `sim` accepts: the recorded Temporal histories in
//! `fixtures/temporal-histories/`, a plan `sim run --out` wrote and plans of the documented
//! shape. CI sets `PROPTEST_RNG_SEED`, so a run's cases are the same every time;
//! `PROPTEST_CASES=N` runs more of them. An input that once broke `sim` stays below as a plain
//! `#[test]` named after what it caught.
#![cfg(madsim)]

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{json, Value};

// ---------------------------------------------------------------------------------------------
// Running `sim`
// ---------------------------------------------------------------------------------------------

/// The longest one `sim` run may take before its case fails as a hang.
const RUN_LIMIT: Duration = Duration::from_secs(30);

/// The most an exit-2 error may print: it names the input and the place, it does not echo a
/// long value back (the inputs hold 100 KB strings).
const MAX_ERROR_BYTES: usize = 16 << 10;

/// What one `sim` run did.
struct Run {
    args: Vec<String>,
    /// `None` when a signal ended it, or when it hung and was killed.
    code: Option<i32>,
    hung: bool,
    stdout: String,
    stderr: String,
}

impl Run {
    /// The command line, exit code and stderr, clipped, for a failure message.
    fn describe(&self) -> String {
        let args: Vec<String> = self.args.iter().map(|a| clip(a, 200)).collect();
        format!(
            "\n  sim {:?}\n  exit code {:?}{}, {} bytes on stdout\n  stderr: {}",
            args,
            self.code,
            if self.hung { " (hung)" } else { "" },
            self.stdout.len(),
            clip(&self.stderr, 4000)
        )
    }
}

fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_string(),
        Some((cut, _)) => format!("{}... ({} more bytes)", &s[..cut], s.len() - cut),
    }
}

fn drain(pipe: Option<impl Read + Send + 'static>) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_end(&mut buf);
        }
        buf
    })
}

/// Runs `sim` with these arguments (and none of the environment overrides a user might have
/// set), killing it after [`RUN_LIMIT`].
fn sim(args: &[String]) -> Run {
    sim_with(args, &[])
}

/// [`sim`] with these environment variables set.
fn sim_with(args: &[String], env: &[(String, String)]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sim"))
        .args(args)
        .env_remove("SIM_SEED")
        .env_remove("MADSIM_TEST_SEED")
        .env_remove("SIM_PLAN")
        .env_remove("SIM_OUT")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start sim");
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let start = Instant::now();
    let (status, hung) = loop {
        if let Some(status) = child.try_wait().expect("wait for sim") {
            break (Some(status), false);
        }
        if start.elapsed() > RUN_LIMIT {
            let _ = child.kill();
            break (child.wait().ok(), true);
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    Run {
        args: args.to_vec(),
        code: if hung {
            None
        } else {
            status.and_then(|s| s.code())
        },
        hung,
        stdout: String::from_utf8_lossy(&stdout.join().unwrap_or_default()).into_owned(),
        stderr: String::from_utf8_lossy(&stderr.join().unwrap_or_default()).into_owned(),
    }
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// Fails the case unless `run` ended by itself, without a panic, with exit code 0, 1 or 2, and,
/// when 2, with a stderr that `names_input` accepts.
fn check(run: &Run, names_input: impl Fn(&str) -> bool) -> Result<(), TestCaseError> {
    prop_assert!(!run.hung, "sim hung: {}", run.describe());
    prop_assert!(
        !run.stderr.contains("panicked"),
        "sim panicked: {}",
        run.describe()
    );
    prop_assert!(
        matches!(run.code, Some(0..=2)),
        "exit code not 0, 1 or 2: {}",
        run.describe()
    );
    if run.code == Some(2) {
        prop_assert!(
            !run.stderr.trim().is_empty() && names_input(&run.stderr),
            "exit 2 without naming the input: {}",
            run.describe()
        );
        prop_assert!(
            run.stderr.len() <= MAX_ERROR_BYTES,
            "an error that echoes its input: {}",
            run.describe()
        );
    }
    Ok(())
}

/// A directory of this test's own, removed when it ends.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Scratch {
        let dir =
            std::env::temp_dir().join(format!("durasim-fuzz-inputs-{}-{test}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create scratch dir");
        Scratch(dir)
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).display().to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/temporal-histories")
        .join(name)
}

const HISTORIES: &[&str] = &[
    "transfer-completed.json",
    "transfer-failed.json",
    "transfer-retried.json",
    "transfer-worker-killed.json",
    "greeting-sleep-30d.json",
];

/// File names for the mutated inputs: the error must name the file however it is spelt.
const FILE_NAMES: &[&str] = &[
    "input.json",
    "with space.json",
    "ünïcödé-历史.json",
    "no-extension",
    "-leading-dash.json",
];

/// `cases` cases unless `PROPTEST_CASES` asks for more or fewer; failures are reported, not
/// saved to a `proptest-regressions` file (kept inputs are the `#[test]`s at the end).
fn config(cases: u32) -> Config {
    let mut c = Config::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        c.cases = cases;
    }
    c.failure_persistence = None;
    c
}

fn run_cases<S: Strategy>(
    cases: u32,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) {
    let mut runner = TestRunner::new(config(cases));
    if let Err(e) = runner.run(&strategy, test) {
        panic!("{e}");
    }
}

// ---------------------------------------------------------------------------------------------
// Mutating a JSON document
// ---------------------------------------------------------------------------------------------

/// A value written in place of a node or under a new key.
#[derive(Clone, Debug)]
enum Junk {
    Json(Value),
    /// Number text no `f64` or `u64` holds (`1e400`), spliced into the written document.
    Raw(&'static str),
    /// A 100 KB string.
    Long,
    /// `depth` nested arrays (or objects), spliced into the written document.
    Deep {
        depth: usize,
        arrays: bool,
    },
}

/// One change to the parsed document. Numbers pick an event, a node or a key modulo how many
/// there are, so every edit applies to any document; `shallow` picks among the top three
/// levels only (the document, its `events`, each event and its fields).
#[derive(Clone, Debug)]
enum TreeEdit {
    DeleteEvent(usize),
    DuplicateEvent(usize),
    SwapEvents(usize, usize),
    Replace {
        node: usize,
        shallow: bool,
        with: Junk,
    },
    DeleteKey {
        node: usize,
        shallow: bool,
        key: usize,
    },
    InsertKey {
        node: usize,
        shallow: bool,
        key: String,
        with: Junk,
    },
}

/// One change to the written document's bytes.
#[derive(Clone, Debug)]
enum ByteEdit {
    Flip { at: usize, mask: u8 },
    Truncate { at: usize },
    Insert { at: usize, bytes: Vec<u8> },
    Bom,
}

#[derive(Clone, Debug)]
struct Mutation {
    tree: Vec<TreeEdit>,
    pretty: bool,
    bytes: Vec<ByteEdit>,
}

/// Strings that parse as something else, or almost do.
const STRINGS: &[&str] = &[
    "",
    "0",
    "-1",
    "1",
    "9223372036854775808",
    "18446744073709551616",
    "1e400",
    "10s",
    "-5s",
    "1.5s",
    "99999999999999999999s",
    "2026-11-25T09:42:43.989395239Z",
    "2026-13-45T25:61:61Z",
    "EVENT_TYPE_TIMER_FIRED",
    "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED",
    "EVENT_TYPE_",
    "WorkflowExecutionStarted",
    "ActivityTaskCompleted",
    "MoneyTransfer",
    "Greeting",
    "anNvbi9wbGFpbg==",
    "not base64!",
    "eyJ9",
    "all",
    "caller",
    "server",
    "\u{0}",
    "\u{feff}",
    "\u{202e}",
];

/// Number text no `f64` or `u64` holds, or holds differently.
const RAW_NUMBERS: &[&str] = &[
    "1e400",
    "-1e400",
    "1e-400",
    "18446744073709551616",
    "-9223372036854775809",
    "-0",
    "0.0",
    "1E2",
];

/// Byte strings to insert: invalid UTF-8, a BOM where none belongs, JSON punctuation, escapes.
const BYTES: &[&[u8]] = &[
    &[0xff],
    &[0xc3],
    &[0xed, 0xa0, 0x80],
    &[0xf4, 0x90, 0x80, 0x80],
    &[0xef, 0xbb, 0xbf],
    &[0],
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"\"",
    b"\\",
    b"\\ud800",
    b"\\u0000",
    b"null",
    b"/*",
];

fn junk(number: BoxedStrategy<Value>) -> impl Strategy<Value = Junk> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number,
        select(STRINGS).prop_map(Value::from),
        any::<String>().prop_map(Value::String),
    ];
    let json = leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..3).prop_map(Value::Array),
            vec(("[a-zA-Z]{1,8}", inner), 0..3)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    });
    prop_oneof![
        8 => json.prop_map(Junk::Json),
        2 => select(RAW_NUMBERS).prop_map(Junk::Raw),
        1 => Just(Junk::Long),
        1 => (select(&[100usize, 127, 128, 129, 1000, 100_000][..]), any::<bool>())
            .prop_map(|(depth, arrays)| Junk::Deep { depth, arrays }),
    ]
}

fn tree_edit(number: BoxedStrategy<Value>) -> impl Strategy<Value = TreeEdit> {
    let key = prop_oneof![
        "[a-zA-Z_]{1,12}",
        select(&["eventId", "eventType", "events", "kind", "on", ""][..]).prop_map(String::from),
    ];
    prop_oneof![
        1 => any::<usize>().prop_map(TreeEdit::DeleteEvent),
        1 => any::<usize>().prop_map(TreeEdit::DuplicateEvent),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| TreeEdit::SwapEvents(a, b)),
        4 => (any::<usize>(), any::<bool>(), junk(number.clone()))
            .prop_map(|(node, shallow, with)| TreeEdit::Replace { node, shallow, with }),
        2 => (any::<usize>(), any::<bool>(), any::<usize>())
            .prop_map(|(node, shallow, key)| TreeEdit::DeleteKey { node, shallow, key }),
        1 => (any::<usize>(), any::<bool>(), key, junk(number)).prop_map(
            |(node, shallow, key, with)| TreeEdit::InsertKey { node, shallow, key, with }
        ),
    ]
}

/// `digits`: whether inserted bytes may be ASCII digits (a plan's times stay small without).
fn byte_edit(digits: bool) -> impl Strategy<Value = ByteEdit> {
    let bytes = prop_oneof![
        select(BYTES).prop_map(|b| b.to_vec()),
        vec(any::<u8>(), 1..4).prop_map(move |mut b| {
            if !digits {
                b.iter_mut()
                    .filter(|c| c.is_ascii_digit())
                    .for_each(|c| *c = b'x');
            }
            b
        }),
    ];
    prop_oneof![
        (any::<usize>(), 1..=u8::MAX).prop_map(|(at, mask)| ByteEdit::Flip { at, mask }),
        any::<usize>().prop_map(|at| ByteEdit::Truncate { at }),
        (any::<usize>(), bytes).prop_map(|(at, bytes)| ByteEdit::Insert { at, bytes }),
        Just(ByteEdit::Bom),
    ]
}

fn mutation(number: BoxedStrategy<Value>, digits: bool) -> impl Strategy<Value = Mutation> {
    (
        // Most edits leave a document `sim` refuses at once; some cases have none, to reach the
        // checks behind the parser and the runs behind the checks.
        prop_oneof![1 => Just(Vec::new()), 2 => vec(tree_edit(number), 1..4)],
        any::<bool>(),
        prop_oneof![2 => Just(Vec::new()), 1 => vec(byte_edit(digits), 1..3)],
    )
        .prop_map(|(tree, pretty, bytes)| Mutation {
            tree,
            pretty,
            bytes,
        })
}

/// JSON pointer of every node with its depth, the document first (a worklist, not recursion:
/// the documents are the fixtures', but the habit holds).
fn pointers(doc: &Value) -> Vec<(String, usize, &Value)> {
    let mut out = Vec::new();
    let mut work = vec![(String::new(), 0, doc)];
    while let Some((ptr, depth, v)) = work.pop() {
        match v {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate().rev() {
                    work.push((format!("{ptr}/{i}"), depth + 1, item));
                }
            }
            Value::Object(m) => {
                for (k, item) in m.iter().rev() {
                    let k = k.replace('~', "~0").replace('/', "~1");
                    work.push((format!("{ptr}/{k}"), depth + 1, item));
                }
            }
            _ => {}
        }
        out.push((ptr, depth, v));
    }
    out
}

/// The pointer of the `n`-th node (modulo) that `want` accepts.
fn pick(doc: &Value, n: usize, shallow: bool, want: impl Fn(&Value) -> bool) -> Option<String> {
    let nodes: Vec<String> = pointers(doc)
        .into_iter()
        .filter(|(_, depth, v)| (!shallow || *depth <= 3) && want(v))
        .map(|(p, ..)| p)
        .collect();
    (!nodes.is_empty()).then(|| nodes[n % nodes.len()].clone())
}

fn events_mut(doc: &mut Value) -> Option<&mut Vec<Value>> {
    match doc {
        Value::Array(events) => Some(events),
        Value::Object(m) => m.get_mut("events")?.as_array_mut(),
        _ => None,
    }
}

/// Writes `junk` as a value; text that is no `Value` becomes a marker replaced once written.
fn place(junk: &Junk, splices: &mut Vec<String>) -> Value {
    let raw = match junk {
        Junk::Json(v) => return v.clone(),
        Junk::Long => return Value::String("ü".repeat(50_000)),
        Junk::Raw(text) => text.to_string(),
        Junk::Deep {
            depth,
            arrays: true,
        } => format!("{}{}", "[".repeat(*depth), "]".repeat(*depth)),
        Junk::Deep {
            depth,
            arrays: false,
        } => format!("{}null{}", "{\"a\":".repeat(*depth), "}".repeat(*depth)),
    };
    splices.push(raw);
    Value::String(format!("@@splice-{}@@", splices.len() - 1))
}

fn apply_tree(doc: &mut Value, edit: &TreeEdit, splices: &mut Vec<String>) {
    match edit {
        TreeEdit::DeleteEvent(i) => {
            if let Some(events) = events_mut(doc).filter(|e| !e.is_empty()) {
                events.remove(i % events.len());
            }
        }
        TreeEdit::DuplicateEvent(i) => {
            if let Some(events) = events_mut(doc).filter(|e| !e.is_empty()) {
                let i = i % events.len();
                events.insert(i, events[i].clone());
            }
        }
        TreeEdit::SwapEvents(a, b) => {
            if let Some(events) = events_mut(doc).filter(|e| !e.is_empty()) {
                let n = events.len();
                events.swap(a % n, b % n);
            }
        }
        TreeEdit::Replace {
            node,
            shallow,
            with,
        } => {
            if let Some(p) = pick(doc, *node, *shallow, |_| true) {
                let value = place(with, splices);
                if let Some(v) = doc.pointer_mut(&p) {
                    *v = value;
                }
            }
        }
        TreeEdit::DeleteKey { node, shallow, key } => {
            let has_keys = |v: &Value| v.as_object().is_some_and(|m| !m.is_empty());
            if let Some(p) = pick(doc, *node, *shallow, has_keys) {
                if let Some(m) = doc.pointer_mut(&p).and_then(Value::as_object_mut) {
                    let k = m.keys().nth(key % m.len()).cloned().unwrap_or_default();
                    m.shift_remove(&k);
                }
            }
        }
        TreeEdit::InsertKey {
            node,
            shallow,
            key,
            with,
        } => {
            if let Some(p) = pick(doc, *node, *shallow, Value::is_object) {
                let value = place(with, splices);
                if let Some(m) = doc.pointer_mut(&p).and_then(Value::as_object_mut) {
                    m.insert(key.clone(), value);
                }
            }
        }
    }
}

fn apply_bytes(bytes: &mut Vec<u8>, edit: &ByteEdit) {
    match edit {
        ByteEdit::Flip { at, mask } => {
            if !bytes.is_empty() {
                let n = bytes.len();
                bytes[at % n] ^= mask;
            }
        }
        ByteEdit::Truncate { at } => bytes.truncate(at % (bytes.len() + 1)),
        ByteEdit::Insert { at, bytes: b } => {
            let at = at % (bytes.len() + 1);
            bytes.splice(at..at, b.iter().copied());
        }
        ByteEdit::Bom => {
            bytes.splice(0..0, [0xef, 0xbb, 0xbf]);
        }
    }
}

/// The document with the mutation applied, as the bytes of a file.
fn mutate(doc: &Value, m: &Mutation) -> Vec<u8> {
    let mut doc = doc.clone();
    let mut splices = Vec::new();
    for e in &m.tree {
        apply_tree(&mut doc, e, &mut splices);
    }
    let mut text = if m.pretty {
        serde_json::to_string_pretty(&doc)
    } else {
        serde_json::to_string(&doc)
    }
    .expect("a Value serialises");
    for (i, raw) in splices.iter().enumerate() {
        text = text.replace(&format!("\"@@splice-{i}@@\""), raw);
    }
    let mut bytes = text.into_bytes();
    for e in &m.bytes {
        apply_bytes(&mut bytes, e);
    }
    bytes
}

// ---------------------------------------------------------------------------------------------
// 1. History files: `sim show`, `sim show --detailed`, `sim replay`
// ---------------------------------------------------------------------------------------------

/// Any number: a history's numbers only count (events, attempts) or name, never wait.
fn history_number() -> BoxedStrategy<Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        (0i64..=20).prop_map(Value::from),
    ]
    .boxed()
}

/// Runs `show`, `show --detailed` and `replay --workflow MoneyTransfer` on the file.
fn show_and_replay(path: &str) -> Result<(), TestCaseError> {
    for a in [
        args(&["show", path]),
        args(&["show", "--detailed", path]),
        args(&["replay", path, "--workflow", "MoneyTransfer"]),
    ] {
        check(&sim(&a), |stderr| stderr.contains(path))?;
    }
    Ok(())
}

#[test]
fn mutated_histories_are_shown_replayed_or_refused_by_name() {
    let scratch = Scratch::new("histories");
    let docs: Vec<Value> = HISTORIES
        .iter()
        .map(|n| serde_json::from_str(&fs::read_to_string(fixture(n)).unwrap()).unwrap())
        .collect();
    let strategy = (
        0..docs.len(),
        mutation(history_number(), true),
        select(FILE_NAMES),
    );
    run_cases(1_000, strategy, |(doc, m, name)| {
        let path = scratch.path(name);
        fs::write(&path, mutate(&docs[doc], &m)).unwrap();
        show_and_replay(&path)
    });
}

// ---------------------------------------------------------------------------------------------
// 2. Fault plans: `sim run money-transfer --seed N --plan FILE --faults none`
// ---------------------------------------------------------------------------------------------

/// The money-transfer topology's nodes.
const NODES: &[&str] = &[
    "server", "worker-1", "worker-2", "worker-3", "bank", "client",
];

/// Times in a plan stay small, so a run takes milliseconds: a valid plan that heals after days
/// of virtual time takes seconds to minutes of wall time.
const PLAN_MS_MAX: u64 = 3_500;

/// Small numbers, or numbers that break a field's bounds (past 30 days, past `u32`, `u64`), never
/// valid ones that would make a run long.
fn plan_number() -> BoxedStrategy<Value> {
    prop_oneof![
        4 => (0u64..=PLAN_MS_MAX).prop_map(Value::from),
        1 => (-5i64..0).prop_map(Value::from),
        1 => select(&[0.0, 0.5, 1.0, 1.5, -0.25, 1e-9][..]).prop_map(Value::from),
        1 => select(
            &[
                4_294_967_296u64,
                2_592_000_001,
                i64::MAX as u64 + 1,
                u64::MAX,
            ][..]
        )
        .prop_map(Value::from),
        1 => Just(Value::from(i64::MIN)),
    ]
    .boxed()
}

/// `good` 19 times in 20, else `bad`: a plan of a few events is valid about half the time.
fn mostly<T: std::fmt::Debug>(
    good: impl Strategy<Value = T> + 'static,
    bad: impl Strategy<Value = T> + 'static,
) -> impl Strategy<Value = T> {
    prop_oneof![19 => good, 1 => bad]
}

fn plan_ms() -> impl Strategy<Value = u64> {
    0..=PLAN_MS_MAX
}

fn nth() -> impl Strategy<Value = u32> {
    mostly(1u32..12, Just(0))
}

fn node() -> impl Strategy<Value = Value> {
    mostly(select(NODES), select(&["worker-9", "", "Server"][..])).prop_map(Value::from)
}

fn target() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!("all")),
        node().prop_map(|n| json!({ "node": n })),
        (node(), node()).prop_map(|(from, to)| json!({ "link": { "from": from, "to": to } })),
    ]
}

fn when() -> impl Strategy<Value = Value> {
    let event_types = mostly(
        select(
            &[
                "WorkflowTaskCompleted",
                "ActivityTaskScheduled",
                "ActivityTaskCompleted",
                "TimerStarted",
                "EVENT_TYPE_ACTIVITY_TASK_STARTED",
            ][..],
        ),
        Just("ActivityStarted"),
    );
    let effect = (
        mostly(Just("bank"), select(&["server", "nope"][..])),
        mostly(Just("deposit"), select(&["withdraw", "refund"][..])),
        nth(),
    );
    prop_oneof![
        3 => mostly(0..=1_000u64, plan_ms()).prop_map(|ms| json!({ "on": "at", "ms": ms })),
        1 => effect.prop_map(|(service, operation, nth)| json!({
            "on": "effect", "service": service, "operation": operation, "nth": nth
        })),
        1 => (event_types, nth()).prop_map(|(event_type, nth)| json!({
            "on": "history", "event_type": event_type, "nth": nth
        })),
        1 => (nth(), 0u32..30).prop_map(|(nth, more)| json!({
            "on": "store_write", "nth": if nth == 0 { 0 } else { nth + more }
        })),
    ]
}

fn fault() -> impl Strategy<Value = Value> {
    let rate = mostly(
        select(&[0.01, 0.3, 0.5, 1.0][..]),
        select(&[0.0, 1.5, -0.5][..]),
    );
    let killed = prop_oneof![
        Just(json!("caller")),
        node().prop_map(|n| json!({ "named": n })),
    ];
    // A delay range is `min <= max`, but for one time in twenty.
    let delay_range =
        (plan_ms(), plan_ms(), mostly(Just(true), Just(false))).prop_map(|(a, b, ordered)| {
            if ordered {
                (a.min(b), a.max(b))
            } else {
                (a.max(b), a.min(b))
            }
        });
    prop_oneof![
        (
            select(&["drop", "duplicate"][..]),
            target(),
            rate,
            plan_ms()
        )
            .prop_map(|(kind, target, rate, duration_ms)| json!({
                "kind": kind, "target": target, "rate": rate, "duration_ms": duration_ms
            })),
        (target(), delay_range, plan_ms()).prop_map(|(target, (min_ms, max_ms), d)| {
            json!({
                "kind": "delay", "target": target, "min_ms": min_ms, "max_ms": max_ms,
                "duration_ms": d
            })
        }),
        (target(), nth()).prop_map(
            |(target, count)| json!({ "kind": "drop_next", "target": target, "count": count })
        ),
        (mostly(vec(node(), 1..3), Just(Vec::new())), plan_ms()).prop_map(
            |(nodes, d)| json!({ "kind": "partition", "nodes": nodes, "duration_ms": d })
        ),
        (node(), node(), plan_ms()).prop_map(|(from, to, d)| json!({
            "kind": "one_way_partition", "from": from, "to": to, "duration_ms": d
        })),
        (killed, plan_ms()).prop_map(|(node, restart_after_ms)| json!({
            "kind": "kill", "node": node, "restart_after_ms": restart_after_ms
        })),
        (node(), -5_000i64..5_000, plan_ms()).prop_map(|(node, skew_ms, d)| json!({
            "kind": "clock_skew", "node": node, "skew_ms": skew_ms, "duration_ms": d
        })),
    ]
}

/// A plan of the documented shape: about half valid, the rest with one thing a run cannot do
/// (an unknown node, a rate of 0, a time after the heal, `nth` 0, an empty partition).
fn plan() -> impl Strategy<Value = Value> {
    let heal_at_ms = mostly(1_000..=3_000u64, 0..1_000u64);
    (vec((when(), fault()), 0..5), heal_at_ms).prop_map(|(events, heal_at_ms)| {
        let events: Vec<Value> = events
            .into_iter()
            .map(|(when, fault)| json!({ "when": when, "fault": fault }))
            .collect();
        json!({ "events": events, "heal_at_ms": heal_at_ms })
    })
}

/// The plan `sim run money-transfer --seed 3 --faults chaos --out DIR` writes.
fn recorded_plan(scratch: &Scratch) -> Value {
    let out = scratch.path("recorded");
    let run = sim(&args(&[
        "run",
        "money-transfer",
        "--seed",
        "3",
        "--faults",
        "chaos",
        "--out",
        &out,
    ]));
    assert_eq!(run.code, Some(0), "{}", run.describe());
    let text = fs::read_to_string(Path::new(&out).join("seed-3/plan.json")).unwrap();
    let plan: Value = serde_json::from_str(&text).unwrap();
    let heal = plan["heal_at_ms"].as_u64().unwrap();
    assert!(heal < 10_000, "a chaos plan heals within seconds: {heal}");
    plan
}

fn run_plan(path: &str, seed: u64) -> Result<(), TestCaseError> {
    let seed = seed.to_string();
    let a = args(&[
        "run",
        "money-transfer",
        "--seed",
        &seed,
        "--plan",
        path,
        "--faults",
        "none",
    ]);
    check(&sim(&a), |stderr| stderr.contains(path))
}

#[test]
fn mutated_plans_run_or_are_refused_by_name() {
    let scratch = Scratch::new("plans");
    let base = prop_oneof![1 => Just(recorded_plan(&scratch)), 3 => plan()];
    let strategy = (
        base,
        mutation(plan_number(), false),
        0u64..1_000,
        select(FILE_NAMES),
    );
    run_cases(800, strategy, |(plan, m, seed, name)| {
        let path = scratch.path(name);
        fs::write(&path, mutate(&plan, &m)).unwrap();
        run_plan(&path, seed)
    });
}

/// A plan of the documented shape (one drop, healed at 1 s), which command lines may name.
const DOCUMENTED_PLAN: &[u8] = br#"{"events":[{"when":{"on":"at","ms":5},"fault":{"kind":"drop","target":"all","rate":0.5,"duration_ms":100}}],"heal_at_ms":1000}"#;

#[test]
fn the_documented_plan_shape_runs() {
    let scratch = Scratch::new("documented-plan");
    let path = scratch.path("plan.json");
    fs::write(&path, DOCUMENTED_PLAN).unwrap();
    let run = sim(&args(&[
        "run",
        "money-transfer",
        "--seed",
        "1",
        "--plan",
        &path,
        "--faults",
        "none",
    ]));
    assert_eq!(run.code, Some(0), "{}", run.describe());
}

// ---------------------------------------------------------------------------------------------
// 3. Command lines
// ---------------------------------------------------------------------------------------------

const SUBCOMMANDS: &[&str] = &[
    "run", "run", "run", "run", "show", "show", "replay", "replay", "list", "help", "--help", "-V",
    "RUN", "", "rnu", "--seed",
];

const SCENARIOS: &[&str] = &[
    "money-transfer",
    "money-transfer-buggy",
    "money-transfer-clock",
    "transfer-completed",
    "transfer-retried",
    "transfer-failed",
    "transfer-worker-killed",
    "greeting",
    "expense-report",
    "nope",
    "",
    "Money-Transfer",
];

/// One `--seed` value: any, since it runs one seed.
const SEEDS: &[&str] = &[
    "0",
    "1",
    "3",
    "18446744073709551615",
    "18446744073709551616",
    "-1",
    "x",
    "",
    " 2",
    "1e3",
    "0x10",
];

/// `--seeds` values: three seeds at most, or none that parse.
const RANGES: &[&str] = &[
    "0..0",
    "5..1",
    "x..3",
    "0..3",
    "1..2",
    " 1 .. 3 ",
    "18446744073709551612..18446744073709551615",
    "18446744073709551615..18446744073709551616",
    "18446744073709551616..18446744073709551617",
    "..",
    "0..",
    "..3",
    "3",
    "0...3",
    "0..=2",
    "-1..2",
    "",
];

const SHARDS: &[&str] = &[
    "0/1",
    "1/2",
    "2/2",
    "3/2",
    "0/0",
    "1/0",
    "x/2",
    "",
    "/",
    "0/18446744073709551615",
    "18446744073709551616/1",
    "-1/2",
    "1/2/3",
];

const JOBS: &[&str] = &["0", "1", "2", "1024", "1025", "5000", "-1", "x", ""];

const NUMBERS: &[&str] = &["0", "1", "-1", "99999999999999999999999", "x", ""];

const WORKFLOWS: &[&str] = &["MoneyTransfer", "Greeting", "ExpenseReport", "", "nope"];

/// Files and directories a command line may name.
struct Paths {
    history: String,
    histories: String,
    plan: String,
    missing: String,
    scratch: String,
    out: String,
}

fn group(parts: &[&str]) -> Vec<String> {
    args(parts)
}

/// A random command line that never starts a long run: a `run` gets one seed-selection flag
/// (at most three seeds) and one `--faults` (`none` unless it is junk).
fn command_line(p: &Paths) -> impl Strategy<Value = Vec<String>> {
    let files = vec![
        p.history.clone(),
        p.histories.clone(),
        p.plan.clone(),
        p.missing.clone(),
        p.scratch.clone(),
        "/dev/null".to_string(),
        "/dev/zero".to_string(),
        "-".to_string(),
    ];
    let positional = prop_oneof![
        select(SCENARIOS).prop_map(|s| vec![s.to_string()]),
        select(files.clone()).prop_map(|f| vec![f]),
    ];
    let seed_range = (0u64..4, 0u64..5).prop_map(|(a, b)| format!("{a}..{b}"));
    let seeds = prop_oneof![
        select(SEEDS).prop_map(|s| group(&["--seed", s])),
        select(RANGES).prop_map(|r| group(&["--seeds", r])),
        seed_range.prop_map(|r| group(&["--seeds", &r])),
        (select(SEEDS), select(RANGES)).prop_map(|(s, r)| group(&["--seed", s, "--seeds", r])),
        select(SEEDS).prop_map(|s| vec![format!("--seed={s}")]),
        Just(group(&["--seed", "1", "--seed", "2"])),
    ];
    let faults = prop_oneof![
        4 => Just(group(&["--faults", "none"])),
        1 => select(&["", "junk", "NONE", "none,chaos", "--seed"][..])
            .prop_map(|f| group(&["--faults", f])),
    ];
    let plan_files = vec![
        p.plan.clone(),
        p.missing.clone(),
        p.history.clone(),
        p.scratch.clone(),
    ];
    let out_dirs = vec![
        p.out.clone(),
        "/dev/null/out".to_string(),
        p.history.clone(),
    ];
    let flag = prop_oneof![
        select(SHARDS).prop_map(|s| group(&["--shard", s])),
        select(JOBS).prop_map(|j| group(&["--jobs", j])),
        select(plan_files).prop_map(|f| group(&["--plan", &f])),
        select(out_dirs).prop_map(|d| group(&["--out", &d])),
        select(WORKFLOWS).prop_map(|w| group(&["--workflow", w])),
        (
            select(&["--shrink-runs", "--shrink-limit"][..]),
            select(NUMBERS)
        )
            .prop_map(|(f, n)| group(&[f, n])),
        select(
            &[
                "--json",
                "--evict",
                "--check-determinism",
                "--detailed",
                "--bogus",
                "-s",
                "--",
                "-",
                "",
                "--seed",
                "--jobs=2",
                "--help",
            ][..]
        )
        .prop_map(|f| group(&[f])),
        positional.clone(),
    ];
    (
        select(SUBCOMMANDS),
        vec(positional, 0..3),
        seeds,
        faults,
        vec(flag, 0..4),
    )
        .prop_flat_map(|(sub, positionals, seeds, faults, flags)| {
            let mut groups = positionals;
            groups.push(seeds);
            groups.push(faults);
            groups.extend(flags);
            (Just(sub), Just(groups).prop_shuffle())
        })
        .prop_map(|(sub, groups)| {
            let mut line = vec![sub.to_string()];
            line.extend(groups.into_iter().flatten());
            line
        })
}

/// The environment a command line runs under: mostly none, else `SIM_SEED`, `MADSIM_TEST_SEED`
/// or `SIM_PLAN` with good and bad values (`/dev/zero` among the plans).
fn environment(p: &Paths) -> impl Strategy<Value = Vec<(String, String)>> {
    let plans = vec![
        p.plan.clone(),
        p.missing.clone(),
        p.history.clone(),
        p.scratch.clone(),
        "/dev/zero".to_string(),
    ];
    let one = prop_oneof![
        select(SEEDS).prop_map(|s| ("SIM_SEED".to_string(), s.to_string())),
        select(SEEDS).prop_map(|s| ("MADSIM_TEST_SEED".to_string(), s.to_string())),
        select(plans).prop_map(|f| ("SIM_PLAN".to_string(), f)),
    ];
    prop_oneof![3 => Just(Vec::new()), 1 => vec(one, 1..3)]
}

/// Whether the first lines of an error name one of the arguments (or, for `--flag=value`, the
/// flag or the value), or the argument clap found missing (`'<FILE>'`).
fn names_an_argument(stderr: &str, line: &[String]) -> bool {
    let head: String = stderr.lines().take(2).collect::<Vec<_>>().join("\n");
    let names = |a: &str| {
        head.contains(&format!("'{a}'"))
            || head.contains(&format!("{a:?}"))
            || (a.len() >= 3 && head.contains(a))
    };
    head.contains("'<")
        || head.contains("\n  <")
        || head.contains("requires a subcommand")
        || line.iter().any(|a| {
            names(a)
                || a.split_once('=')
                    .is_some_and(|(flag, value)| names(flag) || names(value))
        })
}

#[test]
fn random_command_lines_end_in_0_1_or_2_and_usage_errors_name_the_argument() {
    let scratch = Scratch::new("cli");
    let plan = scratch.path("plan.json");
    fs::write(&plan, DOCUMENTED_PLAN).unwrap();
    let paths = Paths {
        history: fixture("transfer-completed.json").display().to_string(),
        histories: fixture("").display().to_string(),
        plan,
        missing: scratch.path("missing.json"),
        scratch: scratch.0.display().to_string(),
        out: scratch.path("out"),
    };
    let cases = (command_line(&paths), environment(&paths));
    run_cases(1_500, cases, |(line, env)| {
        let run = sim_with(&line, &env);
        check(&run, |stderr| {
            names_an_argument(stderr, &line)
                || env
                    .iter()
                    .any(|(var, _)| stderr.starts_with(&format!("error: {var}: ")))
        })?;
        // A sweep an environment variable changed says so on stderr.
        let swept = run.stdout.contains(" seed(s) under ") || run.stdout.contains("\"seeds_run\"");
        prop_assert!(
            !swept || env.is_empty() || run.stderr.contains("from the environment"),
            "an override not reported: {env:?}{}",
            run.describe()
        );
        Ok(())
    });
}

// ---------------------------------------------------------------------------------------------
// Inputs that once broke `sim`
// ---------------------------------------------------------------------------------------------

/// Fails unless `sim` refused the input (exit 2) in a short error that names `name`.
fn assert_refused_naming(run: &Run, name: &str) {
    assert_eq!(run.code, Some(2), "{}", run.describe());
    assert!(run.stderr.contains(name), "{}", run.describe());
    assert!(run.stderr.len() <= MAX_ERROR_BYTES, "{}", run.describe());
}

/// Found by `random_command_lines_...` (`sim run --seed 0 --faults none --shard -1/2`): clap
/// took `-1/2` for short flags and answered "unexpected argument '-1' found", with the tip to
/// write `-- -1`, which does not work. Values that may start with `-` are now taken as values,
/// and the error quotes what was typed.
#[test]
fn a_value_starting_with_a_dash_is_named_as_typed() {
    for (flag, value) in [
        ("--shard", "-1/2"),
        ("--seeds", "-1..2"),
        ("--seed", "-1"),
        ("--jobs", "-1"),
        ("--shrink-runs", "-1"),
        ("--shrink-limit", "-1"),
    ] {
        let mut line = args(&["run", "money-transfer", "--faults", "none", flag, value]);
        if flag != "--seed" && flag != "--seeds" {
            line.extend(args(&["--seed", "1"]));
        }
        let run = sim(&line);
        assert_refused_naming(&run, value);
        assert!(run.stderr.contains(flag), "{}", run.describe());
        assert!(!run.stderr.contains("use '--"), "{}", run.describe());
    }
}

/// Found by `mutated_plans_...` (a node name replaced by a 100 KB string): the plan error
/// quoted the name whole, twice (the event, then "no node named ..."), 200 KB on stderr.
/// History errors were already cut short; plan errors now are too.
#[test]
fn a_plan_error_does_not_echo_a_100_kb_value() {
    let scratch = Scratch::new("long-plan-value");
    let long = "x".repeat(100_000);
    for (name, plan) in [
        (
            "node.json",
            json!({"events": [{"when": {"on": "at", "ms": 5}, "fault": {
                "kind": "drop", "target": {"node": long}, "rate": 0.5, "duration_ms": 100}}],
                "heal_at_ms": 1000}),
        ),
        (
            "kind.json",
            json!({"events": [{"when": {"on": "at", "ms": 5}, "fault": {
                "kind": long, "target": "all", "rate": 0.5, "duration_ms": 100}}],
                "heal_at_ms": 1000}),
        ),
    ] {
        let path = scratch.path(name);
        fs::write(&path, plan.to_string()).unwrap();
        let run = sim(&args(&[
            "run",
            "money-transfer",
            "--seed",
            "1",
            "--plan",
            &path,
            "--faults",
            "none",
        ]));
        assert_refused_naming(&run, &path);
    }
}
