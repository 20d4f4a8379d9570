//! The first stage: finds the files to scan, reads them, and places each in its crate and
//! module ([`modtree`]).
//!
//! Directories are walked with walkdir (following symlinks, which walkdir checks for loops;
//! skipping `target/`, any directory holding cargo's `CACHEDIR.TAG`, hidden directories and
//! the configured skip globs). Files are read as bytes: non-UTF-8 and oversized files are
//! kept with a message saying why they cannot be scanned.

pub mod modtree;

use crate::config::Config;
use crate::model::{FileError, SourceFile};
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// Files larger than this are reported and skipped.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;

/// What the stage hands on: every file found, placed, with its text.
#[derive(Clone, Debug, Default)]
pub struct Sources {
    /// The files, sorted by path, each placed in its crate and module.
    pub files: Vec<SourceFile>,
    /// `texts[i]` is the text of `files[i]`, or why it could not be read.
    pub texts: Vec<Result<String, String>>,
    /// Directories that could not be walked.
    pub errors: Vec<FileError>,
}

/// Walks `roots`, reads every `.rs` file (in parallel) and places it. Displayed names are
/// relative to `display_root` when under it.
pub fn from_disk(
    roots: &[PathBuf],
    config: &Config,
    max_file_bytes: u64,
    display_root: Option<&Path>,
) -> Sources {
    let mut errors = Vec::new();
    let paths = walk(roots, config, &mut errors);
    let displays = paths
        .iter()
        .map(|p| display_path(p, display_root))
        .collect();
    let texts = paths
        .par_iter()
        .map(|p| read_source(p, max_file_bytes))
        .collect();
    place(paths, displays, texts, errors)
}

/// In-memory sources, each `(file name, text)`; file names place them in modules as on disk
/// (`a.rs` with `mod b;` includes `a/b.rs` or `b.rs`).
pub fn in_memory(sources: &[(&str, &str)]) -> Sources {
    let paths = sources.iter().map(|(n, _)| PathBuf::from(n)).collect();
    let displays = sources.iter().map(|(n, _)| n.to_string()).collect();
    let texts = sources.iter().map(|(_, t)| Ok(t.to_string())).collect();
    place(paths, displays, texts, Vec::new())
}

fn place(
    paths: Vec<PathBuf>,
    displays: Vec<String>,
    texts: Vec<Result<String, String>>,
    errors: Vec<FileError>,
) -> Sources {
    let readable: Vec<Option<&str>> = texts
        .iter()
        .map(|t| t.as_ref().ok().map(String::as_str))
        .collect();
    let mut files = modtree::place(&paths, &readable);
    for (f, d) in files.iter_mut().zip(displays) {
        f.display = d;
    }
    Sources {
        files,
        texts,
        errors,
    }
}

fn display_path(p: &Path, root: Option<&Path>) -> String {
    let shown = root.and_then(|r| p.strip_prefix(r).ok()).unwrap_or(p);
    let s = shown.display().to_string().replace('\\', "/");
    s.strip_prefix("./").map(str::to_string).unwrap_or(s)
}

fn is_hidden_or_target(name: &str) -> bool {
    (name.starts_with('.') && name != "." && name != "..") || name == "target"
}

/// Lists the `.rs` files under `roots`, sorted, applying skip globs.
pub fn walk(roots: &[PathBuf], config: &Config, errors: &mut Vec<FileError>) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for root in roots {
        if root.is_file() {
            out.push(root.clone());
            continue;
        }
        let walker = walkdir::WalkDir::new(root)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| {
                e.depth() == 0
                    || !(e.file_type().is_dir()
                        && (is_hidden_or_target(&e.file_name().to_string_lossy())
                            // cargo marks every target directory, whatever its name
                            || e.path().join("CACHEDIR.TAG").exists()))
            });
        for entry in walker {
            match entry {
                Ok(e) => {
                    let p = e.path();
                    if e.file_type().is_file()
                        && p.extension().is_some_and(|x| x == "rs")
                        && !is_skipped(config, root, p)
                    {
                        out.push(p.to_path_buf());
                    }
                }
                Err(e) => {
                    if e.loop_ancestor().is_none() {
                        errors.push(FileError {
                            file: e
                                .path()
                                .map(|p| p.display().to_string())
                                .unwrap_or_else(|| root.display().to_string()),
                            message: format!("cannot walk directory: {e}"),
                        });
                    }
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

fn is_skipped(config: &Config, root: &Path, p: &Path) -> bool {
    config.is_skipped(p)
        || p.strip_prefix(root)
            .map(|r| config.is_skipped(r))
            .unwrap_or(false)
}

/// Reads a file as UTF-8 source text.
pub fn read_source(path: &Path, max_bytes: u64) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read file: {e}"))?;
    if meta.len() > max_bytes {
        return Err(format!(
            "file is too large ({} bytes, limit {max_bytes}); skipped",
            meta.len()
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read file: {e}"))?;
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count() + 1;
        format!("file is not valid UTF-8 (line {line}, byte {at}); skipped")
    })
}
