//! ### What it does
//! Finds reads and writes of process-global mutable state from workflow code: any
//! `static mut`, and statics holding atomics, `Mutex`/`RwLock`, `Cell`/`RefCell`,
//! `OnceLock`/`OnceCell`, `Lazy`/`LazyLock`, sync primitives (`Notify`, channel ends), plus
//! everything declared in `lazy_static!` and `thread_local!`. Also state shared through
//! `Arc`/`Rc` (`Arc<AtomicUsize>`, `Arc<Mutex<_>>`, `Rc<RefCell<_>>`) with code outside the
//! workflow: methods called on such a field of a workflow's own type, and on such a local
//! that a workflow closure captured from the function registering it.
//!
//! ### Why it breaks replay
//! A replay runs in a fresh process (or after other workflows changed the value). State kept
//! outside the history holds something else then, and a workflow that reads it decides
//! differently; a workflow that writes it leaks state between workflow executions.
//!
//! ### Example
//! ```text
//! static ATTEMPTS: AtomicU32 = AtomicU32::new(0);
//! async fn retrying(ctx: WorkflowContext) { ATTEMPTS.fetch_add(1, Ordering::SeqCst); }
//! ```
//!
//! ```text
//! let attempts = Arc::new(AtomicUsize::new(0));
//! let seen = attempts.clone();
//! worker.register_wf("retrying", move |ctx: WfContext| {
//!     let seen = seen.clone();
//!     async move { if seen.fetch_add(1, SeqCst) == 0 { panic!("first try") } .. }
//! });
//! ```
//!
//! ### Instead
//! Keep state in local variables of the workflow (it is rebuilt by replay), pass
//! configuration in the workflow input, or read it in an activity.
//!
//! ### Known problems
//! Immutable configuration in a `OnceLock` that is set before any workflow starts is reported
//! too; suppress it with a reason. A captured local is followed through `let` bindings and
//! clones, not through helper functions it is passed to.

use super::{Hit, Rule, RuleMeta, StaticItem};
use crate::model::Level;

/// The rule's description.
pub const META: RuleMeta = RuleMeta {
    id: "global-state",
    default_level: Level::Deny,
    summary: "reads or writes process-global mutable state",
};

const STATEFUL: &[&str] = &[
    "Mutex",
    "RwLock",
    "Cell",
    "RefCell",
    "UnsafeCell",
    "OnceLock",
    "OnceCell",
    "Lazy",
    "LazyLock",
    "LazyCell",
    "ArcSwap",
    "Condvar",
    // Sync primitives: a static one is shared by every workflow in the process.
    "Notify",
    "Semaphore",
    "Barrier",
    "Event",
    "Sender",
    "Receiver",
    "UnboundedSender",
    "UnboundedReceiver",
];

/// Describes what a static of this type holds, if it is mutable state.
pub fn classify_static(ty: &syn::Type, mutable: bool) -> Option<String> {
    if mutable {
        return Some("a `static mut`".into());
    }
    let mut found = None;
    walk_type_idents(ty, &mut |id: &str| {
        if found.is_none() && (id.starts_with("Atomic") || STATEFUL.contains(&id)) {
            found = Some(format!("a static holding `{id}`"));
        }
    });
    found
}

/// `Arc<T>`/`Rc<T>` (also nested in `Option`) where `T` holds mutable state: what it is.
pub fn shared_pointer(ty: &syn::Type) -> Option<String> {
    let syn::Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    let name = last.ident.to_string();
    let syn::PathArguments::AngleBracketed(a) = &last.arguments else {
        return None;
    };
    let Some(syn::GenericArgument::Type(inner)) = a.args.first() else {
        return None;
    };
    match name.as_str() {
        "Option" => shared_pointer(inner),
        "Arc" | "Rc" => {
            let mut found = None;
            walk_type_idents(inner, &mut |id: &str| {
                if found.is_none() && (id.starts_with("Atomic") || STATEFUL.contains(&id)) {
                    found = Some(format!("an `{name}` of `{id}`"));
                }
            });
            found
        }
        _ => None,
    }
}

