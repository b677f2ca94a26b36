//! Uncertain creates reconciled with the server's list (official API only). A `submit_unknown`
//! row is looked up by time, never by model: every task the server lists (no `filter.model`,
//! whose meaning is the endpoint id the task used; both `service_tier` values, since an unset tier
//! lists only `default`), page by page, matched against the row.
//!
//! - A task that echoes the row's `X-Client-Request-Id` (the row's local id) is the row's:
//!   adopted. A task echoing another id is not.
//! - Otherwise a task created in [POST − 60 s − margin, answer + margin] (the margin widened by
//!   the clock skew measured from the list answers' `Date`) whose echoed parameters agree is a
//!   candidate; a task without `created_at` could be in the window, so it is one too. The task
//!   object does not echo the prompt, so a parameter match is only ever probable: one candidate
//!   is shown as "probable, not confirmed" and adopted only when the user says `y`
//!   (`seedance-tui adopt`); several are listed for the user.
//! - "Not created on the server" only when every page of every tier came back without error,
//!   no item could match, and the window has passed. Anything less stays `submit_unknown`.
//!
//! Nothing is ever created again on its own.

use super::{Engine, PollError, now};
use crate::api::types::{CreateRequest, ListQuery, Task};
use crate::store::{Phase, TaskQuery, TaskRecord};
use std::collections::HashMap;
use std::time::Duration;

/// The error code of a row the reconciliation found was never created.
pub const NOT_CREATED: &str = "NotCreatedOnServer";
/// The code of a row with several candidate tasks on the server (the message lists them).
pub const AMBIGUOUS: &str = "ReconcileAmbiguous";
/// The code of a row with one candidate that matches by parameters only (not confirmed).
pub const PROBABLE: &str = "ReconcileProbable";

/// The tiers a task can have; the list shows only `default` ones unless asked for another.
const TIERS: [&str; 2] = ["default", "flex"];
/// How long before its POST a row's task may have been created (the row is written first, and
/// the server stamps `created_at` on its own clock).
const BEFORE_POST_SECS: i64 = 60;

/// How wide the window is and how long the server's list gets to show a task.
#[derive(Debug, Clone, Copy)]
pub struct ReconcileWindow {
    /// Allowed difference between this machine's clock and the server's (both ways), on top of
    /// the skew measured from the list answers' `Date` headers.
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
    /// Rows that adopted a server task that echoed their request id (now polled).
    pub adopted: Vec<TaskRecord>,
    /// Local ids marked "not created on the server".
    pub not_created: Vec<String>,
    /// Local ids with several candidates, left to the user.
    pub ambiguous: Vec<String>,
    /// Local ids with one candidate matched by parameters only, waiting for the user's `y`.
    pub probable: Vec<String>,
    /// False when some page of some tier failed or the page cap was reached: then nothing was
    /// concluded from absence.
    pub(crate) complete: bool,
    /// The server's clock minus ours, in seconds, as the list answers' `Date` showed it.
    pub measured_skew: Option<i64>,
}

/// Records leave the list after 7 days; an older row cannot be settled from it.
const LIST_KEEPS_SECS: i64 = 6 * 86_400;
/// Pages of 500 read per tier at most; past that, "none" is not concluded.
const MAX_PAGES: u32 = 20;

/// The `X-Client-Request-Id` a listed task echoes, where a server puts one in the task object
/// (which key, if any, the official API uses is UNCONFIRMED: these are the spellings seen).
pub(crate) fn echoed_client_id(task: &Task) -> Option<&str> {
    [
        "client_request_id",
        "x_client_request_id",
        "X-Client-Request-Id",
    ]
    .iter()
    .find_map(|k| task.extra.get(*k).and_then(serde_json::Value::as_str))
}

