//! The store on real SQLite files and on a real PostgreSQL server (one test body each, see
//! `support::backend`): the submission life cycle, history, lineage, lookups,
//! migrations, damaged and newer files, change detection, and two processes on one file. One
//! unreadable task row (a wrong type written by hand or by another tool) must not hide every
//! other task: lists skip it, and the change feed moves past it, so the store watcher keeps
//! reporting new tasks (which the poller then tracks) instead of stalling forever.

use crate::support::backend::{Backend, on_both_backends};
use seedance_tui::api::types::Task;
use seedance_tui::store::{FileKind, NewSubmission, Phase, Store, StoreError, TaskQuery};
use std::path::Path;

const REQ: &str =
    r#"{"model":"doubao-seedance-2-0-fast-260128","content":[{"type":"text","text":"apple tea"}]}"#;

fn submit(s: &Store, id: &str, retry_of: Option<&str>, now: i64) {
    s.begin_submission(&NewSubmission {
        local_id: id,
        profile: "p",
        request_json: REQ,
        retry_of,
        now,
        asset_files: None,
    })
    .expect("begin");
}

fn task(id: &str, status: &str, extra: &str) -> (Task, String) {
    let raw = format!(r#"{{"id":"{id}","status":"{status}"{extra}}}"#);
    (Task::from_json(&raw).expect("task json"), raw)
}

#[test]
fn opening_a_file_creates_its_missing_folders() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("a/b/store.sqlite3");
    let s = Store::open(&path).expect("open creates dirs");
    submit(&s, "l1", None, 100);
    assert!(path.is_file());
}

fn submission_life_cycle_with_history_files_and_lineage(b: &Backend) {
    let s = b.open();
    submit(&s, "l1", None, 100);
    let r = s.find("l1").expect("row");
    assert_eq!(r.phase, Phase::Submitting);
    assert_eq!(r.model, "doubao-seedance-2-0-fast-260128");
    assert_eq!(r.prompt, "apple tea");
    assert_eq!(r.request_json, REQ, "the exact body is kept");

    s.submission_accepted("l1", "cgt-1", 101).expect("accepted");
    let (t, raw) = task("cgt-1", "running", "");
    assert!(s.record_poll("l1", &t, &raw, 110).expect("poll"));
    assert!(
        !s.record_poll("l1", &t, &raw, 111).expect("same answer"),
        "no change"
    );
    let (t, raw) = task(
        "cgt-1",
        "succeeded",
        r#","content":{"video_url":"http://x/v.mp4"},"usage":{"completion_tokens":5,"total_tokens":5}"#,
    );
    assert!(s.record_poll("l1", &t, &raw, 150).expect("poll"));
    s.set_file("l1", FileKind::Video, Path::new("/tmp/v.mp4"), 151)
        .expect("file");
    let r = s.find("cgt-1").expect("by task id");
    assert_eq!(r.phase.as_str(), "succeeded");
    assert_eq!(r.tokens, Some(5));
    assert_eq!(r.started_at, Some(110));
    assert_eq!(r.finished_at, Some(150));
    assert_eq!(r.urls_seen_at, Some(150));
    assert_eq!(r.video_path.as_deref(), Some("/tmp/v.mp4"));
    assert_eq!(r.response_json.as_deref(), Some(raw.as_str()));
    let h: Vec<String> = s
        .history("l1")
        .expect("history")
        .into_iter()
        .map(|e| e.status)
        .collect();
    assert_eq!(h, ["submitting", "queued", "running", "succeeded"]);

    submit(&s, "l2", Some("l1"), 200);
    submit(&s, "l3", Some("l2"), 201);
    assert_eq!(s.find("l3").expect("row").retry_depth, 2);
    assert_eq!(s.find("l3").expect("row").retry_of.as_deref(), Some("l2"));
    s.submission_rejected("l2", "InvalidParameter", "bad", 202)
        .expect("rejected");
    s.submission_unknown("l3", "timed out", 203)
        .expect("unknown");
    assert_eq!(s.find("l2").expect("row").phase, Phase::Rejected);
    assert_eq!(s.find("l3").expect("row").phase, Phase::SubmitUnknown);
    assert!(s.unfinished().expect("unfinished").is_empty());
}

