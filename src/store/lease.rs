//! Leases: a named row saying which process does a store's background work (the poller), until
//! when. The holder renews it with a heartbeat; anyone may take it over once it has expired (the
//! holder died, e.g. SIGKILL, or stalled); the holder deletes it on a clean exit.
//!
//! Times are Unix milliseconds. On SQLite they come from the callers, so tests can use
//! sub-second timeouts and the store never reads the clock itself.
//!
//! Whether a holder is alive is [`Liveness`]'s rule, the one place it is decided. On SQLite (one
//! host) a lease whose heartbeat counter has not moved for a lease time *of the observer's own
//! monotonic clock* is dead, as is one whose holder process is known to be gone (same host, no
//! such pid); the holder's wall-clock `expires_at` is shown to people, never trusted: a holder
//! whose clock was an hour ahead would otherwise be "alive" for an hour after a SIGKILL. On
//! PostgreSQL (many hosts, each with its own clock) the runtime's renewals are written with the
//! *server's* clock ([`Store::lease_acquire_judged`]) and judged against it: one clock for
//! every host, and a follower started after the holder died takes over at once.

use super::db::{DbError, Row};
use super::{Store, StoreError};

/// One lease row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub(crate) name: String,
    /// Who holds it: `kind pid@host#random` (see `runtime::lease::holder_id`).
    pub holder: String,
    pub(crate) acquired_at: i64,
    pub(crate) heartbeat_at: i64,
    pub(crate) expires_at: i64,
    /// What the holder wants followers to know (e.g. "server unreachable"), if anything.
    pub(crate) note: Option<String>,
    /// The heartbeat counter: bumped by every renewal.
    pub(crate) beats: i64,
}

/// A follower's view of someone else's lease over time: which holder and heartbeat count it
/// last saw, and when by the follower's own monotonic clock (milliseconds from any origin).
#[derive(Debug, Clone, Default)]
pub struct Liveness {
    seen: Option<(String, i64, u64)>,
}

impl Liveness {
    /// Is the holder of `lease` alive, seen at our monotonic `now_ms` with a lease time of
    /// `ttl_ms`? `holder_gone` is true when the holder's process is known not to exist (same
    /// host, no such pid). `server_ms` is the database server's clock when the store has one
    /// (PostgreSQL): the lease lives until its `expires_at` by that clock. Otherwise a holder
    /// first seen now, or whose counter moved since, is alive for `ttl_ms` from now.
    pub(crate) fn alive(
        &mut self,
        lease: &Lease,
        now_ms: u64,
        ttl_ms: u64,
        holder_gone: bool,
        server_ms: Option<i64>,
    ) -> bool {
        if holder_gone {
            return false;
        }
        if let Some(server) = server_ms {
            return lease.expires_at > server;
        }
        match &self.seen {
            Some((holder, beats, since)) if *holder == lease.holder && *beats == lease.beats => {
                now_ms.saturating_sub(*since) < ttl_ms
            }
            _ => {
                self.seen = Some((lease.holder.clone(), lease.beats, now_ms));
                true
            }
        }
    }
}

/// The result of an acquire attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseOutcome {
    /// We hold it (newly taken, taken over, or renewed) until `expires_at`.
    Held(Lease),
    /// Someone else holds a live lease.
    Other(Lease),
}

const COLUMNS: &str = "name, holder, acquired_at, heartbeat_at, expires_at, note, beats";

fn row(r: &Row<'_>) -> Result<Lease, DbError> {
    Ok(Lease {
        name: r.get(0)?,
        holder: r.get(1)?,
        acquired_at: r.get(2)?,
        heartbeat_at: r.get(3)?,
        expires_at: r.get(4)?,
        note: r.get(5)?,
        beats: r.get(6)?,
    })
}

impl Store {
    /// The lease called `name`, if any row exists (it may have expired).
    pub fn lease(&self, name: &str) -> Result<Option<Lease>, StoreError> {
        self.db
            .query_row(
                &format!("SELECT {COLUMNS} FROM leases WHERE name = ?1"),
                args![name],
                row,
            )
            .map_err(|e| self.err(e))
    }

    /// Take the lease `name` for `holder` until `now_ms + ttl_ms` when it is free, expired or
    /// already ours (a renewal), with `note` for followers; otherwise report the live holder. A
    /// live lease of someone else is only read, never written, so followers cause no commits.
    /// Every time is the caller's, on both backends.
    pub fn lease_acquire(
        &self,
        name: &str,
        holder: &str,
        now_ms: i64,
        ttl_ms: i64,
        note: Option<&str>,
    ) -> Result<LeaseOutcome, StoreError> {
        self.lease_take(name, holder, now_ms, ttl_ms, note, false, |l, _| {
            l.expires_at > now_ms
        })
    }

