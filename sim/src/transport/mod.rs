//! Request/response over the simulated network (`net.rs`), with per-request timeouts, client
//! retries, request ids for idempotent retries, and message faults (duplication, extra delay
//! that reorders, targeted drops) injected here.
//!
//! Messages travel as in-memory values (`Box<dyn Any>`), not bytes: the simulation pays no
//! serialisation cost. Latency and partitions (cut links) are the network's.

pub mod net;

use net::{Endpoint, Payload};

use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use madsim::rand::Rng;
use tokio::sync::oneshot;
use tokio::time::Instant;

use crate::alarm::Alarm;
use crate::lookup::LookupMap;
use crate::trace::{Trace, TraceKind};

/// A message kind name for traces (`"PollWorkflowTask"`).
pub trait MessageKind {
    fn kind(&self) -> &'static str;
    /// What the message is about, for people reading a trace (workflow, activity, attempt);
    /// asked only when the trace keeps its entries.
    fn subject(&self) -> Option<String> {
        None
    }
}

/// One message on the wire.
#[derive(Clone, Debug)]
pub struct Envelope<T> {
    pub request_id: u64,
    /// When the sender sent it (virtual time): a request whose sender died after sending it is
    /// lost with the sender's connection.
    pub sent: Instant,
    pub body: T,
    /// The connection of a long call (see [`LineWatch`]): carried by its request, held by the
    /// server while it parks the call, then carried by the reply.
    pub line: Option<Arc<LineWatch>>,
}

/// How long a caller takes to notice that a long call's connection broke: gRPC keepalive's
/// order of magnitude (Temporal's SDK core pings every 30 s and gives a ping 15 s).
pub const KEEPALIVE: Duration = Duration::from_secs(20);

/// How long a long poll asks to be held: as long as it takes (a year). The server answers when
/// work arrives, however far away in virtual time, so an idle worker or client costs nothing;
/// a lost request or reply, or a server that died holding the poll, is noticed through the
/// call's [`LineWatch`] [`KEEPALIVE`] later, not by waking up to poll again.
pub const LONG_POLL_WAIT: Duration = Duration::from_secs(365 * 24 * 3600);

/// The connection of one long call, as the caller's keepalive sees it.
///
/// A long call's request and then its reply carry one shared watch; the server holds it while
/// it parks the call. When the last holder drops it before the reply reached the caller (the
/// network lost a message, a partition clogged it, the server died or discarded the request),
/// the caller's transport learns the connection broke and fails the call [`KEEPALIVE`] later.
/// Nothing wakes up while the call simply waits: the watch costs no timer.
pub struct LineWatch {
    request_id: u64,
    delivered: AtomicBool,
    /// Nothing listened at the destination when the request was sent (its server not started
    /// yet, or down): the connection was refused, and the caller learns it at once.
    refused: AtomicBool,
    caller: Arc<BrokenLines>,
}

impl std::fmt::Debug for LineWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LineWatch")
            .field("request_id", &self.request_id)
            .finish_non_exhaustive()
    }
}

impl Drop for LineWatch {
    fn drop(&mut self) {
        if !self.delivered.load(Ordering::Relaxed) {
            self.caller
                .ids
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((self.request_id, self.refused.load(Ordering::Relaxed)));
            self.caller.wake.notify_one();
        }
    }
}

/// Long calls of one client whose connection broke, for its sweeper.
#[derive(Default)]
struct BrokenLines {
    /// Request ids, each with whether its connection was refused.
    ids: Mutex<Vec<(u64, bool)>>,
    wake: tokio::sync::Notify,
}

/// Where a message fault applies.
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum LinkScope {
    /// Every message.
    Any,
    /// Messages from or to this node.
    Node(IpAddr),
    /// Messages from `from` to `to` (one direction).
    Link { from: IpAddr, to: IpAddr },
    /// Messages of this kind, between any nodes.
    Message(String),
}

