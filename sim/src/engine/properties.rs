//! A run's properties: Temporal's search attributes (indexed, typed values a visibility query
//! filters on) and memo (unindexed values shown with the run). A run starts with those of its
//! start request (WorkflowExecutionStarted's `searchAttributes`/`memo`) or, after
//! continue-as-new, those of the run it continues; its workflow changes them with the commands
//! UpsertWorkflowSearchAttributes (event UpsertWorkflowSearchAttributes) and
//! ModifyWorkflowProperties (event WorkflowPropertiesModified, `upsertedMemo`). Describe
//! returns them as they are now.
//!
//! Invariants:
//! - the mutable state's maps are the start's values with every upsert event of the run applied
//!   in order: a search attribute whose value has empty data, `null` or `[]` is removed (as
//!   the SDKs unset one), a memo key whose value is `binary/null` or empty is removed;
//! - an upsert with nothing in it fails the workflow task (BAD_SEARCH_ATTRIBUTES,
//!   BAD_MODIFY_WORKFLOW_PROPERTIES_ATTRIBUTES) before anything of its batch is applied.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::commands::{Applied, BadCommand, CommandContext};
use super::core::{Engine, ReplyHandle};
use crate::history::{
    Command, EventAttributes, Extra, Memo, Payload, SearchAttributes,
    UpsertWorkflowSearchAttributes, WorkflowPropertiesModified, WorkflowTaskFailedCause,
};

/// `WORKFLOW_TASK_FAILED_CAUSE_BAD_SEARCH_ATTRIBUTES`.
const BAD_SEARCH_ATTRIBUTES: WorkflowTaskFailedCause = WorkflowTaskFailedCause::Other(23);
/// `WORKFLOW_TASK_FAILED_CAUSE_BAD_MODIFY_WORKFLOW_PROPERTIES_ATTRIBUTES`.
const BAD_MODIFY_PROPERTIES: WorkflowTaskFailedCause = WorkflowTaskFailedCause::Other(25);

/// Whether a search attribute value unsets its name (how the SDKs send "no value").
fn unsets_search_attribute(p: &Payload) -> bool {
    matches!(p.data.as_slice(), b"" | b"null" | b"[]")
}

/// Whether a memo value removes its key: `binary/null` (how the Python SDK encodes `None`) or
/// an empty payload (what core's ModifyWorkflowProperties asks for).
fn removes_memo_key(p: &Payload) -> bool {
    p.encoding() == Some("binary/null") || (p.metadata.is_empty() && p.data.is_empty())
}

/// Applies upserted search attributes to a run's current ones.
pub(super) fn apply_search_attributes(
    current: &mut BTreeMap<String, Payload>,
    upserted: &SearchAttributes,
) {
    for (name, value) in &upserted.indexed_fields {
        if unsets_search_attribute(value) {
            current.remove(name);
        } else {
            current.insert(name.clone(), value.clone());
        }
    }
}

/// Applies upserted memo fields to a run's current memo.
pub(super) fn apply_memo(current: &mut BTreeMap<String, Payload>, upserted: &Memo) {
    for (key, value) in &upserted.fields {
        if removes_memo_key(value) {
            current.remove(key);
        } else {
            current.insert(key.clone(), value.clone());
        }
    }
}

/// The search attributes a continued run starts with: the current ones, `None` if none.
pub(super) fn current_search_attributes(
    current: &BTreeMap<String, Payload>,
) -> Option<SearchAttributes> {
    (!current.is_empty()).then(|| SearchAttributes {
        indexed_fields: current.clone(),
        extra: Extra::new(),
    })
}

/// The memo a continued run starts with: the current one, `None` if empty.
pub(super) fn current_memo(current: &BTreeMap<String, Payload>) -> Option<Memo> {
    (!current.is_empty()).then(|| Memo {
        fields: current.clone(),
        extra: Extra::new(),
    })
}

/// Checks a properties command of a batch (part of `validate_commands`).
pub(super) fn validate(c: &Command) -> Result<(), BadCommand> {
    match c {
        Command::UpsertWorkflowSearchAttributes { search_attributes }
            if search_attributes.indexed_fields.is_empty() =>
        {
            Err(BadCommand::new(
                BAD_SEARCH_ATTRIBUTES,
                "UpsertWorkflowSearchAttributes sets no search attribute",
            ))
        }
        Command::UpsertWorkflowSearchAttributes { search_attributes } => {
            match search_attributes
                .indexed_fields
                .keys()
                .find(|k| k.is_empty())
            {
                Some(_) => Err(BadCommand::new(
                    BAD_SEARCH_ATTRIBUTES,
                    "a search attribute has an empty name",
                )),
                None => Ok(()),
            }
        }
        Command::ModifyWorkflowProperties { upserted_memo } if upserted_memo.fields.is_empty() => {
            Err(BadCommand::new(
                BAD_MODIFY_PROPERTIES,
                "ModifyWorkflowProperties changes no memo key",
            ))
        }
        _ => Ok(()),
    }
}

impl<R: ReplyHandle> Engine<R> {
    /// UpsertWorkflowSearchAttributes -> UpsertWorkflowSearchAttributes; the run's search
    /// attributes change.
    pub(super) fn upsert_search_attributes(
        &mut self,
        cx: &CommandContext,
        search_attributes: SearchAttributes,
    ) -> Applied {
        apply_search_attributes(
            &mut self.ms_mut(cx.run).search_attributes,
            &search_attributes,
        );
        self.append(
            cx.run,
            cx.now,
            EventAttributes::UpsertWorkflowSearchAttributes(Arc::new(
                UpsertWorkflowSearchAttributes {
                    workflow_task_completed_event_id: cx.completed_event_id,
                    search_attributes: Some(search_attributes),
                    extra: Extra::new(),
                },
            )),
        );
        Applied::Recorded
    }

    /// ModifyWorkflowProperties -> WorkflowPropertiesModified; the run's memo changes.
    pub(super) fn modify_workflow_properties(
        &mut self,
        cx: &CommandContext,
        upserted_memo: Memo,
    ) -> Applied {
        apply_memo(&mut self.ms_mut(cx.run).memo, &upserted_memo);
        self.append(
            cx.run,
            cx.now,
            EventAttributes::WorkflowPropertiesModified(Arc::new(WorkflowPropertiesModified {
                workflow_task_completed_event_id: cx.completed_event_id,
                upserted_memo: Some(upserted_memo),
                extra: Extra::new(),
            })),
        );
        Applied::Recorded
    }
}
