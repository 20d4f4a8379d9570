//! The `sim` command's work, as functions returning text and exit codes (I/O errors come back
//! as `Err(message)`, which the binary prints and turns into exit code 2).

use std::fmt::Write as _;
use std::ops::Range;
use std::path::{Path, PathBuf};

use sim::history::{parse_history, show as render_show, History};
use sim::sdk::{replay as replay_history, ReplayOutcome};

use crate::Catalogue;

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
/// smaller): a larger one, or a device that never ends (`/dev/zero`), is an error, not a hang.
pub const MAX_INPUT_BYTES: u64 = 512 << 20;

/// Reads a file as UTF-8 (a leading byte-order mark is dropped), naming the file in every
/// error; at most [`MAX_INPUT_BYTES`].
pub fn read_text(path: &Path) -> Result<String, String> {
    use std::io::Read as _;
    let named = |e: std::io::Error| format!("{}: {e}", path.display());
    let file = std::fs::File::open(path).map_err(named)?;
    let mut bytes = Vec::new();
    file.take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(named)?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(format!(
            "{}: larger than {} MiB; not read",
            path.display(),
            MAX_INPUT_BYTES >> 20
        ));
    }
    let mut text = String::from_utf8(bytes).map_err(|e| {
        format!(
            "{}: not UTF-8 (invalid byte at offset {})",
            path.display(),
            e.utf8_error().valid_up_to()
        )
    })?;
    if text.starts_with('\u{feff}') {
        text.drain(..'\u{feff}'.len_utf8());
    }
    Ok(text)
}

/// Reads and parses one history file, and checks that it is one run's history: it has events,
/// numbered 1, 2, 3, ... in order.
pub fn read_history(path: &Path) -> Result<History, String> {
    let text = read_text(path)?;
    let h = parse_history(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    if h.events.is_empty() {
        return Err(format!("{}: the history has no events", path.display()));
    }
    for (i, e) in h.events.iter().enumerate() {
        let want = i as i64 + 1;
        if e.event_id != want {
            return Err(format!(
                "{}: event {} (index {i}) has eventId {}, expected {want}: event ids count \
                 from 1 without gaps, in order",
                path.display(),
                i + 1,
                e.event_id
            ));
        }
    }
    Ok(h)
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

/// `sim show FILE [--detailed]`.
pub fn show(path: &Path, detailed: bool) -> Result<String, String> {
    Ok(render_show(&read_history(path)?, detailed))
}

/// What `sim replay` printed (results on stdout, unreadable inputs on stderr) and the exit code
/// it ends with.
pub struct ReplayReport {
    /// Lines about inputs that could not be read, for stderr.
    pub errors: String,
    pub text: String,
    pub exit_code: u8,
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

/// `sim replay FILE|DIR --workflow NAME [--any-type]`: exit 0 when every history replays, 1
/// with the error per failing file, 2 (as `Err`) on usage errors or when no file could be read.
/// Histories of a workflow type other than the one `NAME` implements are skipped, each named
/// (unless `any_type`); when every history was skipped, nothing was checked: exit 2.
pub fn replay(
    catalogue: &Catalogue,
    path: &Path,
    workflow: &str,
    any_type: bool,
) -> Result<ReplayReport, String> {
    let Some(entry) = catalogue.find_workflow(workflow) else {
        let known: Vec<&str> = catalogue
            .workflows()
            .iter()
            .map(|w| w.name.as_str())
            .collect();
        let guess = sim::closest(workflow, known.iter().copied())
            .map(|g| format!("; did you mean {g:?}?"))
            .unwrap_or_default();
        return Err(format!(
            "unknown workflow {workflow:?}{guess} (known: {})",
            known.join(", ")
        ));
    };
    let (files, unreadable) = history_files(path)?;
    let mut text = String::new();
    let mut errors = String::new();
    let (mut failed, mut bad_input, mut skipped) = (0, unreadable.len(), 0);
    let own_type = entry.implements.as_str();
    for e in &unreadable {
        let _ = writeln!(errors, "ERROR {e}");
    }
    for f in &files {
        let h = match read_history(f) {
            Ok(h) => h,
            Err(e) => {
                bad_input += 1;
                let _ = writeln!(errors, "ERROR {e}");
                continue;
            }
        };
        let Some(wf_type) = h.workflow_type().map(str::to_string) else {
            bad_input += 1;
            let _ = writeln!(
                errors,
                "ERROR {}: history does not start with WorkflowExecutionStarted",
                f.display()
            );
            continue;
        };
        if !any_type && wf_type != own_type {
            skipped += 1;
            let _ = writeln!(
                text,
                "skip  {} (a {wf_type} history; {workflow} implements {own_type}; --any-type \
                 replays it anyway)",
                f.display()
            );
            continue;
        }
        let registry = entry.registry(&wf_type);
        match replay_history(&registry, &h) {
            ReplayOutcome::Closed { close, .. } => {
                let _ = writeln!(text, "ok    {} ({} events, {close})", f.display(), h.len());
            }
            ReplayOutcome::Open => {
                let _ = writeln!(
                    text,
                    "ok    {} ({} events, still open)",
                    f.display(),
                    h.len()
                );
            }
            ReplayOutcome::Failed(e) => {
                failed += 1;
                // The error bounds what it quotes (a 10 MB activity name), as it does everywhere.
                let _ = writeln!(text, "FAIL  {}: {e}", f.display());
            }
        }
    }
    let replayed = (files.len() + unreadable.len()) - failed - bad_input - skipped;
    let _ = writeln!(
        text,
        "{replayed} replayed, {failed} failed, {bad_input} unreadable{}",
        if skipped > 0 {
            format!(", {skipped} skipped (other workflow types)")
        } else {
            String::new()
        }
    );
    if replayed + failed == 0 && bad_input == 0 {
        let _ = writeln!(
            errors,
            "ERROR {}: no {own_type} history to replay against {workflow} (use --any-type to \
             replay the others against it)",
            path.display()
        );
    }
    let exit_code = if failed > 0 {
        1
    } else if bad_input > 0 || replayed == 0 {
        2
    } else {
        0
    };
    Ok(ReplayReport {
        errors,
        text,
        exit_code,
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