impl LinkScope {
    fn matches(&self, from: IpAddr, to: IpAddr, kind: &str) -> bool {
        match self {
            LinkScope::Any => true,
            LinkScope::Node(n) => *n == from || *n == to,
            LinkScope::Link { from: f, to: t } => *f == from && *t == to,
            LinkScope::Message(k) => k == kind,
        }
    }
}

/// A message fault in force: drop, duplicate or delay messages in a scope.
#[derive(Clone, Debug, PartialEq)]
pub struct MessageRule {
    pub id: u64,
    pub scope: LinkScope,
    pub drop_rate: f64,
    pub duplicate_rate: f64,
    /// Extra delay drawn uniformly from this range (reorders messages).
    pub extra_delay: Option<(Duration, Duration)>,
    /// Apply to this many matching messages only (then the rule ends).
    pub remaining: Option<u32>,
}

/// What the injector decided for one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SendDecision {
    pub copies: u8,
    pub delay: Duration,
}

/// The message-fault state shared by every node's transport (lives outside the nodes).
#[derive(Clone, Default)]
pub struct Injector {
    rules: Arc<Mutex<Vec<MessageRule>>>,
}

impl Injector {
    pub fn add(&self, rule: MessageRule) {
        self.rules
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(rule);
    }

    pub fn remove(&self, id: u64) {
        self.rules
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|r| r.id != id);
    }

    /// Decides the fate of one message of `kind` from `from` to `to`, drawing from the
    /// simulation's RNG.
    pub fn decide(&self, from: IpAddr, to: IpAddr, kind: &str) -> SendDecision {
        let mut rules = self.rules.lock().unwrap_or_else(|e| e.into_inner());
        let mut decision = SendDecision {
            copies: 1,
            delay: Duration::ZERO,
        };
        if rules.is_empty() {
            return decision;
        }
        let mut rng = madsim::rand::thread_rng();
        let mut exhausted = false;
        for rule in rules.iter_mut() {
            if !rule.scope.matches(from, to, kind) {
                continue;
            }
            if let Some(n) = rule.remaining.as_mut() {
                if *n == 0 {
                    continue;
                }
                *n -= 1;
                exhausted |= *n == 0;
            }
            if rule.drop_rate > 0.0 && rng.gen_bool(rule.drop_rate.clamp(0.0, 1.0)) {
                decision.copies = 0;
            }
            if decision.copies > 0
                && rule.duplicate_rate > 0.0
                && rng.gen_bool(rule.duplicate_rate.clamp(0.0, 1.0))
            {
                decision.copies = decision.copies.saturating_add(1).min(4);
            }
            if let Some((lo, hi)) = rule.extra_delay {
                let extra = if hi > lo { rng.gen_range(lo..hi) } else { lo };
                decision.delay += extra;
            }
        }
        if exhausted {
            rules.retain(|r| r.remaining != Some(0));
        }
        decision
    }
}

/// Process deaths, as the peers' kernels would report them: when a process dies its
/// connections close, so a server forgets the long polls it was holding for it, and requests
/// still in flight on those connections are lost.
#[derive(Clone, Default)]
pub struct Deaths {
    inner: Arc<Mutex<Vec<(IpAddr, crate::history::Timestamp, Instant)>>>,
}

impl Deaths {
    /// `ip` died now (`at` on the history clock).
    pub fn record(&self, ip: IpAddr, at: crate::history::Timestamp) {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).push((
            ip,
            at,
            crate::clock::instant_now(),
        ));
    }

    /// Deaths recorded after the first `seen` ones.
    pub fn since(&self, seen: usize) -> Vec<(IpAddr, crate::history::Timestamp)> {
        let v = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        v.get(seen..)
            .unwrap_or_default()
            .iter()
            .map(|(ip, at, _)| (*ip, *at))
            .collect()
    }

    /// Whether `ip` died at or after `sent` (so what it sent then was lost with it).
    pub fn died_since(&self, ip: IpAddr, sent: Instant) -> bool {
        let v = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        v.iter().any(|(dead, _, when)| *dead == ip && *when >= sent)
    }
}

