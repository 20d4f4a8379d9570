//! The scratch copy a mutation is applied to, and its build.
//!
//! The copy lives at one fixed place (`<target dir>/scratch`). It is made equal to the
//! repository's working tree once per run, writing only files whose bytes differ, and each
//! mutation then rewrites only the files mutations edit (from the text read at that copy, so
//! edits to the repository during a run do not leak into it). Cargo's fingerprints stay fresh
//! for everything else: a mutation rebuilds only its own crate and the crates above it. The
//! files are the ones git knows of or would add (`git ls-files --cached --others
//! --exclude-standard`): uncommitted changes are measured, `target/` and other ignored files
//! are not copied.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::mutations::Mutation;

/// What went wrong preparing or building a copy (each is an exit 2, named).
#[derive(Debug)]
pub enum ScratchError {
    /// A file could not be listed, read or written.
    Io(String),
    /// The mutation's snippet was found `found` times in its file (it must be exactly once).
    Stale { found: usize },
    /// `cargo build` failed; the last lines of its output.
    Build(String),
}

impl std::fmt::Display for ScratchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScratchError::Io(e) => write!(f, "{e}"),
            ScratchError::Stale { found } => write!(
                f,
                "its snippet occurs {found} time(s) in the file (it must occur exactly once): \
                 the code changed, update the mutation"
            ),
            ScratchError::Build(tail) => write!(f, "the build failed:\n{tail}"),
        }
    }
}

/// The repository's files as git sees them (tracked, and untracked but not ignored), relative
/// paths in order.
pub fn repo_files(repo: &Path) -> Result<Vec<PathBuf>, ScratchError> {
    let out = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .output()
        .map_err(|e| ScratchError::Io(format!("cannot run git in {}: {e}", repo.display())))?;
    if !out.status.success() {
        return Err(ScratchError::Io(format!(
            "git ls-files in {} failed: {}",
            repo.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let mut files: Vec<PathBuf> = out
        .stdout
        .split(|b| *b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| PathBuf::from(String::from_utf8_lossy(p).into_owned()))
        // A file deleted from the working tree but still in the index is not copied.
        .filter(|p| repo.join(p).is_file())
        .collect();
    files.sort();
    files.dedup();
    Ok(files)
}

/// How often `snippet` occurs in `text` (non-overlapping).
pub fn occurrences(text: &str, snippet: &str) -> usize {
    if snippet.is_empty() {
        return 0;
    }
    text.matches(snippet).count()
}

/// Checks that a mutation's snippet occurs exactly once in the repository's copy of its file.
pub fn check_applies(repo: &Path, m: &Mutation) -> Result<(), ScratchError> {
    let path = repo.join(m.file);
    let text = fs::read_to_string(&path)
        .map_err(|e| ScratchError::Io(format!("cannot read {}: {e}", path.display())))?;
    match occurrences(&text, m.find) {
        1 => Ok(()),
        found => Err(ScratchError::Stale { found }),
    }
}

/// A scratch copy of a repository at a fixed place.
pub struct Scratch {
    repo: PathBuf,
    dir: PathBuf,
    files: Vec<PathBuf>,
    /// The mutated files as [`Scratch::copy`] found them: every mutation applies to these
    /// bytes, so edits made to the repository during a run do not leak into it.
    originals: BTreeMap<PathBuf, String>,
}

impl Scratch {
    /// A copy of `repo` at `dir` (made or brought up to date by [`Scratch::copy`]).
    pub fn new(repo: &Path, dir: &Path) -> Result<Self, ScratchError> {
        Ok(Scratch {
            repo: repo.to_path_buf(),
            dir: dir.to_path_buf(),
            files: repo_files(repo)?,
            originals: BTreeMap::new(),
        })
    }

    /// Where the copy is.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Makes the copy equal to the repository's files: writes only files whose bytes differ
    /// and removes files the repository does not have. Keeps the text of every file a
    /// mutation in `mutations` edits.
    pub fn copy(&mut self, mutations: &[&Mutation]) -> Result<(), ScratchError> {
        fs::create_dir_all(&self.dir).map_err(|e| io_error("create", &self.dir, e))?;
        let wanted: BTreeSet<&Path> = self.files.iter().map(PathBuf::as_path).collect();
        for entry in walkdir::WalkDir::new(&self.dir)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
        {
            let rel = entry.path().strip_prefix(&self.dir).unwrap_or(entry.path());
            if !wanted.contains(rel) {
                fs::remove_file(entry.path()).map_err(|e| io_error("remove", entry.path(), e))?;
            }
        }
        for rel in &self.files {
            let src = self.repo.join(rel);
            let bytes = fs::read(&src).map_err(|e| io_error("read", &src, e))?;
            if mutations.iter().any(|m| Path::new(m.file) == rel.as_path()) {
                let text = String::from_utf8(bytes.clone())
                    .map_err(|_| ScratchError::Io(format!("{} is not UTF-8", src.display())))?;
                self.originals.insert(rel.clone(), text);
            }
            write_if_changed(&self.dir.join(rel), &bytes)?;
        }
        Ok(())
    }

    /// Puts every mutated file back as [`Scratch::copy`] found it, then applies `mutation`.
    pub fn apply(&self, mutation: Option<&Mutation>) -> Result<(), ScratchError> {
        for (rel, text) in &self.originals {
            let text = match mutation.filter(|m| Path::new(m.file) == rel.as_path()) {
                Some(m) => {
                    let found = occurrences(text, m.find);
                    if found != 1 {
                        return Err(ScratchError::Stale { found });
                    }
                    text.replacen(m.find, m.replace, 1)
                }
                None => text.clone(),
            };
            write_if_changed(&self.dir.join(rel), text.as_bytes())?;
        }
        Ok(())
    }

    /// Builds the copy's `sim` binary (profile `mutate`) into `target_dir`; its path and the
    /// seconds the build took.
    pub fn build(&self, target_dir: &Path) -> Result<(PathBuf, f64), ScratchError> {
        let started = Instant::now();
        let out = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .current_dir(&self.dir)
            .args(["build", "--profile", "mutate", "--bin", "sim", "--quiet"])
            .env("CARGO_TARGET_DIR", target_dir)
            // Either would replace the workspace's `--cfg madsim` (see .cargo/config.toml).
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .output()
            .map_err(|e| ScratchError::Io(format!("cannot run cargo: {e}")))?;
        if !out.status.success() {
            let text = String::from_utf8_lossy(&out.stderr);
            let lines: Vec<&str> = text.lines().collect();
            let tail = lines[lines.len().saturating_sub(30)..].join("\n");
            return Err(ScratchError::Build(tail));
        }
        let exe = target_dir
            .join("mutate")
            .join(format!("sim{}", std::env::consts::EXE_SUFFIX));
        Ok((exe, started.elapsed().as_secs_f64()))
    }
}

fn io_error(what: &str, p: &Path, e: std::io::Error) -> ScratchError {
    ScratchError::Io(format!("cannot {what} {}: {e}", p.display()))
}

/// Writes `bytes` to `path` unless it holds them already (so its mtime, and cargo's
/// fingerprint, stay as they were).
fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<(), ScratchError> {
    if fs::read(path).ok().as_deref() == Some(bytes) {
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| io_error("create", parent, e))?;
    }
    fs::write(path, bytes).map_err(|e| io_error("write", path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn occurrences_counts_exact_matches() {
        assert_eq!(occurrences("a < b; a < b", "a < b"), 2);
        assert_eq!(occurrences("a < b", "a <= b"), 0);
        assert_eq!(occurrences("abc", ""), 0);
    }
}
