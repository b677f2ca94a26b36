//! Copying one store into another (`seedance-tui store copy`), SQLite to PostgreSQL or back:
//! every task with its request and status history, drafts, templates, and the keys of batch
//! lines removed from the queue (so a batch file run again skips them there too). Leases and
//! `meta` (queue pause, probe answers) belong to the processes using a store and stay.
//!
//! A copy adds and never changes: a task already in the destination (the same local id, server
//! id or queue key) is left as it is, with its history, so a second run copies nothing new.
//! Tasks go in the order they were written, a chunk per transaction, their requests read one at
//! a time, so memory does not grow with the store.

use super::db::{Row, Value};
use super::{Store, StoreError};

/// What a copy added, and how many tasks were already there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopyReport {
    pub tasks: u64,
    pub history: u64,
    pub drafts: u64,
    pub templates: u64,
    /// Keys of batch lines removed from the queue.
    pub removed_lines: u64,
    /// Tasks the destination had already (left unchanged).
    pub tasks_there: u64,
}

/// Every column of `tasks` but the ones each store assigns itself (`rowid`, `seq`).
macro_rules! task_columns {
    () => {
        "local_id, task_id, status, profile, model, prompt, response_json, error_code, \
         error_message, retry_of, retry_depth, created_at, updated_at, started_at, finished_at, \
         tokens, video_url, last_frame_url, urls_seen_at, video_path, last_frame_path, queue_key, \
         queue_pos, label, max_in_flight, asset_files, shape"
    };
}

const TASK_COLUMN_COUNT: usize = 27;

const READ_TASKS: &str = concat!(
    "SELECT tasks.rowid, ",
    task_columns!(),
    " FROM tasks WHERE tasks.rowid > ?1 ORDER BY tasks.rowid LIMIT ?2"
);

const WRITE_TASK: &str = concat!(
    "INSERT INTO tasks (",
    task_columns!(),
    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, \
     ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27) ON CONFLICT DO NOTHING"
);

/// Tasks per transaction.
const CHUNK: i64 = 200;

/// The small tables copied whole: (table, its three columns, the order they are read in). The
/// order of the entries is the order of `CopyReport`'s drafts, templates, removed_lines.
const SMALL_TABLES: [(&str, &str, &str); 3] = [
    ("drafts", "name, json, updated_at", "name"),
    ("templates", "name, json, updated_at", "name"),
    (
        "queue_removed",
        "profile, queue_key, removed_at",
        "profile, queue_key",
    ),
];

/// A cell read from one store, to be written into the other.
#[derive(Debug, Clone)]
enum Cell {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Bytes(Vec<u8>),
}

impl Cell {
    fn read(r: &Row<'_>, i: usize) -> Result<Cell, super::db::DbError> {
        Ok(match r.value(i)? {
            Value::Null => Cell::Null,
            Value::Int(n) => Cell::Int(n),
            Value::Real(x) => Cell::Real(x),
            Value::Text(s) => Cell::Text(s.to_string()),
            Value::Bytes(b) => Cell::Bytes(b.to_vec()),
        })
    }

    fn value(&self) -> Value<'_> {
        match self {
            Cell::Null => Value::Null,
            Cell::Int(n) => Value::Int(*n),
            Cell::Real(x) => Value::Real(*x),
            Cell::Text(s) => Value::Text(s),
            Cell::Bytes(b) => Value::Bytes(b),
        }
    }
}

fn values(cells: &[Cell]) -> Vec<Value<'_>> {
    cells.iter().map(Cell::value).collect()
}

impl Store {
    /// Copy everything a user keeps in this store into `to` (see the module's comment).
    pub fn copy_into(&self, to: &Store) -> Result<CopyReport, StoreError> {
        let mut report = CopyReport::default();
        let mut after = i64::MIN;
        loop {
            let chunk: Vec<(i64, Vec<Cell>)> = self
                .db
                .query_all(READ_TASKS, args![after, CHUNK], |r| {
                    let cells = (1..=TASK_COLUMN_COUNT)
                        .map(|i| Cell::read(r, i))
                        .collect::<Result<_, _>>()?;
                    Ok((r.get::<i64>(0)?, cells))
                })
                .map_err(|e| self.err(e))?;
            let Some((last, _)) = chunk.last() else {
                break;
            };
            after = *last;
            to.write(|t| {
                for (_, cells) in &chunk {
                    let Cell::Text(local_id) = &cells[0] else {
                        return Err(StoreError::Sql("a task without a local id".into()));
                    };
                    let added =
                        t.db.execute(WRITE_TASK, &values(cells))
                            .map_err(|e| t.err(e))?;
                    if added == 0 {
                        report.tasks_there += 1;
                        continue;
                    }
                    report.tasks += 1;
                    if let Some(body) = self.read_request(local_id)? {
                        t.insert_request(local_id, &body)?;
                    }
                    let history = self
                        .db
                        .query_all(
                            "SELECT status, at, note FROM status_history WHERE local_id = ?1 \
                             ORDER BY rowid",
                            args![local_id],
                            |r| {
                                (0..3)
                                    .map(|i| Cell::read(r, i))
                                    .collect::<Result<Vec<_>, _>>()
                            },
                        )
                        .map_err(|e| self.err(e))?;
                    for h in &history {
                        let mut row = vec![Cell::Text(local_id.clone())];
                        row.extend(h.iter().cloned());
                        t.db.execute(
                            "INSERT INTO status_history (local_id, status, at, note) \
                             VALUES (?1, ?2, ?3, ?4)",
                            &values(&row),
                        )
                        .map_err(|e| t.err(e))?;
                        report.history += 1;
                    }
                }
                Ok(())
            })?;
        }
        let mut added = [0; SMALL_TABLES.len()];
        for (n, &(table, columns, order)) in added.iter_mut().zip(&SMALL_TABLES) {
            *n = self.copy_rows(to, table, columns, order)?;
        }
        [report.drafts, report.templates, report.removed_lines] = added;
        Ok(report)
    }

    /// Copy the rows of `table` (its three `columns`, read in `order`) that are not there yet,
    /// in one transaction; how many were added.
    fn copy_rows(
        &self,
        to: &Store,
        table: &str,
        columns: &str,
        order: &str,
    ) -> Result<u64, StoreError> {
        let read = format!("SELECT {columns} FROM {table} ORDER BY {order}");
        let write =
            format!("INSERT INTO {table} ({columns}) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING");
        let rows = self
            .db
            .query_all(&read, args![], |r| {
                (0..3)
                    .map(|i| Cell::read(r, i))
                    .collect::<Result<Vec<_>, _>>()
            })
            .map_err(|e| self.err(e))?;
        to.write(|t| {
            let mut added = 0;
            for row in &rows {
                added += t.db.execute(&write, &values(row)).map_err(|e| t.err(e))? as u64;
            }
            Ok(added)
        })
    }
}

#[cfg(test)]
mod tests;
