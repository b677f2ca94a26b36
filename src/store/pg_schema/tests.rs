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
fn a_database_of_someone_else_is_refused_untouched() {
    let Some(db) = TestDb::create("schema_foreign") else {
        return;
    };
    sql(&db, "CREATE TABLE invoices (id BIGINT PRIMARY KEY)");
    match open(&db) {
        Err(StoreError::Foreign { .. }) => {}
        Err(e) => panic!("expected Foreign, got {e}"),
        Ok(_) => panic!("expected Foreign, got a store"),
    }
    assert_eq!(tables(&db), ["invoices"], "nothing was written");
}

#[test]
fn a_newer_schema_is_refused() {
    let Some(db) = TestDb::create("schema_newer") else {
        return;
    };
    drop(open(&db).expect("open"));
    sql(
        &db,
        &format!(
            "UPDATE seedance_schema SET version = {}",
            schema::CURRENT + 1
        ),
    );
    match open(&db) {
        Err(StoreError::TooNew { found, known, .. }) => {
            assert_eq!((found, known), (schema::CURRENT + 1, schema::CURRENT));
        }
        Err(e) => panic!("expected TooNew, got {e}"),
        Ok(_) => panic!("expected TooNew, got a store"),
    }
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

/// Which store calls work on PostgreSQL today (a survey for the next step, not a check).
#[test]
fn survey_of_store_calls() {
    let Some(db) = TestDb::create("survey") else {
        return;
    };
    let s = open(&db).expect("open");
    let body = r#"{"model":"m","content":[{"type":"text","text":"hi"}]}"#;
    let sub = crate::store::NewSubmission {
        local_id: "l1",
        profile: "p",
        request_json: body,
        retry_of: None,
        asset_files: None,
        now: 10,
    };
    let mut report = Vec::new();
    let mut note = |name: &str, r: Result<String, StoreError>| {
        report.push(format!(
            "{name}: {}",
            match r {
                Ok(v) => format!("ok {v}"),
                Err(e) => format!("ERR {e}"),
            }
        ))
    };
    note(
        "begin_submission",
        s.begin_submission(&sub)
            .map(|r| format!("{:?}", r.request_json)),
    );
    note(
        "submission_accepted",
        s.submission_accepted("l1", "cgt-1", 11)
            .map(|_| String::new()),
    );
    note(
        "find",
        s.find("cgt-1").map(|r| r.phase.as_str().to_string()),
    );
    note("find prefix", s.find("cgt").map(|r| r.local_id));
    note(
        "find_followed",
        s.find_followed("l1")
            .map(|r| format!("{:?}", r.request_facts.is_some())),
    );
    note(
        "list",
        s.list(&crate::store::TaskQuery::default())
            .map(|r| r.len().to_string()),
    );
    note(
        "list_rows",
        s.list_rows(&crate::store::TaskQuery::default())
            .map(|r| r.len().to_string()),
    );
    note(
        "rows_after",
        s.rows_after(None).map(|r| r.len().to_string()),
    );
    note("unfinished", s.unfinished().map(|r| r.len().to_string()));
    note(
        "changed_after_seq",
        s.changed_after_seq(0)
            .map(|(r, l)| format!("{} {l}", r.len())),
    );
    note("history", s.history("l1").map(|r| r.len().to_string()));
    note(
        "read_request",
        s.read_request("l1")
            .map(|r| format!("{:?}", r.map(|b| b == body))),
    );
    note(
        "bodies",
        s.bodies("l1")
            .map(|r| format!("{:?}", r.map(|b| b.request_json == body))),
    );
    let mut n = 0;
    note(
        "each_listed",
        s.each_listed(&crate::store::TaskQuery::default(), |_, _| {
            n += 1;
            true
        })
        .map(|_| n.to_string()),
    );
    note(
        "submitting_before",
        s.submitting_before(100).map(|r| r.len().to_string()),
    );
    note(
        "unsaved_results",
        s.unsaved_results(0).map(|r| r.len().to_string()),
    );
    note(
        "set_reconcile_note",
        s.set_reconcile_note("l1", "c", "m", 12)
            .map(|b| b.to_string()),
    );
    note("add_note", s.add_note("l1", "x", 12).map(|_| String::new()));
    let pending = crate::store::NewPending {
        local_id: "q1",
        profile: "p",
        request_json: body,
        key: Some("k"),
        label: Some("lab"),
        retry_of: None,
        max_in_flight: Some(2),
        asset_files: None,
    };
    note(
        "enqueue",
        s.enqueue(&[pending], 13).map(|r| format!("{r:?}")),
    );
    note("queue", s.queue(Some("p")).map(|r| r.len().to_string()));
    note(
        "queue_front",
        s.queue_front("p")
            .map(|r| format!("{:?}", r.map(|r| r.local_id))),
    );
    note(
        "in_flight_count",
        s.in_flight_count("p").map(|r| r.to_string()),
    );
    note("queue_state", s.queue_state().map(|r| format!("{r:?}")));
    note(
        "set_queue_paused",
        s.set_queue_paused(true).map(|_| String::new()),
    );
    note("labels", s.labels().map(|r| r.len().to_string()));
    note(
        "queue_remove",
        s.queue_remove(&["q1".into()]).map(|r| r.to_string()),
    );
    note(
        "save_draft",
        s.save_draft("d", "{}", 1).map(|_| String::new()),
    );
    note("drafts", s.drafts().map(|r| r.len().to_string()));
    note(
        "retried_by",
        s.retried_by("l1")
            .map(|r| format!("{:?}", r.map(|r| r.local_id))),
    );
    let poll: crate::api::types::Task = serde_json::from_str(
        r#"{"id":"cgt-1","model":"m","status":"running","created_at":1,"updated_at":2}"#,
    )
    .expect("task");
    note(
        "record_poll",
        s.record_poll("l1", &poll, "{}", 14).map(|b| b.to_string()),
    );
    eprintln!("SURVEY\n{}", report.join("\n"));
}
