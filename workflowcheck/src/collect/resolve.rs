//! Per-file name resolution: `use` trees (aliases, globs, groups, `self`/`super`/`crate`,
//! nested modules, block-level items) turned into scopes, and paths resolved through them
//! into absolute candidate paths.
//!
//! Resolution is syntactic: a path resolves to *candidates*, in priority order. An explicit
//! `use` binding or a local item wins outright (as in rustc); otherwise the path as written
//! (an extern crate or prelude name) and each glob-imported prefix are candidates.

use crate::model::Segs;
use proc_macro2::{TokenStream, TokenTree};
use std::collections::{HashMap, HashSet};

/// Names visible in one module or block.
#[derive(Clone, Debug, Default)]
pub struct Scope {
    /// Path under which this scope's items are qualified.
    pub module: Segs,
    /// A block scope also sees the scopes around it; a module scope does not.
    pub block: bool,
    /// `use` bindings: name -> absolute target.
    pub uses: HashMap<String, Segs>,
    /// Glob-imported prefixes.
    pub globs: Vec<Segs>,
    /// Names of the items declared here.
    pub items: HashSet<String>,
    /// Absolute targets of this scope's `pub use` items (bindings and globs): re-exports.
    pub reexports: Vec<Segs>,
}

/// Flattens a use tree into `(binding, target)` pairs and glob prefixes.
pub fn flatten_use(
    tree: &syn::UseTree,
    prefix: &mut Segs,
    out: &mut Vec<(String, Segs)>,
    globs: &mut Vec<Segs>,
) {
    // Iterative over the `Path` spine; recursion only into groups (bounded by nesting check).
    let mut tree = tree;
    let depth = prefix.len();
    loop {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                tree = &p.tree;
            }
            syn::UseTree::Name(n) => {
                let name = n.ident.to_string();
                if name == "self" {
                    if let Some(last) = prefix.last() {
                        out.push((last.clone(), prefix.clone()));
                    }
                } else {
                    let mut t = prefix.clone();
                    t.push(name.clone());
                    out.push((name, t));
                }
                break;
            }
            syn::UseTree::Rename(r) => {
                let alias = r.rename.to_string();
                let ident = r.ident.to_string();
                let target = if ident == "self" {
                    prefix.clone()
                } else {
                    let mut t = prefix.clone();
                    t.push(ident);
                    t
                };
                if alias != "_" && !target.is_empty() {
                    out.push((alias, target));
                }
                break;
            }
            syn::UseTree::Glob(_) => {
                globs.push(prefix.clone());
                break;
            }
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    flatten_use(t, prefix, out, globs);
                }
                break;
            }
        }
    }
    prefix.truncate(depth);
}

/// Names an item introduces into its module's namespace.
pub fn item_name(item: &syn::Item) -> Option<String> {
    Some(match item {
        syn::Item::Fn(f) => f.sig.ident.to_string(),
        syn::Item::Struct(s) => s.ident.to_string(),
        syn::Item::Enum(e) => e.ident.to_string(),
        syn::Item::Union(u) => u.ident.to_string(),
        syn::Item::Trait(t) => t.ident.to_string(),
        syn::Item::TraitAlias(t) => t.ident.to_string(),
        syn::Item::Type(t) => t.ident.to_string(),
        syn::Item::Mod(m) => m.ident.to_string(),
        syn::Item::Static(s) => s.ident.to_string(),
        syn::Item::Const(c) => c.ident.to_string(),
        syn::Item::Macro(m) => m.ident.as_ref()?.to_string(),
        _ => return None,
    })
}

/// Macros whose bodies declare statics (`lazy_static! { static ref A: .. }`).
pub const STATIC_MACROS: &[&str] = &["lazy_static", "thread_local"];

/// Names of the statics declared in a `lazy_static!` or `thread_local!` body.
pub fn macro_statics(tokens: &TokenStream) -> Vec<String> {
    let toks: Vec<TokenTree> = tokens.clone().into_iter().collect();
    let mut out = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        if let TokenTree::Ident(id) = t {
            if id == "static" {
                let mut j = i + 1;
                while let Some(TokenTree::Ident(n)) = toks.get(j) {
                    if n == "ref" || n == "mut" {
                        j += 1;
                        continue;
                    }
                    out.push(n.to_string());
                    break;
                }
            }
        }
    }
    out
}

