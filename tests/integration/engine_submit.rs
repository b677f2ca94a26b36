//! A create the server accepted is recorded even when the store is busy at that moment (another
//! process holding a write transaction longer than the busy timeout): the row gets its task id,
//! so the paid task is polled and saved, and nothing tells the user it was not sent. Each test
//! runs on SQLite and on PostgreSQL: there the writes wait for the lock instead of failing busy,
//! and must end the same way.

use crate::support::backend::{Backend, on_both_backends};
use crate::support::engine::*;
use seedance_tui::api::{ApiKey, ArkClient, ClientConfig, TaskStatus};
use seedance_tui::engine::Engine;
use seedance_tui::engine::SubmitError;
use seedance_tui::sim::{Fault, FaultKind, FaultRoute};
use seedance_tui::store::TaskRecord;
use seedance_tui::store::{Phase, TaskQuery};
use std::time::Duration;

/// Submit a small request and, while its POST is in flight (its `submitting` row is written),
/// hold the store's write lock from another connection past SQLite's busy timeout (5 s) or until
/// the submission ends; returns how the submission ended.
async fn submit_while_the_store_is_locked(
    engine: &Engine,
    b: &Backend,
    prompt: &str,
) -> Result<TaskRecord, SubmitError> {
    let body = serde_json::json!({
        "model": "doubao-seedance-2-0-fast-260128",
        "content": [{"type": "text", "text": format!("[[sim:succeed]] {prompt}")}],
        "ratio": "16:9", "duration": 4, "resolution": "720p"
    })
    .to_string();
    // Opened first: on PostgreSQL an open takes longer than some creates stay in flight.
    let watcher = b.open();
    let submitting = {
        let engine = engine.clone();
        tokio::spawn(async move { engine.submit(body, None).await })
    };
    // Wait (bounded) for the `submitting` row: the POST is now in flight.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let q = TaskQuery {
            statuses: vec!["submitting".into()],
            ..TaskQuery::default()
        };
        if !watcher.list(&q).expect("list").is_empty() {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no submitting row");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Another process holds the write lock past the store's busy timeout (5 s).
    let locker = b.hold_write_lock(Duration::from_secs(7));
    let held = tokio::time::Instant::now();
    while !submitting.is_finished() && held.elapsed() < Duration::from_secs(7) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    locker.release();
    tokio::time::timeout(Duration::from_secs(60), submitting)
        .await
        .expect("the submission ends")
        .expect("join")
}

on_both_backends!(
    async an_accepted_create_is_recorded_after_the_store_was_busy,
    async a_create_with_an_unknown_outcome_stays_unknown_when_the_store_is_busy,
    async a_saved_file_is_recorded_after_the_store_was_busy,
);

async fn an_accepted_create_is_recorded_after_the_store_was_busy(b: &Backend) {
    let sim = start_sim(fast()).await;
    let engine = engine_on(&sim, b.open());
    // The create takes a moment, so the store can be locked while it is on the wire.
    sim.inject(Fault {
        route: FaultRoute::Create,
        kind: FaultKind::Delay(Duration::from_millis(800)),
        times: 1,
    });
    let submitting = submit_while_the_store_is_locked(&engine, b, "busy store").await;
    let record = submitting.expect("the accepted create is recorded, not reported as an error");
    assert!(record.task_id.is_some(), "the server id is stored");
    assert_eq!(record.phase, Phase::Remote(TaskStatus::Queued));
    assert_eq!(sim.stats().creates, 1, "sent once");
    sim.shutdown().await;
}

async fn a_create_with_an_unknown_outcome_stays_unknown_when_the_store_is_busy(b: &Backend) {
    let sim = start_sim(fast()).await;
    let mut cfg = ClientConfig::new(sim.base_url(), Some(ApiKey::new(KEY)));
    // Long enough for the lock to be taken while the create is in flight, under load too.
    cfg.timeout = Duration::from_secs(1);
    let engine = Engine::new(ArkClient::new(cfg).expect("client"), b.open(), "test");
    // The server is slower than the client's timeout: the create's outcome is unknown.
    sim.inject(Fault {
        route: FaultRoute::Create,
        kind: FaultKind::Delay(Duration::from_secs(2)),
        times: 1,
    });
    let submitting = submit_while_the_store_is_locked(&engine, b, "busy store, slow server").await;
    let err = submitting.expect_err("the create timed out");
    assert!(
        err.outcome_unknown(),
        "a create that may have reached the server is reported as unknown, never as a plain \
         store error a caller may answer by sending it again: {err:?}"
    );
    sim.shutdown().await;
}

/// A saved file whose path the store cannot record at once (busy past its timeout) is recorded
/// once the store is free, not reported as a failure (the next try would fetch it again into
/// a second file).
async fn a_saved_file_is_recorded_after_the_store_was_busy(b: &Backend) {
    use seedance_tui::engine::task_results::save_results_with;
    let sim = start_sim(fast()).await;
    let engine = engine_on(&sim, b.open());
    let dir = tempfile::tempdir().expect("tempdir");
    let mut body = serde_json::json!({
        "model": "doubao-seedance-2-0-fast-260128",
        "content": [{"type": "text", "text": "[[sim:succeed]] busy store on save"}],
        "ratio": "16:9", "duration": 4, "resolution": "720p"
    });
    body["return_last_frame"] = serde_json::json!(false);
    let mut rec = engine.submit(body.to_string(), None).await.expect("submit");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while rec.phase != Phase::Remote(TaskStatus::Succeeded) {
        assert!(tokio::time::Instant::now() < deadline, "not succeeded");
        rec = engine.poll(&rec).await.expect("poll").0;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let out = dir.path().join("out");
    // When the whole video has arrived, another process takes the write lock for 6 s (the
    // saving goes on once it is held).
    let mut locked = None;
    let mut progress = |_kind, done: u64, total: Option<u64>| {
        if locked.is_none() && Some(done) == total {
            locked = Some(b.hold_write_lock(Duration::from_secs(6)));
        }
    };
    let saved = save_results_with(&engine, &rec, &out, "{id}.mp4", false, &mut progress)
        .await
        .expect("the file is saved and recorded");
    let expected = out.join(format!("{}.mp4", rec.display_id()));
    assert_eq!(saved.files, vec![expected.clone()]);
    assert_eq!(
        saved.record.video_path.as_deref(),
        expected.to_str(),
        "the store knows the file"
    );
    assert_eq!(std::fs::read_dir(&out).expect("out").count(), 1, "one file");
    sim.shutdown().await;
}
