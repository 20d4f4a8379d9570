//! Activity side of `sim::sdk`: `Registry::run_activity` and `ActivityContext`.

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use crate::history::{FailureInfo, Payloads};
use crate::sdk::{
    ActivityContext, ActivityError, ActivityHost, ActivityInfo, HeartbeatOutcome, LocalBoxFuture,
    Registry, ServiceCallError,
};

struct Noop;
impl Wake for Noop {
    fn wake(self: Arc<Self>) {}
}

/// The mock host answers at once, so one poll finishes every future here.
fn now<T>(f: impl Future<Output = T>) -> T {
    let waker = Waker::from(Arc::new(Noop));
    let mut f = Box::pin(f);
    match f.as_mut().poll(&mut Context::from_waker(&waker)) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("pending"),
    }
}

#[derive(Default)]
struct MockHost {
    heartbeat: RefCell<Vec<HeartbeatOutcome>>,
    calls: RefCell<Vec<(String, String, serde_json::Value)>>,
    answer: RefCell<Option<Result<serde_json::Value, ServiceCallError>>>,
}

impl ActivityHost for MockHost {
    fn heartbeat(&self, _details: Option<Payloads>) -> LocalBoxFuture<'static, HeartbeatOutcome> {
        let o = self
            .heartbeat
            .borrow_mut()
            .pop()
            .unwrap_or(HeartbeatOutcome::Ok);
        Box::pin(async move { o })
    }

    fn call_service(
        &self,
        caller: &ActivityInfo,
        service: &str,
        operation: &str,
        mut request: serde_json::Value,
    ) -> LocalBoxFuture<'static, Result<serde_json::Value, ServiceCallError>> {
        request["caller"] = caller.activity_id.clone().into();
        self.calls
            .borrow_mut()
            .push((service.to_string(), operation.to_string(), request));
        let a = self
            .answer
            .borrow()
            .clone()
            .unwrap_or(Ok(serde_json::json!("ok")));
        Box::pin(async move { a })
    }
}

fn info(activity_type: &str, attempt: i32) -> ActivityInfo {
    ActivityInfo {
        workflow_id: "wf".to_string(),
        run_id: "run".to_string(),
        activity_id: "2".to_string(),
        activity_type: activity_type.to_string(),
        attempt,
        scheduled_event_id: 11,
        heartbeat_details: Some(Payloads::json(&7u32).unwrap()),
        task_queue: "q".to_string(),
        ..Default::default()
    }
}

async fn double(_ctx: ActivityContext, x: i64) -> Result<i64, ActivityError> {
    Ok(x * 2)
}

async fn picky(ctx: ActivityContext, x: i64) -> Result<i64, ActivityError> {
    if ctx.attempt() < 3 {
        return Err(ActivityError::retryable(
            "Flaky",
            format!("attempt {}", ctx.attempt()),
        ));
    }
    Err(ActivityError::non_retryable("Fatal", format!("bad {x}")))
}

async fn explodes(_ctx: ActivityContext, _x: i64) -> Result<i64, ActivityError> {
    panic!("activity blew up");
}

async fn bank(ctx: ActivityContext, amount: i64) -> Result<String, ActivityError> {
    ctx.heartbeat(&"progress").await?;
    let out = ctx
        .call_service("bank", "deposit", serde_json::json!({"amount": amount}))
        .await?;
    Ok(format!("{out} {}", ctx.idempotency_key()))
}

fn registry() -> Registry {
    let mut r = Registry::new();
    r.register_activity("double", double)
        .register_activity("picky", picky)
        .register_activity("explodes", explodes)
        .register_activity("bank", bank);
    r
}

fn ctx(host: &Rc<MockHost>, ty: &str, attempt: i32) -> ActivityContext {
    ActivityContext::new(info(ty, attempt), Rc::clone(host) as Rc<dyn ActivityHost>)
}

fn input(x: i64) -> Option<Payloads> {
    Some(Payloads::json(&x).unwrap())
}

#[test]
fn run_activity_decodes_calls_and_encodes() {
    let host = Rc::new(MockHost::default());
    let out = now(registry().run_activity(ctx(&host, "double", 1), input(21))).unwrap();
    assert_eq!(out.unwrap().decode_first::<i64>().unwrap(), 42);
    assert_eq!(
        registry().activity_types(),
        vec!["bank", "double", "explodes", "picky"]
    );
}

