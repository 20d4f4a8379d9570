//! Throughput benchmark (not a timed test): `cargo bench -p workflowcheck --bench throughput`.
//!
//! ```text
//! cargo bench -p workflowcheck --bench throughput -- [--runs N] [--clippy WORKSPACE]
//!     [--clippy-runs N] [PATH]            (PATH defaults to ~/.cargo/registry/src)
//! ```
//!
//! Prints, as medians of N runs over the same files: a parse-only pass (read + `syn::parse_file`
//! in parallel), the full workflowcheck scan, the same with `--parse-all`, lines per second,
//! and how many files the scan parsed and skipped (files of crates that cannot reach workflow
//! code are read but not parsed). The three passes run back to back in each round, so the
//! ratios to the parse-only floor are also taken per round (side by side, under the same
//! machine load) and their median and range printed. With `--clippy`, also `cargo clippy` with `disallowed-methods`
//! configured on a copy of the
//! committed WORKSPACE (`git archive HEAD`): cold (fresh target dir, every dependency is
//! checked: the same crates as the registry sources) and warm (only the workspace's own
//! crates re-checked), each as lines per second against the lines clippy had to process.

use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use workflowcheck::config::Config;
use workflowcheck::{check, with_pool, Options};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    let n = v.len();
    if n & 1 == 0 {
        (v[n / 2 - 1] + v[n / 2]) / 2
    } else {
        v[n / 2]
    }
}

/// Median, smallest and largest of per-round ratios.
fn ratio_summary(mut v: Vec<f64>) -> String {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let med = if n & 1 == 0 {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    } else {
        v[n / 2]
    };
    format!("median {med:.2}x (rounds {:.2}-{:.2}x)", v[0], v[n - 1])
}

fn count_lines(files: &[PathBuf]) -> usize {
    files
        .par_iter()
        .map(|p| {
            std::fs::read(p)
                .map(|b| b.iter().filter(|&&c| c == b'\n').count())
                .unwrap_or(0)
        })
        .sum()
}

fn rs_files(dir: &Path) -> Vec<PathBuf> {
    workflowcheck::discover::walk(&[dir.to_path_buf()], &Config::default(), &mut Vec::new())
}

fn clippy_once(ws: &Path, target: &Path) -> Result<Duration, String> {
    let start = Instant::now();
    let out = Command::new("cargo")
        .args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--offline",
            "--quiet",
        ])
        .env("CARGO_TARGET_DIR", target)
        .env("CLIPPY_CONF_DIR", ws)
        .current_dir(ws)
        .output()
        .map_err(|e| format!("cannot run cargo clippy: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cargo clippy failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(start.elapsed())
}

const CLIPPY_TOML: &str = r#"disallowed-methods = [
    { path = "std::time::SystemTime::now", reason = "use ctx.workflow_time()" },
    { path = "std::time::Instant::now", reason = "use ctx.workflow_time()" },
    { path = "std::thread::sleep", reason = "use ctx.timer()" },
    { path = "std::thread::spawn", reason = "not recorded" },
    { path = "std::env::var", reason = "pass it in the input" },
    { path = "std::fs::read_to_string", reason = "use an activity" },
    { path = "rand::random", reason = "seed from ctx.random_seed()" },
    { path = "rand::thread_rng", reason = "seed from ctx.random_seed()" },
    { path = "tokio::time::sleep", reason = "use ctx.timer()" },
    { path = "tokio::spawn", reason = "not recorded" },
]
"#;

