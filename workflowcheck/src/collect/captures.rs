//! Shared mutable state captured by workflow closures.
//!
//! A closure registered as a workflow (`register_wf("w", move |ctx: WfContext| ..)`, a
//! duroxide orchestration) runs once per execution and again on every replay, but the
//! variables it captures from the function that built it live as long as the worker: an
//! `Arc<AtomicUsize>` or an `Arc<Mutex<_>>` captured there is shared with that function and
//! with every other execution, and replay does not rebuild it. This module tracks, per
//! function, which locals hold such state (from a type annotation, a parameter's type, a
//! constructor `Arc::new(AtomicUsize::new(0))`, or a clone of another such local), and hands
//! them to an entry closure as *captured*; the collector reports method calls on a captured
//! one (except `clone`). State an entry closure creates itself is rebuilt by replay, so it is
//! not reported.

use super::strip_expr;
use crate::rules;
use std::collections::HashMap;

/// A local holding state shared through `Arc`/`Rc`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shared {
    /// What it holds, as the rule describes it (e.g. "an `Arc` of `AtomicUsize`").
    pub what: String,
    /// Captured by a workflow closure from code outside it.
    pub captured: bool,
}

impl Shared {
    /// State made by the function that holds it (not captured).
    pub fn made(what: String) -> Shared {
        Shared {
            what,
            captured: false,
        }
    }
}

/// The shared-state locals of one function frame.
pub type SharedLocals = HashMap<String, Shared>;

/// Pointers whose `new` shares their argument.
const SHARING_POINTERS: &[&str] = &["Arc", "Rc"];

/// What a type (of a `let` annotation or a parameter, also behind `&`) holds, if it is state
/// shared through a pointer.
pub fn of_type(ty: &syn::Type) -> Option<String> {
    rules::shared_field(super::peeled(ty))
}

/// What the value of `init` holds, given the shared locals in scope: a constructor
/// `Arc::new(Mutex::new(..))`, or another shared local (moved, borrowed, cloned, or
/// `Arc::clone(&x)`), whose capture flag it keeps.
pub fn of_init(init: &syn::Expr, scope: &SharedLocals) -> Option<Shared> {
    match strip_expr(init) {
        syn::Expr::Path(_) | syn::Expr::Reference(_) => scope.get(&local_name(init)?).cloned(),
        syn::Expr::MethodCall(m) if m.method == "clone" && m.args.is_empty() => {
            scope.get(&local_name(&m.receiver)?).cloned()
        }
        syn::Expr::Call(c) => {
            let syn::Expr::Path(f) = strip_expr(&c.func) else {
                return None;
            };
            let segs: Vec<String> = f
                .path
                .segments
                .iter()
                .map(|s| s.ident.to_string())
                .collect();
            let [.., pointer, ctor] = segs.as_slice() else {
                return None;
            };
            if !SHARING_POINTERS.contains(&pointer.as_str()) || c.args.len() != 1 {
                return None;
            }
            match ctor.as_str() {
                "clone" => scope.get(&local_name(&c.args[0])?).cloned(),
                "new" => {
                    let inner = constructed_type(&c.args[0])?;
                    let ty: syn::Type = syn::parse_str(&format!("{pointer}<{inner}>")).ok()?;
                    rules::shared_field(&ty).map(Shared::made)
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// The name of a local an expression is (`x`, `&x`, `(x)`), if it is one.
pub fn local_name(e: &syn::Expr) -> Option<String> {
    match strip_expr(e) {
        syn::Expr::Path(p) if p.qself.is_none() => Some(p.path.get_ident()?.to_string()),
        _ => None,
    }
}

/// The type an associated-function call constructs (`Mutex::new(..)` -> `Mutex`,
/// `std::sync::atomic::AtomicUsize::new(0)` -> `AtomicUsize`), by the convention that a type
/// is capitalised and a module is not.
fn constructed_type(e: &syn::Expr) -> Option<String> {
    let syn::Expr::Call(c) = strip_expr(e) else {
        return None;
    };
    let syn::Expr::Path(f) = strip_expr(&c.func) else {
        return None;
    };
    let segs = &f.path.segments;
    let ty = segs.iter().rev().nth(1)?.ident.to_string();
    ty.starts_with(|ch: char| ch.is_ascii_uppercase())
        .then_some(ty)
}

/// The locals an entry closure captures: everything shared its enclosing function holds,
/// except that an enclosing workflow passes on only what it captured itself (state it made
/// is rebuilt by its replay).
pub fn captured_by_entry(enclosing: &SharedLocals, enclosing_is_entry: bool) -> SharedLocals {
    enclosing
        .iter()
        .filter(|(_, s)| s.captured || !enclosing_is_entry)
        .map(|(n, s)| {
            let shared = Shared {
                what: s.what.clone(),
                captured: true,
            };
            (n.clone(), shared)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expr(s: &str) -> syn::Expr {
        syn::parse_str(s).unwrap()
    }

    #[test]
    fn constructors_and_clones() {
        let mut scope = SharedLocals::new();
        let made = of_init(&expr("Arc::new(AtomicUsize::new(0))"), &scope).unwrap();
        assert!(made.what.contains("AtomicUsize") && !made.captured);
        let made = of_init(&expr("std::rc::Rc::new(RefCell::new(vec![]))"), &scope).unwrap();
        assert!(made.what.contains("RefCell"));
        assert!(of_init(&expr("Arc::new(String::new())"), &scope).is_none());
        assert!(of_init(&expr("Box::new(Mutex::new(0))"), &scope).is_none());
        assert!(of_init(&expr("Arc::new(make())"), &scope).is_none());
        scope.insert(
            "c".into(),
            Shared {
                what: "an `Arc` of `Mutex`".into(),
                captured: true,
            },
        );
        for init in ["c", "&c", "c.clone()", "Arc::clone(&c)", "(c.clone())"] {
            assert_eq!(
                of_init(&expr(init), &scope),
                scope.get("c").cloned(),
                "{init}"
            );
        }
        assert!(of_init(&expr("c.lock()"), &scope).is_none());
        assert!(of_init(&expr("d.clone()"), &scope).is_none());
    }

    #[test]
    fn types_and_captures() {
        let ty: syn::Type = syn::parse_str("&Arc<std::sync::Mutex<Vec<u8>>>").unwrap();
        assert!(of_type(&ty).unwrap().contains("Mutex"));
        let ty: syn::Type = syn::parse_str("Arc<Config>").unwrap();
        assert!(of_type(&ty).is_none());
        let mut outer = SharedLocals::new();
        let own = |captured| Shared {
            what: "x".into(),
            captured,
        };
        outer.insert("made".into(), own(false));
        outer.insert("got".into(), own(true));
        let from_plain = captured_by_entry(&outer, false);
        assert_eq!(from_plain.len(), 2);
        assert!(from_plain.values().all(|s| s.captured));
        let from_entry = captured_by_entry(&outer, true);
        assert_eq!(from_entry.keys().collect::<Vec<_>>(), ["got"]);
    }
}