/// Per-node clock skew (milliseconds ahead of virtual time; negative: behind), set by faults.
#[derive(Clone, Default)]
pub struct ClockSkews {
    inner: Arc<Mutex<std::collections::BTreeMap<String, i64>>>,
}

impl ClockSkews {
    pub fn set(&self, node: &str, skew_ms: i64) {
        let mut m = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if skew_ms == 0 {
            m.remove(node);
        } else {
            m.insert(node.to_string(), skew_ms);
        }
    }

    pub fn get(&self, node: &str) -> i64 {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(node)
            .copied()
            .unwrap_or(0)
    }
}

/// What every node shares with the harness: the trace, the message-fault injector, process
/// deaths, clock skews.
#[derive(Clone)]
pub struct NetEnv {
    /// The network every node's transport sends through.
    pub net: net::Net,
    pub trace: Trace,
    pub injector: Injector,
    pub deaths: Deaths,
    pub clocks: ClockSkews,
    /// Acknowledgements as clients and workers received them (outside every node: a crash of
    /// the receiver after the reply does not erase it).
    pub acks: crate::record::AckLog,
    /// Failed activity attempts as the workers that ran them saw them (for reports).
    pub attempts: crate::record::AttemptLog,
    /// Which faults hit which protocol steps (recording only when the scenario asks).
    pub coverage: crate::record::CoverageLog,
}

/// Why a call failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TransportError {
    /// No response within the timeout, after every attempt.
    Timeout { attempts: u32 },
    /// The local socket failed (e.g. the node is shutting down).
    Io(String),
}

impl std::fmt::Display for TransportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TransportError::Timeout { attempts } => {
                write!(f, "no response after {attempts} attempt(s)")
            }
            TransportError::Io(e) => write!(f, "socket error: {e}"),
        }
    }
}

impl std::error::Error for TransportError {}

/// Per-call timeout and retry settings.
#[derive(Clone, Copy, Debug)]
pub struct CallOptions {
    pub timeout: Duration,
    pub attempts: u32,
    pub backoff: Duration,
    /// Watch the call's connection ([`LineWatch`]): fail it [`KEEPALIVE`] after its request or
    /// reply is lost instead of at its timeout.
    pub watch_line: bool,
}

impl CallOptions {
    pub const fn new(timeout: Duration, attempts: u32) -> Self {
        CallOptions {
            timeout,
            attempts,
            backoff: Duration::from_millis(100),
            watch_line: false,
        }
    }

    /// A long poll the server may hold for `wait`: one attempt, a little longer than `wait`,
    /// its connection watched.
    pub fn long_poll(wait: Duration) -> Self {
        CallOptions {
            watch_line: true,
            ..CallOptions::new(wait.saturating_add(Duration::from_secs(5)), 1)
        }
    }
}

/// Decides the faults for one message and records the send in the trace.
fn decide_send(
    ep: &Endpoint,
    env: &NetEnv,
    to: SocketAddr,
    request_id: u64,
    kind: &'static str,
    subject: Option<String>,
) -> SendDecision {
    let from = ep.local_addr();
    let d = env.injector.decide(from.ip(), to.ip(), kind);
    env.coverage
        .message(from.ip(), to.ip(), kind, d.copies, !d.delay.is_zero());
    env.trace.record_with_detail(
        TraceKind::Send {
            from,
            to,
            msg: kind,
            request_id,
            copies: d.copies,
            delay_us: d.delay.as_micros() as u64,
        },
        subject,
    );
    d
}

/// Sends a message with the faults in force (a delayed one from a task of its own).
fn send_with_faults<T: Clone + Send + Sync + 'static>(
    ep: &Rc<Endpoint>,
    env: &NetEnv,
    to: SocketAddr,
    msg: Envelope<T>,
    kind: &'static str,
    subject: Option<String>,
) {
    let d = decide_send(ep, env, to, msg.request_id, kind, subject);
    if d.copies == 0 {
        return;
    }
    if d.delay.is_zero() {
        send_copies(ep, to, msg, d.copies);
    } else {
        spawn_send(ep, to, msg, d);
    }
}

