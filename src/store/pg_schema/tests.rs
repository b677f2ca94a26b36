//! The schema on a real PostgreSQL server (a database of its own per test; skipped with a
//! message outside CI when there is no server, required under `CI=true`).

use crate::store::pg::target::PgTarget;
use crate::store::pg::test_db::TestDb;
use crate::store::{LeaseOutcome, Store, StoreError, schema};

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

/// The payloads a listener on the change channel receives for what `work` commits on another
/// connection. A marker row committed after `work` ends the count: notifications arrive in commit
/// order, so once the marker's is in, all of `work`'s are.
fn notifications_for(
    db: &TestDb,
    work: impl FnOnce(&mut postgres::Client) + Send + 'static,
) -> Vec<String> {
    let url = db.url.clone();
    std::thread::spawn(move || {
        let mut listener = crate::store::pg::test_db::client(&url);
        listener
            .batch_execute("LISTEN seedance_changes")
            .expect("listen");
        let mut writer = crate::store::pg::test_db::client(&url);
        work(&mut writer);
        let marker: i64 = writer
            .query_one(
                "INSERT INTO tasks (local_id, status, created_at, updated_at) \
                 VALUES (md5(random()::text), 'marker', 1, 1) RETURNING seq",
                &[],
            )
            .expect("marker")
            .get(0);
        let mut got = Vec::new();
        let mut notes = listener.notifications();
        let mut waiting = notes.timeout_iter(std::time::Duration::from_secs(20));
        use postgres::fallible_iterator::FallibleIterator;
        loop {
            let n = waiting
                .next()
                .expect("the listener's connection")
                .unwrap_or_else(|| panic!("the marker's notification never came; got {got:?}"));
            if n.payload() == marker.to_string() {
                return got;
            }
            got.push(n.payload().to_string());
        }
    })
    .join()
    .expect("listener thread")
}

/// One transaction of 1,000 task rows: 500 inserted one statement each, then those 500 updated
/// by one statement, then 500 more inserted by one statement.
fn thousand_rows_in_one_transaction(c: &mut postgres::Client) {
    let mut t = c.transaction().expect("begin");
    for i in 0..500 {
        t.execute(
            "INSERT INTO tasks (local_id, status, created_at, updated_at) VALUES ($1, 'queued', 1, 1)",
            &[&format!("one-{i}")],
        )
        .expect("insert");
    }
    let n = t
        .execute(
            "UPDATE tasks SET status = 'running' WHERE local_id LIKE 'one-%'",
            &[],
        )
        .expect("update");
    assert_eq!(n, 500);
    let n = t
        .execute(
            "INSERT INTO tasks (local_id, status, created_at, updated_at) \
             SELECT 'many-' || i, 'queued', 1, 1 FROM generate_series(1, 500) i",
            &[],
        )
        .expect("insert many");
    assert_eq!(n, 500);
    t.commit().expect("commit");
}

#[test]
fn a_transaction_of_a_thousand_rows_notifies_once_with_its_last_sequence_number() {
    let Some(db) = TestDb::create("schema_notify_once") else {
        return;
    };
    let store = open(&db).expect("open");
    let before = store.change_seq().expect("seq");
    let got = notifications_for(&db, thousand_rows_in_one_transaction);
    let after = store.change_seq().expect("seq");
    // 1,500 row changes (500 rows written twice), then the marker's.
    assert_eq!(after, before + 1_501);
    assert_eq!(
        got,
        [(after - 1).to_string()],
        "one notification, the greatest number"
    );
    // A transaction that changes no task notifies nothing; one statement of one row, once.
    let got = notifications_for(&db, |c| {
        c.batch_execute("UPDATE tasks SET status = 'x' WHERE local_id = 'none'; INSERT INTO meta VALUES ('k', 'v')")
            .expect("no task changed")
    });
    assert!(got.is_empty(), "{got:?}");
}

#[test]
fn a_store_of_the_version_before_notifies_per_row_until_opened_then_per_transaction() {
    let Some(db) = TestDb::create("schema_notify_migrate") else {
        return;
    };
    // A store as the build before wrote it: the schema PostgreSQL stores were born with, at
    // its version, with a task in it.
    sql(&db, super::BORN_SCHEMA);
    sql(
        &db,
        &format!(
            "INSERT INTO seedance_schema (version, app) VALUES ({}, '{}');
             INSERT INTO tasks (local_id, status, created_at, updated_at) VALUES ('old', 'queued', 1, 1);",
            super::BORN_AT,
            super::APP
        ),
    );
    assert!(
        super::STEPS[0].contains("seedance_tasks_notify"),
        "the step this test covers is the first after BORN_AT"
    );
    let per_row = notifications_for(&db, |c| {
        c.batch_execute(
            "INSERT INTO tasks (local_id, status, created_at, updated_at) \
             SELECT 'pre-' || i, 'queued', 1, 1 FROM generate_series(1, 100) i",
        )
        .expect("insert")
    });
    assert_eq!(per_row.len(), 100, "the old trigger notifies each row");

    let store = open(&db).expect("the old store opens and is migrated");
    let version: i64 = {
        let url = db.url.clone();
        std::thread::spawn(move || {
            crate::store::pg::test_db::client(&url)
                .query_one("SELECT version FROM seedance_schema", &[])
                .expect("version")
                .get(0)
        })
        .join()
        .expect("thread")
    };
    assert_eq!(version, schema::CURRENT);
    assert_eq!(store.find("old").expect("kept").local_id, "old");
    let seq = store.change_seq().expect("seq");
    let got = notifications_for(&db, thousand_rows_in_one_transaction);
    assert_eq!(got, [(seq + 1_500).to_string()]);
    assert_eq!(
        store.change_seq().expect("seq"),
        seq + 1_501,
        "the numbering goes on"
    );
    // Opening the migrated store again migrates nothing.
    drop(open(&db).expect("open again"));
}
