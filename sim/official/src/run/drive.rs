//! Driving the SDK's code: an activation's jobs applied to the `WorkflowInstance`, its routines
//! (main, signal and update handlers) polled until none makes progress, wakes from outside the
//! SDK refused (the official worker's `detect_nondeterministic_futures`), a panic turned into a
//! workflow task failure.

use super::*;

impl OfficialRun {
    /// Fails the task when workflow code was woken by something outside the SDK (what the
    /// official worker does with `detect_nondeterministic_futures`, its default).
    pub(super) fn check_wakes(&self) -> Result<(), WorkflowTaskError> {
        if !self.foreign_wake.swap(false, Ordering::AcqRel) {
            return Ok(());
        }
        Err(WorkflowTaskError::NonDeterminism(NonDeterminismError {
            kind: NonDeterminismKind::Future,
            event_id: self.current_task,
            history: "a workflow task".to_string(),
            code: "a waker invoked by a non-SDK source".to_string(),
            message: "Nondeterministic future detected: a waker was invoked by a non-SDK source. \
                      This usually means workflow code is using nondeterministic operations like \
                      tokio async functions or channels, other async libraries, or std::thread. \
                      Use SDK-provided alternatives (ctx.timer(), ctx.state_mut() + \
                      ctx.wait_condition(), etc.) instead."
                .to_string(),
        }))
    }

    /// Applies one activation and polls the routines until none makes progress.
    pub(super) fn activate(
        &mut self,
        activation: WorkflowActivation,
    ) -> Result<(), WorkflowTaskError> {
        self.check_wakes()?;
        let Some(instance) = self.instance.as_mut() else {
            return Ok(());
        };
        let waker = &self.waker;
        // The update each job is for (the SDK's rejection does not say).
        let update_of: Vec<Option<String>> = activation
            .jobs
            .iter()
            .map(|j| match &j.variant {
                Some(Job::DoUpdate(u)) => Some(u.protocol_instance_id.clone()),
                _ => None,
            })
            .collect();
        let results = match catch_unwind(AssertUnwindSafe(|| instance.activate(activation, waker)))
        {
            Ok(Ok(r)) => r,
            Ok(Err(f)) => return Err(WorkflowTaskError::Panic(f.message.clone())),
            Err(p) => return Err(WorkflowTaskError::Panic(panic_message(p.as_ref()))),
        };
        if results.job_results.len() != update_of.len() {
            return Err(WorkflowTaskError::BadInput(format!(
                "the SDK gave {} job results for {} jobs",
                results.job_results.len(),
                update_of.len()
            )));
        }
        for (r, update) in results.job_results.into_iter().zip(update_of) {
            if let Some(id) = update {
                self.update_job_result(id, r)?;
                continue;
            }
            match r {
                ActivationJobResult::None => {}
                ActivationJobResult::StartedRoutine(s) => match s.kind {
                    RoutineKind::Signal(_) => self.routines.push(s.routine_id),
                    other => {
                        return Err(WorkflowTaskError::BadInput(format!(
                            "a job that is no update started routine {other:?}"
                        )))
                    }
                },
                other => {
                    return Err(WorkflowTaskError::BadInput(format!(
                        "a job that is no update or query gave {other:?}"
                    )))
                }
            }
        }
        self.drive()
    }

    pub(super) fn poll(
        &mut self,
        routine: RoutineId,
    ) -> Result<(Option<RoutineCompletion>, bool), WorkflowTaskError> {
        let Some(instance) = self.instance.as_mut() else {
            return Ok((None, false));
        };
        let waker = &self.waker;
        let polled = catch_unwind(AssertUnwindSafe(|| instance.poll_routine(routine, waker)));
        self.check_wakes()?;
        match polled {
            Ok(Ok(r)) => Ok((r.completion, r.made_progress)),
            Ok(Err(f)) => Err(WorkflowTaskError::Panic(f.message.clone())),
            Err(p) => Err(WorkflowTaskError::Panic(panic_message(p.as_ref()))),
        }
    }

    /// Polls signal routines, then the main routine, until a pass makes no progress (what the
    /// SDK's native host does).
    pub(super) fn drive(&mut self) -> Result<(), WorkflowTaskError> {
        for _ in 0..MAX_PASSES {
            let mut progress = false;
            let mut still = Vec::with_capacity(self.routines.len());
            for id in std::mem::take(&mut self.routines) {
                let (done, p) = self.poll(id)?;
                progress |= p;
                match done {
                    None => still.push(id),
                    Some(RoutineCompletion::Signal(Ok(()))) => {}
                    Some(RoutineCompletion::Signal(Err(f))) => {
                        return Err(WorkflowTaskError::Panic(format!(
                            "signal handler failed: {}",
                            f.message
                        )))
                    }
                    Some(RoutineCompletion::Update(u)) => self.update_routine_done(u),
                    Some(other) => {
                        return Err(WorkflowTaskError::Unsupported(format!(
                            "routine completion {other:?}"
                        )))
                    }
                }
            }
            self.routines = still;
            let (done, p) = self.poll(MAIN_ROUTINE_ID)?;
            progress |= p;
            match done {
                Some(RoutineCompletion::Main(MainRoutineCompletion::Blocked)) | None => {}
                Some(RoutineCompletion::Main(MainRoutineCompletion::TaskFailed(t))) => {
                    return Err(WorkflowTaskError::Panic(t.failure.message.clone()));
                }
                Some(RoutineCompletion::Main(MainRoutineCompletion::Terminal(t))) => {
                    let cmd = match *t {
                        TerminalOutcome::Completed(p) => Cmd::CompleteWorkflowExecution(
                            temporalio_common::protos::coresdk::workflow_commands::CompleteWorkflowExecution {
                                result: Some(p),
                            },
                        ),
                        TerminalOutcome::Failed(f) => Cmd::FailWorkflowExecution(
                            temporalio_common::protos::coresdk::workflow_commands::FailWorkflowExecution {
                                failure: Some(*f),
                            },
                        ),
                        TerminalOutcome::Cancelled(details) => Cmd::CancelWorkflowExecution(
                            temporalio_common::protos::coresdk::workflow_commands::CancelWorkflowExecution {
                                details,
                            },
                        ),
                        TerminalOutcome::ContinueAsNew(c) => {
                            Cmd::ContinueAsNewWorkflowExecution(*c)
                        }
                    };
                    self.sink.push_command(WorkflowCommand {
                        variant: Some(cmd),
                        ..Default::default()
                    });
                    self.finished = self.instance.take();
                    self.routines.clear();
                    return Ok(());
                }
                Some(other) => {
                    return Err(WorkflowTaskError::Panic(format!(
                        "main routine returned {other:?}"
                    )))
                }
            }
            if !progress {
                return Ok(());
            }
        }
        Err(WorkflowTaskError::Panic(format!(
            "workflow task did not settle after {MAX_PASSES} polling passes"
        )))
    }
}
