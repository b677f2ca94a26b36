//! Task rows: the submission phases, recording polls, lookups and lists.

use super::db::{DbError, Row, Value};
use super::requests::FROM_TASKS;
use super::{
    FileKind, HistoryEntry, NewSubmission, Phase, Store, StoreError, TaskQuery, TaskRecord, TaskRow,
};
use crate::api::types::{Task, TaskStatus};
use std::path::Path;

/// Every column of a task, the request (from `task_requests`) sixth.
pub(super) const COLUMNS: &str = concat!(
    "local_id, task_id, status, profile, model, prompt, ",
    request_sql!(),
    ", response_json, error_code, error_message, retry_of, retry_depth, created_at, updated_at, \
     started_at, finished_at, tokens, video_url, last_frame_url, urls_seen_at, video_path, \
     last_frame_path, label"
);

/// [`COLUMNS`] with an empty request: a record for showing, never for sending.
const COLUMNS_WITHOUT_REQUEST: &str = "local_id, task_id, status, profile, model, prompt, '', \
    response_json, error_code, error_message, retry_of, retry_depth, created_at, updated_at, \
    started_at, finished_at, tokens, video_url, last_frame_url, urls_seen_at, video_path, \
    last_frame_path, label";

/// [`COLUMNS`] for listings: a request of at most `requests::INLINE_BODY_BYTES` as text, a
/// bigger one as its length (see `listed_request_sql!`).
const LISTED_COLUMNS: &str = concat!(
    "local_id, task_id, status, profile, model, prompt, ",
    listed_request_sql!(),
    ", response_json, error_code, error_message, retry_of, retry_depth, created_at, updated_at, \
     started_at, finished_at, tokens, video_url, last_frame_url, urls_seen_at, video_path, \
     last_frame_path, label"
);

/// A task from a row selected with `COLUMNS` first, read by position: a lookup by name scans the
/// column names for every value, which was a third of `ls --json`'s time over 100k rows.
pub(super) fn from_row(r: &Row<'_>) -> Result<TaskRecord, DbError> {
    from_row_with(r, |r| r.get(6))
}

