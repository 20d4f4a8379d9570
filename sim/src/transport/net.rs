//! The simulated network the transport runs on: addresses, one-way latency, links cut by
//! partitions, and loss with the process at either end. It replaces madsim's `Endpoint`, which
//! does the same at a cost our runs could not afford (every send and every receive sleeps a
//! random 0-5 us, which madsim rounds up to a whole virtual millisecond and a timer each; every
//! send formats the destination address into a `String` for madsim's virtual-server table; a
//! SipHash look-up per hop), and which held each endpoint to one message per virtual
//! millisecond.
//!
//! - A message is handed over at send time: the sender does not wait. Its latency is drawn
//!   from the simulation's RNG (uniform in the scenario's range) and it is delivered by one
//!   postman task per run, which sleeps until the earliest delivery (one timer per distinct
//!   delivery time, see `alarm.rs`).
//! - A message is lost when its link is cut when it is sent (a partition, one-way or not), when
//!   no endpoint is bound at its destination, or when the endpoint it was sent to is gone by the
//!   time it arrives (its process was killed: a restarted process binds a new endpoint, which
//!   never receives its predecessor's messages). Messages a process sent before it died still
//!   arrive; the transport drops requests from senders that died after sending them.
//! - Deliveries due at the same instant go out in the order they were sent.
//!
//! Invariant: everything here is ordered (`BTreeMap`s keyed by time and sequence number); the
//! RNG is madsim's, so a seed replays byte for byte.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use madsim::rand::Rng;
use tokio::sync::{mpsc, Notify};
use tokio::time::Instant;

use crate::alarm::Alarm;

/// A message in flight: any value (messages travel as in-memory values, not bytes).
pub type Payload = Box<dyn std::any::Any + Send + Sync>;

/// A delivered message and its sender's address.
type Delivery = (Payload, SocketAddr);

/// One run's network, shared by every node (it lives outside them).
#[derive(Clone)]
pub struct Net {
    state: Arc<Mutex<State>>,
    /// Wakes the postman when a delivery earlier than the one it sleeps for is queued.
    postman: Arc<Notify>,
}

struct State {
    /// One-way latency, drawn uniformly from `latency.0..latency.1`.
    latency: (Duration, Duration),
    /// Bound endpoints: their incarnation and mailbox.
    bound: BTreeMap<SocketAddr, (u64, mpsc::UnboundedSender<Delivery>)>,
    next_incarnation: u64,
    /// Cut links, one direction each (from, to).
    cut: BTreeSet<(IpAddr, IpAddr)>,
    /// Messages in flight, by delivery time and send order.
    in_flight: BTreeMap<(Instant, u64), InFlight>,
    next_seq: u64,
    /// The delivery the postman sleeps until (`None`: it waits for a first message).
    postman_wakes_at: Option<Instant>,
    /// Set when the run ends: the postman returns.
    closed: bool,
}

struct InFlight {
    to: SocketAddr,
    /// The incarnation of the endpoint it was sent to.
    incarnation: u64,
    from: SocketAddr,
    payload: Payload,
}

