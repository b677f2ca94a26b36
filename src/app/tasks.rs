//! Task rows arriving from the runtime: the first load and the rest behind it, changes (a line
//! in the log per finish, notifications, the detail pane kept current), removals, a task's
//! history and bodies, poll failures and the poller's health.

use super::effect::Effect;
use super::msg::{Level, Msg};
use super::state::{BodiesUse, DetailMode, State};
use super::{composer, copy, results};
use crate::api::TaskStatus;
use crate::store::Phase;

/// A message about task rows (the `update` arms of `Msg::Tasks*`, `History`, `Bodies`,
/// `PollFailed` and `Health`).
pub(super) fn on_msg(state: &mut State, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::TasksLoaded(rows) => {
            state.replace_all(rows);
            load_history_effect(state)
        }
        Msg::MoreTasksLoaded(mut rows) => {
            rows.retain(|r| state.task(&r.local_id).is_none());
            let before = state.selected.clone();
            if !rows.is_empty() {
                state.upsert(rows);
            }
            reload_detail_if_moved(state, before)
        }
        Msg::TasksChanged(mut rows) => {
            // A row the dashboard already has as it is changes nothing on screen.
            rows.retain(|r| state.task(&r.local_id) != Some(r));
            if rows.is_empty() {
                return Vec::new();
            }
            let selected_changed = state
                .selected
                .as_ref()
                .is_some_and(|s| rows.iter().any(|r| *r.local_id == **s));
            let mut events = Vec::new();
            for r in &rows {
                if let Some(old) = state.task(&r.local_id)
                    && old.phase != r.phase
                {
                    events.extend(announce(r));
                    results::on_phase_change(state, r);
                }
            }
            log_events(state, events);
            let before = state.selected.clone();
            let bodies_changed = state
                .bodies
                .as_ref()
                .is_some_and(|b| rows.iter().any(|r| *r.local_id == *b.local_id));
            state.upsert(rows);
            let mut fx = results::flush_notifications(state);
            // Bodies read before the task changed may miss its new links or paths: with the
            // detail pane open they are read again; else they are read when next wanted.
            if bodies_changed && state.detail == DetailMode::Hidden {
                state.bodies = None;
            }
            if selected_changed && state.detail != DetailMode::Hidden {
                fx.extend(load_history_effect(state));
            } else {
                fx.extend(reload_detail_if_moved(state, before));
            }
            fx
        }
        Msg::TasksRemoved(ids) => {
            let before = state.selected.clone();
            state.remove(&ids);
            state.notice(Level::Info, format!("removed {} row(s)", ids.len()));
            reload_detail_if_moved(state, before)
        }
        Msg::History { local_id, entries } => {
            state.histories.insert(local_id, entries);
            state.dirty = true;
            Vec::new()
        }
        Msg::Bodies { local_id, result } => bodies_arrived(state, local_id, result),
        Msg::PollFailed {
            local_id,
            error,
            transient,
        } => {
            let id = state
                .task(&local_id)
                .map(|t| t.display_id().to_string())
                .unwrap_or(local_id);
            let level = if transient { Level::Warn } else { Level::Error };
            state.event(level, format!("{id}: {error}"));
            Vec::new()
        }
        Msg::Eta(model) => {
            state.eta = model;
            state.dirty = true;
            Vec::new()
        }
        Msg::Health(h) => {
            // A poll answered: the key and the base URL work after all.
            if h.last_success.is_some()
                && h.last_success != state.health.last_success
                && state.preflight.take().is_some()
            {
                state.dirty = true;
            }
            // Only what the header shows draws a frame: requests in flight are not shown, and
            // the time of the last poll reaches the screen with the next clock tick (at most
            // once a second), so a stream of polls that change nothing visible draws nothing.
            let visible = state.header_visible()
                && (poll_line(&h) != poll_line(&state.health)
                    || h.last_success.is_some() != state.health.last_success.is_some());
            state.health = h;
            if visible {
                state.dirty = true;
            }
            Vec::new()
        }
        _ => Vec::new(),
    }
}

/// The parts of the poller's health the header shows, except the time of the last poll.
fn poll_line(h: &super::msg::Health) -> impl PartialEq + '_ {
    (
        h.banner.as_deref(),
        h.paused,
        h.leader,
        h.follows.as_deref(),
        h.consecutive_errors,
        h.tracked,
    )
}

