//! `store copy` from the real binary: a SQLite store into a real PostgreSQL server and back,
//! shown without the password; running it again copies nothing new; a source that does not
//! exist is refused without creating anything.

use crate::support::postgres::TestDb;
use crate::support::process::{bin, run};
use seedance_tui::store::{NewSubmission, Store};

fn submit(s: &Store, id: &str, prompt: &str, now: i64) {
    s.begin_submission(&NewSubmission {
        local_id: id,
        profile: "p",
        request_json:
            &serde_json::json!({"model": "m", "content": [{"type": "text", "text": prompt}]})
                .to_string(),
        retry_of: None,
        asset_files: None,
        now,
    })
    .expect("submit");
}

#[test]
fn a_sqlite_store_moves_to_postgres_and_back_once() {
    let Some(db) = TestDb::create("cli_store_copy") else {
        return;
    };
    let password = std::env::var("PGPASSWORD").expect("the fixture checked it");
    let dir = tempfile::tempdir().expect("tempdir");
    let from = dir.path().join("mine.sqlite3");
    {
        let s = Store::open(&from).expect("open");
        submit(&s, "l-gulls", "gulls over a harbour", 100);
        s.submission_accepted("l-gulls", "cgt-gulls", 101)
            .expect("accepted");
        submit(&s, "l-tow", "a tugboat at dawn", 200);
        s.save_draft("last", r#"{"prompt":"draft"}"#, 300)
            .expect("draft");
    }
    let sqlite = format!("sqlite:{}", from.display());
    let copy = |from: &str, to: &str| {
        run(bin(dir.path()).args(["store", "copy", "--from", from, "--to", to]))
    };

    let (code, out, err) = copy(&sqlite, &db.url);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("copied 2 tasks ("), "{out}");
    assert!(out.contains("1 draft,"), "{out}");
    assert!(
        out.contains(&format!("to {}", db.url)),
        "shown as given: {out}"
    );
    assert!(!out.contains(&password) && !err.contains(&password));

    let (code, out, err) = copy(&sqlite, &db.url);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.starts_with("copied 0 tasks (0 status changes), 0 drafts"),
        "{out}"
    );
    assert!(
        out.contains("2 tasks were already there, left unchanged"),
        "{out}"
    );

    let back = dir.path().join("back.sqlite3");
    let (code, out, err) = copy(&db.url, back.to_str().expect("utf8"));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("copied 2 tasks ("), "{out}");
    let s = Store::open(&back).expect("open the copy");
    let gulls = s.find("cgt-gulls").expect("the accepted task");
    assert_eq!(gulls.local_id, "l-gulls");
    assert!(gulls.request_json.contains("gulls over a harbour"));
    assert_eq!(
        s.history("l-gulls").expect("history").len(),
        Store::open(&from)
            .expect("open")
            .history("l-gulls")
            .expect("history")
            .len()
    );
    assert_eq!(
        s.find("l-tow").expect("the other").phase.as_str(),
        "submitting"
    );
    assert_eq!(s.drafts().expect("drafts").len(), 1);
}

#[test]
fn a_missing_source_is_refused_and_nothing_is_created() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("nope.sqlite3");
    let to = dir.path().join("to.sqlite3");
    let (code, out, err) = run(bin(dir.path()).args([
        "store",
        "copy",
        "--from",
        missing.to_str().expect("utf8"),
        "--to",
        to.to_str().expect("utf8"),
    ]));
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("there is no store at"), "{err}");
    assert!(!missing.exists() && !to.exists());
    let (code, _, err) =
        run(bin(dir.path()).args(["store", "copy", "--from", "a.db", "--to", "sqlite:a.db"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("the same store"), "{err}");
}
