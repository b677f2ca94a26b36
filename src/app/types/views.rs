//! Saved views: `[views.NAME]` in the config names a filter, a sort and the table's columns. A
//! leaf; applying one is `app::views`.

use super::sort::SortKey;
use crate::app::columns::Col;
use crate::app::keymap::KeySpec;

/// A view, checked at start (an unknown sort, column or key stops the dashboard with the fix).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct View {
    pub(crate) name: String,
    pub(crate) key: Option<KeySpec>,
    pub(crate) filter: String,
    pub(crate) sort: Option<(SortKey, bool)>,
    pub(crate) columns: Option<Vec<Col>>,
}

impl View {
    /// Build a view from its config entry; `Err` says what to fix.
    pub(crate) fn from_config(name: &str, c: &crate::config::ViewConfig) -> Result<View, String> {
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
            .map(crate::app::columns::parse_list)
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
    pub(crate) fn describe(&self) -> String {
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
