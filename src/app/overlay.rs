//! The dashboard's overlays answering an intent: scrolling help, the log, the summary and a
//! copied text; a question answered (`Confirm`) or dismissed; the copy menu's choice.

use super::copy;
use super::effect::Effect;
use super::filter::Filter;
use super::msg::{Intent, Level};
use super::state::{Overlay, Question, State};

/// The overlay's answer to `intent`, or `None` when the intent is not the overlay's.
pub(super) fn apply(state: &mut State, intent: Intent) -> Option<Vec<Effect>> {
    Some(match (&state.overlay, intent) {
        (Overlay::Log { scroll }, Intent::ToggleDetail) => {
            let scroll = *scroll;
            super::find::goto_from_log(state, scroll)
        }
        // `Enter` over the help, the summary or a text to copy opens nothing beneath them.
        (
            Overlay::Help { .. } | Overlay::Summary { .. } | Overlay::CopyText { .. },
            Intent::ToggleDetail,
        ) => Vec::new(),
        (Overlay::Help { scroll } | Overlay::Log { scroll }, Intent::MoveDown) => {
            let s = scroll.saturating_add(1);
            set_scroll(state, s);
            Vec::new()
        }
        (Overlay::Help { scroll } | Overlay::Log { scroll }, Intent::MoveUp) => {
            let s = scroll.saturating_sub(1);
            set_scroll(state, s);
            Vec::new()
        }
        (Overlay::Confirm(q), Intent::Confirm) => {
            let q = q.clone();
            state.overlay = Overlay::None;
            match q {
                Question::Quit { .. } => vec![Effect::Quit],
                Question::Cancel { local_id } => vec![Effect::CancelTask(local_id)],
                Question::Adopt { local_id, task_id } => {
                    state.notice(Level::Info, format!("adopting {task_id}…"));
                    vec![Effect::Adopt { local_id, task_id }]
                }
                Question::RemovePending(ids) => super::queue::remove(state, ids),
                Question::RemoveLocal { local_ids } => {
                    state.notice(
                        Level::Info,
                        format!(
                            "removing {} row(s) that never reached the server",
                            local_ids.len()
                        ),
                    );
                    vec![Effect::RemoveLocal(local_ids)]
                }
                Question::Retry(plan) => {
                    state.notice(
                        Level::Info,
                        format!("retrying {} task(s)…", plan.local_ids.len()),
                    );
                    if plan.over_budget.is_some() {
                        vec![Effect::RetryOverBudget(plan.local_ids)]
                    } else {
                        vec![Effect::Retry(plan.local_ids)]
                    }
                }
            }
        }
        (_, Intent::Close | Intent::Deny) => {
            if state.filter_input.take().is_some() {
                state.filter = Filter::default();
                state.refilter();
            }
            state.overlay = Overlay::None;
            state.search = None;
            Vec::new()
        }
        (Overlay::CopyMenu, Intent::Copy(what)) => {
            state.overlay = Overlay::None;
            copy::copy(state, what)
        }
        (Overlay::Summary { scroll }, Intent::MoveDown | Intent::MoveUp) => {
            let s = if intent == Intent::MoveDown {
                scroll.saturating_add(1)
            } else {
                scroll.saturating_sub(1)
            };
            state.overlay = Overlay::Summary { scroll: s };
            Vec::new()
        }
        (Overlay::CopyText { scroll, .. }, Intent::MoveDown | Intent::MoveUp) => {
            let s = if intent == Intent::MoveDown {
                scroll.saturating_add(1)
            } else {
                scroll.saturating_sub(1)
            };
            if let Overlay::CopyText { scroll, .. } = &mut state.overlay {
                *scroll = s;
            }
            Vec::new()
        }
        (_, Intent::Confirm) => {
            // Enter on the filter line keeps the filter.
            state.filter_input = None;
            Vec::new()
        }
        _ => return None,
    })
}

fn set_scroll(state: &mut State, s: u16) {
    state.overlay = match state.overlay {
        Overlay::Help { .. } => Overlay::Help { scroll: s },
        Overlay::Log { .. } => Overlay::Log { scroll: s },
        ref other => other.clone(),
    };
}
