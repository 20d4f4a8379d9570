//! The `sim` command's work, as functions returning text and exit codes (I/O errors come back
//! as `Err(message)`, which the binary prints and turns into exit code 2).

use std::fmt::Write as _;
use std::io::Write;
use std::ops::Range;
use std::path::{Path, PathBuf};

use sim::history::{read_history as parse_history_from, show_pieces, History};
use sim::sdk::{replay as replay_history, ReplayOutcome};
use sim::InputReader;

use crate::{Catalogue, Stop};

/// `sim list`.
pub fn list(catalogue: &Catalogue) -> String {
    let mut s = String::from("Scenarios (sim run NAME):\n");
    for e in catalogue.scenarios() {
        let _ = writeln!(
            s,
            "  {:<24} {}  [{}]",
            e.name,
            e.about,
            e.workflows.join(", ")
        );
    }
    if catalogue.scenarios().is_empty() {
        s.push_str("  (none)\n");
    }
    s.push_str("\nWorkflows (sim replay --workflow NAME):\n");
    for w in catalogue.workflows() {
        let _ = writeln!(s, "  {:<28} {}", w.name, w.about);
    }
    if catalogue.workflows().is_empty() {
        s.push_str("  (none)\n");
    }
    s
}

/// The largest input file `sim` reads (a history of the 51,200 events Temporal allows is far
/// smaller): a larger one, or a device that never ends, is an error, not a hang. Files are read
/// as they are parsed, so the limit bounds time, not memory.
pub const MAX_INPUT_BYTES: u64 = 512 << 20;

