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
//! Heartbeat details travel both ways: the last details the server recorded are handed to the
//! next attempt (`ctx.heartbeat_details()`), and the details an attempt records are sent with its
//! heartbeat. The SDK's test context hands the host a type-erased value, so it is encoded by
//! type: the common ones (numbers, `bool`, `String`, `()`, `Vec<u8>`, `serde_json::Value`) are
//! known, others are declared with [`OfficialSdk::heartbeat_details`](crate::OfficialSdk::heartbeat_details);
//! a heartbeat whose details are of an undeclared type is still sent, without details.

// Activity results are `Result<_, Failure>` by contract with the worker (as in `sim::sdk`).
#![allow(clippy::result_large_err)]

use std::any::Any;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex, RwLock};

use sim::history::{Failure, Payloads};
use sim::sdk::{ActivityContext, ActivityError, LocalBoxFuture, RawActivityFn};
use temporalio_common::data_converters::{
    ActivitySerializationContext, DataConverter, GenericPayloadConverter, PayloadConversionError,
    PayloadConverter, SerializationContext, SerializationContextData, TemporalDeserializable,
    TemporalSerializable,
};
use temporalio_common::error::{OutgoingActivityError, OutgoingError};
use temporalio_common::protos::temporal::api::common::v1::Payload as ProtoPayload;
use temporalio_common::ActivityError as OfficialError;
use temporalio_sdk::activities::ExecutableActivity;
use temporalio_sdk::testing::{
    ActivityEnvironment, ActivityEnvironmentError, TestActivityInfoOptions,
};

use crate::convert::{failure_in, payload_in, payload_list_in, payload_list_out};

type MakeInstance<I> = Arc<dyn Fn() -> I + Send + Sync>;

/// Encodes heartbeat details of one type (`None` when the value is of another type).
pub(crate) type DetailEncoder =
    Arc<dyn Fn(&dyn Any, &PayloadConverter) -> Option<Vec<ProtoPayload>> + Send + Sync>;

/// The heartbeat detail types an [`crate::OfficialSdk`] knows, shared by its activities.
pub(crate) type DetailEncoders = Arc<RwLock<Vec<DetailEncoder>>>;

/// An encoder for heartbeat details of type `T`.
pub(crate) fn detail_encoder<T: TemporalSerializable + 'static>() -> DetailEncoder {
    Arc::new(|v: &dyn Any, pc: &PayloadConverter| {
        let v = v.downcast_ref::<T>()?;
        let data = SerializationContextData::Activity(ActivitySerializationContext::new());
        let sctx = SerializationContext::new(&data, pc);
        pc.to_payloads(&sctx, v).ok()
    })
}

/// Encoders for the detail types activities usually heartbeat with.
pub(crate) fn builtin_encoders() -> Vec<DetailEncoder> {
    vec![
        detail_encoder::<u8>(),
        detail_encoder::<u16>(),
        detail_encoder::<u32>(),
        detail_encoder::<u64>(),
        detail_encoder::<usize>(),
        detail_encoder::<i8>(),
        detail_encoder::<i16>(),
        detail_encoder::<i32>(),
        detail_encoder::<i64>(),
        detail_encoder::<isize>(),
        detail_encoder::<f32>(),
        detail_encoder::<f64>(),
        detail_encoder::<bool>(),
        detail_encoder::<String>(),
        detail_encoder::<&'static str>(),
        detail_encoder::<()>(),
        detail_encoder::<Vec<u8>>(),
        detail_encoder::<serde_json::Value>(),
    ]
}

/// Payloads passed through the SDK's converter unchanged (the details the server recorded,
/// handed to the next attempt).
struct RawPayloads(Vec<ProtoPayload>);

impl TemporalSerializable for RawPayloads {
    fn to_payloads(
        &self,
        _: &SerializationContext<'_>,
    ) -> Result<Vec<ProtoPayload>, PayloadConversionError> {
        Ok(self.0.clone())
    }
}

fn decode_failure(what: &str, e: impl std::fmt::Display) -> Failure {
    Failure::application(format!("{what}: {e}"), "PayloadConversionError", true)
}

