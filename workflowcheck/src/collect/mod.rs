//! The collect stage: what one parsed file contributes to the global picture, as a
//! [`FileSummary`] that holds no syntax tree.
//!
//! One syn visitor records, for every function, the operations the rules flag (asking them
//! through the registry, [`crate::rules`], never a rule by name), the calls it makes (with
//! candidate targets resolved through the file's `use` trees, [`resolve`]), and whether it is
//! a workflow entry point or an activity ([`entry`]); plus the file's `use` aliases, statics
//! and struct fields holding unordered collections for the call graph, and its
//! `workflowcheck:ignore` comments.

mod captures;
pub mod entry;
mod infer;
mod registered;
pub mod resolve;
mod syntax;
mod walk;

use syntax::*;
pub use syntax::{is_cfg_test, type_last_ident};

use crate::config::{Config, ENTRY_TRAIT_ATTRS};
use crate::model::*;
use crate::rules::{self, Hit, MethodCall, StaticItem};
use crate::suppress;
use proc_macro2::{Spacing, TokenStream, TokenTree};
use resolve::{build_scope, macro_statics, Resolved, Resolver, STATIC_MACROS};
use std::collections::{HashMap, HashSet};
use syn::spanned::Spanned;
use syn::visit::{self, Visit};

/// Methods whose closure arguments run outside workflow determinism (recorded once).
const SAFE_ZONE_METHODS: &[&str] = &[
    "side_effect",
    "mutable_side_effect",
    "local_activity",
    "start_local_activity",
    "execute_local_activity",
];
/// Macros whose bodies are not Rust expressions of the program being checked.
const OPAQUE_MACROS: &[&str] = &[
    "macro_rules",
    "quote",
    "quote_spanned",
    "parse_quote",
    "parse_quote_spanned",
    "format_ident",
    "include",
    "include_str",
    "include_bytes",
    "concat",
    "stringify",
    "env",
    "option_env",
    "compile_error",
    "cfg",
    "html",
    "view",
    "sql",
    "json",
];
const FORMAT_MACROS: &[&str] = &[
    "format",
    "print",
    "println",
    "eprint",
    "eprintln",
    "write",
    "writeln",
    "panic",
    "format_args",
    "info",
    "debug",
    "warn",
    "error",
    "trace",
    "log",
    "assert",
    "assert_eq",
    "assert_ne",
];

struct Frame {
    info: FnInfo,
    env: HashMap<String, Vec<Segs>>,
    /// Locals whose type only the call graph can tell (`let c = self.client.clone()`).
    deferred: HashMap<String, TypeExpr>,
    /// Locals holding state shared through `Arc`/`Rc`, and which of them a workflow closure
    /// captured from outside ([`captures`]).
    shared: captures::SharedLocals,
}

