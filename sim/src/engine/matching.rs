//! Matching: Temporal's matching service. Task queues of ready workflow and activity tasks, long
//! polls parked until a task arrives or their wait runs out, and dispatch, where a poll meets a
//! task and the task is started (`start_wft` in `workflow_task.rs`, `start_activity` in
//! `activities.rs`).
//!
//! Invariants:
//! - a queue holds only tasks ready now (a task in retry backoff waits on a deadline instead);
//!   queues are an index derived from mutable state (`Engine::reindex`), never durable;
//! - parked polls are not durable either: a restart forgets them and workers poll again;
//! - a poll is answered once: with a task, or empty at its deadline (its wait, capped at
//!   `EngineConfig::max_long_poll`);
//! - a queue hands out its oldest task first (readiness, then run, then task), to the poll that
//!   has waited longest.

use std::collections::VecDeque;

use super::core::{Engine, ReplyHandle, Step};
use super::runs::RunIdx;
use crate::history::{EventId, Timestamp};
use crate::wire::{PollTaskQueue, Response};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum TaskKind {
    Workflow,
    /// An activity task, by its scheduled event id.
    Activity(EventId),
}

impl TaskKind {
    pub(super) fn poll_kind(self) -> PollKind {
        match self {
            TaskKind::Workflow => PollKind::Workflow,
            TaskKind::Activity(_) => PollKind::Activity,
        }
    }
}

/// Which tasks a queue (and a poll of it) holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum PollKind {
    Workflow,
    Activity,
}

/// A ready task in a task queue. Ordered by readiness, then run, then task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct QueueEntry {
    pub(super) ready: Timestamp,
    pub(super) run: RunIdx,
    pub(super) kind: TaskKind,
}

/// A long poll waiting for a task.
#[derive(Clone, Debug)]
pub(super) struct ParkedPoll<R> {
    reply: R,
    received: Timestamp,
    identity: String,
    kind: PollKind,
    deadline: Timestamp,
}

impl<R: ReplyHandle> Engine<R> {
    /// PollWorkflowTaskQueue / PollActivityTaskQueue: a ready task now, or the poll parks.
    pub(super) fn poll(
        &mut self,
        now: Timestamp,
        from: R,
        req: PollTaskQueue,
        kind: PollKind,
    ) -> Option<Response> {
        if kind == PollKind::Workflow {
            if let Some(task) = self.take_query_task(&req.task_queue) {
                return Some(task);
            }
        }
        let queue = (kind, req.task_queue);
        if let Some(resp) = self.dispatch(now, &queue, &req.identity) {
            return Some(resp);
        }
        self.pollers
            .entry(queue)
            .or_default()
            .push_back(ParkedPoll {
                reply: from,
                received: now,
                identity: req.identity,
                kind,
                deadline: now.plus(req.wait.min(self.cfg.max_long_poll)),
            });
        None
    }

    /// Whether a poll of `queue` is parked.
    pub(super) fn has_parked_poll(&self, queue: &(PollKind, String)) -> bool {
        self.pollers.get(queue).is_some_and(|p| !p.is_empty())
    }

    /// Takes the poll of `queue` that has waited longest (for a task handed out by another
    /// route than the queue's ready tasks: a query).
    pub(super) fn pop_parked_poll(&mut self, queue: &(PollKind, String)) -> Option<R> {
        let polls = self.pollers.get_mut(queue)?;
        let p = polls.pop_front()?;
        if polls.is_empty() {
            self.pollers.remove(queue);
        }
        Some(p.reply)
    }

    /// Takes the first ready task of `queue` and starts it.
    fn dispatch(
        &mut self,
        now: Timestamp,
        queue: &(PollKind, String),
        identity: &str,
    ) -> Option<Response> {
        let entry = *self.queues.get(queue)?.first()?;
        let resp = match entry.kind {
            TaskKind::Workflow => self.start_wft(now, entry.run, identity),
            TaskKind::Activity(id) => self.start_activity(now, entry.run, id, identity),
        };
        self.reindex(entry.run, now);
        Some(resp)
    }

    /// Hands ready tasks to parked polls (at the end of every step).
    pub(super) fn match_pollers(&mut self, now: Timestamp, step: &mut Step<R>) {
        // Only queues with both a parked poller and a ready task can match.
        let keys: Vec<(PollKind, String)> = self
            .pollers
            .keys()
            .filter(|k| self.queues.contains_key(*k))
            .cloned()
            .collect();
        for key in keys {
            while let Some(identity) = self
                .pollers
                .get(&key)
                .and_then(|p| p.front())
                .map(|p| p.identity.clone())
            {
                let Some(resp) = self.dispatch(now, &key, &identity) else {
                    break;
                };
                let poller = self
                    .pollers
                    .get_mut(&key)
                    .and_then(VecDeque::pop_front)
                    .expect("poller");
                step.replies.push((poller.reply, resp));
            }
        }
        self.pollers.retain(|_, p| !p.is_empty());
    }

    /// Answers every parked poll whose wait ran out with an empty task.
    pub(super) fn expire_polls(&mut self, now: Timestamp, step: &mut Step<R>) {
        for q in self.pollers.values_mut() {
            q.retain(|p| {
                if p.deadline <= now {
                    let empty = match p.kind {
                        PollKind::Workflow => Response::WorkflowTask(None),
                        PollKind::Activity => Response::ActivityTask(None),
                    };
                    step.replies.push((p.reply, empty));
                    false
                } else {
                    true
                }
            });
        }
    }

    /// The earliest deadline of a parked poll.
    pub(super) fn next_poll_deadline(&self) -> Option<Timestamp> {
        self.pollers
            .values()
            .flat_map(|q| q.iter().map(|p| p.deadline))
            .min()
    }

    /// Forgets parked polls that a node sent before it died at `killed_at` (its connections
    /// closed with it); `sent_by_dead` tells, from a reply handle, whether that node sent it.
    pub fn drop_polls_from(&mut self, sent_by_dead: impl Fn(&R) -> bool, killed_at: Timestamp) {
        for q in self.pollers.values_mut() {
            q.retain(|p| !(sent_by_dead(&p.reply) && p.received <= killed_at));
        }
        self.pollers.retain(|_, p| !p.is_empty());
        for w in self.history_waiters.values_mut() {
            w.retain(|(r, _)| !sent_by_dead(r));
        }
        self.history_waiters.retain(|_, w| !w.is_empty());
    }
}
