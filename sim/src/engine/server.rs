//! The server node: receives requests over the simulated network, steps the engine, makes each
//! step durable (write + sync) and only then replies.

use std::net::SocketAddr;
use std::time::Duration;

use super::core::{Engine, EngineConfig, Step};
use super::store::{AppendedRun, SimStore, Store, StoreWrite};
use crate::alarm::Alarm;
use crate::clock::SimClock;
use crate::record::coverage::windows;
use crate::trace::TraceKind;
use crate::transport::{Dedup, DedupVerdict, MessageKind, NetEnv, ReplyTo, RpcServer};
use crate::wire::{Request, Response};

#[derive(Clone, Debug)]
pub struct ServerConfig {
    pub addr: SocketAddr,
    pub engine: EngineConfig,
    /// Virtual time a sync takes: the window in which a crash loses a write. madsim never
    /// sleeps less than 1 ms, so anything shorter acts as 1 ms (one sync covers a whole group
    /// of requests, see `MAX_GROUP`).
    pub fsync_latency: Duration,
}

impl ServerConfig {
    pub fn new(addr: SocketAddr) -> Self {
        ServerConfig {
            addr,
            engine: EngineConfig::default(),
            fsync_latency: Duration::from_micros(200),
        }
    }
}

/// Requests taken into one group commit at most (bounds a step's writes and replies).
const MAX_GROUP: usize = 1024;

/// Runs the server until its node is killed. Re-run on restart: state comes from `store`.
pub async fn run_server(cfg: ServerConfig, store: SimStore, env: NetEnv, clock: SimClock) {
    let snapshot = store.recover();
    let seed: u64 = madsim::rand::random();
    let mut engine = Engine::recover(cfg.engine.clone(), seed, snapshot, clock.now());
    let rpc = match RpcServer::<Request, Response>::bind(cfg.addr, env.clone()).await {
        Ok(r) => r,
        Err(e) => {
            env.trace
                .note(format!("server failed to bind {}: {e}", cfg.addr));
            return;
        }
    };
    env.trace.record(TraceKind::NodeStart {
        node: "server".into(),
    });
    let mut dedup: Dedup<Response> = Dedup::new(8192);
    let mut deaths_seen = 0;
    // One alarm for the engine's next deadline, kept across iterations: most requests leave the
    // earliest deadline where it was, and then cost no new timer.
    let mut alarm: Option<Alarm> = None;
    let node = Node {
        cfg: &cfg,
        store: &store,
        env: &env,
        rpc: &rpc,
    };
    loop {
        let wake = engine.next_wakeup().map(|t| clock.instant_at(t));
        // The kinds of work in this step, for fault-space coverage (only when it records).
        let mut kinds: Vec<&'static str> = Vec::new();
        let covering = env.coverage.is_enabled();
        let mut step = tokio::select! {
            biased;
            msg = rpc.recv() => {
                let Ok((from, req, line)) = msg else { return };
                match dedup.check(from) {
                    DedupVerdict::New => {
                        rpc.hold(from, line);
                        if covering {
                            kinds.push(req.kind());
                        }
                        engine.handle(clock.now(), from, req)
                    }
                    DedupVerdict::Drop => continue,
                    DedupVerdict::Answered(resp) => {
                        rpc.reply(from, resp);
                        continue;
                    }
                }
            }
            _ = wait_until(&mut alarm, wake) => {
                if covering {
                    kinds.push("timer or timeout");
                }
                engine.tick(clock.now())
            }
        };
        // Group commit: every request already waiting joins this step, so one write and one
        // sync cover them all, as a database commits concurrent transactions together. Their
        // replies still wait for the sync, and a crash before it loses the whole group.
        for _ in 1..MAX_GROUP {
            let Some((from, req, line)) = rpc.try_recv() else {
                break;
            };
            match dedup.check(from) {
                DedupVerdict::New => {
                    rpc.hold(from, line);
                    if covering {
                        kinds.push(req.kind());
                    }
                    let more = engine.handle(clock.now(), from, req);
                    step.writes.extend(more.writes);
                    step.replies.extend(more.replies);
                }
                DedupVerdict::Drop => {}
                DedupVerdict::Answered(resp) => rpc.reply(from, resp),
            }
        }
        let deaths = env.deaths.since(deaths_seen);
        deaths_seen += deaths.len();
        for (ip, at) in deaths {
            engine.drop_polls_from(|r: &ReplyTo| r.addr.ip() == ip, at);
            rpc.release_from(ip);
        }
        commit(&node, &mut dedup, step, &kinds).await;
    }
}

