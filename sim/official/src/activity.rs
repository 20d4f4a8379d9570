//! Official-SDK activities inside a durasim worker.
//!
//! An `#[activities]` function runs as written, through the SDK's own `ActivityContext` (built by
//! the SDK's `ActivityEnvironment`, with this attempt's ids, type, queue and attempt number). Its
//! heartbeats reach durasim's server, and when the server answers that cancellation was requested
//! the context's cancellation token fires (`ctx.cancelled()`, `ctx.is_cancelled()`).
//!
//! Activities that talk to the outside world are replaced by an [`ActivityDouble`]: a durasim
//! activity that gets the official activity's typed input and returns its typed output, and
//! calls durasim services, so its effects are recorded in their ledgers.
//!
//! Limit: heartbeat details given to the official context are not sent (the SDK hands the host
//! only a type-erased value); a retried attempt sees no earlier details.

use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use sim::history::{Failure, Payloads};
use sim::sdk::{ActivityContext, ActivityError, LocalBoxFuture, RawActivityFn};
use temporalio_common::data_converters::{
    ActivitySerializationContext, DataConverter, GenericPayloadConverter, SerializationContext,
    SerializationContextData,
};
use temporalio_common::error::{OutgoingActivityError, OutgoingError};
use temporalio_common::ActivityError as OfficialError;
use temporalio_sdk::activities::ExecutableActivity;
use temporalio_sdk::testing::{
    ActivityEnvironment, ActivityEnvironmentError, TestActivityInfoOptions,
};

use crate::convert::{failure_in, payload_in, payload_list_out};

type MakeInstance<I> = Arc<dyn Fn() -> I + Send + Sync>;

fn decode_failure(what: &str, e: impl std::fmt::Display) -> Failure {
    Failure::application(format!("{what}: {e}"), "PayloadConversionError", true)
}

/// Runs official activity `A` for one attempt (on a clone of `instance` when it needs one).
pub(crate) fn official_activity<A>(instance: Option<A::Implementer>) -> RawActivityFn
where
    A: ExecutableActivity + Send + Sync + 'static,
    A::Input: Send,
    A::Output: Send,
    A::Implementer: Clone,
{
    let make: Option<MakeInstance<A::Implementer>> =
        instance.map(|i| Arc::new(move || i.clone()) as MakeInstance<A::Implementer>);
    official_activity_with::<A>(make)
}

/// Like [`official_activity`], for activities that need no instance.
pub(crate) fn official_static_activity<A>() -> RawActivityFn
where
    A: ExecutableActivity + Send + Sync + 'static,
    A::Input: Send,
    A::Output: Send,
{
    official_activity_with::<A>(None)
}

