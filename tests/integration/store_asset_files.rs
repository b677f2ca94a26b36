//! The local file names of a task's inlined assets (`tasks.asset_files`, schema 9): written
//! with the task, kept by its retries and edits unless they bring their own, read back as
//! written, and none for tasks of a store from before them.

use crate::support::backend::{Backend, on_both_backends};
use seedance_tui::api::types::Task;
use seedance_tui::store::{NewPending, NewSubmission, Store, schema};
use std::path::Path;

const REQ: &str = r#"{"model":"doubao-seedance-2-0-fast-260128","content":[{"type":"text","text":"tea"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]}"#;
const NAMES: &str = r#"{"0123456789abcdef":"first.png"}"#;
const OTHER: &str = r#"{"fedcba9876543210":"second.png"}"#;

fn sub<'a>(id: &'a str, retry_of: Option<&'a str>, names: Option<&'a str>) -> NewSubmission<'a> {
    NewSubmission {
        local_id: id,
        profile: "p",
        request_json: REQ,
        retry_of,
        asset_files: names,
        now: 1,
    }
}

fn pending<'a>(id: &'a str, retry_of: Option<&'a str>, names: Option<&'a str>) -> NewPending<'a> {
    NewPending {
        local_id: id,
        profile: "p",
        request_json: REQ,
        key: None,
        label: None,
        retry_of,
        max_in_flight: None,
        asset_files: names,
    }
}

fn raw(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).expect("open")
}

fn names_are_written_with_the_task_and_kept_by_retries_and_edits(b: &Backend) {
    let s = b.open();
    s.begin_submission(&sub("a", None, Some(NAMES))).expect("a");
    assert_eq!(s.asset_files("a").expect("read").as_deref(), Some(NAMES));
    // A retry sends the same URLs: it keeps the names.
    s.begin_retry(&sub("a2", Some("a"), None)).expect("retry");
    assert_eq!(s.asset_files("a2").expect("read").as_deref(), Some(NAMES));
    // An edit that brings its own names keeps those.
    s.begin_submission(&sub("e", Some("a2"), Some(OTHER)))
        .expect("edit");
    assert_eq!(s.asset_files("e").expect("read").as_deref(), Some(OTHER));
    // Queued lines: their own names, or those of the task they retry.
    s.enqueue(
        &[
            pending("q1", None, Some(OTHER)),
            pending("q2", Some("a"), None),
        ],
        2,
    )
    .expect("enqueue");
    assert_eq!(s.asset_files("q1").expect("read").as_deref(), Some(OTHER));
    assert_eq!(s.asset_files("q2").expect("read").as_deref(), Some(NAMES));
    // Status updates rewrite the row, never the names.
    s.submission_accepted("a", "cgt-a", 3).expect("accepted");
    let raw_task = r#"{"id":"cgt-a","status":"running"}"#;
    s.record_poll("a", &Task::from_json(raw_task).expect("task"), raw_task, 4)
        .expect("poll");
    assert_eq!(s.asset_files("a").expect("read").as_deref(), Some(NAMES));
    // A task with no inlined file has none; an unknown id is none, not an error.
    s.begin_submission(&sub("plain", None, None))
        .expect("plain");
    assert_eq!(s.asset_files("plain").expect("read"), None);
    assert_eq!(s.asset_files("nope").expect("read"), None);
}

#[test]
fn a_store_at_schema_8_gains_the_column_and_its_tasks_have_no_names() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("v8.sqlite3");
    {
        let c = raw(&path);
        for step in &schema::MIGRATIONS[..8] {
            c.execute_batch(step).expect("schema 8");
        }
        c.execute(
            "INSERT INTO tasks (local_id, task_id, status, prompt, created_at, updated_at) \
             VALUES ('old', 'cgt-old', 'succeeded', 'tea', 1, 1)",
            [],
        )
        .expect("row");
        c.execute(
            "INSERT INTO task_requests (local_id, body) VALUES ('old', ?1)",
            [REQ.as_bytes()],
        )
        .expect("request");
        c.pragma_update(None, "user_version", 8).expect("v8");
        c.pragma_update(None, "application_id", schema::APPLICATION_ID)
            .expect("ours");
    }
    const { assert!(schema::CURRENT >= 9, "v9 adds asset_files") };
    let s = Store::open(&path).expect("migrates");
    assert_eq!(
        schema::version(&raw(&path)).expect("version"),
        schema::CURRENT
    );
    assert_eq!(s.asset_files("old").expect("read"), None);
    assert_eq!(s.find("old").expect("kept").request_json, REQ);
    // A retry of the old task has none to keep; a new task writes its own.
    s.begin_retry(&sub("old2", Some("old"), None))
        .expect("retry");
    assert_eq!(s.asset_files("old2").expect("read"), None);
    s.begin_submission(&sub("new", None, Some(NAMES)))
        .expect("new");
    assert_eq!(s.asset_files("new").expect("read").as_deref(), Some(NAMES));
    assert!(s.integrity_ok().expect("integrity"));
}

/// A value another tool wrote: an over-long one (on both backends), and a blob (SQLite's alone:
/// the column's text affinity keeps it one, a number would become text; PostgreSQL's text
/// column refuses it when written).
fn a_value_another_tool_wrote_is_no_names_and_hides_nothing_else(b: &Backend) {
    let s = b.open();
    let ids: &[&str] = match b.sqlite_path() {
        Some(_) => &["blob", "huge"],
        None => &["huge"],
    };
    for id in ids {
        s.begin_submission(&sub(id, None, Some(NAMES)))
            .expect("row");
    }
    if let Some(path) = b.sqlite_path() {
        raw(&path)
            .execute(
                "UPDATE tasks SET asset_files = X'00FF' WHERE local_id = 'blob'",
                [],
            )
            .expect("blob");
    }
    let huge = format!(r#"{{"k":"{}"}}"#, "x".repeat(200 << 10));
    let update = format!("UPDATE tasks SET asset_files = '{huge}' WHERE local_id = 'huge'");
    b.raw_sql(&update, &update);
    for id in ids {
        assert_eq!(s.asset_files(id).expect("read"), None, "{id}");
        assert_eq!(s.find(id).expect("the task still reads").request_json, REQ);
    }
}

on_both_backends!(
    names_are_written_with_the_task_and_kept_by_retries_and_edits,
    a_value_another_tool_wrote_is_no_names_and_hides_nothing_else,
);