fn a_poll_answer_is_merged_into_the_row(b: &Backend) {
    let s = b.open();
    submit(&s, "l1", None, 100);
    assert!(
        matches!(
            s.record_poll("nope", &task("cgt-x", "queued", "").0, "{}", 101),
            Err(StoreError::NotFound(_))
        ),
        "an unknown row is an error, not a silent no-op"
    );

    // A row with no server id yet takes the answer's.
    let (t, raw) = task("cgt-1", "queued", r#","updated_at":1"#);
    assert!(s.record_poll("l1", &t, &raw, 110).expect("poll"));
    let r = s.find("l1").expect("row");
    assert_eq!(r.task_id.as_deref(), Some("cgt-1"));
    assert_eq!(r.phase.as_str(), "queued");
    assert_eq!(r.updated_at, 110);

    // The same status with a new body: the body and the time move, the status stays, no
    // history row, and the change feed sees the row.
    let seq = s.change_seq().expect("seq");
    let (t, raw2) = task("cgt-1", "queued", r#","updated_at":2"#);
    assert!(!s.record_poll("l1", &t, &raw2, 120).expect("poll"));
    let r = s.find("l1").expect("row");
    assert_eq!(r.response_json.as_deref(), Some(raw2.as_str()));
    assert_eq!((r.phase.as_str(), r.updated_at), ("queued", 120));
    assert_eq!(r.task_id.as_deref(), Some("cgt-1"));
    let (rows, _) = s.changed_after_seq(seq).expect("changes");
    assert_eq!(rows.len(), 1, "the new body is a change");
    let statuses = |s: &Store| -> Vec<String> {
        s.history("l1")
            .expect("history")
            .into_iter()
            .map(|e| e.status)
            .collect()
    };
    assert_eq!(statuses(&s), ["submitting", "queued"]);

    // The identical answer again writes nothing.
    let seq = s.change_seq().expect("seq");
    assert!(!s.record_poll("l1", &t, &raw2, 130).expect("poll"));
    assert_eq!(s.change_seq().expect("seq"), seq, "nothing written");
    assert_eq!(s.find("l1").expect("row").updated_at, 120);

    // A failure, then an answer without one (and without the link): the earlier error and
    // link are kept; the status change adds history with the error code.
    let (t, raw) = task(
        "cgt-1",
        "failed",
        r#","error":{"code":"OutputVideoSensitiveContentDetected","message":"m"},"content":{"video_url":"http://x/v.mp4"}"#,
    );
    assert!(s.record_poll("l1", &t, &raw, 140).expect("poll"));
    let (t, raw) = task("cgt-1", "failed", r#","updated_at":3"#);
    assert!(!s.record_poll("l1", &t, &raw, 150).expect("poll"));
    let r = s.find("l1").expect("row");
    assert_eq!(
        r.error_code.as_deref(),
        Some("OutputVideoSensitiveContentDetected")
    );
    assert_eq!(r.error_message.as_deref(), Some("m"));
    assert_eq!(r.video_url.as_deref(), Some("http://x/v.mp4"));
    assert_eq!(
        (r.urls_seen_at, r.started_at, r.finished_at),
        (Some(140), Some(140), Some(140))
    );
    assert_eq!(statuses(&s), ["submitting", "queued", "failed"]);
    let last = s.history("l1").expect("history").pop().expect("entry");
    assert_eq!(
        last.note.as_deref(),
        Some("OutputVideoSensitiveContentDetected")
    );
}

fn lookups_lists_and_changes(b: &Backend) {
    let s = b.open();
    for (i, id) in ["lab1", "lab2", "lcd3"].iter().enumerate() {
        submit(&s, id, None, 100 + i as i64);
        s.submission_accepted(id, &format!("cgt-{id}"), 100 + i as i64)
            .expect("accept");
    }
    assert!(matches!(s.find("lab"), Err(StoreError::Ambiguous { .. })));
    assert_eq!(s.find("lcd").expect("prefix").local_id, "lcd3");
    assert_eq!(s.find("cgt-lab2").expect("task id").local_id, "lab2");
    assert!(matches!(s.find("zzz"), Err(StoreError::NotFound(_))));
    assert!(
        matches!(s.find("l%"), Err(StoreError::NotFound(_))),
        "LIKE wildcards are literal"
    );

    let all = s.list(&TaskQuery::default()).expect("list");
    assert_eq!(
        all.iter().map(|r| r.local_id.as_str()).collect::<Vec<_>>(),
        ["lcd3", "lab2", "lab1"],
        "newest first"
    );
    let (t, raw) = task(
        "cgt-lab1",
        "failed",
        r#","error":{"code":"X","message":"m"}"#,
    );
    let before_poll = s.change_seq().expect("seq");
    s.record_poll("lab1", &t, &raw, 300).expect("poll");
    let failed = s
        .list(&TaskQuery {
            statuses: vec!["failed".into()],
            ..TaskQuery::default()
        })
        .expect("list failed");
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].error_code.as_deref(), Some("X"));
    let recent = s
        .list(&TaskQuery {
            since: Some(101),
            limit: Some(1),
            ..TaskQuery::default()
        })
        .expect("list recent");
    assert_eq!(recent.len(), 1);
    assert_eq!(recent[0].local_id, "lcd3");
    let (changed, _) = s.changed_after_seq(before_poll).expect("changed");
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].local_id, "lab1");
    assert_eq!(s.unfinished().expect("unfinished").len(), 2);
}

