//! One unreadable task row (a wrong type written by hand or by another tool) must not hide every
//! other task: lists skip it, and the change feed moves past it, so the store watcher keeps
//! reporting new tasks (which the poller then tracks) instead of stalling forever.

use seedance_tui::store::{NewSubmission, Store, TaskQuery};

fn submit(store: &Store, id: &str) {
    let body =
        r#"{"model":"doubao-seedance-2-0-fast-260128","content":[{"type":"text","text":"x"}]}"#;
    store
        .begin_submission(&NewSubmission {
            local_id: id,
            profile: "test",
            request_json: body,
            retry_of: None,
            now: 1_700_000_000,
        })
        .expect("row");
}

#[test]
fn an_unreadable_row_does_not_hide_the_others() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("store.sqlite3");
    let store = Store::open(&path).expect("store");
    let seq = store.change_seq().expect("seq");
    submit(&store, "good-1");
    // A row whose created_at is not a number: the row cannot be read as a task.
    let raw = rusqlite::Connection::open(&path).expect("open");
    raw.execute(
        "INSERT INTO tasks (local_id, status, request_json, created_at, updated_at) \
         VALUES ('bad-1', 'queued', '{}', 'yesterday', 0)",
        [],
    )
    .expect("insert the bad row");
    submit(&store, "good-2");

    let listed: Vec<String> = store
        .list(&TaskQuery::default())
        .expect("the list survives one bad row")
        .into_iter()
        .map(|r| r.local_id)
        .collect();
    assert!(
        listed.contains(&"good-1".to_string()) && listed.contains(&"good-2".to_string()),
        "{listed:?}"
    );

    let (rows, last) = store
        .changed_after_seq(seq)
        .expect("the change feed survives one bad row");
    let ids: Vec<&str> = rows.iter().map(|r| r.local_id.as_str()).collect();
    assert_eq!(ids, vec!["good-1", "good-2"]);
    assert_eq!(
        last,
        store.change_seq().expect("seq"),
        "the cursor moves past it"
    );
}
