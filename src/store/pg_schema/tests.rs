//! The schema on a real PostgreSQL server (a database of its own per test; skipped with a
//! message outside CI when there is no server, required under `CI=true`).

use crate::store::pg::target::PgTarget;
use crate::store::pg::test_db::TestDb;
use crate::store::{LeaseOutcome, Store, StoreError};

fn open(db: &TestDb) -> Result<Store, StoreError> {
    Store::open_postgres(&PgTarget::parse(&db.url).expect("the test URL parses"))
}

/// The names of the tables in the database's schema, sorted.
fn tables(db: &TestDb) -> Vec<String> {
    let url = db.url.clone();
    std::thread::spawn(move || {
        crate::store::pg::test_db::client(&url)
            .query(
                "SELECT table_name::text FROM information_schema.tables \
                 WHERE table_schema = current_schema() ORDER BY 1",
                &[],
            )
            .expect("tables")
            .iter()
            .map(|r| r.get(0))
            .collect()
    })
    .join()
    .expect("client thread")
}

/// Run `sql` on the database with a plain client (off any runtime, as the crate wants).
fn sql(db: &TestDb, sql: &str) {
    let (url, sql) = (db.url.clone(), sql.to_string());
    std::thread::spawn(move || {
        crate::store::pg::test_db::client(&url)
            .batch_execute(&sql)
            .expect("sql")
    })
    .join()
    .expect("client thread");
}

#[test]
fn a_new_database_gets_the_schema_and_opens_again() {
    let Some(db) = TestDb::create("schema_new") else {
        return;
    };
    let store = open(&db).expect("open a new database");
    let names = tables(&db);
    for t in [
        "drafts",
        "leases",
        "meta",
        "queue_removed",
        "seedance_schema",
        "status_history",
        "task_requests",
        "tasks",
    ] {
        assert!(names.iter().any(|n| n == t), "{t} missing: {names:?}");
    }
    store.meta_set("k", "a").expect("meta");
    drop(store);
    // Opening again migrates nothing and finds what was written.
    let again = open(&db).expect("open again");
    assert_eq!(again.meta_get("k").expect("meta").as_deref(), Some("a"));
    assert_eq!(tables(&db), names);
}

#[test]
fn processes_opening_a_new_database_at_once_all_get_it() {
    let Some(db) = TestDb::create("schema_race") else {
        return;
    };
    let target = PgTarget::parse(&db.url).expect("url");
    let opened: Vec<Result<(), String>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    Store::open_postgres(&target)
                        .map(drop)
                        .map_err(|e| e.to_string())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    assert!(opened.iter().all(Result::is_ok), "{opened:?}");
}

#[test]
fn every_insert_and_update_of_a_task_moves_the_change_sequence() {
    let Some(db) = TestDb::create("schema_seq") else {
        return;
    };
    let store = open(&db).expect("open");
    let start = store.change_seq().expect("seq");
    let counter = store.change_counter().expect("counter");
    sql(
        &db,
        "INSERT INTO tasks (local_id, status, created_at, updated_at) VALUES ('a', 'queued', 1, 1);
         INSERT INTO tasks (local_id, status, created_at, updated_at) VALUES ('b', 'queued', 1, 1);",
    );
    let after_inserts = store.change_seq().expect("seq");
    assert_eq!(after_inserts, start + 2);
    assert_ne!(store.change_counter().expect("counter"), counter);
    sql(
        &db,
        "UPDATE tasks SET status = 'running' WHERE local_id = 'a'",
    );
    assert_eq!(store.change_seq().expect("seq"), after_inserts + 1);
    // A commit that touches no task moves neither.
    let counter = store.change_counter().expect("counter");
    store.meta_set("k", "v").expect("meta");
    assert_eq!(store.change_counter().expect("counter"), counter);
}

#[test]
fn the_lease_row_works_across_connections() {
    let Some(db) = TestDb::create("schema_lease") else {
        return;
    };
    let a = open(&db).expect("a");
    let b = open(&db).expect("b");
    assert!(matches!(
        a.lease_acquire("poller", "A 1@host-a", 1_000, 500, None),
        Ok(LeaseOutcome::Held(_))
    ));
    match b.lease_acquire("poller", "B 2@host-b", 1_400, 500, Some("n")) {
        Ok(LeaseOutcome::Other(l)) => assert_eq!(l.holder, "A 1@host-a"),
        other => panic!("expected A to hold it: {other:?}"),
    }
    match b.lease_acquire("poller", "B 2@host-b", 1_500, 500, None) {
        Ok(LeaseOutcome::Held(l)) => {
            assert_eq!((l.holder.as_str(), l.acquired_at), ("B 2@host-b", 1_500))
        }
        other => panic!("takeover: {other:?}"),
    }
    assert!(!a.lease_release("poller", "A 1@host-a").expect("release"));
    assert!(b.lease_release("poller", "B 2@host-b").expect("release"));
    assert!(a.lease("poller").expect("read").is_none());
}