fn official_activity_with<A>(make: Option<MakeInstance<A::Implementer>>) -> RawActivityFn
where
    A: ExecutableActivity + Send + Sync + 'static,
    A::Input: Send,
    A::Output: Send,
{
    Arc::new(move |ctx: ActivityContext, input: Option<Payloads>| {
        let make = make.clone();
        Box::pin(async move {
            let dc = DataConverter::default();
            let pc = dc.payload_converter().clone();
            let data = SerializationContextData::Activity(ActivitySerializationContext::new());
            let sctx = SerializationContext::new(&data, &pc);
            let typed: A::Input = pc
                .from_payloads(&sctx, payload_list_out(input.as_ref()))
                .map_err(|e| decode_failure("activity input", e))?;
            let i = ctx.info();
            let info = TestActivityInfoOptions::builder()
                .task_token(format!("{}/{}/{}", i.run_id, i.activity_id, i.attempt).into_bytes())
                .workflow_type(Some(i.workflow_type.clone()))
                .workflow_id(Some(i.workflow_id.clone()))
                .workflow_run_id(Some(i.run_id.clone()))
                .activity_id(i.activity_id.clone())
                .activity_type(i.activity_type.clone())
                .task_queue(i.task_queue.clone())
                .attempt(u32::try_from(i.attempt.max(1)).unwrap_or(1))
                .build();
            let beats = Arc::new(tokio::sync::Notify::new());
            let on_beat = Arc::clone(&beats);
            let mut builder = ActivityEnvironment::builder_with_default()
                .info(info)
                .on_heartbeat(move |_| on_beat.notify_one());
            if let Some(make) = &make {
                builder = builder.register_activities(make());
            }
            let env = builder.build();
            let run = env.run(A::definition(), typed);
            tokio::pin!(run);
            let result = loop {
                tokio::select! {
                    biased;
                    r = &mut run => break r,
                    _ = beats.notified() => {
                        if ctx.heartbeat(&serde_json::Value::Null).await.is_err() {
                            env.cancel();
                        }
                    }
                }
            };
            match result {
                // The SDK's worker reports an activity's output as one payload (`()` is a
                // `binary/null` payload, not an empty list).
                Ok(out) => {
                    let payload = pc
                        .to_payload(&sctx, &out)
                        .map_err(|e| decode_failure("activity result", e))?;
                    Ok(Some(Payloads::one(payload_in(&payload))))
                }
                Err(ActivityEnvironmentError::Activity(e)) => Err(official_failure(&dc, e)),
                Err(e) => Err(Failure::application(
                    e.to_string(),
                    "ActivityNotRegistered",
                    true,
                )),
            }
        }) as LocalBoxFuture<'static, Result<Option<Payloads>, Failure>>
    })
}

/// The failure the SDK's worker would report for an activity error.
fn official_failure(dc: &DataConverter, e: OfficialError) -> Failure {
    let data = SerializationContextData::Activity(ActivitySerializationContext::new());
    let outgoing = match e {
        OfficialError::Application(app) => OutgoingActivityError::Application(app),
        OfficialError::Cancelled { details } => OutgoingActivityError::Cancelled { details },
        other => {
            return Failure::application(
                format!("Unsupported activity error: {other:?}"),
                "",
                false,
            )
        }
    };
    failure_in(&dc.to_failure(&data, OutgoingError::Activity(outgoing)))
}

/// A simulation double for official activity `A`: a durasim activity (with durasim's
/// [`ActivityContext`], which calls services) that takes `A`'s input and returns `A`'s output.
pub struct ActivityDouble<A: ExecutableActivity> {
    raw: RawActivityFn,
    _activity: PhantomData<fn(A)>,
}

impl<A: ExecutableActivity + 'static> ActivityDouble<A> {
    /// A double running `f` for each attempt.
    pub fn new<F, Fut>(f: F) -> Self
    where
        F: Fn(ActivityContext, A::Input) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<A::Output, ActivityError>> + 'static,
    {
        let f = Arc::new(f);
        let raw: RawActivityFn = Arc::new(move |ctx: ActivityContext, input: Option<Payloads>| {
            let f = Arc::clone(&f);
            Box::pin(async move {
                let dc = DataConverter::default();
                let pc = dc.payload_converter().clone();
                let data = SerializationContextData::Activity(ActivitySerializationContext::new());
                let sctx = SerializationContext::new(&data, &pc);
                let typed: A::Input = pc
                    .from_payloads(&sctx, payload_list_out(input.as_ref()))
                    .map_err(|e| decode_failure("activity input", e))?;
                let out = f(ctx, typed).await.map_err(ActivityError::into_failure)?;
                let payload = pc
                    .to_payload(&sctx, &out)
                    .map_err(|e| decode_failure("activity result", e))?;
                Ok(Some(Payloads::one(payload_in(&payload))))
            }) as LocalBoxFuture<'static, Result<Option<Payloads>, Failure>>
        });
        ActivityDouble {
            raw,
            _activity: PhantomData,
        }
    }

    pub(crate) fn into_raw(self) -> RawActivityFn {
        self.raw
    }
}