/// True when `task` could be what `req` created: every field of the request the server echoes
/// agrees (a field either side lacks proves nothing).
pub(crate) fn same_parameters(req: &CreateRequest, task: &Task) -> bool {
    fn agree<T: PartialEq>(a: Option<T>, b: Option<T>) -> bool {
        match (a, b) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        }
    }
    // An endpoint id answers with the model behind it, which the row does not know.
    let model_ok =
        req.model.starts_with("ep-") || agree(Some(req.model.as_str()), task.model.as_deref());
    // `adaptive`, `-1` and an unset seed are answered with what the service chose.
    let ratio = req.ratio.as_deref().filter(|r| *r != "adaptive");
    let duration = req.duration.filter(|d| *d > 0);
    let seed = req.seed.filter(|s| *s >= 0);
    model_ok
        && agree(req.resolution.as_deref(), task.resolution.as_deref())
        && agree(ratio, task.ratio.as_deref())
        && agree(duration, task.duration)
        && agree(req.frames, task.frames)
        && agree(seed, task.seed)
        && agree(
            Some(req.service_tier.as_deref().unwrap_or("default")),
            task.service_tier.as_deref(),
        )
        && agree(req.priority, task.priority)
        && agree(req.generate_audio, task.generate_audio)
        && agree(req.draft, task.draft)
        && agree(req.execution_expires_after, task.execution_expires_after)
        && agree(
            req.safety_identifier.as_deref(),
            task.safety_identifier.as_deref(),
        )
}

/// Every task the server lists, read for reconciliation.
struct Scan {
    tasks: Vec<Task>,
    /// Every page of every tier answered, and the last page of each was reached.
    complete: bool,
    skew: Option<i64>,
}

/// One candidate as `ID (status, created HH:MM:SS)`.
fn describe(t: &Task) -> String {
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
}

/// The note of a row with one candidate matched by parameters only.
fn probable_note(local_id: &str, t: &Task) -> String {
    format!(
        "probable, not confirmed: the create's outcome is unknown and one task on the server has \
         the same parameters: {}. The server does not echo our request id, so it may be another \
         client's task. If it is yours: A in the dashboard, or seedance-tui adopt {local_id} {} \
         (asks y/N)",
        describe(t),
        t.id
    )
}

/// The task a "probable, not confirmed" note names (the last word of its `adopt` command).
pub(crate) fn probable_candidate(note: &str) -> Option<&str> {
    let (_, rest) = note.rsplit_once("seedance-tui adopt ")?;
    let mut words = rest.split_whitespace();
    let _local = words.next()?;
    words
        .next()
        .filter(|id| crate::api::task_id::check(id).is_ok())
}

