//! ### What it does
//! Finds file-system, network and process I/O in workflow code: `std::fs`, `tokio::fs`,
//! `File`, `OpenOptions`, sockets of `std::net`/`tokio::net` (address values are fine), `reqwest`, `hyper` clients, `ureq`, and
//! `std::process::Command`.
//!
//! ### Why it breaks replay
//! The outside world answers differently each time. A file read on the first execution can
//! be changed or gone on replay, a request can fail or return other data, and a side effect
//! (a file written, an HTTP POST) is repeated on every replay.
//!
//! ### Example
//! ```text
//! let rates = reqwest::get("https://rates.example/eur").await?.text().await?;
//! ```
//!
//! ### Instead
//! Do I/O in an activity (`ctx.start_activity(fetch_rates, ..)`): its result is recorded
//! once and replayed from the history.
//!
//! ### Known problems
//! I/O through a user type wrapping these APIs is found only if that type's code is in the
//! scanned tree.

use super::{Matcher::*, PathRule, Rule, RuleMeta};
use crate::model::Level;

/// The rule's description.
pub const META: RuleMeta = RuleMeta {
    id: "io",
    default_level: Level::Deny,
    summary: "performs file, network or process I/O",
};

const WHAT: &str =
    "performs I/O whose result is not recorded and whose side effects repeat on replay";
const INSTEAD: &str = "move the I/O into an activity and call it with `ctx.start_activity(..)`";

const fn r(matcher: super::Matcher) -> PathRule {
    PathRule {
        matcher,
        what: WHAT,
        instead: INSTEAD,
    }
}

pub(crate) const PATHS: &[PathRule] = &[
    r(Prefix(&["std", "fs"])),
    r(Prefix(&["tokio", "fs"])),
    r(Prefix(&["madsim", "fs"])),
    r(Prefix(&["async_std", "fs"])),
    r(Prefix(&["std", "net", "TcpStream"])),
    r(Prefix(&["std", "net", "TcpListener"])),
    r(Prefix(&["std", "net", "UdpSocket"])),
    r(Prefix(&["std", "net", "UnixStream"])),
    r(Prefix(&["std", "net", "UnixListener"])),
    r(Prefix(&["std", "net", "UnixDatagram"])),
    r(Prefix(&["std", "net", "ToSocketAddrs"])),
    r(Prefix(&["std", "net", "lookup_host"])),
    r(Prefix(&["tokio", "net", "TcpStream"])),
    r(Prefix(&["tokio", "net", "TcpListener"])),
    r(Prefix(&["tokio", "net", "UdpSocket"])),
    r(Prefix(&["tokio", "net", "UnixStream"])),
    r(Prefix(&["tokio", "net", "UnixListener"])),
    r(Prefix(&["tokio", "net", "UnixDatagram"])),
    r(Prefix(&["tokio", "net", "ToSocketAddrs"])),
    r(Prefix(&["tokio", "net", "lookup_host"])),
    r(Prefix(&["madsim", "net", "TcpStream"])),
    r(Prefix(&["madsim", "net", "TcpListener"])),
    r(Prefix(&["madsim", "net", "UdpSocket"])),
    r(Prefix(&["madsim", "net", "UnixStream"])),
    r(Prefix(&["madsim", "net", "UnixListener"])),
    r(Prefix(&["madsim", "net", "UnixDatagram"])),
    r(Prefix(&["madsim", "net", "ToSocketAddrs"])),
    r(Prefix(&["madsim", "net", "lookup_host"])),
    r(Prefix(&["async_std", "net", "TcpStream"])),
    r(Prefix(&["async_std", "net", "TcpListener"])),
    r(Prefix(&["async_std", "net", "UdpSocket"])),
    r(Prefix(&["async_std", "net", "UnixStream"])),
    r(Prefix(&["async_std", "net", "UnixListener"])),
    r(Prefix(&["async_std", "net", "UnixDatagram"])),
    r(Prefix(&["async_std", "net", "ToSocketAddrs"])),
    r(Prefix(&["async_std", "net", "lookup_host"])),
    r(Prefix(&["std", "process", "Command"])),
    r(Prefix(&["tokio", "process", "Command"])),
    r(Prefix(&["reqwest"])),
    r(Prefix(&["ureq"])),
    r(Prefix(&["hyper", "Client"])),
    r(Prefix(&["hyper", "client"])),
    r(Prefix(&["hyper_util", "client"])),
];

/// The rule, for the registry.
pub struct Io;

impl Rule for Io {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn paths(&self) -> &'static [PathRule] {
        PATHS
    }
}