/// Sends `d.copies` copies after `d.delay`, from a task of its own.
fn spawn_send<T: Clone + Send + Sync + 'static>(
    ep: &Rc<Endpoint>,
    to: SocketAddr,
    msg: Envelope<T>,
    d: SendDecision,
) {
    let ep = ep.clone();
    madsim::task::spawn_local(async move {
        if !d.delay.is_zero() {
            tokio::time::sleep(d.delay).await;
        }
        send_copies(&ep, to, msg, d.copies);
    });
}

/// Starts receiving the messages sent to `ep`; `on_message` gets each one with its sender and
/// returns false to stop.
fn spawn_receivers<F>(ep: &Rc<Endpoint>, on_message: F)
where
    F: Fn(Payload, SocketAddr) -> bool + 'static,
{
    let ep = ep.clone();
    madsim::task::spawn_local(async move {
        while let Some((payload, from)) = ep.recv_from().await {
            if !on_message(payload, from) {
                return;
            }
        }
    });
}

/// Sends `copies` copies, moving the message into the last one (no clone in the usual case).
fn send_copies<T: Clone + Send + Sync + 'static>(
    ep: &Endpoint,
    to: SocketAddr,
    msg: Envelope<T>,
    copies: u8,
) {
    for _ in 1..copies {
        ep.send_to(to, Box::new(msg.clone()));
    }
    ep.send_to(to, Box::new(msg));
}

/// How a waiting call ends.
enum Answer<Resp> {
    Reply(Resp),
    TimedOut,
}

/// The calls of one client that wait for an answer, and their deadlines.
///
/// One sweeper task per client fails calls whose deadline passes, sleeping until the earliest
/// deadline: a call costs no madsim timer of its own (madsim never removes a timer before it
/// fires, so a timer per call would keep every answered call's timer, and its task, alive for
/// the whole timeout).
struct Calls<Resp> {
    /// By request id (look-ups only; `deadlines` gives the order).
    waiting: LookupMap<u64, (Instant, oneshot::Sender<Answer<Resp>>)>,
    deadlines: BTreeSet<(Instant, u64)>,
    /// The deadline the sweeper sleeps until (`None` while it waits for a first call).
    sweeper_wakes_at: Option<Instant>,
    /// Long calls whose connection broke; wakes the sweeper.
    broken: Arc<BrokenLines>,
}

impl<Resp> Calls<Resp> {
    fn wait_for(&mut self, request_id: u64, deadline: Instant) -> oneshot::Receiver<Answer<Resp>> {
        let (tx, rx) = oneshot::channel();
        if let Some((old, _)) = self.waiting.insert(request_id, (deadline, tx)) {
            self.deadlines.remove(&(old, request_id));
        }
        self.deadlines.insert((deadline, request_id));
        if self.sweeper_wakes_at.is_none_or(|t| deadline < t) {
            self.broken.wake.notify_one();
        }
        rx
    }

    /// Moves the deadline of each call whose connection broke to `KEEPALIVE` from `now` (to
    /// `now` for a refused connection), when that is earlier.
    fn note_broken(&mut self, now: Instant) {
        let ids = std::mem::take(&mut *self.broken.ids.lock().unwrap_or_else(|e| e.into_inner()));
        for (id, refused) in ids {
            let due = if refused { now } else { now + KEEPALIVE };
            if let Some((deadline, _)) = self.waiting.get_mut(&id) {
                if *deadline > due {
                    self.deadlines.remove(&(*deadline, id));
                    *deadline = due;
                    self.deadlines.insert((due, id));
                }
            }
        }
    }

    fn answer(&mut self, request_id: u64, answer: Answer<Resp>) {
        if let Some((deadline, tx)) = self.waiting.remove(&request_id) {
            self.deadlines.remove(&(deadline, request_id));
            let _ = tx.send(answer);
        }
    }

    /// Times out every call due by `now`; returns the next deadline.
    fn expire(&mut self, now: Instant) -> Option<Instant> {
        while let Some(&(deadline, request_id)) = self.deadlines.first() {
            if deadline > now {
                return Some(deadline);
            }
            self.answer(request_id, Answer::TimedOut);
        }
        None
    }
}

