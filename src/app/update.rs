//! The reducer: `update(&mut State, Msg) -> Vec<Effect>`. Pure and synchronous: no IO, no clock
//! reads, no awaits. Keys become intents through the keymap first.

use super::effect::Effect;
use super::filter::Filter;
use super::keymap::Context;
use super::msg::{Intent, Level, Msg};
use super::results;
use super::state::{DetailMode, Focus, Overlay, Question, RetryPlan, State};
use crate::api::TaskStatus;
use crate::store::{Phase, TaskRecord};
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// Apply one message.
pub fn update(state: &mut State, msg: Msg) -> Vec<Effect> {
    // Between `n` and the draft arriving from the store, what is typed is meant for the
    // composer: keep it and replay it once the composer is open, so no keystroke is lost (and
    // none reaches the dashboard's keys).
    if state.composer.opening && matches!(msg, Msg::Key(_) | Msg::Paste(_)) {
        state.composer.pending.push(msg);
        return Vec::new();
    }
    match msg {
        Msg::Key(key) => {
            if key.kind == KeyEventKind::Release {
                return Vec::new();
            }
            on_key(state, key)
        }
        Msg::Paste(text) => {
            if let Some(effects) = super::composer::on_paste(state, &text) {
                return effects;
            }
            if let Some(input) = state.filter_input.as_mut() {
                input.push_str(&text.replace(['\n', '\r'], " "));
                let f = Filter::parse(input);
                state.filter = f;
                state.recompute();
            }
            Vec::new()
        }
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
            effects.extend(super::composer::on_tick(state));
            effects
        }
        Msg::Composer(m) => super::composer::on_msg(state, m),
        Msg::TasksLoaded(rows) => {
            state.replace_all(rows);
            load_history_effect(state)
        }
        Msg::TasksChanged(rows) => {
            let selected_changed = state
                .selected
                .as_ref()
                .is_some_and(|s| rows.iter().any(|r| &r.local_id == s));
            for r in &rows {
                if let Some(old) = state.task(&r.local_id)
                    && old.phase != r.phase
                {
                    announce(state, r);
                    results::on_phase_change(state, r);
                }
            }
            state.upsert(rows);
            let mut fx = results::flush_notifications(state);
            if selected_changed && state.detail != DetailMode::Hidden {
                fx.extend(load_history_effect(state));
            }
            fx
        }
        Msg::History { local_id, entries } => {
            state.histories.insert(local_id, entries);
            state.dirty = true;
            Vec::new()
        }
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
            state.notice(level, format!("{id}: {error}"));
            Vec::new()
        }
        Msg::Health(h) => {
            if h != state.health {
                state.health = h;
                state.dirty = true;
            }
            Vec::new()
        }
        Msg::Notice { level, text } => {
            state.notice(level, text);
            Vec::new()
        }
        Msg::Results(m) => results::on_msg(state, m),
    }
}

/// A line in the log when a task finishes or fails.
fn announce(state: &mut State, r: &crate::store::TaskRecord) {
    let id = r.display_id().to_string();
    match &r.phase {
        Phase::Remote(TaskStatus::Succeeded) => {
            state.notice(Level::Info, format!("{id} succeeded"))
        }
        Phase::Remote(TaskStatus::Failed) => {
            let code = r.error_code.clone().unwrap_or_default();
            state.notice(Level::Error, format!("{id} failed {code}"));
        }
        Phase::Remote(TaskStatus::Expired) => state.notice(Level::Warn, format!("{id} expired")),
        Phase::SubmitUnknown => state.notice(
            Level::Error,
            format!("{id}: the submission's outcome is unknown; it was not re-sent"),
        ),
        Phase::Rejected => state.notice(Level::Error, format!("{id} was rejected")),
        _ => {}
    }
}

fn load_history_effect(state: &State) -> Vec<Effect> {
    match (&state.detail, state.selected.as_ref()) {
        (DetailMode::Hidden, _) | (_, None) => Vec::new(),
        (_, Some(id)) => {
            let mut fx = vec![Effect::LoadHistory(id.clone())];
            fx.extend(results::preview_effect(state));
            fx
        }
    }
}

fn on_key(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    if let Some(effects) = super::composer::on_key(state, &key) {
        return effects;
    }
    let context = state.context();
    if context == Context::Filter
        && let Some(effects) = filter_typing(state, &key)
    {
        return effects;
    }
    match state.keymap.lookup(context, &key) {
        Some(intent) => apply(state, intent),
        None => Vec::new(),
    }
}

