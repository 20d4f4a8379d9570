//! Peak memory of `sim show` and `sim replay` on a large history, against the file's size
//! (issue #14: at most 3x).
//!
//! `cargo bench --bench history_memory [-- --mb 200] [--shape payloads|events]`
//!
//! Writes a valid ExpenseReport history of about `--mb` megabytes (10^6 bytes) in Temporal's
//! JSON format, as `sim run --out` and `temporal workflow show -o json` write it: a report of
//! line items (its input payload, held twice: the workflow's input and the `create_expense`
//! activity's), approved by a signal, then one `payment` activity per item. Two shapes: large
//! payloads (8,000 items with long descriptions, ~48,000 events) and many small events (short
//! descriptions, ~290,000 events). For each, runs `sim show`, `sim show --detailed` and `sim
//! replay --workflow ExpenseReport` on it, each in a child process of its own (this binary
//! again, running the `sim` command as the binary does, with its output going to
//! `/dev/null`), which reads its peak resident set size (`VmHWM` in `/proc/self/status`) when
//! the command is done. Prints the file size, each command's peak RSS, wall time and the
//! ratio to the file size.
//!
//! `--generate FILE [--shape S]` only writes the history (for measuring the binary with
//! `/usr/bin/time -v`).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use base64::Engine as _;
use serde_json::{json, Value};

// The same allocator as the `sim` binary, so the figures are the CLI's.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

const QUEUE: &str = "transfer";
const WORKER: &str = "worker-1@18bae5b3";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn payloads(value: &Value) -> Value {
    let data = serde_json::to_vec(value).expect("a JSON value encodes");
    json!({"payloads": [{"metadata": {"encoding": b64(b"json/plain")}, "data": b64(&data)}]})
}

/// Writes events as `temporal workflow show -o json` does: two-space indentation, one after
/// the other inside `{"events": [...]}`.
struct Writer<W: Write> {
    out: W,
    next_id: u64,
    nanos: u64,
}

impl<W: Write> Writer<W> {
    fn event(&mut self, ty: &str, attrs_key: &str, attrs: Value) -> std::io::Result<u64> {
        let id = self.next_id;
        self.next_id += 1;
        self.nanos += 1_234_567;
        let time = format!(
            "2026-01-01T00:{:02}:{:02}.{:09}Z",
            self.nanos / 60_000_000_000 % 60,
            self.nanos / 1_000_000_000 % 60,
            self.nanos % 1_000_000_000
        );
        let mut event = json!({
            "eventId": id.to_string(),
            "eventTime": time,
            "eventType": ty,
            "taskId": id.to_string(),
        });
        event[attrs_key] = attrs;
        let text = serde_json::to_string_pretty(&event).expect("a JSON value prints");
        self.out.write_all(if id == 1 { b"\n" } else { b",\n" })?;
        for (i, line) in text.lines().enumerate() {
            if i > 0 {
                self.out.write_all(b"\n")?;
            }
            self.out.write_all(b"    ")?;
            self.out.write_all(line.as_bytes())?;
        }
        Ok(id)
    }

    fn workflow_task(&mut self, sticky: bool) -> std::io::Result<u64> {
        let queue = if sticky {
            json!({"name": format!("{WORKER}-sticky"), "kind": "TASK_QUEUE_KIND_STICKY",
                   "normalName": QUEUE})
        } else {
            json!({"name": QUEUE, "kind": "TASK_QUEUE_KIND_NORMAL"})
        };
        let scheduled = self.event(
            "EVENT_TYPE_WORKFLOW_TASK_SCHEDULED",
            "workflowTaskScheduledEventAttributes",
            json!({"taskQueue": queue, "startToCloseTimeout": "10s", "attempt": 1}),
        )?;
        let started = self.event(
            "EVENT_TYPE_WORKFLOW_TASK_STARTED",
            "workflowTaskStartedEventAttributes",
            json!({"scheduledEventId": scheduled.to_string(), "identity": WORKER,
                   "requestId": format!("wft-{scheduled}"), "historySizeBytes": "512"}),
        )?;
        self.event(
            "EVENT_TYPE_WORKFLOW_TASK_COMPLETED",
            "workflowTaskCompletedEventAttributes",
            json!({"scheduledEventId": scheduled.to_string(),
                   "startedEventId": started.to_string(), "identity": WORKER}),
        )
    }