/// The calling side: sends requests, matches responses by request id, retries on timeout.
pub struct RpcClient<Req, Resp> {
    ep: Rc<Endpoint>,
    env: NetEnv,
    calls: Rc<RefCell<Calls<Resp>>>,
    next_id: Cell<u64>,
    _req: std::marker::PhantomData<fn(Req)>,
}

impl<Req, Resp> RpcClient<Req, Resp>
where
    Req: MessageKind + Clone + Send + Sync + 'static,
    Resp: MessageKind + Clone + Send + Sync + 'static,
{
    /// Binds a client socket on this node and starts its response loop and timeout sweeper.
    pub async fn bind(addr: SocketAddr, env: NetEnv) -> io::Result<Self> {
        let ep = Rc::new(env.net.bind(addr));
        let broken = Arc::new(BrokenLines::default());
        let calls = Rc::new(RefCell::new(Calls {
            waiting: LookupMap::default(),
            deadlines: BTreeSet::new(),
            sweeper_wakes_at: None,
            broken: broken.clone(),
        }));
        {
            let calls = calls.clone();
            let env = env.clone();
            let at = ep.local_addr();
            spawn_receivers(&ep, move |payload, from| {
                if let Ok(msg) = payload.downcast::<Envelope<Resp>>() {
                    if let Some(line) = &msg.line {
                        line.delivered.store(true, Ordering::Relaxed);
                    }
                    env.trace.record(TraceKind::Recv {
                        at,
                        from,
                        msg: msg.body.kind(),
                        request_id: msg.request_id,
                    });
                    calls
                        .borrow_mut()
                        .answer(msg.request_id, Answer::Reply(msg.body));
                }
                true
            });
        }
        {
            // The only reference it keeps is weak: the sweeper ends with its client.
            let calls = Rc::downgrade(&calls);
            madsim::task::spawn_local(async move {
                let mut alarm: Option<Alarm> = None;
                loop {
                    let next = {
                        let Some(calls) = calls.upgrade() else { return };
                        let mut calls = calls.borrow_mut();
                        let now = crate::clock::instant_now();
                        calls.note_broken(now);
                        let next = calls.expire(now);
                        calls.sweeper_wakes_at = next;
                        next
                    };
                    match next {
                        None => broken.wake.notified().await,
                        Some(t) => {
                            let alarm = Alarm::arm(&mut alarm, t);
                            tokio::select! {
                                biased;
                                _ = alarm => {}
                                _ = broken.wake.notified() => {}
                            }
                        }
                    }
                }
            });
        }
        // Request ids start at a random point per incarnation so a restarted node never reuses
        // the ids of its previous life (servers deduplicate by them).
        let first_id = madsim::rand::thread_rng().gen::<u64>() >> 8;
        Ok(RpcClient {
            ep,
            env,
            calls,
            next_id: Cell::new(first_id),
            _req: std::marker::PhantomData,
        })
    }

    pub fn new_request_id(&self) -> u64 {
        let id = self.next_id.get();
        self.next_id.set(id.wrapping_add(1));
        id
    }

    /// Sends `req` to `dst` and waits for its response; on timeout resends the same request
    /// (same request id) up to `opts.attempts` times.
    ///
    /// The request id is taken when `call` is called. (Not `async fn`s: an `async fn` keeps its
    /// arguments for its whole life, and a call future lives as long as its call waits, up to a
    /// whole run for a client waiting for a workflow to close.)
    pub fn call(
        &self,
        dst: SocketAddr,
        req: Req,
        opts: CallOptions,
    ) -> impl std::future::Future<Output = Result<Resp, TransportError>> + '_ {
        let id = self.new_request_id();
        self.call_with_id(dst, id, req, opts)
    }

    pub fn call_with_id(
        &self,
        dst: SocketAddr,
        request_id: u64,
        req: Req,
        opts: CallOptions,
    ) -> impl std::future::Future<Output = Result<Resp, TransportError>> + '_ {
        let mut req = Some(req);
        async move {
            let attempts = opts.attempts.max(1);
            for attempt in 1..=attempts {
                let rx = self
                    .calls
                    .borrow_mut()
                    .wait_for(request_id, crate::clock::instant_now() + opts.timeout);
                // Keep a copy only while another attempt may follow.
                let body = if attempt < attempts {
                    req.clone().expect("request kept for retries")
                } else {
                    req.take().expect("request kept for retries")
                };
                let kind = body.kind();
                let subject = self
                    .env
                    .trace
                    .keeps_entries()
                    .then(|| body.subject())
                    .flatten();
                let line = opts.watch_line.then(|| {
                    Arc::new(LineWatch {
                        request_id,
                        delivered: AtomicBool::new(false),
                        refused: AtomicBool::new(!self.env.net.is_bound(dst)),
                        caller: self.calls.borrow().broken.clone(),
                    })
                });
                send_with_faults(
                    &self.ep,
                    &self.env,
                    dst,
                    Envelope {
                        request_id,
                        sent: crate::clock::instant_now(),
                        body,
                        line,
                    },
                    kind,
                    subject,
                );
                match rx.await {
                    Ok(Answer::Reply(resp)) => return Ok(resp),
                    Err(_) => return Err(TransportError::Io("response channel closed".into())),
                    Ok(Answer::TimedOut) => {
                        if attempt < attempts {
                            tokio::time::sleep(opts.backoff).await;
                        }
                    }
                }
            }
            Err(TransportError::Timeout { attempts })
        }
    }
}

