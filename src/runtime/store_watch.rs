//! Watches the store for commits by any connection — this process's engine or another process
//! sharing the store (a `watch` in another SSH session, another host on a PostgreSQL store) —
//! and reports the changed rows.
//!
//! SQLite: `PRAGMA data_version` makes the check a cheap read, so a 2 Hz check costs nothing at
//! idle. PostgreSQL: the store's change trigger notifies [`CHANNEL`] with the change sequence
//! number at each commit, so the watcher waits on `LISTEN` and reads only when told; a dropped
//! connection is opened again, and the rows changed while it was gone are read at once.

use crate::backoff::Backoff;
use crate::store::pg::conn::PgConn;
use crate::store::{PgTarget, Store, StoreLocation, TaskRecord};
use std::time::Duration;
use tokio::sync::mpsc;

/// How often the store is checked unless configured (`[poll] store_check_secs`).
pub(crate) const CHECK_EVERY: Duration = Duration::from_millis(500);

/// The channel the PostgreSQL store's change trigger notifies (`store::pg_schema`).
pub(crate) const CHANNEL: &str = "seedance_changes";

/// How long one wait for a notification lasts before the watcher looks whether its receiver
/// is gone (and whether its connection still stands).
const LISTEN_WAIT: Duration = Duration::from_secs(1);

/// Start the watcher on its own thread with its own connection. It stops when `tx` closes.
/// It reports every task inserted or changed after change sequence `after`
/// ([`crate::store::Store::change_seq`]); `None` starts from the store's sequence now.
pub fn spawn(
    location: impl Into<StoreLocation>,
    after: Option<i64>,
    tx: mpsc::UnboundedSender<Vec<TaskRecord>>,
) {
    spawn_every(location.into(), after, CHECK_EVERY, tx);
}

/// The configured check interval (`[poll] store_check_secs`; the config check keeps it finite
/// and positive, the bounds keep it sane).
pub(crate) fn interval(poll: &crate::config::PollConfig) -> Duration {
    Duration::from_secs_f64(poll.store_check_secs.clamp(0.05, 86_400.0))
}

/// [`spawn`] checking a SQLite store every `every` (with `after`, the first check is at once).
/// A PostgreSQL store is not checked: its changes are pushed.
pub(crate) fn spawn_every(
    location: StoreLocation,
    after: Option<i64>,
    every: Duration,
    tx: mpsc::UnboundedSender<Vec<TaskRecord>>,
) {
    std::thread::Builder::new()
        .name("store-watch".into())
        .spawn(move || match location {
            StoreLocation::Sqlite(path) => {
                if let Ok(store) = Store::open(&path) {
                    poll(&store, after, every, &tx);
                }
            }
            StoreLocation::Postgres(target) => listen(&target, after, &tx),
        })
        .ok();
}

/// Read the rows changed after `*cursor` and send them; `false` when the receiver is gone.
/// `Err` leaves the cursor where it was, so the next read covers the same changes.
fn send_changes(
    store: &Store,
    cursor: &mut i64,
    tx: &mpsc::UnboundedSender<Vec<TaskRecord>>,
) -> Result<bool, crate::store::StoreError> {
    let (rows, last) = store.changed_after_seq(*cursor)?;
    if rows.is_empty() {
        return Ok(true);
    }
    *cursor = last;
    Ok(tx.send(rows).is_ok())
}

/// The SQLite watcher: a cheap check of the change counter every `every`.
fn poll(
    store: &Store,
    after: Option<i64>,
    every: Duration,
    tx: &mpsc::UnboundedSender<Vec<TaskRecord>>,
) {
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
        match send_changes(store, &mut cursor, tx) {
            // Only a read that worked consumes the change: after an error (a busy
            // moment) the next check reads again instead of waiting for a new commit.
            Ok(true) => last_counter = counter,
            Ok(false) => return,
            Err(e) => tracing::debug!(error = %e, "store watch: read failed; retrying"),
        }
    }
}

/// A PostgreSQL session of the watcher: the store (for reading rows) and a connection that
/// listens on [`CHANNEL`].
struct Session {
    store: Store,
    listener: PgConn,
}

impl Session {
    /// Open the store, then listen: every commit after the `LISTEN` is notified, so a read
    /// made after it misses nothing.
    fn open(target: &PgTarget) -> Result<Session, crate::store::StoreError> {
        let store = Store::open_postgres(target)?;
        let listener = PgConn::connect(target)?;
        listener
            .run(|c| c.batch_execute(&format!("LISTEN {CHANNEL}")))?
            .map_err(|e| crate::store::StoreError::Sql(e.to_string()))?;
        Ok(Session { store, listener })
    }

    /// Wait up to `wait` for notifications: the greatest change sequence they carry (`Some(0)`
    /// for one whose payload is not a number, `None` for none); `Err` when the connection is
    /// gone.
    fn wait(&self, wait: Duration) -> Result<Option<i64>, ()> {
        let got = self.listener.run(move |c| {
            use postgres::fallible_iterator::FallibleIterator;
            let mut seen: Option<i64> = None;
            let mut note = |n: postgres::Notification| {
                let seq = n.payload().trim().parse::<i64>().unwrap_or(0);
                seen = Some(seen.map_or(seq, |s| s.max(seq)));
            };
            let mut notes = c.notifications();
            let first = notes.timeout_iter(wait).next().map_err(drop)?;
            if let Some(n) = first {
                note(n);
                // A batch of commits notifies many times: take what has arrived in one go.
                let mut pending = notes.iter();
                while let Some(n) = pending.next().map_err(drop)? {
                    note(n);
                }
            }
            drop(notes);
            // A closed connection ends the wait early with nothing, like a quiet one.
            if c.is_closed() { Err(()) } else { Ok(seen) }
        });
        got.map_err(drop)?
    }
}

/// The PostgreSQL watcher: reads when a notification says a commit changed tasks, and after
/// every (re)connection, since the notifications sent while it had none are lost.
fn listen(target: &PgTarget, after: Option<i64>, tx: &mpsc::UnboundedSender<Vec<TaskRecord>>) {
    let pause = Backoff::new(Duration::from_millis(200), Duration::from_secs(10));
    let mut failures = 0;
    let mut cursor = after;
    loop {
        if tx.is_closed() {
            return;
        }
        let opened = Session::open(target).and_then(|s| {
            let at = match cursor {
                Some(seq) => seq,
                None => s.store.change_seq()?,
            };
            Ok((s, at))
        });
        let (session, mut at) = match opened {
            Ok(s) => s,
            Err(e) => {
                tracing::debug!(error = %e, "store watch: cannot reach the store; trying again");
                std::thread::sleep(pause.delay(failures));
                failures += 1;
                continue;
            }
        };
        // With a cursor (the caller's, or the last one of a lost session), read at once.
        let mut read = cursor.is_some();
        loop {
            if read {
                match send_changes(&session.store, &mut at, tx) {
                    Ok(true) => {}
                    Ok(false) => return,
                    Err(e) => {
                        tracing::debug!(error = %e, "store watch: read failed; reconnecting");
                        break;
                    }
                }
            }
            cursor = Some(at);
            failures = 0;
            if tx.is_closed() {
                return;
            }
            match session.wait(LISTEN_WAIT) {
                Ok(seen) => read = seen.is_some_and(|seq| seq == 0 || seq > at),
                Err(()) => {
                    tracing::debug!("store watch: the connection was lost; reconnecting");
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
