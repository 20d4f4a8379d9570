//! ### What it does
//! Finds iteration over a std `HashMap` or `HashSet`: `for` loops over the map, `.iter()`,
//! `.iter_mut()`, `.keys()`, `.values()`, `.into_iter()`, `.drain()`, `into_keys`/`into_values`,
//! and formatting (`{:?}`) or serialising (`serde_json::to_*`) a map. The map's type must be
//! visible: a `let` annotation, a constructor (`HashMap::new()`, `with_capacity`, `from`,
//! `default`), `collect::<HashMap<..>>()`, a parameter type or a struct field type.
//! Lookups (`get`, `insert`, `contains_key`, `len`) are fine, and so is an iteration whose
//! result is order-insensitive (`.values().sum()`, `.iter().count()`, `any`, `all`, `min`, `max`).
//!
//! ### Why it breaks replay
//! std's hash maps are seeded randomly per process (`RandomState`), so the iteration order
//! differs between the original execution and the replay. Activities started in map order,
//! or the first key taken from a map, then differ and the history no longer matches.
//!
//! ### Example
//! ```text
//! let mut balances: HashMap<AccountId, u64> = HashMap::new();
//! for (account, amount) in &balances { ctx.start_activity(pay, (account, amount)).await?; }
//! ```
//!
//! ### Instead
//! `BTreeMap`/`BTreeSet` (ordered), `IndexMap` (insertion order), or sort the keys first.
//!
//! ### Known problems
//! Maps whose type is not written anywhere nearby (returned from a function, nested in
//! another container) are not tracked. `hashbrown` and custom-hasher maps are not reported.

use super::{Hit, Rule, RuleMeta};
use crate::model::Level;

/// The rule's description.
pub const META: RuleMeta = RuleMeta {
    id: "hash-iteration",
    default_level: Level::Deny,
    summary: "iterates a HashMap/HashSet, whose order is random per process",
};

/// Iteration methods of `HashMap`/`HashSet`.
pub const ITER_METHODS: &[&str] = &[
    "iter",
    "iter_mut",
    "keys",
    "values",
    "values_mut",
    "into_iter",
    "drain",
    "into_keys",
    "into_values",
    "par_iter",
    "par_iter_mut",
    "into_par_iter",
];

/// Methods whose result does not depend on the order of the iterator they consume.
/// `sort` stands for a result sorted before use or collected into a set or sorted map (the
/// collect stage names the consumer so, through order-preserving adapters like `filter`).
pub const ORDER_INSENSITIVE: &[&str] = &[
    "count", "sum", "product", "min", "max", "any", "all", "len", "is_empty", "sort",
];

/// If the resolved type is std's `HashMap` or `HashSet`, its name.
pub fn std_hash_kind(segs: &[String]) -> Option<&'static str> {
    if segs.len() < 2 || !matches!(segs[0].as_str(), "std" | "alloc") {
        return None;
    }
    match segs[segs.len() - 1].as_str() {
        "HashMap" => Some("HashMap"),
        "HashSet" => Some("HashSet"),
        _ => None,
    }
}

/// The rule, for the registry.
pub struct HashIteration;

impl Rule for HashIteration {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn unordered_collection(&self, ty: &[String]) -> Option<&'static str> {
        std_hash_kind(ty)
    }

    fn iterates(&self, method: &str, consumer: Option<&str>) -> bool {
        ITER_METHODS.contains(&method) && !consumer.is_some_and(|c| ORDER_INSENSITIVE.contains(&c))
    }

    /// An iteration of a hash collection; `how` describes it, e.g. "`for` loop over `balances`".
    fn unordered_iteration(&self, kind: &str, how: &str) -> Option<Hit> {
        if !matches!(kind, "HashMap" | "HashSet") {
            return None;
        }
        Some(Hit::new(
            META.id,
            format!(
                "{how} iterates a `{kind}`, whose order is random per process and differs on replay"
            ),
            format!(
                "use `BTree{}` (ordered) or `IndexMap`, or sort the items before iterating",
                kind.trim_start_matches("Hash")
            ),
        ))
    }
}
