//! External services that activities call (a bank, a translation service), each on its own node,
//! and the ledger of effects they apply.
//!
//! Invariant: a service's durable state and the effect ledger live outside its node (they
//! survive kills); checkers read the ledger after the run and never ask a node.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;

use crate::clock::SimClock;
use crate::history::Timestamp;
pub use crate::record::{Caller, Effect};
use crate::record::{ServiceUse, UnrecordedCall};
use crate::trace::{Trace, TraceKind};
use crate::transport::{Dedup, DedupVerdict, MessageKind, NetEnv, RpcServer};

/// The record of every external effect, shared by all service nodes and the checkers. It lives
/// outside the nodes, so a killed service loses none of it.
///
/// A service must call [`EffectLedger::record`] for every call of one of its
/// [`ServiceLogic::effect_operations`], applied or recognised as a duplicate: the
/// `exactly-once` invariant reads only this ledger, and an effect that is not recorded is an
/// effect it cannot see.
#[derive(Clone)]
pub struct EffectLedger {
    inner: Arc<Mutex<Vec<Effect>>>,
    unrecorded: Arc<Mutex<Vec<UnrecordedCall>>>,
    /// Calls answered with success, by (service, operation), as the service nodes saw them.
    calls: Arc<Mutex<BTreeMap<(String, String), u64>>>,
    trace: Trace,
    clock: SimClock,
}

impl EffectLedger {
    pub(crate) fn new(trace: Trace, clock: SimClock) -> Self {
        EffectLedger {
            inner: Arc::new(Mutex::new(Vec::new())),
            unrecorded: Arc::new(Mutex::new(Vec::new())),
            calls: Arc::new(Mutex::new(BTreeMap::new())),
            trace,
            clock,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Effect>> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records one call of `operation` on `service` with `idempotency_key`: `applied` is false
    /// when the service recognised the key and did not apply it again. `caller` is the
    /// activity attempt that made the call (from the request); `detail` is free-form, for
    /// reports (the bank: account and amount).
    pub fn record(
        &self,
        service: &str,
        operation: &str,
        idempotency_key: &str,
        applied: bool,
        caller: Option<&Caller>,
        detail: Value,
    ) {
        self.trace.record(TraceKind::Effect {
            service: service.to_string(),
            operation: operation.to_string(),
            idempotency_key: idempotency_key.to_string(),
            applied,
            caller: caller.map(|c| c.node.clone()).unwrap_or_default(),
        });
        let mut v = self.lock();
        let seq = v.len() as u64;
        v.push(Effect {
            seq,
            time: self.clock.now(),
            service: service.to_string(),
            operation: operation.to_string(),
            idempotency_key: idempotency_key.to_string(),
            applied,
            caller: caller.cloned(),
            detail,
        });
    }

    /// Every recorded effect, in order.
    pub(crate) fn effects(&self) -> Vec<Effect> {
        self.lock().clone()
    }

    /// How many effects are recorded so far.
    fn len(&self) -> usize {
        self.lock().len()
    }

    /// Notes a successful call of an effect operation that recorded nothing (seen by the
    /// service's node, not by the service model).
    fn note_unrecorded(&self, call: UnrecordedCall) {
        self.trace.note(format!(
            "{}.{} succeeded without recording an effect in the ledger",
            call.service, call.operation
        ));
        self.unrecorded
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(call);
    }

    /// Counts a call of `operation` that `service` answered with success.
    fn note_call(&self, service: &str, operation: &str) {
        let mut calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        match calls.get_mut(&(service.to_string(), operation.to_string())) {
            Some(n) => *n += 1,
            None => {
                calls.insert((service.to_string(), operation.to_string()), 1);
            }
        }
    }

    /// What each of `services` answered, with its declarations.
    pub(crate) fn service_use(&self, services: &[Arc<dyn ServiceLogic>]) -> Vec<ServiceUse> {
        let calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        services
            .iter()
            .map(|s| ServiceUse {
                service: s.name().to_string(),
                effect_operations: s
                    .effect_operations()
                    .iter()
                    .map(|o| o.to_string())
                    .collect(),
                effect_free: s.effect_free(),
                calls: calls
                    .iter()
                    .filter(|((svc, _), _)| svc == s.name())
                    .map(|((_, op), n)| (op.clone(), *n))
                    .collect(),
            })
            .collect()
    }

    /// Every call noted by `note_unrecorded`, in order.
    pub(crate) fn unrecorded(&self) -> Vec<UnrecordedCall> {
        self.unrecorded
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// A call to a service.
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceRequest {
    pub operation: String,
    pub body: Value,
    pub caller: Option<Caller>,
}

impl MessageKind for ServiceRequest {
    fn kind(&self) -> &'static str {
        "ServiceCall"
    }

    fn subject(&self) -> Option<String> {
        Some(match &self.caller {
            Some(c) => format!(
                "{} from {} activity {} ({}) attempt {}",
                self.operation, c.workflow_id, c.activity_id, c.activity_type, c.attempt
            ),
            None => self.operation.clone(),
        })
    }
}

/// A service's answer.
#[derive(Clone, Debug, PartialEq)]
pub enum ServiceResponse {
    Ok(Value),
    Rejected { error_type: String, message: String },
}

impl MessageKind for ServiceResponse {
    fn kind(&self) -> &'static str {
        match self {
            ServiceResponse::Ok(_) => "ServiceOk",
            ServiceResponse::Rejected { .. } => "ServiceRejected",
        }
    }
}

/// What a service handler sees besides the request.
pub struct ServiceCtx<'a> {
    /// Where the service records each effect it applies (or deduplicates).
    pub ledger: &'a EffectLedger,
    /// Virtual wall-clock time of the call.
    pub now: Timestamp,
}

/// A service's logic and durable state. Implementations keep their state behind a lock inside
/// `self`; the object outlives node restarts.
pub trait ServiceLogic: Send + Sync + 'static {
    /// The service's node name (`bank`): fault plans and `ActivityContext::call_service` use it.
    fn name(&self) -> &str;
    /// The operations that apply an external effect and record it in the [`EffectLedger`]
    /// (what `exactly-once` checks and what a `When::Effect` fault trigger can match), most
    /// important first. `&[]` for a service whose calls change nothing outside.
    fn effect_operations(&self) -> &[&str];
    /// Declares that no call of this service changes anything outside it (a read-only lookup,
    /// a translation): `exactly-once` then expects no effects from it. A service with no
    /// [`effect_operations`](Self::effect_operations) that activities call successfully and
    /// that does not declare itself effect-free fails `exactly-once`: whatever it changes would
    /// be invisible to the checker. Default: `false`.
    fn effect_free(&self) -> bool {
        false
    }
    /// Handles one call: `Ok(response)` or `Err((error_type, message))`.
    fn handle(
        &self,
        ctx: &ServiceCtx<'_>,
        operation: &str,
        body: &Value,
        caller: Option<&Caller>,
    ) -> Result<Value, (String, String)>;
    /// The durable state, for checkers (e.g. account balances).
    fn snapshot(&self) -> Value;
}