/// Traits that say nothing about which methods a value has (`T: Send + Clone`).
const MARKER_TRAITS: &[&str] = &[
    "Send",
    "Sync",
    "Sized",
    "Unpin",
    "Clone",
    "Copy",
    "Debug",
    "Display",
    "Default",
    "Eq",
    "PartialEq",
    "Ord",
    "PartialOrd",
    "Hash",
    "Serialize",
    "Deserialize",
    "DeserializeOwned",
    "Fn",
    "FnMut",
    "FnOnce",
    "Into",
    "From",
    "AsRef",
    "Any",
    "Future",
    "Error",
];
/// Smart pointers and wrappers whose methods calls reach through (`Arc<Client>`).
const POINTERS: &[&str] = &["Box", "Arc", "Rc", "Pin"];
/// Methods whose result has the receiver's type (or derefs to it) for type inference.
const SAME_TYPE_METHODS: &[&str] = &[
    "clone",
    "to_owned",
    "unwrap",
    "expect",
    "as_ref",
    "as_mut",
    "borrow",
    "borrow_mut",
    "unwrap_or_default",
    "deref",
];
/// Methods of a registry builder whose closure arguments are workflows when the builder is
/// an orchestration registry (duroxide: `OrchestrationRegistry::builder().register(..)`).
const REGISTRY_METHODS: &[&str] = &[
    "register",
    "register_versioned",
    "register_typed",
    "register_versioned_typed",
];
/// Iterator adapters that keep an order-insensitive consumer order-insensitive.
const ORDER_ADAPTERS: &[&str] = &[
    "filter",
    "map",
    "filter_map",
    "cloned",
    "copied",
    "flat_map",
    "flatten",
    "inspect",
    "by_ref",
];
/// Collections whose contents do not depend on insertion order.
const UNORDERED_SINKS: &[&str] = &["BTreeMap", "BTreeSet", "HashMap", "HashSet"];
/// The consumer name standing for "the result is sorted or collected into a set".
const SORTED: &str = "sort";
/// Methods sorting a vector in place.
const SORT_METHODS: &[&str] = &[
    "sort",
    "sort_unstable",
    "sort_by",
    "sort_by_key",
    "sort_unstable_by",
    "sort_unstable_by_key",
    "dedup",
];
/// How deep a deferred type may nest (a builder chain is as deep as it is long).
const MAX_TYPE_EXPR_DEPTH: usize = 32;

/// The stage, for one parsed file placed as `file` with source `text`. Unless
/// `include_tests`, a test file contributes only its suppression comments and its lines, and
/// test items (`#[cfg(test)]`, `#[test]`, `#[bench]`) in other files are skipped.
pub fn file(
    ast: &syn::File,
    file: &SourceFile,
    text: &str,
    config: &Config,
    include_tests: bool,
) -> FileSummary {
    let mut summary = if file.test && !include_tests {
        FileSummary::default()
    } else {
        let mut module = vec![file.crate_name.clone()];
        module.extend(file.module.iter().cloned());
        let mut c = Collector::new(config, &file.crate_name);
        c.res.renames = file
            .renames
            .iter()
            .filter(|(used, _)| !rules::decides_crate(used))
            .cloned()
            .collect();
        c.include_tests = include_tests;
        c.hidden = vec![file.hidden];
        c.run(ast, module)
    };
    summary.suppressions = suppress::parse(text);
    placed(summary, file, text)
}

/// What a file that is not parsed contributes: its lines and suppression comments.
pub fn unparsed(file: &SourceFile, text: &str) -> FileSummary {
    let summary = FileSummary {
        suppressions: suppress::parse(text),
        ..FileSummary::default()
    };
    placed(summary, file, text)
}

fn placed(mut summary: FileSummary, file: &SourceFile, text: &str) -> FileSummary {
    summary.path = file.path.clone();
    summary.display = file.display.clone();
    summary.context_only = file.context_only;
    summary.crate_name = file.crate_name.clone();
    summary.lines = count_lines(text);
    summary
}

/// Lines as `str::lines` counts them.
fn count_lines(text: &str) -> usize {
    let newlines = memchr::memchr_iter(b'\n', text.as_bytes()).count();
    newlines + usize::from(!text.is_empty() && !text.ends_with('\n'))
}

/// Visitor state for one file.
struct Collector<'a> {
    cfg: &'a Config,
    res: Resolver,
    frames: Vec<Frame>,
    out: FileSummary,
    /// First segments of every `use` target and glob seen so far (crates the file imports).
    imported: HashSet<String>,
    /// A method call node (`.values()` in `.values().sum()`) and the name of the method that
    /// consumes its result (`sum`). Set just before the receiver of a method call is
    /// visited, taken by the next method call visited: the address identifies the node
    /// without computing its location.
    consumer: Option<(*const syn::ExprMethodCall, String)>,
    /// Closures visited now are workflow entry points (arguments of `register_wf`).
    force_entry: Option<String>,
    /// Inside `#[workflow_methods]` impl; inside an impl of a context type.
    impl_flags: Vec<(bool, bool)>,
    /// Analyse test items too.
    include_tests: bool,
    /// `let` statements whose variable is sorted by a later statement of the same block.
    sorted_locals: HashSet<*const syn::Local>,
    /// `let` statements binding a closure that a later statement registers as a workflow,
    /// with the registering method (`registered.rs`).
    registered_locals: HashMap<*const syn::Local, String>,
    /// Generic parameters in scope, each with the candidate paths of its trait bounds.
    generics: Vec<HashMap<String, Vec<Segs>>>,
    /// Candidate paths of the trait of each enclosing `impl Trait for ..` (empty if none).
    impl_traits: Vec<Vec<Segs>>,
    /// For each enclosing module: other crates cannot name it (a private `mod` on its path).
    hidden: Vec<bool>,
}