/// `segs` with a renamed dependency's name (`prices` for `prices = { package = "pricing"
/// .. }`) replaced by the crate it builds.
pub fn renamed(mut segs: Segs, renames: &[(String, String)]) -> Segs {
    if let Some(first) = segs.first_mut() {
        if let Some((_, built)) = renames.iter().find(|(used, _)| used == first) {
            *first = built.clone();
        }
    }
    segs
}

/// Builds the scope of a module or block from its items; `renames` maps the names of
/// renamed dependencies to their crates.
pub fn build_scope<'a>(
    crate_name: &str,
    renames: &[(String, String)],
    module: Segs,
    block: bool,
    items: impl Iterator<Item = &'a syn::Item> + Clone,
) -> Scope {
    let mut scope = Scope {
        module,
        block,
        ..Scope::default()
    };
    let mut raw_uses = Vec::new();
    let mut raw_globs = Vec::new();
    let mut absolute = Vec::new(); // leading `::`
    let mut public = Vec::new(); // `pub use`
    for item in items {
        match item {
            syn::Item::Use(u) => {
                let mut prefix = Vec::new();
                let (mut o, mut g) = (Vec::new(), Vec::new());
                flatten_use(&u.tree, &mut prefix, &mut o, &mut g);
                let abs = u.leading_colon.is_some();
                let export = matches!(u.vis, syn::Visibility::Public(_));
                absolute.extend(std::iter::repeat_n(abs, o.len()));
                public.extend(std::iter::repeat_n(export, o.len()));
                raw_uses.extend(o);
                raw_globs.extend(g.into_iter().map(|g| (g, abs, export)));
            }
            syn::Item::ExternCrate(e) => {
                let name = e.ident.to_string();
                let binding = e
                    .rename
                    .as_ref()
                    .map(|r| r.1.to_string())
                    .unwrap_or(name.clone());
                if binding != "_" && name != "self" {
                    raw_uses.push((binding, vec![name]));
                    absolute.push(true);
                    public.push(matches!(e.vis, syn::Visibility::Public(_)));
                }
            }
            syn::Item::Macro(m)
                if m.mac
                    .path
                    .segments
                    .last()
                    .is_some_and(|s| STATIC_MACROS.iter().any(|n| s.ident == n)) =>
            {
                scope.items.extend(macro_statics(&m.mac.tokens));
            }
            other => {
                if let Some(n) = item_name(other) {
                    scope.items.insert(n);
                }
            }
        }
    }
    let bindings: HashMap<String, Segs> = raw_uses.iter().cloned().collect();
    for (((name, target), abs), export) in raw_uses.into_iter().zip(absolute).zip(public) {
        let t = if abs {
            target
        } else {
            absolutize(crate_name, &scope, &bindings, target, Some(&name))
        };
        let t = renamed(t, renames);
        if export {
            scope.reexports.push(t.clone());
        }
        scope.uses.insert(name, t);
    }
    for (g, abs, export) in raw_globs {
        let t = if abs {
            g
        } else {
            absolutize(crate_name, &scope, &bindings, g, None)
        };
        let t = renamed(t, renames);
        if export {
            scope.reexports.push(t.clone());
        }
        scope.globs.push(t);
    }
    scope
}

/// Makes a `use` target absolute: `crate`/`self`/`super`, local items, other bindings.
fn absolutize(
    crate_name: &str,
    scope: &Scope,
    bindings: &HashMap<String, Segs>,
    target: Segs,
    own: Option<&str>,
) -> Segs {
    let Some(first) = target.first() else {
        return target;
    };
    match first.as_str() {
        "crate" => {
            let mut t = vec![crate_name.to_string()];
            t.extend(target[1..].iter().cloned());
            t
        }
        "self" | "super" => relative(crate_name, &scope.module, &target),
        "std" | "core" | "alloc" => target,
        f if scope.items.contains(f) => {
            let mut t = scope.module.clone();
            t.extend(target);
            t
        }
        f if own != Some(f) && target.len() > 1 => match bindings.get(f) {
            Some(b) if b.first().map(String::as_str) != Some(f) => {
                let mut t = b.clone();
                t.extend(target[1..].iter().cloned());
                t
            }
            _ => target,
        },
        _ => target,
    }
}

/// Resolves leading `self`/`super` segments against `module`.
pub fn relative(crate_name: &str, module: &[String], target: &[String]) -> Segs {
    let mut base: Segs = module.to_vec();
    if base.is_empty() {
        base.push(crate_name.to_string());
    }
    let mut i = 0;
    while i < target.len() {
        match target[i].as_str() {
            "self" => {}
            "super" => {
                if base.len() > 1 {
                    base.pop();
                }
            }
            _ => break,
        }
        i += 1;
    }
    base.extend(target[i..].iter().cloned());
    base
}

