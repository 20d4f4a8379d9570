//! ### What it does
//! Finds workflow code that calls an activity function directly (`deposit(ctx, input)`)
//! instead of scheduling it. Activities are functions taking an `ActivityContext` (or a
//! configured activity-context type), marked `#[activity]`, or registered with
//! `register_activity(..)`.
//!
//! ### Why it breaks replay
//! Called directly, the activity runs inline in the workflow: its I/O happens again on every
//! replay, its result is not recorded, and it gets none of the retries and timeouts the
//! engine gives activities.
//!
//! ### Example
//! ```text
//! let receipt = deposit(act_ctx, details.clone()).await?;
//! ```
//!
//! ### Instead
//! `ctx.start_activity(deposit, details).await?` (or the SDK's equivalent). Passing the
//! function as a value, as here, is not a call and is not reported.
//!
//! ### Known problems
//! Activities registered under another name through a closure are not linked to the
//! function the closure calls.

use super::{Hit, Rule, RuleMeta};
use crate::model::Level;

/// The rule's description.
pub const META: RuleMeta = RuleMeta {
    id: "activity-call",
    default_level: Level::Deny,
    summary: "calls an activity function directly instead of scheduling it",
};

/// The rule, for the registry.
pub struct ActivityCall;

impl Rule for ActivityCall {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn activity_call(&self, name: &str) -> Option<Hit> {
        Some(Hit::new(
            META.id,
            format!("activity `{name}` is called directly, so it runs inline on every replay and its result is not recorded"),
            format!("schedule it: `ctx.start_activity({name}, input).await`"),
        ))
    }
}
