//! One poller per store: every dashboard and `watch` sharing a store (a file, or a PostgreSQL
//! database shared by a team's hosts) runs this lease keeper, and only the process holding the
//! `poller` lease does the store's background work (polling, feeding the queue, downloads); the
//! others follow the store through the store watcher.
//!
//! The holder renews its lease every `renew_every`; a follower checks just as often and takes the
//! lease over once it has expired — the holder was killed (SIGKILL leaves the row behind) or
//! stalled past `ttl`. A clean exit deletes the row, so a follower takes over at its next check.
//!
//! The holder trusts its lease for nine tenths of a lease time from the *start* of its last
//! confirmed renewal, by its own monotonic clock: a follower cannot take over before a whole
//! lease time has passed since then (on PostgreSQL the row's expiry is written by the server
//! during the renewal, so it is later still). A renewal that
//! fails, or hangs on a partitioned network, cannot extend it: the keeper steps down the moment
//! it runs out, without waiting for the call, and opens a new connection for its next try. So
//! two pollers never overlap, whatever the network does.
//!
//! [`gate`] is the single place where a role change reaches the work it governs. The role
//! message can arrive late (a busy runtime), so the poller also checks [`HeldUntil`] itself
//! before each batch of requests: it sends nothing past the end of the confirmed lease.

use crate::store::{LeaseOutcome, Store, StoreError};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{oneshot, watch};
use tokio::time::Instant;

/// The lease the poller (and the download manager) run under.
pub(crate) const POLLER: &str = "poller";

/// The variable naming this host in lease holders (for tests running several "hosts" on one
/// machine); the OS hostname otherwise.
pub(crate) const HOST_VAR: &str = "SEEDANCE_HOST";

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
    /// Another process polls; `holder` says who (as [`shown_holder`] shows it), `note` what it
    /// reports (e.g. its banner).
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

/// This host's name in lease holders: `SEEDANCE_HOST` when set (one safe word, at most 64
/// characters), else the OS hostname.
pub(crate) fn host() -> String {
    let given = std::env::var(HOST_VAR).ok().map(|h| {
        h.chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
            .take(64)
            .collect::<String>()
    });
    given
        .filter(|h| !h.is_empty())
        .unwrap_or_else(super::opener::hostname)
}

/// A holder id: `KIND pid N@HOST #RANDOM`, readable in a header and unique per process run.
pub(crate) fn holder_id(kind: &str) -> String {
    use std::hash::{BuildHasher, Hasher};
    // RandomState is seeded randomly per process (and per call after the first).
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_i64(now_ms());
    h.write_u32(std::process::id());
    let tail = h.finish() & 0xff_ffff;
    format!("{kind} pid {}@{} #{tail:06x}", std::process::id(), host())
}

/// How a holder read from the store is shown to people: `KIND pid N@HOST` (the random tail
/// dropped), as one safe line of at most 120 characters — another host, or anyone who can
/// write the database, wrote it.
pub(crate) fn shown_holder(holder: &str) -> String {
    let bare = match holder.rsplit_once(" #") {
        Some((head, tail)) if tail.len() == 6 && tail.chars().all(|c| c.is_ascii_hexdigit()) => {
            head
        }
        _ => holder,
    };
    shown_text(bare)
}

