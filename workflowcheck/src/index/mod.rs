//! Per-file indexing: placing files in the module tree ([`modtree`]), resolving names through
//! `use` trees ([`resolve`]), recognising entry points ([`entry`]) and summarising each file's
//! functions, calls and operations ([`collect`]).

pub mod collect;
pub mod entry;
pub mod modtree;
pub mod resolve;
