//! The SQLite store: every task with the exact request that created it, its last response, status
//! history, retry lineage and local files; drafts and templates. WAL mode, so a dashboard and a
//! headless command can share one file.

mod record;

pub use record::{FileKind, HistoryEntry, Phase, TaskRecord};

use crate::api::types::Task;
use std::path::{Path, PathBuf};

/// What can go wrong with the store. Messages say what to do; none carries secrets.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "cannot open the store at {path}: {message} (check the path and permissions, or pass --store PATH)"
    )]
    Open { path: PathBuf, message: String },
    #[error(
        "the store at {path} is not a seedance-tui database or is damaged: {message} (move it aside to start a new one; nothing was changed)"
    )]
    Corrupt { path: PathBuf, message: String },
    #[error(
        "the store at {path} was written by a newer seedance-tui (schema {found}, this build knows {known}); upgrade seedance-tui"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("the store is busy (another process holds a lock): {0}; try again")]
    Busy(String),
    #[error("no task matches `{0}` (use the task id, the local id, or a unique prefix)")]
    NotFound(String),
    #[error("`{0}` matches more than one task; give more of the id")]
    Ambiguous(String),
    #[error("store error: {0}")]
    Sql(String),
}

/// A new submission, written before the create POST.
#[derive(Debug, Clone)]
pub struct NewSubmission<'a> {
    pub local_id: &'a str,
    pub profile: &'a str,
    /// The exact JSON body that will be sent.
    pub request_json: &'a str,
    pub retry_of: Option<&'a str>,
    /// Unix seconds.
    pub now: i64,
}

/// A filter for [`Store::list`].
#[derive(Debug, Clone, Default)]
pub struct TaskQuery {
    /// Only rows whose phase text (`Phase::as_str`) is one of these; empty means all.
    pub statuses: Vec<String>,
    /// Only rows created at or after this Unix second.
    pub since: Option<i64>,
    /// At most this many rows, newest first; `None` means all.
    pub limit: Option<usize>,
}

/// A handle on one store file. Cheap to open; open one per thread or task that needs it.
pub struct Store {
    conn: rusqlite::Connection,
    path: PathBuf,
}

impl Store {
    /// Open (creating and migrating as needed) the store at `path`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let _ = path;
        todo!()
    }

    /// The file this store lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Write a `submitting` row (before the POST) and return it.
    pub fn begin_submission(&self, sub: &NewSubmission<'_>) -> Result<TaskRecord, StoreError> {
        let _ = (sub, &self.conn);
        todo!()
    }

    /// The server accepted the create and named the task `task_id`.
    pub fn submission_accepted(
        &self,
        local_id: &str,
        task_id: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let _ = (local_id, task_id, now);
        todo!()
    }

    /// The create was refused (validation or a 4xx): nothing was started.
    pub fn submission_rejected(
        &self,
        local_id: &str,
        code: &str,
        message: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let _ = (local_id, code, message, now);
        todo!()
    }

    /// The create's outcome is unknown (timeout, 5xx, cut connection).
    pub fn submission_unknown(
        &self,
        local_id: &str,
        message: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let _ = (local_id, message, now);
        todo!()
    }

    /// Record a polled task (raw JSON kept verbatim). Returns true when the status changed.
    pub fn record_poll(
        &self,
        local_id: &str,
        task: &Task,
        raw_json: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let _ = (local_id, task, raw_json, now);
        todo!()
    }

    /// Find one task by server id, local id, or a unique prefix of either.
    pub fn find(&self, key: &str) -> Result<TaskRecord, StoreError> {
        let _ = key;
        todo!()
    }

    /// Tasks matching `query`, newest first.
    pub fn list(&self, query: &TaskQuery) -> Result<Vec<TaskRecord>, StoreError> {
        let _ = query;
        todo!()
    }

    /// Rows changed after `updated_after` (Unix seconds, exclusive), for incremental refresh.
    pub fn changed_since(&self, updated_after: i64) -> Result<Vec<TaskRecord>, StoreError> {
        let _ = updated_after;
        todo!()
    }

    /// Accepted tasks not yet in a terminal status.
    pub fn unfinished(&self) -> Result<Vec<TaskRecord>, StoreError> {
        todo!()
    }

    /// The status history of a task, oldest first.
    pub fn history(&self, local_id: &str) -> Result<Vec<HistoryEntry>, StoreError> {
        let _ = local_id;
        todo!()
    }

    /// Remember where a task's result file was saved.
    pub fn set_file(
        &self,
        local_id: &str,
        kind: FileKind,
        path: &Path,
        now: i64,
    ) -> Result<(), StoreError> {
        let _ = (local_id, kind, path, now);
        todo!()
    }

    /// A number that changes whenever any process commits to the store (PRAGMA data_version
    /// combined with this connection's own writes): cheap to poll for "something changed".
    pub fn change_counter(&self) -> Result<i64, StoreError> {
        todo!()
    }

    /// Save (insert or replace) a named draft's JSON.
    pub fn save_draft(&self, name: &str, json: &str, now: i64) -> Result<(), StoreError> {
        let _ = (name, json, now);
        todo!()
    }

    /// All drafts as (name, json, updated_at), most recent first.
    pub fn drafts(&self) -> Result<Vec<(String, String, i64)>, StoreError> {
        todo!()
    }

    pub fn delete_draft(&self, name: &str) -> Result<(), StoreError> {
        let _ = name;
        todo!()
    }

    /// Save (insert or replace) a named template's JSON.
    pub fn save_template(&self, name: &str, json: &str, now: i64) -> Result<(), StoreError> {
        let _ = (name, json, now);
        todo!()
    }

    /// All templates as (name, json), by name.
    pub fn templates(&self) -> Result<Vec<(String, String)>, StoreError> {
        todo!()
    }
}
