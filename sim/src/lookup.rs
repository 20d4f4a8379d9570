//! Maps used only to find things, never iterated.
//!
//! Engine and store state that is iterated lives in ordered maps (`BTreeMap`) or vectors, so
//! its order is a function of the seed. Looking a string key up in a `BTreeMap` of 10,000 runs
//! costs about fourteen comparisons, each chasing a pointer to a key's bytes: with many live
//! workflows that was a cost that grew with scale. A hash lookup costs one hash of the key
//! and, usually, one comparison. The hasher (`FxHasher`, as rustc uses) has no random seed.
//!
//! Invariant: nothing iterates a `LookupMap` in a way whose order can reach a history, a trace,
//! an output or a decision; code that needs all entries collects and sorts them.

pub type LookupMap<K, V> = rustc_hash::FxHashMap<K, V>;