    /// [`Store::lease_acquire`] with someone else's lease judged by `alive` (a [`Liveness`]),
    /// handed the server's clock on PostgreSQL (`None` on SQLite). On PostgreSQL the row's
    /// times are the server's clock (`now_ms` is not used), so hosts whose clocks differ agree
    /// on when it expires. `alive` is asked again on the row read under the write lock.
    pub(crate) fn lease_acquire_judged(
        &self,
        name: &str,
        holder: &str,
        now_ms: i64,
        ttl_ms: i64,
        note: Option<&str>,
        alive: impl FnMut(&Lease, Option<i64>) -> bool,
    ) -> Result<LeaseOutcome, StoreError> {
        self.lease_take(name, holder, now_ms, ttl_ms, note, true, alive)
    }

    /// The database server's clock in Unix milliseconds on PostgreSQL; `None` on SQLite,
    /// where every process shares the host's clock.
    pub(crate) fn server_clock_ms(&self) -> Result<Option<i64>, StoreError> {
        match &self.db {
            super::db::Db::Sqlite(_) => Ok(None),
            super::db::Db::Postgres(_) => self
                .db
                .query_row(
                    "SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint",
                    args![],
                    |r| r.get::<i64>(0),
                )
                .map_err(|e| self.err(e)),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn lease_take(
        &self,
        name: &str,
        holder: &str,
        now_ms: i64,
        ttl_ms: i64,
        note: Option<&str>,
        server_clock: bool,
        mut alive: impl FnMut(&Lease, Option<i64>) -> bool,
    ) -> Result<LeaseOutcome, StoreError> {
        let clock = |s: &Store| {
            if server_clock {
                s.server_clock_ms()
            } else {
                Ok(None)
            }
        };
        let mut live_other = |l: &Lease, server| l.holder != holder && alive(l, server);
        let server = clock(self)?;
        if let Some(l) = self.lease(name)?
            && live_other(&l, server)
        {
            return Ok(LeaseOutcome::Other(l));
        }
        self.write(|s| {
            // Re-check under the write lock: another process may have taken it meanwhile.
            let server = clock(s)?;
            let now_ms = server.unwrap_or(now_ms);
            let current = s.lease(name)?;
            if let Some(l) = current.as_ref().filter(|l| live_other(l, server)) {
                return Ok(LeaseOutcome::Other(l.clone()));
            }
            let (acquired_at, beats) = current
                .filter(|l| l.holder == holder)
                .map(|l| (l.acquired_at, l.beats.wrapping_add(1)))
                .unwrap_or((now_ms, 1));
            let lease = Lease {
                name: name.to_string(),
                holder: holder.to_string(),
                acquired_at,
                heartbeat_at: now_ms,
                expires_at: now_ms.saturating_add(ttl_ms.max(1)),
                note: note.map(str::to_string),
                beats,
            };
            s.db
                .execute(
                    "INSERT INTO leases (name, holder, acquired_at, heartbeat_at, expires_at, note, beats) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
                     ON CONFLICT(name) DO UPDATE SET holder = ?2, acquired_at = ?3, \
                     heartbeat_at = ?4, expires_at = ?5, note = ?6, beats = ?7",
                    args![
                        lease.name,
                        lease.holder,
                        lease.acquired_at,
                        lease.heartbeat_at,
                        lease.expires_at,
                        lease.note,
                        lease.beats
                    ],
                )
                .map_err(|e| s.err(e))?;
            Ok(LeaseOutcome::Held(lease))
        })
    }

    /// Give the lease up if `holder` holds it. True when a row was removed.
    pub(crate) fn lease_release(&self, name: &str, holder: &str) -> Result<bool, StoreError> {
        self.write(|s| {
            let n =
                s.db.execute(
                    "DELETE FROM leases WHERE name = ?1 AND holder = ?2",
                    args![name, holder],
                )
                .map_err(|e| s.err(e))?;
            Ok(n > 0)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_backend::Backend;

    fn open() -> (tempfile::TempDir, Store, Store) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s.db");
        let a = Store::open(&path).expect("a");
        let b = Store::open(&path).expect("b");
        (dir, a, b)
    }

    #[test]
    fn one_holder_until_expiry_then_takeover() {
        let (_d, a, b) = open();
        assert!(matches!(
            a.lease_acquire("poller", "A", 1_000, 500, None),
            Ok(LeaseOutcome::Held(_))
        ));
        // B is refused while A's lease lives, and reading it writes nothing.
        let before = a.change_counter().expect("counter");
        match b.lease_acquire("poller", "B", 1_400, 500, None) {
            Ok(LeaseOutcome::Other(l)) => assert_eq!(l.holder, "A"),
            other => panic!("expected A to hold it: {other:?}"),
        }
        assert_eq!(a.change_counter().expect("counter"), before);
        // A renews: acquired_at stays, expiry moves.
        match a.lease_acquire("poller", "A", 1_400, 500, None) {
            Ok(LeaseOutcome::Held(l)) => {
                assert_eq!((l.acquired_at, l.expires_at), (1_000, 1_900));
            }
            other => panic!("renewal: {other:?}"),
        }
        assert!(matches!(
            b.lease_acquire("poller", "B", 1_899, 500, None),
            Ok(LeaseOutcome::Other(_))
        ));
        // A stops renewing (killed): B takes over once it expired.
        match b.lease_acquire("poller", "B", 1_900, 500, None) {
            Ok(LeaseOutcome::Held(l)) => {
                assert_eq!((l.holder.as_str(), l.acquired_at), ("B", 1_900))
            }
            other => panic!("takeover: {other:?}"),
        }
        // A comes back: it sees B and does not steal it.
        assert!(matches!(
            a.lease_acquire("poller", "A", 2_000, 500, None),
            Ok(LeaseOutcome::Other(_))
        ));
    }

    #[test]
    fn a_holder_is_alive_while_its_counter_moves_on_our_clock() {
        let (_d, a, b) = open();
        // A's clock is an hour ahead: its expiry says nothing to B.
        let ahead = 3_600_000;
        a.lease_acquire("poller", "A", ahead, 500, None)
            .expect("acquire");
        let mut seen = Liveness::default();
        let lease = |s: &Store| s.lease("poller").expect("read").expect("row");
        assert!(
            seen.alive(&lease(&b), 0, 500, false, None),
            "first seen: alive"
        );
        assert!(seen.alive(&lease(&b), 499, 500, false, None));
        // A renews: the counter moved, so the lease time starts again.
        a.lease_acquire("poller", "A", ahead + 400, 500, None)
            .expect("renew");
        assert!(seen.alive(&lease(&b), 600, 500, false, None));
        assert!(seen.alive(&lease(&b), 1_099, 500, false, None));
        // A stops (killed): a lease time later by B's clock it is dead, whatever it wrote.
        assert!(!seen.alive(&lease(&b), 1_100, 500, false, None));
        match b.lease_acquire_judged("poller", "B", 10, 500, None, |l, server| {
            assert_eq!(server, None, "SQLite has no server clock");
            seen.alive(l, 1_100, 500, false, server)
        }) {
            Ok(LeaseOutcome::Held(l)) => assert_eq!(l.holder, "B"),
            other => panic!("takeover: {other:?}"),
        }
        // A holder known to be gone is dead at once.
        let mut fresh = Liveness::default();
        assert!(!fresh.alive(&lease(&a), 0, 500, true, None));
    }

    // Clock-free, so on both backends (PostgreSQL times the row by its own clock, whatever the
    // writer says: the tests above pass their own times, so they are SQLite's; PostgreSQL's are
    // the `postgres_*` ones below).
    on_both_backends!(
        the_holders_note_reaches_followers,
        release_frees_it_only_for_the_holder
    );

    fn the_holders_note_reaches_followers(on: &Backend) {
        let (a, b) = (on.open(), on.open());
        a.lease_acquire("poller", "A", 1_000, 60_000, Some("server unreachable"))
            .expect("acquire");
        match b.lease_acquire("poller", "B", 1_001, 60_000, None) {
            Ok(LeaseOutcome::Other(l)) => assert_eq!(l.note.as_deref(), Some("server unreachable")),
            other => panic!("{other:?}"),
        }
        a.lease_acquire("poller", "A", 1_002, 60_000, None)
            .expect("renew");
        assert_eq!(b.lease("poller").expect("read").and_then(|l| l.note), None);
    }

    fn release_frees_it_only_for_the_holder(on: &Backend) {
        let (a, b) = (on.open(), on.open());
        a.lease_acquire("poller", "A", 1_000, 60_000, None)
            .expect("acquire");
        assert!(!b.lease_release("poller", "B").expect("release"));
        assert_eq!(
            b.lease("poller").expect("read").map(|l| l.holder),
            Some("A".into())
        );
        assert!(a.lease_release("poller", "A").expect("release"));
        assert!(b.lease("poller").expect("read").is_none());
        assert!(matches!(
            b.lease_acquire("poller", "B", 1_001, 60_000, None),
            Ok(LeaseOutcome::Held(_))
        ));
    }

    /// Two handles on one test database (`None`: no server outside CI, said by the fixture).
    fn open_postgres(test: &str) -> Option<(super::super::pg::test_db::TestDb, Store, Store)> {
        let db = super::super::pg::test_db::TestDb::create(test)?;
        let target = super::super::pg::target::PgTarget::parse(&db.url).expect("test URL");
        let a = Store::open_postgres(&target).expect("a");
        let b = Store::open_postgres(&target).expect("b");
        Some((db, a, b))
    }

    /// On PostgreSQL the row's times are the server's clock, whatever the writer's says: two
    /// hosts an hour apart agree on when the lease expires.
    #[test]
    fn postgres_leases_are_timed_by_the_servers_clock() {
        let Some((_db, a, b)) = open_postgres("lease_server_clock") else {
            return;
        };
        let server = a.server_clock_ms().expect("clock").expect("a server clock");
        let local = chrono::Utc::now().timestamp_millis();
        assert!((server - local).abs() < 60_000, "the test server runs here");
        // A's clock is an hour ahead, and its lease time is long.
        let ahead = local + 3_600_000;
        let held =
            match a.lease_acquire_judged("poller", "A 1@host-a", ahead, 60_000, None, |_, s| {
                assert!(s.is_some(), "the server's clock is handed to the judge");
                true
            }) {
                Ok(LeaseOutcome::Held(l)) => l,
                other => panic!("{other:?}"),
            };
        assert!(
            (held.heartbeat_at - server).abs() < 60_000
                && held.expires_at == held.heartbeat_at + 60_000,
            "times from the server, not from A: {held:?} (server {server})"
        );
        // B (its clock right) sees A alive by the server's clock, and writes nothing.
        let mut seen = Liveness::default();
        match b.lease_acquire_judged("poller", "B 2@host-b", local, 60_000, None, |l, s| {
            seen.alive(l, 0, 60_000, false, s)
        }) {
            Ok(LeaseOutcome::Other(l)) => assert_eq!(l.holder, "A 1@host-a"),
            other => panic!("{other:?}"),
        }
        assert_eq!(b.lease("poller").expect("read"), Some(held));
    }

    /// A holder that stops renewing is replaced once its lease time has passed on the server's
    /// clock, and not before; a follower started after the holder died need not watch it for a
    /// lease time first.
    #[test]
    fn postgres_takeover_after_the_lease_time_by_the_servers_clock() {
        let Some((_db, a, b)) = open_postgres("lease_takeover") else {
            return;
        };
        let ttl = 400;
        let judge =
            |l: &Lease, s: Option<i64>| Liveness::default().alive(l, 0, ttl as u64, false, s);
        let first = match a.lease_acquire_judged("poller", "A", 0, ttl, None, judge) {
            Ok(LeaseOutcome::Held(l)) => l,
            other => panic!("{other:?}"),
        };
        // A renews once: beats move, acquired_at stays.
        let renewed = match a.lease_acquire_judged("poller", "A", 0, ttl, None, judge) {
            Ok(LeaseOutcome::Held(l)) => l,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            (renewed.acquired_at, renewed.beats),
            (first.acquired_at, first.beats + 1)
        );
        // A dies. B tries until it holds it; every refusal was judged before A's expiry.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let taken = loop {
            let mut judged_at = None;
            let outcome = b.lease_acquire_judged("poller", "B", 0, ttl, None, |l, s| {
                judged_at = s;
                judge(l, s)
            });
            match outcome {
                Ok(LeaseOutcome::Held(l)) => break l,
                Ok(LeaseOutcome::Other(l)) => {
                    assert_eq!(l, renewed);
                    let at = judged_at.expect("judged by the server's clock");
                    assert!(
                        at < renewed.expires_at,
                        "refused at {at}, after {renewed:?}"
                    );
                }
                Err(e) => panic!("{e}"),
            }
            assert!(std::time::Instant::now() < deadline, "never taken over");
            // Polling the server's clock, not waiting for an event: a short pause between looks.
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        assert!(
            taken.acquired_at >= renewed.expires_at,
            "taken at {} before A's expiry {}",
            taken.acquired_at,
            renewed.expires_at
        );
        assert_eq!((taken.holder.as_str(), taken.beats), ("B", 1));
        // A comes back: B's lease is live, A does not steal it.
        assert!(matches!(
            a.lease_acquire_judged("poller", "A", 0, ttl, None, judge),
            Ok(LeaseOutcome::Other(l)) if l.holder == "B"
        ));
    }
}
