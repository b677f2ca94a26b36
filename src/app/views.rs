//! Saved views: `[views.NAME]` in the config names a filter, a sort and the table's columns,
//! applied together by one key (`key = "F"`) or from the palette (`:view NAME`).

use super::effect::Effect;
use super::filter::Filter;
use super::msg::Level;
use super::state::State;
pub(crate) use super::types::views::View;

/// Set the filter line's text and show what it keeps.
pub(crate) fn set_filter(state: &mut State, text: &str) {
    state.filter_input = None;
    state.filter = Filter::parse(text);
    state.quick = None;
    state.refilter();
    state.dirty = true;
}

/// Apply the view `name`.
pub(crate) fn apply(state: &mut State, name: &str) -> Vec<Effect> {
    let Some(v) = state.views.iter().find(|v| v.name == name).cloned() else {
        state.notice(
            Level::Warn,
            format!("no view `{name}` ([views.{name}] in the config)"),
        );
        return Vec::new();
    };
    if let Some(cols) = &v.columns {
        state.columns = cols.clone();
    }
    if let Some((key, desc)) = v.sort {
        state.sort = key;
        state.sort_desc = desc;
    }
    set_filter(state, &v.filter);
    state.view = Some(v.name.clone());
    state.notice(Level::Info, format!("view {}: {}", v.name, v.describe()));
    Vec::new()
}