/// Typing into the filter line; `None` lets the keymap handle the key (Enter, Esc).
fn filter_typing(state: &mut State, key: &KeyEvent) -> Option<Vec<Effect>> {
    let input = state.filter_input.as_mut()?;
    match key.code {
        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => input.push(c),
        KeyCode::Backspace => {
            input.pop();
        }
        _ => return None,
    }
    state.filter = Filter::parse(input);
    state.recompute();
    Some(Vec::new())
}

fn move_by(state: &mut State, delta: isize) {
    if state.order.is_empty() {
        return;
    }
    let row = state.selected_row().unwrap_or(0) as isize;
    let last = state.order.len() as isize - 1;
    let new = (row + delta).clamp(0, last) as usize;
    state.selected = Some(state.tasks[state.order[new]].local_id.clone());
    state.detail_scroll = 0;
    state.keep_selection_visible();
    state.dirty = true;
}

/// Apply an intent.
pub fn apply(state: &mut State, intent: Intent) -> Vec<Effect> {
    state.dirty = true;
    let page = state.table_height().max(1) as isize;
    match (&state.overlay, intent) {
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
                Question::Retry(plan) => {
                    state.notice(
                        Level::Info,
                        format!("retrying {} task(s)…", plan.local_ids.len()),
                    );
                    vec![Effect::Retry(plan.local_ids)]
                }
            }
        }
        (_, Intent::Close | Intent::Deny) => {
            if state.filter_input.take().is_some() {
                state.filter = Filter::default();
                state.recompute();
            }
            state.overlay = Overlay::None;
            Vec::new()
        }
        (
            Overlay::CopyMenu,
            i @ (Intent::CopyId | Intent::CopyVideoUrl | Intent::CopyRequest | Intent::CopyCurl),
        ) => {
            state.overlay = Overlay::None;
            copy(state, i)
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
        (Overlay::CopyMenu, i @ (Intent::CopyFrameUrl | Intent::CopyPaths)) => {
            state.overlay = Overlay::None;
            results::copy(state, i)
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
                (Focus::Table, _) => Focus::Detail,
                (Focus::Detail, _) => Focus::Table,
            };
            Vec::new()
        }
        (_, Intent::StartFilter) => {
            state.filter_input = Some(state.filter.text.clone());
            Vec::new()
        }
        (_, Intent::ClearFilter) => {
            state.filter = Filter::default();
            state.quick = None;
            state.marks.clear();
            state.detail = DetailMode::Hidden;
            state.focus = Focus::Table;
            state.recompute();
            Vec::new()
        }
        (_, Intent::SortNext) => {
            state.sort = state.sort.next();
            state.recompute();
            state.notice(Level::Info, format!("sorted by {}", state.sort.label()));
            Vec::new()
        }
        (_, Intent::SortReverse) => {
            state.sort_desc = !state.sort_desc;
            state.recompute();
            Vec::new()
        }
        (_, Intent::QuickFilter(n)) => {
            state.quick = if state.quick == Some(n) {
                None
            } else {
                Some(n)
            };
            state.recompute();
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
                .map(|&i| state.tasks[i].local_id.clone())
                .collect();
            if visible.iter().all(|id| state.marks.contains(id)) {
                state.marks.clear();
            } else {
                state.marks.extend(visible);
            }
            Vec::new()
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
            Vec::new()
        }
        (_, Intent::CycleTheme) => {
            state.theme_index = (state.theme_index + 1) % state.themes.len().max(1);
            let name = state.theme().name.clone();
            state.notice(Level::Info, format!("theme: {name}"));
            Vec::new()
        }
        (_, Intent::CancelTask) => {
            match state.selected_task() {
                Some(t) if t.phase == Phase::Remote(TaskStatus::Queued) => {
                    state.overlay = Overlay::Confirm(Question::Cancel {
                        local_id: t.local_id.clone(),
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
            let targets: Vec<TaskRecord> = state.targets().into_iter().cloned().collect();
            ask_retry(state, targets);
            Vec::new()
        }
        (_, Intent::RetryAllFailed) => {
            let targets: Vec<TaskRecord> = state
                .order
                .iter()
                .map(|&i| state.tasks[i].clone())
                .filter(|t| t.phase == Phase::Remote(TaskStatus::Failed))
                .collect();
            ask_retry(state, targets);
            Vec::new()
        }
        (_, Intent::NewDraft) => super::composer::new_draft(state),
        (_, Intent::Edit) => super::composer::edit_task(state),
        (_, Intent::Composer(ci)) => super::composer::apply(state, ci),
        (_, Intent::Download) => results::download(state),
        (_, Intent::Open) => results::open(state),
        (_, Intent::Summary) => results::show_summary(state),
        (_, Intent::CopyFrameUrl | Intent::CopyPaths) => results::copy(state, intent),
        (_, Intent::CopyId | Intent::CopyVideoUrl | Intent::CopyRequest | Intent::CopyCurl) => {
            copy(state, intent)
        }
    }
}

/// Whether a task may be resubmitted: it failed, expired or was cancelled, or its submission's
/// outcome is unknown (the user decides), or it was rejected (it will be again, unless edited).
fn retryable(t: &TaskRecord) -> bool {
    match &t.phase {
        Phase::Remote(s) => s.is_retryable(),
        Phase::SubmitUnknown | Phase::Rejected => true,
        Phase::Submitting => false,
    }
}

/// Ask once, with the count and the estimated tokens, before resubmitting `targets`.
fn ask_retry(state: &mut State, targets: Vec<TaskRecord>) {
    let total = targets.len();
    let chosen: Vec<&TaskRecord> = targets.iter().filter(|t| retryable(t)).collect();
    if chosen.is_empty() {
        let msg = if total == 0 {
            "nothing to retry: select or mark failed, expired or cancelled tasks".to_string()
        } else {
            format!("nothing to retry: {total} task(s) are not failed, expired or cancelled")
        };
        state.notice(Level::Warn, msg);
        return;
    }
    let tokens = chosen
        .iter()
        .filter_map(|t| t.request())
        // Reference-video seconds are unknown here: the estimate counts the model's minimum.
        .map(|r| crate::api::models::estimate_request_tokens(&r, 0.0))
        .sum();
    let unfixable = chosen
        .iter()
        .filter(|t| {
            t.phase == Phase::Rejected
                || t.error_code
                    .as_deref()
                    .is_some_and(|c| !crate::api::hints::retry_can_help(c))
        })
        .map(|t| t.error_code.clone().unwrap_or_else(|| "rejected".into()))
        .collect();
    let unknown = chosen
        .iter()
        .filter(|t| t.phase == Phase::SubmitUnknown)
        .count();
    state.overlay = Overlay::Confirm(Question::Retry(RetryPlan {
        local_ids: chosen.iter().map(|t| t.local_id.clone()).collect(),
        tokens,
        unfixable,
        unknown,
        skipped: total - chosen.len(),
    }));
}

fn set_scroll(state: &mut State, s: u16) {
    state.overlay = match state.overlay {
        Overlay::Help { .. } => Overlay::Help { scroll: s },
        Overlay::Log { .. } => Overlay::Log { scroll: s },
        ref other => other.clone(),
    };
}

/// A `curl` command that re-sends a request body, with the key left in the environment
/// variable `key_var` (the one it was read from).
pub fn curl_command(base_url: &str, key_var: &str, request_json: &str) -> String {
    let body = request_json.replace('\'', "'\\''");
    format!(
        "curl -sS -X POST '{}/contents/generations/tasks' \\\n  -H 'Content-Type: application/json' \\\n  -H \"Authorization: Bearer ${key_var}\" \\\n  --data-raw '{body}'",
        base_url.trim_end_matches('/')
    )
}

fn copy(state: &mut State, what: Intent) -> Vec<Effect> {
    let Some(t) = state.selected_task() else {
        return Vec::new();
    };
    let (text, label) = match what {
        Intent::CopyId => (Some(t.display_id().to_string()), "task id"),
        Intent::CopyVideoUrl => (t.video_url.clone(), "video URL"),
        Intent::CopyRequest => (
            Some(
                serde_json::from_str::<serde_json::Value>(&t.request_json)
                    .ok()
                    .and_then(|v| serde_json::to_string_pretty(&v).ok())
                    .unwrap_or_else(|| t.request_json.clone()),
            ),
            "request JSON",
        ),
        _ => (
            Some(curl_command(
                &state.base_url,
                &state.key_var,
                &t.request_json,
            )),
            "curl command",
        ),
    };
    copy_text(state, text, label)
}

/// Copy `text` to the clipboard and say so, or warn that the task has no `label` yet.
pub(crate) fn copy_text(state: &mut State, text: Option<String>, label: &str) -> Vec<Effect> {
    match text {
        Some(text) => {
            state.notice(Level::Info, format!("copied the {label}"));
            vec![Effect::Copy(text)]
        }
        None => {
            state.notice(Level::Warn, format!("this task has no {label} yet"));
            Vec::new()
        }
    }
}
