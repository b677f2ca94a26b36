//! Variants of one request: tasks with the same prompt (different seeds, sent again) and the
//! retries and edits made from them (linked by `retry_of`, whatever their prompt). A task's
//! group is named by the prompt at the root of its retry chain. `=` shows one group as adjacent
//! rows (the filter `group:ID`), `[`/`]` step through the group's rows with their sheets.

use super::effect::Effect;
use super::filter::Filter;
pub(crate) use super::groups::{group_key_in, members_in};
use super::state::State;
use crate::store::TaskRow;

/// [`group_key_in`] over the dashboard's rows.
pub(crate) fn group_key<'a>(state: &'a State, t: &'a TaskRow) -> &'a str {
    group_key_in(t, |id| state.task(id))
}

/// `=`: show the selected task's variants as adjacent rows, or, when they are shown, everything.
pub(crate) fn toggle_group(state: &mut State) -> Vec<Effect> {
    if state.filter.group().is_some() {
        state.filter = Filter::default();
    } else if let Some(t) = state.selected_task() {
        state.filter = Filter::parse(&format!("group:{}", t.local_id));
    } else {
        return Vec::new();
    }
    state.refilter();
    state.dirty = true;
    Vec::new()
}

/// `[`/`]`: the previous or next shown row in the selected task's group (wrapping), if another.
pub(crate) fn step(state: &State, forward: bool) -> Option<String> {
    let t = state.selected_task()?;
    let key = group_key(state, t);
    let here = state.selected_row()?;
    let n = state.order.len();
    (1..n)
        .map(|k| {
            if forward {
                (here + k) % n
            } else {
                (here + n - k) % n
            }
        })
        .map(|row| &state.tasks[state.order[row]])
        .find(|o| group_key(state, o) == key)
        .map(|o| o.local_id.to_string())
}
