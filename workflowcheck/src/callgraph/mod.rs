//! The global call graph: every function of every scanned file, indexed by qualified path,
//! with `use` aliases (re-exports) and globs across files and crates; walked from each
//! workflow entry point with a worklist (breadth-first, so the first path found to a function
//! is a shortest one). Each function's resolved edges and operations are computed once and
//! memoised; visited sets make cycles terminate.

mod unresolved;

use crate::config::Config;
use crate::model::*;
use crate::rules;
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};

/// A function in the graph: (file index, fn index in that file).
pub type FnId = usize;

/// What a function does once its calls are resolved.
#[derive(Clone, Debug, Default)]
struct Facts {
    ops: Vec<Op>,
    edges: Vec<(FnId, Loc)>,
    /// Calls resolving to nothing scanned: (where, callee as written, why).
    unresolved: Vec<(Loc, String, String)>,
}

/// The stage: builds the graph of `files` and walks it from every workflow entry point.
pub fn reach(files: &[FileSummary], cfg: &Config) -> Reachability {
    let mut graph = Graph::build(files, cfg);
    let entries = graph.entries();
    let workflows_found = entries.len();
    let entry_points = entries
        .iter()
        .map(|&id| {
            let info = graph.info(id);
            EntryPoint {
                function: join(&info.qual),
                file: files[graph.file_of(id)].display.clone(),
                line: info.loc.line,
                column: info.loc.column,
                reason: graph.entry_reason(id).unwrap_or_default(),
            }
        })
        .collect();
    let (reached, unresolved) = graph.walk();
    Reachability {
        workflows_found,
        entry_points,
        reached,
        unresolved,
    }
}

/// `join(segs)`, with where each prefix ends in it: `key[..ends[k - 1]]` is
/// `join(&segs[..k])`, so every prefix is looked up without a string of its own.
fn prefixes(segs: &[String]) -> (String, Vec<usize>) {
    let mut key = String::with_capacity(segs.iter().map(|s| s.len() + 2).sum());
    let mut ends = Vec::with_capacity(segs.len());
    for (i, s) in segs.iter().enumerate() {
        if i > 0 {
            key.push_str("::");
        }
        key.push_str(s);
        ends.push(key.len());
    }
    (key, ends)
}

/// One file's canonical keys, computed in parallel before they are indexed: of each shared
/// field, of each field type, and of each `impl`: the type, the traits' keys and the first
/// trait.
struct Canonical {
    shared_fields: Vec<String>,
    field_types: Vec<String>,
    trait_impls: Vec<(Segs, Vec<String>, Option<Segs>)>,
}

/// An operation reached while walking, with its chain as graph nodes.
struct Walked {
    op: Op,
    workflows: BTreeSet<String>,
    /// (function, location in it) from the entry point to the operation.
    chain: Vec<(FnId, Loc)>,
}

/// Every function of every scanned file, with the indexes used to resolve calls.
pub struct Graph<'a> {
    /// The summaries the graph is built from.
    pub files: &'a [FileSummary],
    cfg: &'a Config,
    /// (file index, fn index in that file) of each [`FnId`].
    pub fns: Vec<(usize, usize)>,
    by_path: HashMap<String, Vec<FnId>>,
    /// Canonical `struct path::field` -> the field's type candidates.
    field_types: HashMap<String, Vec<Segs>>,
    /// Canonical trait path -> the types implementing it in the tree.
    trait_impls: HashMap<String, Vec<Segs>>,
    /// Canonical type path -> the traits it implements in the tree.
    traits_of_type: HashMap<String, Vec<Segs>>,
    /// Canonical `struct path::field` -> the shared mutable state it holds.
    shared_fields: HashMap<String, String>,
    /// Types with a workflow entry method: their fields are the workflow's state (a runtime's
    /// own types share state with the runtime by design).
    workflow_types: HashSet<String>,
    /// Handlers of entry traits (Restate `#[service]` ..), with why.
    trait_entries: HashMap<FnId, String>,
    /// Crates defining a workflow context type, with the type names.
    runtimes: HashSet<(String, String)>,
    aliases: HashMap<String, Segs>,
    globs: HashMap<String, Vec<Segs>>,
    statics: HashMap<String, String>,
    unordered_fields: HashMap<String, &'static str>,
    activities: HashSet<FnId>,
    /// Per function: other crates cannot name it by a path (declared under a private
    /// module and not re-exported); only a method call reaches it from there.
    hidden: Vec<bool>,
    /// Crates and types of the tree, for telling unresolved calls.
    known: unresolved::Known,
    facts: Vec<Option<Facts>>,
}

