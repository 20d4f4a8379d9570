//! Which workflow execution (run) a history belongs to.

/// Identifies one run: a workflow id and one of its run ids (Temporal's `WorkflowExecution`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ExecKey {
    /// The workflow id the client chose.
    pub workflow_id: String,
    /// The run id the server handed out.
    pub run_id: String,
}

impl std::fmt::Display for ExecKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.workflow_id, self.run_id)
    }
}
