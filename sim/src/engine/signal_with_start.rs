//! Signal-with-start: Temporal's SignalWithStartWorkflowExecution. If the workflow id has an
//! open run, the signal goes to it (as SignalWorkflowExecution would); otherwise a run starts
//! (the start's id reuse policy decides, as for a plain start) and its history begins
//! WorkflowExecutionStarted, WorkflowExecutionSignaled, WorkflowTaskScheduled, so the
//! workflow's first task already sees the signal.
//!
//! Invariants:
//! - the request is idempotent by the start's request id: a retry finds either the run it
//!   started (its `start_request_id`) or the signal among the open run's applied signal
//!   request ids, and is answered with the same run, changing nothing;
//! - the signal's payload is checked before a run is created: a refused request creates no run;
//! - the answer names the run that got the signal.

use super::core::{error, Engine, ReplyHandle};
use crate::history::{Payloads, Timestamp};
use crate::wire::{Response, ServerError, Signal, SignalWithStart};

impl<R: ReplyHandle> Engine<R> {
    /// SignalWithStartWorkflowExecution.
    pub(super) fn signal_with_start(&mut self, now: Timestamp, r: SignalWithStart) -> Response {
        let SignalWithStart {
            start,
            signal_name,
            signal_input,
        } = r;
        if signal_name.is_empty() {
            return error(ServerError::InvalidArgument(
                "signal-with-start needs a signal name".into(),
            ));
        }
        let limit = self.cfg.limits.payload_error_bytes;
        if let Some(size) = signal_input.as_ref().map(Payloads::size_bytes) {
            if size > limit {
                return error(ServerError::InvalidArgument(format!(
                    "signal input of {size} bytes exceeds the {limit} byte limit"
                )));
            }
        }
        let signal = |run_id: String, start: &crate::wire::StartWorkflow| Signal {
            workflow_id: start.workflow_id.clone(),
            run_id: Some(run_id),
            signal_name: signal_name.clone(),
            input: signal_input.clone(),
            identity: start.identity.clone(),
            request_id: start.request_id.clone(),
        };
        let open = self
            .resolve(&start.workflow_id, None)
            .filter(|&run| self.ms(run).is_open());
        let run_id = match open {
            // Signal the open run (a retry is recognised by its request id, in `signal`).
            Some(run) if self.ms(run).start_request_id != start.request_id => {
                let run_id = self.runs[run].key.run_id.clone();
                match self.signal(now, signal(run_id.clone(), &start)) {
                    Response::Ok => run_id,
                    refused => return refused,
                }
            }
            // Started by this very request (a retry): nothing more to do.
            Some(run) => self.runs[run].key.run_id.clone(),
            None => {
                if let Err(answer) = self.admit_start(&start) {
                    return answer;
                }
                let run = self.start_run(now, start.clone());
                let run_id = self.runs[run].key.run_id.clone();
                // The run is new and has no task: the signal is written at once, and schedules
                // the first workflow task after it.
                match self.signal(now, signal(run_id.clone(), &start)) {
                    Response::Ok => {}
                    other => unreachable!("a new run takes its first signal: {other:?}"),
                }
                run_id
            }
        };
        Response::Started { run_id }
    }
}
