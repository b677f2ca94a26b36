//! Create requests kept apart from the task rows (`task_requests`): a task row holds the
//! prompt's preview, so the status updates and the change-sequence trigger that rewrite it never
//! copy a big request again; the request is written once, read whole where it is sent or
//! printed, and moved out of `tasks` by the migration from schema 7.

use crate::support::backend::{Backend, on_both_backends};
use seedance_tui::api::types::Task;
use seedance_tui::store::{NewPending, NewSubmission, Spec, Store, TaskFacts, TaskQuery, schema};
use std::path::Path;

/// The most of a prompt a task row keeps (`store::PROMPT_COLUMN_BYTES`).
const PROMPT_COLUMN_BYTES: usize = 16 << 10;

/// A create request whose prompt is `prompt`, as serde_json writes it.
fn request(prompt: &str) -> String {
    serde_json::json!({
        "model": "doubao-seedance-2-0-fast-260128",
        "content": [{"type": "text", "text": prompt}],
        "ratio": "16:9",
        "duration": 5
    })
    .to_string()
}

/// About `bytes` of prompt, not all ASCII (a preview must cut at a character boundary).
fn long_prompt(bytes: usize) -> String {
    "a lighthouse at dusk, waves — ".repeat(bytes / 32 + 1)
}

fn raw(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).expect("open")
}

/// Bytes in the pages of table `name` (its overflow pages included).
fn table_bytes(path: &Path, name: &str) -> i64 {
    raw(path)
        .query_row(
            "SELECT COALESCE(sum(pgsize), 0) FROM dbstat WHERE name = ?1",
            [name],
            |r| r.get(0),
        )
        .expect("dbstat")
}

fn wal_bytes(path: &Path) -> u64 {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(wal).map(|m| m.len()).unwrap_or(0)
}

#[test]
fn a_big_request_is_written_once_and_status_updates_do_not_copy_it_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.sqlite3");
    let s = Store::open(&path).expect("open");
    let prompt = long_prompt(1 << 20);
    let body = request(&prompt);
    s.enqueue(
        &[NewPending {
            local_id: "big",
            profile: "p",
            request_json: &body,
            key: Some("k"),
            label: None,
            retry_of: None,
            max_in_flight: None,
            asset_files: None,
        }],
        100,
    )
    .expect("enqueue");
    // The task row keeps the preview, not the 1 MB request.
    assert!(
        table_bytes(&path, "tasks") < 64 << 10,
        "the tasks table holds {} bytes",
        table_bytes(&path, "tasks")
    );
    let written = wal_bytes(&path);
    assert!(
        written > 1 << 20,
        "the request is in the log once: {written}"
    );

    // Accepted, polled twice: three row updates, each also bumping the sequence.
    s.submission_accepted("big", "cgt-big", 102)
        .expect("accepted");
    for (status, at) in [("running", 103), ("succeeded", 104)] {
        let raw = format!(r#"{{"id":"cgt-big","status":"{status}"}}"#);
        let task = Task::from_json(&raw).expect("task");
        s.record_poll("big", &task, &raw, at).expect("poll");
    }
    let grown = wal_bytes(&path).saturating_sub(written);
    assert!(
        grown < 256 << 10,
        "three updates wrote {grown} bytes to the log: the request was copied again"
    );

    let r = s.find("big").expect("found");
    assert_eq!(r.request_json, body, "the whole request is kept");
    assert!(r.prompt.len() <= PROMPT_COLUMN_BYTES && prompt.starts_with(&r.prompt));
    assert_eq!(r.phase.as_str(), "succeeded");
}

fn a_request_is_read_whole_and_goes_with_its_task(b: &Backend) {
    let s = b.open();
    let (small, big) = (request("apple tea"), request(&long_prompt(300 << 10)));
    for (id, body) in [("small", &small), ("big", &big)] {
        s.begin_submission(&NewSubmission {
            local_id: id,
            profile: "p",
            request_json: body,
            retry_of: None,
            now: 100,
            asset_files: None,
        })
        .expect("begin");
    }
    assert_eq!(
        s.read_request("small").expect("read").as_ref(),
        Some(&small)
    );
    assert_eq!(s.read_request("big").expect("read").as_ref(), Some(&big));
    assert_eq!(s.read_request("none").expect("read"), None);
    assert_eq!(s.find("big").expect("found").request_json, big);
    // A refused task removed from the store takes its request along.
    s.submission_rejected("big", "InvalidParameter", "no", 101)
        .expect("rejected");
    assert_eq!(s.delete_local(&["big".into()]).expect("delete"), ["big"]);
    assert_eq!(b.count("SELECT count(*) FROM task_requests"), 1);
    assert_eq!(s.read_request("big").expect("read"), None);
}

