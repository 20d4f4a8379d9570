//! What is scanned beyond the paths given: the crate of a file given alone, and the path
//! dependencies of the packages given.
//!
//! - A file given alone is checked in its crate: the package holding it (nearest
//!   `Cargo.toml` with a `[package]` above it) is walked too, so helpers in its other modules
//!   are followed. Only the workflows the given file defines are checked.
//! - The path dependencies of every package given (the package of a file given alone, and
//!   each package whose directory is at or under a directory given), transitively, are
//!   walked too when they lie outside what was given, so calls into them are followed.
//!
//! What is added is *context*: its code is followed from the given workflows, its own
//! workflows are not checked. Added packages are walked without the packages nested in
//! their directories (each is a crate of its own, scanned only if something depends on it).

use super::manifest::Manifests;
use super::modtree::normalize;
use super::{display_path, walk_dirs};
use crate::config::Config;
use crate::model::{FileError, Problem};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// How far discovery reaches beyond the paths given.
#[derive(Clone, Copy, Debug)]
pub struct Reach {
    /// Follow the path dependencies of the packages given.
    pub follow_path_deps: bool,
    /// Dev-dependencies count too (test code is analysed).
    pub include_tests: bool,
}

impl Default for Reach {
    fn default() -> Reach {
        Reach {
            follow_path_deps: true,
            include_tests: false,
        }
    }
}

/// The files to read, each marked given or context, and the manifests whose problems make
/// the scan incomplete.
pub struct Plan {
    /// Files, sorted, with `true` for context-only files.
    pub files: Vec<(PathBuf, bool)>,
    /// Manifests the scan relies on (absolute, normalised): of the packages given and of
    /// the path dependencies followed.
    pub relied_on: BTreeSet<PathBuf>,
}

/// `p` made absolute (against the working directory) and lexically normalised.
pub fn absolute(p: &Path) -> PathBuf {
    normalize(&std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()))
}

/// `pkg` (an ancestor of `file`'s directory, both absolute) spelled relative to `file` as
/// given: `src/orders.rs` in `.` gives `.`, `orders.rs` in `..` gives `..`.
fn spelled_like(file: &Path, file_abs: &Path, pkg_abs: &Path) -> PathBuf {
    let parent_abs = file_abs.parent().unwrap_or(file_abs);
    let up = parent_abs
        .components()
        .count()
        .saturating_sub(pkg_abs.components().count());
    let mut p = file.parent().unwrap_or(Path::new("")).to_path_buf();
    for _ in 0..up {
        p.push("..");
    }
    let p = normalize(&p);
    if p.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        p
    }
}

/// The nearest directory above `file_abs` holding a `Cargo.toml`, parsed or not.
fn nearest_manifest(file_abs: &Path) -> Option<PathBuf> {
    file_abs
        .ancestors()
        .skip(1)
        .map(|d| d.join("Cargo.toml"))
        .find(|m| m.is_file())
}

/// Plans the scan of `roots`.
pub fn plan(
    roots: &[PathBuf],
    config: &Config,
    reach: Reach,
    manifests: &mut Manifests,
    errors: &mut Vec<FileError>,
) -> Plan {
    let mut files: BTreeMap<PathBuf, (PathBuf, bool)> = BTreeMap::new();
    let add = |files: &mut BTreeMap<PathBuf, (PathBuf, bool)>, p: PathBuf, context: bool| {
        let e = files.entry(absolute(&p)).or_insert((p, context));
        e.1 &= context;
    };
    let mut relied_on = BTreeSet::new();
    let mut dirs: Vec<PathBuf> = Vec::new();
    // Packages given, in the spelling used to walk them, and the absolute roots covered.
    let mut packages: Vec<PathBuf> = Vec::new();
    let mut covered: Vec<PathBuf> = Vec::new();
    let mut standalone: Vec<PathBuf> = Vec::new();
    for root in roots {
        if !std::fs::metadata(root).is_ok_and(|m| m.is_file()) {
            dirs.push(root.clone());
            covered.push(absolute(root));
            let own = absolute(root).join("Cargo.toml");
            if own.is_file() {
                relied_on.insert(own);
            }
            continue;
        }
        let file_abs = absolute(root);
        if let Some(m) = nearest_manifest(&file_abs) {
            relied_on.insert(m);
        }
        if let Some(pkg_abs) = manifests.package_dir(&file_abs) {
            let pkg = spelled_like(root, &file_abs, &pkg_abs);
            if !packages.contains(&pkg) {
                packages.push(pkg);
            }
        }
        standalone.push(root.clone());
    }
    for p in walk_dirs(&dirs, config, errors, false) {
        add(&mut files, p, false);
    }
    for p in standalone {
        add(&mut files, p, false);
    }
    for pkg in &packages {
        for p in walk_dirs(std::slice::from_ref(pkg), config, errors, true) {
            add(&mut files, p, true);
        }
        covered.push(absolute(pkg));
    }
    // Packages at or under the directories given.
    let dirs_abs: Vec<PathBuf> = dirs.iter().map(|d| absolute(d)).collect();
    let mut found: BTreeSet<PathBuf> = BTreeSet::new();
    if reach.follow_path_deps && !dirs.is_empty() {
        for (p, context) in files.values() {
            if *context {
                continue;
            }
            if let Some(dir) = manifests.package_dir(p) {
                if !found.contains(&dir) && dirs_abs.iter().any(|c| absolute(&dir).starts_with(c)) {
                    found.insert(dir);
                }
            }
        }
    }
    let mut queue: Vec<PathBuf> = packages.clone();
    queue.extend(found);
    let mut seen: BTreeSet<PathBuf> = queue.iter().map(|p| absolute(p)).collect();
    while reach.follow_path_deps && !queue.is_empty() {
        let pkg = queue.remove(0);
        for dep in manifests.path_deps(&pkg, reach.include_tests) {
            let abs = absolute(&dep.dir);
            if !seen.insert(abs.clone()) {
                continue;
            }
            let manifest = abs.join("Cargo.toml");
            if !manifest.is_file() {
                errors.push(FileError::new(
                    display_path(&dep.from, None),
                    Problem::new(format!(
                        "path dependency `{}` ({}) has no Cargo.toml; not followed",
                        dep.key,
                        dep.dir.display()
                    )),
                    true,
                ));
                continue;
            }
            relied_on.insert(manifest);
            if !covered.iter().any(|c| abs.starts_with(c)) {
                for p in walk_dirs(std::slice::from_ref(&dep.dir), config, errors, true) {
                    add(&mut files, p, true);
                }
                covered.push(abs);
            }
            queue.push(dep.dir);
        }
    }
    let mut files: Vec<(PathBuf, bool)> = files.into_values().collect();
    files.sort();
    files.dedup_by(|a, b| a.0 == b.0);
    Plan { files, relied_on }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spells_the_package_like_the_file() {
        let s = |f: &str, fa: &str, pa: &str| {
            spelled_like(Path::new(f), Path::new(fa), Path::new(pa))
                .display()
                .to_string()
        };
        assert_eq!(s("src/orders.rs", "/w/shop/src/orders.rs", "/w/shop"), ".");
        assert_eq!(s("orders.rs", "/w/shop/src/orders.rs", "/w/shop"), "..");
        assert_eq!(
            s("shop/src/a/b.rs", "/w/shop/src/a/b.rs", "/w/shop"),
            "shop"
        );
        assert_eq!(
            s("/w/shop/src/a.rs", "/w/shop/src/a.rs", "/w/shop"),
            "/w/shop"
        );
    }
}