/// Identifies where a response goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReplyTo {
    pub addr: SocketAddr,
    pub request_id: u64,
}

/// The connection of a long call a server received ([`LineWatch`]); empty for other calls.
/// Dropping it tells the caller the connection broke: [`RpcServer::hold`] it while the call is
/// being answered.
#[derive(Debug, Default)]
pub struct Line(Option<Arc<LineWatch>>);

/// The serving side: receives requests and sends responses (possibly later, for long polls).
pub struct RpcServer<Req, Resp> {
    ep: Rc<Endpoint>,
    env: NetEnv,
    /// Requests the receive loops took, in the order they took them.
    inbox: RefCell<tokio::sync::mpsc::UnboundedReceiver<(ReplyTo, Req, Line)>>,
    /// The connections of long calls being answered, until their replies carry them.
    held: RefCell<LookupMap<ReplyTo, Arc<LineWatch>>>,
    _m: std::marker::PhantomData<fn(Resp)>,
}

impl<Req, Resp> RpcServer<Req, Resp>
where
    Req: MessageKind + Clone + Send + Sync + 'static,
    Resp: MessageKind + Clone + Send + Sync + 'static,
{
    /// Binds the server socket on this node and starts its receive loops.
    pub async fn bind(addr: SocketAddr, env: NetEnv) -> io::Result<Self> {
        let ep = Rc::new(env.net.bind(addr));
        let (tx, inbox) = tokio::sync::mpsc::unbounded_channel();
        {
            let env = env.clone();
            let at = ep.local_addr();
            spawn_receivers(&ep, move |payload, from| {
                let Ok(msg) = payload.downcast::<Envelope<Req>>() else {
                    return true;
                };
                env.trace.record(TraceKind::Recv {
                    at,
                    from,
                    msg: msg.body.kind(),
                    request_id: msg.request_id,
                });
                if env.deaths.died_since(from.ip(), msg.sent) {
                    env.trace.note(format!(
                        "{at} dropped request #{:x} from {from}: the sender died after sending it",
                        msg.request_id
                    ));
                    return true;
                }
                let to = ReplyTo {
                    addr: from,
                    request_id: msg.request_id,
                };
                let Envelope { body, line, .. } = *msg;
                // The server is gone: stop taking its messages.
                tx.send((to, body, Line(line))).is_ok()
            });
        }
        Ok(RpcServer {
            ep,
            env,
            inbox: RefCell::new(inbox),
            held: RefCell::new(LookupMap::default()),
            _m: std::marker::PhantomData,
        })
    }

    /// The next request (messages of other types are ignored), with its
    /// connection: [`RpcServer::hold`] that when the request is taken into work, drop it when the
    /// request is discarded (a duplicate).
    /// Cancellation-safe: the receive loops run in tasks of their own and hand over whole
    /// requests, so a `select!` whose other branch fires never loses a half-received message.
    pub async fn recv(&self) -> io::Result<(ReplyTo, Req, Line)> {
        std::future::poll_fn(|cx| self.inbox.borrow_mut().poll_recv(cx))
            .await
            .ok_or_else(|| io::Error::new(io::ErrorKind::BrokenPipe, "receive loops ended"))
    }

    /// A request waiting already, if any (for taking several into one step).
    pub fn try_recv(&self) -> Option<(ReplyTo, Req, Line)> {
        self.inbox.borrow_mut().try_recv().ok()
    }

    /// Holds the connection of a request being answered until its reply carries it (a later
    /// copy of the same request keeps the first one's).
    pub fn hold(&self, to: ReplyTo, line: Line) {
        if let Some(line) = line.0 {
            self.held.borrow_mut().entry(to).or_insert(line);
        }
    }

    /// Lets go of the connections of calls from `ip` (the caller died; they will not be
    /// answered).
    pub fn release_from(&self, ip: IpAddr) {
        self.held.borrow_mut().retain(|to, _| to.addr.ip() != ip);
    }

    /// Sends a response; the caller does not wait for it (a send hands the message to the
    /// network, and a delay a fault adds is waited out by a task of its own).
    pub fn reply(&self, to: ReplyTo, resp: Resp) {
        let kind = resp.kind();
        let subject = self
            .env
            .trace
            .keeps_entries()
            .then(|| resp.subject())
            .flatten();
        send_with_faults(
            &self.ep,
            &self.env,
            to.addr,
            Envelope {
                request_id: to.request_id,
                sent: crate::clock::instant_now(),
                body: resp,
                line: self.held.borrow_mut().remove(&to),
            },
            kind,
            subject,
        );
    }
}

