//! The history builder: how events get into a run's history (Temporal's `HistoryBuilder` and
//! mutable state's event-adding side). Appending, buffering while a workflow task runs and
//! flushing when it closes, closing a run, and the history length limit.
//!
//! Invariants, asserted on every append (`assert!`, in release builds too):
//! - event ids start at 1 and are contiguous; `MutableState::next_event_id` follows the history;
//! - the first event, and only the first, is WorkflowExecutionStarted;
//! - nothing is appended to a closed run (its close event is the last event, as in Temporal);
//! - no event is from the future, and an event that happens now is not older than the event
//!   before it. Events written late carry their own, earlier time (`append_late`): an activity's
//!   Started event (written when the activity closes), buffered events, and a transient workflow
//!   task's Scheduled/Started events;
//! - buffered events are flushed only once no workflow task is running, into an open run, and
//!   an activity close buffered as "the Started event just before me" (-1) follows that event.

use std::sync::Arc;

use super::core::{Engine, ReplyHandle};
use super::runs::RunIdx;
use crate::history::{
    ActivityTaskCanceled, ActivityTaskCompleted, ActivityTaskFailed, ActivityTaskTimedOut,
    EventAttributes, EventId, EventType, Extra, HistoryEvent, Timestamp,
    WorkflowExecutionTerminated,
};
use crate::wire::WorkflowStatus;

/// Written into a buffered activity close for "the Started event just before me"; replaced by
/// that event's id when the buffer is flushed.
pub(super) const STARTED_JUST_BEFORE: EventId = -1;

impl<R: ReplyHandle> Engine<R> {
    /// Marks a run as changed in this step, remembering where its new events start.
    pub(super) fn touch(&mut self, run: RunIdx) {
        let len = self.runs[run].exec.history.len();
        self.dirty.entry(run).or_insert(len);
    }

    /// Appends an event that happens now; returns its id.
    pub(super) fn append(
        &mut self,
        run: RunIdx,
        now: Timestamp,
        attributes: EventAttributes,
    ) -> EventId {
        if let Some(last) = self.runs[run].exec.history.last() {
            assert!(
                now >= last.event_time,
                "{}: event time never moves back ({} at {now:?} after event {} at {:?})",
                self.runs[run].key,
                attributes.event_type().name(),
                last.event_id,
                last.event_time
            );
        }
        self.write_event(run, now, attributes)
    }

    /// Appends an event that happened at `time` (before `now`) and is written only now.
    pub(super) fn append_late(
        &mut self,
        run: RunIdx,
        now: Timestamp,
        time: Timestamp,
        attributes: EventAttributes,
    ) -> EventId {
        let history = &self.runs[run].exec.history;
        assert!(
            time <= now && history.first().is_some_and(|e| e.event_time <= time),
            "{}: a late {} at {time:?} happened after the run started and by {now:?}",
            self.runs[run].key,
            attributes.event_type().name()
        );
        self.write_event(run, time, attributes)
    }

    fn write_event(
        &mut self,
        run: RunIdx,
        time: Timestamp,
        attributes: EventAttributes,
    ) -> EventId {
        assert!(time <= self.step_time, "no event from the future");
        self.touch(run);
        let super::runs::Run { key, exec, .. } = &mut self.runs[run];
        let event_id = exec.ms.next_event_id;
        assert_eq!(
            event_id as usize,
            exec.history.len() + 1,
            "{key}: history ids are contiguous"
        );
        assert!(
            exec.ms.is_open(),
            "{key}: nothing is appended to a closed run (got {})",
            attributes.event_type().name()
        );
        assert_eq!(
            event_id == 1,
            attributes.event_type() == EventType::WorkflowExecutionStarted,
            "{key}: a history starts with WorkflowExecutionStarted, and only there"
        );
        exec.ms.next_event_id += 1;
        exec.history.push(HistoryEvent {
            event_id,
            event_time: time,
            task_id: event_id,
            attributes,
            extra: Extra::new(),
        });
        event_id
    }

    /// Appends, or buffers while a workflow task is running (Temporal's buffered events).
    pub(super) fn append_or_buffer(
        &mut self,
        run: RunIdx,
        now: Timestamp,
        attributes: EventAttributes,
    ) {
        self.touch(run);
        let ms = self.ms_mut(run);
        if ms.wft_in_flight() {
            ms.buffered.push((now, attributes));
        } else {
            self.append(run, now, attributes);
        }
    }

