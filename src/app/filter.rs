//! The `/` filter: free text matched against id, prompt, model and status, plus `status:X`,
//! `model:X` and `retried:yes|no` terms (all terms must match; case-insensitive).

use crate::store::TaskRecord;

/// A parsed filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// The text as typed.
    pub text: String,
    statuses: Vec<String>,
    models: Vec<String>,
    /// `retried:no` keeps tasks no retry was made of; `retried:yes` the others.
    retried: Option<bool>,
    words: Vec<String>,
}

impl Filter {
    pub fn parse(text: &str) -> Filter {
        let mut f = Filter {
            text: text.to_string(),
            ..Filter::default()
        };
        for term in text.split_whitespace() {
            let lower = term.to_lowercase();
            if let Some(s) = lower.strip_prefix("status:") {
                f.statuses.push(s.to_string());
            } else if let Some(m) = lower.strip_prefix("model:") {
                f.models.push(m.to_string());
            } else if let Some(r) = lower.strip_prefix("retried:") {
                f.retried = match r {
                    "no" | "n" | "false" => Some(false),
                    "yes" | "y" | "true" => Some(true),
                    _ => None,
                };
            } else {
                f.words.push(lower);
            }
        }
        f
    }

    /// Whether every task this filter keeps was kept by `prev` too, so the new result can be
    /// taken from the previous one: the same status and model terms (those are alternatives, so
    /// adding one widens), and each of `prev`'s words inside one of ours (words must all match).
    pub fn narrows(&self, prev: &Filter) -> bool {
        self.statuses == prev.statuses
            && self.models == prev.models
            && prev
                .words
                .iter()
                .all(|w| self.words.iter().any(|n| n.contains(w.as_str())))
    }

    pub fn is_empty(&self) -> bool {
        self.statuses.is_empty()
            && self.models.is_empty()
            && self.words.is_empty()
            && self.retried.is_none()
    }

    /// Whether `r` passes every term; `has_retry`: a retry of it exists.
    pub fn matches(&self, r: &TaskRecord, has_retry: bool) -> bool {
        if self.retried.is_some_and(|want| want != has_retry) {
            return false;
        }
        let status = r.phase.as_str();
        if !self.statuses.is_empty()
            && !self.statuses.iter().any(|s| status.starts_with(s.as_str()))
        {
            return false;
        }
        if !self.models.is_empty() {
            let model = r.model.to_lowercase();
            let short = crate::api::models::short_label(&r.model).to_lowercase();
            let fast = model.contains("fast");
            let hit = self.models.iter().any(|m| {
                model.contains(m.as_str())
                    || short == *m
                    || (m == "std" && !fast && model.contains("2-0"))
            });
            if !hit {
                return false;
            }
        }
        self.words.iter().all(|w| {
            r.local_id.to_lowercase().contains(w.as_str())
                || r.task_id
                    .as_deref()
                    .is_some_and(|t| t.to_lowercase().contains(w.as_str()))
                || r.prompt.to_lowercase().contains(w.as_str())
                || r.model.to_lowercase().contains(w.as_str())
                || status.contains(w.as_str())
        })
    }
}
