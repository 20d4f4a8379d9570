//! sim
pub mod clock;
pub mod engine;
pub mod history;
pub mod trace;
pub mod transport;
pub mod sdk;
