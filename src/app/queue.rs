//! The submission queue in the dashboard: what the header and the table show about `pending`
//! rows (their order, a pause, a hold by the server), and the keys that pause/resume the queue,
//! move a pending row up or down, and remove pending rows. The rows themselves are ordinary
//! tasks in `State::tasks`; the order and the switches come from the store (`Msg::Queue`).

use super::effect::Effect;
use super::msg::{Intent, Level};
use super::state::{Overlay, Question, State};
pub(crate) use super::types::queue::{QueueEffect, QueueInfo};
use crate::store::Phase;

/// The header's words for the queue, when there is one: `queue 12`, `queue 12 paused`,
/// `queue 12 held: server busy`, `queue 12 held: over budget` — the hold's real cause.
pub(crate) fn header(state: &State) -> Option<String> {
    let n = state.queue.order.len();
    if n == 0 && !state.queue.held_at(state.now) {
        return None;
    }
    let mut s = format!("queue {n}");
    if state.queue.paused {
        s.push_str(" paused");
    } else if state.queue.held_at(state.now) {
        s.push_str(" held: ");
        s.push_str(hold_cause(state.queue.held_reason.as_deref()));
    }
    Some(s)
}

/// The few words for why the queue is held, from the reason the feeder stored.
pub(crate) fn hold_cause(reason: Option<&str>) -> &'static str {
    match reason {
        Some(r) if r.starts_with("budget unknown") => "budget unknown",
        Some(r) if r.starts_with("budget") => "over budget",
        _ => "server busy",
    }
}

/// A new picture of the queue from the store. A row shown as pending that is no longer in the
/// queue was removed by another process (a row that was sent arrives, changed, through the store
/// watcher before the queue is read again, and a late one is simply shown again).
pub(crate) fn on_info(state: &mut State, info: QueueInfo) {
    if state.queue != info {
        let queued: std::collections::HashSet<&str> =
            info.order.iter().map(String::as_str).collect();
        let gone: Vec<String> = state
            .tasks
            .iter()
            .filter(|t| t.phase == Phase::Pending && !queued.contains(&*t.local_id))
            .map(|t| t.local_id.to_string())
            .collect();
        if !gone.is_empty() {
            state.remove_tasks(&gone);
        }
        state.queue = info;
        state.queue_reordered();
        state.dirty = true;
    }
}

/// The marked pending rows, else the selected one if it is pending.
fn pending_targets(state: &State) -> Vec<String> {
    state
        .targets()
        .into_iter()
        .filter(|t| t.phase == Phase::Pending)
        .map(|t| t.local_id.to_string())
        .collect()
}

/// The queue's keys.
pub(crate) fn apply(state: &mut State, intent: Intent) -> Vec<Effect> {
    match intent {
        Intent::QueuePause => {
            let paused = !state.queue.paused;
            state.queue.paused = paused;
            state.notice(
                Level::Info,
                if paused {
                    "queue paused: nothing more is sent until P"
                } else {
                    "queue resumed"
                },
            );
            vec![Effect::Queue(QueueEffect::SetPaused(paused))]
        }
        Intent::QueueUp | Intent::QueueDown => {
            let up = intent == Intent::QueueUp;
            match state.selected_task() {
                Some(t) if t.phase == Phase::Pending => {
                    let local_id = t.local_id.to_string();
                    // Shown at once; the store's order follows.
                    if let Some(i) = state.queue.order.iter().position(|id| *id == local_id) {
                        let j = if up {
                            i.checked_sub(1)
                        } else {
                            Some(i + 1).filter(|j| *j < state.queue.order.len())
                        };
                        if let Some(j) = j {
                            state.queue.order.swap(i, j);
                        }
                    }
                    // The row moves where it is seen: the table takes the queue's order.
                    if state.sort != super::state::SortKey::Queue {
                        state.sort = super::state::SortKey::Queue;
                        state.sort_desc = false;
                        state.notice(
                            Level::Info,
                            "sorted by queue order (s then another key sorts again)",
                        );
                    }
                    state.queue_reordered();
                    vec![Effect::Queue(QueueEffect::Move { local_id, up })]
                }
                Some(_) => {
                    state.notice(Level::Warn, "only pending rows can be moved in the queue");
                    Vec::new()
                }
                None => Vec::new(),
            }
        }
        Intent::QueueRemove => {
            let ids = pending_targets(state);
            if ids.is_empty() {
                state.notice(
                    Level::Warn,
                    "nothing to remove: mark or select pending rows (○)",
                );
            } else {
                state.overlay = Overlay::Confirm(Question::RemovePending(ids));
            }
            Vec::new()
        }
        _ => Vec::new(),
    }
}

/// The user said yes to removing `ids`.
pub(crate) fn remove(state: &mut State, ids: Vec<String>) -> Vec<Effect> {
    state.notice(
        Level::Info,
        format!("removed {} pending row(s) from the queue", ids.len()),
    );
    state.remove_tasks(&ids);
    state.queue.order.retain(|id| !ids.contains(id));
    vec![Effect::Queue(QueueEffect::Remove(ids))]
}
