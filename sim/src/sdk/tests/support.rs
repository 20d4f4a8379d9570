//! A tiny test-only stand-in for the server: it appends the events a real server would write
//! for the commands a [`WorkflowMachine`] returns, resolves activities with a scripted
//! function, fires timers in order and delivers scripted signals, one workflow task at a time.

use std::sync::Arc;
use std::time::Duration;

use crate::history::{
    ActivityTaskCompleted, ActivityTaskFailed, ActivityTaskScheduled, ActivityTaskStarted, Command,
    EventAttributes, EventId, Failure, History, HistoryEvent, MarkerRecorded, Payloads, RetryState,
    TaskQueue, TimerCanceled, TimerFired, TimerStarted, Timestamp, WorkflowExecutionCanceled,
    WorkflowExecutionCompleted, WorkflowExecutionContinuedAsNew, WorkflowExecutionFailed,
    WorkflowExecutionSignaled, WorkflowExecutionStarted, WorkflowTaskCompleted, WorkflowTaskFailed,
    WorkflowTaskFailedCause, WorkflowTaskScheduled, WorkflowTaskStarted,
};
use crate::sdk::{Registry, WorkflowMachine, WorkflowTaskError};

pub const WORKFLOW_ID: &str = "wf-1";
pub const RUN_ID: &str = "run-1";
const T0: i64 = 1_700_000_000_000_000_000;

/// How the driver keeps the machine between workflow tasks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cache {
    /// One machine for the whole run, fed only new events (a sticky worker).
    Sticky,
    /// A fresh machine replaying the full history before every task (cache evicted).
    EvictEveryTask,
}

/// Something from outside that happens before workflow task `before_task` (1-based).
#[derive(Clone, Debug)]
pub enum External {
    Signal {
        before_task: usize,
        name: String,
        input: serde_json::Value,
    },
    CancelRequest {
        before_task: usize,
    },
    /// The worker's task `task` fails (e.g. it timed out): its commands are not recorded.
    FailTask {
        task: usize,
    },
}

pub type ActivityFn =
    Box<dyn FnMut(&str, i32, Option<&Payloads>) -> Result<Option<Payloads>, Failure>>;

pub struct Run {
    pub history: History,
    /// Commands returned by each workflow task, in order.
    pub tasks: Vec<Vec<Command>>,
    pub error: Option<WorkflowTaskError>,
}

pub fn started_event(workflow_type: &str, input: &impl serde::Serialize) -> HistoryEvent {
    HistoryEvent {
        event_id: 1,
        event_time: Timestamp(T0),
        task_id: 0,
        attributes: EventAttributes::WorkflowExecutionStarted(Arc::new(WorkflowExecutionStarted {
            workflow_type: workflow_type.to_string(),
            workflow_id: WORKFLOW_ID.to_string(),
            task_queue: TaskQueue::normal("q"),
            input: Some(Payloads::json(input).unwrap()),
            original_execution_run_id: RUN_ID.to_string(),
            first_execution_run_id: RUN_ID.to_string(),
            attempt: 1,
            ..Default::default()
        })),
        extra: Default::default(),
    }
}

/// Activities that echo `"<type>:<input>"`.
pub fn echo_activities() -> ActivityFn {
    Box::new(|ty, _attempt, input| {
        let s = input
            .map(|p| String::from_utf8_lossy(&p.0[0].data).to_string())
            .unwrap_or_default();
        Ok(Some(Payloads::json(&format!("{ty}:{s}")).unwrap()))
    })
}

struct Driver {
    events: Vec<HistoryEvent>,
    now: i64,
}

impl Driver {
    fn push(&mut self, attributes: EventAttributes) -> EventId {
        let id = self.events.len() as EventId + 1;
        self.events.push(HistoryEvent {
            event_id: id,
            event_time: Timestamp(self.now),
            task_id: id,
            attributes,
            extra: Default::default(),
        });
        id
    }

    fn schedule_and_start_wft(&mut self) -> EventId {
        let sid = self.push(EventAttributes::WorkflowTaskScheduled(Arc::new(
            WorkflowTaskScheduled {
                task_queue: TaskQueue::normal("q"),
                start_to_close_timeout: Some(Duration::from_secs(10)),
                attempt: 1,
                extra: Default::default(),
            },
        )));
        self.push(EventAttributes::WorkflowTaskStarted(Arc::new(
            WorkflowTaskStarted {
                scheduled_event_id: sid,
                ..Default::default()
            },
        )))
    }
}

