//! The table's columns as the user chose them: which show and in what order (the column chooser
//! `c`, a popup of its own; saved as `[ui] columns` in the config). The view draws the chosen
//! columns, dropping the least needed ones when the terminal is too narrow.

use super::effect::Effect;
use super::keymap::Context;
use super::msg::{Intent, Level};
use super::state::{Overlay, State};
use crossterm::event::KeyEvent;

/// A column of the task table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Col {
    Status,
    Id,
    Model,
    /// The batch line's label (`"label"` in a `submit --batch` file).
    Label,
    Prompt,
    Ratio,
    Resolution,
    Duration,
    Age,
    Progress,
    Tokens,
    /// The short error code of a failed task.
    Error,
    Saved,
}

impl Col {
    /// Every column, in the default order.
    pub const ALL: [Col; 13] = [
        Col::Status,
        Col::Id,
        Col::Model,
        Col::Label,
        Col::Prompt,
        Col::Ratio,
        Col::Resolution,
        Col::Duration,
        Col::Age,
        Col::Progress,
        Col::Tokens,
        Col::Error,
        Col::Saved,
    ];

    /// The columns shown when the config names none.
    pub fn defaults() -> Vec<Col> {
        Col::ALL.to_vec()
    }

    /// The name used in the config and the chooser.
    pub fn name(self) -> &'static str {
        match self {
            Col::Status => "status",
            Col::Id => "id",
            Col::Model => "model",
            Col::Label => "label",
            Col::Prompt => "prompt",
            Col::Ratio => "ratio",
            Col::Resolution => "resolution",
            Col::Duration => "duration",
            Col::Age => "age",
            Col::Progress => "time",
            Col::Tokens => "tokens",
            Col::Error => "error",
            Col::Saved => "saved",
        }
    }

    pub fn parse(s: &str) -> Option<Col> {
        Col::ALL.iter().copied().find(|c| c.name() == s.trim())
    }
}

/// Parse `[ui] columns`; `Err` names the unknown column.
pub fn parse_list(names: &[String]) -> Result<Vec<Col>, String> {
    let mut out = Vec::new();
    for n in names {
        let c = Col::parse(n).ok_or_else(|| {
            let known: Vec<&str> = Col::ALL.iter().map(|c| c.name()).collect();
            format!(
                "[ui] columns: `{n}` is not a column; known: {}",
                known.join(", ")
            )
        })?;
        if !out.contains(&c) {
            out.push(c);
        }
    }
    Ok(out)
}

/// The chooser's rows: the shown columns in their order, then the hidden ones.
pub fn rows(state: &State) -> Vec<(Col, bool)> {
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
pub fn open(state: &mut State) -> Vec<Effect> {
    state.overlay = Overlay::Columns { selected: 0 };
    state.dirty = true;
    Vec::new()
}

/// A key in the chooser (`Context::Columns`): move, show or hide, move the column left or
/// right, close (and save).
pub fn key(state: &mut State, key: &KeyEvent) -> Vec<Effect> {
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
            state.notice(
                Level::Info,
                format!("columns: {} (saved in the config)", names.join(", ")),
            );
            return vec![Effect::SaveColumns(names)];
        }
        _ => {}
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_ones_are_named() {
        for c in Col::ALL {
            assert_eq!(Col::parse(c.name()), Some(c));
        }
        let err = parse_list(&["status".into(), "nope".into()]).expect_err("unknown");
        assert!(err.contains("`nope`"), "{err}");
        assert_eq!(
            parse_list(&["id".into(), "id".into()]).expect("ok"),
            vec![Col::Id]
        );
    }
}
