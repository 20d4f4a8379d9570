//! Runs an outside benchmark script (Temporal's Python replayer, its time-skipping test server)
//! for the side-by-side benches. Shared by `sim/benches/replay.rs` and
//! `benches/sim_throughput.rs` (through `#[path]`).

/// Runs `python` (`DURASIM_PYTHON`, else `python3`) with `args`; the script prints
/// `median_us=N ...`. Returns N microseconds, or why it could not be measured.
pub fn median_us(args: &[&std::ffi::OsStr]) -> Result<f64, String> {
    let python = std::env::var("DURASIM_PYTHON").unwrap_or_else(|_| "python3".into());
    let out = std::process::Command::new(&python)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run {python}: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
    }
    text.trim()
        .strip_prefix("median_us=")
        .and_then(|r| r.split_whitespace().next())
        .and_then(|v| v.parse::<f64>().ok())
        .ok_or_else(|| format!("unexpected output {text:?}"))
}