fn ls_json_writes_a_big_request_whole_and_the_prompt_as_its_preview(b: &Backend) {
    let s = b.open();
    // Bigger than what a listing reads inline, with bytes the sanitizer must escape.
    let prompt = format!("{}\u{1b}[2J\u{202e} end", long_prompt(200 << 10));
    let big = request(&prompt);
    for (id, body, at) in [("a", request("tea"), 100), ("b", big.clone(), 101)] {
        s.begin_submission(&NewSubmission {
            local_id: id,
            profile: "p",
            request_json: &body,
            retry_of: None,
            now: at,
            asset_files: None,
        })
        .expect("begin");
    }
    let mut out = Vec::new();
    seedance_tui::cli::query::write_json_rows(&s, &TaskQuery::default(), false, &mut out)
        .expect("rows");
    let text = String::from_utf8(out).expect("utf8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "one line a task");
    for (line, id) in lines.iter().zip(["b", "a"]) {
        // The same bytes as the value path, sanitized.
        let record = s.find(id).expect("found");
        let expected =
            seedance_tui::sanitize::json(&seedance_tui::cli::task_json::record_json(&record));
        assert!(*line == expected, "row {id} differs from the value path");
    }
    let row: serde_json::Value = serde_json::from_str(lines[0]).expect("json");
    let shown = row["prompt"].as_str().expect("prompt");
    assert!(shown.len() <= PROMPT_COLUMN_BYTES && prompt.starts_with(shown));
    assert_eq!(row["request"]["content"][0]["text"], prompt.as_str());
    assert!(!lines[0].contains('\u{1b}') && lines[0].contains("\\u001b[2J"));
    // As one array, too.
    let mut out = Vec::new();
    seedance_tui::cli::query::write_json_rows(&s, &TaskQuery::default(), true, &mut out)
        .expect("rows");
    let all: serde_json::Value = serde_json::from_slice(&out).expect("an array");
    assert_eq!(all[0], row);
}

#[test]
fn a_store_at_schema_7_moves_its_requests_out_of_the_task_rows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("v7.sqlite3");
    let (small, big) = (request("tea ünï"), request(&long_prompt(300 << 10)));
    {
        let c = raw(&path);
        for step in &schema::MIGRATIONS[..7] {
            c.execute_batch(step).expect("schema 7");
        }
        for (id, body, prompt) in [("s1", &small, "tea ünï"), ("b1", &big, "a lighthouse")] {
            c.execute(
                "INSERT INTO tasks (local_id, task_id, status, prompt, request_json, created_at, \
                 updated_at) VALUES (?1, 'cgt-' || ?1, 'running', ?2, ?3, 1, 1)",
                [id, prompt, body.as_str()],
            )
            .expect("row");
        }
        c.pragma_update(None, "user_version", 7).expect("v7");
        c.pragma_update(None, "application_id", schema::APPLICATION_ID)
            .expect("ours");
    }
    let s = Store::open(&path).expect("migrates");
    let c = raw(&path);
    assert_eq!(schema::version(&c).expect("version"), schema::CURRENT);
    let columns: Vec<String> = c
        .prepare("SELECT name FROM pragma_table_info('tasks')")
        .and_then(|mut st| st.query_map([], |r| r.get(0))?.collect())
        .expect("columns");
    assert!(!columns.iter().any(|c| c == "request_json"), "{columns:?}");
    assert!(table_bytes(&path, "tasks") < 64 << 10);
    for (id, body) in [("s1", &small), ("b1", &big)] {
        assert_eq!(&s.find(id).expect("kept").request_json, body);
        assert_eq!(s.read_request(id).expect("read").as_ref(), Some(body));
    }
    assert_eq!(s.unfinished().expect("unfinished").len(), 2);
    // The change sequence still moves with every update.
    let seq = s.change_seq().expect("seq");
    let raw_task = r#"{"id":"cgt-b1","status":"succeeded"}"#;
    s.record_poll("b1", &Task::from_json(raw_task).expect("task"), raw_task, 2)
        .expect("poll");
    let (changed, _) = s.changed_after_seq(seq).expect("changes");
    assert_eq!(changed.len(), 1);
    // A changed row comes to follow: the migrated request's facts, not its body.
    assert!(changed[0].request_json.is_empty());
    assert_eq!(changed[0].spec(), s.find("b1").expect("b1").spec());
    assert_eq!(s.read_request("b1").expect("read"), Some(big.clone()));
    assert!(s.integrity_ok().expect("integrity"));
    // Still ours to open, and a newer schema still refused.
    drop(s);
    drop(Store::open(&path).expect("opens again"));
    c.pragma_update(None, "user_version", schema::CURRENT + 1)
        .expect("newer");
    assert!(Store::open(&path).is_err());
}

fn the_rows_a_poller_or_watcher_reads_carry_their_requests_facts_never_their_bodies(b: &Backend) {
    let s = b.open();
    let seq = s.change_seq().expect("seq");
    // One request under the 64 KiB read in place, one over it (read apart for its facts).
    let bodies = [
        ("small", request("a cat")),
        ("big", request(&long_prompt(1 << 20))),
    ];
    for (id, body) in &bodies {
        s.begin_submission(&NewSubmission {
            local_id: id,
            profile: "p",
            request_json: body,
            retry_of: None,
            asset_files: None,
            now: 100,
        })
        .expect("row");
        s.submission_accepted(id, &format!("cgt-{id}"), 101)
            .expect("accepted");
    }
    let (changed, _) = s.changed_after_seq(seq).expect("changes");
    let unfinished = s.unfinished().expect("unfinished");
    assert_eq!((changed.len(), unfinished.len()), (2, 2));
    for (id, body) in &bodies {
        let whole = s.find(id).expect("find");
        assert_eq!(&whole.request_json, body, "the stored request is whole");
        assert_ne!(*whole.spec(), Spec::default(), "{id} has facts to keep");
        let followed = s.find_followed(id).expect("followed");
        for r in [
            &followed,
            changed.iter().find(|r| r.local_id == *id).expect("changed"),
            unfinished
                .iter()
                .find(|r| r.local_id == *id)
                .expect("unfinished"),
        ] {
            assert!(r.request_json.is_empty(), "{id}: no body");
            assert_eq!(r.spec(), whole.spec(), "{id}: the same facts");
            assert_eq!(r.task_id.as_deref(), Some(format!("cgt-{id}").as_str()));
            assert_eq!(r.prompt, whole.prompt);
        }
    }
}

on_both_backends!(
    a_request_is_read_whole_and_goes_with_its_task,
    ls_json_writes_a_big_request_whole_and_the_prompt_as_its_preview,
    the_rows_a_poller_or_watcher_reads_carry_their_requests_facts_never_their_bodies,
);