fn drafts_and_templates(b: &Backend) {
    let s = b.open();
    s.save_draft("a", "{}", 1).expect("save");
    s.save_draft("b", "{\"x\":1}", 2).expect("save");
    s.save_draft("a", "{\"y\":2}", 3).expect("replace");
    let d = s.drafts().expect("drafts");
    assert_eq!(d[0], ("a".to_string(), "{\"y\":2}".to_string(), 3));
    assert_eq!(d.len(), 2);
    s.delete_draft("a").expect("delete");
    assert_eq!(s.drafts().expect("drafts").len(), 1);
    s.save_template("t2", "{}", 1).expect("template");
    s.save_template("t1", "{}", 1).expect("template");
    let names: Vec<String> = s.templates().expect("t").into_iter().map(|t| t.0).collect();
    assert_eq!(names, ["t1", "t2"]);
    s.delete_template("t1").expect("delete template");
    let names: Vec<String> = s.templates().expect("t").into_iter().map(|t| t.0).collect();
    assert_eq!(names, ["t2"]);
    assert_eq!(s.drafts().expect("drafts").len(), 1, "drafts untouched");
}

/// Random bytes are no SQLite database: a clear error, and the file is left untouched. (A
/// PostgreSQL server never hands over damaged pages as a database: its counterparts are
/// `someone_elses_database_is_refused_untouched` and `a_store_written_by_a_newer_build_is_refused`.)
#[test]
fn a_damaged_file_is_refused_untouched() {
    let dir = tempfile::tempdir().expect("tempdir");
    let junk = dir.path().join("junk.db");
    let bytes: Vec<u8> = (0..8192u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&junk, &bytes).expect("write junk");
    let err = Store::open(&junk).err().expect("junk is refused");
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains("move it aside"), "{err}");
    assert_eq!(std::fs::read(&junk).expect("read"), bytes, "unchanged");
}

/// A v1 store (tasks only) with a row migrates and keeps the row. SQLite only: the PostgreSQL
/// store was first written at `pg_schema::BORN_AT`, so no older PostgreSQL store exists.
#[test]
fn an_old_file_migrates_and_keeps_its_rows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let old = dir.path().join("old.db");
    {
        let c = rusqlite_connection(&old);
        c.execute_batch(seedance_tui::store::schema::MIGRATIONS[0])
            .expect("v1 schema");
        c.execute(
            "INSERT INTO tasks (local_id, status, request_json, created_at, updated_at) VALUES ('old1', 'queued', '{}', 1, 1)",
            [],
        )
        .expect("v1 row");
        c.pragma_update(None, "user_version", 1).expect("v1");
    }
    let s = Store::open(&old).expect("migrates");
    assert_eq!(s.find("old1").expect("kept").phase.as_str(), "queued");
    assert_eq!(s.find("old1").expect("kept").request_json, "{}");
    s.save_draft("d", "{}", 1).expect("v2 table exists");
    assert!(integrity_ok(&old));
}

