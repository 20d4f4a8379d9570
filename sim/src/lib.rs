//! sim
pub mod history;
