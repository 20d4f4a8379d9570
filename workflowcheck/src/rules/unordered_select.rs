//! ### What it does
//! Finds `tokio::select!` without `biased;`, `futures::select!` (which picks a ready branch at
//! random) and `futures::future::select_all`/`select_ok`.
//!
//! ### Why it breaks replay
//! When several branches are ready at once, an unbiased select picks one with a random
//! number. On replay all the branches are typically ready together (their results come from
//! the history), so the workflow can take a different branch than it did the first time.
//!
//! ### Example
//! ```text
//! tokio::select! {
//!     r = payment => handle(r),
//!     _ = cancelled => abort(),
//! }
//! ```
//!
//! ### Instead
//! Put `biased;` first in `tokio::select!` (branches are polled in order), or use
//! `futures::select_biased!`; replace `select_all` with an ordered loop over the futures.
//!
//! ### Known problems
//! A bare `select!` that cannot be resolved is treated as `tokio::select!`.

use super::{Hit, Matcher::*, PathRule, Rule, RuleMeta};
use crate::model::Level;
use proc_macro2::{TokenStream, TokenTree};

/// The rule's description.
pub const META: RuleMeta = RuleMeta {
    id: "unordered-select",
    default_level: Level::Deny,
    summary: "picks among ready futures at random",
};

pub(crate) const PATHS: &[PathRule] = &[
    PathRule {
        matcher: Tail(&["futures", "futures_util"], &["select_all"]),
        what: "completes with whichever future the executor polls ready first, an order that is not recorded",
        instead: "await the futures in a fixed order, or select with `biased;`",
    },
    PathRule {
        matcher: Tail(&["futures", "futures_util"], &["select_ok"]),
        what: "completes with whichever future the executor polls ready first, an order that is not recorded",
        instead: "await the futures in a fixed order, or select with `biased;`",
    },
];

/// Does the macro body start with `biased;`?
fn is_biased(tokens: &TokenStream) -> bool {
    let mut it = tokens.clone().into_iter();
    matches!(
        (it.next(), it.next()),
        (Some(TokenTree::Ident(i)), Some(TokenTree::Punct(p))) if i == "biased" && p.as_char() == ';'
    )
}

/// The rule, for the registry.
pub struct UnorderedSelect;

impl Rule for UnorderedSelect {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn paths(&self) -> &'static [PathRule] {
        PATHS
    }

    /// `select!` of futures, or of tokio/madsim (or unresolved) without `biased;`.
    fn macro_call(&self, path: &[String], tokens: &TokenStream) -> Option<Hit> {
        let last = path.last()?.as_str();
        let root = path[0].as_str();
        match (root, last) {
            ("futures" | "futures_util", "select") => Some(Hit::new(
                META.id,
                "`futures::select!` picks a ready branch at random; replay can take another branch",
                "use `futures::select_biased!` so branches are polled in order",
            )),
            ("tokio" | "madsim" | "select", "select") if !is_biased(tokens) => Some(Hit::new(
                META.id,
                "`tokio::select!` without `biased;` picks a ready branch at random; replay can take another branch",
                "add `biased;` as the first line of the `select!` so branches are polled in order",
            )),
            _ => None,
        }
    }
}
