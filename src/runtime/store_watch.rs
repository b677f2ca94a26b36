//! Watches the store for commits by any connection — this process's engine or another process
//! sharing the file (a `watch` in another SSH session) — and reports the changed rows.
//!
//! `PRAGMA data_version` makes the check a cheap read, so a 2 Hz check costs nothing at idle.

use crate::store::{Store, TaskRecord};
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::mpsc;

/// How often the store is checked unless configured (`[poll] store_check_secs`).
pub(crate) const CHECK_EVERY: Duration = Duration::from_millis(500);

/// Start the watcher on its own thread with its own connection. It stops when `tx` closes.
/// It reports every task inserted or changed after change sequence `after`
/// ([`crate::store::Store::change_seq`]); `None` starts from the store's sequence now.
pub fn spawn(path: PathBuf, after: Option<i64>, tx: mpsc::UnboundedSender<Vec<TaskRecord>>) {
    spawn_every(path, after, CHECK_EVERY, tx);
}

/// The configured check interval (`[poll] store_check_secs`; the config check keeps it finite
/// and positive, the bounds keep it sane).
pub(crate) fn interval(poll: &crate::config::PollConfig) -> Duration {
    Duration::from_secs_f64(poll.store_check_secs.clamp(0.05, 86_400.0))
}

/// [`spawn`] checking every `every` (with `after`, the first check is at once).
pub(crate) fn spawn_every(
    path: PathBuf,
    after: Option<i64>,
    every: Duration,
    tx: mpsc::UnboundedSender<Vec<TaskRecord>>,
) {
    std::thread::Builder::new()
        .name("store-watch".into())
        .spawn(move || {
            let Ok(store) = Store::open(&path) else {
                return;
            };
            let mut last_counter = store.change_counter().unwrap_or(0);
            // The change sequence orders commits, not clocks: a write that committed late (it
            // waited for the lock) or came from a process whose clock differs is still seen.
            // A commit that changed no task (a lease heartbeat, a draft) reads nothing.
            let mut cursor = match after {
                Some(seq) => seq,
                None => store.change_seq().unwrap_or(0),
            };
            let mut first = after.is_some();
            loop {
                if !first {
                    std::thread::sleep(every);
                }
                if tx.is_closed() {
                    return;
                }
                let Ok(counter) = store.change_counter() else {
                    continue;
                };
                if counter == last_counter && !first {
                    continue;
                }
                first = false;
                match store.changed_after_seq(cursor) {
                    Ok((rows, last)) => {
                        // Only a read that worked consumes the change: after an error (a busy
                        // moment) the next check reads again instead of waiting for a new commit.
                        last_counter = counter;
                        if !rows.is_empty() {
                            cursor = last;
                            if tx.send(rows).is_err() {
                                return;
                            }
                        }
                    }
                    Err(e) => tracing::debug!(error = %e, "store watch: read failed; retrying"),
                }
            }
        })
        .ok();
}