/// Runs `workflow_type` to completion (or until nothing can happen) in the driver.
pub fn run(
    registry: &Registry,
    workflow_type: &str,
    input: &impl serde::Serialize,
    mut activities: ActivityFn,
    externals: &[External],
    cache: Cache,
) -> Run {
    let mut d = Driver {
        events: vec![started_event(workflow_type, input)],
        now: T0,
    };
    let mut started_id = d.schedule_and_start_wft();
    let mut machine: Option<WorkflowMachine> = None;
    let mut tasks = Vec::new();
    let mut pending_activities: Vec<(EventId, String, Option<Payloads>)> = Vec::new();
    let mut pending_timers: Vec<(i64, String, EventId)> = Vec::new();
    let mut task_no = 0;
    loop {
        task_no += 1;
        if task_no > 100_000 {
            panic!("driver: too many workflow tasks");
        }
        let result = match cache {
            Cache::Sticky => {
                let m = machine.get_or_insert_with(|| {
                    WorkflowMachine::new(registry, WORKFLOW_ID, RUN_ID, &d.events[0]).unwrap()
                });
                m.activate(&d.events)
            }
            Cache::EvictEveryTask => {
                let mut m =
                    WorkflowMachine::new(registry, WORKFLOW_ID, RUN_ID, &d.events[0]).unwrap();
                m.activate(&d.events)
            }
        };
        let commands = match result {
            Ok(c) => c,
            Err(e) => {
                return Run {
                    history: History::new(d.events),
                    tasks,
                    error: Some(e),
                }
            }
        };
        if externals
            .iter()
            .any(|x| matches!(x, External::FailTask { task } if *task == task_no))
        {
            // The task's commands are lost; the server writes WorkflowTaskFailed and retries.
            d.now += 1_000_000;
            d.push(EventAttributes::WorkflowTaskFailed(Arc::new(
                WorkflowTaskFailed {
                    scheduled_event_id: started_id - 1,
                    started_event_id: started_id,
                    cause: WorkflowTaskFailedCause::WorkflowWorkerUnhandledFailure,
                    failure: None,
                    identity: String::new(),
                    extra: Default::default(),
                },
            )));
            started_id = d.schedule_and_start_wft();
            continue;
        }
        tasks.push(commands.clone());
        d.now += 1_000_000;
        let completed = d.push(EventAttributes::WorkflowTaskCompleted(Arc::new(
            WorkflowTaskCompleted {
                scheduled_event_id: started_id - 1,
                started_event_id: started_id,
                ..Default::default()
            },
        )));
        let mut closed = false;
        for cmd in commands {
            match cmd {
                Command::ScheduleActivityTask(s) => {
                    let id = d.push(EventAttributes::ActivityTaskScheduled(Arc::new(
                        ActivityTaskScheduled {
                            activity_id: s.activity_id,
                            activity_type: s.activity_type.clone(),
                            task_queue: s.task_queue,
                            input: s.input.clone(),
                            schedule_to_close_timeout: s.schedule_to_close_timeout,
                            schedule_to_start_timeout: s.schedule_to_start_timeout,
                            start_to_close_timeout: s.start_to_close_timeout,
                            heartbeat_timeout: s.heartbeat_timeout,
                            workflow_task_completed_event_id: completed,
                            retry_policy: s.retry_policy,
                            extra: Default::default(),
                        },
                    )));
                    pending_activities.push((id, s.activity_type, s.input));
                }
                Command::RequestCancelActivityTask { scheduled_event_id } => {
                    d.push(EventAttributes::ActivityTaskCancelRequested(Arc::new(
                        crate::history::ActivityTaskCancelRequested {
                            scheduled_event_id,
                            workflow_task_completed_event_id: completed,
                            extra: Default::default(),
                        },
                    )));
                    pending_activities.retain(|a| a.0 != scheduled_event_id);
                }
                Command::StartTimer {
                    timer_id,
                    start_to_fire_timeout,
                } => {
                    let id = d.push(EventAttributes::TimerStarted(Arc::new(TimerStarted {
                        timer_id: timer_id.clone(),
                        start_to_fire_timeout: Some(start_to_fire_timeout),
                        workflow_task_completed_event_id: completed,
                        extra: Default::default(),
                    })));
                    let fire_at = d.now + start_to_fire_timeout.as_nanos() as i64;
                    pending_timers.push((fire_at, timer_id, id));
                }
                Command::CancelTimer { timer_id } => {
                    let started = pending_timers
                        .iter()
                        .find(|t| t.1 == timer_id)
                        .map_or(0, |t| t.2);
                    d.push(EventAttributes::TimerCanceled(Arc::new(TimerCanceled {
                        timer_id: timer_id.clone(),
                        started_event_id: started,
                        workflow_task_completed_event_id: completed,
                        ..Default::default()
                    })));
                    pending_timers.retain(|t| t.1 != timer_id);
                }
                Command::RecordMarker {
                    marker_name,
                    details,
                    failure,
                } => {
                    d.push(EventAttributes::MarkerRecorded(Arc::new(MarkerRecorded {
                        marker_name,
                        details,
                        workflow_task_completed_event_id: completed,
                        failure,
                        extra: Default::default(),
                    })));
                }
                Command::CompleteWorkflowExecution { result } => {
                    d.push(EventAttributes::WorkflowExecutionCompleted(Arc::new(
                        WorkflowExecutionCompleted {
                            result,
                            workflow_task_completed_event_id: completed,
                            ..Default::default()
                        },
                    )));
                    closed = true;
                }
                Command::FailWorkflowExecution { failure } => {
                    d.push(EventAttributes::WorkflowExecutionFailed(Arc::new(
                        WorkflowExecutionFailed {
                            failure: Some(failure),
                            retry_state: RetryState::RetryPolicyNotSet,
                            workflow_task_completed_event_id: completed,
                            new_execution_run_id: None,
                            extra: Default::default(),
                        },
                    )));
                    closed = true;
                }
                Command::CancelWorkflowExecution { details } => {
                    d.push(EventAttributes::WorkflowExecutionCanceled(Arc::new(
                        WorkflowExecutionCanceled {
                            workflow_task_completed_event_id: completed,
                            details,
                            extra: Default::default(),
                        },
                    )));
                    closed = true;
                }
                Command::ContinueAsNewWorkflowExecution(c) => {
                    d.push(EventAttributes::WorkflowExecutionContinuedAsNew(Arc::new(
                        WorkflowExecutionContinuedAsNew {
                            new_execution_run_id: "run-2".to_string(),
                            workflow_type: c.workflow_type,
                            task_queue: c.task_queue,
                            input: c.input,
                            workflow_task_completed_event_id: completed,
                            ..Default::default()
                        },
                    )));
                    closed = true;
                }
                Command::UpsertWorkflowSearchAttributes { search_attributes } => {
                    d.push(EventAttributes::UpsertWorkflowSearchAttributes(Arc::new(
                        crate::history::UpsertWorkflowSearchAttributes {
                            workflow_task_completed_event_id: completed,
                            search_attributes: Some(search_attributes),
                            extra: Default::default(),
                        },
                    )));
                }
                Command::ModifyWorkflowProperties { upserted_memo } => {
                    d.push(EventAttributes::WorkflowPropertiesModified(Arc::new(
                        crate::history::WorkflowPropertiesModified {
                            workflow_task_completed_event_id: completed,
                            upserted_memo: Some(upserted_memo),
                            extra: Default::default(),
                        },
                    )));
                }
                other => panic!(
                    "the scripted server does not model {} (test it against the engine)",
                    other.name()
                ),
            }
        }
        if closed {
            break;
        }
        // What happens before the next task: scripted externals, then one activity result or
        // the earliest timer.
        let next_task = task_no + 1;
        let mut happened = false;
        for x in externals {
            match x {
                External::Signal {
                    before_task,
                    name,
                    input,
                } if *before_task == next_task => {
                    d.push(EventAttributes::WorkflowExecutionSignaled(Arc::new(
                        WorkflowExecutionSignaled {
                            signal_name: name.clone(),
                            input: Some(Payloads::json(input).unwrap()),
                            ..Default::default()
                        },
                    )));
                    happened = true;
                }
                External::CancelRequest { before_task } if *before_task == next_task => {
                    d.push(EventAttributes::WorkflowExecutionCancelRequested(
                        Arc::default(),
                    ));
                    happened = true;
                }
                _ => {}
            }
        }
        if !happened {
            if !pending_activities.is_empty() {
                let (sid, ty, input) = pending_activities.remove(0);
                d.now += 10_000_000;
                let started = d.push(EventAttributes::ActivityTaskStarted(Arc::new(
                    ActivityTaskStarted {
                        scheduled_event_id: sid,
                        attempt: 1,
                        ..Default::default()
                    },
                )));
                match activities(&ty, 1, input.as_ref()) {
                    Ok(result) => {
                        d.push(EventAttributes::ActivityTaskCompleted(Arc::new(
                            ActivityTaskCompleted {
                                result,
                                scheduled_event_id: sid,
                                started_event_id: started,
                                ..Default::default()
                            },
                        )));
                    }
                    Err(failure) => {
                        d.push(EventAttributes::ActivityTaskFailed(Arc::new(
                            ActivityTaskFailed {
                                failure: Some(failure),
                                scheduled_event_id: sid,
                                started_event_id: started,
                                identity: String::new(),
                                retry_state: RetryState::NonRetryableFailure,
                                extra: Default::default(),
                            },
                        )));
                    }
                }
            } else if !pending_timers.is_empty() {
                pending_timers.sort_by_key(|t| (t.0, t.2));
                let (at, timer_id, started) = pending_timers.remove(0);
                d.now = d.now.max(at);
                d.push(EventAttributes::TimerFired(Arc::new(TimerFired {
                    timer_id,
                    started_event_id: started,
                    extra: Default::default(),
                })));
            } else {
                break; // nothing can happen: the run stays open
            }
        }
        d.now += 1_000_000;
        started_id = d.schedule_and_start_wft();
    }
    Run {
        history: History::new(d.events),
        tasks,
        error: None,
    }
}
