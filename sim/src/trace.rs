//! The trace: everything observable in one simulated run (messages, faults, history appends,
//! service effects), in order, with a hash that is the run's fingerprint.
//!
//! Invariant: the trace lives outside every node (it survives kills), and its hash depends only
//! on what happened, never on wall-clock time, addresses of heap objects, or `HashMap` order.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::history::Timestamp;

/// The trace's hasher: a stable hash that does not change between Rust releases or machines
/// (every input is read as explicit little-endian words). It mixes a word per step (the
/// multiply-rotate of rustc's FxHasher) rather than a byte per step: a trace entry is mostly
/// integers, and the hash is computed for every entry of every seed.
#[derive(Clone, Copy, Debug)]
pub struct TraceHasher(u64);

const SEED: u64 = 0xcbf2_9ce4_8422_2325;
const K: u64 = 0x517c_c1b7_2722_0a95;

impl TraceHasher {
    fn mix(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(K);
    }
}

impl Default for TraceHasher {
    fn default() -> Self {
        TraceHasher(SEED)
    }
}

impl Hasher for TraceHasher {
    fn finish(&self) -> u64 {
        // A final avalanche, so every input bit reaches every output bit.
        crate::rng::mix64(self.0)
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.mix(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; 8];
            last[..rest.len()].copy_from_slice(rest);
            // The length keeps "a" and "a\0" apart.
            self.mix(u64::from_le_bytes(last) ^ ((rest.len() as u64) << 59));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.mix(u64::from(i));
    }

    fn write_u16(&mut self, i: u16) {
        self.mix(u64::from(i));
    }

    fn write_u32(&mut self, i: u32) {
        self.mix(u64::from(i));
    }

    fn write_u64(&mut self, i: u64) {
        self.mix(i);
    }

    fn write_usize(&mut self, i: usize) {
        self.mix(i as u64);
    }

    fn write_i64(&mut self, i: i64) {
        self.mix(i as u64);
    }
}

/// What happened, in a form that is cheap to record and to hash.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub enum TraceKind {
    /// A message handed to the network (`copies` = 0 when a fault dropped it).
    Send {
        /// The sender's address.
        from: SocketAddr,
        /// The receiver's address.
        to: SocketAddr,
        /// The message's kind (`PollWorkflowTask`).
        msg: &'static str,
        /// The request it is, or answers.
        request_id: u64,
        /// Copies delivered: 0 dropped, 2 duplicated.
        copies: u8,
        /// Extra delay a fault added, in microseconds.
        delay_us: u64,
    },
    /// A message taken off the network by its receiver.
    Recv {
        /// The receiver's address.
        at: SocketAddr,
        /// The sender's address.
        from: SocketAddr,
        /// The message's kind.
        msg: &'static str,
        /// The request it is, or answers.
        request_id: u64,
    },
    /// A fault the harness applied.
    Fault(String),
    /// The server appended (and synced) a history event.
    HistoryAppend {
        /// `workflow_id/run_id`, shared by every event of one write.
        run: std::sync::Arc<str>,
        /// The event's id.
        event_id: i64,
        /// The event's type name.
        event_type: &'static str,
    },
    /// A service applied an external effect.
    Effect {
        /// The service.
        service: String,
        /// The operation.
        operation: String,
        /// The key the caller sent.
        idempotency_key: String,
        /// False when the service recognised the key and did not apply it again.
        applied: bool,
        /// The node of the calling worker.
        caller: String,
    },
    /// The server wrote (not yet synced) its `batch`-th batch.
    StoreWrite {
        /// Batches written so far, this one included.
        batch: u64,
    },
    /// A node started (or restarted).
    NodeStart {
        /// The node's name.
        node: String,
    },
    /// Anything else worth a line (client results, store losses).
    Note(String),
}

/// One line of the trace: when (virtual wall-clock time) and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceEntry {
    /// Virtual wall-clock time.
    pub time: Timestamp,
    /// What happened.
    pub kind: TraceKind,
    /// What a message is about (workflow, activity, attempt), for people: kept only with the
    /// entries, and not part of the trace's hash (a sweep that keeps no entries hashes the same).
    pub detail: Option<String>,
}

impl std::hash::Hash for TraceEntry {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.time.hash(h);
        self.kind.hash(h);
    }
}