/// A line for the log when a task finishes or fails (with the word that counts it).
fn announce(r: &crate::store::TaskRow) -> Option<(Level, &'static str, String)> {
    let id = r.display_id().to_string();
    Some(match &r.phase {
        Phase::Remote(TaskStatus::Succeeded) => {
            (Level::Info, "succeeded", format!("{id} succeeded"))
        }
        Phase::Remote(TaskStatus::Failed) => {
            let code = r.error_code().unwrap_or_default().to_string();
            (Level::Error, "failed", format!("{id} failed {code}"))
        }
        Phase::Remote(TaskStatus::Expired) => (Level::Warn, "expired", format!("{id} expired")),
        Phase::SubmitUnknown => (
            Level::Error,
            "outcome unknown",
            format!("{id}: the submission's outcome is unknown; it was not re-sent"),
        ),
        Phase::Rejected => (Level::Error, "rejected", format!("{id} was rejected")),
        Phase::Lost => (
            Level::Error,
            "lost",
            format!("{id}: the server no longer knows this task (r retries it)"),
        ),
        _ => return None,
    })
}

/// Events from one batch of changes go to the log (never the footer): each on its own line
/// when there are a few, one summary line (`12 succeeded, 3 failed`) when there are many.
fn log_events(state: &mut State, events: Vec<(Level, &'static str, String)>) {
    const EACH_UP_TO: usize = 3;
    if events.len() <= EACH_UP_TO {
        for (level, _, text) in events {
            state.event(level, text);
        }
        return;
    }
    let level = events.iter().map(|e| e.0).max_by_key(|l| match l {
        Level::Info => 0,
        Level::Warn => 1,
        Level::Error => 2,
    });
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for (_, what, _) in &events {
        match counts.iter_mut().find(|(w, _)| w == what) {
            Some(c) => c.1 += 1,
            None => counts.push((what, 1)),
        }
    }
    let text = counts
        .iter()
        .map(|(w, n)| format!("{n} {w}"))
        .collect::<Vec<_>>()
        .join(", ");
    state.event(level.unwrap_or(Level::Info), text);
}

/// The selection was set directly (the palette's `:goto`, the log's `Enter`): the open detail
/// pane loads it.
pub(crate) fn selection_moved(state: &mut State) -> Vec<Effect> {
    state.detail_scroll = 0;
    state.dirty = true;
    load_history_effect(state)
}

pub(super) fn load_history_effect(state: &State) -> Vec<Effect> {
    match (&state.detail, state.selected.as_ref()) {
        (DetailMode::Hidden, _) | (_, None) => Vec::new(),
        (_, Some(id)) => {
            let mut fx = vec![
                Effect::LoadHistory(id.clone()),
                Effect::LoadBodies(id.clone()),
            ];
            fx.extend(results::preview_effect(state));
            fx
        }
    }
}

/// Rows arriving or leaving moved the selection to another task (the first rows, a removed
/// one): the open detail pane loads the new one's history and bodies.
pub(super) fn reload_detail_if_moved(state: &State, before: Option<String>) -> Vec<Effect> {
    if state.selected != before && state.detail != DetailMode::Hidden {
        load_history_effect(state)
    } else {
        Vec::new()
    }
}

/// A task's full request and response, links and paths arrived: the detail pane shows them
/// (and asks for the last frame's preview), and an action waiting for them (edit, copy, open)
/// is done now if its task is still the selected one.
fn bodies_arrived(
    state: &mut State,
    local_id: String,
    result: Result<crate::store::TaskBodies, String>,
) -> Vec<Effect> {
    let wanted = state
        .bodies_wanted_for
        .take_if(|w| matches!(w, BodiesUse::Edit(id) | BodiesUse::Copy(id, _) | BodiesUse::Open(id) if *id == local_id));
    match result {
        Ok(b) => {
            state.bodies = Some(b);
            state.dirty = true;
            let selected = state.selected.as_deref() == Some(local_id.as_str());
            match wanted {
                // Not over a composer opened meanwhile (its draft would be replaced).
                Some(BodiesUse::Edit(_))
                    if selected && !state.composer.is_open() && !state.composer.opening =>
                {
                    composer::edit_task(state)
                }
                Some(BodiesUse::Copy(_, what)) if selected => copy::copy(state, what),
                Some(BodiesUse::Open(_)) if selected => results::open(state),
                _ if selected => results::preview_effect(state),
                _ => Vec::new(),
            }
        }
        Err(e) => {
            if wanted.is_some() {
                state.notice(
                    Level::Error,
                    format!("could not read the task's stored request: {e}"),
                );
            }
            Vec::new()
        }
    }
}
