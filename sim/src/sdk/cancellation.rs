//! Activity cancellation types: what [`crate::sdk::ActivityFuture::cancel`] sends and when the
//! workflow sees the cancellation, as sdk-core's activity state machine does
//! (`temporalio-sdk-core`, `machines/activity_state_machine.rs`), checked against Server 1.32's
//! recordings `cancel-try-cancel.json`, `cancel-wait-cancellation-completed.json` and
//! `cancel-abandon.json`.
//!
//! | type | command sent | the future resolves |
//! | --- | --- | --- |
//! | `TryCancel` (default) | RequestCancelActivityTask | at once, cancelled |
//! | `WaitCancellationCompleted` | RequestCancelActivityTask | with the activity's close event (ActivityTaskCanceled, or completed/failed/timed out if it ended otherwise) |
//! | `Abandon` | none | at once, cancelled; the activity runs on, its close event is ignored |
//!
//! An activity whose schedule command was not sent yet is not sent at all, and resolves at once
//! whatever the type. A cancel of a resolved activity, or a second cancel, does nothing.

use super::context::{cancelled_activity_failure, Emitted, Link, State};
use crate::history::Command;

/// How cancelling an activity behaves (Temporal's `ActivityCancellationType`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ActivityCancellationType {
    /// Request cancellation and resolve the future at once (Temporal's default).
    #[default]
    TryCancel,
    /// Request cancellation and resolve the future only when the activity's close event arrives.
    WaitCancellationCompleted,
    /// Send nothing and resolve the future at once; the activity is not told.
    Abandon,
}

/// Cancels activity `seq` of `st` per its cancellation type.
pub(crate) fn cancel_activity(st: &mut State, seq: u32) {
    let Some(slot) = st.activities.get_mut(&seq) else {
        return;
    };
    if slot.result.is_some() || slot.cancel_requested {
        return;
    }
    let resolve_now = if let Some(idx) = slot.cmd_index.take() {
        st.commands[idx].dropped = true;
        true
    } else if let Some(sid) = slot.scheduled_event_id {
        if slot.cancellation_type != ActivityCancellationType::Abandon {
            st.commands.push(Emitted {
                cmd: Command::RequestCancelActivityTask {
                    scheduled_event_id: sid,
                },
                link: Link::None,
                dropped: false,
            });
        }
        slot.cancel_requested = true;
        slot.cancellation_type != ActivityCancellationType::WaitCancellationCompleted
    } else {
        true
    };
    if resolve_now {
        slot.result = Some(Box::new(Err(cancelled_activity_failure(slot))));
    }
    st.progress += 1;
}