/// Runs a service node until it is killed.
pub async fn run_service(
    logic: Arc<dyn ServiceLogic>,
    addr: SocketAddr,
    env: NetEnv,
    clock: SimClock,
    ledger: EffectLedger,
) {
    let rpc = match RpcServer::<ServiceRequest, ServiceResponse>::bind(addr, env.clone()).await {
        Ok(r) => r,
        Err(e) => {
            env.trace.note(format!(
                "service {} failed to bind {addr}: {e}",
                logic.name()
            ));
            return;
        }
    };
    env.trace.record(TraceKind::NodeStart {
        node: logic.name().to_string(),
    });
    let mut dedup: Dedup<ServiceResponse> = Dedup::new(4096);
    while let Ok((from, req, line)) = rpc.recv().await {
        let resp = match dedup.check(from) {
            DedupVerdict::New => {
                rpc.hold(from, line);
                let ctx = ServiceCtx {
                    ledger: &ledger,
                    now: clock.now(),
                };
                // The node checks the model's contract: a successful call of an effect
                // operation records one ledger entry (applied, or recognised as a duplicate).
                let recorded_before = ledger.len();
                match logic.handle(&ctx, &req.operation, &req.body, req.caller.as_ref()) {
                    Ok(v) => {
                        ledger.note_call(logic.name(), &req.operation);
                        let is_effect = logic
                            .effect_operations()
                            .iter()
                            .any(|op| *op == req.operation);
                        if is_effect && ledger.len() == recorded_before {
                            ledger.note_unrecorded(UnrecordedCall {
                                time: ctx.now,
                                service: logic.name().to_string(),
                                operation: req.operation.clone(),
                                caller: req.caller.clone(),
                            });
                        }
                        ServiceResponse::Ok(v)
                    }
                    Err((error_type, message)) => ServiceResponse::Rejected {
                        error_type,
                        message,
                    },
                }
            }
            DedupVerdict::Drop => continue,
            DedupVerdict::Answered(r) => r,
        };
        dedup.answered(from, Some(resp.clone()));
        rpc.reply(from, resp);
    }
}