    /// An activity scheduled by the task completed as `completed`, started and completed with
    /// `result`.
    fn activity(
        &mut self,
        completed: u64,
        activity_id: usize,
        name: &str,
        input: &Value,
        result: &Value,
    ) -> std::io::Result<()> {
        let scheduled = self.event(
            "EVENT_TYPE_ACTIVITY_TASK_SCHEDULED",
            "activityTaskScheduledEventAttributes",
            json!({
                "activityId": activity_id.to_string(),
                "activityType": {"name": name},
                "taskQueue": {"name": QUEUE, "kind": "TASK_QUEUE_KIND_NORMAL"},
                "input": payloads(input),
                "scheduleToCloseTimeout": "0s",
                "scheduleToStartTimeout": "0s",
                "startToCloseTimeout": "10s",
                "heartbeatTimeout": "0s",
                "workflowTaskCompletedEventId": completed.to_string(),
                "retryPolicy": {"initialInterval": "1s", "backoffCoefficient": 2,
                                "maximumInterval": "100s"},
            }),
        )?;
        let started = self.event(
            "EVENT_TYPE_ACTIVITY_TASK_STARTED",
            "activityTaskStartedEventAttributes",
            json!({"scheduledEventId": scheduled.to_string(), "identity": WORKER,
                   "requestId": format!("act-{scheduled}"), "attempt": 1}),
        )?;
        self.event(
            "EVENT_TYPE_ACTIVITY_TASK_COMPLETED",
            "activityTaskCompletedEventAttributes",
            json!({"result": payloads(result), "scheduledEventId": scheduled.to_string(),
                   "startedEventId": started.to_string(), "identity": WORKER}),
        )?;
        Ok(())
    }
}

/// The ExpenseReport history, its descriptions `description_len` bytes long. Returns the bytes
/// written.
fn write_history(path: &Path, items: usize, description_len: usize) -> std::io::Result<u64> {
    let filler: String = "lorem ipsum dolor sit amet, consectetur adipiscing elit; "
        .chars()
        .cycle()
        .take(description_len)
        .collect();
    let amount = |i: usize| 10 + (i % 90) as i64;
    let lines: Vec<Value> = (0..items)
        .map(|i| json!({"description": format!("item {i}: {filler}"), "amount": amount(i)}))
        .collect();
    let input = json!({"report_id": "R-1", "employee_account": "EMP-1", "items": lines,
                       "approval_timeout_s": 3600, "auto_approve_below": 0});
    let mut w = Writer {
        out: BufWriter::with_capacity(1 << 20, File::create(path)?),
        next_id: 1,
        nanos: 0,
    };
    w.out.write_all(b"{\n  \"events\": [")?;
    w.event(
        "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED",
        "workflowExecutionStartedEventAttributes",
        json!({
            "workflowType": {"name": "ExpenseReport"},
            "taskQueue": {"name": QUEUE, "kind": "TASK_QUEUE_KIND_NORMAL"},
            "input": payloads(&input),
            "workflowTaskTimeout": "10s",
            "originalExecutionRunId": "92e07f12-cff8-46f6-a02e-489e6b6b8007",
            "identity": "client",
            "firstExecutionRunId": "92e07f12-cff8-46f6-a02e-489e6b6b8007",
            "attempt": 1,
            "firstWorkflowTaskBackoff": "0s",
            "workflowId": "expense-large",
        }),
    )?;
    let completed = w.workflow_task(false)?;
    w.activity(completed, 1, "create_expense", &input, &json!("EXP-R-1"))?;
    drop(input);
    let completed = w.workflow_task(true)?;
    let timer = w.event(
        "EVENT_TYPE_TIMER_STARTED",
        "timerStartedEventAttributes",
        json!({"timerId": "1", "startToFireTimeout": "3600s",
               "workflowTaskCompletedEventId": completed.to_string()}),
    )?;
    w.event(
        "EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED",
        "workflowExecutionSignaledEventAttributes",
        json!({"signalName": "approve", "input": payloads(&json!({"by": "manager", "reason": "ok"})),
               "identity": "client", "requestId": "signal-approve"}),
    )?;
    let mut completed = w.workflow_task(true)?;
    w.event(
        "EVENT_TYPE_TIMER_CANCELED",
        "timerCanceledEventAttributes",
        json!({"timerId": "1", "startedEventId": timer.to_string(),
               "workflowTaskCompletedEventId": completed.to_string(), "identity": WORKER}),
    )?;
    let mut paid = Vec::with_capacity(items);
    for i in 0..items {
        let request = json!({"report_id": "R-1", "item_index": i, "account": "EMP-1",
                             "amount": amount(i)});
        let tx = format!("D-R-1-item-{i}");
        w.activity(completed, i + 2, "payment", &request, &json!(tx))?;
        paid.push(tx);
        completed = w.workflow_task(true)?;
    }
    let total: i64 = (0..items).map(amount).sum();
    let result = format!(
        "EXP-R-1 approved by manager; paid {items} items ({total}): {}",
        paid.join(", ")
    );
    w.event(
        "EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED",
        "workflowExecutionCompletedEventAttributes",
        json!({"result": payloads(&json!(result)),
               "workflowTaskCompletedEventId": completed.to_string()}),
    )?;
    w.out.write_all(b"\n  ]\n}\n")?;
    w.out.flush()?;
    Ok(std::fs::metadata(path)?.len())
}

