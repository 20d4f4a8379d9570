//! The first stage: finds the files to scan, reads them, and places each in its crate and
//! module ([`modtree`]).
//!
//! Directories are walked with walkdir (following symlinks, which walkdir checks for loops;
//! skipping `target/`, any directory holding cargo's `CACHEDIR.TAG`, hidden directories and
//! the configured skip globs). Symlink loops, dangling links, and `.rs` entries that are not
//! regular files (FIFOs, sockets, devices: never opened, so a FIFO cannot hang the scan) are
//! reported. Files are read as bytes: non-UTF-8 files, files holding NUL bytes and oversized
//! files are kept with a message saying why they cannot be analysed and whether their bytes
//! hold a workflow marker ([`Config::markers`]; oversized files are searched in bounded
//! chunks, never loaded whole).

pub mod expand;
pub mod manifest;
pub mod modtree;

pub use expand::Reach;

use crate::config::Config;
use crate::model::{FileError, Problem, SourceFile};
use memchr::memmem;
use rayon::prelude::*;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Files larger than this are reported and skipped.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;

/// What the stage hands on: every file found, placed, with its text.
#[derive(Clone, Debug, Default)]
pub struct Sources {
    /// The files, sorted by path, each placed in its crate and module.
    pub files: Vec<SourceFile>,
    /// `texts[i]` is the text of `files[i]`, or why it could not be read.
    pub texts: Vec<Result<String, Problem>>,
    /// `marked[i]`: `files[i]` could not be read as text but its bytes hold a workflow
    /// marker (always false for readable files, which the select stage searches).
    pub marked: Vec<bool>,
    /// Directory entries that could not be walked or are not regular files.
    pub errors: Vec<FileError>,
}

/// Walks `roots`, and what they reach ([`expand`]: the crate of a file given alone, path
/// dependencies), reads every `.rs` file (in parallel) and places it. Displayed names are
/// relative to `display_root` when under it.
pub fn from_disk(
    roots: &[PathBuf],
    config: &Config,
    max_file_bytes: u64,
    display_root: Option<&Path>,
    reach: Reach,
) -> Sources {
    let mut errors = Vec::new();
    let mut manifests = manifest::Manifests::default();
    let plan = expand::plan(roots, config, reach, &mut manifests, &mut errors);
    let (paths, context): (Vec<PathBuf>, Vec<bool>) = plan.files.into_iter().unzip();
    let displays = paths
        .iter()
        .map(|p| display_path(p, display_root))
        .collect();
    let markers = config.markers();
    let finders: Vec<memmem::Finder<'_>> = markers.iter().map(memmem::Finder::new).collect();
    let (texts, marked) = paths
        .par_iter()
        .map(|p| match read_source(p, max_file_bytes) {
            Ok(text) => (Ok(text), false),
            Err(e) => {
                let marked = bytes_have_marker(p, &finders);
                (Err(e), marked)
            }
        })
        .unzip();
    let mut sources = place(paths, displays, texts, marked, errors, &mut manifests);
    for (f, c) in sources.files.iter_mut().zip(context) {
        f.context_only = c;
    }
    // Manifests that could not be parsed: the scan is incomplete when it relies on one.
    // One manifest may have been read under several spellings: show a relative one.
    let mut problems = manifests.problems();
    problems.sort_by_key(|(path, _)| path.is_absolute());
    let cwd = std::env::current_dir().unwrap_or_default();
    let mut reported = std::collections::BTreeSet::new();
    for (path, problem) in problems {
        let abs = expand::absolute(&path);
        if reported.insert(abs.clone()) {
            let relied_on = plan.relied_on.contains(&abs);
            let shown = match path.strip_prefix(&cwd) {
                Ok(rel) if display_root.is_none() => rel,
                _ => &path,
            };
            let file = display_path(shown, display_root);
            sources
                .errors
                .push(FileError::new(file, problem, relied_on));
        }
    }
    sources
}

/// In-memory sources, each `(file name, text)`; file names place them in modules as on disk
/// (`a.rs` with `mod b;` includes `a/b.rs` or `b.rs`).
pub fn in_memory(sources: &[(&str, &str)]) -> Sources {
    let paths = sources.iter().map(|(n, _)| PathBuf::from(n)).collect();
    let displays = sources.iter().map(|(n, _)| n.to_string()).collect();
    let texts: Vec<Result<String, Problem>> = sources
        .iter()
        .map(|(_, t)| check_text(t).map(|()| t.to_string()))
        .collect();
    let marked = vec![false; texts.len()];
    let mut manifests = manifest::Manifests::default();
    place(paths, displays, texts, marked, Vec::new(), &mut manifests)
}

fn place(
    paths: Vec<PathBuf>,
    displays: Vec<String>,
    texts: Vec<Result<String, Problem>>,
    marked: Vec<bool>,
    errors: Vec<FileError>,
    manifests: &mut manifest::Manifests,
) -> Sources {
    let readable: Vec<Option<&str>> = texts
        .iter()
        .map(|t| t.as_ref().ok().map(String::as_str))
        .collect();
    let mut files = modtree::place_with(&paths, &readable, manifests);
    for (f, d) in files.iter_mut().zip(displays) {
        f.display = d;
    }
    Sources {
        files,
        texts,
        marked,
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

/// What kind of file system object a non-regular, non-directory entry is.
fn special_kind(ft: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "a FIFO";
        }
        if ft.is_socket() {
            return "a socket";
        }
        if ft.is_block_device() || ft.is_char_device() {
            return "a device";
        }
    }
    let _ = ft;
    "not a regular file"
}

fn is_rs(p: &Path) -> bool {
    p.extension().is_some_and(|x| x == "rs")
}

