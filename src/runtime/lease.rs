//! One poller per store: every dashboard and `watch` sharing a store file runs this lease keeper,
//! and only the process holding the `poller` lease does the store's background work (polling,
//! downloads); the others follow the store through the store watcher.
//!
//! The holder renews its lease every `renew_every`; a follower checks just as often and takes the
//! lease over once it has expired — the holder was killed (SIGKILL leaves the row behind) or
//! stalled past `ttl`. A holder that cannot renew before its own expiry steps down, so two
//! pollers overlap for at most one check. A clean exit deletes the row, so a follower takes over
//! at its next check.
//!
//! [`gate`] is the single place where a role change reaches the work it governs.

use crate::store::{LeaseOutcome, Store, StoreError, StoreLocation};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{oneshot, watch};

/// The lease the poller (and the download manager) run under.
pub(crate) const POLLER: &str = "poller";

/// Lease timings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct LeaseConfig {
    /// A lease not renewed for this long is free to take.
    pub(crate) ttl: Duration,
    /// How often the holder renews and a follower checks.
    pub(crate) renew_every: Duration,
}

impl LeaseConfig {
    /// A lease of `ttl_secs` (clamped to 0.2 s – 1 h), checked three times per lifetime but at
    /// least every 2 s (so a released lease is taken over quickly even when the ttl is long).
    pub(crate) fn from_secs(ttl_secs: f64) -> LeaseConfig {
        let ttl = Duration::from_secs_f64(if ttl_secs.is_finite() {
            ttl_secs.clamp(0.2, 3600.0)
        } else {
            15.0
        });
        LeaseConfig {
            ttl,
            renew_every: (ttl / 3).min(Duration::from_secs(2)),
        }
    }
}

impl Default for LeaseConfig {
    fn default() -> Self {
        LeaseConfig::from_secs(15.0)
    }
}

/// This process's part in the store's background work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// Not known yet (before the first check).
    Starting,
    /// We hold the lease: we poll.
    Leader,
    /// Another process polls; `holder` says who, `note` what it reports (e.g. its banner).
    Follower {
        holder: String,
        note: Option<String>,
    },
}

impl Role {
    pub(crate) fn is_leader(&self) -> bool {
        matches!(self, Role::Leader)
    }
}

/// A holder id: `KIND pid N@HOST #RANDOM`, readable in a header and unique per process run.
pub(crate) fn holder_id(kind: &str) -> String {
    use std::hash::{BuildHasher, Hasher};
    // RandomState is seeded randomly per process (and per call after the first).
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_i64(now_ms());
    h.write_u32(std::process::id());
    let tail = h.finish() & 0xff_ffff;
    format!(
        "{kind} pid {}@{} #{tail:06x}",
        std::process::id(),
        super::opener::hostname()
    )
}

/// The pid inside a holder id, if it has one.
pub(crate) fn holder_pid(holder: &str) -> Option<u32> {
    let rest = holder.split(" pid ").nth(1)?;
    rest.split('@').next()?.parse().ok()
}

/// The host inside a holder id, if it has one.
fn holder_host(holder: &str) -> Option<&str> {
    let rest = holder.split(" pid ").nth(1)?;
    let host = rest.split_once('@')?.1;
    Some(host.rsplit_once(" #").map_or(host, |(h, _)| h))
}