impl fmt::Display for TraceEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Virtual time since the run began (the clock starts at BASE_NANOS), as reports give it.
        let t = self
            .time
            .as_nanos()
            .saturating_sub(crate::clock::BASE_NANOS)
            .max(0);
        write!(
            f,
            "{:>6}.{:06}s ",
            t / 1_000_000_000,
            (t % 1_000_000_000) / 1000
        )?;
        match &self.kind {
            TraceKind::Send {
                from,
                to,
                msg,
                request_id,
                copies,
                delay_us,
            } => {
                write!(f, "send {from} -> {to} {msg} #{request_id:x}")?;
                match copies {
                    0 => write!(f, " DROPPED"),
                    1 => Ok(()),
                    n => write!(f, " x{n}"),
                }?;
                if *delay_us > 0 {
                    write!(f, " +{delay_us}us")?;
                }
                if let Some(d) = &self.detail {
                    write!(f, " ({d})")?;
                }
                Ok(())
            }
            TraceKind::Recv {
                at,
                from,
                msg,
                request_id,
            } => {
                write!(f, "recv {at} <- {from} {msg} #{request_id:x}")
            }
            TraceKind::Fault(s) => write!(f, "FAULT {s}"),
            TraceKind::HistoryAppend {
                run,
                event_id,
                event_type,
            } => {
                write!(f, "history {run} #{event_id} {event_type}")
            }
            TraceKind::Effect {
                service,
                operation,
                idempotency_key,
                applied,
                caller,
            } => write!(
                f,
                "effect {service}.{operation} key={idempotency_key} {} (called from {caller})",
                if *applied { "APPLIED" } else { "deduplicated" }
            ),
            TraceKind::StoreWrite { batch } => write!(f, "store write #{batch} (unsynced)"),
            TraceKind::NodeStart { node } => write!(f, "start node {node}"),
            TraceKind::Note(s) => write!(f, "note {s}"),
        }
    }
}

/// Called for every recorded entry (fault triggers watch the trace this way).
pub type TraceWatcher = Box<dyn FnMut(&TraceEntry) + Send>;

#[derive(Default)]
struct TraceInner {
    watcher: Option<TraceWatcher>,
    hasher: TraceHasher,
    entries: Vec<TraceEntry>,
    /// Limit on recorded entries (the hash still covers everything).
    max_entries: usize,
    dropped_entries: u64,
    /// Messages handed to the network (`Send` entries), recorded or not.
    sends: u64,
}

/// Shared, append-only trace of one run. Cloning gives another handle to the same trace.
#[derive(Clone)]
pub struct Trace {
    inner: Arc<Mutex<TraceInner>>,
    clock: crate::clock::SimClock,
}

impl Trace {
    pub const DEFAULT_MAX_ENTRIES: usize = 1_000_000;

    /// A trace that keeps at most `max_entries` entries (0: only the hash, as seed sweeps run;
    /// a failing seed is run again with its entries kept).
    pub fn with_limit(clock: crate::clock::SimClock, max_entries: usize) -> Self {
        Trace {
            inner: Arc::new(Mutex::new(TraceInner {
                max_entries,
                entries: Vec::with_capacity(max_entries.min(4096)),
                ..TraceInner::default()
            })),
            clock,
        }
    }

    fn lock(&self) -> MutexGuard<'_, TraceInner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn record(&self, kind: TraceKind) {
        self.record_with_detail(kind, None);
    }

    /// Whether entries are kept (so details are worth computing).
    pub fn keeps_entries(&self) -> bool {
        self.lock().max_entries > 0
    }

    /// Records an entry with what it is about (kept with the entry, not hashed).
    pub fn record_with_detail(&self, kind: TraceKind, detail: Option<String>) {
        let entry = TraceEntry {
            time: self.clock.now(),
            kind,
            detail,
        };
        let mut inner = self.lock();
        entry.hash(&mut inner.hasher);
        if matches!(entry.kind, TraceKind::Send { .. }) {
            inner.sends += 1;
        }
        if let Some(w) = inner.watcher.as_mut() {
            w(&entry);
        }
        if inner.entries.len() < inner.max_entries {
            inner.entries.push(entry);
        } else {
            inner.dropped_entries += 1;
        }
    }

    /// Installs the function that sees every entry from now on (replacing any earlier one).
    pub fn set_watcher(&self, watcher: TraceWatcher) {
        self.lock().watcher = Some(watcher);
    }

    pub fn note(&self, s: impl Into<String>) {
        self.record(TraceKind::Note(s.into()));
    }

    /// The run's fingerprint: same seed and plan, same hash.
    pub fn hash(&self) -> u64 {
        self.lock().hasher.finish()
    }

    /// Messages handed to the network so far (every `Send` entry, kept or not).
    pub fn sends(&self) -> u64 {
        self.lock().sends
    }

    /// Moves the recorded entries out (the hash is unaffected).
    pub fn take_entries(&self) -> Vec<TraceEntry> {
        std::mem::take(&mut self.lock().entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash_of(f: impl FnOnce(&mut TraceHasher)) -> u64 {
        let mut h = TraceHasher::default();
        f(&mut h);
        h.finish()
    }

    #[test]
    fn byte_strings_of_different_lengths_differ() {
        let a = hash_of(|h| h.write(b"a"));
        let a0 = hash_of(|h| h.write(b"a\0"));
        let eight = hash_of(|h| h.write(b"abcdefgh"));
        let nine = hash_of(|h| h.write(b"abcdefgh\0"));
        assert_ne!(a, a0);
        assert_ne!(eight, nine);
    }

    #[test]
    fn every_input_word_matters() {
        let base = hash_of(|h| {
            h.write_u64(1);
            h.write_u64(2);
        });
        let swapped = hash_of(|h| {
            h.write_u64(2);
            h.write_u64(1);
        });
        let flipped = hash_of(|h| {
            h.write_u64(1);
            h.write_u64(2 ^ (1 << 63));
        });
        assert_ne!(base, swapped);
        assert_ne!(base, flipped);
    }
}
