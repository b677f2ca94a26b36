//! Retry chains: a task and the tasks that retry it (`retry_of`). A chain is retried only at its
//! head, so a task whose retry is in flight or already succeeded is never paid for twice.

use super::requests::FROM_TASKS;
use super::tasks::{COLUMNS, from_row};
use super::{Store, StoreError, TaskRecord};

impl Store {
    /// The newest retry of `local_id` that counts against retrying it again: any retry that was
    /// not rejected (a rejected create started nothing, so the original is still the head).
    pub(crate) fn retried_by(&self, local_id: &str) -> Result<Option<TaskRecord>, StoreError> {
        self.db
            .query_row(
                &format!(
                    "SELECT {COLUMNS} FROM {FROM_TASKS} WHERE retry_of = ?1 AND status <> 'rejected' \
                     ORDER BY created_at DESC, local_id DESC LIMIT 1"
                ),
                args![local_id],
                from_row,
            )
            .map_err(|e| self.err(e))
    }
}
