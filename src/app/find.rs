//! Finding things in what is on screen: `/` searches the help and the detail pane (typed on the
//! footer's line; `Enter` keeps it, `n` the next match, `Esc` drops it), and `Enter` in the
//! message log goes to the task its top line names.

use super::effect::Effect;
use super::msg::Level;
use super::state::{DetailMode, Focus, Overlay, State};
pub(crate) use super::types::overlays::Search;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Whether `/` searches (the help is open, or the detail pane has the keyboard) rather than
/// filters the table.
pub(crate) fn searches_here(state: &State) -> bool {
    matches!(state.overlay, Overlay::Help { .. })
        || (state.overlay == Overlay::None
            && state.focus == Focus::Detail
            && state.detail != DetailMode::Hidden)
}

/// `/`: start typing a search.
pub(crate) fn start(state: &mut State) -> Vec<Effect> {
    state.search = Some(Search {
        typing: true,
        ..Search::default()
    });
    state.dirty = true;
    Vec::new()
}

/// A character or Backspace for the search line.
pub(crate) fn typing(state: &mut State, key: &KeyEvent) -> Vec<Effect> {
    if let Some(s) = state.search.as_mut() {
        match key.code {
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => s.text.push(c),
            KeyCode::Backspace => {
                s.text.pop();
            }
            _ => {}
        }
        s.nth = 0;
        state.dirty = true;
    }
    Vec::new()
}

/// `Enter` on the search line keeps the search (an empty one is dropped).
pub(crate) fn confirm(state: &mut State) -> Vec<Effect> {
    match state.search.as_mut() {
        Some(s) if !s.text.is_empty() => s.typing = false,
        _ => state.search = None,
    }
    state.dirty = true;
    Vec::new()
}

/// `Esc` on the search line, or with a search kept: drop it.
pub(crate) fn cancel(state: &mut State) -> Vec<Effect> {
    state.search = None;
    state.dirty = true;
    Vec::new()
}

/// `n` with a search kept: the next match.
pub(crate) fn next(state: &mut State) -> Vec<Effect> {
    if let Some(s) = state.search.as_mut() {
        s.nth = s.nth.wrapping_add(1);
        state.dirty = true;
    }
    Vec::new()
}

/// The search that applies to what is on screen, when one is kept or typed.
pub(crate) fn active(state: &State) -> Option<&Search> {
    state
        .search
        .as_ref()
        .filter(|s| !s.text.is_empty() && searches_here(state))
}

/// The lines of `lines` (their text) that contain the search, case-insensitive.
pub(crate) fn matches<'a>(search: &Search, lines: impl Iterator<Item = &'a str>) -> Vec<usize> {
    let needle = search.text.to_lowercase();
    lines
        .enumerate()
        .filter(|(_, l)| l.to_lowercase().contains(&needle))
        .map(|(i, _)| i)
        .collect()
}

/// The task a log line names (its id or local id, as the log writes them).
fn task_named(state: &State, text: &str) -> Option<String> {
    text.split(|c: char| c.is_whitespace() || matches!(c, ':' | ',' | '(' | ')' | '`'))
        .filter(|w| w.len() >= 5)
        .find_map(|w| {
            state
                .tasks
                .iter()
                .find(|t| t.display_id() == w || *t.local_id == *w)
                .map(|t| t.local_id.to_string())
        })
}

/// `Enter` in the message log: the task the top line names (or the first line below it that
/// names one) is selected in the table, with the detail pane open.
pub(crate) fn goto_from_log(state: &mut State, scroll: u16) -> Vec<Effect> {
    let found = state
        .messages
        .iter()
        .rev()
        .skip(usize::from(scroll))
        .find_map(|m| task_named(state, &m.text));
    let Some(local_id) = found else {
        state.notice(
            Level::Warn,
            "no log line from here down names a task in the table",
        );
        return Vec::new();
    };
    state.overlay = Overlay::None;
    if !state
        .order
        .iter()
        .any(|&i| *state.tasks[i].local_id == *local_id)
    {
        state.filter = super::filter::Filter::default();
        state.quick = None;
        state.refilter();
    }
    state.selected = Some(local_id);
    state.keep_selection_visible();
    if state.detail == DetailMode::Hidden {
        state.detail = DetailMode::Split;
    }
    super::tasks::selection_moved(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_are_case_insensitive_lines() {
        let s = Search {
            text: "Retry".into(),
            typing: false,
            nth: 0,
        };
        let lines = ["r retry the task", "quit", "RETRY failed"];
        assert_eq!(matches(&s, lines.iter().copied()), vec![0, 2]);
    }
}
