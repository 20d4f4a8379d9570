//! Which workflow execution (run) a history belongs to.

/// Identifies one run: a workflow id and one of its run ids (Temporal's `WorkflowExecution`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ExecKey {
    /// The workflow id the client chose.
    pub workflow_id: String,
    /// The run id the server handed out.
    pub run_id: String,
}

impl ExecKey {
    /// `workflow_id/run_id`, as `Display` writes it, without the formatting machinery (the
    /// server names the run of every history append it traces).
    pub fn name(&self) -> String {
        let mut s = String::with_capacity(self.workflow_id.len() + 1 + self.run_id.len());
        s.push_str(&self.workflow_id);
        s.push('/');
        s.push_str(&self.run_id);
        s
    }
}

impl std::fmt::Display for ExecKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.workflow_id, self.run_id)
    }
}

#[cfg(test)]
mod tests {
    use super::ExecKey;

    #[test]
    fn name_is_what_display_writes() {
        let k = ExecKey {
            workflow_id: "transfer-1".into(),
            run_id: "0f9e-4a".into(),
        };
        assert_eq!(k.name(), k.to_string());
        assert_eq!(k.name(), "transfer-1/0f9e-4a");
    }
}