fn walk_type_idents(ty: &syn::Type, f: &mut dyn FnMut(&str)) {
    let mut stack = vec![ty];
    while let Some(ty) = stack.pop() {
        match ty {
            syn::Type::Path(p) => {
                for seg in &p.path.segments {
                    f(&seg.ident.to_string());
                    if let syn::PathArguments::AngleBracketed(a) = &seg.arguments {
                        for arg in &a.args {
                            if let syn::GenericArgument::Type(t) = arg {
                                stack.push(t);
                            }
                        }
                    }
                }
            }
            syn::Type::Reference(r) => stack.push(&r.elem),
            syn::Type::Paren(p) => stack.push(&p.elem),
            syn::Type::Group(g) => stack.push(&g.elem),
            syn::Type::Array(a) => stack.push(&a.elem),
            syn::Type::Slice(s) => stack.push(&s.elem),
            syn::Type::Tuple(t) => stack.extend(t.elems.iter()),
            _ => {}
        }
    }
}

/// The rule, for the registry.
pub struct GlobalState;

impl Rule for GlobalState {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    /// Every name declared in `lazy_static!`/`thread_local!`; statics of a stateful type.
    fn static_item(&self, item: &StaticItem<'_>) -> Option<String> {
        match (item.declared_by, item.ty) {
            (Some(mac), _) => Some(format!("declared in `{mac}!`")),
            (None, Some(ty)) => classify_static(ty, item.mutable),
            (None, None) => None,
        }
    }

    /// A field holding state shared through `Arc`/`Rc` with other code.
    fn shared_field(&self, ty: &syn::Type) -> Option<String> {
        shared_pointer(ty)
    }

    /// A use of such a field.
    fn shared_field_access(&self, field: &str, what: &str) -> Option<Hit> {
        Some(Hit::new(
            META.id,
            format!(
                "`{field}` is {what}: state shared with code outside the workflow, which replay does not rebuild"
            ),
            "keep the state in the workflow (fields it alone owns, local variables), or pass it through signals and activities",
        ))
    }

    /// A use of such state captured by a workflow closure from the code that registered it.
    fn captured_state_access(&self, local: &str, what: &str) -> Option<Hit> {
        Some(Hit::new(
            META.id,
            format!(
                "`{local}` is {what} captured from outside the workflow: state shared with the code that registered it and with every execution, which replay does not rebuild"
            ),
            "keep the state in the workflow (local variables), or pass it through the input, signals and activities",
        ))
    }

    /// An access to a global static.
    fn static_access(&self, name: &str, what: &str) -> Option<Hit> {
        Some(Hit::new(
            META.id,
            format!("`{name}` is {what}: process-global state that is not rebuilt by replay"),
            "keep the state in the workflow (local variables), pass it in the input, or read it in an activity",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_statics() {
        let t: syn::Type = syn::parse_str("std::sync::atomic::AtomicU64").unwrap();
        assert!(classify_static(&t, false).is_some());
        let t: syn::Type = syn::parse_str("Lazy<Mutex<Vec<u8>>>").unwrap();
        assert!(classify_static(&t, false).unwrap().contains("Lazy"));
        let t: syn::Type = syn::parse_str("Arc<AtomicUsize>").unwrap();
        assert!(shared_pointer(&t).unwrap().contains("AtomicUsize"));
        let t: syn::Type = syn::parse_str("Arc<String>").unwrap();
        assert!(shared_pointer(&t).is_none());
        let t: syn::Type = syn::parse_str("tokio::sync::Notify").unwrap();
        assert!(classify_static(&t, false).unwrap().contains("Notify"));
        let t: syn::Type = syn::parse_str("&'static str").unwrap();
        assert!(classify_static(&t, false).is_none());
        assert!(classify_static(&t, true).is_some());
    }
}
