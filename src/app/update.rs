//! The reducer: `update(&mut State, Msg) -> Vec<Effect>`. Pure and synchronous: no IO, no clock
//! reads, no awaits. `app::router` says where each input goes; `update` is the only caller of
//! the composer's and the dashboard's reducers. The dashboard's reducers live by context:
//! `overlay`, `navigation`, `task_actions`, `queue`, `tasks` (rows arriving), `composer`.

use super::effect::Effect;
use super::filter::Filter;
use super::msg::{Intent, Level, Msg};
use super::router::{self, Route};
use super::state::{Overlay, State};
use super::{composer, copy, navigation, overlay, results, task_actions, tasks};

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
            Route::FilterText => navigation::filter_typing(state, &key),
            Route::SearchText => super::find::typing(state, &key),
            Route::Palette => super::palette::key(state, &key, apply),
            Route::Columns => super::column_chooser::key(state, &key),
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
            navigation::click(state, column, row)
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
        msg @ (Msg::TasksLoaded(_)
        | Msg::MoreTasksLoaded(_)
        | Msg::TasksChanged(_)
        | Msg::TasksRemoved(_)
        | Msg::History { .. }
        | Msg::Bodies { .. }
        | Msg::PollFailed { .. }
        | Msg::Health(_)
        | Msg::Eta(_)) => tasks::on_msg(state, msg),
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
        Msg::DayStarted {
            today_start,
            shared,
        } => {
            state.today_start = today_start;
            state.today_shared = shared;
            state.recompute();
            state.dirty = true;
            Vec::new()
        }
        Msg::Resumed { error } => {
            if let Some(e) = error {
                state.notice(Level::Error, format!("could not resume the terminal: {e}"));
            }
            state.dirty = true;
            Vec::new()
        }
        Msg::Opened {
            level,
            text,
            copying,
        } => {
            state.notice(level, text);
            if copying.is_some() {
                state.copy_label = copying;
            }
            Vec::new()
        }
    }
}

/// Apply an intent: a search's keys first, then the overlay's, then moving, then acting.
pub(crate) fn apply(state: &mut State, intent: Intent) -> Vec<Effect> {
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
    if let Some(effects) = overlay::apply(state, intent) {
        return effects;
    }
    if let Some(effects) = navigation::apply(state, intent, page) {
        return effects;
    }
    task_actions::apply(state, intent)
}
