//! The task calls the other suites leave out, on both backends: reconciliation notes, adopted
//! and lost rows, the rows the poller follows, bodies, the download sweep and the listing lines;
//! checks inside the write (a cap, one retry per task) racing across connections.

use crate::store::test_backend::Backend;
use crate::store::{NewSubmission, Store, TaskQuery};

const BODY: &str = r#"{"model":"m","content":[{"type":"text","text":"a lighthouse"}]}"#;

fn submit(s: &Store, id: &str, now: i64) {
    s.begin_submission(&NewSubmission {
        local_id: id,
        profile: "p",
        request_json: BODY,
        retry_of: None,
        asset_files: Some(r#"{"abc":"a.png"}"#),
        now,
    })
    .expect("begin");
}

fn unknown_rows_take_notes_and_adoption(b: &Backend) {
    let s = b.open();
    submit(&s, "u1", 10);
    s.submission_unknown("u1", "timed out", 11)
        .expect("unknown");
    assert_eq!(
        s.submitting_before(100).expect("submitting"),
        Vec::<String>::new()
    );
    assert!(
        s.set_reconcile_note("u1", "Candidates", "two", 12)
            .expect("note")
    );
    assert!(
        !s.set_reconcile_note("u1", "Candidates", "two", 13)
            .expect("note"),
        "the same note again changes nothing"
    );
    let r = s.find("u1").expect("row");
    assert_eq!(
        (
            r.error_code.as_deref(),
            r.error_message.as_deref(),
            r.updated_at
        ),
        (Some("Candidates"), Some("two"), 12)
    );
    assert!(!s.has_task_id("cgt-u1").expect("has"));
    s.submission_adopted("u1", "cgt-u1", 14).expect("adopted");
    assert!(s.has_task_id("cgt-u1").expect("has"));
    assert_eq!(s.find("cgt-u1").expect("row").phase.as_str(), "queued");
    assert!(s.mark_lost("u1", "NotFound", "gone", 15).expect("lost"));
    assert!(!s.mark_lost("u1", "NotFound", "gone", 16).expect("settled"));
    assert_eq!(s.find("u1").expect("row").phase.as_str(), "lost");
}

fn followed_rows_carry_their_requests_facts(b: &Backend) {
    let s = b.open();
    submit(&s, "f1", 10);
    submit(&s, "f2", 11);
    assert_eq!(s.submitting_before(11).expect("submitting"), ["f1"]);
    s.submission_accepted("f1", "cgt-f1", 12).expect("accepted");
    let followed = s.find_followed("f1").expect("followed");
    assert_eq!(followed.task_id.as_deref(), Some("cgt-f1"));
    assert!(followed.request_facts.is_some(), "the facts are read");
    let unfinished = s.unfinished().expect("unfinished");
    assert_eq!(unfinished.len(), 1);
    assert_eq!(unfinished[0].local_id, "f1");
    assert!(unfinished[0].request_facts.is_some());
    let mut listed = Vec::new();
    s.each_listed(&TaskQuery::default(), |r, big| {
        listed.push((r.local_id, big));
        true
    })
    .expect("listed");
    assert_eq!(listed, [("f2".to_string(), None), ("f1".to_string(), None)]);
    let mut lines = Vec::new();
    s.each_line(
        &TaskQuery {
            statuses: vec!["queued".into(), "running".into()],
            ..TaskQuery::default()
        },
        |l| {
            lines.push(l.local_id);
            true
        },
    )
    .expect("lines");
    assert_eq!(lines, ["f1"]);
}

fn bodies_files_and_the_download_sweep(b: &Backend) {
    let s = b.open();
    submit(&s, "b1", 10);
    s.submission_accepted("b1", "cgt-b1", 11).expect("accepted");
    let raw = r#"{"id":"cgt-b1","status":"succeeded","content":{"video_url":"https://v/1.mp4"}}"#;
    let task = crate::api::types::Task::from_json(raw).expect("task");
    s.record_poll("b1", &task, raw, 12).expect("poll");
    assert_eq!(s.read_request("b1").expect("read").as_deref(), Some(BODY));
    let bodies = s.bodies("b1").expect("bodies").expect("a row");
    assert_eq!(bodies.request_json, BODY);
    assert_eq!(bodies.response_json.as_deref(), Some(raw));
    assert_eq!(
        s.asset_files("b1").expect("names").as_deref(),
        Some(r#"{"abc":"a.png"}"#)
    );
    assert_eq!(
        s.find_without_request("b1").expect("row").request_json,
        "",
        "no request read"
    );
    assert_eq!(
        s.unsaved_results(0).expect("sweep"),
        [("b1".to_string(), 10)]
    );
    s.set_file(
        "b1",
        crate::store::FileKind::Video,
        std::path::Path::new("/v.mp4"),
        13,
    )
    .expect("file");
    assert!(s.unsaved_results(0).expect("sweep").is_empty());
    s.add_note("b1", "odd", 14).expect("note");
    s.add_note("b1", "odd", 15).expect("the same note");
    let notes = s
        .history("b1")
        .expect("history")
        .into_iter()
        .filter(|h| h.note.as_deref() == Some("odd"))
        .count();
    assert_eq!(notes, 1, "a note is kept once");
}

/// `n` connections, each running `write(i, its store)` at once (after a barrier); how many
/// returned true.
fn race(b: &Backend, n: usize, write: impl Fn(usize, Store) -> bool + Sync) -> usize {
    // Opened first: a racer that failed to open would leave the others at the barrier.
    let stores: Vec<Store> = (0..n).map(|_| b.open()).collect();
    let barrier = std::sync::Barrier::new(n);
    std::thread::scope(|scope| {
        let racers: Vec<_> = stores
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                let (barrier, write) = (&barrier, &write);
                scope.spawn(move || {
                    barrier.wait();
                    write(i, s)
                })
            })
            .collect();
        racers
            .into_iter()
            .map(|h| h.join().expect("racer"))
            .filter(|won| *won)
            .count()
    })
}