fn main() {
    let mut args = std::env::args().skip(1);
    let mut runs = 5usize;
    let mut clippy: Option<PathBuf> = None;
    let mut clippy_runs = 3usize;
    let mut path: Option<PathBuf> = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--runs" => runs = args.next().and_then(|v| v.parse().ok()).unwrap_or(runs),
            "--clippy" => clippy = args.next().map(PathBuf::from),
            "--clippy-runs" => {
                clippy_runs = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(clippy_runs)
            }
            "--bench" => {}
            other if !other.starts_with('-') => path = Some(PathBuf::from(other)),
            other => eprintln!("ignoring {other}"),
        }
    }
    let path = path.unwrap_or_else(|| {
        PathBuf::from(std::env::var("HOME").unwrap_or_else(|_| "/root".into()))
            .join(".cargo/registry/src")
    });
    let files = rs_files(&path);
    let lines = count_lines(&files);
    println!(
        "corpus: {} ({} files, {} lines), {} runs, {} threads",
        path.display(),
        files.len(),
        lines,
        runs,
        rayon::current_num_threads()
    );

    let mut parse_times = Vec::new();
    let mut check_times = Vec::new();
    let mut all_times = Vec::new();
    let mut last = None;
    for _ in 0..runs.max(1) {
        // Interleave the two passes so machine load affects both alike.
        let t = Instant::now();
        let parsed: usize = with_pool(None, || {
            files
                .par_iter()
                .filter(|p| {
                    std::fs::read_to_string(p)
                        .ok()
                        .and_then(|s| syn::parse_file(&s).ok())
                        .is_some()
                })
                .count()
        });
        parse_times.push(t.elapsed());
        let t = Instant::now();
        let report = check(&Options::new(vec![path.clone()], Config::default()));
        check_times.push(t.elapsed());
        // The same scan with every file parsed and indexed (`--parse-all`): the cost of the
        // analysis itself, for trees where everything can reach workflow code.
        let t = Instant::now();
        let mut all = Options::new(vec![path.clone()], Config::default());
        all.parse_all = true;
        let _ = check(&all);
        all_times.push(t.elapsed());
        last = Some((parsed, report));
    }
    let per_round = |times: &[Duration]| {
        ratio_summary(
            times
                .iter()
                .zip(&parse_times)
                .map(|(t, p)| t.as_secs_f64() / p.as_secs_f64())
                .collect(),
        )
    };
    let check_rounds = per_round(&check_times);
    let all_rounds = per_round(&all_times);
    let (parsed, report) = last.expect("at least one run");
    let parse = median(parse_times);
    let full = median(check_times);
    let lps = |d: Duration, l: usize| l as f64 / d.as_secs_f64();
    println!(
        "parse-only  : {:>8.3} s  {:>10.0} lines/s  ({parsed} files parsed)",
        parse.as_secs_f64(),
        lps(parse, lines)
    );
    println!(
        "workflowcheck: {:>7.3} s  {:>10.0} lines/s  ({} files, {} lines, {} errors, {} findings, panics={})",
        full.as_secs_f64(),
        lps(full, report.lines_scanned.max(1)),
        report.files_scanned,
        report.lines_scanned,
        report.errors.len(),
        report.findings.len(),
        report.errors.iter().filter(|e| e.message.contains("internal error")).count()
    );
    println!(
        "files parsed: {} | skipped (cannot reach workflow code, read only): {}",
        report.files_parsed,
        report.files_scanned - report.files_parsed
    );
    println!(
        "ratio workflowcheck / parse-only: {:.2}x of medians; per round {check_rounds}",
        full.as_secs_f64() / parse.as_secs_f64()
    );
    let all = median(all_times);
    println!(
        "--parse-all  : {:>7.3} s  {:>10.0} lines/s; ratio to parse-only {:.2}x of medians; \
         per round {all_rounds} (target <= 1.5x)",
        all.as_secs_f64(),
        lps(all, lines),
        all.as_secs_f64() / parse.as_secs_f64()
    );

    let Some(ws) = clippy else {
        println!("(pass --clippy WORKSPACE to compare with cargo clippy + disallowed-methods)");
        return;
    };
    let tmp = std::env::temp_dir().join(format!("wfc-bench-{}", std::process::id()));
    let copy = tmp.join("ws");
    let target = tmp.join("target");
    let _ = std::fs::create_dir_all(&copy);
    let archived = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "git -C '{}' archive HEAD | tar -x -C '{}'",
            ws.display(),
            copy.display()
        ))
        .status();
    if !archived.map(|s| s.success()).unwrap_or(false) {
        eprintln!("cannot export {} with git archive", ws.display());
        return;
    }
    if let Err(e) = std::fs::write(copy.join("clippy.toml"), CLIPPY_TOML) {
        eprintln!("cannot write clippy.toml: {e}");
        return;
    }
    let ws_files = rs_files(&copy);
    let ws_lines = count_lines(&ws_files);
    let dep_lines = lines; // the registry sources are this workspace's dependencies
    let mut cold = Vec::new();
    for i in 0..clippy_runs.max(1) {
        let _ = std::fs::remove_dir_all(&target);
        match clippy_once(&copy, &target) {
            Ok(d) => {
                println!("clippy cold run {}: {:.1} s", i + 1, d.as_secs_f64());
                cold.push(d);
            }
            Err(e) => {
                eprintln!("{e}");
                return;
            }
        }
    }
    let mut warm = Vec::new();
    for _ in 0..clippy_runs.max(1) {
        // Touch the workspace's own sources so clippy re-checks them (deps stay cached).
        for f in &ws_files {
            if let Ok(text) = std::fs::read(f) {
                let _ = std::fs::write(f, text);
            }
        }
        if let Ok(d) = clippy_once(&copy, &target) {
            warm.push(d);
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    let cold = median(cold);
    let cold_lps = lps(cold, ws_lines + dep_lines);
    println!(
        "clippy cold : {:>8.1} s  {:>10.0} lines/s  (workspace {ws_lines} + dependency {dep_lines} lines)",
        cold.as_secs_f64(),
        cold_lps
    );
    let ours = lps(full, report.lines_scanned.max(1));
    if !warm.is_empty() {
        let warm = median(warm);
        let warm_lps = lps(warm, ws_lines);
        println!(
            "clippy warm : {:>8.1} s  {:>10.0} lines/s  (workspace {ws_lines} lines, dependencies cached)",
            warm.as_secs_f64(),
            warm_lps
        );
        println!(
            "ratio workflowcheck vs clippy (lines/s): {:.1}x cold, {:.1}x warm (target >= 20x)",
            ours / cold_lps,
            ours / warm_lps
        );
    }
    println!(
        "summary: parse-only {:.2}x | clippy cold {:.1}x | wall {:.3}s for {} lines",
        full.as_secs_f64() / parse.as_secs_f64(),
        ours / cold_lps,
        full.as_secs_f64(),
        report.lines_scanned
    );
}
