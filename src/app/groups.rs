//! A task's group, on the rows alone: the prompt at the root of its retry chain names it (the
//! dashboard's reducers for groups are `app::variants`). A leaf.

use crate::store::TaskRow;
use std::collections::{HashMap, HashSet};

/// The most `retry_of` links followed to a chain's root (a cycle cannot loop).
const MAX_CHAIN: usize = 64;

/// The text naming `t`'s group: the prompt at the root of its retry chain, trimmed. `lookup`
/// finds a task by local id.
pub(crate) fn group_key_in<'a>(
    t: &'a TaskRow,
    lookup: impl Fn(&str) -> Option<&'a TaskRow>,
) -> &'a str {
    let mut at = t;
    for _ in 0..MAX_CHAIN {
        match at.retry_of().and_then(&lookup) {
            Some(original) => at = original,
            None => break,
        }
    }
    at.prompt.trim()
}

/// The task `id` names in `rows`: a local id or a server task id, exactly, else as a unique
/// prefix.
pub(crate) fn find<'a>(rows: &'a [TaskRow], id: &str) -> Option<&'a TaskRow> {
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
pub(crate) fn members_in(rows: &[TaskRow], id: &str) -> HashSet<String> {
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

/// The local ids of every task of `rows` in the group of the task `id` names, `lookup` finding
/// a task by local id.
pub(crate) fn members_by<'a>(
    rows: &'a [TaskRow],
    id: &str,
    lookup: impl Fn(&str) -> Option<&'a TaskRow>,
) -> HashSet<String> {
    let Some(t) = find(rows, id) else {
        return HashSet::new();
    };
    let key = group_key_in(t, &lookup);
    rows.iter()
        .filter(|o| group_key_in(o, &lookup) == key)
        .map(|o| o.local_id.to_string())
        .collect()
}
