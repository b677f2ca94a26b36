//! Saved views: `[views.NAME]` in the config names a filter, a sort and the table's columns,
//! applied together by one key (`key = "F"`) or from the palette (`:view NAME`).

use super::columns::Col;
use super::effect::Effect;
use super::filter::Filter;
use super::keymap::KeySpec;
use super::msg::Level;
use super::state::{SortKey, State};

/// A view, checked at start (an unknown sort, column or key stops the dashboard with the fix).
#[derive(Debug, Clone, PartialEq)]
pub struct View {
    pub name: String,
    pub key: Option<KeySpec>,
    pub filter: String,
    pub sort: Option<(SortKey, bool)>,
    pub columns: Option<Vec<Col>>,
}

impl View {
    /// Build a view from its config entry; `Err` says what to fix.
    pub fn from_config(name: &str, c: &crate::config::ViewConfig) -> Result<View, String> {
        let key = c
            .key
            .as_deref()
            .map(KeySpec::parse)
            .transpose()
            .map_err(|e| format!("[views.{name}] key: {e}"))?;
        let sort = match c.sort.as_deref() {
            None => None,
            Some(s) => {
                let (word, asc) = match s.strip_suffix(" asc") {
                    Some(w) => (w, true),
                    None => (s.strip_suffix(" desc").unwrap_or(s), false),
                };
                let key = SortKey::parse(word.trim()).ok_or_else(|| {
                    format!(
                        "[views.{name}] sort: `{s}` is not a sort (age, status, model, tokens, duration, updated, queue; `asc` after it reverses)"
                    )
                })?;
                Some((key, !asc))
            }
        };
        let columns = c
            .columns
            .as_deref()
            .map(super::columns::parse_list)
            .transpose()
            .map_err(|e| format!("[views.{name}] {e}"))?;
        Ok(View {
            name: name.to_string(),
            key,
            filter: c.filter.clone().unwrap_or_default(),
            sort,
            columns,
        })
    }

    /// One line for the palette.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.filter.is_empty() {
            parts.push(format!("filter {}", self.filter));
        }
        if let Some((k, desc)) = self.sort {
            parts.push(format!(
                "sort {}{}",
                k.label(),
                if desc { "" } else { " asc" }
            ));
        }
        if let Some(cols) = &self.columns {
            let names: Vec<&str> = cols.iter().map(|c| c.name()).collect();
            parts.push(format!("columns {}", names.join(",")));
        }
        if parts.is_empty() {
            "everything".into()
        } else {
            parts.join(" · ")
        }
    }
}

/// Set the filter line's text and show what it keeps.
pub fn set_filter(state: &mut State, text: &str) {
    state.filter_input = None;
    state.filter = Filter::parse(text);
    state.quick = None;
    state.refilter();
    state.dirty = true;
}

/// Apply the view `name`.
pub fn apply(state: &mut State, name: &str) -> Vec<Effect> {
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

/// The view bound to `key`, if any.
pub fn for_key(state: &State, key: &crossterm::event::KeyEvent) -> Option<String> {
    state
        .views
        .iter()
        .find(|v| v.key.is_some_and(|k| k.matches(key)))
        .map(|v| v.name.clone())
}
