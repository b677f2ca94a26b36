//! Watches the store for commits by any connection — this process's engine or another process
//! sharing the file (a `watch` in another SSH session) — and reports the changed rows.
//!
//! `PRAGMA data_version` makes the check a cheap read, so a 2 Hz check costs nothing at idle.

use crate::store::{Store, TaskRecord};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::mpsc;

/// How often the store is checked.
pub const CHECK_EVERY: Duration = Duration::from_millis(500);

/// Start the watcher on its own thread with its own connection. It stops when `tx` closes.
/// `since` is the Unix second from which changes are reported.
pub fn spawn(path: PathBuf, since: i64, tx: mpsc::UnboundedSender<Vec<TaskRecord>>) {
    std::thread::Builder::new()
        .name("store-watch".into())
        .spawn(move || {
            let Ok(store) = Store::open(&path) else {
                return;
            };
            let mut last_counter = store.change_counter().unwrap_or(0);
            let mut cursor = since;
            // Rows of the last second already sent: a commit that changed no task (a lease
            // heartbeat, another process's draft) re-reads them but sends nothing.
            let mut recent: HashMap<String, TaskRecord> = HashMap::new();
            loop {
                std::thread::sleep(CHECK_EVERY);
                if tx.is_closed() {
                    return;
                }
                let Ok(counter) = store.change_counter() else {
                    continue;
                };
                if counter == last_counter {
                    continue;
                }
                last_counter = counter;
                // updated_at has one-second resolution: re-read the current second too; the
                // reducer's upsert is idempotent.
                match store.changed_since(cursor - 1) {
                    Ok(rows) if !rows.is_empty() => {
                        cursor = rows.iter().map(|r| r.updated_at).max().unwrap_or(cursor);
                        let rows: Vec<TaskRecord> = rows
                            .into_iter()
                            .filter(|r| recent.get(&r.local_id) != Some(r))
                            .collect();
                        recent.retain(|_, r| r.updated_at >= cursor - 1);
                        for r in &rows {
                            recent.insert(r.local_id.clone(), r.clone());
                        }
                        if rows.is_empty() {
                            continue;
                        }
                        if tx.send(rows).is_err() {
                            return;
                        }
                    }
                    _ => {}
                }
            }
        })
        .ok();
}
