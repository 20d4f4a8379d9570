//! workflowcheck (skeleton)
