//! `Cargo.toml` files: which package a file belongs to, the name its crate is known by, and
//! the dependencies the scan follows (path dependencies, renamed dependencies).
//!
//! Manifests are parsed with the `toml` crate, once per directory. A manifest that cannot be
//! parsed is kept as a [`Problem`] with its position, for the discover stage to report.
//!
//! Dependencies are read from `[dependencies]`, `[target.'cfg(..)'.dependencies]`, and with
//! tests analysed also the `dev-dependencies` tables; `foo = { workspace = true }` takes its
//! entry from the workspace root's `[workspace.dependencies]` (the nearest `Cargo.toml` above
//! with a `[workspace]`, or the one `package.workspace` names). A dependency renamed with
//! `package = "bar"` is called `foo` in the code: for a path dependency,
//! [`Manifests::renames`] maps `foo` to the crate `bar` builds, so `foo::f` resolves into it.

use super::modtree::normalize;
use crate::model::Problem;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// One dependency entry, as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dep {
    /// The key: the name the code uses (with `-`).
    pub key: String,
    /// `package = ".."`: the package actually depended on, when renamed.
    pub package: Option<String>,
    /// `path = ".."`, relative to the manifest's directory.
    pub path: Option<String>,
    /// `workspace = true`: the entry is the workspace root's.
    pub workspace: bool,
    /// From a `dev-dependencies` table.
    pub dev: bool,
}

/// What the scan needs from one `Cargo.toml`.
#[derive(Clone, Debug, Default)]
pub struct Manifest {
    /// `package.name`, when the manifest has a `[package]`.
    pub package: Option<String>,
    /// The crate name of the package's library: `lib.name`, else the package name, with
    /// `-` as `_`.
    pub crate_name: Option<String>,
    /// `package.workspace`: where the workspace root is, when it is not above.
    pub workspace_path: Option<String>,
    /// The manifest is a workspace root (`[workspace]`).
    pub is_workspace: bool,
    /// `[workspace.dependencies]`.
    pub workspace_deps: Vec<Dep>,
    /// The package's dependencies (normal, target-specific, dev).
    pub deps: Vec<Dep>,
}

/// A path dependency the scan follows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathDep {
    /// The dependency's directory (lexically normalised).
    pub dir: PathBuf,
    /// The manifest naming it, and the entry's key, for messages.
    pub from: PathBuf,
    /// The entry's key.
    pub key: String,
}

fn str_of<'t>(t: &'t toml::Table, key: &str) -> Option<&'t str> {
    t.get(key).and_then(toml::Value::as_str)
}

fn deps_of(table: Option<&toml::Value>, dev: bool, out: &mut Vec<Dep>) {
    let Some(toml::Value::Table(t)) = table else {
        return;
    };
    for (key, v) in t {
        let dep = match v {
            toml::Value::Table(d) => Dep {
                key: key.clone(),
                package: str_of(d, "package").map(str::to_string),
                path: str_of(d, "path").map(str::to_string),
                workspace: d.get("workspace").and_then(toml::Value::as_bool) == Some(true),
                dev,
            },
            _ => Dep {
                key: key.clone(),
                package: None,
                path: None,
                workspace: false,
                dev,
            },
        };
        out.push(dep);
    }
}

/// Line and column (1-based) of byte `at` of `text`.
fn line_column(text: &str, at: usize) -> (u32, u32) {
    let at = at.min(text.len());
    let before = text.get(..at).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[start..].chars().count() + 1;
    (line as u32, column as u32)
}

/// Parses a manifest's text.
pub fn parse(text: &str) -> Result<Manifest, Problem> {
    let table: toml::Table = toml::from_str(text).map_err(|e| {
        let message = format!(
            "cannot parse Cargo.toml: {}",
            e.message().trim_end().replace('\n', " ")
        );
        match e.span() {
            Some(span) => {
                let (line, column) = line_column(text, span.start);
                Problem::at(line, column, message)
            }
            None => Problem::new(message),
        }
    })?;
    let mut m = Manifest::default();
    if let Some(toml::Value::Table(p)) = table.get("package") {
        m.package = str_of(p, "name").map(str::to_string);
        m.workspace_path = str_of(p, "workspace").map(str::to_string);
    }
    let lib_name = match table.get("lib") {
        Some(toml::Value::Table(l)) => str_of(l, "name").map(str::to_string),
        _ => None,
    };
    m.crate_name = lib_name
        .or_else(|| m.package.clone())
        .map(|n| n.replace('-', "_"));
    if let Some(toml::Value::Table(w)) = table.get("workspace") {
        m.is_workspace = true;
        deps_of(w.get("dependencies"), false, &mut m.workspace_deps);
    }
    deps_of(table.get("dependencies"), false, &mut m.deps);
    deps_of(table.get("dev-dependencies"), true, &mut m.deps);
    deps_of(table.get("dev_dependencies"), true, &mut m.deps);
    if let Some(toml::Value::Table(targets)) = table.get("target") {
        for t in targets.values() {
            if let toml::Value::Table(t) = t {
                deps_of(t.get("dependencies"), false, &mut m.deps);
                deps_of(t.get("dev-dependencies"), true, &mut m.deps);
            }
        }
    }
    Ok(m)
}