/// Lists the `.rs` files under `roots`, sorted, applying skip globs. Symlink loops,
/// dangling links and `.rs` entries that are not regular files go to `errors` (none of them
/// may hold workflow code that the scan misses: a loop leads back to a directory already
/// walked, and the others hold no source text).
pub fn walk(roots: &[PathBuf], config: &Config, errors: &mut Vec<FileError>) -> Vec<PathBuf> {
    walk_dirs(roots, config, errors, false)
}

/// [`walk`]; with `own_package_only`, a directory below a root holding a `Cargo.toml` (a
/// package of its own) is not entered.
pub fn walk_dirs(
    roots: &[PathBuf],
    config: &Config,
    errors: &mut Vec<FileError>,
    own_package_only: bool,
) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let note = |errors: &mut Vec<FileError>, p: &Path, message: String| {
        errors.push(FileError::new(
            p.display().to_string(),
            Problem::new(message),
            false,
        ));
    };
    for root in roots {
        match std::fs::metadata(root) {
            Ok(m) if m.is_file() => {
                out.push(root.clone());
                continue;
            }
            Ok(m) if !m.is_dir() => {
                let kind = special_kind(&m.file_type());
                note(errors, root, format!("{kind}, not a source file; skipped"));
                continue;
            }
            _ => {}
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
                            || e.path().join("CACHEDIR.TAG").exists()
                            || (own_package_only && e.path().join("Cargo.toml").is_file())))
            });
        for entry in walker {
            match entry {
                Ok(e) => {
                    let p = e.path();
                    if !is_rs(p) || is_skipped(config, root, p) {
                        continue;
                    }
                    let ft = e.file_type();
                    if ft.is_file() {
                        out.push(p.to_path_buf());
                    } else if !ft.is_dir() {
                        let kind = special_kind(&ft);
                        note(errors, p, format!("{kind}, not a source file; skipped"));
                    }
                }
                Err(e) => {
                    let p = e
                        .path()
                        .map(Path::to_path_buf)
                        .unwrap_or_else(|| root.clone());
                    if is_skipped(config, root, &p) {
                        continue;
                    }
                    let message = if let Some(ancestor) = e.loop_ancestor() {
                        format!(
                            "symbolic link loop (back to {}); not followed",
                            ancestor.display()
                        )
                    } else if std::fs::symlink_metadata(&p)
                        .is_ok_and(|m| m.file_type().is_symlink())
                        && std::fs::metadata(&p).is_err()
                    {
                        match std::fs::read_link(&p) {
                            Ok(t) => {
                                format!("dangling symbolic link (to {}); skipped", t.display())
                            }
                            Err(_) => "dangling symbolic link; skipped".to_string(),
                        }
                    } else {
                        format!("cannot walk directory: {e}")
                    };
                    note(errors, &p, message);
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

/// Line and column (1-based, in characters) of byte `at` of `bytes`.
fn position(bytes: &[u8], at: usize) -> (u32, u32) {
    let before = &bytes[..at];
    let line = memchr::memchr_iter(b'\n', before).count() + 1;
    let start = memchr::memrchr(b'\n', before).map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&before[start..]).chars().count() + 1;
    (line as u32, column as u32)
}

/// Rejects text the tokenizer would misread: NUL bytes mark binary files.
fn check_text(text: &str) -> Result<(), Problem> {
    match memchr::memchr(0, text.as_bytes()) {
        Some(at) => {
            let (line, column) = position(text.as_bytes(), at);
            Err(Problem::at(
                line,
                column,
                "file holds a NUL byte (binary data?); skipped",
            ))
        }
        None => Ok(()),
    }
}

/// Reads a file as UTF-8 source text. Never opens anything but a regular file.
pub fn read_source(path: &Path, max_bytes: u64) -> Result<String, Problem> {
    let meta =
        std::fs::metadata(path).map_err(|e| Problem::new(format!("cannot read file: {e}")))?;
    if !meta.is_file() {
        let kind = special_kind(&meta.file_type());
        return Err(Problem::new(format!("{kind}, not a source file; skipped")));
    }
    if meta.len() > max_bytes {
        return Err(Problem::new(format!(
            "file is too large ({} bytes, limit {max_bytes}; raise it with --max-file-size); skipped",
            meta.len()
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| Problem::new(format!("cannot read file: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let (line, column) = position(e.as_bytes(), at);
        Problem::at(
            line,
            column,
            format!("file is not valid UTF-8 (byte {at}); skipped"),
        )
    })?;
    check_text(&text)?;
    Ok(text)
}

/// Do the bytes of `path` hold a marker? Read in bounded chunks (overlapping by the longest
/// marker), so an oversized file costs no more memory than a small one. An unreadable file
/// counts as marked: nothing says it holds no workflow code.
pub fn bytes_have_marker(path: &Path, finders: &[memmem::Finder<'_>]) -> bool {
    const CHUNK: usize = 1 << 20;
    // Never open anything but a regular file (opening a FIFO blocks).
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => {}
        _ => return false,
    }
    let Ok(mut f) = std::fs::File::open(path) else {
        return true;
    };
    let overlap = finders.iter().map(|f| f.needle().len()).max().unwrap_or(0);
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK + overlap);
    loop {
        let kept = buf.len();
        buf.resize(kept + CHUNK, 0);
        let n = match f.read(&mut buf[kept..]) {
            Ok(n) => n,
            Err(_) => return true,
        };
        buf.truncate(kept + n);
        if finders.iter().any(|f| f.find(&buf).is_some()) {
            return true;
        }
        if n == 0 {
            return false;
        }
        let tail = buf.len().saturating_sub(overlap);
        buf.drain(..tail);
    }
}
