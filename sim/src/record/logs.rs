//! The logs the client and workers write what they received into, outside every node (a crash
//! of the receiver after a reply does not erase it): acknowledgements (`durability` reads them)
//! and activity attempts (`retry-policy`, `dispatch`, and the reports read them).

use std::sync::{Arc, Mutex};

/// What clients and workers were told was written.
#[derive(Clone, Default)]
pub struct AckLog {
    inner: Arc<Mutex<Vec<super::ObservedAck>>>,
}

impl AckLog {
    /// `node` received an acknowledgement of `request`.
    pub fn record(&self, node: &str, request: super::AckedRequest) {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(super::ObservedAck {
                node: node.to_string(),
                request,
            });
    }

    /// Every acknowledgement, in the order received.
    pub fn all(&self) -> Vec<super::ObservedAck> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// The latest failed attempt of each activity, as workers saw it (outside every node).
#[derive(Clone, Default)]
pub struct AttemptLog {
    inner: Arc<Mutex<AttemptLogInner>>,
}

#[derive(Default)]
struct AttemptLogInner {
    /// Every attempt received, in order.
    observed: Vec<super::ObservedAttempt>,
    /// Every workflow task received, in order.
    workflow_tasks: Vec<super::ObservedWorkflowTask>,
    /// Position in `failures` by (run, activity id): one entry per activity.
    index: std::collections::BTreeMap<(crate::history::ExecKey, String), usize>,
    failures: Vec<super::AttemptFailure>,
}

impl AttemptLog {
    /// A worker saw attempt `f.attempt` of `f.activity_id` fail.
    pub fn record(&self, mut f: super::AttemptFailure) {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let key = (f.exec.clone(), f.activity_id.clone());
        match g.index.get(&key).copied() {
            Some(i) => {
                f.failed_attempts = g.failures[i].failed_attempts.saturating_add(1);
                g.failures[i] = f;
            }
            None => {
                f.failed_attempts = 1;
                let i = g.failures.len();
                g.failures.push(f);
                g.index.insert(key, i);
            }
        }
    }

    /// A worker received an activity task; returns the attempt's index for [`Self::ended`].
    pub fn received(&self, a: super::ObservedAttempt) -> usize {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        g.observed.push(a);
        g.observed.len() - 1
    }

    /// The attempt at `index` ended at `at`, as `how`.
    pub fn ended(&self, index: usize, at: crate::history::Timestamp, how: super::AttemptEnd) {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(a) = g.observed.get_mut(index) {
            a.end = Some((at, how));
        }
    }

    /// The server answered the attempt's completion, failure or cancellation with Ok.
    pub fn acknowledged(&self, index: usize) {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(a) = g.observed.get_mut(index) {
            a.acknowledged = true;
        }
    }

    /// A worker received a workflow task; returns its index for [`Self::workflow_task_done`].
    pub fn workflow_task_received(&self, t: super::ObservedWorkflowTask) -> usize {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        g.workflow_tasks.push(t);
        g.workflow_tasks.len() - 1
    }

    /// The worker was done with the workflow task at `index` at `at` (the first call counts).
    pub fn workflow_task_done(&self, index: usize, at: crate::history::Timestamp) {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(t) = g.workflow_tasks.get_mut(index) {
            t.done.get_or_insert(at);
        }
    }

    /// Every workflow task received, in order.
    pub fn observed_workflow_tasks(&self) -> Vec<super::ObservedWorkflowTask> {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .workflow_tasks
            .clone()
    }

    /// Every attempt received, in order.
    pub fn observed(&self) -> Vec<super::ObservedAttempt> {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .observed
            .clone()
    }

    /// The latest failure of each activity, in the order activities first failed.
    pub fn all(&self) -> Vec<super::AttemptFailure> {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .failures
            .clone()
    }
}