/// An activity's input, decoded as the SDK's default converter decodes it.
fn decode_input<T: TemporalDeserializable + 'static>(
    pc: &PayloadConverter,
    input: Option<&Payloads>,
) -> Result<T, Failure> {
    let data = SerializationContextData::Activity(ActivitySerializationContext::new());
    let sctx = SerializationContext::new(&data, pc);
    pc.from_payloads(&sctx, payload_list_out(input))
        .map_err(|e| decode_failure("activity input", e))
}

/// An activity's output as the SDK's worker reports it: one payload (`()` is a `binary/null`
/// payload, not an empty list).
fn encode_output<T: TemporalSerializable + 'static>(
    pc: &PayloadConverter,
    out: &T,
) -> Result<Option<Payloads>, Failure> {
    let data = SerializationContextData::Activity(ActivitySerializationContext::new());
    let sctx = SerializationContext::new(&data, pc);
    let payload = pc
        .to_payload(&sctx, out)
        .map_err(|e| decode_failure("activity result", e))?;
    Ok(Some(Payloads::one(payload_in(&payload))))
}

/// Runs official activity `A` for one attempt (on a clone of `instance` when it needs one).
pub(crate) fn official_activity<A>(
    instance: Option<A::Implementer>,
    encoders: DetailEncoders,
) -> RawActivityFn
where
    A: ExecutableActivity + Send + Sync + 'static,
    A::Input: Send,
    A::Output: Send,
    A::Implementer: Clone,
{
    let make: Option<MakeInstance<A::Implementer>> =
        instance.map(|i| Arc::new(move || i.clone()) as MakeInstance<A::Implementer>);
    official_activity_with::<A>(make, encoders)
}

/// Like [`official_activity`], for activities that need no instance.
pub(crate) fn official_static_activity<A>(encoders: DetailEncoders) -> RawActivityFn
where
    A: ExecutableActivity + Send + Sync + 'static,
    A::Input: Send,
    A::Output: Send,
{
    official_activity_with::<A>(None, encoders)
}

fn official_activity_with<A>(
    make: Option<MakeInstance<A::Implementer>>,
    encoders: DetailEncoders,
) -> RawActivityFn
where
    A: ExecutableActivity + Send + Sync + 'static,
    A::Input: Send,
    A::Output: Send,
{
    Arc::new(move |ctx: ActivityContext, input: Option<Payloads>| {
        let make = make.clone();
        let encoders = Arc::clone(&encoders);
        Box::pin(async move {
            let dc = DataConverter::default();
            let pc = dc.payload_converter().clone();
            let typed: A::Input = decode_input(&pc, input.as_ref())?;
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
            let latest: Arc<Mutex<Option<Vec<ProtoPayload>>>> = Arc::new(Mutex::new(None));
            let (on_beat, on_latest, beat_pc) =
                (Arc::clone(&beats), Arc::clone(&latest), pc.clone());
            let mut builder = ActivityEnvironment::builder_with_default()
                .info(info)
                .on_heartbeat(move |details: Box<dyn Any>| {
                    let known = encoders.read().unwrap_or_else(|e| e.into_inner());
                    let encoded = known.iter().find_map(|e| e(details.as_ref(), &beat_pc));
                    *on_latest.lock().unwrap_or_else(|e| e.into_inner()) = encoded;
                    on_beat.notify_one();
                });
            if let Some(make) = &make {
                builder = builder.register_activities(make());
            }
            if let Some(previous) = &i.heartbeat_details {
                builder = builder
                    .heartbeat_details(RawPayloads(payload_list_out(Some(previous))))
                    .map_err(|e| decode_failure("heartbeat details", e))?;
            }
            let env = builder.build();
            let run = env.run(A::definition(), typed);
            tokio::pin!(run);
            let result = loop {
                tokio::select! {
                    biased;
                    r = &mut run => break r,
                    _ = beats.notified() => {
                        let details = latest.lock().unwrap_or_else(|e| e.into_inner()).take();
                        let details = details.and_then(|d| payload_list_in(&d));
                        if ctx.heartbeat_payloads(details).await.is_err() {
                            env.cancel();
                        }
                    }
                }
            };
            match result {
                Ok(out) => encode_output(&pc, &out),
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
                let pc = PayloadConverter::default();
                let typed: A::Input = decode_input(&pc, input.as_ref())?;
                let out = f(ctx, typed).await.map_err(ActivityError::into_failure)?;
                encode_output(&pc, &out)
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