/// Sleeps until `at` (forever for `None`) on `alarm`, moving it there if needed.
async fn wait_until(alarm: &mut Option<Alarm>, at: Option<tokio::time::Instant>) {
    match at {
        Some(t) => Alarm::arm(alarm, t).await,
        None => std::future::pending().await,
    }
}

/// What committing a step needs of the server node.
struct Node<'a> {
    cfg: &'a ServerConfig,
    store: &'a SimStore,
    env: &'a NetEnv,
    rpc: &'a RpcServer<Request, Response>,
}

/// Makes a step durable (write, then sync), then sends its replies. `kinds`: the work the
/// step did, whose writes a crash before the sync loses (fault-space coverage's windows).
async fn commit(
    node: &Node<'_>,
    dedup: &mut Dedup<Response>,
    step: Step<ReplyTo>,
    kinds: &[&'static str],
) {
    let Node {
        cfg,
        store,
        env,
        rpc,
    } = *node;
    let Step { writes, replies } = step;
    if !writes.is_empty() {
        let appended = appended_events(&writes);
        store.write(writes);
        env.coverage.store_write();
        let _unsynced: Vec<_> = kinds
            .iter()
            .map(|k| env.coverage.enter("server", windows::server_unsynced(k)))
            .collect();
        env.trace.record(TraceKind::StoreWrite {
            batch: store.stats().0,
        });
        if cfg.engine.defects.reply_before_sync {
            // Deliberate defect: acknowledge first, sync later.
            store.record_acked(&appended);
            send_replies(rpc, dedup, replies);
            tokio::time::sleep(cfg.fsync_latency).await;
            store.sync();
            trace_appends(env, &appended);
            return;
        }
        tokio::time::sleep(cfg.fsync_latency).await;
        store.sync();
        trace_appends(env, &appended);
        store.record_acked(&appended);
    }
    send_replies(rpc, dedup, replies);
}

/// Small answers are kept for resending to a retried request; tasks (with histories) are not:
/// the worker polls again with a new request id anyway.
fn keep_for_retry(resp: &Response) -> Option<Response> {
    match resp {
        // Eager activity tasks are handed out once: a retry learns that the task completed,
        // and activities whose first reply was lost time out and retry through the queue.
        Response::WorkflowTaskCompleted { .. } => Some(Response::WorkflowTaskCompleted {
            activity_tasks: Vec::new(),
        }),
        Response::Ok
        | Response::Started { .. }
        | Response::Heartbeat { .. }
        | Response::Error(_) => Some(resp.clone()),
        _ => None,
    }
}

fn send_replies(
    rpc: &RpcServer<Request, Response>,
    dedup: &mut Dedup<Response>,
    replies: Vec<(ReplyTo, Response)>,
) {
    for (to, resp) in replies {
        dedup.answered(to, keep_for_retry(&resp));
        rpc.reply(to, resp);
    }
}

/// The events a batch appends, per run written (its key cloned once, not per event).
fn appended_events(writes: &[StoreWrite]) -> Vec<AppendedRun> {
    writes
        .iter()
        .filter_map(|w| match w {
            StoreWrite::Execution {
                key, new_events, ..
            } if !new_events.is_empty() => Some((
                key.clone(),
                new_events
                    .iter()
                    .map(|e| (e.event_id, e.event_type()))
                    .collect(),
            )),
            _ => None,
        })
        .collect()
}

fn trace_appends(env: &NetEnv, appended: &[AppendedRun]) {
    for (key, events) in appended {
        let name: std::sync::Arc<str> = key.name().into();
        for &(event_id, event_type) in events {
            env.trace.record(TraceKind::HistoryAppend {
                run: name.clone(),
                event_id,
                event_type: event_type.name(),
            });
        }
    }
}