/// A store from a newer build is refused, saying which version it found and which this build
/// knows. SQLite keeps the version in `PRAGMA user_version` (of any file, even one without our
/// tables yet); PostgreSQL in the `seedance_schema` table the first open creates.
fn a_store_written_by_a_newer_build_is_refused(b: &Backend) {
    use seedance_tui::store::schema::CURRENT;
    if b.sqlite_path().is_none() {
        drop(b.open());
    }
    for version in [CURRENT + 1, 99] {
        b.raw_sql(
            &format!("PRAGMA user_version = {version}"),
            &format!("UPDATE seedance_schema SET version = {version}"),
        );
        match Store::open_named(&b.location()) {
            Err(StoreError::TooNew { found, known, .. }) => {
                assert_eq!((found, known), (version, CURRENT));
            }
            Err(e) => panic!("expected TooNew, got {e}"),
            Ok(_) => panic!("expected TooNew, got a store"),
        }
    }
}

/// A database holding another program's tables is refused and nothing is written to it.
fn someone_elses_database_is_refused_untouched(b: &Backend) {
    b.raw_sql(
        "CREATE TABLE invoices (id INTEGER PRIMARY KEY)",
        "CREATE TABLE invoices (id BIGINT PRIMARY KEY)",
    );
    match Store::open_named(&b.location()) {
        Err(StoreError::Foreign { .. }) => {}
        Err(e) => panic!("expected Foreign, got {e}"),
        Ok(_) => panic!("expected Foreign, got a store"),
    }
    assert_eq!(b.tables(), ["invoices"], "nothing was written");
}

fn rusqlite_connection(p: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(p).expect("sqlite open")
}

/// `PRAGMA integrity_check` on the file says "ok".
fn integrity_ok(p: &Path) -> bool {
    let check: String = rusqlite_connection(p)
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity check");
    check == "ok"
}

fn change_counter_sees_other_connections(on: &Backend) {
    let a = on.open();
    let b = on.open();
    let before = a.change_counter().expect("counter");
    submit(&b, "x1", None, 1);
    assert_ne!(
        a.change_counter().expect("counter"),
        before,
        "b's commit is seen by a"
    );
    let mid = a.change_counter().expect("counter");
    submit(&a, "x2", None, 2);
    assert_ne!(
        a.change_counter().expect("counter"),
        mid,
        "own commits count too"
    );
}

/// The child half of the two-process test: writes tasks into the store named by the env.
#[test]
fn two_process_child() {
    let (Ok(path), Ok(prefix)) = (
        std::env::var("SEEDANCE_STORE_CHILD_PATH"),
        std::env::var("SEEDANCE_STORE_CHILD_PREFIX"),
    ) else {
        return; // only does work when run by two_processes_share_one_store
    };
    let s = Store::open_named(&path).expect("child open");
    for i in 0..200 {
        let id = format!("{prefix}{i}");
        submit(&s, &id, None, i);
        s.submission_accepted(&id, &format!("cgt-{id}"), i)
            .expect("accept");
    }
}

fn two_processes_share_one_store(b: &Backend) {
    let s = b.open();
    let child = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "store::two_process_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("SEEDANCE_STORE_CHILD_PATH", b.location())
        .env("SEEDANCE_STORE_CHILD_PREFIX", "child-")
        .spawn()
        .expect("spawn child");
    for i in 0..200 {
        let id = format!("parent-{i}");
        submit(&s, &id, None, i);
        s.submission_accepted(&id, &format!("cgt-{id}"), i)
            .expect("accept");
    }
    let out = child.wait_with_output().expect("child finishes");
    assert!(out.status.success(), "child failed");
    let all = s.list(&TaskQuery::default()).expect("list");
    assert_eq!(all.len(), 400, "both processes' rows are there");
    assert_eq!(
        all.iter()
            .filter(|r| r.local_id.starts_with("child-"))
            .count(),
        200
    );
    if let Some(path) = b.sqlite_path() {
        assert!(integrity_ok(&path));
    }
    let other = b.open();
    assert_eq!(other.unfinished().expect("unfinished").len(), 400);
}