/// The candidates' description written to an ambiguous row.
fn candidates_note(tasks: &[&Task]) -> String {
    let list: Vec<String> = tasks.iter().map(|t| describe(t)).collect();
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
            report.complete = true;
            return Ok(report);
        }
        let scan = self.scan().await?;
        report.complete = scan.complete;
        report.measured_skew = scan.skew;
        let margin = window.skew.as_secs() as i64 + scan.skew.map_or(0, i64::abs);
        let settle = window.settle.as_secs() as i64;
        let known_ids: Vec<String> = scan.tasks.iter().map(|t| t.id.clone()).collect();
        let known: Vec<bool> = self
            .with_store(move |s| {
                known_ids
                    .iter()
                    .map(|id| s.has_task_id(id))
                    .collect::<Result<Vec<bool>, _>>()
            })
            .await?;
        let free: Vec<&Task> = scan
            .tasks
            .iter()
            .zip(known)
            .filter(|(_, k)| !k)
            .map(|(t, _)| t)
            .collect();
        // Each row: the task that echoes its id, or its candidates by time and parameters.
        let mut verdicts: Vec<(TaskRecord, Option<Task>, Vec<Task>, bool)> = Vec::new();
        for r in rows {
            let Some(req) = r.request() else { continue };
            let confirmed = free
                .iter()
                .find(|t| echoed_client_id(t) == Some(r.local_id.as_str()))
                .map(|t| (*t).clone());
            let (from, to) = (
                r.created_at - BEFORE_POST_SECS - margin,
                r.updated_at.max(r.created_at) + margin,
            );
            let candidates: Vec<Task> = free
                .iter()
                .filter(|t| echoed_client_id(t).is_none())
                .filter(|t| t.created_at.is_none_or(|c| c >= from && c <= to))
                .filter(|t| same_parameters(&req, t))
                .map(|t| (*t).clone())
                .collect();
            let passed = scan.complete && now() > to + settle;
            verdicts.push((r, confirmed, candidates, passed));
        }
        // A server task that fits two rows belongs to neither for sure.
        let mut claims: HashMap<String, usize> = HashMap::new();
        for (_, _, c, _) in &verdicts {
            for t in c {
                *claims.entry(t.id.clone()).or_default() += 1;
            }
        }
        for (row, confirmed, candidates, passed) in verdicts {
            let lid = row.local_id.clone();
            if let Some(task) = confirmed {
                report.adopted.push(self.adopt_task(&lid, task).await?);
                continue;
            }
            match candidates.as_slice() {
                [] if passed => {
                    let message = "not created on the server: no task in its complete list \
                                   (every page of both service tiers) matches this submission, \
                                   so it is safe to retry";
                    self.with_store(move |s| {
                        s.submission_rejected(&lid, NOT_CREATED, message, now())
                    })
                    .await?;
                    report.not_created.push(row.local_id);
                }
                [] => {}
                [one] if claims.get(&one.id) == Some(&1) => {
                    let note = probable_note(&lid, one);
                    self.with_store(move |s| s.set_reconcile_note(&lid, PROBABLE, &note, now()))
                        .await?;
                    report.probable.push(row.local_id);
                }
                several => {
                    let note = candidates_note(&several.iter().collect::<Vec<_>>());
                    self.with_store(move |s| s.set_reconcile_note(&lid, AMBIGUOUS, &note, now()))
                        .await?;
                    report.ambiguous.push(row.local_id);
                }
            }
        }
        Ok(report)
    }

    /// The row `local_id` (`submit_unknown`, no server id) takes `task` as its own and is polled.
    async fn adopt_task(&self, local_id: &str, task: Task) -> Result<TaskRecord, PollError> {
        let lid = local_id.to_string();
        let raw = serde_json::to_string(&task).unwrap_or_default();
        let adopted = self
            .with_store(move |s| {
                let at = now();
                s.submission_adopted(&lid, &task.id, at)?;
                s.record_poll(&lid, &task, &raw, at)?;
                s.find(&lid)
            })
            .await?;
        Ok(adopted)
    }

    /// The user confirmed (`y`) that server task `task_id` is what the uncertain create of row
    /// `local_id` made: fetch it, check no other row has it, and adopt it.
    pub async fn adopt_confirmed(
        &self,
        local_id: &str,
        task_id: &str,
    ) -> Result<TaskRecord, PollError> {
        let row = self.find(local_id).await?;
        if row.phase != Phase::SubmitUnknown || row.task_id.is_some() {
            return Err(PollError::NotAccepted(format!(
                "{} (only a submit_unknown row without a server id can adopt a task; this one is {})",
                row.local_id,
                row.phase.as_str()
            )));
        }
        let id = task_id.to_string();
        if self.with_store(move |s| s.has_task_id(&id)).await? {
            return Err(PollError::NotAccepted(format!(
                "{task_id} (another row of the store already has it)"
            )));
        }
        let (task, _) = self.client.get(task_id).await?;
        self.adopt_task(&row.local_id, task).await
    }

    /// Every task the server lists, both tiers, page by page (the cap: [`MAX_PAGES`] each).
    async fn scan(&self) -> Result<Scan, PollError> {
        let mut scan = Scan {
            tasks: Vec::new(),
            complete: true,
            skew: None,
        };
        let mut seen = std::collections::HashSet::new();
        for (t, tier) in TIERS.iter().enumerate() {
            let mut got = 0u64;
            let mut finished = false;
            for page in 1..=MAX_PAGES {
                let query = ListQuery {
                    page_num: Some(page),
                    page_size: Some(500),
                    service_tier: Some(tier.to_string()),
                    ..ListQuery::default()
                };
                let before = now();
                let answer = self.client.list_items_dated(&query).await;
                let (listed, date) = match answer {
                    Ok(a) => a,
                    // Nothing read at all: the caller learns why.
                    Err(e) if t == 0 && page == 1 => return Err(e.into()),
                    Err(e) => {
                        tracing::info!(error = %e, tier, page, "a list page failed: nothing is concluded from absence");
                        break;
                    }
                };
                if let Some(server) = date {
                    let local = (before + now()) / 2;
                    let skew = server - local;
                    if scan.skew.is_none_or(|s| s.abs() < skew.abs()) {
                        scan.skew = Some(skew);
                    }
                }
                let n = listed.items.len();
                got += n as u64;
                for (task, _) in listed.items {
                    if seen.insert(task.id.clone()) {
                        scan.tasks.push(task);
                    }
                }
                if n == 0 || got >= listed.total {
                    finished = true;
                    break;
                }
            }
            scan.complete &= finished;
        }
        Ok(scan)
    }
}
