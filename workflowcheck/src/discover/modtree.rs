//! Placing each file in its crate and module.
//!
//! Each file's crate comes from the nearest `Cargo.toml`; its module path comes from the
//! `mod foo;` declarations of the files that include it (found by a cheap line scan, before
//! any parsing), falling back to the standard `src/` layout. Files under a package's
//! `tests/` or `benches/`, and modules declared under `#[cfg(test)]`, are test code.

use super::manifest::Manifests;
use crate::model::{Segs, SourceFile};
use std::collections::{HashMap, VecDeque};
use std::path::{Component, Path, PathBuf};

/// A `mod name;` declaration found by the line scan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModDecl {
    /// The declared module.
    pub name: String,
    /// The `#[path = ".."]` attribute, if any.
    pub path_attr: Option<String>,
    /// Declared under `#[cfg(test)]`.
    pub test: bool,
    /// Declared `pub mod` (not `pub(crate)` or narrower): other crates can name it.
    pub public: bool,
}

/// Scans source text for `mod name;` declarations with their `#[path]`/`#[cfg(test)]`.
pub fn scan_mod_decls(text: &str) -> Vec<ModDecl> {
    let mut out = Vec::new();
    let mut path_attr: Option<String> = None;
    let mut test = false;
    for raw in text.lines() {
        let mut line = raw.trim();
        // Peel attributes written on the same line as the declaration.
        while line.starts_with("#[") {
            let Some(end) = line.find(']') else { break };
            let attr = &line[..=end];
            note_attr(attr, &mut path_attr, &mut test);
            line = line[end + 1..].trim_start();
        }
        if line.is_empty() || line.starts_with("//") {
            continue;
        }
        let rest = strip_visibility(line);
        let public = rest.len() < line.len() && !line["pub".len()..].trim_start().starts_with('(');
        if let Some(after) = rest.strip_prefix("mod ") {
            let after = after.trim();
            let name: String = after
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let tail = after[name.len()..].trim_start();
            let name = name.trim_start_matches("r#").to_string();
            if !name.is_empty() && tail.starts_with(';') {
                out.push(ModDecl {
                    name,
                    path_attr: path_attr.take(),
                    test,
                    public,
                });
            }
        }
        path_attr = None;
        test = false;
    }
    out
}

fn note_attr(attr: &str, path_attr: &mut Option<String>, test: &mut bool) {
    let inner = attr.trim_start_matches("#[").trim_end_matches(']').trim();
    if let Some(v) = inner.strip_prefix("path") {
        let v = v.trim_start();
        if let Some(v) = v.strip_prefix('=') {
            *path_attr = Some(v.trim().trim_matches('"').to_string());
        }
    } else if inner.starts_with("cfg") && inner.contains("test") && !inner.contains("not") {
        *test = true;
    }
}

fn strip_visibility(line: &str) -> &str {
    let Some(rest) = line.strip_prefix("pub") else {
        return line;
    };
    let rest = rest.trim_start();
    if rest.starts_with('(') {
        match rest.find(')') {
            Some(i) => rest[i + 1..].trim_start(),
            None => rest,
        }
    } else {
        rest
    }
}

