//! Uncertain creates reconciled with the server's list (official API only): a `submit_unknown`
//! row is looked up among the tasks the server created in a window around its POST with the
//! same model and parameters. Exactly one match → the row adopts that id and is polled; none
//! once the window has passed → marked not created (safe to retry); several → the candidates are
//! written to the row for the user to choose. Nothing is ever created again on its own.
//!
//! The task object does not echo the prompt, so a match is the model, the creation time and the
//! parameters the server echoes (resolution, ratio, duration, seed, tier, priority, audio,
//! safety identifier), among tasks no other row of the store already knows.

use super::{Engine, PollError, now};
use crate::api::types::{CreateRequest, ListQuery, Task};
use crate::store::{Phase, TaskQuery, TaskRecord};
use std::collections::HashMap;
use std::time::Duration;

/// The error code of a row the reconciliation found was never created.
pub const NOT_CREATED: &str = "NotCreatedOnServer";

/// How wide the window is and how long the server's list gets to show a task.
#[derive(Debug, Clone, Copy)]
pub struct ReconcileWindow {
    /// Allowed difference between this machine's clock and the server's (both ways).
    pub skew: Duration,
    /// How long after the window a task may still appear in the list; "none" is concluded only
    /// after it.
    pub settle: Duration,
}

impl Default for ReconcileWindow {
    fn default() -> Self {
        ReconcileWindow {
            skew: Duration::from_secs(120),
            settle: Duration::from_secs(60),
        }
    }
}

/// What one reconciliation pass did.
#[derive(Debug, Default)]
pub struct ReconcileReport {
    /// Rows that adopted a server task (now polled).
    pub adopted: Vec<TaskRecord>,
    /// Local ids marked "not created on the server".
    pub not_created: Vec<String>,
    /// Local ids with several candidates, left to the user.
    pub ambiguous: Vec<String>,
}

/// Records leave the list after 7 days; an older row cannot be settled from it.
const LIST_KEEPS_SECS: i64 = 6 * 86_400;
/// Pages of 500 read per model at most; past that, "none" is not concluded.
const MAX_PAGES: u32 = 10;

/// True when `task` could be what `req` created (the fields both sides have agree).
fn same_parameters(req: &CreateRequest, task: &Task) -> bool {
    fn agree<T: PartialEq>(a: Option<T>, b: Option<T>) -> bool {
        match (a, b) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        }
    }
    let model_ok =
        req.model.starts_with("ep-") || agree(Some(req.model.as_str()), task.model.as_deref());
    let ratio = req.ratio.as_deref().filter(|r| *r != "adaptive");
    let duration = req.duration.filter(|d| *d > 0);
    let seed = req.seed.filter(|s| *s >= 0);
    model_ok
        && agree(req.resolution.as_deref(), task.resolution.as_deref())
        && agree(ratio, task.ratio.as_deref())
        && agree(duration, task.duration)
        && agree(seed, task.seed)
        && agree(
            Some(req.service_tier.as_deref().unwrap_or("default")),
            task.service_tier.as_deref(),
        )
        && agree(req.priority, task.priority)
        && agree(req.generate_audio, task.generate_audio)
        && agree(
            req.safety_identifier.as_deref(),
            task.safety_identifier.as_deref(),
        )
}

/// The candidates' description written to an ambiguous row.
fn candidates_note(tasks: &[&Task]) -> String {
    let list: Vec<String> = tasks
        .iter()
        .map(|t| {
            let when = t
                .created_at
                .and_then(|c| chrono::DateTime::from_timestamp(c, 0))
                .map(|d| {
                    d.with_timezone(&chrono::Local)
                        .format("%H:%M:%S")
                        .to_string()
                })
                .unwrap_or_else(|| "?".into());
            let clean: String = t.id.chars().filter(|c| !c.is_control()).collect();
            let id = crate::text::truncate(&clean, 64);
            format!("{id} ({}, created {when})", t.status.as_str())
        })
        .collect();
    format!(
        "the create's outcome is unknown and {} tasks on the server match it: {}. Check them \
         (seedance-tui status ID), cancel the extra ones, and do not retry this one",
        tasks.len(),
        list.join(", ")
    )
}

