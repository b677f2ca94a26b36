//! Small facts the store remembers between runs (`meta` table): e.g. whether a base URL has a
//! task list the poller may use.

use super::{Store, StoreError};

impl Store {
    /// The value stored under `key`, if any.
    pub fn meta_get(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.db
            .query_row("SELECT value FROM meta WHERE key = ?1", args![key], |r| {
                r.get(0)
            })
            .map_err(|e| self.err(e))
    }

    /// Store `value` under `key` (replacing what was there).
    pub(crate) fn meta_set(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.write(|s| {
            s.db.execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2) \
                     ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                args![key, value],
            )
            .map_err(|e| s.err(e))?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::store::test_backend::Backend;

    fn meta_values_are_remembered_and_replaced(b: &Backend) {
        let store = b.open();
        assert_eq!(store.meta_get("k").unwrap(), None);
        store.meta_set("k", "a").unwrap();
        store.meta_set("k", "b").unwrap();
        drop(store);
        let store = b.open();
        assert_eq!(store.meta_get("k").unwrap().as_deref(), Some("b"));
    }

    on_both_backends!(meta_values_are_remembered_and_replaced);
}