/// Removes `.` and resolves `..` lexically.
pub fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                // Pop a name, never a `..` (nor past a root).
                match out.components().next_back() {
                    Some(Component::Normal(_)) => {
                        out.pop();
                    }
                    Some(Component::RootDir | Component::Prefix(_)) => {}
                    _ => out.push(".."),
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

fn stem(p: &Path) -> String {
    p.file_stem()
        .map(|s| s.to_string_lossy().replace('-', "_"))
        .unwrap_or_else(|| "main".into())
}

/// Crate, module and test flag of a file nobody declares, from the package layout.
fn root_placement(path: &Path, pkg: Option<&(String, PathBuf)>) -> (String, Segs, bool) {
    let Some((name, dir)) = pkg else {
        return (stem(path), Vec::new(), false);
    };
    let Ok(rel) = path.strip_prefix(dir) else {
        return (stem(path), Vec::new(), false);
    };
    let comps: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let strip = |s: &str| s.trim_end_matches(".rs").replace('-', "_");
    match comps.first().map(String::as_str) {
        Some("src") if comps.len() >= 3 && comps[1] == "bin" => {
            let krate = strip(&comps[2]);
            let module = comps[3..]
                .iter()
                .map(|c| strip(c))
                .filter(|c| c != "main" && c != "mod")
                .collect();
            (krate, module, false)
        }
        Some("src") => {
            let mut module: Segs = comps[1..].iter().map(|c| strip(c)).collect();
            if matches!(module.last().map(String::as_str), Some("mod")) {
                module.pop();
            }
            if module.len() == 1 && (module[0] == "lib" || module[0] == "main") {
                module.clear();
            }
            (name.clone(), module, false)
        }
        Some("tests") | Some("benches") => (stem(path), Vec::new(), true),
        _ => (stem(path), Vec::new(), false),
    }
}

/// Places every file in its crate and module. `texts[i]` is the source of `paths[i]` if read.
pub fn place(paths: &[PathBuf], texts: &[Option<&str>]) -> Vec<SourceFile> {
    place_with(paths, texts, &mut Manifests::default())
}

/// [`place`], reading manifests through `manifests` (each is parsed once per scan).
pub fn place_with(
    paths: &[PathBuf],
    texts: &[Option<&str>],
    manifests: &mut Manifests,
) -> Vec<SourceFile> {
    // Paths are compared absolute: one file may be spelled `src/a.rs` (given) and another
    // `../src/lib.rs` (its package, walked from elsewhere).
    let cwd = std::env::current_dir().unwrap_or_default();
    let key = |p: &Path| normalize(&cwd.join(p));
    let index: HashMap<PathBuf, usize> =
        paths.iter().enumerate().map(|(i, p)| (key(p), i)).collect();
    // child file -> (parent, decl)
    let mut parent_of: Vec<Option<(usize, ModDecl)>> = vec![None; paths.len()];
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); paths.len()];
    for (i, p) in paths.iter().enumerate() {
        let Some(text) = texts.get(i).copied().flatten() else {
            continue;
        };
        let decls = scan_mod_decls(text);
        if decls.is_empty() {
            continue;
        }
        let dir = p.parent().unwrap_or(Path::new(""));
        let fname = p
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        for d in decls {
            let candidates: Vec<PathBuf> = if let Some(attr) = &d.path_attr {
                vec![dir.join(attr)]
            } else {
                let base = if matches!(fname.as_str(), "mod.rs" | "lib.rs" | "main.rs") {
                    dir.to_path_buf()
                } else {
                    dir.join(stem(p))
                };
                let alt = dir.to_path_buf();
                vec![
                    base.join(format!("{}.rs", d.name)),
                    base.join(&d.name).join("mod.rs"),
                    alt.join(format!("{}.rs", d.name)),
                    alt.join(&d.name).join("mod.rs"),
                ]
            };
            if let Some(&c) = candidates.iter().find_map(|c| index.get(&key(c))) {
                if c != i && parent_of[c].is_none() {
                    parent_of[c] = Some((i, d));
                    children[i].push(c);
                }
            }
        }
    }
    let mut renames: HashMap<PathBuf, Vec<(String, String)>> = HashMap::new();
    let mut out: Vec<Option<SourceFile>> = vec![None; paths.len()];
    let mut queue = VecDeque::new();
    let mut roots: Vec<usize> = (0..paths.len())
        .filter(|&i| parent_of[i].is_none())
        .collect();
    loop {
        for r in roots.drain(..) {
            if out[r].is_some() {
                continue;
            }
            let pkg = manifests.package_of(&paths[r]);
            let (crate_name, module, test) = root_placement(&paths[r], pkg.as_ref());
            let crate_renames = match &pkg {
                Some((_, dir)) => renames
                    .entry(dir.clone())
                    .or_insert_with(|| manifests.renames(dir))
                    .clone(),
                None => Vec::new(),
            };
            out[r] = Some(SourceFile {
                path: paths[r].clone(),
                display: String::new(),
                crate_name,
                module,
                test,
                package: pkg.map(|(_, dir)| key(&dir)),
                hidden: false,
                renames: crate_renames,
                context_only: false,
            });
            queue.push_back(r);
        }
        while let Some(i) = queue.pop_front() {
            let parent = out[i].clone().unwrap_or_default();
            for &c in &children[i] {
                if out[c].is_some() {
                    continue;
                }
                let Some((_, decl)) = &parent_of[c] else {
                    continue;
                };
                let mut module = parent.module.clone();
                module.push(decl.name.clone());
                out[c] = Some(SourceFile {
                    path: paths[c].clone(),
                    display: String::new(),
                    crate_name: parent.crate_name.clone(),
                    module,
                    test: parent.test || decl.test,
                    package: parent.package.clone(),
                    hidden: parent.hidden || !decl.public,
                    renames: parent.renames.clone(),
                    context_only: false,
                });
                queue.push_back(c);
            }
        }
        // Files in a declaration cycle are never reached from a root: make one a root.
        match out.iter().position(Option::is_none) {
            Some(i) => roots.push(i),
            None => break,
        }
    }
    out.into_iter().map(|f| f.unwrap_or_default()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_mod_declarations() {
        let decls = scan_mod_decls(
            "mod a;\npub mod b;\npub(crate) mod c ; // x\nmod d { }\n#[cfg(test)]\nmod tests;\n#[path = \"x/y.rs\"]\nmod e;\n#[cfg(test)] mod t2;\n",
        );
        let names: Vec<_> = decls.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c", "tests", "e", "t2"]);
        assert!(decls[3].test && decls[5].test && !decls[0].test);
        assert_eq!(decls[4].path_attr.as_deref(), Some("x/y.rs"));
        let public: Vec<_> = decls.iter().map(|d| d.public).collect();
        assert_eq!(public, [false, true, false, false, false, false]);
    }

    #[test]
    fn places_modules_from_declarations() {
        let paths = vec![
            PathBuf::from("/nonexistent/wfc/app.rs"),
            PathBuf::from("/nonexistent/wfc/app/helpers.rs"),
            PathBuf::from("/nonexistent/wfc/app/helpers/deep.rs"),
            PathBuf::from("/nonexistent/wfc/app/tests.rs"),
        ];
        let texts = [
            Some("mod helpers;\n#[cfg(test)]\nmod tests;"),
            Some("pub mod deep;"),
            Some(""),
            Some(""),
        ];
        let placed = place(&paths, &texts);
        assert_eq!(placed[0].crate_name, "app");
        assert_eq!(placed[1].module, ["helpers"]);
        assert_eq!(placed[2].module, ["helpers", "deep"]);
        assert!(placed[3].test && !placed[1].test);
        // `mod helpers;` is private, so everything under it is hidden from other crates.
        assert!(!placed[0].hidden && placed[1].hidden && placed[2].hidden);
    }

    #[test]
    fn normalizes() {
        assert_eq!(
            normalize(Path::new("a/./b/../c.rs")),
            PathBuf::from("a/c.rs")
        );
        assert_eq!(
            normalize(Path::new("../../x/../y")),
            PathBuf::from("../../y")
        );
        assert_eq!(normalize(Path::new("/../a")), PathBuf::from("/a"));
    }
}