/// What fills the history: a few large payloads (8,000 line items with long descriptions,
/// ~48,000 events) or many small events (short descriptions, as many items as fit: ~290,000
/// events, each parsed and held on its own).
#[derive(Clone, Copy)]
enum Shape {
    Payloads,
    Events,
}

/// Writes the history at about `bytes` bytes; returns its size and its number of items.
fn generate(path: &Path, bytes: u64, shape: Shape) -> std::io::Result<(u64, usize)> {
    match shape {
        Shape::Payloads => {
            // The descriptions sized from a file without them (the input payload appears
            // twice, and base64 makes 4 bytes of 3).
            let items = 8_000;
            let base = write_history(path, items, 0)?;
            let per_byte = 2.0 * 4.0 / 3.0 * items as f64;
            let description_len = (bytes.saturating_sub(base) as f64 / per_byte) as usize;
            Ok((write_history(path, items, description_len)?, items))
        }
        Shape::Events => {
            let trial = write_history(path, 1_000, 0)?;
            let items = (bytes as f64 / trial as f64 * 1_000.0) as usize;
            Ok((write_history(path, items, 0)?, items))
        }
    }
}

/// This process's peak resident set size in bytes (`VmHWM`), if the kernel reports it.
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The child: runs one `sim` command line, output to `/dev/null`, then prints
/// `code peak_rss_bytes`.
fn child(args: &[String]) -> std::process::ExitCode {
    let mut line = vec!["sim".to_string()];
    line.extend(args.iter().cloned());
    let mut out = File::create("/dev/null").expect("/dev/null opens");
    let mut err = std::io::stderr();
    let code = sim_cli::run(line, &durasim::catalogue(), &mut out, &mut err);
    println!("{code} {}", peak_rss().unwrap_or(0));
    std::process::ExitCode::SUCCESS
}

fn measure(file: &Path, size: u64, label: &str, args: &[&str]) {
    let start = Instant::now();
    let exe = std::env::current_exe().expect("this binary's path");
    let output = Command::new(exe)
        .arg("--child")
        .args(args)
        .arg(file)
        .output()
        .expect("run the child");
    let wall = start.elapsed().as_secs_f64();
    let text = String::from_utf8_lossy(&output.stdout);
    let mut fields = text.split_whitespace();
    let code = fields.next().unwrap_or("?");
    let peak: u64 = fields.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!(
        "{label:<24} exit {code}  peak RSS {:>7.1} MB  {:>5.2}x the file  {wall:>6.2} s{}",
        peak as f64 / 1e6,
        peak as f64 / size as f64,
        stderr
            .lines()
            .next()
            .map(|l| format!("  ({l})"))
            .unwrap_or_default()
    );
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--child") {
        return child(&args[1..]);
    }
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let mb: u64 = value("--mb").and_then(|m| m.parse().ok()).unwrap_or(200);
    let shapes = match value("--shape").as_deref() {
        Some("payloads") => vec![Shape::Payloads],
        Some("events") => vec![Shape::Events],
        _ => vec![Shape::Payloads, Shape::Events],
    };
    if let Some(path) = value("--generate") {
        let (size, items) =
            generate(Path::new(&path), mb * 1_000_000, shapes[0]).expect("write the history");
        println!("{path}: {:.1} MB, {items} items", size as f64 / 1e6);
        return std::process::ExitCode::SUCCESS;
    }
    for shape in shapes {
        let file = std::env::temp_dir().join(format!(
            "durasim-history-{}-{}.json",
            std::process::id(),
            match shape {
                Shape::Payloads => "payloads",
                Shape::Events => "events",
            }
        ));
        let t = Instant::now();
        let (size, items) = generate(&file, mb * 1_000_000, shape).expect("write the history");
        println!(
            "\n{}: {:.1} MB, {items} line items ({} events), written in {:.1} s",
            match shape {
                Shape::Payloads => "large payloads",
                Shape::Events => "many small events",
            },
            size as f64 / 1e6,
            6 * items + 17,
            t.elapsed().as_secs_f64()
        );
        measure(&file, size, "sim show", &["show"]);
        measure(&file, size, "sim show --detailed", &["show", "--detailed"]);
        measure(
            &file,
            size,
            "sim replay",
            &["replay", "--workflow", "ExpenseReport"],
        );
        let _ = std::fs::remove_file(&file);
    }
    std::process::ExitCode::SUCCESS
}
