//! The reducer: `update(&mut State, Msg) -> Vec<Effect>`. Pure and synchronous: no IO, no clock
//! reads, no awaits. `app::router` says where each input goes; `update` is the only caller of
//! the composer's and the dashboard's reducers.

use super::composer;
use super::copy;
use super::effect::Effect;
use super::filter::Filter;
use super::msg::{Intent, Level, Msg};
use super::results;
use super::router::{self, Route};
use super::state::{BodiesUse, DetailMode, Focus, Overlay, Question, RetryPlan, SortKey, State};
use crate::api::TaskStatus;
use crate::store::{Phase, TaskRow};
use crossterm::event::{KeyCode, KeyEvent};

/// Apply one message.
pub fn update(state: &mut State, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Key(key) => match router::key(state, &key) {
            // Between `n` and the draft arriving from the store, what is typed is meant for
            // the composer: kept and replayed once it is open, so no keystroke is lost (and
            // none reaches the dashboard's keys).
            Route::Buffer => {
                state.pending_input.push(Msg::Key(key));
                Vec::new()
            }
            Route::Composer(ci) => composer::apply(state, ci),
            Route::Dashboard(intent) => apply(state, intent),
            Route::ComposerText => composer::typing(state, &key),
            Route::FilterText => filter_typing(state, &key),
            Route::SearchText => super::find::typing(state, &key),
            Route::Palette => super::palette::key(state, &key),
            Route::Columns => super::columns::key(state, &key),
            Route::View(i) => match state.views.get(i).map(|v| v.name.clone()) {
                Some(name) => super::views::apply(state, &name),
                None => Vec::new(),
            },
            Route::Ignore => Vec::new(),
        },
        Msg::Paste(text) => match router::paste(state) {
            Route::Buffer => {
                state.pending_input.push(Msg::Paste(text));
                Vec::new()
            }
            Route::ComposerText => composer::paste(state, &text),
            Route::FilterText => {
                if let Some(input) = state.filter_input.as_mut() {
                    input.push_str(&text.replace(['\n', '\r'], " "));
                    state.filter = Filter::parse(input);
                    state.refilter();
                }
                Vec::new()
            }
            _ => Vec::new(),
        },
        Msg::Scroll { down } if router::dashboard_has_pointer(state) => apply(
            state,
            if down {
                Intent::MoveDown
            } else {
                Intent::MoveUp
            },
        ),
        Msg::Click { column, row } if router::dashboard_has_pointer(state) => {
            click(state, column, row)
        }
        Msg::Scroll { .. } | Msg::Click { .. } => Vec::new(),
        Msg::Resize(w, h) => {
            state.size = (w, h);
            state.keep_selection_visible();
            state.dirty = true;
            results::preview_effect(state)
        }
        Msg::Tick { now } => {
            // Redraw only when the screen shows something that depends on the time.
            if now != state.now && state.shows_relative_times() {
                state.dirty = true;
            }
            state.now = now;
            let mut effects = results::flush_notifications(state);
            effects.extend(composer::on_tick(state));
            effects
        }
        Msg::Composer(m) => {
            let mut effects = composer::on_msg(state, m);
            // Input typed while the composer was opening goes to it now, in order.
            if !state.composer.opening {
                for m in std::mem::take(&mut state.pending_input) {
                    effects.extend(update(state, m));
                }
            }
            effects
        }
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
        Msg::Notice { level, text } => {
            state.notice(level, text);
            Vec::new()
        }
        Msg::Results(m) => results::on_msg(state, m),
        Msg::Queue(info) => {
            super::queue::on_info(state, info);
            Vec::new()
        }
        Msg::Preflight { key_var, searched } => {
            super::preflight::start(state, key_var.as_deref(), &searched)
        }
        Msg::Destination(text) => {
            if state.destination.as_deref() != Some(text.as_str()) {
                state.notice(Level::Error, text.clone());
                state.destination = Some(text);
                state.dirty = true;
            }
            Vec::new()
        }
        Msg::Probed {
            verdict,
            url_problems,
        } => {
            super::preflight::probed(state, &verdict, &url_problems);
            Vec::new()
        }
        Msg::Copied { text, route } => {
            copy::copied(state, text, route);
            Vec::new()
        }
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

/// The selection was set directly (the palette's `:goto`): the open detail pane loads it.
pub fn selection_moved(state: &mut State) -> Vec<Effect> {
    state.detail_scroll = 0;
    state.dirty = true;
    load_history_effect(state)
}

fn load_history_effect(state: &State) -> Vec<Effect> {
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
fn reload_detail_if_moved(state: &State, before: Option<String>) -> Vec<Effect> {
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

/// A click on a table row selects it (and focuses the table); a click in the detail pane
/// focuses it. Clicks under an overlay do nothing.
fn click(state: &mut State, column: u16, row: u16) -> Vec<Effect> {
    if state.overlay != Overlay::None {
        return Vec::new();
    }
    let areas = super::layout::areas(state.size, state.detail);
    let inside = |r: ratatui::layout::Rect| {
        column >= r.x && column < r.x + r.width && row >= r.y && row < r.y + r.height
    };
    if areas.detail.is_some_and(inside) {
        state.focus = Focus::Detail;
        state.dirty = true;
        return Vec::new();
    }
    // The table's first two lines are its title and the column header.
    let first = areas.table.y + 2;
    if !inside(areas.table) || row < first {
        return Vec::new();
    }
    let index = state.offset + usize::from(row - first);
    let Some(&task) = state.order.get(index) else {
        return Vec::new();
    };
    state.selected = Some(state.tasks[task].local_id.to_string());
    state.focus = Focus::Table;
    state.detail_scroll = 0;
    state.keep_selection_visible();
    state.dirty = true;
    load_history_effect(state)
}

/// Typing into the filter line (the router sends only characters and Backspace here).
fn filter_typing(state: &mut State, key: &KeyEvent) -> Vec<Effect> {
    let Some(input) = state.filter_input.as_mut() else {
        return Vec::new();
    };
    match key.code {
        KeyCode::Char(c) => input.push(c),
        KeyCode::Backspace => {
            input.pop();
        }
        _ => return Vec::new(),
    }
    let filter = Filter::parse(input);
    // A keystroke that extends the query narrows the rows already shown (no re-sort).
    if filter.narrows(&state.filter) {
        state.filter = filter;
        state.narrow();
    } else {
        state.filter = filter;
        state.refilter();
    }
    Vec::new()
}

fn move_by(state: &mut State, delta: isize) {
    if state.order.is_empty() {
        return;
    }
    let row = state.selected_row().unwrap_or(0) as isize;
    let last = state.order.len() as isize - 1;
    let new = (row + delta).clamp(0, last) as usize;
    state.selected = Some(state.tasks[state.order[new]].local_id.to_string());
    state.detail_scroll = 0;
    state.keep_selection_visible();
    state.dirty = true;
}

/// Apply an intent.
pub fn apply(state: &mut State, intent: Intent) -> Vec<Effect> {
    state.dirty = true;
    let page = state.table_height().max(1) as isize;
    // The search line's keys, and `/` / `n` where a search applies (help, the detail pane).
    let typing_search = state.search.as_ref().is_some_and(|s| s.typing);
    match intent {
        Intent::Confirm if typing_search => return super::find::confirm(state),
        Intent::Close if typing_search => return super::find::cancel(state),
        Intent::StartFilter if super::find::searches_here(state) => {
            return super::find::start(state);
        }
        // Over the log, the summary or a text to copy, `/` does nothing.
        Intent::StartFilter if state.overlay != Overlay::None => return Vec::new(),

        Intent::NewDraft if super::find::active(state).is_some() => {
            return super::find::next(state);
        }
        // Esc drops a kept search before anything else closes.
        Intent::Close | Intent::ClearFilter if super::find::active(state).is_some() => {
            return super::find::cancel(state);
        }
        _ => {}
    }
    match (&state.overlay, intent) {
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
        (_, Intent::MoveDown) if state.focus == Focus::Detail => {
            state.detail_scroll = state.detail_scroll.saturating_add(1);
            Vec::new()
        }
        (_, Intent::MoveUp) if state.focus == Focus::Detail => {
            state.detail_scroll = state.detail_scroll.saturating_sub(1);
            Vec::new()
        }
        (_, Intent::PageDown) if state.focus == Focus::Detail => {
            state.detail_scroll = state.detail_scroll.saturating_add(page as u16);
            Vec::new()
        }
        (_, Intent::PageUp) if state.focus == Focus::Detail => {
            state.detail_scroll = state.detail_scroll.saturating_sub(page as u16);
            Vec::new()
        }
        (_, Intent::MoveDown) => {
            move_by(state, 1);
            load_history_effect(state)
        }
        (_, Intent::MoveUp) => {
            move_by(state, -1);
            load_history_effect(state)
        }
        (_, Intent::PageDown) => {
            move_by(state, page);
            load_history_effect(state)
        }
        (_, Intent::PageUp) => {
            move_by(state, -page);
            load_history_effect(state)
        }
        (_, Intent::Top) => {
            move_by(state, isize::MIN / 2);
            load_history_effect(state)
        }
        (_, Intent::Bottom) => {
            move_by(state, isize::MAX / 2);
            load_history_effect(state)
        }
        (_, Intent::ToggleDetail) => {
            state.detail = match state.detail {
                DetailMode::Hidden => DetailMode::Split,
                _ => DetailMode::Hidden,
            };
            if state.detail == DetailMode::Hidden {
                state.focus = Focus::Table;
            }
            state.detail_scroll = 0;
            state.keep_selection_visible();
            load_history_effect(state)
        }
        (_, Intent::FullDetail) => {
            state.detail = match state.detail {
                DetailMode::Full => DetailMode::Split,
                _ => DetailMode::Full,
            };
            state.focus = Focus::Detail;
            state.keep_selection_visible();
            load_history_effect(state)
        }
        (_, Intent::FocusNext) => {
            state.focus = match (state.focus, state.detail) {
                (_, DetailMode::Hidden) => Focus::Table,
                // The table is hidden behind a full-screen detail pane.
                (_, DetailMode::Full) => Focus::Detail,
                (Focus::Table, _) => Focus::Detail,
                (Focus::Detail, _) => Focus::Table,
            };
            Vec::new()
        }
        (_, Intent::StartFilter) => {
            state.filter_input = Some(state.filter.text.clone());
            Vec::new()
        }
        // `Esc` pops one level, innermost first (as in k9s): the detail pane, then the marks,
        // then the filter.
        (_, Intent::ClearFilter) => {
            if state.detail != DetailMode::Hidden {
                state.detail = DetailMode::Hidden;
                state.focus = Focus::Table;
            } else if !state.marks.is_empty() {
                state.marks.clear();
            } else if !state.filter.is_empty() || state.quick.is_some() {
                state.filter = Filter::default();
                state.quick = None;
                state.refilter();
            }
            Vec::new()
        }
        (_, Intent::SearchNext) => super::find::next(state),
        (_, Intent::Palette) => super::palette::open(state),
        (_, Intent::Columns) => super::columns::open(state),
        (_, Intent::SortMenu) => {
            state.overlay = Overlay::SortMenu;
            Vec::new()
        }
        (_, Intent::SortBy(key)) => {
            state.overlay = Overlay::None;
            // The same column again flips the direction.
            if state.sort == key {
                state.sort_desc = !state.sort_desc;
            } else {
                state.sort = key;
                // The queue reads from its next line down; the others newest or most first.
                state.sort_desc = key != SortKey::Queue;
            }
            state.refilter();
            Vec::new()
        }
        (_, Intent::SortReverse) => {
            state.sort_desc = !state.sort_desc;
            state.refilter();
            Vec::new()
        }
        (_, Intent::QuickFilter(n)) => {
            state.quick = if state.quick == Some(n) {
                None
            } else {
                Some(n)
            };
            state.refilter();
            Vec::new()
        }
        (_, Intent::ToggleMark) => {
            if let Some(id) = state.selected.clone()
                && !state.marks.remove(&id)
            {
                state.marks.insert(id);
            }
            move_by(state, 1);
            Vec::new()
        }
        (_, Intent::MarkAll) => {
            let visible: Vec<String> = state
                .order
                .iter()
                .map(|&i| state.tasks[i].local_id.to_string())
                .collect();
            if visible.iter().all(|id| state.marks.contains(id)) {
                state.marks.clear();
            } else {
                state.marks.extend(visible);
            }
            Vec::new()
        }
        (_, Intent::QueuePause | Intent::QueueUp | Intent::QueueDown | Intent::QueueRemove) => {
            super::queue::apply(state, intent)
        }
        (_, Intent::TogglePause) => {
            let paused = !state.health.paused;
            state.health.paused = paused;
            if !paused {
                state.health.banner = None;
            }
            state.notice(
                Level::Info,
                if paused {
                    "polling paused"
                } else {
                    "polling resumed"
                },
            );
            vec![Effect::SetPaused(paused)]
        }
        (_, Intent::RefreshNow) => {
            state.notice(Level::Info, "refreshing every unfinished task");
            vec![Effect::RefreshNow]
        }
        (_, Intent::CopyMenu) => {
            if state.selected_task().is_some() {
                state.overlay = Overlay::CopyMenu;
            }
            Vec::new()
        }
        (_, Intent::Help) => {
            state.overlay = Overlay::Help { scroll: 0 };
            Vec::new()
        }
        (_, Intent::ShowLog) => {
            state.overlay = Overlay::Log { scroll: 0 };
            state.unseen_events = 0;
            Vec::new()
        }
        (_, Intent::CycleTheme) => {
            state.theme_index = (state.theme_index + 1) % state.themes.len().max(1);
            let name = state.theme().name.clone();
            state.notice(Level::Info, format!("theme: {name}"));
            Vec::new()
        }
        (_, Intent::CancelTask) => {
            let local: Vec<String> = state
                .targets()
                .into_iter()
                .filter(|t| never_reached_server(t))
                .map(|t| t.local_id.to_string())
                .collect();
            if !local.is_empty() {
                state.overlay = Overlay::Confirm(Question::RemoveLocal { local_ids: local });
                return Vec::new();
            }
            match state.selected_task() {
                Some(t) if t.phase == Phase::Remote(TaskStatus::Queued) => {
                    state.overlay = Overlay::Confirm(Question::Cancel {
                        local_id: t.local_id.to_string(),
                    });
                }
                Some(t) => {
                    let msg = format!(
                        "only queued tasks can be cancelled ({} is {})",
                        t.display_id(),
                        t.phase
                    );
                    state.notice(Level::Warn, msg);
                }
                None => {}
            }
            Vec::new()
        }
        (_, Intent::Adopt) => {
            let Some(t) = state.selected_task() else {
                return Vec::new();
            };
            let candidate = (t.phase == Phase::SubmitUnknown
                && t.error_code() == Some(crate::engine::reconcile::PROBABLE))
            .then(|| {
                t.error_message()
                    .and_then(crate::engine::reconcile::probable_candidate)
            })
            .flatten();
            match candidate {
                Some(task_id) => {
                    state.overlay = Overlay::Confirm(Question::Adopt {
                        local_id: t.local_id.to_string(),
                        task_id: task_id.to_string(),
                    });
                }
                None => {
                    let msg = format!(
                        "{}: nothing to adopt (only an uncertain create with a probable match on the server)",
                        t.display_id()
                    );
                    state.notice(Level::Warn, msg);
                }
            }
            Vec::new()
        }
        (_, Intent::Suspend) => vec![Effect::Suspend],
        (_, Intent::Quit) => {
            // The composer's submission counts before the store reports its row.
            let composing = usize::from(state.composer.submitting.is_some());
            let in_flight = state.in_flight().max(composing);
            if in_flight > 0 {
                state.overlay = Overlay::Confirm(Question::Quit { in_flight });
                Vec::new()
            } else {
                vec![Effect::Quit]
            }
        }
        (_, Intent::ForceQuit) => vec![Effect::Quit],
        (_, Intent::Retry) => {
            let targets: Vec<TaskRow> = state.targets().into_iter().cloned().collect();
            ask_retry(state, targets);
            Vec::new()
        }
        (_, Intent::RetryAllFailed) => {
            let targets: Vec<TaskRow> = state
                .order
                .iter()
                .map(|&i| state.tasks[i].clone())
                .filter(|t| t.phase == Phase::Remote(TaskStatus::Failed))
                .collect();
            ask_retry(state, targets);
            Vec::new()
        }
        (_, Intent::NewDraft) => composer::new_draft(state),
        (_, Intent::Edit) => composer::edit_task(state),
        (_, Intent::Composer(ci)) => composer::apply(state, ci),
        (_, Intent::Download) => results::download(state),
        (_, Intent::Open) => results::open(state),
        (_, Intent::Summary) => results::show_summary(state),
        (_, Intent::Copy(what)) => copy::copy(state, what),
    }
}

/// A row no task on the server stands behind: refused before or by the create (no id), so
/// removing it loses nothing but the record. A row whose outcome is unknown may exist there.
pub fn never_reached_server(t: &TaskRow) -> bool {
    t.task_id.is_none() && t.phase == Phase::Rejected
}

/// Ask once, with the count and the estimated tokens, before resubmitting `targets`.
fn ask_retry(state: &mut State, targets: Vec<TaskRow>) {
    let total = targets.len();
    let retryable: Vec<&TaskRow> = targets
        .iter()
        .filter(|t| crate::engine::retryable(*t))
        .collect();
    // A retry chain is retried only at its head: skip (and name) what was already retried.
    let mut already = Vec::new();
    let mut chosen = Vec::new();
    for t in retryable {
        match retried_by(state, &t.local_id) {
            Some(newer) => already.push(format!(
                "{} → {} ({})",
                t.display_id(),
                newer.display_id(),
                newer.phase
            )),
            None => chosen.push(t),
        }
    }
    if chosen.is_empty() && !already.is_empty() {
        state.notice(
            Level::Warn,
            format!("nothing to retry: already retried {}", already.join(", ")),
        );
        return;
    }
    if chosen.is_empty() {
        let msg = if total == 0 {
            "nothing to retry: select or mark failed, expired or cancelled tasks".to_string()
        } else {
            format!("nothing to retry: {total} task(s) are not failed, expired or cancelled")
        };
        state.notice(Level::Warn, msg);
        return;
    }
    let planned: Vec<crate::engine::budget::Planned> = chosen
        .iter()
        .map(|t| crate::engine::budget::Planned::task(*t))
        .collect();
    let adding = state.cap.spend_of(&planned);
    let tokens = adding.tokens;
    let over_budget = crate::engine::budget::check(&state.cap, state.spent_today, adding)
        .err()
        .map(|o| o.to_string());
    let unfixable = chosen
        .iter()
        .filter(|t| {
            t.phase == Phase::Rejected
                || t.error_code()
                    .is_some_and(|c| !crate::api::hints::retry_can_help(c))
        })
        .map(|t| t.error_code().unwrap_or("rejected").to_string())
        .collect();
    let unknown = chosen
        .iter()
        .filter(|t| t.phase == Phase::SubmitUnknown)
        .count();
    let input_video_unread = chosen.iter().filter(|t| t.spec.input_video_unread).count();
    state.overlay = Overlay::Confirm(Question::Retry(RetryPlan {
        local_ids: chosen.iter().map(|t| t.local_id.to_string()).collect(),
        tokens,
        unfixable,
        unknown,
        skipped: total - chosen.len() - already.len(),
        already,
        over_budget,
        input_video_unread,
    }));
}

/// The newest retry of `local_id` that makes it no longer the head of its chain (any retry that
/// was not rejected); the executor's store check (`Store::begin_retry`) is the final word.
fn retried_by<'a>(state: &'a State, local_id: &str) -> Option<&'a TaskRow> {
    state
        .tasks
        .iter()
        .filter(|t| t.retry_of() == Some(local_id) && t.phase != Phase::Rejected)
        .max_by_key(|t| (t.created_at, t.local_id.to_string()))
}

fn set_scroll(state: &mut State, s: u16) {
    state.overlay = match state.overlay {
        Overlay::Help { .. } => Overlay::Help { scroll: s },
        Overlay::Log { .. } => Overlay::Log { scroll: s },
        ref other => other.clone(),
    };
}