impl<'a> Collector<'a> {
    fn new(cfg: &'a Config, crate_name: &str) -> Collector<'a> {
        Collector {
            cfg,
            res: Resolver {
                crate_name: crate_name.to_string(),
                ..Resolver::default()
            },
            frames: Vec::new(),
            out: FileSummary::default(),
            imported: HashSet::new(),
            consumer: None,
            force_entry: None,
            impl_flags: Vec::new(),
            include_tests: false,
            generics: Vec::new(),
            impl_traits: Vec::new(),
            sorted_locals: HashSet::new(),
            registered_locals: HashMap::new(),
            hidden: Vec::new(),
        }
    }

    /// Summarises a parsed file placed at `module` (which starts with the crate name).
    fn run(mut self, file: &syn::File, module: Segs) -> FileSummary {
        self.push_scope(module, false, file.items.iter());
        for item in &file.items {
            self.visit_item(item);
        }
        self.out
    }

    fn push_scope<'i>(
        &mut self,
        module: Segs,
        block: bool,
        items: impl Iterator<Item = &'i syn::Item> + Clone,
    ) {
        let scope = build_scope(
            &self.res.crate_name,
            &self.res.renames,
            module,
            block,
            items,
        );
        for root in scope
            .uses
            .values()
            .chain(&scope.globs)
            .filter_map(|t| t.first())
        {
            if !self.imported.contains(root) {
                self.imported.insert(root.clone());
            }
        }
        if !block {
            if !self.hidden.last().copied().unwrap_or(false) {
                self.out.reexports.extend(scope.reexports.iter().cloned());
            }
            let mut uses: Vec<(&String, &Segs)> = scope.uses.iter().collect();
            uses.sort_unstable();
            for (name, target) in uses {
                let mut k = scope.module.clone();
                k.push(name.clone());
                self.out.aliases.push((k, target.clone()));
            }
            for g in &scope.globs {
                self.out.globs.push((scope.module.clone(), g.clone()));
            }
        }
        self.res.scopes.push(scope);
    }

    /// Notes the `let` statements of `b` whose variable a later statement sorts
    /// (`let mut v: Vec<_> = m.keys().collect(); v.sort();`).
    fn note_sorted_locals(&mut self, b: &syn::Block) {
        for (i, stmt) in b.stmts.iter().enumerate() {
            let syn::Stmt::Local(l) = stmt else { continue };
            let name = match &l.pat {
                syn::Pat::Ident(p) => &p.ident,
                syn::Pat::Type(pt) => match &*pt.pat {
                    syn::Pat::Ident(p) => &p.ident,
                    _ => continue,
                },
                _ => continue,
            };
            let sorted_later = b.stmts[i + 1..].iter().any(|s| {
                let e = match s {
                    syn::Stmt::Expr(e, _) => e,
                    _ => return false,
                };
                let syn::Expr::MethodCall(m) = e else {
                    return false;
                };
                SORT_METHODS.contains(&m.method.to_string().as_str())
                    && single_ident(&m.receiver).is_some_and(|n| *name == n)
            });
            if sorted_later {
                self.sorted_locals.insert(l as *const syn::Local);
            }
        }
    }

