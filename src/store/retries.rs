//! Retry chains: a task and the tasks that retry it (`retry_of`). A chain is retried only at its
//! head, so a task whose retry is in flight or already succeeded is never paid for twice.

use super::tasks::{COLUMNS, from_row};
use super::{Store, StoreError, TaskRecord};
use rusqlite::OptionalExtension;

impl Store {
    /// The newest retry of `local_id` that counts against retrying it again: any retry that was
    /// not rejected (a rejected create started nothing, so the original is still the head).
    pub fn retried_by(&self, local_id: &str) -> Result<Option<TaskRecord>, StoreError> {
        self.conn
            .query_row(
                &format!(
                    "SELECT {COLUMNS} FROM tasks WHERE retry_of = ?1 AND status <> 'rejected' \
                     ORDER BY created_at DESC, local_id DESC LIMIT 1"
                ),
                [local_id],
                from_row,
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Remove task rows that never reached the server (`rejected`: the create was refused, so
    /// nothing was started or billed). Rows in any other phase are left alone. Returns how many
    /// rows were removed.
    pub fn delete_local(&self, local_ids: &[String]) -> Result<usize, StoreError> {
        self.write(|s| {
            let mut n = 0;
            for id in local_ids {
                let gone = s
                    .conn
                    .execute(
                        "DELETE FROM tasks WHERE local_id = ?1 AND task_id IS NULL \
                         AND status = 'rejected'",
                        [id],
                    )
                    .map_err(|e| s.err(e))?;
                if gone > 0 {
                    s.conn
                        .execute("DELETE FROM status_history WHERE local_id = ?1", [id])
                        .map_err(|e| s.err(e))?;
                }
                n += gone;
            }
            Ok(n)
        })
    }
}