/// [`from_row`] with the request column read by `request`.
fn from_row_with(
    r: &Row<'_>,
    request: impl FnOnce(&Row<'_>) -> Result<String, DbError>,
) -> Result<TaskRecord, DbError> {
    let status: String = r.get(2)?;
    let depth: i64 = r.get(11)?;
    let tokens: Option<i64> = r.get(16)?;
    Ok(TaskRecord {
        local_id: r.get(0)?,
        task_id: r.get(1)?,
        phase: Phase::parse(&status),
        profile: r.get(3)?,
        model: r.get(4)?,
        prompt: r.get(5)?,
        request_json: request(r)?,
        request_facts: None,
        response_json: r.get(7)?,
        error_code: r.get(8)?,
        error_message: r.get(9)?,
        retry_of: r.get(10)?,
        retry_depth: depth.clamp(0, u32::MAX as i64) as u32,
        created_at: r.get(12)?,
        updated_at: r.get(13)?,
        started_at: r.get(14)?,
        finished_at: r.get(15)?,
        tokens: tokens.map(|t| t.max(0) as u64),
        video_url: r.get(17)?,
        last_frame_url: r.get(18)?,
        urls_seen_at: r.get(19)?,
        video_path: r.get(20)?,
        last_frame_path: r.get(21)?,
        label: r.get(22)?,
    })
}

/// The request of a task whose facts are not in its shape, as [`LISTED_COLUMNS`] reads it (the
/// text of one of at most `requests::INLINE_BODY_BYTES`, else its length), `NULL` for every
/// other task: looked up for those rows only.
macro_rules! unshaped_listed_request_sql {
    () => {
        "CASE WHEN tasks.shape IS NULL OR tasks.shape = '' THEN \
         (SELECT CASE WHEN length(r.body) <= 65536 THEN CAST(r.body AS TEXT) \
         ELSE length(r.body) END FROM task_requests r WHERE r.local_id = tasks.local_id) END"
    };
}

/// [`LISTED_COLUMNS`] for tasks to follow: the request's facts as stored (`tasks.shape`) sixth,
/// the request itself last, only for a task without them.
const FOLLOWED_COLUMNS: &str = concat!(
    "local_id, task_id, status, profile, model, prompt, tasks.shape, response_json, error_code, \
     error_message, retry_of, retry_depth, created_at, updated_at, started_at, finished_at, \
     tokens, video_url, last_frame_url, urls_seen_at, video_path, last_frame_path, label, ",
    unshaped_listed_request_sql!()
);

/// The column after [`FOLLOWED_COLUMNS`].
const AFTER_FOLLOWED: usize = 24;

/// A task to follow from a row selected with [`FOLLOWED_COLUMNS`] (see
/// `TaskRecord::request_facts`): the facts from the stored shape, or from a request of at most
/// `requests::INLINE_BODY_BYTES` read in place, and whether the request is bigger (its facts
/// are then read apart: [`Store::with_big_facts`]).
fn followed_from(r: &Row<'_>, facts: &mut RowReader) -> Result<(TaskRecord, bool), DbError> {
    let mut record = from_row_with(r, |_| Ok(String::new()))?;
    let spec = match r.opt_text(6)? {
        Some(shape) if !shape.is_empty() => facts.shapes.spec(shape),
        _ => match r.value(AFTER_FOLLOWED - 1)? {
            Value::Int(_) => return Ok((record, true)),
            Value::Null => super::Spec::of_json("").shared(),
            _ => facts
                .specs
                .spec(r.text(AFTER_FOLLOWED - 1)?, &record.prompt),
        },
    };
    record.request_facts = Some(spec);
    Ok((record, false))
}

/// Which of a task's result links and files are there, one number (a bit each).
macro_rules! files_sql {
    () => {
        "(video_url IS NOT NULL) + 2 * (last_frame_url IS NOT NULL) \
         + 4 * (video_path IS NOT NULL) + 8 * (last_frame_path IS NOT NULL)"
    };
}

/// The request of a task whose facts are not in its shape (none stored, or ones that depend on
/// this process: `row::shape_of`), `NULL` for every other: looked up for those rows only.
macro_rules! unshaped_request_sql {
    () => {
        "CASE WHEN tasks.shape IS NULL OR tasks.shape = '' THEN \
         (SELECT CAST(r.body AS TEXT) FROM task_requests r WHERE r.local_id = tasks.local_id) END"
    };
}

/// The columns [`RowReader`] reads: the request's facts as stored (`tasks.shape`; the request's
/// text, parsed and not kept, only for a row without them), and only whether each result link
/// and file is there (one number, a bit each).
const ROW_COLUMNS: &str = concat!(
    "local_id, task_id, status, profile, model, prompt, tasks.shape, error_code, error_message, \
     retry_of, retry_depth, created_at, updated_at, started_at, finished_at, tokens, \
     urls_seen_at, ",
    files_sql!(),
    ", label, ",
    unshaped_request_sql!()
);

/// Reads tasks as the dashboard keeps them from rows selected with `ROW_COLUMNS`, without
/// copying the request's text or reading the response. What rows share is read once per pass:
/// the facts of requests that differ only in their prompt, and the profile and model of the
/// row before.
#[derive(Default)]
struct RowReader {
    shapes: super::row::ShapeMemo,
    specs: super::row::SpecMemo,
    /// The profiles and models seen last (a store has a few).
    names: Vec<std::sync::Arc<str>>,
}

impl RowReader {
    fn read(&mut self, r: &Row<'_>) -> Result<TaskRow, DbError> {
        let text = |i: usize| r.text(i);
        let opt_text = |i: usize| r.opt_text(i);
        let opt_box =
            |i: usize| -> Result<Option<Box<str>>, DbError> { Ok(opt_text(i)?.map(Into::into)) };
        let depth: i64 = r.get(10)?;
        let tokens: Option<i64> = r.get(15)?;
        let files: i64 = r.get(17)?;
        let prompt = text(5)?;
        // A request is parsed (and its parse freed) before the row's own strings are
        // allocated, so the rows of a 100k load lie packed instead of between the holes of
        // parses.
        let spec = match opt_text(6)? {
            Some(shape) if !shape.is_empty() => self.shapes.spec(shape),
            _ => self.specs.spec(opt_text(19)?.unwrap_or(""), prompt),
        };
        let mut row = TaskRow {
            spec,
            phase: Phase::parse(text(2)?),
            profile: shared(&mut self.names, text(3)?),
            model: shared(&mut self.names, text(4)?),
            local_id: text(0)?.into(),
            task_id: opt_text(1)?.map(Into::into),
            prompt: prompt.into(),
            retry_depth: depth.clamp(0, u32::MAX as i64) as u32,
            results: super::ResultFiles {
                video_url: files & 1 != 0,
                last_frame_url: files & 2 != 0,
                video_saved: files & 4 != 0,
                last_frame_saved: files & 8 != 0,
            },
            created_at: r.get(11)?,
            updated_at: r.get(12)?,
            started_at: r.get(13)?,
            finished_at: r.get(14)?,
            tokens: tokens.map(|t| t.max(0) as u64),
            urls_seen_at: r.get(16)?,
            extra: None,
        };
        row.set_extra(super::RowExtra {
            error_code: opt_box(7)?,
            error_message: opt_box(8)?,
            retry_of: opt_box(9)?,
            label: opt_text(18)?.and_then(super::row::label),
        });
        Ok(row)
    }
}

/// The shared copy of `s`: one of the few seen last when it is one, else the interned one.
fn shared(seen: &mut Vec<std::sync::Arc<str>>, s: &str) -> std::sync::Arc<str> {
    if let Some(a) = seen.iter().find(|a| ***a == *s) {
        return a.clone();
    }
    let a = super::intern(s);
    if seen.len() == 8 {
        seen.remove(0);
    }
    seen.push(a.clone());
    a
}

/// Put rows in the store's listing order (newest first, then the greater local id), moving each
/// row once: a sorted index, then the rows along its cycles. Rows already in order (a store
/// read backwards in the order it was written) cost one comparison each.
fn newest_first(rows: &mut [TaskRow]) {
    let newer =
        |a: &TaskRow, b: &TaskRow| (b.created_at, &*b.local_id).cmp(&(a.created_at, &*a.local_id));
    if rows.is_sorted_by(|a, b| newer(a, b).is_le()) {
        return;
    }
    let mut order: Vec<usize> = (0..rows.len()).collect();
    // Stable and adaptive: a few runs of ordered rows merge in linear time.
    order.sort_by(|&a, &b| newer(&rows[a], &rows[b]));
    // Row `j` of the result is `rows[order[j]]`: follow each cycle, swapping rows into place.
    for i in 0..rows.len() {
        let mut j = i;
        loop {
            let k = order[j];
            order[j] = j;
            if k == i || k == j {
                break;
            }
            rows.swap(j, k);
            j = k;
        }
    }
}

/// True for an error in one row's values (a wrong type written by hand or another tool), as
/// opposed to one from the database: such a row is skipped so it cannot hide every other task.
fn bad_row(e: &DbError) -> bool {
    let bad = e.is_bad_value();
    if bad {
        tracing::warn!(error = %e, "skipping an unreadable task row");
    }
    bad
}

/// `read` as a visit of `Db::query_each` that keeps the rows in `out` and skips the unreadable
/// ones (see [`bad_row`]).
fn readable<'o, T>(
    out: &'o mut Vec<T>,
    mut read: impl FnMut(&Row<'_>) -> Result<T, DbError> + 'o,
) -> impl FnMut(&Row<'_>) -> Result<bool, DbError> + 'o {
    move |r| {
        match read(r) {
            Ok(v) => out.push(v),
            Err(e) if bad_row(&e) => {}
            Err(e) => return Err(e),
        }
        Ok(true)
    }
}

/// How many matches an ambiguous id lists.
const AMBIGUOUS_SHOWN: i64 = 10;

/// The shortest server-id suffix `find` matches: the 5 characters after the table's time
/// (`105718-mq3yp` → `mq3yp`).
const SHORTEST_SUFFIX: usize = 5;

/// Whether `key` has the form of the short id the table shows for an official id
/// (`105718-mq3yp`) or its last part (`mq3yp`): a key the store does not know in that form is no
/// server id to ask the API for.
pub(crate) fn is_short_id(key: &str) -> bool {
    let suffix = |s: &str| {
        s.len() == SHORTEST_SUFFIX
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    };
    match key.split_once('-') {
        Some((time, rest)) => {
            time.len() == 6 && time.chars().all(|c| c.is_ascii_digit()) && suffix(rest)
        }
        None => suffix(key),
    }
}

/// The columns of a task that a poll answer is merged into (`Store::record_poll`).
struct PollColumns {
    task_id: Option<String>,
    phase: Phase,
    /// The stored text, as written.
    status: String,
    same_answer: bool,
    error_code: Option<String>,
    error_message: Option<String>,
    tokens: Option<i64>,
    video_url: Option<String>,
    last_frame_url: Option<String>,
    urls_seen_at: Option<i64>,
    started_at: Option<i64>,
    finished_at: Option<i64>,
}

impl Store {
    pub(super) fn add_history(
        &self,
        local_id: &str,
        status: &str,
        at: i64,
        note: Option<&str>,
    ) -> Result<(), StoreError> {
        self.db
            .execute(
                "INSERT INTO status_history (local_id, status, at, note) VALUES (?1, ?2, ?3, ?4)",
                args![local_id, status, at, note],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Write a `submitting` row (before the POST) and return it.
    pub fn begin_submission(&self, sub: &NewSubmission<'_>) -> Result<TaskRecord, StoreError> {
        self.insert_submission(sub, false, |_| Ok(Ok::<(), std::convert::Infallible>(())))
            .map(|r| r.unwrap_or_else(|never| match never {}))
    }

    /// Write the `submitting` row of a retry of `sub.retry_of`, but only when that task is the
    /// head of its retry chain: if it already has a retry that was not rejected (in flight,
    /// unknown, succeeded, or failed in turn), nothing is written and `AlreadyRetried` names that
    /// retry. The check and the insert are one transaction, so two confirmations or two processes
    /// cannot both retry the same task.
    pub fn begin_retry(&self, sub: &NewSubmission<'_>) -> Result<TaskRecord, StoreError> {
        self.insert_submission(sub, true, |_| Ok(Ok::<(), std::convert::Infallible>(())))
            .map(|r| r.unwrap_or_else(|never| match never {}))
    }

    /// [`Store::begin_submission`] (or with `head_only` [`Store::begin_retry`]) when `allow`
    /// says yes, asked inside the same immediate transaction as the insert: a check that reads
    /// the store (today's spend) and the row that changes its answer cannot be split by another
    /// process. `Ok(Err(no))` when `allow` refused: nothing was written.
    pub(crate) fn begin_submission_if<R>(
        &self,
        sub: &NewSubmission<'_>,
        head_only: bool,
        allow: impl FnOnce(&Store) -> Result<Result<(), R>, StoreError>,
    ) -> Result<Result<TaskRecord, R>, StoreError> {
        self.insert_submission(sub, head_only, allow)
    }

    /// Rows created at or after `since` that may count against a daily cap (everything but
    /// `pending` rows, which count once claimed), as the dashboard keeps them.
    pub(crate) fn each_spend_row(
        &self,
        since: i64,
        mut visit: impl FnMut(TaskRow),
    ) -> Result<(), StoreError> {
        let sql = format!(
            "SELECT {ROW_COLUMNS} FROM {FROM_TASKS} WHERE created_at >= ?1 AND status != 'pending'"
        );
        let mut reader = RowReader::default();
        self.db
            .query_each(&sql, args![since], |r| {
                match reader.read(r) {
                    Ok(row) => visit(row),
                    Err(e) if bad_row(&e) => {}
                    Err(e) => return Err(e),
                }
                Ok(true)
            })
            .map_err(|e| self.err(e))
    }

    fn insert_submission<R>(
        &self,
        sub: &NewSubmission<'_>,
        head_only: bool,
        allow: impl FnOnce(&Store) -> Result<Result<(), R>, StoreError>,
    ) -> Result<Result<TaskRecord, R>, StoreError> {
        let (model, prompt) = super::model_and_prompt(sub.request_json);
        let shape = super::row::shape_of(sub.request_json);
        let allowed = self.write(|s| {
            if head_only
                && let Some(parent) = sub.retry_of
                && let Some(newer) = s.retried_by(parent)?
            {
                let original = s
                    .find_exact(parent)
                    .map(|p| p.display_id().to_string())
                    .unwrap_or_else(|_| parent.to_string());
                return Err(StoreError::AlreadyRetried {
                    original,
                    retry: newer.display_id().to_string(),
                    status: newer.phase.as_str().to_string(),
                });
            }
            if let Err(no) = allow(s)? {
                return Ok(Err(no));
            }
            let depth: i64 = match sub.retry_of {
                Some(parent) => {
                    s.db.query_row(
                        "SELECT retry_depth FROM tasks WHERE local_id = ?1",
                        args![parent],
                        |r| r.get::<i64>(0),
                    )
                    .map_err(|e| s.err(e))?
                    .map(|d| d + 1)
                    .unwrap_or(1)
                }
                None => 0,
            };
            s.db.execute(
                // A retry (or an edit) keeps its original's batch label, and the names of
                // its inlined files unless it brings its own.
                "INSERT INTO tasks (local_id, status, profile, model, prompt, \
                     retry_of, retry_depth, created_at, updated_at, label, asset_files, shape) \
                     VALUES (?1, 'submitting', ?2, ?3, ?4, ?5, ?6, ?7, ?7, \
                     (SELECT label FROM tasks WHERE local_id = ?5), \
                     COALESCE(?8, (SELECT asset_files FROM tasks WHERE local_id = ?5)), ?9)",
                args![
                    sub.local_id,
                    sub.profile,
                    model,
                    prompt,
                    sub.retry_of,
                    depth,
                    sub.now,
                    sub.asset_files,
                    shape
                ],
            )
            .map_err(|e| s.err(e))?;
            s.insert_request(sub.local_id, sub.request_json)?;
            s.add_history(sub.local_id, "submitting", sub.now, None)?;
            Ok(Ok(()))
        })?;
        match allowed {
            Ok(()) => self.find_exact(sub.local_id).map(Ok),
            Err(no) => Ok(Err(no)),
        }
    }

    /// The server accepted the create and named the task `task_id`.
    pub fn submission_accepted(
        &self,
        local_id: &str,
        task_id: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        self.write(|s| {
            let other: Option<String> = s
                .db
                .query_row(
                    "SELECT local_id FROM tasks WHERE task_id = ?2 AND local_id != ?1",
                    args![local_id, task_id],
                    |r| r.get(0),
                )
                .map_err(|e| s.err(e))?;
            if let Some(other) = other {
                return Err(StoreError::DuplicateTaskId {
                    task_id: task_id.to_string(),
                    other,
                });
            }
            let n = s
                .db
                .execute(
                    "UPDATE tasks SET task_id = ?2, status = 'queued', updated_at = ?3 WHERE local_id = ?1",
                    args![local_id, task_id, now],
                )
                .map_err(|e| s.err(e))?;
            if n == 0 {
                return Err(StoreError::NotFound(local_id.to_string()));
            }
            s.add_history(local_id, "queued", now, Some(task_id))
        })
    }

    fn settle_submission(
        &self,
        local_id: &str,
        status: &str,
        code: Option<&str>,
        message: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        self.write(|s| {
            let n =
                s.db.execute(
                    "UPDATE tasks SET status = ?2, error_code = ?3, error_message = ?4, \
                     updated_at = ?5, finished_at = ?5 WHERE local_id = ?1",
                    args![local_id, status, code, message, now],
                )
                .map_err(|e| s.err(e))?;
            if n == 0 {
                return Err(StoreError::NotFound(local_id.to_string()));
            }
            s.add_history(local_id, status, now, Some(message))
        })
    }

    /// The create was refused (validation or a 4xx): nothing was started.
    pub fn submission_rejected(
        &self,
        local_id: &str,
        code: &str,
        message: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let code = (!code.is_empty()).then_some(code);
        self.settle_submission(local_id, "rejected", code, message, now)
    }

    /// The create's outcome is unknown (timeout, 5xx, cut connection).
    pub fn submission_unknown(
        &self,
        local_id: &str,
        message: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        self.settle_submission(local_id, "submit_unknown", None, message, now)
    }

    /// The server answered that this accepted, unfinished task does not exist: the row becomes
    /// `lost` (settled, out of the in-flight count, retryable). A finished task keeps its status
    /// (the server forgets every task after a while). Returns false when the row was not
    /// unfinished.
    pub(crate) fn mark_lost(
        &self,
        local_id: &str,
        code: &str,
        message: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.write(|s| {
            let n =
                s.db.execute(
                    "UPDATE tasks SET status = 'lost', error_code = ?2, error_message = ?3, \
                     updated_at = ?4, finished_at = ?4 WHERE local_id = ?1 AND task_id IS NOT NULL \
                     AND status NOT IN ('succeeded', 'failed', 'expired', 'cancelled', 'pending', \
                     'submitting', 'submit_unknown', 'rejected', 'lost')",
                    args![local_id, (!code.is_empty()).then_some(code), message, now],
                )
                .map_err(|e| s.err(e))?;
            if n == 1 {
                s.add_history(local_id, "lost", now, Some(message))?;
            }
            Ok(n == 1)
        })
    }

    /// A `submit_unknown` row was found on the server as `task_id` (the uncertain create did
    /// reach it): the row takes the id and is polled from now on.
    pub(crate) fn submission_adopted(
        &self,
        local_id: &str,
        task_id: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        self.write(|s| {
            let n =
                s.db.execute(
                    "UPDATE tasks SET task_id = ?2, status = 'queued', error_code = NULL, \
                     error_message = NULL, finished_at = NULL, updated_at = ?3 \
                     WHERE local_id = ?1 AND status = 'submit_unknown' AND task_id IS NULL",
                    args![local_id, task_id, now],
                )
                .map_err(|e| s.err(e))?;
            if n == 0 {
                return Err(StoreError::NotFound(local_id.to_string()));
            }
            let note = format!("found on the server as {task_id}");
            s.add_history(local_id, "queued", now, Some(&note))
        })
    }

    /// True when some row already has the server id `task_id`.
    pub(crate) fn has_task_id(&self, task_id: &str) -> Result<bool, StoreError> {
        self.db
            .query_row(
                "SELECT 1 FROM tasks WHERE task_id = ?1",
                args![task_id],
                |_| Ok(()),
            )
            .map(|r| r.is_some())
            .map_err(|e| self.err(e))
    }

    /// A reconciliation's finding on a `submit_unknown` row (candidates, a probable match):
    /// `code` and `message` go where `get`, `ls --json` and the detail pane show them; the row
    /// stays `submit_unknown`. Returns true when anything changed.
    pub(crate) fn set_reconcile_note(
        &self,
        local_id: &str,
        code: &str,
        message: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.write(|s| {
            let n =
                s.db.execute(
                    "UPDATE tasks SET error_code = ?2, error_message = ?3, updated_at = ?4 \
                     WHERE local_id = ?1 AND status = 'submit_unknown' \
                     AND (error_code IS NOT ?2 OR error_message IS NOT ?3)",
                    args![local_id, code, message, now],
                )
                .map_err(|e| s.err(e))?;
            Ok(n > 0)
        })
    }

    /// Record a polled task (raw JSON kept verbatim). Returns true when the status changed.
    ///
    /// Every poll answer comes through here, so it reads only the columns it merges (not the
    /// request and response bodies) with cached statements.
    pub fn record_poll(
        &self,
        local_id: &str,
        task: &Task,
        raw_json: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.write(|s| {
            let old = s.poll_columns(local_id, raw_json)?;
            if old.same_answer {
                return Ok(false); // nothing new: no write, no change signal
            }
            let status = task.status.as_str();
            let changed = old.phase.as_str() != status;
            let failure = task.failure();
            let (code, message) = match &failure {
                Some((c, m)) => (Some(c.as_str()).filter(|c| !c.is_empty()), Some(m.as_str())),
                None => (old.error_code.as_deref(), old.error_message.as_deref()),
            };
            let video_url = task.video_url().or(old.video_url.as_deref());
            let last_frame_url = task.last_frame_url().or(old.last_frame_url.as_deref());
            let urls_seen_at =
                if task.video_url().is_some() && task.video_url() != old.video_url.as_deref() {
                    Some(now)
                } else {
                    old.urls_seen_at
                };
            let started_at = old.started_at.or_else(|| {
                matches!(
                    task.status,
                    TaskStatus::Running | TaskStatus::Succeeded | TaskStatus::Failed
                )
                .then_some(now)
            });
            let finished_at = old
                .finished_at
                .or_else(|| task.status.is_terminal().then_some(now));
            let tokens = task
                .tokens()
                .or(old.tokens.map(|t| t.max(0) as u64))
                .map(|t| t.min(i64::MAX as u64) as i64);
            // Only the columns whose value moves are set: an indexed column in the SET list
            // (status, the unique task id) rewrites its index entry even when unchanged, and
            // each such page is one more page in the write-ahead log, on every poll answer.
            let mut sql = String::from(
                "UPDATE tasks SET response_json = ?2, error_code = ?3, error_message = ?4, \
                 tokens = ?5, video_url = ?6, last_frame_url = ?7, urls_seen_at = ?8, \
                 started_at = ?9, finished_at = ?10, updated_at = ?11",
            );
            let mut values: Vec<Value<'_>> = args![
                local_id,
                raw_json,
                code,
                message,
                tokens,
                video_url,
                last_frame_url,
                urls_seen_at,
                started_at,
                finished_at,
                now
            ]
            .to_vec();
            if old.status != status {
                values.push(Value::Text(status));
                sql.push_str(&format!(", status = ?{}", values.len()));
            }
            if old.task_id.is_none() {
                values.push(Value::Text(&task.id));
                sql.push_str(&format!(", task_id = ?{}", values.len()));
            }
            sql.push_str(" WHERE local_id = ?1");
            s.db.execute(&sql, &values).map_err(|e| s.err(e))?;
            if changed {
                let code = failure
                    .as_ref()
                    .map(|f| f.0.as_str())
                    .filter(|c| !c.is_empty());
                s.add_history(local_id, status, now, code)?;
            }
            Ok(changed)
        })
    }

    /// What `record_poll` merges a new answer into, and whether the stored answer is `raw_json`
    /// already (compared in place: the stored body is not copied out).
    fn poll_columns(&self, local_id: &str, raw_json: &str) -> Result<PollColumns, StoreError> {
        self.db
            .query_row(
                "SELECT task_id, status, response_json, error_code, error_message, tokens, \
                 video_url, last_frame_url, urls_seen_at, started_at, finished_at \
                 FROM tasks WHERE local_id = ?1",
                args![local_id],
                |r| {
                    let same_answer = r.opt_text(2).ok().flatten() == Some(raw_json);
                    let status: String = r.get(1)?;
                    Ok(PollColumns {
                        task_id: r.get(0)?,
                        phase: Phase::parse(&status),
                        status,
                        same_answer,
                        error_code: r.get(3)?,
                        error_message: r.get(4)?,
                        tokens: r.get(5)?,
                        video_url: r.get(6)?,
                        last_frame_url: r.get(7)?,
                        urls_seen_at: r.get(8)?,
                        started_at: r.get(9)?,
                        finished_at: r.get(10)?,
                    })
                },
            )
            .map_err(|e| self.err(e))?
            .ok_or_else(|| StoreError::NotFound(local_id.to_string()))
    }

    /// Add `note` to a task's history under its current status, unless the same note is
    /// already there (a poll that keeps seeing the same oddity notes it once).
    pub(crate) fn add_note(&self, local_id: &str, note: &str, now: i64) -> Result<(), StoreError> {
        self.write(|s| {
            let seen: Option<i64> =
                s.db.query_row(
                    "SELECT 1 FROM status_history WHERE local_id = ?1 AND note = ?2 LIMIT 1",
                    args![local_id, note],
                    |r| r.get(0),
                )
                .map_err(|e| s.err(e))?;
            if seen.is_some() {
                return Ok(());
            }
            let status = s.find_exact(local_id)?.phase.as_str().to_string();
            s.add_history(local_id, &status, now, Some(note))
        })
    }

    pub(super) fn find_exact(&self, local_id: &str) -> Result<TaskRecord, StoreError> {
        // Cached: every poll reads its task back through here.
        self.db
            .query_row(
                &format!("SELECT {COLUMNS} FROM {FROM_TASKS} WHERE local_id = ?1"),
                args![local_id],
                from_row,
            )
            .map_err(|e| self.err(e))?
            .ok_or_else(|| StoreError::NotFound(local_id.to_string()))
    }

    /// Find one task by server id, local id, a unique prefix of either, or a unique suffix of the
    /// server id of at least 5 characters (the short id the dashboard shows, `105718-mq3yp`, or
    /// just its last part, `mq3yp`).
    pub fn find(&self, key: &str) -> Result<TaskRecord, StoreError> {
        self.find_with(key, COLUMNS)
    }

    /// [`Store::find`] without the request (`request_json` is empty): a record to show, whose
    /// request, when wanted, is read apart ([`Store::read_request`]).
    pub fn find_without_request(&self, key: &str) -> Result<TaskRecord, StoreError> {
        self.find_with(key, COLUMNS_WITHOUT_REQUEST)
    }

    fn find_with(&self, key: &str, columns: &str) -> Result<TaskRecord, StoreError> {
        let key = key.trim();
        if key.is_empty() {
            return Err(StoreError::NotFound(key.to_string()));
        }
        let exact = self
            .db
            .query_row(
                &format!(
                    "SELECT {columns} FROM {FROM_TASKS} WHERE task_id = ?1 OR local_id = ?1 LIMIT 1"
                ),
                args![key],
                from_row,
            )
            .map_err(|e| self.err(e))?;
        if let Some(r) = exact {
            return Ok(r);
        }
        let escaped: String = key
            .chars()
            .flat_map(|c| match c {
                '%' | '_' | '\\' => vec!['\\', c],
                c => vec![c],
            })
            .collect();
        let pattern = format!("{escaped}%");
        let rows: Vec<TaskRecord> = self
            .db
            .query_all(
                &format!(
                    "SELECT {columns} FROM {FROM_TASKS} WHERE task_id LIKE ?1 ESCAPE '\\' \
                     OR local_id LIKE ?1 ESCAPE '\\' ORDER BY created_at DESC LIMIT ?2"
                ),
                args![pattern, AMBIGUOUS_SHOWN + 1],
                from_row,
            )
            .map_err(|e| self.err(e))?;
        // The short id the table shows (`105718-mq3yp`, or a relay id's tail) is a suffix of
        // the server id.
        let rows = if rows.is_empty() && key.chars().count() >= SHORTEST_SUFFIX {
            self.db
                .query_all(
                    &format!(
                        "SELECT {columns} FROM {FROM_TASKS} WHERE task_id LIKE ?1 ESCAPE '\\' \
                         ORDER BY created_at DESC LIMIT ?2"
                    ),
                    args![format!("%{escaped}"), AMBIGUOUS_SHOWN + 1],
                    from_row,
                )
                .map_err(|e| self.err(e))?
        } else {
            rows
        };
        match rows.len() {
            0 => Err(StoreError::NotFound(key.to_string())),
            1 => Ok(rows
                .into_iter()
                .next()
                .ok_or_else(|| StoreError::NotFound(key.to_string()))?),
            n => {
                let mut matches: Vec<String> = rows
                    .iter()
                    .take(AMBIGUOUS_SHOWN as usize)
                    .map(|r| {
                        let prompt: String = r.prompt.chars().take(30).collect();
                        format!(
                            "{} {} {}",
                            r.display_id(),
                            r.phase,
                            prompt.replace('\n', " ")
                        )
                    })
                    .collect();
                if n > AMBIGUOUS_SHOWN as usize {
                    matches.push("…".to_string());
                }
                Err(StoreError::Ambiguous {
                    key: key.to_string(),
                    matches,
                })
            }
        }
    }

    /// Tasks matching `query`, newest first.
    pub fn list(&self, query: &TaskQuery) -> Result<Vec<TaskRecord>, StoreError> {
        let mut rows = Vec::new();
        self.each(query, |r| {
            rows.push(r);
            true
        })?;
        Ok(rows)
    }

    /// Tasks matching `query`, newest first, as the dashboard keeps them in memory
    /// ([`TaskRow`]: the rest is read one task at a time by [`Store::bodies`]).
    pub fn list_rows(&self, query: &TaskQuery) -> Result<Vec<TaskRow>, StoreError> {
        let mut rows = Vec::new();
        let mut reader = RowReader::default();
        self.each_mapped(
            query,
            ROW_COLUMNS,
            |r| reader.read(r),
            |r| {
                rows.push(r);
                true
            },
        )?;
        // The dashboard keeps this vector: no spare capacity.
        rows.shrink_to_fit();
        Ok(rows)
    }

    /// Every task older than `after` (a `(created_at, local_id)` the newest-first order reaches
    /// first; `None`: every task), newest first, as [`Store::list_rows`] gives them: the rest of
    /// the store behind a first page. The table is read once in storage order (walking the
    /// `created_at` index and looking each row up costs more than the rows' decoding) and put in
    /// order here, where rows stored in creation order already are.
    pub fn rows_after(&self, after: Option<(i64, &str)>) -> Result<Vec<TaskRow>, StoreError> {
        let sql = format!(
            "SELECT {ROW_COLUMNS} FROM tasks NOT INDEXED \
             WHERE ?1 IS NULL OR created_at < ?1 OR (created_at = ?1 AND local_id < ?2) \
             ORDER BY tasks.rowid DESC"
        );
        let (created, id) = after.unzip();
        let mut reader = RowReader::default();
        // Sized once (to every row, counted from the smallest index): grown by doubling, 100k
        // rows would be copied twice more.
        let count: i64 = self
            .db
            .query_row("SELECT count(*) FROM tasks", args![], |r| r.get(0))
            .map_err(|e| self.err(e))?
            .unwrap_or(0);
        let mut rows = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
        self.db
            .query_each(
                &sql,
                args![created, id],
                readable(&mut rows, |r| reader.read(r)),
            )
            .map_err(|e| self.err(e))?;
        newest_first(&mut rows);
        // The dashboard keeps this vector: no spare capacity.
        rows.shrink_to_fit();
        Ok(rows)
    }

    /// Store the facts (`tasks.shape`, see `row::shape_of`) of every task without them: the
    /// tasks of a store written before they were stored, or rows another tool wrote. Found by
    /// the partial index `tasks_unshaped`, so a store with none costs one lookup; filled a chunk
    /// per write transaction, so other writers wait for one chunk at most.
    pub(super) fn fill_shapes(&self) -> Result<(), StoreError> {
        const CHUNK: i64 = 1_000;
        let sql = concat!(
            "SELECT local_id, ",
            listed_request_sql!(),
            " FROM tasks LEFT JOIN task_requests q USING (local_id) \
             WHERE tasks.shape IS NULL LIMIT ?1"
        );
        loop {
            let found: Vec<(String, Option<String>)> = self
                .db
                .query_all(sql, args![CHUNK], |r| {
                    let id: String = r.get(0)?;
                    Ok(match r.value(1)? {
                        Value::Text(t) => (id, Some(super::row::shape_of(t))),
                        // A big request is read apart, one at a time.
                        Value::Int(_) => (id, None),
                        _ => (id, Some(super::row::shape_of(""))),
                    })
                })
                .map_err(|e| self.err(e))?;
            if found.is_empty() {
                return Ok(());
            }
            let mut shaped = Vec::with_capacity(found.len());
            for (id, shape) in found {
                let shape = match shape {
                    Some(s) => s,
                    None => super::row::shape_of(&self.read_request(&id)?.unwrap_or_default()),
                };
                shaped.push((id, shape));
            }
            let written = self.write(|s| {
                let mut n = 0;
                for (id, shape) in &shaped {
                    n +=
                        s.db.execute(
                            "UPDATE tasks SET shape = ?2 WHERE local_id = ?1 AND shape IS NULL",
                            args![id, shape],
                        )
                        .map_err(|e| s.err(e))?;
                }
                Ok(n)
            })?;
            if written == 0 {
                // Another process filled them first (or a row cannot take one): done either way.
                return Ok(());
            }
        }
    }

    /// A task's full request and last response (`None` when the row is gone).
    pub(crate) fn bodies(
        &self,
        local_id: &str,
    ) -> Result<Option<super::record::TaskBodies>, StoreError> {
        self.db
            .query_row(
                &format!(
                    "SELECT {}, response_json, video_url, last_frame_url, video_path, \
                     last_frame_path, CASE WHEN length(asset_files) <= {} THEN asset_files END \
                     FROM {FROM_TASKS} WHERE local_id = ?1",
                    request_sql!(),
                    super::ASSET_FILES_BYTES
                ),
                args![local_id],
                |r| {
                    Ok(super::record::TaskBodies {
                        local_id: local_id.to_string(),
                        request_json: r.get(0)?,
                        response_json: r.get(1)?,
                        video_url: r.get(2)?,
                        last_frame_url: r.get(3)?,
                        video_path: r.get(4)?,
                        last_frame_path: r.get(5)?,
                        // Text or nothing: another tool's value of another type is no name.
                        asset_files: r.get::<Option<String>>(6).ok().flatten(),
                    })
                },
            )
            .map_err(|e| self.err(e))
    }

    /// The `asset_files` JSON of the task `local_id` (the local file names of its inlined
    /// assets), as [`Store::bodies`] reads it: `None` when there is none, or it is not text of
    /// at most `ASSET_FILES_BYTES`.
    pub fn asset_files(&self, local_id: &str) -> Result<Option<String>, StoreError> {
        self.db
            .query_row(
                &format!(
                    "SELECT CASE WHEN length(asset_files) <= {} THEN asset_files END \
                     FROM tasks WHERE local_id = ?1",
                    super::ASSET_FILES_BYTES
                ),
                args![local_id],
                |r| Ok(r.get::<Option<String>>(0).ok().flatten()),
            )
            .map(Option::flatten)
            .map_err(|e| self.err(e))
    }

    /// Visit the tasks matching `query`, newest first, one row at a time (nothing is collected,
    /// so `ls --json` over 100k tasks streams); `visit` returns false to stop.
    pub fn each(
        &self,
        query: &TaskQuery,
        visit: impl FnMut(TaskRecord) -> bool,
    ) -> Result<(), StoreError> {
        self.each_mapped(query, COLUMNS, from_row, visit)
    }

    /// [`Store::each`] for writing every task out (`ls --json`): a request of at most 64 KiB
    /// comes in `request_json`; a bigger one is left out (`request_json` empty) and its size
    /// given, to be read with [`Store::read_request`] and written before the next row.
    pub fn each_listed(
        &self,
        query: &TaskQuery,
        mut visit: impl FnMut(TaskRecord, Option<u64>) -> bool,
    ) -> Result<(), StoreError> {
        fn listed_from(r: &Row<'_>) -> Result<(TaskRecord, Option<u64>), DbError> {
            let big = match r.value(6)? {
                Value::Int(n) => Some(n.max(0) as u64),
                _ => None,
            };
            let record = from_row_with(r, |r| match r.value(6)? {
                Value::Text(t) => Ok(t.to_string()),
                _ => Ok(String::new()),
            })?;
            Ok((record, big))
        }
        self.each_mapped(query, LISTED_COLUMNS, listed_from, |(r, big)| visit(r, big))
    }

    /// [`Store::each`] reading only what a listing shows ([`TaskLine`]): never a request or an
    /// answer body, so a row holding a 20 MB prompt costs its preview.
    pub(crate) fn each_line(
        &self,
        query: &TaskQuery,
        visit: impl FnMut(super::TaskLine) -> bool,
    ) -> Result<(), StoreError> {
        fn line_from(r: &Row<'_>) -> Result<super::TaskLine, DbError> {
            let status: String = r.get(2)?;
            let tokens: Option<i64> = r.get(6)?;
            Ok(super::TaskLine {
                local_id: r.get(0)?,
                task_id: r.get(1)?,
                phase: Phase::parse(&status),
                model: r.get(3)?,
                prompt: r.get(4)?,
                created_at: r.get(5)?,
                tokens: tokens.map(|t| t.max(0) as u64),
                label: r.get(7)?,
            })
        }
        self.each_mapped(
            query,
            "local_id, task_id, status, model, prompt, created_at, tokens, label",
            line_from,
            visit,
        )
    }

    fn each_mapped<T>(
        &self,
        query: &TaskQuery,
        columns: &str,
        mut map: impl FnMut(&Row<'_>) -> Result<T, DbError>,
        mut visit: impl FnMut(T) -> bool,
    ) -> Result<(), StoreError> {
        let mut sql = format!("SELECT {columns} FROM {FROM_TASKS} WHERE created_at >= ?1");
        let since = query.since.unwrap_or(i64::MIN);
        let statuses = query.statuses.join("\u{1f}");
        if !query.statuses.is_empty() {
            // instr over a separator-joined list keeps the statement fixed (and cached).
            sql.push_str(
                " AND instr('\u{1f}' || ?2 || '\u{1f}', '\u{1f}' || status || '\u{1f}') > 0",
            );
        } else {
            sql.push_str(" AND ?2 = ?2");
        }
        sql.push_str(" ORDER BY created_at DESC, local_id DESC LIMIT ?3");
        let limit = query
            .limit
            .map(|l| l.min(i64::MAX as usize) as i64)
            .unwrap_or(-1);
        self.db
            .query_each(&sql, args![since, statuses, limit], |r| match map(r) {
                Ok(v) => Ok(visit(v)),
                Err(e) if bad_row(&e) => Ok(true),
                Err(e) => Err(e),
            })
            .map_err(|e| self.err(e))
    }

    /// The store's change sequence: it grows with every task inserted or changed, by any process.
    pub fn change_seq(&self) -> Result<i64, StoreError> {
        self.db
            .query_row("SELECT COALESCE(MAX(seq), 0) FROM tasks", args![], |r| {
                r.get(0)
            })
            .map(|seq| seq.unwrap_or(0))
            .map_err(|e| self.err(e))
    }

    /// Rows inserted or changed after change sequence `seq`, in the order of the changes, with
    /// the sequence of the last one (`seq` itself when there are none): records to follow (see
    /// `TaskRecord::request_facts`), as the store watcher reports them.
    pub fn changed_after_seq(&self, seq: i64) -> Result<(Vec<TaskRecord>, i64), StoreError> {
        let sql = format!("SELECT {FOLLOWED_COLUMNS}, seq FROM tasks WHERE seq > ?1 ORDER BY seq");
        let mut last = seq;
        let mut facts = RowReader::default();
        let mut rows = Vec::new();
        let mut keep = readable(&mut rows, |r| followed_from(r, &mut facts));
        self.db
            .query_each(&sql, args![seq], |r| {
                // The sequence is read apart from the row, so the cursor moves past an
                // unreadable row.
                last = last.max(r.get::<i64>(AFTER_FOLLOWED)?);
                keep(r)
            })
            .map_err(|e| self.err(e))?;
        drop(keep);
        Ok((self.with_big_facts(rows)?, last))
    }

    /// Accepted tasks not yet in a terminal status: records to follow (see
    /// `TaskRecord::request_facts`), as the poller tracks them.
    pub fn unfinished(&self) -> Result<Vec<TaskRecord>, StoreError> {
        // Through the status index: walking `created_at`'s would look up every task of the
        // store (100k lookups at a dashboard's start) to keep the few unfinished.
        let sql = format!(
            "SELECT {FOLLOWED_COLUMNS} FROM tasks INDEXED BY tasks_status \
             WHERE task_id IS NOT NULL \
             AND status NOT IN ('succeeded', 'failed', 'expired', 'cancelled', 'submitting', \
             'submit_unknown', 'rejected', 'lost') ORDER BY created_at"
        );
        let mut facts = RowReader::default();
        let mut rows = Vec::new();
        self.db
            .query_each(
                &sql,
                args![],
                readable(&mut rows, |r| followed_from(r, &mut facts)),
            )
            .map_err(|e| self.err(e))?;
        Ok(self
            .with_big_facts(rows)?
            .into_iter()
            .filter(|r| r.phase.needs_polling())
            .collect())
    }

    /// The task `local_id` to follow (see `TaskRecord::request_facts`): what the poller reads
    /// back after an answer.
    pub fn find_followed(&self, local_id: &str) -> Result<TaskRecord, StoreError> {
        let row = self
            .db
            .query_row(
                &format!("SELECT {FOLLOWED_COLUMNS} FROM tasks WHERE local_id = ?1"),
                args![local_id],
                |r| followed_from(r, &mut RowReader::default()),
            )
            .map_err(|e| self.err(e))?
            .ok_or_else(|| StoreError::NotFound(local_id.to_string()))?;
        Ok(self.with_big_facts(vec![row])?.remove(0))
    }

    /// Rows read by [`followed_from`], each big request's facts read from its body apart (one
    /// body in memory at a time, dropped once read).
    fn with_big_facts(&self, rows: Vec<(TaskRecord, bool)>) -> Result<Vec<TaskRecord>, StoreError> {
        rows.into_iter()
            .map(|(mut r, big)| {
                if big {
                    let body = self.read_request(&r.local_id)?.unwrap_or_default();
                    r.request_facts = Some(super::Spec::of_json(&body).shared());
                }
                Ok(r)
            })
            .collect()
    }

    /// The local ids of `submitting` rows created before `before` (Unix seconds), newest first,
    /// found by the status index.
    pub fn submitting_before(&self, before: i64) -> Result<Vec<String>, StoreError> {
        self.db
            .query_all(
                "SELECT local_id FROM tasks WHERE status = 'submitting' AND created_at < ?1 \
                 ORDER BY created_at DESC, local_id DESC",
                args![before],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))
    }

    /// Succeeded tasks created at or after `since` whose results are not all saved (a video link
    /// and no video file, or a last-frame link and no last-frame file): `(local_id, created_at)`,
    /// oldest first. The download manager's sweep, read without the rows' bodies.
    pub(crate) fn unsaved_results(&self, since: i64) -> Result<Vec<(String, i64)>, StoreError> {
        self.db
            .query_all(
                "SELECT local_id, created_at FROM tasks WHERE status = 'succeeded' \
                 AND created_at >= ?1 AND video_url IS NOT NULL \
                 AND (video_path IS NULL OR (last_frame_url IS NOT NULL AND last_frame_path IS NULL)) \
                 ORDER BY created_at",
                args![since],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(|e| self.err(e))
    }

    /// The status history of a task, oldest first.
    pub fn history(&self, local_id: &str) -> Result<Vec<HistoryEntry>, StoreError> {
        self.db
            .query_all(
                "SELECT status, at, note FROM status_history WHERE local_id = ?1 ORDER BY at, rowid",
                args![local_id],
                |r| {
                    Ok(HistoryEntry {
                        status: r.get(0)?,
                        at: r.get(1)?,
                        note: r.get(2)?,
                    })
                },
            )
            .map_err(|e| self.err(e))
    }

    /// Remember where a task's result file was saved.
    pub fn set_file(
        &self,
        local_id: &str,
        kind: FileKind,
        path: &Path,
        now: i64,
    ) -> Result<(), StoreError> {
        let column = match kind {
            FileKind::Video => "video_path",
            FileKind::LastFrame => "last_frame_path",
        };
        let path = path.to_string_lossy().into_owned();
        self.write(|s| {
            let n =
                s.db.execute(
                    &format!("UPDATE tasks SET {column} = ?2, updated_at = ?3 WHERE local_id = ?1"),
                    args![local_id, path, now],
                )
                .map_err(|e| s.err(e))?;
            if n == 0 {
                return Err(StoreError::NotFound(local_id.to_string()));
            }
            Ok(())
        })
    }

    /// Remove rows that never reached the server: no server id and refused (`rejected`), and
    /// no retry made of them. Anything else among `local_ids` is left alone (a task that may
    /// exist on the server keeps its record). Returns the local ids removed.
    pub fn delete_local(&self, local_ids: &[String]) -> Result<Vec<String>, StoreError> {
        self.write(|s| {
            let mut removed = Vec::new();
            for id in local_ids {
                let n =
                    s.db.execute(
                        "DELETE FROM tasks WHERE local_id = ?1 AND task_id IS NULL \
                         AND status = 'rejected' \
                         AND NOT EXISTS (SELECT 1 FROM tasks r WHERE r.retry_of = ?1)",
                        args![id],
                    )
                    .map_err(|e| s.err(e))?;
                if n > 0 {
                    for sql in [
                        "DELETE FROM status_history WHERE local_id = ?1",
                        "DELETE FROM task_requests WHERE local_id = ?1",
                    ] {
                        s.db.execute(sql, args![id]).map_err(|e| s.err(e))?;
                    }
                    removed.push(id.clone());
                }
            }
            Ok(removed)
        })
    }
}

#[cfg(test)]
mod tests;
