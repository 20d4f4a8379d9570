//! Time: Temporal's timer queue. Durable timers (TimerFired), and the deadline index that
//! `Engine::tick` drains: every run's earliest deadline, whatever it is for (a workflow task
//! timeout, an activity timeout or retry backoff, a timer). When a run's deadline is due,
//! `on_time` does all that is due for it, in a fixed order, and the run is reindexed.
//!
//! Invariants:
//! - a run has at most one entry in the deadline index (`Indexed::deadline`), derived from its
//!   mutable state; timers themselves are durable (`MutableState::timers`), the index is not;
//! - a timer fires exactly at its deadline, never before, and at most once; a canceled timer
//!   never fires;
//! - due work of one run is done in a fixed order: workflow task timeouts, then activity
//!   timeouts (by scheduled id), then timers (by timer id).

use std::sync::Arc;

use super::core::{Engine, ReplyHandle};
use super::runs::RunIdx;
use super::state::TimerState;
use crate::history::{EventAttributes, Extra, TimerFired, Timestamp};

impl<R: ReplyHandle> Engine<R> {
    /// Does everything due by `now`, run by run in deadline order.
    pub(super) fn fire_deadlines(&mut self, now: Timestamp) {
        while let Some(&(t, run)) = self.deadlines.first() {
            if t > now {
                break;
            }
            self.deadlines.remove(&(t, run));
            self.runs[run].indexed.deadline = None;
            self.on_time(run, now);
            self.reindex(run, now);
        }
    }

    /// What is due for one run at `now`.
    fn on_time(&mut self, run: RunIdx, now: Timestamp) {
        if !self.ms(run).is_open() {
            return;
        }
        self.touch(run);
        if self.workflow_timeouts(run, now) {
            return;
        }
        self.workflow_task_timeouts(run, now);
        self.activity_timeouts(run, now);
        self.fire_timers(run, now);
    }

    /// Fires the run's due timers, in timer-id order: TimerFired (buffered while a workflow
    /// task runs), then a workflow task for it.
    fn fire_timers(&mut self, run: RunIdx, now: Timestamp) {
        let due: Vec<(String, TimerState)> = self.runs[run]
            .exec
            .ms
            .timers
            .iter()
            .filter(|(_, t)| t.fire_at <= now)
            .map(|(id, t)| (id.clone(), t.clone()))
            .collect();
        for (timer_id, t) in due {
            self.ms_mut(run).timers.remove(&timer_id);
            self.append_or_buffer(
                run,
                now,
                EventAttributes::TimerFired(Arc::new(TimerFired {
                    timer_id,
                    started_event_id: t.started_event_id,
                    extra: Extra::new(),
                })),
            );
            self.schedule_wft(run, now, 1, now);
        }
    }
}