/// Every manifest read so far, by directory.
#[derive(Debug, Default)]
pub struct Manifests {
    /// `None`: no `Cargo.toml` in the directory (or it could not be read).
    by_dir: HashMap<PathBuf, Option<Result<Manifest, Problem>>>,
    /// Directory of a file's package (nearest manifest with a `[package]`), memoised per
    /// directory walked.
    package_dirs: HashMap<PathBuf, Option<PathBuf>>,
}

impl Manifests {
    /// The manifest in `dir`, if there is one (parsed or not).
    pub fn at(&mut self, dir: &Path) -> Option<&Result<Manifest, Problem>> {
        self.by_dir
            .entry(dir.to_path_buf())
            .or_insert_with(|| {
                let path = dir.join("Cargo.toml");
                if !path.is_file() {
                    return None;
                }
                match std::fs::read_to_string(&path) {
                    Ok(text) => Some(parse(&text)),
                    Err(e) => Some(Err(Problem::new(format!("cannot read Cargo.toml: {e}")))),
                }
            })
            .as_ref()
    }

    /// The parsed manifest in `dir`, if it has one and it parses.
    pub fn parsed(&mut self, dir: &Path) -> Option<&Manifest> {
        self.at(dir).and_then(|r| r.as_ref().ok())
    }

    /// The directory of the package `path` (a file or a directory) belongs to: the nearest
    /// directory at or above it whose manifest has a `[package]`. A manifest that cannot be
    /// parsed is passed over (and reported through [`Manifests::problems`]).
    pub fn package_dir(&mut self, path: &Path) -> Option<PathBuf> {
        let mut dir = if path.is_dir() {
            Some(path)
        } else {
            path.parent()
        };
        let mut visited = Vec::new();
        let mut found = None;
        while let Some(d) = dir {
            if let Some(hit) = self.package_dirs.get(d) {
                found = hit.clone();
                break;
            }
            visited.push(d.to_path_buf());
            if self.parsed(d).is_some_and(|m| m.package.is_some()) {
                found = Some(d.to_path_buf());
                break;
            }
            dir = d.parent();
        }
        for v in visited {
            self.package_dirs.insert(v, found.clone());
        }
        found
    }

    /// Package directory and crate name of the package holding `path`.
    pub fn package_of(&mut self, path: &Path) -> Option<(String, PathBuf)> {
        let dir = self.package_dir(path)?;
        let name = self.parsed(&dir)?.crate_name.clone()?;
        Some((name, dir))
    }

    /// The workspace root of the package in `dir`: the directory `package.workspace` names,
    /// else the nearest directory at or above `dir` whose manifest has a `[workspace]`.
    fn workspace_root(&mut self, dir: &Path) -> Option<PathBuf> {
        if let Some(p) = self.parsed(dir).and_then(|m| m.workspace_path.clone()) {
            return Some(normalize(&dir.join(p)));
        }
        let mut d = Some(dir);
        while let Some(at) = d {
            if self.parsed(at).is_some_and(|m| m.is_workspace) {
                return Some(at.to_path_buf());
            }
            d = at.parent();
        }
        None
    }

    /// A dependency with its `workspace = true` entry resolved: the entry, and the
    /// directory its `path` is relative to.
    fn resolved(&mut self, pkg: &Path, dep: &Dep) -> (Dep, PathBuf) {
        if !dep.workspace {
            return (dep.clone(), pkg.to_path_buf());
        }
        let Some(root) = self.workspace_root(pkg) else {
            return (dep.clone(), pkg.to_path_buf());
        };
        let inherited = self
            .parsed(&root)
            .and_then(|m| m.workspace_deps.iter().find(|d| d.key == dep.key).cloned());
        match inherited {
            Some(mut d) => {
                d.key = dep.key.clone();
                d.dev = dep.dev;
                (d, root)
            }
            None => (dep.clone(), pkg.to_path_buf()),
        }
    }

