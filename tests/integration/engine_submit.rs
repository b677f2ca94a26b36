//! A create the server accepted is recorded even when the store is busy at that moment (another
//! process holding a write transaction longer than the busy timeout): the row gets its task id,
//! so the paid task is polled and saved, and nothing tells the user it was not sent.

use crate::support::engine::*;
use seedance_tui::api::{ApiKey, ArkClient, ClientConfig, TaskStatus};
use seedance_tui::engine::Engine;
use seedance_tui::engine::SubmitError;
use seedance_tui::sim::{Fault, FaultKind, FaultRoute};
use seedance_tui::store::TaskRecord;
use seedance_tui::store::{Phase, Store, TaskQuery};
use std::time::Duration;

/// Submit a small request and, while its POST is in flight (its `submitting` row is written),
/// hold the store's write lock from another connection past the busy timeout (5 s) or until the
/// submission ends; returns how the submission ended.
async fn submit_while_the_store_is_locked(
    engine: &Engine,
    path: &std::path::Path,
    prompt: &str,
) -> Result<TaskRecord, SubmitError> {
    let body = serde_json::json!({
        "model": "doubao-seedance-2-0-fast-260128",
        "content": [{"type": "text", "text": format!("[[sim:succeed]] {prompt}")}],
        "ratio": "16:9", "duration": 4, "resolution": "720p"
    })
    .to_string();
    let submitting = {
        let engine = engine.clone();
        tokio::spawn(async move { engine.submit(body, None).await })
    };
    // Wait (bounded) for the `submitting` row: the POST is now in flight.
    let watcher = Store::open(path).expect("store");
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
    let locker = rusqlite::Connection::open(path).expect("open");
    locker.execute_batch("BEGIN EXCLUSIVE").expect("lock");
    let held = tokio::time::Instant::now();
    while !submitting.is_finished() && held.elapsed() < Duration::from_secs(7) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    locker.execute_batch("COMMIT").expect("unlock");
    tokio::time::timeout(Duration::from_secs(60), submitting)
        .await
        .expect("the submission ends")
        .expect("join")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accepted_create_is_recorded_after_the_store_was_busy() {
    let (sim, dir, engine) = sim_and_engine(fast()).await;
    let path = dir.path().join("store.sqlite3");
    // The create takes a moment, so the store can be locked while it is on the wire.
    sim.inject(Fault {
        route: FaultRoute::Create,
        kind: FaultKind::Delay(Duration::from_millis(800)),
        times: 1,
    });
    let submitting = submit_while_the_store_is_locked(&engine, &path, "busy store").await;
    let record = submitting.expect("the accepted create is recorded, not reported as an error");
    assert!(record.task_id.is_some(), "the server id is stored");
    assert_eq!(record.phase, Phase::Remote(TaskStatus::Queued));
    assert_eq!(sim.stats().creates, 1, "sent once");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_with_an_unknown_outcome_stays_unknown_when_the_store_is_busy() {
    let sim = start_sim(fast()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("store.sqlite3");
    let mut cfg = ClientConfig::new(sim.base_url(), Some(ApiKey::new(KEY)));
    cfg.timeout = Duration::from_millis(400);
    let engine = Engine::new(
        ArkClient::new(cfg).expect("client"),
        Store::open(&path).expect("store"),
        "test",
    );
    // The server is slower than the client's timeout: the create's outcome is unknown.
    sim.inject(Fault {
        route: FaultRoute::Create,
        kind: FaultKind::Delay(Duration::from_secs(2)),
        times: 1,
    });
    let submitting =
        submit_while_the_store_is_locked(&engine, &path, "busy store, slow server").await;
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
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_file_is_recorded_after_the_store_was_busy() {
    use seedance_tui::engine::task_results::save_results_with;
    let (sim, dir, engine) = sim_and_engine(fast()).await;
    let path = dir.path().join("store.sqlite3");
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
    // When the whole video has arrived, another process takes the write lock for 6 s.
    let (locked_tx, locked_rx) = std::sync::mpsc::channel::<()>();
    let mut locked = false;
    let lock_path = path.clone();
    let mut progress = move |_kind, done: u64, total: Option<u64>| {
        if !locked && Some(done) == total {
            locked = true;
            let (p, tx) = (lock_path.clone(), locked_tx.clone());
            std::thread::spawn(move || {
                let c = rusqlite::Connection::open(&p).expect("open");
                c.execute_batch("BEGIN EXCLUSIVE").expect("lock");
                let _ = tx.send(());
                std::thread::sleep(Duration::from_secs(6));
                c.execute_batch("COMMIT").expect("unlock");
            });
            // Go on only once the lock is held.
            let _ = locked_rx.recv_timeout(Duration::from_secs(10));
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
