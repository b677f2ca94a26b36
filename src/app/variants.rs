//! Variants of one request: tasks with the same prompt (different seeds, sent again) and the
//! retries and edits made from them (linked by `retry_of`, whatever their prompt). A task's
//! group is named by the prompt at the root of its retry chain. `=` shows one group as adjacent
//! rows (the filter `group:ID`), `[`/`]` step through the group's rows with their sheets.

use super::effect::Effect;
use super::filter::Filter;
use super::state::State;
use crate::store::TaskRow;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// The most `retry_of` links followed to a chain's root (a cycle cannot loop).
const MAX_CHAIN: usize = 64;

/// The text naming `t`'s group: the prompt at the root of its retry chain, trimmed. `lookup`
/// finds a task by local id.
pub fn group_key_in<'a>(t: &'a TaskRow, lookup: impl Fn(&str) -> Option<&'a TaskRow>) -> &'a str {
    let mut at = t;
    for _ in 0..MAX_CHAIN {
        match at.retry_of().and_then(&lookup) {
            Some(original) => at = original,
            None => break,
        }
    }
    at.prompt.trim()
}

/// [`group_key_in`] over the dashboard's rows.
pub fn group_key<'a>(state: &'a State, t: &'a TaskRow) -> &'a str {
    group_key_in(t, |id| state.task(id))
}

/// The task `id` names in `rows`: a local id or a server task id, exactly, else as a unique
/// prefix.
pub fn find<'a>(rows: &'a [TaskRow], id: &str) -> Option<&'a TaskRow> {
    let id = id.trim().to_lowercase();
    if id.is_empty() {
        return None;
    }
    let named = |t: &TaskRow, exact: bool| {
        let hit = |s: &str| {
            let s = s.to_lowercase();
            if exact { s == id } else { s.starts_with(&id) }
        };
        hit(&t.local_id) || t.task_id.as_deref().is_some_and(hit)
    };
    if let Some(t) = rows.iter().find(|t| named(t, true)) {
        return Some(t);
    }
    let mut prefixed = rows.iter().filter(|t| named(t, false));
    match (prefixed.next(), prefixed.next()) {
        (Some(t), None) => Some(t),
        _ => None,
    }
}

/// The local ids of every task of `rows` in the group of the task `id` names (empty when none
/// does).
pub fn members_in(rows: &[TaskRow], id: &str) -> HashSet<String> {
    let Some(t) = find(rows, id) else {
        return HashSet::new();
    };
    let index: HashMap<&str, &TaskRow> = rows.iter().map(|r| (&*r.local_id, r)).collect();
    let lookup = |id: &str| index.get(id).copied();
    let key = group_key_in(t, lookup);
    rows.iter()
        .filter(|o| group_key_in(o, lookup) == key)
        .map(|o| o.local_id.to_string())
        .collect()
}

/// [`members_in`] over the dashboard's rows.
pub fn members(state: &State, id: &str) -> HashSet<String> {
    let Some(t) = find(&state.tasks, id) else {
        return HashSet::new();
    };
    let key = group_key(state, t);
    state
        .tasks
        .iter()
        .filter(|o| group_key(state, o) == key)
        .map(|o| o.local_id.to_string())
        .collect()
}

/// Fill the filter's `group:` members from the current rows (before a scan).
pub fn resolve(state: &mut State) {
    if let Some(id) = state.filter.group().map(str::to_string) {
        let m = members(state, &id);
        state.filter.set_members(Arc::new(m));
    }
}

/// `=`: show the selected task's variants as adjacent rows, or, when they are shown, everything.
pub fn toggle_group(state: &mut State) -> Vec<Effect> {
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
pub fn step(state: &State, forward: bool) -> Option<String> {
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