impl<'a> Graph<'a> {
    /// Indexes every function, alias, glob, static and field of `files`.
    pub fn build(files: &'a [FileSummary], cfg: &'a Config) -> Graph<'a> {
        let mut g = Graph {
            files,
            cfg,
            fns: Vec::new(),
            by_path: HashMap::new(),
            field_types: HashMap::new(),
            trait_impls: HashMap::new(),
            traits_of_type: HashMap::new(),
            shared_fields: HashMap::new(),
            workflow_types: HashSet::new(),
            trait_entries: HashMap::new(),
            runtimes: HashSet::new(),
            aliases: HashMap::new(),
            globs: HashMap::new(),
            statics: HashMap::new(),
            unordered_fields: HashMap::new(),
            activities: HashSet::new(),
            hidden: Vec::new(),
            known: unresolved::Known::default(),
            facts: Vec::new(),
        };
        // The keys are built in parallel, file by file, and inserted in file order (the
        // first alias of a name wins, functions of one path keep their order).
        let fn_keys: Vec<Vec<String>> = files
            .par_iter()
            .map(|file| file.fns.iter().map(|f| join(&f.qual)).collect())
            .collect();
        for ((fi, file), keys) in files.iter().enumerate().zip(fn_keys) {
            for ((i, f), key) in file.fns.iter().enumerate().zip(keys) {
                let id = g.fns.len();
                g.fns.push((fi, i));
                g.by_path.entry(key).or_default().push(id);
                if f.activity {
                    g.activities.insert(id);
                }
            }
            for (k, t) in &file.aliases {
                g.aliases.entry(join(k)).or_insert_with(|| t.clone());
            }
            for (m, p) in &file.globs {
                g.globs.entry(join(m)).or_default().push(p.clone());
            }
            for s in &file.statics {
                g.statics.insert(join(&s.qual), s.what.clone());
            }
            for (k, kind) in &file.unordered_fields {
                g.unordered_fields.insert(join(k), kind);
            }
        }
        // Canonical paths need every alias; computed in parallel, inserted in file order.
        let canon: Vec<Canonical> = files.par_iter().map(|f| g.canonical_of(f)).collect();
        for (file, c) in files.iter().zip(canon) {
            for ((_, what), key) in file.shared_fields.iter().zip(c.shared_fields) {
                g.shared_fields.entry(key).or_insert_with(|| what.clone());
            }
            for ((_, t), key) in file.field_types.iter().zip(c.field_types) {
                g.field_types.entry(key).or_insert_with(|| t.clone());
            }
            for (ty, traits, first) in c.trait_impls {
                for key in traits {
                    let impls = g.trait_impls.entry(key).or_default();
                    if !impls.contains(&ty) {
                        impls.push(ty.clone());
                    }
                }
                if let Some(t) = first {
                    let of = g.traits_of_type.entry(join(&ty)).or_default();
                    if !of.contains(&t) {
                        of.push(t);
                    }
                }
            }
        }
        let mut entry_traits: HashMap<String, (String, String)> = HashMap::new();
        for file in files {
            for (t, attr) in &file.entry_traits {
                let shown = t.last().cloned().unwrap_or_default();
                entry_traits.insert(join(&g.canonical(t)), (attr.clone(), shown));
            }
            for c in &file.context_defs {
                if let (Some(krate), Some(name)) = (c.first(), c.last()) {
                    g.runtimes.insert((krate.clone(), name.clone()));
                }
            }
        }
        if !entry_traits.is_empty() {
            let handlers: Vec<(FnId, String)> = (0..g.fns.len())
                .into_par_iter()
                .filter_map(|id| {
                    let info = g.info(id);
                    let (attr, name) = info
                        .impl_trait
                        .iter()
                        .find_map(|t| entry_traits.get(&join(&g.canonical(t))))?;
                    Some((id, format!("handler of the `#[{attr}]` trait `{name}`")))
                })
                .collect();
            g.trait_entries.extend(handlers);
        }
        for file in files {
            for cands in &file.activity_regs {
                if let Some(ids) = g.resolve_fn(cands) {
                    g.activities.extend(ids);
                }
            }
        }
        let owners: Vec<String> = (0..g.fns.len())
            .into_par_iter()
            .filter_map(|id| {
                let info = g.info(id);
                (info.method && info.qual.len() > 1 && g.entry_reason(id).is_some())
                    .then(|| join(&g.canonical(&info.qual[..info.qual.len() - 1])))
            })
            .collect();
        g.workflow_types.extend(owners);
        g.hidden = g.path_hidden();
        g.known = g.known();
        g.facts = vec![None; g.fns.len()];
        g
    }

    /// Which functions other crates cannot name: declared under a private module (or in a
    /// function body) and not re-exported, neither themselves nor a module or type holding
    /// them (`pub use inner::Client;` opens `Client`'s methods).
    fn path_hidden(&self) -> Vec<bool> {
        let reexports: HashSet<String> = self
            .files
            .par_iter()
            .flat_map_iter(|f| &f.reexports)
            .map(|t| join(&self.canonical(t)))
            .collect();
        (0..self.fns.len())
            .into_par_iter()
            .map(|id| {
                let info = self.info(id);
                info.hidden
                    && (reexports.is_empty() || {
                        let (key, ends) = prefixes(&info.qual);
                        !(2..=info.qual.len()).any(|k| reexports.contains(&key[..ends[k - 1]]))
                    })
            })
            .collect()
    }

    /// The function `id`.
    pub fn info(&self, id: FnId) -> &'a FnInfo {
        let (f, i) = self.fns[id];
        &self.files[f].fns[i]
    }

    /// The index of the file defining `id`.
    pub fn file_of(&self, id: FnId) -> usize {
        self.fns[id].0
    }

    /// Canonicalises `segs` through aliases and globs until `found` accepts a key.
    fn resolve_key(&self, segs: &[String], found: &dyn Fn(&str) -> bool) -> Option<String> {
        let mut cur: Segs = segs.to_vec();
        let mut seen = HashSet::new();
        for _ in 0..16 {
            let (key, ends) = prefixes(&cur);
            if found(&key) {
                return Some(key);
            }
            if !seen.insert(key.clone()) {
                return None;
            }
            // The longest prefix that is an alias.
            let mut rewritten = None;
            for k in (1..=cur.len()).rev() {
                if let Some(t) = self.aliases.get(&key[..ends[k - 1]]) {
                    if t.as_slice() != &cur[..k] {
                        let mut n = t.clone();
                        n.extend(cur[k..].iter().cloned());
                        rewritten = Some(n);
                        break;
                    }
                }
            }
            if let Some(n) = rewritten {
                cur = n;
                continue;
            }
            // A glob import in one of the modules along the path.
            for k in (1..cur.len()).rev() {
                if let Some(gs) = self.globs.get(&key[..ends[k - 1]]) {
                    for g in gs {
                        let mut n = g.clone();
                        n.extend(cur[k..].iter().cloned());
                        let key = join(&n);
                        if found(&key) {
                            return Some(key);
                        }
                        if let Some(t) = self.aliases.get(&key) {
                            let tk = join(t);
                            if found(&tk) {
                                return Some(tk);
                            }
                        }
                    }
                }
            }
            return None;
        }
        None
    }

    /// `segs` rewritten through `use` aliases (re-exports) until none applies.
    fn canonical(&self, segs: &[String]) -> Segs {
        let mut cur: Option<Segs> = None;
        for _ in 0..16 {
            let c = cur.as_deref().unwrap_or(segs);
            let (key, ends) = prefixes(c);
            let mut rewritten = None;
            for k in (1..=c.len()).rev() {
                if let Some(t) = self.aliases.get(&key[..ends[k - 1]]) {
                    if t.as_slice() != &c[..k] {
                        let mut n = t.clone();
                        n.extend(c[k..].iter().cloned());
                        rewritten = Some(n);
                        break;
                    }
                }
            }
            match rewritten {
                Some(n) => cur = Some(n),
                None => break,
            }
        }
        cur.unwrap_or_else(|| segs.to_vec())
    }

    /// The canonical keys of what `file` says about fields and trait impls (see
    /// [`Graph::build`]).
    fn canonical_of(&self, file: &FileSummary) -> Canonical {
        Canonical {
            shared_fields: file
                .shared_fields
                .iter()
                .map(|(k, _)| join(&self.canonical(k)))
                .collect(),
            field_types: file
                .field_types
                .iter()
                .map(|(k, _)| join(&self.canonical(k)))
                .collect(),
            trait_impls: file
                .trait_impls
                .iter()
                .map(|(traits, ty)| {
                    let keys = traits.iter().map(|t| join(&self.canonical(t))).collect();
                    let first = traits.first().map(|t| self.canonical(t));
                    (self.canonical(ty), keys, first)
                })
                .collect(),
        }
    }

    /// The types a deferred type expression stands for (at most a few).
    fn resolve_type(&self, te: &TypeExpr) -> Vec<Segs> {
        const MAX_TYPES: usize = 8;
        let mut out: Vec<Segs> = match te {
            TypeExpr::Paths(p) => p.clone(),
            TypeExpr::Field(base, field) => self
                .resolve_type(base)
                .iter()
                .filter_map(|t| {
                    let mut k = self.canonical(t);
                    k.push(field.clone());
                    self.field_types.get(&join(&k)).cloned()
                })
                .flatten()
                .collect(),
            TypeExpr::Return(cands) => match self.resolve_fn(cands) {
                Some(ids) => ids.iter().flat_map(|&i| self.info(i).ret.clone()).collect(),
                // `Type::make()` of a type outside the tree: a constructor, by convention.
                None => cands
                    .iter()
                    .filter(|c| {
                        c.len() >= 2 && c[c.len() - 2].starts_with(|ch: char| ch.is_uppercase())
                    })
                    .map(|c| c[..c.len() - 1].to_vec())
                    .collect(),
            },
            TypeExpr::MethodReturn(base, name) => {
                let tys = self.resolve_type(base);
                self.method_targets(&tys, name, true)
                    .iter()
                    .flat_map(|&i| self.info(i).ret.clone())
                    .collect()
            }
        };
        out.dedup();
        out.truncate(MAX_TYPES);
        out
    }

    /// The methods `name` of values of the types `tys`: the type's own (or its traits'
    /// default), and for a trait (an object or a bound) every implementation in the tree.
    /// With `union`, the targets of every type; else of the first type that has any (the
    /// types are alternative readings of one path).
    fn method_targets(&self, tys: &[Segs], name: &str, union: bool) -> Vec<FnId> {
        let mut out: Vec<FnId> = Vec::new();
        let add = |c: Segs, out: &mut Vec<FnId>| {
            if let Some(ids) = self.resolve_fn(&[c]) {
                for id in ids {
                    if !out.contains(&id) {
                        out.push(id);
                    }
                }
            }
        };
        for t in tys {
            let before = out.len();
            let mut own = t.clone();
            own.push(name.to_string());
            add(own, &mut out);
            let canon = self.canonical(t);
            if let Some(impls) = self.trait_impls.get(&join(&canon)) {
                for u in impls {
                    let mut c = u.clone();
                    c.push(name.to_string());
                    add(c, &mut out);
                }
            }
            if out.len() == before {
                if let Some(traits) = self.traits_of_type.get(&join(&canon)) {
                    for tr in traits {
                        let mut c = tr.clone();
                        c.push(name.to_string());
                        add(c, &mut out);
                    }
                }
            }
            if !union && out.len() > before {
                break;
            }
        }
        out
    }

    fn resolve_fn(&self, cands: &[Segs]) -> Option<Vec<FnId>> {
        cands.iter().find_map(|c| {
            self.resolve_key(c, &|k| self.by_path.contains_key(k))
                .and_then(|k| self.by_path.get(&k).cloned())
        })
    }

    fn resolve_static(&self, cands: &[Segs]) -> Option<(String, String)> {
        cands.iter().find_map(|c| {
            self.resolve_key(c, &|k| self.statics.contains_key(k))
                .and_then(|k| self.statics.get(&k).map(|w| (k.clone(), w.clone())))
        })
    }

    /// Resolves a function's calls and deferred operations (memoised).
    fn facts(&mut self, id: FnId) -> &Facts {
        if self.facts[id].is_none() {
            let f = self.compute(id);
            self.facts[id] = Some(f);
        }
        self.facts[id].get_or_insert_with(Facts::default)
    }

    fn compute(&self, id: FnId) -> Facts {
        let info = self.info(id);
        let mut facts = Facts {
            ops: info.ops.clone(),
            edges: Vec::new(),
            unresolved: Vec::new(),
        };
        for fi in &info.field_iters {
            let kind = fi.owner.iter().find_map(|o| {
                let mut p = o.clone();
                p.push(fi.field.clone());
                self.resolve_key(&p, &|k| self.unordered_fields.contains_key(k))
                    .and_then(|k| self.unordered_fields.get(&k).copied())
            });
            if let Some(h) = kind.and_then(|kind| rules::unordered_iteration(kind, &fi.how)) {
                facts.ops.push(h.at(fi.loc));
            }
        }
        for call in &info.calls {
            if call.kind == CallKind::Ref {
                if let Some((key, what)) = self.resolve_static(&call.candidates) {
                    let name = key.rsplit("::").next().unwrap_or(&key).to_string();
                    if let Some(h) = rules::static_access(&name, &what) {
                        facts.ops.push(h.at(call.loc));
                    }
                    continue;
                }
            }
            // A method called on a field of a workflow's own type holding state shared with
            // other code.
            if let Some(TypeExpr::Field(base, field)) = &call.receiver {
                let shared = self.resolve_type(base).iter().find_map(|t| {
                    let mut k = self.canonical(t);
                    if !self.workflow_types.contains(&join(&k)) {
                        return None;
                    }
                    k.push(field.clone());
                    self.shared_fields.get(&join(&k))
                });
                if let Some(h) = shared.and_then(|what| rules::shared_field_access(field, what)) {
                    facts.ops.push(h.at(call.loc));
                }
            }
            let mut targets = match &call.kind {
                CallKind::Method(name) => {
                    let known: Vec<Segs> = call
                        .candidates
                        .iter()
                        .filter(|c| !c.is_empty())
                        .map(|c| c[..c.len() - 1].to_vec())
                        .collect();
                    let mut t = self.method_targets(&known, name, false);
                    if t.is_empty() {
                        if let Some(r) = &call.receiver {
                            t = self.method_targets(&self.resolve_type(r), name, true);
                        }
                    }
                    t
                }
                _ => self.resolve_fn(&call.candidates).unwrap_or_default(),
            };
            let matched = targets.len();
            // A callee takes the arguments passed, and is visible from the caller's crate: a
            // `pub` item, named through public modules or a re-export unless called as a
            // method (a value of a type can be had without naming its path).
            targets.retain(|&t| {
                let ti = self.info(t);
                let arity = match (&call.kind, call.args) {
                    (CallKind::Method(_), Some(n)) => ti.has_self && ti.params == n,
                    (CallKind::Call, Some(n)) => ti.params + usize::from(ti.has_self) == n,
                    _ => true,
                };
                let same_crate = ti.qual.first() == info.qual.first();
                let by_method = matches!(call.kind, CallKind::Method(_));
                let visible = same_crate || (ti.public && (by_method || !self.hidden[t]));
                arity && visible
            });
            if targets.is_empty() {
                if let Some(why) = self.unresolved_reason(call, matched) {
                    facts.unresolved.push((call.loc, call.display.clone(), why));
                }
            }
            for t in targets {
                let target = self.info(t);
                if target.sdk || self.cfg.is_deterministic(&target.qual) {
                    continue;
                }
                // A workflow SDK's own code (a crate defining a workflow context type), called
                // from another crate, is the runtime: trusted like the context's methods, not
                // walked (its thread-locals and wakers are not the workflow's state).
                let target_crate = target.qual.first();
                if target_crate != info.qual.first()
                    && target_crate.is_some_and(|c| self.runtimes.iter().any(|(k, _)| k == c))
                {
                    continue;
                }
                if let Some((_, rule, reason, instead)) =
                    self.cfg.extra_nondeterministic(&target.qual)
                {
                    facts.ops.push(Op {
                        rule,
                        loc: call.loc,
                        message: format!("`{}` {reason}", call.display),
                        suggestion: instead.clone(),
                    });
                    continue;
                }
                if self.activities.contains(&t) {
                    if call.kind != CallKind::Ref {
                        if let Some(h) = rules::activity_call(&target.name) {
                            facts.ops.push(h.at(call.loc));
                        }
                    }
                    continue;
                }
                if target.entry.is_some() && call.kind == CallKind::Ref {
                    continue; // a workflow passed by name (e.g. to start a child) is its own root
                }
                facts.edges.push((t, call.loc));
            }
        }
        facts.ops.sort_by_key(|o| (o.loc, o.rule));
        facts.ops.dedup_by_key(|o| (o.loc, o.rule));
        facts
    }

    /// Why `id` is an entry point, if it is one: marked or registered, a handler of an entry
    /// trait, or taking a context type outside the crate defining it (the runtime's own
    /// functions, such as an SDK dispatching to the user's handlers, are not workflows).
    pub fn entry_reason(&self, id: FnId) -> Option<String> {
        if self.activities.contains(&id) {
            return None;
        }
        let info = self.info(id);
        if let Some(e) = &info.entry {
            let runtime_internal = e.context_param.as_ref().is_some_and(|t| {
                info.qual
                    .first()
                    .is_some_and(|k| self.runtimes.contains(&(k.clone(), t.clone())))
            });
            if !runtime_internal {
                return Some(e.reason.clone());
            }
        }
        self.trait_entries.get(&id).cloned()
    }

    /// Entry points, in a stable order; those of context-only files (scanned for what the
    /// given code reaches, [`FileSummary::context_only`]) are not checked.
    pub fn entries(&self) -> Vec<FnId> {
        let mut e: Vec<FnId> = (0..self.fns.len())
            .filter(|&id| {
                !self.files[self.file_of(id)].context_only && self.entry_reason(id).is_some()
            })
            .collect();
        e.sort_by_key(|&id| (join(&self.info(id).qual), id));
        e
    }

    /// Walks from every entry point; returns each reached operation once, and each
    /// unresolved call in the code walked.
    pub fn walk(&mut self) -> (Vec<Reached>, Vec<Unresolved>) {
        let mut reached: BTreeMap<(usize, Loc, &'static str), Walked> = BTreeMap::new();
        let mut unresolved: BTreeMap<(usize, Loc), Unresolved> = BTreeMap::new();
        for entry in self.entries() {
            let wf_name = join(&self.info(entry).qual);
            let mut prev: HashMap<FnId, Option<(FnId, Loc)>> = HashMap::new();
            prev.insert(entry, None);
            let mut queue = VecDeque::from([entry]);
            while let Some(f) = queue.pop_front() {
                let facts = self.facts(f).clone();
                for (loc, callee, why) in &facts.unresolved {
                    let file = self.file_of(f);
                    unresolved
                        .entry((file, *loc))
                        .or_insert_with(|| Unresolved {
                            file,
                            loc: *loc,
                            callee: callee.clone(),
                            reason: why.clone(),
                            function: join(&self.info(f).qual),
                            workflows: BTreeSet::new(),
                        })
                        .workflows
                        .insert(wf_name.clone());
                }
                for op in &facts.ops {
                    let key = (self.file_of(f), op.loc, op.rule);
                    let chain = || {
                        let mut chain = vec![(f, op.loc)];
                        let mut cur = f;
                        while let Some(Some((p, at))) = prev.get(&cur) {
                            chain.push((*p, *at));
                            cur = *p;
                        }
                        chain.reverse();
                        chain
                    };
                    match reached.get_mut(&key) {
                        Some(r) => {
                            r.workflows.insert(wf_name.clone());
                            let c = chain();
                            if c.len() < r.chain.len() {
                                r.chain = c;
                            }
                        }
                        None => {
                            reached.insert(
                                key,
                                Walked {
                                    op: op.clone(),
                                    workflows: BTreeSet::from([wf_name.clone()]),
                                    chain: chain(),
                                },
                            );
                        }
                    }
                }
                for &(t, at) in &facts.edges {
                    if let std::collections::hash_map::Entry::Vacant(v) = prev.entry(t) {
                        v.insert(Some((f, at)));
                        queue.push_back(t);
                    }
                }
            }
        }
        let reached = reached
            .into_iter()
            .map(|((file, _, _), w)| Reached {
                file,
                op: w.op,
                workflows: w.workflows,
                chain: w
                    .chain
                    .into_iter()
                    .map(|(f, loc)| ChainLink {
                        function: join(&self.info(f).qual),
                        file: self.file_of(f),
                        loc,
                    })
                    .collect(),
            })
            .collect();
        (reached, unresolved.into_values().collect())
    }
}
