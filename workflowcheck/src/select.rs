//! The pre-pass deciding which files are parsed: files of crates that cannot reach workflow
//! code are not parsed.
//!
//! Parsing dominates a scan, and most scanned code (dependencies, tools) holds no workflow.
//! Before parsing, every file's text (already read) is searched with `memchr::memmem` for
//! the entry-point markers: the workflow context type names (configured ones included), the
//! configured workflow attributes, `workflow_methods`, and the workflow and activity
//! registration methods. A *group* is the files of one package (nearest `Cargo.toml` with a
//! `[package]`; files outside any package form one group). Parsed, in full, are:
//!
//! - every group holding a marker file;
//! - transitively, every group holding a crate whose name (or, for a dependency renamed in
//!   the file's `Cargo.toml`, the name it is given there) is an identifier in a parsed
//!   non-test file of such a group (`use other::..`, `other::f()`, re-exports), or that is
//!   the name of a crate in such a group (crates of the same name are merged by the call
//!   graph), or `std`/`core`/`alloc`;
//! - the group of an implementation of a trait method called from parsed code (see below).
//!
//! Call resolution only ever looks up paths whose first segment is the caller's crate or a
//! name written in the caller's file, so functions outside these groups are never reached by
//! path. The one global lookup is dynamic dispatch: a method call on a trait object or a
//! generic bound reaches every implementation of the trait in the tree. For every method
//! name called from a parsed group, the remaining files defining `fn <name>` (textually) are
//! parsed too, and the group of one implementing a trait method of that name is parsed in
//! full. This repeats until nothing changes, so the findings are those of parsing
//! everything.
//!
//! Files that are not parsed are still read: they count in `files_scanned` and the line
//! totals, unreadable, non-UTF-8 and oversized files are still reported, and their
//! `workflowcheck:ignore` comments are still checked (unused ones reported). Syntax errors
//! in them are not reported, since they are never parsed.

use crate::config::Config;
use crate::model::{CallKind, FileSummary, Problem, SourceFile, COMMON_METHODS};
use memchr::memmem;
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

/// Crates whose paths the resolver may produce without the name being written.
const IMPLICIT_CRATES: &[&str] = &["std", "core", "alloc"];

/// The substrings that make a file a possible holder of workflow entry points.
pub fn markers(config: &Config) -> Vec<String> {
    config.markers()
}

/// Does `text` mention one of the markers?
pub fn has_marker(text: &str, finders: &[memmem::Finder<'_>]) -> bool {
    finders.iter().any(|f| f.find(text.as_bytes()).is_some())
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

/// The identifiers of `text` (runs of identifier characters not starting with a digit;
/// comments and strings included, which only over-approximates).
pub fn idents(text: &str) -> impl Iterator<Item = &str> {
    let bytes = text.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < bytes.len() {
            if !is_ident_byte(bytes[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < bytes.len() && is_ident_byte(bytes[i]) {
                i += 1;
            }
            if !bytes[start].is_ascii_digit() {
                // Boundaries are ASCII bytes or the ends: always char boundaries.
                return Some(&text[start..i]);
            }
        }
        None
    })
}

/// Does `text` define (textually) `fn name` for a name in `wanted`? Conservative: a `fn`
/// followed by a comment counts as a hit.
pub fn defines_fn(text: &str, wanted: &HashSet<&str>) -> bool {
    let bytes = text.as_bytes();
    for at in memmem::find_iter(bytes, b"fn") {
        if at > 0 && is_ident_byte(bytes[at - 1]) {
            continue;
        }
        let mut j = at + 2;
        if j >= bytes.len() || !bytes[j].is_ascii_whitespace() {
            continue;
        }
        while j < bytes.len() && bytes[j].is_ascii_whitespace() {
            j += 1;
        }
        if j < bytes.len() && bytes[j] == b'/' {
            return true;
        }
        if bytes[j..].starts_with(b"r#") {
            j += 2;
        }
        let start = j;
        while j < bytes.len() && is_ident_byte(bytes[j]) {
            j += 1;
        }
        if j > start && wanted.contains(&text[start..j]) {
            return true;
        }
    }
    false
}

/// Which files to parse, grown as parsed summaries reveal more dependencies.
pub struct Selection<'a> {
    files: &'a [SourceFile],
    texts: &'a [Option<&'a str>],
    group_of: Vec<usize>,
    groups: Vec<Vec<usize>>,
    crate_groups: HashMap<&'a str, Vec<usize>>,
    group_needed: Vec<bool>,
    /// Groups holding a marker file: the packages that define workflows.
    group_marked: Vec<bool>,
    /// Files to parse (all files of needed groups, plus files defining searched methods).
    pub parse: Vec<bool>,
    searched: HashSet<String>,
    /// Test files reference crates too (`--include-tests`).
    include_tests: bool,
}

