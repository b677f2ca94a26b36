//! Create requests, in `task_requests` (one row per task, written once with its task): the
//! exact JSON body, stored as UTF-8 bytes. A body of any size costs one copy in memory to
//! write or read: a big one is written into a zero-filled blob and read back in pieces through
//! SQLite's incremental blob I/O, never bound or selected whole (SQLite would copy a bound
//! value, then again into the record it writes, and assemble a selected one in a buffer of its
//! own).

use super::db::Db;
use super::{Store, StoreError};
use std::io::{Read, Write};

/// Bodies up to this size are bound and selected like any value; bigger ones go through the
/// blob handle (opening one compiles a statement: too slow for every line of a big batch).
pub(super) const INLINE_BODY_BYTES: usize = 64 << 10;

/// The tasks table joined with their requests: `SELECT … FROM {FROM_TASKS}` (a join, not a
/// subquery: SQLite copies a subquery's value once more). Name `tasks.rowid` in full.
pub(super) const FROM_TASKS: &str = "tasks LEFT JOIN task_requests q USING (local_id)";

/// The request column of a task read `FROM {FROM_TASKS}`: the whole body as text (`''` when
/// the task has none).
macro_rules! request_sql {
    () => {
        "COALESCE(CAST(q.body AS TEXT), '')"
    };
}

/// The request column for listings: the body as text when it is at most
/// [`INLINE_BODY_BYTES`], else its length in bytes (an integer: read the body with
/// [`Store::read_request`]), `NULL` when there is none. `length()` of a blob column reads its
/// size without loading the body.
macro_rules! listed_request_sql {
    () => {
        "CASE WHEN length(q.body) <= 65536 THEN CAST(q.body AS TEXT) ELSE length(q.body) END"
    };
}

const _: () = assert!(
    INLINE_BODY_BYTES == 65536,
    "listed_request_sql! spells the same bound"
);

impl Store {
    /// Write the request `body` of the task `local_id` (inside the caller's transaction).
    pub(super) fn insert_request(&self, local_id: &str, body: &str) -> Result<(), StoreError> {
        if body.len() <= INLINE_BODY_BYTES {
            self.db
                .execute(
                    "INSERT INTO task_requests (local_id, body) VALUES (?1, ?2)",
                    args![local_id, body.as_bytes()],
                )
                .map_err(|e| self.err(e))?;
            return Ok(());
        }
        let len = i64::try_from(body.len())
            .ok()
            .filter(|&n| n <= i64::from(i32::MAX))
            .ok_or_else(|| StoreError::Sql(format!("a request of {} bytes", body.len())))?;
        match &self.db {
            Db::Sqlite(conn) => {
                self.db
                    .execute(
                        "INSERT INTO task_requests (local_id, body) VALUES (?1, zeroblob(?2))",
                        args![local_id, len],
                    )
                    .map_err(|e| self.err(e))?;
                let rowid = conn.last_insert_rowid();
                let mut blob = conn
                    .blob_open(rusqlite::MAIN_DB, "task_requests", "body", rowid, false)
                    .map_err(|e| self.err(e.into()))?;
                blob.write_all(body.as_bytes())
                    .map_err(|e| StoreError::Sql(format!("writing the request: {e}")))?;
                blob.close().map_err(|e| self.err(e.into()))
            }
            Db::Postgres(_) => self
                .db
                .execute(
                    "INSERT INTO task_requests (local_id, body) VALUES (?1, ?2)",
                    args![local_id, body.as_bytes()],
                )
                .map(drop)
                .map_err(|e| self.err(e)),
        }
    }

    /// The stored create request of the task `local_id`, read in pieces into one string (`None`
    /// when the task has none). Bytes that are not UTF-8 (a store written by another tool) are
    /// replaced.
    pub fn read_request(&self, local_id: &str) -> Result<Option<String>, StoreError> {
        let bytes = match &self.db {
            Db::Sqlite(conn) => {
                let found: Option<(i64, i64)> = self
                    .db
                    .query_row(
                        "SELECT rowid, length(body) FROM task_requests WHERE local_id = ?1",
                        args![local_id],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .map_err(|e| self.err(e))?;
                let Some((rowid, len)) = found else {
                    return Ok(None);
                };
                let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
                let blob = conn
                    .blob_open(rusqlite::MAIN_DB, "task_requests", "body", rowid, true)
                    .map_err(|e| self.err(e.into()))?;
                blob.take(len.max(0) as u64)
                    .read_to_end(&mut bytes)
                    .map_err(|e| StoreError::Sql(format!("reading the request: {e}")))?;
                bytes
            }
            Db::Postgres(_) => {
                let found = self
                    .db
                    .query_row(
                        "SELECT body FROM task_requests WHERE local_id = ?1",
                        args![local_id],
                        |r| match r.value(0)? {
                            super::db::Value::Bytes(b) => Ok(b.to_vec()),
                            _ => Ok(Vec::new()),
                        },
                    )
                    .map_err(|e| self.err(e))?;
                let Some(bytes) = found else {
                    return Ok(None);
                };
                bytes
            }
        };
        Ok(Some(String::from_utf8(bytes).unwrap_or_else(|e| {
            String::from_utf8_lossy(e.as_bytes()).into_owned()
        })))
    }
}