/// Names of the std prelude: never taken from a glob import.
pub const PRELUDE: &[&str] = &[
    "Ok",
    "Err",
    "Some",
    "None",
    "Option",
    "Result",
    "Vec",
    "String",
    "Box",
    "ToString",
    "ToOwned",
    "Clone",
    "Copy",
    "Default",
    "Drop",
    "Eq",
    "PartialEq",
    "Ord",
    "PartialOrd",
    "Fn",
    "FnMut",
    "FnOnce",
    "Iterator",
    "IntoIterator",
    "Extend",
    "From",
    "Into",
    "TryFrom",
    "TryInto",
    "AsRef",
    "AsMut",
    "Send",
    "Sync",
    "Sized",
    "Unpin",
    "drop",
    "Debug",
    "Hash",
    "FromIterator",
    "DoubleEndedIterator",
    "ExactSizeIterator",
];

/// Candidate paths for a written path, and where they came from.
#[derive(Clone, Debug, Default)]
pub struct Resolved {
    /// Candidate absolute paths, in priority order.
    pub cands: Vec<Segs>,
    /// Resolved into the crate being scanned (its own items, `crate::`, `self::`, `super::`).
    pub local: bool,
    /// Index of the first candidate that comes from a glob import.
    pub from_glob: usize,
}

/// The scopes in effect at a point of a file.
#[derive(Debug, Default)]
pub struct Resolver {
    /// The crate being scanned.
    pub crate_name: String,
    /// Scopes from the file's outermost to the innermost in effect.
    pub scopes: Vec<Scope>,
    /// Resolved `Self` type of the innermost impl or trait, if any.
    pub self_ty: Vec<Option<Segs>>,
    /// Renamed dependencies: (name in the code, crate it builds).
    pub renames: Vec<(String, String)>,
}

impl Resolver {
    /// The module (or fn-local block) that items declared here belong to.
    pub fn module(&self) -> Segs {
        self.scopes
            .last()
            .map(|s| s.module.clone())
            .unwrap_or_else(|| vec![self.crate_name.clone()])
    }

    /// The innermost non-block scope's module path.
    pub fn real_module(&self) -> Segs {
        self.scopes
            .iter()
            .rev()
            .find(|s| !s.block)
            .map(|s| s.module.clone())
            .unwrap_or_else(|| vec![self.crate_name.clone()])
    }

    /// Resolves a path's segments into candidate absolute paths.
    pub fn resolve(&self, segs: &[String]) -> Vec<Segs> {
        self.resolve_ex(segs).cands
    }

    /// Resolves a path, telling where the candidates come from.
    pub fn resolve_ex(&self, segs: &[String]) -> Resolved {
        let local = |cands: Vec<Segs>| Resolved {
            cands,
            local: true,
            from_glob: usize::MAX,
        };
        let Some(first) = segs.first() else {
            return local(Vec::new());
        };
        match first.as_str() {
            "crate" => {
                let mut t = vec![self.crate_name.clone()];
                t.extend(segs[1..].iter().cloned());
                return local(vec![t]);
            }
            "self" | "super" => {
                return local(vec![relative(&self.crate_name, &self.real_module(), segs)])
            }
            "Self" => {
                if let Some(Some(ty)) = self.self_ty.last() {
                    let mut t = ty.clone();
                    t.extend(segs[1..].iter().cloned());
                    return local(vec![t]);
                }
                return local(vec![segs.to_vec()]);
            }
            _ => {}
        }
        let mut globs: Vec<&Segs> = Vec::new();
        for scope in self.scopes.iter().rev() {
            if let Some(t) = scope.uses.get(first) {
                let mut t = t.clone();
                t.extend(segs[1..].iter().cloned());
                let is_local = t.first() == Some(&self.crate_name);
                return Resolved {
                    cands: vec![t],
                    local: is_local,
                    from_glob: usize::MAX,
                };
            }
            if scope.items.contains(first) {
                let mut t = scope.module.clone();
                t.extend(segs.iter().cloned());
                return local(vec![t]);
            }
            globs.extend(scope.globs.iter());
            if !scope.block {
                break;
            }
        }
        let mut out = Vec::with_capacity(1 + globs.len());
        out.push(renamed(segs.to_vec(), &self.renames));
        if !PRELUDE.contains(&first.as_str()) {
            for g in globs {
                let mut t = g.clone();
                t.extend(segs.iter().cloned());
                out.push(t);
            }
        }
        Resolved {
            cands: out,
            local: false,
            from_glob: 1,
        }
    }