/// Reads a file as UTF-8 (a leading byte-order mark is dropped), naming the file in every
/// error; at most [`MAX_INPUT_BYTES`].
pub fn read_text(path: &Path) -> Result<String, String> {
    InputReader::open(path, MAX_INPUT_BYTES)
        .and_then(InputReader::read_text)
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Reads and parses one history file as it is read (never holding its text), and checks that
/// it is one run's history: it has events, numbered 1, 2, 3, ... in order. Errors name the
/// file, then the line and column, or the event and field.
pub fn read_history(path: &Path) -> Result<History, String> {
    let named = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let reader = InputReader::open(path, MAX_INPUT_BYTES).map_err(|e| named(&e))?;
    let h = parse_history_from(reader).map_err(|e| named(&e))?;
    match h.shape_problem() {
        Some(p) => Err(named(&p)),
        None => Ok(h),
    }
}

/// Creates `dir` if needed and checks that a file can be written in it, so that `--out` fails
/// before a sweep runs rather than after it, with the directory named.
pub fn check_writable_dir(dir: &Path) -> Result<(), String> {
    let named = |e: std::io::Error| format!("--out {}: {e}", dir.display());
    std::fs::create_dir_all(dir).map_err(named)?;
    let probe = dir.join(format!(".durasim-write-check-{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(named)?;
    std::fs::remove_file(&probe).map_err(named)
}

/// `sim show FILE [--detailed]`: the whole history is read and checked first, then printed an
/// event at a time.
pub fn show(path: &Path, detailed: bool, out: &mut dyn Write) -> Result<u8, Stop> {
    let history = read_history(path)?;
    for piece in show_pieces(&history, detailed) {
        out.write_all(piece.as_bytes())?;
    }
    Ok(0)
}

fn history_files(path: &Path) -> Result<(Vec<PathBuf>, Vec<String>), String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if !meta.is_dir() {
        return Ok((vec![path.to_path_buf()], Vec::new()));
    }
    let mut files = Vec::new();
    let mut unreadable = Vec::new();
    for entry in std::fs::read_dir(path).map_err(|e| format!("{}: {e}", path.display()))? {
        let p = match entry {
            Ok(e) => e.path(),
            Err(e) => {
                unreadable.push(format!("{}: {e}", path.display()));
                continue;
            }
        };
        if p.extension().is_none_or(|x| x != "json") {
            continue;
        }
        // Follows links: a dangling or looping link is reported, not skipped.
        match std::fs::metadata(&p) {
            Ok(m) if m.is_file() => files.push(p),
            Ok(_) => {}
            Err(e) => unreadable.push(format!("{}: {e}", p.display())),
        }
    }
    files.sort();
    unreadable.sort();
    if files.is_empty() && unreadable.is_empty() {
        return Err(format!("{}: no .json history files", path.display()));
    }
    Ok((files, unreadable))
}

/// `sim replay FILE|DIR --workflow NAME [--any-type]`: a line per history on `out` as it is
/// replayed (`ok`, `FAIL` with the non-determinism error, `skip`), then a summary; a line per
/// input that could not be read or is no history a server writes on `err`. Exit 0 when every
/// history replays, 1 when one failed, 2 when an input could not be used or nothing was left
/// to replay. Histories of a workflow type other than the one `NAME` implements are skipped,
/// each named (unless `any_type`).
pub fn replay(
    catalogue: &Catalogue,
    path: &Path,
    workflow: &str,
    any_type: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8, Stop> {
    let Some(entry) = catalogue.find_workflow(workflow) else {
        let known: Vec<&str> = catalogue
            .workflows()
            .iter()
            .map(|w| w.name.as_str())
            .collect();
        let guess = sim::closest(workflow, known.iter().copied())
            .map(|g| format!("; did you mean {g:?}?"))
            .unwrap_or_default();
        return Err(Stop::Input(format!(
            "unknown workflow {workflow:?}{guess} (known: {})",
            known.join(", ")
        )));
    };
    let (files, unreadable) = history_files(path)?;
    let (mut failed, mut bad_input, mut skipped) = (0, unreadable.len(), 0);
    let own_type = entry.implements.as_str();
    for e in &unreadable {
        let _ = writeln!(err, "ERROR {e}");
    }
    for f in &files {
        let checked = read_history(f).and_then(|h| match h.replay_problem() {
            Some(p) => Err(format!("{}: {p}", f.display())),
            None => Ok(h),
        });
        let h = match checked {
            Ok(h) => h,
            Err(e) => {
                bad_input += 1;
                let _ = writeln!(err, "ERROR {e}");
                continue;
            }
        };
        // A history that passed `replay_problem` starts with WorkflowExecutionStarted.
        let wf_type = h.workflow_type().unwrap_or_default().to_string();
        if !any_type && wf_type != own_type {
            skipped += 1;
            writeln!(
                out,
                "skip  {} (a {wf_type} history; {workflow} implements {own_type}; --any-type \
                 replays it anyway)",
                f.display()
            )?;
            continue;
        }
        let registry = entry.registry(&wf_type);
        match replay_history(&registry, &h) {
            ReplayOutcome::Closed { close, .. } => {
                writeln!(out, "ok    {} ({} events, {close})", f.display(), h.len())?;
            }
            ReplayOutcome::Open => {
                writeln!(
                    out,
                    "ok    {} ({} events, still open)",
                    f.display(),
                    h.len()
                )?;
            }
            ReplayOutcome::Failed(e) => {
                failed += 1;
                // The error bounds what it quotes (a 10 MB activity name), as it does everywhere.
                writeln!(out, "FAIL  {}: {e}", f.display())?;
            }
        }
        drop(h);
        out.flush()?;
    }
    let replayed = (files.len() + unreadable.len()) - failed - bad_input - skipped;
    writeln!(
        out,
        "{replayed} replayed, {failed} failed, {bad_input} unreadable{}",
        if skipped > 0 {
            format!(", {skipped} skipped (other workflow types)")
        } else {
            String::new()
        }
    )?;
    if replayed + failed == 0 && bad_input == 0 {
        let _ = writeln!(
            err,
            "ERROR {}: no {own_type} history to replay against {workflow} (use --any-type to \
             replay the others against it)",
            path.display()
        );
    }
    Ok(if failed > 0 {
        1
    } else if bad_input > 0 || replayed == 0 {
        2
    } else {
        0
    })
}

/// Parses `A..B`.
pub fn parse_range(s: &str) -> Result<Range<u64>, String> {
    let (a, b) = s
        .split_once("..")
        .ok_or_else(|| format!("--seeds {s:?}: expected A..B"))?;
    let a: u64 = a
        .trim()
        .parse()
        .map_err(|_| format!("--seeds {s:?}: {a:?} is not a number"))?;
    let b: u64 = b
        .trim()
        .parse()
        .map_err(|_| format!("--seeds {s:?}: {b:?} is not a number"))?;
    if b <= a {
        return Err(format!("--seeds {s:?}: empty range"));
    }
    Ok(a..b)
}

/// Parses `I/N`.
pub fn parse_shard(s: &str) -> Result<(u64, u64), String> {
    let (i, n) = s
        .split_once('/')
        .ok_or_else(|| format!("--shard {s:?}: expected I/N"))?;
    let i: u64 = i
        .trim()
        .parse()
        .map_err(|_| format!("--shard {s:?}: {i:?} is not a number"))?;
    let n: u64 = n
        .trim()
        .parse()
        .map_err(|_| format!("--shard {s:?}: {n:?} is not a number"))?;
    if n == 0 || i >= n {
        return Err(format!("--shard {s:?}: need 0 <= I < N"));
    }
    Ok((i, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_shards_parse_or_explain() {
        assert_eq!(parse_range("3..10").unwrap(), 3..10);
        assert!(parse_range("10..3").unwrap_err().contains("empty"));
        assert!(parse_range("x..3").unwrap_err().contains("not a number"));
        assert_eq!(parse_shard("1/4").unwrap(), (1, 4));
        assert!(parse_shard("4/4").is_err());
        assert!(parse_shard("1-4").is_err());
    }
}