    /// The path dependencies of the package in `dir` (dev-dependencies too with `dev`), in
    /// manifest order.
    pub fn path_deps(&mut self, dir: &Path, dev: bool) -> Vec<PathDep> {
        let deps = match self.parsed(dir) {
            Some(m) => m.deps.clone(),
            None => return Vec::new(),
        };
        let mut out: Vec<PathDep> = Vec::new();
        for d in deps.iter().filter(|d| dev || !d.dev) {
            let (d, base) = self.resolved(dir, d);
            if let Some(p) = &d.path {
                let dep_dir = normalize(&base.join(p));
                if !out.iter().any(|o| o.dir == dep_dir) {
                    out.push(PathDep {
                        dir: dep_dir,
                        from: dir.join("Cargo.toml"),
                        key: d.key.clone(),
                    });
                }
            }
        }
        out
    }

    /// The path dependencies of the package in `dir` known in its code by another name than
    /// the crate they build: `(name in the code, crate name)`, `-` as `_`, sorted.
    pub fn renames(&mut self, dir: &Path) -> Vec<(String, String)> {
        let deps = match self.parsed(dir) {
            Some(m) => m.deps.clone(),
            None => return Vec::new(),
        };
        let mut out = Vec::new();
        for d in &deps {
            let (d, base) = self.resolved(dir, d);
            // Only path dependencies: they are scanned under the crate name their manifest
            // gives; a registry package renamed is matched by the rules under the name the
            // code uses.
            let Some(p) = &d.path else { continue };
            let used = d.key.replace('-', "_");
            let dep_dir = normalize(&base.join(p));
            let built = self.parsed(&dep_dir).and_then(|m| m.crate_name.clone());
            if let Some(built) = built {
                if built != used && !out.iter().any(|(u, _)| *u == used) {
                    out.push((used, built));
                }
            }
        }
        out.sort();
        out
    }

    /// Manifests that could not be read or parsed: (path of the `Cargo.toml`, why), sorted.
    pub fn problems(&self) -> Vec<(PathBuf, Problem)> {
        let mut out: Vec<(PathBuf, Problem)> = self
            .by_dir
            .iter()
            .filter_map(|(d, m)| match m {
                Some(Err(p)) => Some((d.join("Cargo.toml"), p.clone())),
                _ => None,
            })
            .collect();
        out.sort();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_packages_libs_and_every_dependency_table() {
        let m = parse(
            r#"
[package]
name = "order-service"
[lib]
name = "orders"
[dependencies]
prices = { package = "pricing", path = "../pricing" }
serde = "1"
common.workspace = true
[dev-dependencies]
fake = { path = "fake" }
[target.'cfg(unix)'.dependencies]
unixy = { path = "../unixy" }
[workspace.dependencies]
x = { path = "x" }
"#,
        )
        .unwrap();
        assert_eq!(m.package.as_deref(), Some("order-service"));
        assert_eq!(m.crate_name.as_deref(), Some("orders"));
        assert!(m.is_workspace);
        let keys: Vec<(&str, bool, bool)> = m
            .deps
            .iter()
            .map(|d| (d.key.as_str(), d.workspace, d.dev))
            .collect();
        assert_eq!(
            keys,
            [
                ("common", true, false),
                ("prices", false, false),
                ("serde", false, false),
                ("fake", false, true),
                ("unixy", false, false)
            ]
        );
        assert_eq!(m.deps[1].package.as_deref(), Some("pricing"));
        assert_eq!(m.workspace_deps[0].path.as_deref(), Some("x"));
    }

    #[test]
    fn a_malformed_manifest_names_the_position() {
        let e = parse("[package]\nname = \"a\"\nversion = \n").unwrap_err();
        assert_eq!(e.line, Some(3));
        assert!(e.column.is_some());
        assert!(e.message.starts_with("cannot parse Cargo.toml: "), "{e:?}");
        let e = parse("[package]\nname = \"a\"\n[package]\n").unwrap_err();
        assert_eq!(e.line, Some(3), "{e:?}");
    }
}