    /// The method's name when this call registers workflows (`register_wf`, or `register` on
    /// an orchestration registry): its closure arguments are entry points.
    fn registers_workflow(&self, m: &syn::ExprMethodCall) -> Option<String> {
        let name = m.method.to_string();
        (REGISTER_WORKFLOW.contains(&name.as_str())
            || (REGISTRY_METHODS.contains(&name.as_str())
                && self.chain_mentions(&m.receiver, "Orchestration")))
        .then_some(name)
    }

    /// Does the root of a method chain (`Root::builder().a().b()`, or a variable) name
    /// `needle` in its path or its known type?
    fn chain_mentions(&self, e: &syn::Expr, needle: &str) -> bool {
        let mut e = strip_expr(e);
        for _ in 0..256 {
            match e {
                syn::Expr::MethodCall(m) => e = strip_expr(&m.receiver),
                syn::Expr::Try(t) => e = strip_expr(&t.expr),
                syn::Expr::Await(a) => e = strip_expr(&a.base),
                syn::Expr::Call(c) => e = strip_expr(&c.func),
                syn::Expr::Path(p) => {
                    let segs = ident_segs(&p.path);
                    if segs.iter().any(|s| s.contains(needle)) {
                        return true;
                    }
                    return segs.len() == 1
                        && self.env_type(&segs[0]).is_some_and(|t| {
                            t.iter().any(|c| c.iter().any(|s| s.contains(needle)))
                        });
                }
                _ => return false,
            }
        }
        false
    }

    /// Does a type resolve to the standard library or an async runtime (`std::task::Context`
    /// is never a workflow context, whatever the configured names)?
    fn is_foreign_type(&self, ty: &syn::Type) -> bool {
        let mut ty = ty;
        while let syn::Type::Reference(r) = ty {
            ty = &r.elem;
        }
        let syn::Type::Path(p) = ty else {
            return false;
        };
        let cands = self.res.resolve(&ident_segs(&p.path));
        !cands.is_empty()
            && cands.iter().all(|c| {
                c.len() >= 2
                    && matches!(
                        c[0].as_str(),
                        "std" | "core" | "alloc" | "futures" | "futures_core" | "tokio"
                    )
            })
    }

    /// An item skipped as test code (`#[cfg(test)]`), unless tests are analysed.
    fn is_test_item(&self, attrs: &[syn::Attribute]) -> bool {
        !self.include_tests && is_cfg_test(attrs)
    }

    fn hit(&mut self, hit: Hit, loc: Loc) {
        if let Some(f) = self.frames.last_mut() {
            f.info.ops.push(hit.at(loc));
        }
    }

    /// Checks resolved candidates against configured and built-in paths.
    /// Returns `Some(true)` if reported, `Some(false)` if declared deterministic.
    fn check_path(&mut self, r: &Resolved, shown: &str, loc: Loc) -> Option<bool> {
        for (i, c) in r.cands.iter().enumerate() {
            // The crate's own items (and globs of its own modules) are walked, not matched.
            let own = r.local || (i >= r.from_glob && c.first() == Some(&self.res.crate_name));
            if self.cfg.is_deterministic(c) {
                return Some(false);
            }
            if let Some((_, rule, reason, instead)) = self.cfg.extra_nondeterministic(c) {
                let hit = Hit::new(rule, format!("`{shown}` {reason}"), instead.clone());
                self.hit(hit, loc);
                return Some(true);
            }
            if own {
                continue;
            }
            if let Some(hit) = rules::match_path(c, shown) {
                self.hit(hit, loc);
                return Some(true);
            }
        }
        None
    }

    fn call(&mut self, loc: Loc, kind: CallKind, candidates: Vec<Segs>, display: String) {
        self.call_site(CallSite {
            loc,
            kind,
            candidates,
            display,
            args: None,
            receiver: None,
        });
    }

