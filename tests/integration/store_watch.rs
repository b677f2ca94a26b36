//! The store watcher reports every task change in commit order, whatever time the writer put in
//! `updated_at`: a write stamped earlier than one already reported (a writer that waited for the
//! lock, or another process with a different clock) still reaches the dashboard and the poller.

use seedance_tui::runtime::store_watch;
use seedance_tui::store::{NewSubmission, Store, TaskRecord};
use std::time::Duration;
use tokio::sync::mpsc;

const WAIT: Duration = Duration::from_secs(10);

fn submit(s: &Store, id: &str, now: i64) {
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

/// Reports until one names `id`; panics after `WAIT`.
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

#[tokio::test]
async fn a_change_stamped_in_the_past_is_still_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.sqlite3");
    let store = Store::open(&path).expect("open");
    submit(&store, "before", 1_700_000_000);
    let seq = store.change_seq().expect("seq");
    let (tx, mut rx) = mpsc::unbounded_channel();
    store_watch::spawn(path.clone(), Some(seq), tx);

    submit(&store, "late-clock", 2_000_000_000);
    let seen = wait_for(&mut rx, "late-clock").await;
    assert!(
        !seen.contains(&"before".to_string()),
        "older rows are not re-sent: {seen:?}"
    );
    // Committed after the row above but stamped 30 years earlier.
    submit(&store, "early-clock", 1_000);
    wait_for(&mut rx, "early-clock").await;
    // An update to an existing row is a change too.
    store
        .submission_accepted("before", "cgt-before", 5)
        .expect("accepted");
    wait_for(&mut rx, "before").await;
}

#[tokio::test]
async fn the_sequence_grows_with_every_insert_and_update() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("s.sqlite3")).expect("open");
    assert_eq!(store.change_seq().expect("seq"), 0);
    submit(&store, "a", 10);
    let s1 = store.change_seq().expect("seq");
    submit(&store, "b", 5);
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
