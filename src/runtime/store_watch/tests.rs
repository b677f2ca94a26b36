//! The watcher reports every task change in commit order, on SQLite and on PostgreSQL, whatever
//! time the writer put in `updated_at`: a write stamped earlier than one already reported (a
//! writer that waited for the lock, or another host with a different clock) still reaches the
//! dashboard and the poller. On PostgreSQL changes are pushed (the check interval is an hour, so
//! nothing is found by looking), and a connection killed by the server is opened again and the
//! rows changed while it was gone are read.

use super::*;
use crate::store::NewSubmission;
use crate::store::pg::test_db::{TestDb, client};
use crate::store::test_backend::{Backend, on_both_backends};

const WAIT: Duration = Duration::from_secs(20);
/// Longer than any test: the watcher is never told to look by the clock.
const NEVER: Duration = Duration::from_secs(3600);

fn target(db: &TestDb) -> PgTarget {
    PgTarget::parse(&db.url).expect("the test URL parses")
}

/// A new row `id` stamped `now`.
fn submit_at(s: &Store, id: &str, now: i64) {
    s.begin_submission(&NewSubmission {
        local_id: id,
        profile: "p",
        request_json: r#"{"model":"m","content":[{"type":"text","text":"x"}]}"#,
        retry_of: None,
        now,
        asset_files: None,
    })
    .expect("begin");
}

fn submit(s: &Store, id: &str) {
    submit_at(s, id, 1_000);
}

/// Reports until one names `id`; panics after `WAIT`. The ids seen on the way.
async fn wait_for(rx: &mut mpsc::UnboundedReceiver<Vec<TaskRecord>>, id: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let rows = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .unwrap_or_else(|_| panic!("{id} was never reported; saw {seen:?}"))
            .expect("the watcher is alive");
        seen.extend(rows.into_iter().map(|r| r.local_id));
        if seen.iter().any(|s| s == id) {
            return seen;
        }
    }
}

on_both_backends!(
    async a_change_stamped_in_the_past_is_still_reported,
    async a_commit_by_another_connection_reaches_the_watcher,
);
on_both_backends!(the_sequence_grows_with_every_insert_and_update);

async fn a_change_stamped_in_the_past_is_still_reported(b: &Backend) {
    let store = b.open();
    submit_at(&store, "before", 1_700_000_000);
    let seq = store.change_seq().expect("seq");
    let (tx, mut rx) = mpsc::unbounded_channel();
    spawn(store.location().clone(), Some(seq), tx);

    submit_at(&store, "late-clock", 2_000_000_000);
    let seen = wait_for(&mut rx, "late-clock").await;
    assert!(
        !seen.contains(&"before".to_string()),
        "older rows are not re-sent: {seen:?}"
    );
    // Committed after the row above but stamped 30 years earlier.
    submit_at(&store, "early-clock", 1_000);
    wait_for(&mut rx, "early-clock").await;
    // An update to an existing row is a change too.
    store
        .submission_accepted("before", "cgt-before", 5)
        .expect("accepted");
    wait_for(&mut rx, "before").await;
}

fn the_sequence_grows_with_every_insert_and_update(b: &Backend) {
    let store = b.open();
    assert_eq!(store.change_seq().expect("seq"), 0);
    submit_at(&store, "a", 10);
    let s1 = store.change_seq().expect("seq");
    submit_at(&store, "b", 5);
    let s2 = store.change_seq().expect("seq");
    store
        .submission_accepted("a", "cgt-a", 1)
        .expect("accepted");
    let s3 = store.change_seq().expect("seq");
    assert!(0 < s1 && s1 < s2 && s2 < s3, "{s1} {s2} {s3}");
    let (rows, last) = store.changed_after_seq(s1).expect("changes");
    let ids: Vec<&str> = rows.iter().map(|r| r.local_id.as_str()).collect();
    assert_eq!(ids, ["b", "a"], "in the order of the changes");
    assert_eq!(last, s3);
    let (none, same) = store.changed_after_seq(s3).expect("no changes");
    assert!(none.is_empty());
    assert_eq!(same, s3);
}

/// A commit by another connection reaches the watcher: on PostgreSQL with the check interval an
/// hour, so only the change notification can bring it in time.
async fn a_commit_by_another_connection_reaches_the_watcher(b: &Backend) {
    let store = b.open();
    submit(&store, "before");
    let seq = store.change_seq().expect("seq");
    let (tx, mut rx) = mpsc::unbounded_channel();
    let location = store.location().clone();
    let every = match location {
        StoreLocation::Sqlite(_) => CHECK_EVERY,
        StoreLocation::Postgres(_) => NEVER,
    };
    spawn_every(location, Some(seq), every, tx);

    submit(&store, "first");
    let seen = wait_for(&mut rx, "first").await;
    assert!(!seen.contains(&"before".to_string()), "{seen:?}");
    // The watcher has read once and waits: on PostgreSQL only a notification can bring the next
    // commit, from another connection, in time.
    let other = b.open();
    submit(&other, "second");
    let seen = wait_for(&mut rx, "second").await;
    assert_eq!(seen, ["second"], "only the new change is sent");
    other
        .submission_accepted("first", "cgt-first", 5)
        .expect("accepted");
    let seen = wait_for(&mut rx, "first").await;
    assert_eq!(seen, ["first"], "an update is a change too");
}

