//! Small facts the store remembers between runs (`meta` table): e.g. whether a base URL has a
//! task list the poller may use.

use super::{Store, StoreError};

/// The day the daily cap counts on a PostgreSQL store: midnight to midnight in the server's
/// `TimeZone`, computed by the server, so hosts in different time zones count one day against
/// one cap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SharedDay {
    /// Unix seconds of the midnight that began the day.
    pub(crate) start: i64,
    /// Unix seconds of the next midnight.
    pub(crate) end: i64,
    /// The zone of those midnights, as the server names it (sanitize before showing).
    pub(crate) zone: String,
}

/// The day holding `?1` (Unix seconds) in the session's `TimeZone`, which our connections leave
/// at the server's (or the database's) setting. Adding a day is done in that zone, so a day
/// around a DST change is 23 or 25 hours long.
const SHARED_DAY: &str = "SELECT extract(epoch FROM d)::bigint, \
    extract(epoch FROM d + interval '1 day')::bigint, current_setting('TimeZone') \
    FROM (SELECT date_trunc('day', to_timestamp(?1::bigint)) AS d) AS day";

impl Store {
    /// The value stored under `key`, if any.
    pub fn meta_get(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.db
            .query_row("SELECT value FROM meta WHERE key = ?1", args![key], |r| {
                r.get(0)
            })
            .map_err(|e| self.err(e))
    }

    /// The day holding `now` (Unix seconds) that the daily cap counts, when the store decides
    /// it: on PostgreSQL, the server's day ([`SharedDay`]); `None` on SQLite, whose day is
    /// this host's local one.
    pub(crate) fn shared_day(&self, now: i64) -> Result<Option<SharedDay>, StoreError> {
        if !matches!(self.location, super::StoreLocation::Postgres(_)) {
            return Ok(None);
        }
        self.db
            .query_row(SHARED_DAY, args![now], |r| {
                Ok(SharedDay {
                    start: r.get(0)?,
                    end: r.get(1)?,
                    zone: r.get(2)?,
                })
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