    /// Writes the events buffered while the workflow task ran, in arrival order, each with the
    /// time it arrived. Returns whether there were any.
    pub(super) fn flush_buffered(&mut self, run: RunIdx, now: Timestamp) -> bool {
        let ms = self.ms(run);
        assert!(
            ms.is_open() && !ms.wft_in_flight(),
            "{}: the buffer is flushed into an open run, once its workflow task closed",
            self.runs[run].key
        );
        let buffered = std::mem::take(&mut self.ms_mut(run).buffered);
        let any = !buffered.is_empty();
        for (time, attrs) in buffered {
            assert!(
                !matches!(
                    attrs.event_type(),
                    EventType::WorkflowTaskScheduled
                        | EventType::WorkflowTaskStarted
                        | EventType::WorkflowTaskCompleted
                        | EventType::WorkflowTaskFailed
                        | EventType::WorkflowTaskTimedOut
                ) && !attrs.event_type().is_close(),
                "only events from outside the workflow task are buffered"
            );
            // The started id of an activity close is only known now.
            let attrs = self.fix_started_id(run, attrs);
            self.append_late(run, now, time, attrs);
        }
        any
    }

    /// A buffered activity close carries `STARTED_JUST_BEFORE`: it becomes the id of the
    /// ActivityTaskStarted event written just before it.
    fn fix_started_id(&self, run: RunIdx, attrs: EventAttributes) -> EventAttributes {
        let started = |scheduled_event_id: EventId| {
            let last = self.runs[run].exec.history.last();
            let ok = last.is_some_and(|e| match &e.attributes {
                EventAttributes::ActivityTaskStarted(s) => {
                    s.scheduled_event_id == scheduled_event_id
                }
                _ => false,
            });
            assert!(ok, "a buffered activity close follows its Started event");
            self.ms(run).next_event_id - 1
        };
        match attrs {
            EventAttributes::ActivityTaskCompleted(mut a)
                if a.started_event_id == STARTED_JUST_BEFORE =>
            {
                let id = started(a.scheduled_event_id);
                Arc::<ActivityTaskCompleted>::make_mut(&mut a).started_event_id = id;
                EventAttributes::ActivityTaskCompleted(a)
            }
            EventAttributes::ActivityTaskFailed(mut a)
                if a.started_event_id == STARTED_JUST_BEFORE =>
            {
                let id = started(a.scheduled_event_id);
                Arc::<ActivityTaskFailed>::make_mut(&mut a).started_event_id = id;
                EventAttributes::ActivityTaskFailed(a)
            }
            EventAttributes::ActivityTaskTimedOut(mut a)
                if a.started_event_id == STARTED_JUST_BEFORE =>
            {
                let id = started(a.scheduled_event_id);
                Arc::<ActivityTaskTimedOut>::make_mut(&mut a).started_event_id = id;
                EventAttributes::ActivityTaskTimedOut(a)
            }
            EventAttributes::ActivityTaskCanceled(mut a)
                if a.started_event_id == STARTED_JUST_BEFORE =>
            {
                let id = started(a.scheduled_event_id);
                Arc::<ActivityTaskCanceled>::make_mut(&mut a).started_event_id = id;
                EventAttributes::ActivityTaskCanceled(a)
            }
            other => other,
        }
    }

    /// Closes a run with its close event: drops pending work (the history waiters are answered
    /// at the end of the step).
    pub(super) fn close(
        &mut self,
        run: RunIdx,
        now: Timestamp,
        status: WorkflowStatus,
        attrs: EventAttributes,
    ) {
        assert!(
            attrs.event_type().is_close(),
            "a run closes with a close event"
        );
        self.append(run, now, attrs.clone());
        let ms = self.ms_mut(run);
        ms.status = status;
        ms.close_time = Some(now);
        ms.wft = None;
        ms.activities.clear();
        ms.timers.clear();
        ms.buffered.clear();
        let children = std::mem::take(&mut ms.children);
        // The parent hears of it; its own children get their parent close policy
        // (`children.rs`).
        self.after_close(run, now, &attrs, children);
    }

    /// Closes a run with WorkflowExecutionTerminated (a running workflow task is failed first,
    /// `run_timeouts.rs` `force_close_wft`).
    pub(super) fn terminate_run(
        &mut self,
        run: RunIdx,
        now: Timestamp,
        reason: String,
        identity: String,
    ) {
        self.force_close_wft(run, now);
        self.close(
            run,
            now,
            WorkflowStatus::Terminated,
            EventAttributes::WorkflowExecutionTerminated(Arc::new(WorkflowExecutionTerminated {
                reason,
                details: None,
                identity,
                extra: Extra::new(),
            })),
        );
    }

    /// Terminates an open run whose history (with its buffered events) reached the limit.
    pub(super) fn check_history_limit(&mut self, run: RunIdx, now: Timestamp) {
        let exec = &self.runs[run].exec;
        let limit = self.cfg.limits.history_max_events;
        if exec.ms.is_open() && exec.history.len() + exec.ms.buffered.len() >= limit {
            let reason = format!("Workflow history count exceeds limit of {limit} events");
            self.terminate_run(run, now, reason, "history-service".to_string());
        }
    }
}