#[test]
fn an_unreadable_row_does_not_hide_the_others() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("store.sqlite3");
    let store = Store::open(&path).expect("store");
    let seq = store.change_seq().expect("seq");
    submit(&store, "good-1", None, 1_700_000_000);
    // A row whose created_at is not a number: the row cannot be read as a task.
    let raw = rusqlite::Connection::open(&path).expect("open");
    raw.execute(
        "INSERT INTO tasks (local_id, status, created_at, updated_at) \
         VALUES ('bad-1', 'queued', 'yesterday', 0)",
        [],
    )
    .expect("insert the bad row");
    submit(&store, "good-2", None, 1_700_000_000);

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

fn delete_local_removes_only_rows_that_never_reached_the_server(b: &Backend) {
    let s = b.open();
    submit(&s, "refused", None, 100);
    s.submission_rejected("refused", "InvalidParameter", "bad", 101)
        .expect("rejected");
    submit(&s, "unknown", None, 102);
    s.submission_unknown("unknown", "timed out", 103)
        .expect("unknown");
    submit(&s, "sending", None, 104);
    // A rejected original someone retried keeps its record (the chain stays whole).
    submit(&s, "orig", None, 105);
    s.submission_rejected("orig", "InvalidParameter", "bad", 106)
        .expect("rejected");
    submit(&s, "its-retry", Some("orig"), 107);
    let ids: Vec<String> = ["refused", "unknown", "sending", "orig", "missing"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let removed = s.delete_local(&ids).expect("delete");
    assert_eq!(removed, vec!["refused".to_string()]);
    assert!(matches!(s.find("refused"), Err(StoreError::NotFound(_))));
    assert!(s.history("refused").expect("history").is_empty());
    for kept in ["unknown", "sending", "orig", "its-retry"] {
        assert!(s.find(kept).is_ok(), "{kept} is kept");
    }
}

fn every_column_reaches_its_own_field(b: &Backend) {
    // A row with a different value in every column: a field read from the wrong position shows.
    drop(b.open());
    let row = "INSERT INTO tasks (local_id, task_id, status, profile, model, prompt, \
             response_json, error_code, error_message, retry_of, retry_depth, created_at, \
             updated_at, started_at, finished_at, tokens, video_url, last_frame_url, \
             urls_seen_at, video_path, last_frame_path) VALUES ('l1', 'cgt-1', 'failed', 'prof', \
             'mod', 'pr', '{\"s\":2}', 'Code', 'msg', 'l0', 3, 100, 101, 102, 103, \
             104, 'https://v', 'https://f', 105, '/v.mp4', '/f.png');";
    b.raw_sql(
        &format!(
            "{row} INSERT INTO task_requests (local_id, body) VALUES ('l1', CAST('{{\"r\":1}}' AS BLOB))"
        ),
        &format!(
            "{row} INSERT INTO task_requests (local_id, body) VALUES ('l1', convert_to('{{\"r\":1}}', 'UTF8'))"
        ),
    );
    let s = b.open();
    let r = s.find("l1").expect("found");
    assert_eq!(
        (r.local_id.as_str(), r.task_id.as_deref(), r.phase.as_str()),
        ("l1", Some("cgt-1"), "failed")
    );
    assert_eq!((r.profile.as_str(), r.model.as_str()), ("prof", "mod"));
    assert_eq!(r.prompt, "pr");
    assert_eq!(r.request_json, r#"{"r":1}"#);
    assert_eq!(r.response_json.as_deref(), Some(r#"{"s":2}"#));
    assert_eq!(r.error_code.as_deref(), Some("Code"));
    assert_eq!(r.error_message.as_deref(), Some("msg"));
    assert_eq!((r.retry_of.as_deref(), r.retry_depth), (Some("l0"), 3));
    assert_eq!((r.created_at, r.updated_at), (100, 101));
    assert_eq!((r.started_at, r.finished_at), (Some(102), Some(103)));
    assert_eq!(r.tokens, Some(104));
    assert_eq!(r.video_url.as_deref(), Some("https://v"));
    assert_eq!(r.last_frame_url.as_deref(), Some("https://f"));
    assert_eq!(r.urls_seen_at, Some(105));
    assert_eq!(r.video_path.as_deref(), Some("/v.mp4"));
    assert_eq!(r.last_frame_path.as_deref(), Some("/f.png"));
    // The streamed list reads the same row the same way.
    let mut listed = Vec::new();
    s.each(&TaskQuery::default(), |t| {
        listed.push(t);
        true
    })
    .expect("each");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].last_frame_path.as_deref(), Some("/f.png"));
    assert_eq!(listed[0].request_json, r.request_json);
}

fn the_rows_behind_a_first_page_are_the_rest_of_the_listing_in_its_order(b: &Backend) {
    use seedance_tui::store::TaskFacts;
    let s = b.open();
    // Written out of creation order (an adopted task is older than the ones before it), with
    // creation times shared by several rows (the order then goes by local id) and, on SQLite,
    // an unreadable row among them (skipped by both reads; PostgreSQL refuses to store one).
    for n in 0..300i64 {
        let created = 1_000 + (n * 7919) % 97;
        submit(&s, &format!("t{:03}", (n * 37) % 300), None, created);
    }
    if let Some(path) = b.sqlite_path() {
        rusqlite_connection(&path)
            .execute(
                "INSERT INTO tasks (local_id, status, created_at, updated_at, retry_depth) \
                 VALUES ('t150x', 'queued', 1050, 0, 'deep')",
                [],
            )
            .expect("a bad row");
    }
    let ids = |rows: &[seedance_tui::store::TaskRow]| -> Vec<String> {
        rows.iter().map(|r| r.local_id().to_string()).collect()
    };
    let all = s.list_rows(&TaskQuery::default()).expect("list");
    assert_eq!(all.len(), 300);
    assert_eq!(
        s.rows_after(None).expect("every row"),
        all,
        "no first page: every row, in the listing's order"
    );
    for page in [1, 45, 299, 300] {
        let first = s
            .list_rows(&TaskQuery {
                limit: Some(page),
                ..TaskQuery::default()
            })
            .expect("first page");
        let last = first.last().expect("a row");
        let rest = s
            .rows_after(Some((last.created_at(), last.local_id())))
            .expect("the rest");
        let mut both = ids(&first);
        both.extend(ids(&rest));
        assert_eq!(both, ids(&all), "a first page of {page} and the rest");
        assert_eq!(rest, all[first.len()..], "the same rows, field for field");
    }
}

/// Requests of every kind a listing reads facts from: sizes and lengths, each kind of media,
/// a reference video (whose facts are read from the request), one bigger than a listing reads
/// in place, and one that is no request.
fn requests_of_every_shape() -> Vec<String> {
    let head = r#"{"model":"doubao-seedance-2-0-260128","content":[{"type":"text","text":"#;
    vec![
        REQ.to_string(),
        format!(
            r#"{head}"a cat"}}],"resolution":"1080p","ratio":"9:16","duration":7,"generate_audio":true}}"#
        ),
        format!(r#"{head}"a dog"}}],"frames":121,"seed":4,"watermark":false}}"#),
        format!(
            r#"{head}"a bird"}},{{"type":"image_url","image_url":{{"url":"https://x/a.png"}},"role":"first_frame"}},{{"type":"audio_url","audio_url":{{"url":"https://x/a.mp3"}}}}],"duration":-1}}"#
        ),
        format!(
            r#"{head}"a fox"}},{{"type":"video_url","video_url":{{"url":"https://x/v.mp4"}},"role":"reference_video"}}],"duration":5}}"#
        ),
        format!(
            r#"{head}"{}"}}],"resolution":"480p"}}"#,
            "long ".repeat(20_000)
        ),
        "not a request".to_string(),
    ]
}

fn a_store_of_the_previous_version_lists_its_tasks_as_before(b: &Backend) {
    let s = b.open();
    for (i, request) in requests_of_every_shape().iter().enumerate() {
        for copy in 0..3i64 {
            let id = format!("v{i}-{copy}");
            s.begin_submission(&NewSubmission {
                local_id: &id,
                profile: "p",
                request_json: request,
                retry_of: None,
                now: 100 + 10 * i as i64 + copy,
                asset_files: None,
            })
            .expect("begin");
            s.submission_accepted(&id, &format!("cgt-{id}"), 200)
                .expect("accepted");
        }
    }
    let listed = s.list_rows(&TaskQuery::default()).expect("list");
    assert_eq!(listed.len(), 21);
    let followed = s.unfinished().expect("unfinished");
    assert_eq!(followed.len(), 21);
    // The facts each row stores are the ones its request gives: read again with none stored
    // (every request parsed), the rows are the same, field for field.
    b.raw_sql(
        "UPDATE tasks SET shape = NULL",
        "UPDATE tasks SET shape = NULL",
    );
    assert_eq!(s.list_rows(&TaskQuery::default()).expect("list"), listed);
    assert_eq!(s.rows_after(None).expect("rows"), listed);
    assert_eq!(s.unfinished().expect("unfinished"), followed);
    drop(s);
    // The store as the version before wrote it: no stored facts.
    let before = seedance_tui::store::schema::CURRENT - 1;
    b.raw_sql(
        &format!(
            "DROP INDEX tasks_unshaped; ALTER TABLE tasks DROP COLUMN shape; \
             PRAGMA user_version = {before};"
        ),
        &format!(
            "ALTER TABLE tasks DROP COLUMN shape; UPDATE seedance_schema SET version = {before};"
        ),
    );
    let s = b.open();
    assert_eq!(
        b.count("SELECT count(*) FROM tasks WHERE shape IS NULL"),
        0,
        "opening it stored every task's facts"
    );
    assert_eq!(
        b.count("SELECT count(*) FROM tasks WHERE shape = ''"),
        3,
        "but a reference video's, whose length this process learns"
    );
    assert_eq!(s.list_rows(&TaskQuery::default()).expect("list"), listed);
    assert_eq!(s.rows_after(None).expect("rows"), listed);
    assert_eq!(s.unfinished().expect("unfinished"), followed);
    let (changed, _) = s.changed_after_seq(0).expect("changes");
    let mut changed: Vec<_> = changed
        .into_iter()
        .map(|r| (r.local_id.clone(), r.request_facts))
        .collect();
    changed.sort_by(|a, b| a.0.cmp(&b.0));
    let mut expected: Vec<_> = followed
        .iter()
        .map(|r| (r.local_id.clone(), r.request_facts.clone()))
        .collect();
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(changed, expected, "the change feed reads the same facts");
    // A row another tool writes without them is read from its request, and filled on the
    // next open.
    b.raw_sql(
        "UPDATE tasks SET shape = NULL WHERE local_id = 'v1-0'",
        "UPDATE tasks SET shape = NULL WHERE local_id = 'v1-0'",
    );
    assert_eq!(s.list_rows(&TaskQuery::default()).expect("list"), listed);
    drop(b.open());
    assert_eq!(b.count("SELECT count(*) FROM tasks WHERE shape IS NULL"), 0);
}

on_both_backends!(
    a_store_of_the_previous_version_lists_its_tasks_as_before,
    a_store_written_by_a_newer_build_is_refused,
    someone_elses_database_is_refused_untouched,
    submission_life_cycle_with_history_files_and_lineage,
    a_poll_answer_is_merged_into_the_row,
    lookups_lists_and_changes,
    drafts_and_templates,
    change_counter_sees_other_connections,
    two_processes_share_one_store,
    delete_local_removes_only_rows_that_never_reached_the_server,
    every_column_reaches_its_own_field,
    the_rows_behind_a_first_page_are_the_rest_of_the_listing_in_its_order,
);
