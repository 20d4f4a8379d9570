//! How fast the JSON history codec reads and writes, on Temporal's fixtures and on a large
//! history made of them (medians; `cargo bench -p sim --bench codec`).

// The same allocator as the `sim` binary (`sim replay`, `sim show`), so the figures are the
// command line's.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::hint::black_box;
use std::time::{Duration, Instant};

use sim::history::{parse_history, to_json};

const FIXTURES: [&str; 5] = [
    "transfer-completed",
    "transfer-retried",
    "transfer-failed",
    "transfer-worker-killed",
    "greeting-sleep-30d",
];

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/../fixtures/temporal-histories/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {path}: {e}"))
}

/// Median over `runs` runs of the time per iteration, each run `iters` iterations.
fn median_per_iter(runs: usize, iters: u32, mut f: impl FnMut()) -> Duration {
    for _ in 0..iters.min(20) {
        f(); // warm up
    }
    let mut per: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..iters {
                f();
            }
            t.elapsed() / iters
        })
        .collect();
    per.sort();
    per[runs / 2]
}

fn report(what: &str, events: usize, per: Duration) {
    println!(
        "{what:<40} {events:>6} events  median {:>9.1} us  {:>6.0} ns/event",
        per.as_secs_f64() * 1e6,
        per.as_secs_f64() * 1e9 / events as f64
    );
}

fn main() {
    let small = fixture("transfer-completed");
    let h = parse_history(&small).unwrap();
    let n = h.len();
    report(
        "transfer-completed parse",
        n,
        median_per_iter(15, 2_000, || {
            black_box(parse_history(black_box(&small)).unwrap());
        }),
    );
    report(
        "transfer-completed write",
        n,
        median_per_iter(15, 2_000, || {
            black_box(to_json(black_box(&h)));
        }),
    );

    // Every fixture's events, 100 times over: about 9,000 events of every shape we read.
    let mut events = Vec::new();
    for _ in 0..100 {
        for name in FIXTURES {
            let doc: serde_json::Value = serde_json::from_str(&fixture(name)).unwrap();
            events.extend(doc["events"].as_array().unwrap().iter().cloned());
        }
    }
    let big = serde_json::to_string_pretty(&serde_json::json!({ "events": events })).unwrap();
    let h = parse_history(&big).unwrap();
    let n = h.len();
    report(
        "all fixtures x100 parse",
        n,
        median_per_iter(11, 5, || {
            black_box(parse_history(black_box(&big)).unwrap());
        }),
    );
    report(
        "all fixtures x100 write",
        n,
        median_per_iter(11, 5, || {
            black_box(to_json(black_box(&h)));
        }),
    );
}
