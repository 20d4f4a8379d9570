//! ### What it does
//! Finds channels and notifications created in workflow code: `std::sync::mpsc`,
//! `tokio::sync::{mpsc, oneshot, broadcast, watch, Notify}`, crossbeam, flume,
//! async-channel and `futures::channel`.
//!
//! ### Why it breaks replay
//! A message that arrives through a channel is not an event in the history. Which message
//! arrives first, and whether it has arrived at all when the workflow looks, depends on other
//! threads; on replay the workflow sees something else.
//!
//! ### Example
//! ```text
//! let (tx, mut rx) = tokio::sync::mpsc::channel(8);
//! ```
//!
//! ### Instead
//! Receive external input as signals or updates (`ctx` signal channels are recorded), and
//! pass results between activities by value.
//!
//! ### Known problems
//! Only construction is reported; a channel created outside a workflow and passed in is not.

use super::{Matcher::*, PathRule, Rule, RuleMeta};
use crate::model::Level;

/// The rule's description.
pub const META: RuleMeta = RuleMeta {
    id: "channel",
    default_level: Level::Deny,
    summary: "communicates through a channel that is not recorded",
};

const WHAT: &str =
    "creates a channel whose message order depends on other threads and is not recorded";
const INSTEAD: &str = "receive external input as workflow signals or updates through `ctx`";

const fn r(matcher: super::Matcher) -> PathRule {
    PathRule {
        matcher,
        what: WHAT,
        instead: INSTEAD,
    }
}

pub(crate) const PATHS: &[PathRule] = &[
    r(Tail(&["std"], &["mpsc", "channel"])),
    r(Tail(&["std"], &["mpsc", "sync_channel"])),
    r(Tail(&["tokio", "madsim"], &["mpsc", "channel"])),
    r(Tail(&["tokio", "madsim"], &["mpsc", "unbounded_channel"])),
    r(Tail(&["tokio", "madsim"], &["oneshot", "channel"])),
    r(Tail(&["tokio", "madsim"], &["broadcast", "channel"])),
    r(Tail(&["tokio", "madsim"], &["watch", "channel"])),
    r(Tail(&["tokio", "madsim"], &["Notify", "new"])),
    r(Tail(&["tokio", "madsim"], &["Notify", "const_new"])),
    r(Tail(&["tokio", "madsim"], &["Notify", "default"])),
    r(Tail(&["crossbeam", "crossbeam_channel"], &["unbounded"])),
    r(Tail(&["crossbeam", "crossbeam_channel"], &["bounded"])),
    r(Tail(&["flume"], &["unbounded"])),
    r(Tail(&["flume"], &["bounded"])),
    r(Tail(&["async_channel"], &["unbounded"])),
    r(Tail(&["async_channel"], &["bounded"])),
    r(Tail(&["futures", "futures_channel"], &["mpsc", "channel"])),
    r(Tail(
        &["futures", "futures_channel"],
        &["mpsc", "unbounded"],
    )),
    r(Tail(
        &["futures", "futures_channel"],
        &["oneshot", "channel"],
    )),
];

/// The rule, for the registry.
pub struct Channel;

impl Rule for Channel {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn paths(&self) -> &'static [PathRule] {
        PATHS
    }
}
