//! Moving around the dashboard: the selection, pages, the detail pane and focus, the filter
//! and sort, marks; the mouse's click and the filter line's typing.

use super::effect::Effect;
use super::filter::Filter;
use super::msg::Intent;
use super::state::{DetailMode, Focus, Overlay, SortKey, State};
use super::tasks::load_history_effect;
use crossterm::event::{KeyCode, KeyEvent};

/// The answer to a moving intent, or `None` when `intent` is not one. `page` is the table's
/// height in rows.
pub(super) fn apply(state: &mut State, intent: Intent, page: isize) -> Option<Vec<Effect>> {
    Some(match (&state.overlay, intent) {
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
        _ => return None,
    })
}

/// A click on a table row selects it (and focuses the table); a click in the detail pane
/// focuses it. Clicks under an overlay do nothing.
pub(super) fn click(state: &mut State, column: u16, row: u16) -> Vec<Effect> {
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
pub(super) fn filter_typing(state: &mut State, key: &KeyEvent) -> Vec<Effect> {
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