    fn call_site(&mut self, site: CallSite) {
        if let Some(f) = self.frames.last_mut() {
            f.info.calls.push(site);
        }
    }

    /// The kind of unordered collection (as a rule classifies it) an expression holds.
    fn unordered_kind(&self, e: &syn::Expr) -> Option<&'static str> {
        self.infer(e)?
            .iter()
            .find_map(|c| rules::unordered_collection(c))
    }

    /// Reports an order-sensitive iteration of an unordered collection of `kind`.
    fn unordered_iteration(&mut self, kind: &str, how: &str, loc: Loc) {
        if let Some(h) = rules::unordered_iteration(kind, how) {
            self.hit(h, loc);
        }
    }

    fn is_ctx_expr(&self, e: &syn::Expr) -> bool {
        match strip_expr(e) {
            syn::Expr::Path(_) => {
                let Some(n) = single_ident(e) else {
                    return false;
                };
                if let Some(t) = self.env_type(&n) {
                    return t
                        .iter()
                        .any(|c| c.last().is_some_and(|l| self.cfg.is_workflow_type(l)));
                }
                matches!(n.as_str(), "ctx" | "context" | "wf_ctx" | "wctx")
            }
            syn::Expr::Field(f) => matches!(&f.member, syn::Member::Named(i) if i == "ctx"),
            _ => false,
        }
    }

    /// A field access `base.field` used as an iterable: defer to the global struct table.
    fn field_iter(&mut self, e: &syn::Expr, loc: Loc, how: String) {
        let syn::Expr::Field(f) = strip_expr(e) else {
            return;
        };
        let syn::Member::Named(field) = &f.member else {
            return;
        };
        let Some(owner) = self.infer(&f.base) else {
            return;
        };
        if let Some(frame) = self.frames.last_mut() {
            frame.info.field_iters.push(FieldIter {
                loc,
                owner,
                field: field.to_string(),
                how,
            });
        }
    }

    fn start_fn(&mut self, qual: Segs, name: String, loc: Loc) {
        self.frames.push(Frame {
            info: FnInfo {
                qual,
                name,
                loc,
                entry: None,
                activity: false,
                sdk: false,
                method: false,
                params: 0,
                has_self: false,
                public: false,
                hidden: true,
                impl_trait: Vec::new(),
                ret: Vec::new(),
                calls: Vec::new(),
                ops: Vec::new(),
                field_iters: Vec::new(),
            },
            env: HashMap::new(),
            deferred: HashMap::new(),
            shared: HashMap::new(),
        });
    }

    fn finish_fn(&mut self) {
        if let Some(f) = self.frames.pop() {
            self.out.fns.push(f.info);
        }
    }

    fn bind_inputs<'i>(&mut self, inputs: impl Iterator<Item = &'i syn::FnArg>) {
        for arg in inputs {
            if let syn::FnArg::Typed(pt) = arg {
                let t = self.type_cands(&pt.ty);
                self.bind_pat(&pt.pat, t);
                self.bind_shared(
                    &pt.pat,
                    captures::of_type(&pt.ty).map(captures::Shared::made),
                );
            }
        }
    }

    /// A function or method with a body.
    fn function(
        &mut self,
        attrs: &[syn::Attribute],
        sig: &syn::Signature,
        block: &syn::Block,
        owner: Option<(&Segs, String)>,
        public: bool,
    ) {
        if !self.include_tests && is_test_fn(attrs) {
            return;
        }
        let bounds = self.generic_bounds(&sig.generics);
        self.generics.push(bounds);
        let name = sig.ident.to_string();
        let is_method = owner.is_some();
        let (qual, display) = match owner {
            Some((ty, shown)) => {
                let mut q = ty.clone();
                q.push(name.clone());
                (q, format!("{shown}::{name}"))
            }
            None => {
                let mut q = self.res.module();
                q.push(name.clone());
                (q, name.clone())
            }
        };
        let (workflow_methods, sdk) = if is_method {
            self.impl_flags.last().copied().unwrap_or((false, false))
        } else {
            (false, false)
        };
        let hidden = self.hidden.last().copied().unwrap_or(false) || !self.frames.is_empty();
        self.start_fn(qual, display, Loc::of(sig.ident.span()));
        let entry = if sdk {
            None
        } else {
            let foreign = |ty: &syn::Type| self.is_foreign_type(ty);
            entry::entry_reason(self.cfg, attrs, sig, workflow_methods, &foreign)
        };
        let activity = entry.is_none() && entry::is_activity(self.cfg, attrs, sig);
        if let Some(f) = self.frames.last_mut() {
            f.info.entry = entry.map(|(reason, context_param)| Entry {
                reason,
                context_param,
            });
            f.info.activity = activity;
            f.info.sdk = sdk;
            f.info.method = is_method;
            f.info.public = public;
            f.info.hidden = hidden;
            if is_method {
                f.info.impl_trait = self.impl_traits.last().cloned().unwrap_or_default();
            }
            f.info.has_self = sig.receiver().is_some();
            f.info.params = sig.inputs.len() - usize::from(sig.receiver().is_some());
        }
        let ret = self.ret_cands(&sig.output);
        if let Some(f) = self.frames.last_mut() {
            f.info.ret = ret;
        }
        self.bind_inputs(sig.inputs.iter());
        self.visit_block(block);
        self.finish_fn();
        self.generics.pop();
    }

    fn register_statics(&mut self, names: Vec<String>, what: &str) {
        let module = self.res.module();
        for n in names {
            let mut q = module.clone();
            q.push(n);
            self.out.statics.push(StaticInfo {
                qual: q,
                what: what.to_string(),
            });
        }
    }

    /// Parses the expressions inside a macro body, best effort, and visits them.
    fn visit_macro_body(&mut self, tokens: &TokenStream) {
        let joint =
            |t: &TokenTree| matches!(t, TokenTree::Punct(q) if q.spacing() == Spacing::Joint);
        // The tokens are moved into the pieces (one copy of the body, not two).
        let mut toks = tokens.clone().into_iter().peekable();
        let mut pieces: Vec<Vec<TokenTree>> = vec![Vec::new()];
        // Whether the token before the current one is a joint punctuation.
        let mut prev_joint = false;
        while let Some(t) = toks.next() {
            if let TokenTree::Punct(p) = &t {
                let c = p.as_char();
                if c == ',' || c == ';' {
                    pieces.push(Vec::new());
                    prev_joint = joint(&t);
                    continue;
                }
                if c == '=' && !prev_joint {
                    if p.spacing() == Spacing::Alone {
                        pieces.push(Vec::new());
                        prev_joint = joint(&t);
                        continue;
                    }
                    if matches!(toks.peek(), Some(TokenTree::Punct(q)) if q.as_char() == '>') {
                        pieces.push(Vec::new());
                        prev_joint = toks.next().is_some_and(|gt| joint(&gt));
                        continue;
                    }
                }
            }
            prev_joint = joint(&t);
            if let Some(last) = pieces.last_mut() {
                last.push(t);
            }
        }
        for piece in pieces {
            if piece.is_empty() {
                continue;
            }
            // A lone `{ .. }` is a block of statements (select! handlers, closures bodies).
            if let [TokenTree::Group(g)] = piece.as_slice() {
                if g.delimiter() == proc_macro2::Delimiter::Brace {
                    if let Ok(stmts) =
                        syn::parse::Parser::parse2(syn::Block::parse_within, g.stream())
                    {
                        for s in &stmts {
                            self.visit_stmt(s);
                        }
                    }
                    continue;
                }
            }
            let ts: TokenStream = piece.into_iter().collect();
            if let Ok(e) = syn::parse2::<syn::Expr>(ts) {
                self.visit_expr(&e);
            }
        }
    }

    /// `{:?}`-formatting of an unordered collection in a format-like macro.
    fn check_debug_format(&mut self, tokens: &TokenStream) {
        let toks: Vec<TokenTree> = tokens.clone().into_iter().collect();
        let Some(lit_idx) = toks
            .iter()
            .position(|t| matches!(t, TokenTree::Literal(l) if l.to_string().starts_with('"')))
        else {
            return;
        };
        let lit = toks[lit_idx].to_string();
        if !lit.contains('?') {
            return;
        }
        let mut names: Vec<(String, Loc)> = Vec::new();
        // Inline `{name:?}` arguments.
        let mut rest = lit.as_str();
        while let Some(open) = rest.find('{') {
            rest = &rest[open + 1..];
            let close = rest.find('}').unwrap_or(rest.len());
            let spec = &rest[..close];
            if let Some((n, fmt)) = spec.split_once(':') {
                if fmt.contains('?')
                    && !n.is_empty()
                    && n.chars().all(|c| c.is_alphanumeric() || c == '_')
                {
                    names.push((n.to_string(), Loc::of(toks[lit_idx].span())));
                }
            }
            rest = &rest[close.min(rest.len())..];
        }
        // Positional arguments that are plain identifiers.
        for t in &toks[lit_idx + 1..] {
            if let TokenTree::Ident(i) = t {
                names.push((i.to_string(), Loc::of(i.span())));
            }
        }
        for (n, loc) in names {
            if let Some(kind) = self
                .env_type(&n)
                .and_then(|t| t.iter().find_map(|c| rules::unordered_collection(c)))
            {
                self.unordered_iteration(kind, &format!("`{{:?}}` formatting of `{n}`"), loc);
            }
        }
    }
}