/// Run `f` with a plain client of the database, off the runtime (the `postgres` crate's rule).
fn with_client<R: Send + 'static>(
    db: &TestDb,
    f: impl FnOnce(&mut postgres::Client) -> R + Send + 'static,
) -> R {
    let url = db.url.clone();
    std::thread::spawn(move || f(&mut client(&url)))
        .join()
        .expect("client thread")
}

/// A watcher of `db`'s store reporting the changes after `seq`, told of them only by the
/// server's notifications (never by its clock).
fn pushed_after(db: &TestDb, seq: i64) -> mpsc::UnboundedReceiver<Vec<TaskRecord>> {
    let (tx, rx) = mpsc::unbounded_channel();
    spawn_every(StoreLocation::Postgres(target(db)), Some(seq), NEVER, tx);
    rx
}

#[tokio::test]
async fn a_killed_connection_is_opened_again_and_what_changed_meanwhile_is_read() {
    let Some(db) = TestDb::create("watch_killed") else {
        return;
    };
    let store = Store::open_postgres(&target(&db)).expect("open");
    submit(&store, "away");
    submit(&store, "first");
    let seq = store.change_seq().expect("seq");
    drop(store);
    let mut rx = pushed_after(&db, seq - 1);
    wait_for(&mut rx, "first").await;

    // Holding the store's write lock (every writer's, and the watcher's open takes it), kill
    // every other session and change a row: the watcher cannot listen again before the commit,
    // so its notification is lost to it and only the read after reconnecting finds the change.
    with_client(&db, |c| {
        let mut t = c.transaction().expect("begin");
        t.execute("SELECT pg_advisory_xact_lock(1397048644)", &[])
            .expect("the write lock");
        let killed: Vec<i32> = t
            .query(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() \
                 AND backend_type = 'client backend' AND pid <> pg_backend_pid()",
                &[],
            )
            .expect("sessions")
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert!(killed.len() >= 2, "the watcher's sessions: {killed:?}");
        t.execute(
            "SELECT pg_terminate_backend(p) FROM unnest($1::int4[]) p",
            &[&killed],
        )
        .expect("terminate");
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            // The activity view is read once per transaction unless told to look again.
            t.execute("SELECT pg_stat_clear_snapshot()", &[])
                .expect("look again");
            let left: i64 = t
                .query_one(
                    "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1)",
                    &[&killed],
                )
                .expect("count")
                .get(0);
            if left == 0 {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "sessions still alive");
            std::thread::yield_now();
        }
        let n = t
            .execute(
                "UPDATE tasks SET status = 'running', updated_at = 2000 WHERE local_id = 'away'",
                &[],
            )
            .expect("update");
        assert_eq!(n, 1);
        t.commit().expect("commit");
    });
    let seen = wait_for(&mut rx, "away").await;
    assert_eq!(seen, ["away"]);
    // And the new session listens: the next commit is pushed.
    let store = Store::open_postgres(&target(&db)).expect("open again");
    store
        .submission_accepted("first", "cgt-first", 5)
        .expect("accepted");
    assert_eq!(wait_for(&mut rx, "first").await, ["first"]);
}

// One notification per transaction (the store's change trigger): the watcher reads from its
// last sequence number, so a batch of many rows notified once still arrives whole.

#[tokio::test]
async fn a_thousand_rows_committed_together_all_reach_the_watcher() {
    let Some(db) = TestDb::create("watch_batch") else {
        return;
    };
    let store = Store::open_postgres(&target(&db)).expect("open");
    submit(&store, "first");
    let seq = store.change_seq().expect("seq");
    let mut rx = pushed_after(&db, seq - 1);
    // Listening now: its first read has happened.
    wait_for(&mut rx, "first").await;
    with_client(&db, |c| {
        let mut t = c.transaction().expect("begin");
        for i in 0..1_000 {
            t.execute(
                "INSERT INTO tasks (local_id, status, created_at, updated_at) \
                 VALUES ($1, 'queued', 1, 1)",
                &[&format!("batch-{i}")],
            )
            .expect("insert");
        }
        t.commit().expect("commit");
    });
    let mut seen = std::collections::BTreeSet::new();
    let deadline = tokio::time::Instant::now() + WAIT;
    while seen.len() < 1_000 {
        let rows = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .unwrap_or_else(|_| panic!("only {} of 1,000 rows reported", seen.len()))
            .expect("the watcher is alive");
        for r in rows {
            assert!(r.local_id.starts_with("batch-"), "{}", r.local_id);
            assert!(
                seen.insert(r.local_id.clone()),
                "{} reported twice",
                r.local_id
            );
        }
    }
}