/// Text from the lease row as one safe line of at most 120 characters.
fn shown_text(text: &str) -> String {
    let safe = crate::sanitize::line(text);
    let mut out: String = safe.chars().take(120).collect();
    if safe.chars().nth(120).is_some() {
        out.push('…');
    }
    out
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
    if host != self::host() || pid == 0 || pid > i32::MAX as u32 {
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

/// Opens a connection to the store the lease lives in (again, after one was lost).
pub(crate) type OpenStore = Arc<dyn Fn() -> Result<Store, StoreError> + Send + Sync>;

/// An [`OpenStore`] for the store at `location` (a SQLite file or a PostgreSQL server).
pub(crate) fn open_location(location: impl Into<crate::store::StoreLocation>) -> OpenStore {
    let location = location.into();
    Arc::new(move || Store::open_location(&location))
}

/// Until when this process's lease is confirmed: nine tenths of a lease time from the start of
/// its last confirmed renewal, `None` while it holds none. Set by the keeper before it announces
/// a role, read by the poller before each batch of requests.
#[derive(Debug, Clone, Default)]
pub struct HeldUntil(Arc<Mutex<Option<Instant>>>);

impl HeldUntil {
    fn set(&self, until: Option<Instant>) {
        if let Ok(mut u) = self.0.lock() {
            *u = until;
        }
    }

    /// True while the lease is confirmed now.
    pub fn holds(&self) -> bool {
        let now = Instant::now();
        self.0
            .lock()
            .ok()
            .and_then(|u| *u)
            .is_some_and(|until| now < until)
    }
}

/// The keeper's connection, shared with the release at exit; `None` after one was given up.
type Conn = Arc<Mutex<Option<Arc<Mutex<Store>>>>>;

/// A running lease keeper. Drop it, or better call [`LeaseKeeper::release`] on a clean exit.
pub(crate) struct LeaseKeeper {
    role: watch::Receiver<Role>,
    noter: Noter,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
    conn: Conn,
    holder: String,
    held: HeldUntil,
}

/// One renewal or check: take (or keep) the lease `name` for `who` over `store`, judging
/// someone else's lease by `seen` (see `store::Liveness`).
fn attempt(
    store: &Mutex<Store>,
    seen: &Mutex<crate::store::Liveness>,
    (name, who, note): (&str, &str, Option<&str>),
    ttl_ms: i64,
    origin: std::time::Instant,
) -> Result<LeaseOutcome, StoreError> {
    let poisoned = || StoreError::Sql("lease lock poisoned".into());
    let guard = store.lock().map_err(|_| poisoned())?;
    let mut seen = seen.lock().map_err(|_| poisoned())?;
    guard.lease_acquire_judged(name, who, now_ms(), ttl_ms, note, |l, server| {
        let mono = origin.elapsed().as_millis().min(u64::MAX as u128) as u64;
        seen.alive(
            l,
            mono,
            ttl_ms.max(1) as u64,
            holder_gone(&l.holder),
            server,
        )
    })
}

impl LeaseKeeper {
    /// Start keeping the lease `name` of the store `open` connects to, for `holder`. Fails
    /// when the store cannot be opened now.
    pub(crate) fn spawn(
        open: OpenStore,
        name: &'static str,
        holder: String,
        cfg: LeaseConfig,
    ) -> Result<LeaseKeeper, StoreError> {
        let first = open()?;
        let conn: Conn = Arc::new(Mutex::new(Some(Arc::new(Mutex::new(first)))));
        let (role_tx, role) = watch::channel(Role::Starting);
        let (stop, mut stopped) = oneshot::channel();
        let (shared, who) = (conn.clone(), holder.clone());
        let noter = Noter::default();
        let notes = noter.clone();
        let held = HeldUntil::default();
        let holds = held.clone();
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(cfg.renew_every.max(Duration::from_millis(20)));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let ttl_ms = cfg.ttl.as_millis().min(i64::MAX as u128) as i64;
            // While we lead: until when our last confirmed renewal holds (its start + ttl).
            let mut valid_until: Option<Instant> = None;
            // Others' leases are judged over our own monotonic clock (see `store::Liveness`).
            let origin = std::time::Instant::now();
            let liveness = Arc::new(Mutex::new(crate::store::Liveness::default()));
            let set = |next: Role| {
                role_tx.send_if_modified(|r| {
                    let changed = *r != next;
                    *r = next;
                    changed
                });
            };
            let unconfirmed = |why: String| Role::Follower {
                holder: format!("nobody (this process cannot confirm its lease: {why})"),
                note: None,
            };
            loop {
                let step_down_at = valid_until.unwrap_or_else(|| Instant::now() + cfg.ttl);
                tokio::select! {
                    biased;
                    _ = &mut stopped => return,
                    _ = tokio::time::sleep_until(step_down_at), if valid_until.is_some() => {
                        valid_until = None;
                        holds.set(None);
                        set(unconfirmed("no renewal within the lease time".into()));
                        continue;
                    }
                    _ = tick.tick() => {}
                }
                let started = Instant::now();
                let store = shared.lock().ok().and_then(|c| c.clone());
                let (seen, w, note, opener) =
                    (liveness.clone(), who.clone(), notes.get(), open.clone());
                let work = tokio::task::spawn_blocking(move || {
                    let store = match store {
                        Some(s) => s,
                        None => Arc::new(Mutex::new(opener()?)),
                    };
                    let out = attempt(&store, &seen, (name, &w, note.as_deref()), ttl_ms, origin);
                    Ok::<_, StoreError>((store, out))
                });
                // A leader waits no longer than its lease holds; anyone else a lease time.
                let bound = valid_until.unwrap_or(started + cfg.ttl);
                // `Err(None)`: no answer within the bound.
                let outcome = match tokio::time::timeout_at(bound, work).await {
                    Ok(Ok(Ok((store, out)))) => {
                        // Anything but a lock held elsewhere may be a lost connection (a
                        // restarted server, a killed backend): the next try opens a new one.
                        let lost = matches!(&out, Err(e) if !matches!(e, StoreError::Busy(_)));
                        if let Ok(mut c) = shared.lock() {
                            *c = (!lost).then_some(store);
                        }
                        out.map_err(Some)
                    }
                    Ok(Ok(Err(e))) => Err(Some(e)),
                    Ok(Err(e)) => Err(Some(StoreError::Sql(e.to_string()))),
                    Err(_) => {
                        // Hung (a partition) or only slow (a loaded host): give this
                        // connection up either way; the next try opens one.
                        if let Ok(mut c) = shared.lock() {
                            *c = None;
                        }
                        Err(None)
                    }
                };
                let next = match outcome {
                    Ok(LeaseOutcome::Held(_)) => {
                        // A tenth of a lease time to spare for a late timer.
                        valid_until = Some(started + cfg.ttl - cfg.ttl / 10);
                        Role::Leader
                    }
                    Ok(LeaseOutcome::Other(l)) => {
                        valid_until = None;
                        Role::Follower {
                            holder: shown_holder(&l.holder),
                            note: l.note.as_deref().map(shown_text),
                        }
                    }
                    // Keep leading while the last renewal holds; the select above steps down.
                    Err(e) => {
                        let why = e.as_ref().map_or_else(
                            || "no answer from the store in time".to_string(),
                            ToString::to_string,
                        );
                        match (&*role_tx.borrow(), valid_until, e) {
                            (Role::Leader, Some(until), _) if Instant::now() < until => {
                                Role::Leader
                            }
                            (Role::Leader, _, _) => {
                                valid_until = None;
                                unconfirmed(why)
                            }
                            // A first check not answered in time has learnt nothing: the keeper
                            // is still checking ("nobody yet"). Taken for an unavailable store,
                            // a server only slow on a loaded host had a new follower print
                            // "following: nobody" while another host held the lease.
                            (Role::Starting, _, None) => Role::Starting,
                            (Role::Starting, _, Some(_)) => Role::Follower {
                                holder: format!("nobody (the store is unavailable: {why})"),
                                note: None,
                            },
                            (other, _, _) => other.clone(),
                        }
                    }
                };
                holds.set(valid_until);
                set(next);
            }
        });
        Ok(LeaseKeeper {
            role,
            noter,
            stop: Some(stop),
            task,
            conn,
            holder,
            held,
        })
    }

    /// Until when this process's lease is confirmed, as the keeper goes on renewing it.
    pub(crate) fn held_until(&self) -> HeldUntil {
        self.held.clone()
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
        let store = self.conn.lock().ok().and_then(|c| c.clone());
        let holder = self.holder.clone();
        if let Some(store) = store {
            // Bounded: a store that no longer answers keeps the row until it expires.
            let _ = tokio::time::timeout(
                Duration::from_secs(5),
                tokio::task::spawn_blocking(move || {
                    if let Ok(s) = store.lock() {
                        let _ = s.lease_release(POLLER, &holder);
                    }
                }),
            )
            .await;
        }
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
    fn holders_are_shown_as_kind_pid_at_host_escaped_and_cut() {
        assert_eq!(
            shown_holder("watch --daemon pid 4242@host-b #0a1b2c"),
            "watch --daemon pid 4242@host-b"
        );
        // Not a random tail of ours: kept.
        assert_eq!(shown_holder("x pid 1@h #not-hex"), "x pid 1@h #not-hex");
        let hostile = shown_holder("dashboard pid 1@h\u{1b}]0;pwned\u{7}\u{202e} #abcdef");
        assert!(
            !hostile.chars().any(crate::sanitize::is_unsafe),
            "{hostile:?}"
        );
        assert!(
            hostile.starts_with("dashboard pid 1@h\\x1b]0;pwned"),
            "{hostile}"
        );
        let long = shown_holder(&"h".repeat(10_000));
        assert_eq!(long.chars().count(), 121, "120 and an ellipsis");
        assert_eq!(holder_host("watch pid 3@host-c #00ff00"), Some("host-c"));
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
        let a =
            LeaseKeeper::spawn(open_location(path.clone()), POLLER, "A".into(), cfg).expect("a");
        let mut ra = a.role();
        wait_for(&mut ra, Role::is_leader).await;
        let b =
            LeaseKeeper::spawn(open_location(path.clone()), POLLER, "B".into(), cfg).expect("b");
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
        let c =
            LeaseKeeper::spawn(open_location(path.clone()), POLLER, "C".into(), cfg).expect("c");
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
mod postgres_tests {
    //! The lease across hosts on a real PostgreSQL server (skipped with a message outside CI
    //! when there is none): holders named by host, takeover, and a partitioned holder.
    use super::*;
    use crate::store::pg::target::PgTarget;
    use crate::store::pg::test_db::{self, TestDb};

    fn opener(db: &TestDb) -> OpenStore {
        let target = PgTarget::parse(&db.url).expect("test URL");
        Arc::new(move || Store::open_postgres(&target))
    }

    async fn wait_for(rx: &mut watch::Receiver<Role>, want: impl Fn(&Role) -> bool) -> Role {
        let deadline = Instant::now() + Duration::from_secs(20);
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

    /// A second keeper, `holder`, once it follows the one already leading (and its role then).
    async fn follower(
        db: &TestDb,
        holder: &str,
        cfg: LeaseConfig,
    ) -> (LeaseKeeper, watch::Receiver<Role>, Role) {
        let keeper = LeaseKeeper::spawn(opener(db), POLLER, holder.into(), cfg).expect("follower");
        let mut role = keeper.role();
        let now = wait_for(&mut role, |r| matches!(r, Role::Follower { .. })).await;
        (keeper, role, now)
    }

    /// Every session of the test database but the caller's is ended (a restarted server, or
    /// the network gone, as the keepers see it).
    fn end_sessions(db: &TestDb) {
        let url = db.url.clone();
        std::thread::spawn(move || {
            test_db::client(&url)
                .batch_execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                     WHERE datname = current_database() AND pid <> pg_backend_pid()",
                )
                .expect("terminate")
        })
        .join()
        .expect("admin thread");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_leader_across_hosts_named_pid_at_host_and_takeover_after_death() {
        let Some(db) = TestDb::create("keeper_hosts") else {
            return;
        };
        let cfg = LeaseConfig::from_secs(1.0);
        let a_id = "watch --daemon pid 41@host-a #0a1b2c".to_string();
        let a = LeaseKeeper::spawn(opener(&db), POLLER, a_id, cfg).expect("a");
        let mut ra = a.role();
        wait_for(&mut ra, Role::is_leader).await;
        let (_b, mut rb, r) = follower(&db, "dashboard pid 42@host-b #3d4e5f", cfg).await;
        assert_eq!(
            r,
            Role::Follower {
                holder: "watch --daemon pid 41@host-a".into(),
                note: None
            }
        );
        // A is killed (its task aborted, its row left behind): B leads within the lease time
        // (and the check after it).
        let read_lease = || {
            let open = opener(&db);
            tokio::task::spawn_blocking(move || open().expect("open").lease(POLLER).expect("read"))
        };
        let died = Instant::now();
        drop(a);
        // A's last renewal, by the server's clock: under load it can come well before the
        // drop, so the takeover is judged from it, not from the drop.
        let a_row = read_lease().await.expect("read").expect("A's lease row");
        assert!(
            a_row.holder.starts_with("watch --daemon pid 41@host-a"),
            "{a_row:?}"
        );
        wait_for(&mut rb, Role::is_leader).await;
        let took = died.elapsed();
        assert!(
            took <= cfg.ttl + cfg.renew_every + Duration::from_millis(1500),
            "took over after {took:?}"
        );
        let row = read_lease().await.expect("read").expect("B's lease row");
        assert_eq!(row.holder, "dashboard pid 42@host-b #3d4e5f");
        // A trusts a renewal for 0.9 x ttl from its start: B must not lead before that ends.
        let after_ms = row.acquired_at - a_row.heartbeat_at;
        let trust_ms = i64::try_from((cfg.ttl * 9 / 10).as_millis()).expect("ms");
        assert!(
            after_ms >= trust_ms,
            "B took over {after_ms} ms after A's last renewal, before A's lease ran out"
        );
    }

    /// A's network to the store: the first connection works; later ones hang until the sender
    /// is dropped. Also how many connections A tried.
    fn partitioned(
        db: &TestDb,
    ) -> (
        OpenStore,
        std::sync::mpsc::Sender<()>,
        Arc<std::sync::atomic::AtomicU32>,
    ) {
        let (cut, hang) = std::sync::mpsc::channel::<()>();
        let hang = Arc::new(Mutex::new(hang));
        let (real, opened) = (opener(db), Arc::new(std::sync::atomic::AtomicU32::new(0)));
        let count = opened.clone();
        let open: OpenStore = Arc::new(move || {
            if count.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                return real();
            }
            let _ = hang.lock().map(|h| h.recv());
            Err(StoreError::Busy("the test's partition ended".into()))
        });
        (open, cut, opened)
    }

    /// A holder that can no longer reach the server (its session ended, every new connection
    /// hangs) steps down by itself within its lease time, before the other host takes over.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_partitioned_holder_steps_down_before_another_host_takes_over() {
        let Some(db) = TestDb::create("keeper_partition") else {
            return;
        };
        let cfg = LeaseConfig::from_secs(2.0);
        let (a_open, cut, opened) = partitioned(&db);
        let a = LeaseKeeper::spawn(a_open, POLLER, "watch pid 1@host-a #000001".into(), cfg)
            .expect("a");
        let mut ra = a.role();
        wait_for(&mut ra, Role::is_leader).await;
        let (b, mut rb, _) = follower(&db, "watch pid 2@host-b #000002", cfg).await;

        end_sessions(&db);
        let cut_at = Instant::now();
        // B takes over; by then A has stepped down.
        let mut a_when_b_led = None;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let b_role = rb.borrow_and_update().clone();
            if b_role.is_leader() {
                a_when_b_led = Some(ra.borrow().clone());
                break;
            }
            if tokio::time::timeout_at(deadline, rb.changed())
                .await
                .is_err()
            {
                break;
            }
        }
        let a_role = a_when_b_led.expect("B never took over");
        assert!(
            !a_role.is_leader(),
            "two pollers: A still led when B took over"
        );
        assert!(
            matches!(&a_role, Role::Follower { holder, .. } if holder.contains("cannot confirm its lease")),
            "{a_role:?}"
        );
        assert!(
            cut_at.elapsed() < cfg.ttl * 4,
            "took {:?}",
            cut_at.elapsed()
        );
        assert!(
            opened.load(std::sync::atomic::Ordering::SeqCst) >= 2,
            "A tried a new connection"
        );
        drop(cut);
        drop(b);
    }

    /// The poller checks the lease itself before each batch of requests. The keeper's role
    /// message is withheld from it here (a runtime too busy to deliver it in time): once the
    /// partitioned holder's confirmed lease lapses, its poller sends nothing more, counted at
    /// the simulator, though it never heard that it stepped down.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_partitioned_holder_s_poller_sends_nothing_once_its_lease_lapses() {
        use crate::runtime::poller::{self, PollerCmd, PollerConfig};
        let Some(db) = TestDb::create("keeper_poller_partition") else {
            return;
        };
        let sim = crate::sim::start(
            "127.0.0.1:0".parse().expect("addr"),
            crate::sim::SimConfig {
                fail_rate: 0.0,
                ..crate::sim::SimConfig::default()
            },
        )
        .await
        .expect("sim");
        let polls = || {
            let s = sim.stats();
            s.gets + s.lists
        };
        let client = crate::api::ArkClient::new(crate::api::ClientConfig::new(
            sim.base_url(),
            Some(crate::api::ApiKey::new("k")),
        ))
        .expect("client");
        // The tasks' store is a local file: the partition cuts only the lease's connection.
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&dir.path().join("s.db")).expect("store");
        let engine = crate::engine::Engine::new(client, store, "p");
        let mut tasks = Vec::new();
        for i in 0..6 {
            let body = format!(
                r#"{{"model":"doubao-seedance-2-0-fast-260128","content":[{{"type":"text","text":"lease {i}"}}]}}"#
            );
            tasks.push(engine.submit(body, None).await.expect("submit"));
        }

        let cfg = LeaseConfig::from_secs(2.0);
        let (a_open, cut, _) = partitioned(&db);
        let a = LeaseKeeper::spawn(a_open, POLLER, "watch pid 1@host-a #000001".into(), cfg)
            .expect("a");
        let mut ra = a.role();
        wait_for(&mut ra, Role::is_leader).await;
        let (events, mut seen) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move { while seen.recv().await.is_some() {} });
        let p = poller::spawn(
            engine,
            PollerConfig {
                interval: Duration::from_millis(200),
                max_backoff: Duration::from_millis(100),
                requests_per_second: 100.0,
                leader: false,
                lease: Some(a.held_until()),
                ..PollerConfig::default()
            },
            events,
        );
        for t in &tasks {
            p.send(PollerCmd::Track(Box::new(t.clone())))
                .expect("track");
        }
        // Told it leads once; never told it stepped down.
        p.send(PollerCmd::Role(Role::Leader)).expect("role");
        let deadline = Instant::now() + Duration::from_secs(10);
        while polls() < 6 {
            assert!(Instant::now() < deadline, "A never polled");
            tokio::task::yield_now().await;
        }
        let (b, mut rb, _) = follower(&db, "watch pid 2@host-b #000002", cfg).await;

        end_sessions(&db);
        let at_cut = polls();
        wait_for(&mut rb, Role::is_leader).await;
        let at_takeover = polls();
        assert!(
            at_takeover > at_cut,
            "A polled on through the partition while its lease held ({at_cut} then {at_takeover})"
        );
        // Two pollers would show here: A polls every 100 ms or so while it may.
        tokio::time::sleep(cfg.ttl).await;
        assert_eq!(
            polls(),
            at_takeover,
            "A polled after B took over its lapsed lease"
        );
        assert!(!a.held_until().holds());
        drop(cut);
        drop(b);
    }

    /// A first check the store does not answer within the lease time (here another session
    /// locks the lease table; on a loaded host the server is only slow) has learnt nothing:
    /// the keeper stays `Starting` ("nobody yet (checking the poller lease)") and checks again,
    /// never announcing that nobody polls while another host holds the lease. Once the store
    /// answers it names that host.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_first_check_without_an_answer_names_no_poller() {
        use std::sync::atomic::{AtomicU32, Ordering};
        let Some(db) = TestDb::create("keeper_unanswered") else {
            return;
        };
        let cfg = LeaseConfig::from_secs(1.0);
        // Host A's lease, live for ten minutes (a keeper renewing it would hold the write lock
        // while its renewal waits on the lock below, and B could not even open the store).
        let open = opener(&db);
        tokio::task::spawn_blocking(move || {
            open()
                .expect("open")
                .lease_acquire(
                    POLLER,
                    "watch pid 1@host-a #000001",
                    now_ms(),
                    600_000,
                    None,
                )
                .expect("A's lease")
        })
        .await
        .expect("A's lease");

        // Every read of the lease row waits until the locking session ends.
        let (locked_tx, locked) = tokio::sync::oneshot::channel();
        let (free, freed) = std::sync::mpsc::channel::<()>();
        let url = db.url.clone();
        let locker = std::thread::spawn(move || {
            let mut c = test_db::client(&url);
            let mut t = c.transaction().expect("begin");
            t.batch_execute("LOCK TABLE leases IN ACCESS EXCLUSIVE MODE")
                .expect("lock");
            let _ = locked_tx.send(());
            let _ = freed.recv();
            t.commit().expect("commit");
        });
        locked.await.expect("locked");

        // B's connections, counted: the first is opened by `spawn`, the next once the first
        // check is given up.
        let (real, opened) = (opener(&db), Arc::new(AtomicU32::new(0)));
        let count = opened.clone();
        let open: OpenStore = Arc::new(move || {
            count.fetch_add(1, Ordering::SeqCst);
            real()
        });
        let b =
            LeaseKeeper::spawn(open, POLLER, "watch pid 2@host-b #000002".into(), cfg).expect("b");
        let mut rb = b.role();
        let deadline = Instant::now() + Duration::from_secs(20);
        while opened.load(Ordering::SeqCst) < 2 {
            assert!(Instant::now() < deadline, "B never gave up its first check");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(
            *rb.borrow_and_update(),
            Role::Starting,
            "B announced a role its store never answered"
        );

        drop(free);
        locker.join().expect("locker");
        let r = wait_for(&mut rb, |r| *r != Role::Starting).await;
        assert_eq!(
            r,
            Role::Follower {
                holder: "watch pid 1@host-a".into(),
                note: None
            }
        );
        drop(b);
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