impl Net {
    /// A network with this one-way latency range (an empty range means exactly its start).
    pub fn new(latency: (Duration, Duration)) -> Self {
        Net {
            state: Arc::new(Mutex::new(State {
                latency,
                bound: BTreeMap::new(),
                next_incarnation: 0,
                cut: BTreeSet::new(),
                in_flight: BTreeMap::new(),
                next_seq: 0,
                postman_wakes_at: None,
                closed: false,
            })),
            postman: Arc::new(Notify::new()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Binds `addr` (replacing an endpoint a killed process left there).
    pub fn bind(&self, addr: SocketAddr) -> Endpoint {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut st = self.lock();
        st.next_incarnation += 1;
        let incarnation = st.next_incarnation;
        st.bound.insert(addr, (incarnation, tx));
        Endpoint {
            net: self.clone(),
            addr,
            incarnation,
            inbox: std::cell::RefCell::new(rx),
        }
    }

    /// Closes every endpoint bound on `ip` (its process was killed): what is in flight to them
    /// is lost.
    pub fn close_ip(&self, ip: IpAddr) {
        let gone: Vec<_> = {
            let mut st = self.lock();
            let addrs: Vec<SocketAddr> =
                st.bound.keys().filter(|a| a.ip() == ip).copied().collect();
            addrs.iter().filter_map(|a| st.bound.remove(a)).collect()
        };
        drop(gone);
    }

    /// Whether an endpoint is bound at `addr` now (a connection to it would not be refused).
    pub fn is_bound(&self, addr: SocketAddr) -> bool {
        self.lock().bound.contains_key(&addr)
    }

    /// Cuts the link from `from` to `to` (one direction) until [`Net::heal`].
    pub fn cut(&self, from: IpAddr, to: IpAddr) {
        self.lock().cut.insert((from, to));
    }

    /// Heals a link [`Net::cut`] cut.
    pub fn heal(&self, from: IpAddr, to: IpAddr) {
        self.lock().cut.remove(&(from, to));
    }

    /// Sends `payload` from `from` to `to`; it arrives after the link's latency, or is lost.
    fn send(&self, from: SocketAddr, to: SocketAddr, payload: Payload) {
        let lost = {
            let mut st = self.lock();
            if st.closed || st.cut.contains(&(from.ip(), to.ip())) {
                Some(payload)
            } else if let Some(&(incarnation, _)) = st.bound.get(&to) {
                let (lo, hi) = st.latency;
                let latency = if hi > lo {
                    madsim::rand::thread_rng().gen_range(lo..hi)
                } else {
                    lo
                };
                let at = crate::clock::instant_now() + latency;
                st.next_seq += 1;
                let seq = st.next_seq;
                st.in_flight.insert(
                    (at, seq),
                    InFlight {
                        to,
                        incarnation,
                        from,
                        payload,
                    },
                );
                if st.postman_wakes_at.is_none_or(|t| at < t) {
                    self.postman.notify_one();
                }
                None
            } else {
                Some(payload)
            }
        };
        // Dropped outside the lock (a dropped message may tell its caller's transport).
        drop(lost);
    }

    /// Delivers what is due, in a task of the calling node (the run's own), until
    /// [`Net::close`].
    pub fn spawn_postman(&self) -> madsim::task::JoinHandle<()> {
        let net = self.clone();
        madsim::task::spawn_local(async move {
            let mut alarm: Option<Alarm> = None;
            // Reused from wake to wake (a wake usually delivers one or two messages).
            let mut due = Vec::new();
            loop {
                let next = {
                    let mut st = net.lock();
                    if st.closed {
                        return;
                    }
                    let now = crate::clock::instant_now();
                    while let Some(entry) = st.in_flight.first_entry() {
                        if entry.key().0 > now {
                            break;
                        }
                        let m = entry.remove();
                        let mailbox = st
                            .bound
                            .get(&m.to)
                            .filter(|(incarnation, _)| *incarnation == m.incarnation)
                            .map(|(_, tx)| tx.clone());
                        due.push((mailbox, m.payload, m.from));
                    }
                    let next = st.in_flight.first_key_value().map(|((t, _), _)| *t);
                    st.postman_wakes_at = next;
                    next
                };
                for (mailbox, payload, from) in due.drain(..) {
                    if let Some(tx) = mailbox {
                        // A mailbox whose receiver is gone (its process died) loses it.
                        let _ = tx.send((payload, from));
                    }
                }
                match next {
                    None => net.postman.notified().await,
                    Some(t) => {
                        let alarm = Alarm::arm(&mut alarm, t);
                        tokio::select! {
                            biased;
                            _ = alarm => {}
                            _ = net.postman.notified() => {}
                        }
                    }
                }
            }
        })
    }

    /// Ends the run's network: the postman returns, and what is in flight is dropped.
    pub fn close(&self) {
        let (in_flight, bound) = {
            let mut st = self.lock();
            st.closed = true;
            (
                std::mem::take(&mut st.in_flight),
                std::mem::take(&mut st.bound),
            )
        };
        self.postman.notify_one();
        drop((in_flight, bound));
    }
}

/// A bound address: sends from it, receives what is sent to it.
pub struct Endpoint {
    net: Net,
    addr: SocketAddr,
    incarnation: u64,
    inbox: std::cell::RefCell<mpsc::UnboundedReceiver<Delivery>>,
}

impl Endpoint {
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Sends `payload` to `to` (it arrives after the latency, or is lost).
    pub fn send_to(&self, to: SocketAddr, payload: Payload) {
        self.net.send(self.addr, to, payload);
    }

    /// The next message sent to this endpoint, with its sender; `None` once the network closed
    /// the endpoint (its process was killed, or the run ended).
    pub async fn recv_from(&self) -> Option<Delivery> {
        std::future::poll_fn(|cx| self.inbox.borrow_mut().poll_recv(cx)).await
    }
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        let gone = {
            let mut st = self.net.lock();
            match st.bound.get(&self.addr) {
                Some((incarnation, _)) if *incarnation == self.incarnation => {
                    st.bound.remove(&self.addr)
                }
                _ => None,
            }
        };
        drop(gone);
    }
}

#[cfg(all(test, madsim))]
mod tests {
    use super::*;

    fn addr(last: u8, port: u16) -> SocketAddr {
        SocketAddr::from(([10, 0, 0, last], port))
    }

    fn run<F: std::future::Future<Output = ()> + 'static>(f: F) {
        madsim::runtime::Runtime::with_seed_and_config(1, madsim::Config::default()).block_on(f);
    }

    #[test]
    fn delivers_after_the_latency_in_send_order_and_loses_what_a_cut_link_carries() {
        run(async {
            let net = Net::new((Duration::from_millis(2), Duration::from_millis(2)));
            let postman = net.spawn_postman();
            let a = net.bind(addr(1, 1));
            let b = net.bind(addr(2, 1));
            let start = crate::clock::instant_now();
            a.send_to(b.local_addr(), Box::new(1u32));
            a.send_to(b.local_addr(), Box::new(2u32));
            net.cut(addr(1, 1).ip(), addr(2, 1).ip());
            a.send_to(b.local_addr(), Box::new(3u32));
            net.heal(addr(1, 1).ip(), addr(2, 1).ip());
            a.send_to(b.local_addr(), Box::new(4u32));
            let mut got = Vec::new();
            for _ in 0..3 {
                let (m, from) = b.recv_from().await.expect("a message");
                assert_eq!(from, a.local_addr());
                got.push(*m.downcast::<u32>().expect("a u32"));
            }
            assert_eq!(got, vec![1, 2, 4]);
            // The latency, plus madsim's sub-microsecond scheduling jitter.
            let took = start.elapsed();
            assert!(
                took >= Duration::from_millis(2) && took < Duration::from_micros(2_100),
                "{took:?}"
            );
            net.close();
            postman.await.expect("the postman returns");
        });
    }

    #[test]
    fn a_rebound_address_never_gets_its_predecessors_messages() {
        run(async {
            let net = Net::new((Duration::from_millis(5), Duration::from_millis(5)));
            let postman = net.spawn_postman();
            let a = net.bind(addr(1, 1));
            let old = net.bind(addr(2, 1));
            a.send_to(old.local_addr(), Box::new("to the old one"));
            net.close_ip(addr(2, 1).ip());
            drop(old);
            let new = net.bind(addr(2, 1));
            a.send_to(new.local_addr(), Box::new("to the new one"));
            let (m, _) = new.recv_from().await.expect("a message");
            assert_eq!(*m.downcast::<&str>().expect("a str"), "to the new one");
            net.close();
            postman.await.expect("the postman returns");
        });
    }
}
