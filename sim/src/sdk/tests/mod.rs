//! The SDK's tests: the executor driven by a scripted stand-in for the server (`support`), so
//! every feature is checked against the exact commands and replay behaviour, without a network.

mod activity;
mod features;
mod replay;
#[allow(dead_code, clippy::result_large_err)]
mod support;
