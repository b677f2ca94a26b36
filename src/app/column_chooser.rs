//! The column chooser (`c`), a popup of its own: which columns show and in what order, saved as
//! `[ui] columns` in the config.

use super::columns::Col;
use super::effect::Effect;
use super::keymap::Context;
use super::msg::Intent;
use super::state::{Overlay, State};
use crossterm::event::KeyEvent;

/// The chooser's rows: the shown columns in their order, then the hidden ones.
pub(crate) fn rows(state: &State) -> Vec<(Col, bool)> {
    let mut out: Vec<(Col, bool)> = state.columns.iter().map(|c| (*c, true)).collect();
    out.extend(
        Col::ALL
            .iter()
            .filter(|c| !state.columns.contains(c))
            .map(|c| (*c, false)),
    );
    out
}

/// Open the chooser.
pub(crate) fn open(state: &mut State) -> Vec<Effect> {
    state.overlay = Overlay::Columns { selected: 0 };
    state.dirty = true;
    Vec::new()
}

/// A key in the chooser (`Context::Columns`): move, show or hide, move the column left or
/// right, close (and save).
pub(crate) fn key(state: &mut State, key: &KeyEvent) -> Vec<Effect> {
    let Overlay::Columns { selected } = state.overlay else {
        return Vec::new();
    };
    state.dirty = true;
    let list = rows(state);
    let last = list.len().saturating_sub(1);
    let at = selected.min(last);
    let select = |state: &mut State, i: usize| {
        state.overlay = Overlay::Columns { selected: i };
    };
    match state.keymap.lookup(Context::Columns, key) {
        Some(Intent::MoveDown) => select(state, (at + 1).min(last)),
        Some(Intent::MoveUp) => select(state, at.saturating_sub(1)),
        Some(Intent::ToggleMark) => {
            let (col, shown) = list[at];
            if shown {
                // One column at least stays.
                if state.columns.len() > 1 {
                    state.columns.retain(|c| *c != col);
                }
            } else {
                state.columns.push(col);
            }
            let now = rows(state)
                .iter()
                .position(|(c, _)| *c == col)
                .unwrap_or(at);
            select(state, now);
        }
        Some(i @ (Intent::QueueUp | Intent::QueueDown)) => {
            let (col, shown) = list[at];
            if shown && let Some(p) = state.columns.iter().position(|c| *c == col) {
                let q = if i == Intent::QueueUp {
                    p.saturating_sub(1)
                } else {
                    (p + 1).min(state.columns.len() - 1)
                };
                state.columns.swap(p, q);
                select(state, q);
            }
        }
        Some(Intent::Close) => {
            state.overlay = Overlay::None;
            let names: Vec<String> = state.columns.iter().map(|c| c.name().to_string()).collect();
            // The runtime says "saved" once the file is written (or why it was not).
            return vec![Effect::SaveColumns(names)];
        }
        _ => {}
    }
    Vec::new()
}