impl Engine {
    /// One reconciliation pass over this profile's `submit_unknown` rows (see the module doc).
    /// Call it only for a server with a task list.
    pub async fn reconcile_unknown(
        &self,
        window: ReconcileWindow,
    ) -> Result<ReconcileReport, PollError> {
        let profile = self.profile.clone();
        let rows: Vec<TaskRecord> = self
            .with_store(move |s| {
                s.list(&TaskQuery {
                    statuses: vec!["submit_unknown".into()],
                    since: None,
                    limit: None,
                })
            })
            .await?
            .into_iter()
            .filter(|r| {
                r.phase == Phase::SubmitUnknown
                    && r.task_id.is_none()
                    && r.profile == profile
                    && now() - r.created_at < LIST_KEEPS_SECS
            })
            .collect();
        let mut report = ReconcileReport::default();
        if rows.is_empty() {
            return Ok(report);
        }
        // One listing per model (all of it, within the page cap).
        let mut by_model: HashMap<String, Option<Vec<Task>>> = HashMap::new();
        for r in &rows {
            if by_model.contains_key(&r.model) {
                continue;
            }
            let listed = self.list_model(&r.model).await?;
            by_model.insert(r.model.clone(), listed);
        }
        let skew = window.skew.as_secs() as i64;
        let settle = window.settle.as_secs() as i64;
        // Each row's candidates: in its window, same parameters, not already in the store.
        let mut matches: Vec<(TaskRecord, Vec<Task>, bool)> = Vec::new();
        for r in rows {
            let Some(req) = r.request() else { continue };
            let Some(listed) = by_model.get(&r.model) else {
                continue;
            };
            let (from, to) = (r.created_at - skew, r.updated_at.max(r.created_at) + skew);
            let complete = listed.is_some();
            let candidates: Vec<Task> = listed
                .iter()
                .flatten()
                .filter(|t| t.created_at.is_some_and(|c| c >= from && c <= to))
                .filter(|t| same_parameters(&req, t))
                .cloned()
                .collect();
            let ids: Vec<String> = candidates.iter().map(|t| t.id.clone()).collect();
            let known = self
                .with_store(move |s| {
                    ids.into_iter()
                        .map(|id| s.has_task_id(&id))
                        .collect::<Result<Vec<bool>, _>>()
                })
                .await?;
            let candidates = candidates
                .into_iter()
                .zip(known)
                .filter(|(_, k)| !k)
                .map(|(t, _)| t)
                .collect();
            let passed = complete && now() > to + settle;
            matches.push((r, candidates, passed));
        }
        // A server task that fits two rows belongs to neither for sure.
        let mut claims: HashMap<String, usize> = HashMap::new();
        for (_, c, _) in &matches {
            for t in c {
                *claims.entry(t.id.clone()).or_default() += 1;
            }
        }
        for (row, candidates, passed) in matches {
            let lid = row.local_id.clone();
            match candidates.as_slice() {
                [one] if claims.get(&one.id) == Some(&1) => {
                    let (task, raw) = (one.clone(), serde_json::to_string(one).unwrap_or_default());
                    let adopted = self
                        .with_store(move |s| {
                            let at = now();
                            s.submission_adopted(&lid, &task.id, at)?;
                            s.record_poll(&lid, &task, &raw, at)?;
                            s.find(&lid)
                        })
                        .await?;
                    report.adopted.push(adopted);
                }
                [] if passed => {
                    let message = "not created on the server: no task in its list matches this \
                                   submission, so it is safe to retry";
                    self.with_store(move |s| {
                        s.submission_rejected(&lid, NOT_CREATED, message, now())
                    })
                    .await?;
                    report.not_created.push(row.local_id);
                }
                [] => {}
                several => {
                    let note = candidates_note(&several.iter().collect::<Vec<_>>());
                    self.with_store(move |s| s.set_note(&lid, &note, now()))
                        .await?;
                    report.ambiguous.push(row.local_id);
                }
            }
        }
        Ok(report)
    }

    /// Every task of `model` in the server's list, or `None` when there are more than the page
    /// cap allows (then absence proves nothing).
    async fn list_model(&self, model: &str) -> Result<Option<Vec<Task>>, PollError> {
        let mut out = Vec::new();
        for page in 1..=MAX_PAGES {
            let query = ListQuery {
                page_num: Some(page),
                page_size: Some(500),
                model: (!model.starts_with("ep-")).then(|| model.to_string()),
                ..ListQuery::default()
            };
            let listed = self.client.list_items(&query).await?;
            let n = listed.items.len();
            out.extend(listed.items.into_iter().map(|(t, _)| t));
            if n == 0 || out.len() as u64 >= listed.total {
                return Ok(Some(out));
            }
        }
        Ok(None)
    }
}