impl<'a> Selection<'a> {
    /// The initial selection: groups holding marker files, closed over crate references.
    /// With `all`, every file is parsed.
    pub fn new(
        files: &'a [SourceFile],
        texts: &'a [Option<&'a str>],
        config: &Config,
        all: bool,
        include_tests: bool,
    ) -> Selection<'a> {
        let mut group_ids: HashMap<Option<&PathBuf>, usize> = HashMap::new();
        let mut groups: Vec<Vec<usize>> = Vec::new();
        let mut group_of = Vec::with_capacity(files.len());
        let mut crate_groups: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, f) in files.iter().enumerate() {
            let next = groups.len();
            let g = *group_ids.entry(f.package.as_ref()).or_insert(next);
            if g == next {
                groups.push(Vec::new());
            }
            groups[g].push(i);
            group_of.push(g);
            if !f.test || include_tests {
                let gs = crate_groups.entry(f.crate_name.as_str()).or_default();
                if gs.last() != Some(&g) && !gs.contains(&g) {
                    gs.push(g);
                }
            }
        }
        let mut sel = Selection {
            files,
            texts,
            group_of,
            group_needed: vec![false; groups.len()],
            group_marked: vec![false; groups.len()],
            groups,
            crate_groups,
            parse: vec![all; files.len()],
            searched: HashSet::new(),
            include_tests,
        };
        let markers = markers(config);
        let finders: Vec<memmem::Finder<'_>> = markers.iter().map(memmem::Finder::new).collect();
        let marked: Vec<usize> = (0..files.len())
            .into_par_iter()
            .filter(|&i| texts[i].is_some_and(|t| has_marker(t, &finders)))
            .map(|i| sel.group_of[i])
            .collect();
        for &g in &marked {
            sel.group_marked[g] = true;
        }
        // With every file parsed, which groups are needed decides nothing (see `grow`):
        // their identifiers need not be searched.
        if !all {
            sel.need(marked);
        }
        sel
    }

    /// Marks groups (and, transitively, the groups they reference) as parsed in full.
    fn need(&mut self, start: Vec<usize>) {
        let mut wave: Vec<usize> = Vec::new();
        for g in start {
            if !self.group_needed[g] {
                self.group_needed[g] = true;
                wave.push(g);
            }
        }
        if wave.is_empty() {
            return;
        }
        // The implicit crates are resolvable from any parsed code.
        let implicit: Vec<usize> = IMPLICIT_CRATES
            .iter()
            .filter_map(|c| self.crate_groups.get(c))
            .flatten()
            .copied()
            .collect();
        for g in implicit {
            if !self.group_needed[g] {
                self.group_needed[g] = true;
                wave.push(g);
            }
        }
        while !wave.is_empty() {
            let members: Vec<usize> = wave
                .iter()
                .flat_map(|&g| self.groups[g].iter().copied())
                .filter(|&i| self.include_tests || !self.files[i].test)
                .collect();
            for &g in &wave {
                for &i in &self.groups[g] {
                    self.parse[i] = true;
                }
            }
            let crate_groups = &self.crate_groups;
            let texts = self.texts;
            let files = self.files;
            let referenced: HashSet<usize> = members
                .par_iter()
                .fold(HashSet::new, |mut acc, &i| {
                    let own = crate_groups.get(files[i].crate_name.as_str());
                    acc.extend(own.into_iter().flatten().copied());
                    if let Some(t) = texts[i] {
                        let renames = &files[i].renames;
                        for id in idents(t) {
                            if let Some(gs) = crate_groups.get(id) {
                                acc.extend(gs.iter().copied());
                            }
                            // A renamed dependency is named by its key.
                            if !renames.is_empty() {
                                let built = renames.iter().find(|(used, _)| used == id);
                                if let Some(gs) =
                                    built.and_then(|(_, b)| crate_groups.get(b.as_str()))
                                {
                                    acc.extend(gs.iter().copied());
                                }
                            }
                        }
                    }
                    acc
                })
                .reduce(HashSet::new, |mut a, b| {
                    a.extend(b);
                    a
                });
            let mut next: Vec<usize> = referenced
                .into_iter()
                .filter(|&g| !self.group_needed[g])
                .collect();
            next.sort_unstable();
            for &g in &next {
                self.group_needed[g] = true;
            }
            wave = next;
        }
    }

    /// May file `i` hold workflow code? True for the files of a package holding a marker
    /// (the same with and without `--parse-all`). Dependencies the workflows reach are not
    /// included: a syntax error there is syn's (rustc built them), not the user's.
    pub fn may_hold_workflow(&self, i: usize) -> bool {
        self.group_marked[self.group_of[i]]
    }

    /// After a round of parsing (`results[i]` is set for every parsed file): a method call
    /// on a trait object or a generic bound reaches every implementation of the trait in the
    /// tree, also in packages nobody references by name. So for every method name called
    /// from a needed group, the files defining `fn <name>` (textually) are parsed, and the
    /// group of one implementing a trait method of that name is parsed in full. Returns
    /// whether anything was added.
    pub fn grow(&mut self, results: &[Option<Result<FileSummary, Problem>>]) -> bool {
        if self.parse.iter().all(|&p| p) {
            // Everything is parsed already (`--parse-all`): nothing can be added.
            return false;
        }
        let mut called: HashSet<&str> = HashSet::new();
        for (i, r) in results.iter().enumerate() {
            let Some(Ok(s)) = r else { continue };
            if !self.group_needed[self.group_of[i]] {
                continue;
            }
            for call in s.fns.iter().flat_map(|f| &f.calls) {
                if let CallKind::Method(name) = &call.kind {
                    if !COMMON_METHODS.contains(&name.as_str()) {
                        called.insert(name.as_str());
                    }
                }
            }
        }
        let mut escalate = Vec::new();
        for (i, r) in results.iter().enumerate() {
            let Some(Ok(s)) = r else { continue };
            if self.group_needed[self.group_of[i]] || s.trait_impls.is_empty() {
                continue;
            }
            let implements = s.fns.iter().any(|f| {
                f.method
                    && f.qual.last().is_some_and(|n| called.contains(n.as_str()))
                    && s.trait_impls
                        .iter()
                        .any(|(_, ty)| f.qual.len() == ty.len() + 1 && f.qual.starts_with(ty))
            });
            if implements {
                escalate.push(self.group_of[i]);
            }
        }
        let wanted: HashSet<&str> = called
            .into_iter()
            .filter(|n| !self.searched.contains(*n))
            .collect();
        let before = self.parse.iter().filter(|&&p| p).count();
        if !wanted.is_empty() {
            let texts = self.texts;
            let parse = &self.parse;
            let hits: Vec<usize> = (0..self.files.len())
                .into_par_iter()
                .filter(|&i| !parse[i] && texts[i].is_some_and(|t| defines_fn(t, &wanted)))
                .collect();
            for i in hits {
                self.parse[i] = true;
            }
            self.searched.extend(wanted.iter().map(|s| s.to_string()));
        }
        self.need(escalate);
        self.parse.iter().filter(|&&p| p).count() > before
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_drop_redundant_ones() {
        let m = markers(&Config::default());
        assert!(m.contains(&"WorkflowContext".to_string()));
        assert!(!m.contains(&"SyncWorkflowContext".to_string()));
        assert!(m.contains(&"register_wf".to_string()));
    }

    #[test]
    fn scans_idents_and_fn_definitions() {
        let ids: Vec<&str> = idents("use a_b::c; 0x1f r#type é1").collect();
        assert_eq!(ids, ["use", "a_b", "c", "r", "type", "é1"]);
        let wanted = HashSet::from(["frob"]);
        assert!(defines_fn("impl X { pub fn  frob(&self) {} }", &wanted));
        assert!(defines_fn("fn r#frob() {}", &wanted));
        assert!(!defines_fn("fn frobnicate() {} x.frob()", &wanted));
        assert!(!defines_fn("cfn frob", &wanted));
    }
}
