//! Drafts (saved as they are typed) and templates: named JSON documents.

use super::{Store, StoreError};

impl Store {
    fn save_named(&self, table: &str, name: &str, json: &str, now: i64) -> Result<(), StoreError> {
        self.write(|s| {
            s.db
                .execute(
                    &format!(
                        "INSERT INTO {table} (name, json, updated_at) VALUES (?1, ?2, ?3) \
                         ON CONFLICT(name) DO UPDATE SET json = excluded.json, updated_at = excluded.updated_at"
                    ),
                    args![name, json, now],
                )
                .map_err(|e| s.err(e))?;
            Ok(())
        })
    }

    fn load_named(
        &self,
        table: &str,
        order: &str,
    ) -> Result<Vec<(String, String, i64)>, StoreError> {
        self.db
            .query_all(
                &format!("SELECT name, json, updated_at FROM {table} ORDER BY {order}"),
                args![],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .map_err(|e| self.err(e))
    }

    /// Save (insert or replace) a named draft's JSON.
    pub fn save_draft(&self, name: &str, json: &str, now: i64) -> Result<(), StoreError> {
        self.save_named("drafts", name, json, now)
    }

    /// All drafts as (name, json, updated_at), most recent first.
    pub fn drafts(&self) -> Result<Vec<(String, String, i64)>, StoreError> {
        self.load_named("drafts", "updated_at DESC, name")
    }

    pub fn delete_draft(&self, name: &str) -> Result<(), StoreError> {
        self.delete_named("drafts", name)
    }

    pub fn delete_template(&self, name: &str) -> Result<(), StoreError> {
        self.delete_named("templates", name)
    }

    fn delete_named(&self, table: &str, name: &str) -> Result<(), StoreError> {
        self.write(|s| {
            s.db.execute(&format!("DELETE FROM {table} WHERE name = ?1"), args![name])
                .map_err(|e| s.err(e))?;
            Ok(())
        })
    }

    /// Save (insert or replace) a named template's JSON.
    pub fn save_template(&self, name: &str, json: &str, now: i64) -> Result<(), StoreError> {
        self.save_named("templates", name, json, now)
    }

    /// All templates as (name, json), by name.
    pub fn templates(&self) -> Result<Vec<(String, String)>, StoreError> {
        Ok(self
            .load_named("templates", "name")?
            .into_iter()
            .map(|(n, j, _)| (n, j))
            .collect())
    }
}