/// A check asked inside the write (`begin_submission_if`, as the budget and the in-flight cap
/// are) holds for every connection at once: six racing for three places get three.
fn a_check_inside_the_write_holds_across_connections(b: &Backend) {
    let won = race(b, 6, |i, s| {
        let id = format!("r{i}");
        let sub = NewSubmission {
            local_id: &id,
            profile: "p",
            request_json: BODY,
            retry_of: None,
            asset_files: None,
            now: 10,
        };
        s.begin_submission_if(&sub, false, |s| {
            Ok(if s.in_flight_count("p", 0)? < 3 {
                Ok(())
            } else {
                Err(())
            })
        })
        .expect("no store error")
        .is_ok()
    });
    assert_eq!(won, 3, "three places, three winners");
    assert_eq!(b.open().in_flight_count("p", 0).expect("count"), 3);
}

/// A retry is written in the transaction that checks the task has none yet: four connections
/// retrying one failed task at once, one wins (the rest of the rule, and the engine's side:
/// `tests/integration/retry_chain.rs`).
fn two_stores_on_one_file_cannot_both_retry_a_task(b: &Backend) {
    let s = b.open();
    submit(&s, "l1", 100);
    s.submission_accepted("l1", "cgt-l1", 100)
        .expect("accepted");
    let raw = r#"{"id":"cgt-l1","status":"failed"}"#;
    let task = crate::api::types::Task::from_json(raw).expect("task");
    s.record_poll("l1", &task, raw, 101).expect("poll");
    let won = race(b, 4, |i, s| {
        let id = format!("r{i}");
        s.begin_retry(&NewSubmission {
            local_id: &id,
            profile: "p",
            request_json: BODY,
            retry_of: Some("l1"),
            asset_files: None,
            now: 100,
        })
        .is_ok()
    });
    assert_eq!(won, 1, "exactly one process writes the retry");
}

on_both_backends!(
    a_check_inside_the_write_holds_across_connections,
    two_stores_on_one_file_cannot_both_retry_a_task,
    unknown_rows_take_notes_and_adoption,
    followed_rows_carry_their_requests_facts,
    bodies_files_and_the_download_sweep,
);
