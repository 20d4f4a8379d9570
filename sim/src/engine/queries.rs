//! Queries (QueryWorkflow), as Temporal's legacy query tasks: the server hands a worker polling
//! the run's task queue a query task holding the run's whole history; the worker replays it,
//! calls the workflow's query handler and answers (RespondQueryTaskCompleted); the server passes
//! the answer to the waiting client. Nothing is written.
//!
//! Invariants:
//! - a query of an open run waits while a workflow task is pending, so it sees the state after
//!   the last completed task (Temporal's consistent query); a closed run is queried at once;
//! - queries live in memory only: a restart forgets them and their clients time out and ask
//!   again; a query nobody answers in time is answered with `DeadlineExceeded`;
//! - a query task writes nothing, so it is the one task handed out without a store write.

use super::core::{not_found, Engine, ReplyHandle, Step};
use super::matching::PollKind;
use super::runs::RunIdx;
use crate::history::{Payloads, Timestamp};
use crate::wire::{
    AnswerQuery, Query, Response, ServerError, TaskToken, WorkflowQuery, WorkflowTask,
};

/// A query waiting for a worker's answer.
#[derive(Clone, Debug)]
pub(super) struct PendingQuery<R> {
    run: RunIdx,
    query_type: String,
    args: Option<Payloads>,
    reply: R,
    deadline: Timestamp,
    /// Handed to a worker (its answer is awaited).
    dispatched: bool,
}

impl<R: ReplyHandle> Engine<R> {
    /// QueryWorkflow: the query waits for a worker (answered by `answer_query`, or with an
    /// error at its deadline).
    pub(super) fn query(&mut self, now: Timestamp, from: R, q: Query) -> Option<Response> {
        let Some(run) = self.resolve(&q.workflow_id, q.run_id.as_deref()) else {
            return Some(not_found(format!("workflow {}", q.workflow_id)));
        };
        let id = self.next_query_id;
        self.next_query_id += 1;
        let deadline = now.plus(q.wait.min(self.cfg.max_long_poll));
        self.query_deadlines.insert((deadline, id));
        self.queries.insert(
            id,
            PendingQuery {
                run,
                query_type: q.query_type,
                args: q.args,
                reply: from,
                deadline,
                dispatched: false,
            },
        );
        None
    }

    /// Whether the run's state can be queried now: closed, or no workflow task pending.
    fn queryable(&self, run: RunIdx) -> bool {
        let ms = self.ms(run);
        !ms.is_open() || ms.wft.is_none()
    }

    /// The first waiting query a poll of `queue` can take, as a task (marked dispatched).
    pub(super) fn take_query_task(&mut self, queue: &str) -> Option<Response> {
        let id = self
            .queries
            .iter()
            .find(|(_, q)| {
                !q.dispatched && self.ms(q.run).task_queue == queue && self.queryable(q.run)
            })
            .map(|(id, _)| *id)?;
        let q = self.queries.get_mut(&id).expect("found");
        q.dispatched = true;
        let q = q.clone();
        let crate::engine::runs::Run { key, exec, .. } = &self.runs[q.run];
        Some(Response::WorkflowTask(Some(Box::new(WorkflowTask {
            token: TaskToken {
                exec: key.clone(),
                scheduled_event_id: 0,
                attempt: 0,
                started_event_id: 0,
            },
            workflow_type: exec.ms.workflow_type.clone(),
            first_event_id: 1,
            events: exec.history.clone(),
            sticky: false,
            messages: Vec::new(),
            query: Some(WorkflowQuery {
                query_id: id,
                query_type: q.query_type,
                args: q.args,
            }),
        }))))
    }

    /// Hands waiting queries to parked workflow polls (at the end of every step).
    pub(super) fn dispatch_queries(&mut self, step: &mut Step<R>) {
        if self.queries.values().all(|q| q.dispatched) {
            return;
        }
        let queues: Vec<String> = self
            .queries
            .values()
            .filter(|q| !q.dispatched && self.queryable(q.run))
            .map(|q| self.ms(q.run).task_queue.clone())
            .collect();
        for queue in queues {
            let key = (PollKind::Workflow, queue.clone());
            if !self.has_parked_poll(&key) {
                continue;
            }
            if let Some(task) = self.take_query_task(&queue) {
                let reply = self.pop_parked_poll(&key).expect("a parked poll");
                step.replies.push((reply, task));
            }
        }
    }

    /// RespondQueryTaskCompleted: the answer goes to the waiting client.
    pub(super) fn answer_query(&mut self, a: AnswerQuery) -> Response {
        let known = self
            .queries
            .get(&a.query_id)
            .is_some_and(|q| q.dispatched && self.runs[q.run].key == a.token.exec);
        if !known {
            return not_found(format!("query {} (answered or expired)", a.query_id));
        }
        let q = self.queries.remove(&a.query_id).expect("known");
        self.query_deadlines.remove(&(q.deadline, a.query_id));
        self.pending_replies
            .push((q.reply, Response::QueryResult(Box::new(a.result))));
        Response::Ok
    }

    /// Queries past their deadline are answered with `DeadlineExceeded`.
    pub(super) fn expire_queries(&mut self, now: Timestamp, step: &mut Step<R>) {
        while let Some(&(t, id)) = self.query_deadlines.first() {
            if t > now {
                break;
            }
            self.query_deadlines.remove(&(t, id));
            if let Some(q) = self.queries.remove(&id) {
                step.replies.push((
                    q.reply,
                    Response::Error(ServerError::DeadlineExceeded(format!(
                        "query {:?} of {}: no worker answered",
                        q.query_type, self.runs[q.run].key
                    ))),
                ));
            }
        }
    }
}