/// True when `holder` names a process on this host that does not exist (no such pid): it
/// holds nothing any more, whatever its row says. Unknown (another host, no pid, a pid we may
/// not signal) is not "gone".
pub(crate) fn holder_gone(holder: &str) -> bool {
    let (Some(pid), Some(host)) = (holder_pid(holder), holder_host(holder)) else {
        return false;
    };
    if host != super::opener::hostname() || pid == 0 || pid > i32::MAX as u32 {
        return false;
    }
    // Signal 0 checks that the process exists without sending anything.
    // SAFETY: kill(2) with signal 0 has no effect on the target; pid > 0 names one process.
    let r = unsafe { libc::kill(pid as libc::pid_t, 0) };
    r != 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Sets the note the holder shows its followers (sent with the next renewal).
#[derive(Clone, Default)]
pub(crate) struct Noter(Arc<Mutex<Option<String>>>);

impl Noter {
    pub(crate) fn set(&self, note: Option<String>) {
        if let Ok(mut n) = self.0.lock() {
            *n = note;
        }
    }

    fn get(&self) -> Option<String> {
        self.0.lock().ok().and_then(|n| n.clone())
    }
}

/// What a holder with health `h` tells its followers: its banner, or that polling is paused.
pub(crate) fn note_for(h: &crate::app::Health) -> Option<String> {
    h.banner
        .clone()
        .or_else(|| h.paused.then(|| "polling is paused there".to_string()))
}

/// A running lease keeper. Drop it, or better call [`LeaseKeeper::release`] on a clean exit.
pub(crate) struct LeaseKeeper {
    role: watch::Receiver<Role>,
    noter: Noter,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
    store: Arc<Mutex<Store>>,
    holder: String,
}

impl LeaseKeeper {
    /// Start keeping the lease `name` of the store at `location` for `holder`.
    pub(crate) fn spawn(
        location: impl Into<StoreLocation>,
        name: &'static str,
        holder: String,
        cfg: LeaseConfig,
    ) -> Result<LeaseKeeper, StoreError> {
        let store = Arc::new(Mutex::new(Store::open_location(&location.into())?));
        let (role_tx, role) = watch::channel(Role::Starting);
        let (stop, mut stopped) = oneshot::channel();
        let (st, who) = (store.clone(), holder.clone());
        let noter = Noter::default();
        let notes = noter.clone();
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(cfg.renew_every.max(Duration::from_millis(20)));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let ttl_ms = cfg.ttl.as_millis().min(i64::MAX as u128) as i64;
            // Until when our last successful renewal holds.
            let mut held_until = i64::MIN;
            // Others' leases are judged over our own monotonic clock (see `store::Liveness`).
            let origin = std::time::Instant::now();
            let liveness = Arc::new(Mutex::new(crate::store::Liveness::default()));
            loop {
                tokio::select! {
                    _ = &mut stopped => return,
                    _ = tick.tick() => {}
                }
                let (s, w, note) = (st.clone(), who.clone(), notes.get());
                let at = now_ms();
                let seen = liveness.clone();
                let outcome = tokio::task::spawn_blocking(move || {
                    let guard = s
                        .lock()
                        .map_err(|_| StoreError::Sql("lease lock poisoned".into()))?;
                    let mut seen = seen
                        .lock()
                        .map_err(|_| StoreError::Sql("lease lock poisoned".into()))?;
                    guard.lease_acquire_judged(name, &w, at, ttl_ms, note.as_deref(), |l| {
                        let mono = origin.elapsed().as_millis().min(u64::MAX as u128) as u64;
                        seen.alive(l, mono, ttl_ms.max(1) as u64, holder_gone(&l.holder))
                    })
                })
                .await
                .unwrap_or_else(|e| Err(StoreError::Sql(e.to_string())));
                let next = match outcome {
                    Ok(LeaseOutcome::Held(l)) => {
                        held_until = l.expires_at;
                        Role::Leader
                    }
                    Ok(LeaseOutcome::Other(l)) => Role::Follower {
                        holder: l.holder,
                        note: l.note,
                    },
                    // The store is busy: keep the role while our lease still holds.
                    Err(e) => match &*role_tx.borrow() {
                        Role::Leader if now_ms() < held_until => Role::Leader,
                        Role::Leader | Role::Starting => Role::Follower {
                            holder: format!("nobody (the store is unavailable: {e})"),
                            note: None,
                        },
                        other => other.clone(),
                    },
                };
                role_tx.send_if_modified(|r| {
                    let changed = *r != next;
                    *r = next;
                    changed
                });
            }
        });
        Ok(LeaseKeeper {
            role,
            noter,
            stop: Some(stop),
            task,
            store,
            holder,
        })
    }

    /// Follow role changes.
    pub(crate) fn role(&self) -> watch::Receiver<Role> {
        self.role.clone()
    }

    /// A handle to set the note followers see while this process holds the lease.
    pub(crate) fn noter(&self) -> Noter {
        self.noter.clone()
    }

    /// Stop renewing and give the lease up, so a follower takes over at its next check.
    pub(crate) async fn release(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
        let (store, holder) = (self.store.clone(), self.holder.clone());
        let _ = tokio::task::spawn_blocking(move || {
            if let Ok(s) = store.lock() {
                let _ = s.lease_release(POLLER, &holder);
            }
        })
        .await;
    }
}

