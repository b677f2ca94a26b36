//! Copying between a SQLite store and a real PostgreSQL server, both ways: every column of
//! every copied table arrives, and a second copy adds nothing.

use super::*;
use crate::store::pg::target::PgTarget;
use crate::store::pg::test_db::TestDb;
use crate::store::{FileKind, NewPending, NewSubmission};

fn sqlite(dir: &tempfile::TempDir, name: &str) -> Store {
    Store::open(&dir.path().join(name)).expect("open sqlite")
}

fn postgres(db: &TestDb) -> Store {
    Store::open_postgres(&PgTarget::parse(&db.url).expect("url")).expect("open postgres")
}

fn request(prompt: &str) -> String {
    serde_json::json!({"model": "m", "content": [{"type": "text", "text": prompt}]}).to_string()
}

/// A store with what a user keeps: finished and failed tasks with their history, a retry, a
/// request too big to bind whole, inlined files' names, saved files, a batch line removed from
/// the queue and one still pending, drafts and templates.
fn fill(s: &Store) {
    let sub = |id: &str, body: &str, retry_of: Option<&str>, files: Option<&str>, now| {
        s.begin_submission(&NewSubmission {
            local_id: id,
            profile: "p",
            request_json: body,
            retry_of,
            asset_files: files,
            now,
        })
        .expect("submit");
    };
    sub(
        "a",
        &request("gulls over a harbour"),
        None,
        Some(r#"{"0011223344556677":"harbour.png"}"#),
        100,
    );
    s.submission_accepted("a", "cgt-a", 101).expect("accepted");
    s.add_note("a", "seen by the relay", 102).expect("note");
    s.set_file("a", FileKind::Video, std::path::Path::new("/v/a.mp4"), 103)
        .expect("file");
    sub(
        "b",
        &request(&"lighthouse ".repeat(20_000)),
        None,
        None,
        200,
    );
    s.submission_rejected("b", "InvalidParameter", "too long", 201)
        .expect("rejected");
    sub("c", &request("gulls over a harbour"), Some("a"), None, 300);
    s.submission_unknown("c", "connection reset", 301)
        .expect("unknown");
    let pending = |id: &'static str, key: &'static str| NewPending {
        local_id: id,
        profile: "p",
        request_json: r#"{"model":"m","content":[{"type":"text","text":"queued"}]}"#,
        key: Some(key),
        label: Some("line-1"),
        retry_of: None,
        max_in_flight: Some(2),
        asset_files: None,
    };
    s.enqueue(&[pending("q1", "k1"), pending("q2", "k2")], 400)
        .expect("enqueue");
    s.queue_remove(&["q2".to_string()]).expect("remove");
    s.save_draft("last", r#"{"prompt":"draft"}"#, 500)
        .expect("draft");
    s.save_template("ad", r#"{"prompt":"{{x}}"}"#, 501)
        .expect("template");
}

/// Every copied table, every column but the ones each store assigns (`rowid`, `seq`), as
/// text, in a fixed order.
fn dump(s: &Store) -> Vec<String> {
    let tables = [
        concat!("SELECT ", task_columns!(), " FROM tasks ORDER BY local_id"),
        "SELECT local_id, status, at, note FROM status_history ORDER BY local_id, rowid",
        "SELECT local_id, length(body) FROM task_requests ORDER BY local_id",
        "SELECT name, json, updated_at FROM drafts ORDER BY name",
        "SELECT name, json, updated_at FROM templates ORDER BY name",
        "SELECT profile, queue_key, removed_at FROM queue_removed ORDER BY profile, queue_key",
    ];
    let mut out = Vec::new();
    for sql in tables {
        let rows =
            s.db.query_all(sql, args![], |r| {
                let mut cells = Vec::new();
                let mut i = 0;
                while let Ok(c) = Cell::read(r, i) {
                    cells.push(match c {
                        Cell::Text(t) if t.len() > 100 => format!("{} bytes", t.len()),
                        c => format!("{c:?}"),
                    });
                    i += 1;
                }
                Ok(cells.join(" | "))
            })
            .expect("dump");
        out.push(format!("{sql}: {} rows", rows.len()));
        out.extend(rows);
    }
    out
}

#[test]
fn a_sqlite_store_copies_into_postgres_and_back_and_a_second_copy_adds_nothing() {
    let Some(db) = TestDb::create("copy_both_ways") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let from = sqlite(&dir, "from.sqlite3");
    fill(&from);
    let want = dump(&from);
    assert!(want.iter().any(|l| l.contains("harbour.png")), "{want:#?}");
    assert!(
        want.iter().any(|l| l.contains("220")),
        "the big request: {want:#?}"
    );

    let pg = postgres(&db);
    let report = from.copy_into(&pg).expect("copy to postgres");
    assert_eq!(
        report,
        CopyReport {
            tasks: 4,
            history: report.history,
            drafts: 1,
            templates: 1,
            removed_lines: 1,
            tasks_there: 0,
        }
    );
    let history_rows = want
        .iter()
        .find(|l| l.starts_with("SELECT local_id, status, at"))
        .and_then(|l| l.rsplit(": ").next())
        .and_then(|n| n.trim_end_matches(" rows").parse::<u64>().ok())
        .expect("history count");
    assert!(history_rows >= 7, "{want:#?}");
    assert_eq!(report.history, history_rows);
    assert_eq!(dump(&pg), want, "every column of every table arrives");
    // The copied store works as a store: the big request reads back whole, a retry chain holds.
    assert_eq!(
        pg.read_request("b").expect("read").map(|b| b.len()),
        from.read_request("b").expect("read").map(|b| b.len())
    );
    assert!(pg.find("cgt-a").is_ok());

    let again = from.copy_into(&pg).expect("copy again");
    assert_eq!(
        again,
        CopyReport {
            tasks_there: 4,
            ..CopyReport::default()
        },
        "a second copy adds nothing"
    );
    assert_eq!(dump(&pg), want);

    // And back, into a SQLite store that already has one of the tasks under its own history.
    let back = sqlite(&dir, "back.sqlite3");
    back.begin_submission(&NewSubmission {
        local_id: "a",
        profile: "other",
        request_json: &request("mine"),
        retry_of: None,
        asset_files: None,
        now: 7,
    })
    .expect("a task of its own");
    let mine = dump(&back);
    let report = pg.copy_into(&back).expect("copy to sqlite");
    assert_eq!((report.tasks, report.tasks_there), (3, 1));
    let got = dump(&back);
    let task_a = |d: &[String]| {
        d.iter()
            .filter(|l| l.starts_with("Text(\"a\")"))
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(
        task_a(&got),
        task_a(&mine),
        "a task already there is left as it is"
    );
    let others = |d: &[String]| {
        d.iter()
            .filter(|l| !l.starts_with("Text(\"a\")") && !l.starts_with("SELECT"))
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(others(&got), others(&want), "the rest arrives whole");
    assert_eq!(
        pg.copy_into(&back).expect("again"),
        CopyReport {
            tasks_there: 4,
            ..CopyReport::default()
        }
    );
}
