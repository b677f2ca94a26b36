//! Finish notifications, batched by the reducer from message times: finishes within
//! `[notify] batch_secs` make one `ResultsEffect::Notify`.

use super::ResultsEffect;
use crate::api::TaskStatus;
use crate::app::effect::Effect;
use crate::app::state::State;
use crate::store::{Phase, TaskRow};

/// A task changed phase: collect finishes for one notification.
pub(crate) fn on_phase_change(state: &mut State, r: &TaskRow) {
    let id = r.display_id().to_string();
    let bucket = match &r.phase {
        Phase::Remote(TaskStatus::Succeeded) => &mut state.results.batch_ok,
        Phase::Remote(TaskStatus::Failed | TaskStatus::Expired) | Phase::Rejected | Phase::Lost => {
            &mut state.results.batch_failed
        }
        _ => return,
    };
    bucket.push(id);
    if state.results.batch_since.is_none() {
        state.results.batch_since = Some(state.now);
    }
}

/// Close the notification batch when its window has passed (or at once with a zero window).
pub(crate) fn flush_notifications(state: &mut State) -> Vec<Effect> {
    let r = &mut state.results;
    match r.batch_since {
        Some(since) if state.now - since >= r.batch_secs => {
            r.batch_since = None;
            vec![Effect::Results(ResultsEffect::Notify {
                succeeded: std::mem::take(&mut r.batch_ok),
                failed: std::mem::take(&mut r.batch_failed),
            })]
        }
        _ => Vec::new(),
    }
}