impl Drop for LeaseKeeper {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The gate: call `apply` with the current role now and after every change, until the keeper
/// stops. Everything only the lease holder may do (the poller, the download manager) is switched
/// here and nowhere else.
pub(crate) fn gate(mut role: watch::Receiver<Role>, mut apply: impl FnMut(&Role) + Send + 'static) {
    tokio::spawn(async move {
        loop {
            let current = role.borrow_and_update().clone();
            apply(&current);
            if role.changed().await.is_err() {
                return;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holder_ids_name_the_process() {
        let id = holder_id("watch");
        assert!(id.starts_with("watch pid "), "{id}");
        assert_eq!(holder_pid(&id), Some(std::process::id()));
        assert_ne!(id, holder_id("watch"), "random part differs per run");
        assert_eq!(holder_pid("garbage"), None);
    }

    #[test]
    fn followers_learn_why_the_holder_does_not_poll() {
        let mut h = crate::app::Health::default();
        assert_eq!(note_for(&h), None);
        h.paused = true;
        assert_eq!(note_for(&h).as_deref(), Some("polling is paused there"));
        h.banner = Some("auth failed".into());
        assert_eq!(note_for(&h).as_deref(), Some("auth failed"));
    }

    #[test]
    fn timings_are_clamped() {
        assert_eq!(LeaseConfig::from_secs(0.0).ttl, Duration::from_millis(200));
        assert_eq!(
            LeaseConfig::from_secs(f64::NAN).ttl,
            Duration::from_secs(15)
        );
        assert_eq!(
            LeaseConfig::from_secs(3.0).renew_every,
            Duration::from_secs(1)
        );
        assert_eq!(
            LeaseConfig::from_secs(600.0).renew_every,
            Duration::from_secs(2)
        );
    }

    async fn wait_for(rx: &mut watch::Receiver<Role>, want: impl Fn(&Role) -> bool) -> Role {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let r = rx.borrow_and_update().clone();
            if want(&r) {
                return r;
            }
            match tokio::time::timeout_at(deadline, rx.changed()).await {
                Ok(Ok(())) => {}
                _ => panic!("role never matched; last {r:?}"),
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_keepers_one_leader_then_takeover_on_release_and_on_death() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s.db");
        let cfg = LeaseConfig::from_secs(0.6);
        let a = LeaseKeeper::spawn(path.clone(), POLLER, "A".into(), cfg).expect("a");
        let mut ra = a.role();
        wait_for(&mut ra, Role::is_leader).await;
        let b = LeaseKeeper::spawn(path.clone(), POLLER, "B".into(), cfg).expect("b");
        let mut rb = b.role();
        let r = wait_for(&mut rb, |r| matches!(r, Role::Follower { .. })).await;
        assert_eq!(
            r,
            Role::Follower {
                holder: "A".into(),
                note: None
            }
        );
        // A's note reaches B with A's next renewal.
        a.noter().set(Some("server unreachable".into()));
        let r = wait_for(&mut rb, |r| {
            matches!(r, Role::Follower { note: Some(_), .. })
        })
        .await;
        assert_eq!(
            r,
            Role::Follower {
                holder: "A".into(),
                note: Some("server unreachable".into())
            }
        );
        // A clean release hands over at B's next check.
        a.release().await;
        wait_for(&mut rb, Role::is_leader).await;
        // B dies without releasing (abort, like SIGKILL): C takes over after the ttl.
        let c = LeaseKeeper::spawn(path.clone(), POLLER, "C".into(), cfg).expect("c");
        let mut rc = c.role();
        wait_for(&mut rc, |r| matches!(r, Role::Follower { .. })).await;
        let died = std::time::Instant::now();
        drop(b);
        wait_for(&mut rc, Role::is_leader).await;
        let took = died.elapsed();
        assert!(took < Duration::from_secs(3), "took over after {took:?}");
        let row = Store::open(&path)
            .expect("open")
            .lease(POLLER)
            .expect("read");
        assert_eq!(row.map(|l| l.holder), Some("C".into()));
    }
}

#[cfg(test)]
mod watcher_tests {
    use super::*;
    use crate::store::NewSubmission;

    /// Heartbeats commit to the store every few seconds; the store watcher must not turn them
    /// into (empty or repeated) table updates, which would redraw idle dashboards.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn heartbeats_do_not_reach_the_table() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s.db");
        let store = Store::open(&path).expect("open");
        let now = crate::engine::now();
        let sub = |id: &'static str| NewSubmission {
            local_id: id,
            profile: "p",
            request_json: "{}",
            retry_of: None,
            now,
            asset_files: None,
        };
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        super::super::store_watch::spawn(path.clone(), None, tx);
        // The watcher starts on its own thread: write until it reports, then let it go quiet.
        let ids = ["t1", "t1b", "t1c", "t1d", "t1e", "t1f", "t1g", "t1h"];
        let mut reported = false;
        for id in ids {
            store.begin_submission(&sub(id)).expect("row");
            if let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(700), rx.recv()).await {
                reported = true;
                break;
            }
        }
        assert!(reported, "the watcher reports new rows");
        while let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(700), rx.recv()).await {}
        for i in 0..4 {
            store
                .lease_acquire(POLLER, "A", 1_000 + i, 60_000, None)
                .expect("heartbeat");
            let quiet = tokio::time::timeout(Duration::from_millis(700), rx.recv()).await;
            assert!(quiet.is_err(), "a heartbeat was reported: {quiet:?}");
        }
        store.begin_submission(&sub("t2")).expect("row");
        let rows = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("a real change is reported")
            .expect("open");
        assert_eq!(
            rows.iter().map(|r| r.local_id.as_str()).collect::<Vec<_>>(),
            ["t2"]
        );
    }
}