    /// Is `name` bound by a `use` or an item in the scopes in effect?
    pub fn is_bound(&self, name: &str) -> bool {
        for scope in self.scopes.iter().rev() {
            if scope.uses.contains_key(name) || scope.items.contains(name) {
                return true;
            }
            if !scope.block {
                break;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope_of(src: &str, module: &[&str]) -> Scope {
        let f: syn::File = syn::parse_str(src).unwrap();
        build_scope(
            "app",
            &[],
            module.iter().map(|s| s.to_string()).collect(),
            false,
            f.items.iter(),
        )
    }

    fn res(scope: Scope, path: &str) -> Vec<String> {
        let r = Resolver {
            crate_name: "app".into(),
            scopes: vec![scope],
            self_ty: vec![],
            renames: vec![("prices".into(), "pricing".into())],
        };
        let segs: Vec<String> = path.split("::").map(String::from).collect();
        r.resolve(&segs).into_iter().map(|c| c.join("::")).collect()
    }

    #[test]
    fn aliases_groups_self_and_globs() {
        let s = scope_of(
            "use std::time::SystemTime as Clock; use std::{collections::{self, HashMap as Map}, thread}; use chrono::prelude::*; use crate::a::b; use super::c::D; struct Utc;",
            &["app", "m"],
        );
        assert_eq!(res(s.clone(), "Clock::now"), ["std::time::SystemTime::now"]);
        assert_eq!(
            res(s.clone(), "Map::new"),
            ["std::collections::HashMap::new"]
        );
        assert_eq!(
            res(s.clone(), "collections::BTreeMap"),
            ["std::collections::BTreeMap"]
        );
        assert_eq!(res(s.clone(), "thread::sleep"), ["std::thread::sleep"]);
        assert_eq!(res(s.clone(), "b::f"), ["app::a::b::f"]);
        assert_eq!(res(s.clone(), "D::g"), ["app::c::D::g"]);
        assert_eq!(res(s.clone(), "Utc::now"), ["app::m::Utc::now"]);
        assert_eq!(
            res(s.clone(), "Local::now"),
            ["Local::now", "chrono::prelude::Local::now"]
        );
        assert_eq!(res(s.clone(), "crate::x::y"), ["app::x::y"]);
        // A renamed dependency (`prices = { package = "pricing", .. }`).
        assert_eq!(
            res(s, "prices::quote"),
            ["pricing::quote", "chrono::prelude::prices::quote"]
        );
        let s = scope_of_renamed("use prices::quote; use prices::{self as p};");
        assert_eq!(s.uses["quote"].join("::"), "pricing::quote");
        assert_eq!(s.uses["p"].join("::"), "pricing");
    }

    fn scope_of_renamed(src: &str) -> Scope {
        let f: syn::File = syn::parse_str(src).unwrap();
        let renames = [("prices".to_string(), "pricing".to_string())];
        build_scope("app", &renames, vec!["app".into()], false, f.items.iter())
    }

    #[test]
    fn use_of_local_module_and_binding_chain() {
        let s = scope_of(
            "mod clock { } use clock::now; use std::time; use time::Instant;",
            &["app"],
        );
        assert_eq!(res(s.clone(), "now"), ["app::clock::now"]);
        assert_eq!(res(s, "Instant::now"), ["std::time::Instant::now"]);
    }

    #[test]
    fn pub_uses_are_reexports() {
        let s = scope_of(
            "mod inner { } pub use inner::{run, Client as C}; pub use self::inner::prelude::*; pub(crate) use inner::hidden; use inner::private;",
            &["app"],
        );
        let mut re: Vec<String> = s.reexports.iter().map(|t| t.join("::")).collect();
        re.sort();
        assert_eq!(
            re,
            [
                "app::inner::Client",
                "app::inner::prelude",
                "app::inner::run"
            ]
        );
    }

    #[test]
    fn lazy_static_names() {
        let ts: TokenStream = "static ref A: u8 = 1; pub static ref B: u8 = 2;"
            .parse()
            .unwrap();
        assert_eq!(macro_statics(&ts), vec!["A", "B"]);
        let ts: TokenStream = "static C: RefCell<u8> = RefCell::new(1);".parse().unwrap();
        assert_eq!(macro_statics(&ts), vec!["C"]);
    }
}