#[test]
fn activity_errors_become_application_failures() {
    let host = Rc::new(MockHost::default());
    let f = now(registry().run_activity(ctx(&host, "picky", 1), input(1))).unwrap_err();
    assert_eq!(
        (f.message.as_str(), f.error_type()),
        ("attempt 1", Some("Flaky"))
    );
    assert!(!f.is_non_retryable());
    let f = now(registry().run_activity(ctx(&host, "picky", 3), input(5))).unwrap_err();
    assert_eq!(
        (f.message.as_str(), f.error_type()),
        ("bad 5", Some("Fatal"))
    );
    assert!(f.is_non_retryable());
}

#[test]
fn a_panicking_activity_becomes_a_panic_error() {
    let host = Rc::new(MockHost::default());
    let f = now(registry().run_activity(ctx(&host, "explodes", 1), input(1))).unwrap_err();
    assert_eq!(f.error_type(), Some("PanicError"));
    assert!(f.message.contains("activity blew up"));
}

#[test]
fn unregistered_types_and_bad_input_fail_cleanly() {
    let host = Rc::new(MockHost::default());
    let f = now(registry().run_activity(ctx(&host, "nope", 1), input(1))).unwrap_err();
    assert_eq!(f.error_type(), Some("ActivityNotRegistered"));
    assert!(!f.is_non_retryable(), "retryable, as Temporal does");
    let bad = Some(Payloads::json("not a number").unwrap());
    let f = now(registry().run_activity(ctx(&host, "double", 1), bad)).unwrap_err();
    assert_eq!(f.error_type(), Some("PayloadDecodeError"));
}

#[test]
fn context_exposes_info_keys_heartbeats_and_service_calls() {
    let host = Rc::new(MockHost::default());
    let c = ctx(&host, "bank", 2);
    assert_eq!(c.idempotency_key(), "wf/run/2");
    assert_eq!(ctx(&host, "bank", 5).idempotency_key(), c.idempotency_key());
    assert_eq!(c.last_heartbeat_details::<u32>(), Some(7));
    assert_eq!(
        (c.workflow_id(), c.run_id(), c.activity_id()),
        ("wf", "run", "2")
    );
    let out = now(registry().run_activity(c, input(10))).unwrap();
    assert_eq!(
        out.unwrap().decode_first::<String>().unwrap(),
        "\"ok\" wf/run/2"
    );
    let calls = host.calls.borrow();
    assert_eq!(calls.len(), 1);
    assert_eq!(
        (calls[0].0.as_str(), calls[0].1.as_str()),
        ("bank", "deposit")
    );
    assert_eq!(calls[0].2["amount"], 10);
    assert_eq!(calls[0].2["caller"], "2");
}

#[test]
fn cancellation_arrives_through_the_heartbeat() {
    let host = Rc::new(MockHost::default());
    host.heartbeat
        .borrow_mut()
        .push(HeartbeatOutcome::CancelRequested);
    let c = ctx(&host, "bank", 1);
    let c2 = c.clone();
    let f = now(registry().run_activity(c, input(1))).unwrap_err();
    // A cancellation, not an application failure: the worker answers
    // RespondActivityTaskCanceled and history says ActivityTaskCanceled.
    assert!(matches!(f.info, FailureInfo::Canceled { .. }), "{f:?}");
    assert!(c2.is_cancelled());
    assert!(
        host.calls.borrow().is_empty(),
        "stopped before the service call"
    );
}

#[test]
fn service_rejections_keep_their_error_type() {
    let host = Rc::new(MockHost::default());
    *host.answer.borrow_mut() = Some(Err(ServiceCallError::rejected(
        "InvalidAccountError",
        "account B-INVALID is invalid",
    )));
    let f = now(registry().run_activity(ctx(&host, "bank", 1), input(1))).unwrap_err();
    assert_eq!(f.error_type(), Some("InvalidAccountError"));
    assert_eq!(f.message, "account B-INVALID is invalid");
    assert!(matches!(f.info, FailureInfo::Application { .. }));
    *host.answer.borrow_mut() = Some(Err(ServiceCallError::unavailable("timeout")));
    let f = now(registry().run_activity(ctx(&host, "bank", 1), input(1))).unwrap_err();
    assert_eq!(f.error_type(), Some("ServiceUnavailable"));
    assert!(!f.is_non_retryable());
}
