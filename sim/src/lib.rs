//! sim
pub mod checkers;
pub mod client;
pub mod clock;
pub mod engine;
pub mod faults;
pub mod history;
pub mod scenario;
pub mod sdk;
pub mod service;
pub mod trace;
pub mod transport;
pub mod worker;