/// A bounded memory of recent requests, so a duplicated or retried request gets the first
/// answer again instead of being executed twice. Not durable: after a restart the engine's own
/// checks (task tokens, request ids in mutable state) take over.
pub struct Dedup<Resp> {
    /// Look-ups only: `order` gives the eviction order.
    seen: LookupMap<ReplyTo, Slot<Resp>>,
    order: std::collections::VecDeque<ReplyTo>,
    capacity: usize,
}

enum Slot<Resp> {
    InFlight,
    /// Answered; the answer is kept when it is small enough to resend.
    Answered(Option<Resp>),
}

/// What to do with an incoming request.
pub enum DedupVerdict<Resp> {
    New,
    /// Still being handled (e.g. a long poll), or answered with an answer not kept: drop it.
    Drop,
    /// Already answered: send this again.
    Answered(Resp),
}

impl<Resp: Clone> Dedup<Resp> {
    pub fn new(capacity: usize) -> Self {
        Dedup {
            seen: LookupMap::default(),
            order: std::collections::VecDeque::new(),
            capacity,
        }
    }

    pub fn check(&mut self, key: ReplyTo) -> DedupVerdict<Resp> {
        match self.seen.get(&key) {
            Some(Slot::Answered(Some(r))) => DedupVerdict::Answered(r.clone()),
            Some(_) => DedupVerdict::Drop,
            None => {
                self.seen.insert(key, Slot::InFlight);
                self.order.push_back(key);
                while self.order.len() > self.capacity {
                    if let Some(old) = self.order.pop_front() {
                        self.seen.remove(&old);
                    }
                }
                DedupVerdict::New
            }
        }
    }

    /// Records that `key` was answered; `keep` is the answer to resend to a retry (`None` for
    /// answers too large to keep, such as tasks with histories: a retry of those is dropped).
    pub fn answered(&mut self, key: ReplyTo, keep: Option<Resp>) {
        if let Some(slot) = self.seen.get_mut(&key) {
            *slot = Slot::Answered(keep);
        }
    }
}
