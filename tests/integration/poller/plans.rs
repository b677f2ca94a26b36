//! Polling plans, counted at the simulator: through a relay (one GET per poll), a task whose
//! kind takes an hour is asked only at the sparse check before its window, and that check is
//! what sees a failure early in such a task.

use crate::support::engine::{KEY, start_sim};
use seedance_tui::api::{ApiKey, ArkClient, ClientConfig, Task};
use seedance_tui::engine::{Engine, now};
use seedance_tui::runtime::poller::{self, ListMode, PollerCmd, PollerConfig, PollerEvent};
use seedance_tui::sim::{SimConfig, SimHandle};
use seedance_tui::store::{NewSubmission, Store, TaskRecord};
use std::path::Path;
use std::time::{Duration, Instant};

/// The interval of these tests: the sparse check before a window is 6 of them.
const INTERVAL: Duration = Duration::from_millis(500);
const SPARSE: Duration = Duration::from_secs(3);

fn body(prompt: &str) -> String {
    format!(
        r#"{{"model":"doubao-seedance-2-0-fast-260128","content":[{{"type":"text","text":"{prompt}"}}],"resolution":"720p","duration":5}}"#
    )
}

/// A relay engine whose store remembers `n` tasks of the tests' shape that each took an hour.
fn relay_engine_with_hour_long_history(sim: &SimHandle, path: &Path, n: usize) -> Engine {
    let store = Store::open(path).expect("store");
    let done_at = now() - 60;
    for i in 0..n {
        let local_id = format!("past-{i}");
        let task_id = format!("cgt-20260101000000-past{i}");
        let request = body("an hour-long task");
        store
            .begin_submission(&NewSubmission {
                local_id: &local_id,
                profile: "test",
                request_json: &request,
                retry_of: None,
                now: done_at - 3600,
                asset_files: None,
            })
            .expect("row");
        store
            .submission_accepted(&local_id, &task_id, done_at - 3600)
            .expect("accepted");
        let raw = format!(
            r#"{{"id":"{task_id}","model":"doubao-seedance-2-0-fast-260128","status":"succeeded","content":{{"video_url":"https://sim.example/v.mp4"}},"created_at":{},"updated_at":{done_at}}}"#,
            done_at - 3600
        );
        let task = Task::from_json(&raw).expect("task");
        store
            .record_poll(&local_id, &task, &raw, done_at)
            .expect("finished");
    }
    let client = ArkClient::new(ClientConfig::new(
        sim.relay_base_url(),
        Some(ApiKey::new(KEY)),
    ))
    .expect("client");
    Engine::new(client, store, "test")
}

fn relay_poller(
    engine: &Engine,
) -> (
    tokio::sync::mpsc::UnboundedSender<PollerCmd>,
    tokio::sync::mpsc::UnboundedReceiver<PollerEvent>,
) {
    let (tx, events) = tokio::sync::mpsc::unbounded_channel();
    let cfg = PollerConfig {
        interval: INTERVAL,
        requests_per_second: 50.0,
        leader: true,
        list: ListMode::for_profile(engine.client.base_url(), true),
        ..PollerConfig::default()
    };
    (poller::spawn(engine.clone(), cfg, tx), events)
}

/// The next answer about `id`, within a deadline.
async fn next_answer(
    events: &mut tokio::sync::mpsc::UnboundedReceiver<PollerEvent>,
    id: &str,
) -> TaskRecord {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Some(PollerEvent::Updated { record, .. })) if record.local_id == id => {
                return *record;
            }
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => panic!("no answer about {id} in time"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_a_relay_an_hour_long_task_is_asked_only_at_the_sparse_check() {
    // Real speed: the held task stays queued for as long as the test looks.
    let sim = start_sim(SimConfig {
        speed: 1.0,
        fail_rate: 0.0,
        ..SimConfig::default()
    })
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = relay_engine_with_hour_long_history(&sim, &dir.path().join("s.db"), 8);
    let (poller, mut events) = relay_poller(&engine);
    let task = engine
        .submit(body("a long one [[sim:hold]]"), None)
        .await
        .expect("submit");
    let start = Instant::now();
    poller
        .send(PollerCmd::Track(Box::new(task.clone())))
        .expect("track");
    let mut answers = Vec::new();
    for _ in 0..3 {
        assert_eq!(
            next_answer(&mut events, &task.local_id)
                .await
                .phase
                .as_str(),
            "queued"
        );
        answers.push(start.elapsed());
    }
    // Every answer is one GET, and there were no others (a relay is never listed).
    let stats = sim.stats();
    assert_eq!(stats.gets, 3, "{stats:?}");
    assert_eq!(stats.lists, 0, "{stats:?}");
    // The simulator counts each of them as a GET of a task still queued.
    assert_eq!(stats.queued_gets, 3, "{stats:?}");
    // Polling at the interval would have taken 1.5 s for three answers; the sparse checks
    // take three of them (a slow machine only stretches this).
    assert!(
        answers[2] >= SPARSE * 3 - Duration::from_millis(300),
        "answers at {answers:?}: denser than the sparse check"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_early_in_an_hour_long_task_is_seen_by_the_sparse_check() {
    // At 100x the task fails 0.65-2.9 s after its creation (queue and run of 65-290 simulated
    // seconds): before the first sparse check, 3 s after it was tracked.
    let sim = start_sim(SimConfig {
        speed: 100.0,
        fail_rate: 0.0,
        ..SimConfig::default()
    })
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = relay_engine_with_hour_long_history(&sim, &dir.path().join("s.db"), 8);
    let (poller, mut events) = relay_poller(&engine);
    let task = engine
        .submit(body("doomed [[sim:fail]]"), None)
        .await
        .expect("submit");
    poller
        .send(PollerCmd::Track(Box::new(task.clone())))
        .expect("track");
    let seen = next_answer(&mut events, &task.local_id).await;
    assert_eq!(seen.phase.as_str(), "failed", "{seen:?}");
    // The first poll saw it: one GET, although history expected an hour.
    assert_eq!(sim.stats().gets, 1, "{:?}", sim.stats());
    // It had already failed: that GET was not one of a queued task.
    assert_eq!(sim.stats().queued_gets, 0, "{:?}", sim.stats());
}