impl Collector<'_> {
    /// Records that the local bound by `pat` (a plain name, also annotated) holds `shared`.
    fn bind_shared(&mut self, pat: &syn::Pat, shared: Option<captures::Shared>) {
        let pat = match pat {
            syn::Pat::Type(pt) => &*pt.pat,
            other => other,
        };
        if let (syn::Pat::Ident(i), Some(s), Some(f)) = (pat, shared, self.frames.last_mut()) {
            f.shared.insert(i.ident.to_string(), s);
        }
    }

    /// A method called on `receiver`: reported if it is shared state the workflow closure
    /// being visited captured from outside.
    /// `loc` is computed only for a hit: the span of a whole argument expression is found by
    /// printing it to tokens.
    fn captured_use(&mut self, receiver: &syn::Expr, loc: impl FnOnce() -> Loc) {
        match self.frames.last() {
            Some(f) if !f.shared.is_empty() => {}
            _ => return,
        }
        let Some(name) = captures::local_name(receiver) else {
            return;
        };
        let what = self.frames.last().and_then(|f| {
            let s = f.shared.get(&name)?;
            s.captured.then(|| s.what.clone())
        });
        if let Some(h) = what.and_then(|w| rules::captured_state_access(&name, &w)) {
            self.hit(h, loc());
        }
    }

    /// Captured shared state handed to a function or method (`helper(&counter)`,
    /// `helper(counter.clone())`): the callee uses it from workflow code, where the state
    /// escapes what this function's own uses show.
    fn captured_arg(&mut self, a: &syn::Expr) {
        let mut e = strip_expr(a);
        if let syn::Expr::MethodCall(m) = e {
            if m.method == "clone" && m.args.is_empty() {
                e = strip_expr(&m.receiver);
            }
        }
        self.captured_use(e, || Loc::of(a.span()));
    }

    fn register_activity_args<'e>(&mut self, args: impl Iterator<Item = &'e syn::Expr>) {
        for a in args {
            if let syn::Expr::Path(p) = strip_expr(a) {
                if p.qself.is_none() {
                    let segs = ident_segs(&p.path);
                    let cands = self.res.resolve(&segs);
                    self.out.activity_regs.push(cands);
                }
            }
        }
    }
}
