//! One ETA model, the poller's: it sends the face a copy whenever it learned something, from a
//! finish it saw itself or, as a follower that sends nothing, from a finish another process
//! recorded (the store watcher's rows reach it as `Track`).

use crate::support::engine::{fast, sim_and_engine};
use seedance_tui::api::TaskStatus;
use seedance_tui::engine::eta::EtaModel;
use seedance_tui::runtime::poller::{self, PollerCmd, PollerConfig, PollerEvent};
use seedance_tui::store::Phase;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;

const BODY: &str = r#"{"model":"doubao-seedance-2-0-fast-260128","content":[{"type":"text","text":"a fox [[sim:succeed]]"}],"resolution":"720p","duration":5}"#;

/// The next model the poller sends (a minute at most).
async fn next_model(events: &mut UnboundedReceiver<PollerEvent>) -> Arc<EtaModel> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Some(PollerEvent::Eta(model))) => return model,
            Ok(Some(_)) => {}
            Ok(None) => panic!("the poller stopped"),
            Err(_) => panic!("no model was sent"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_poller_sends_the_model_that_learned_the_finish_it_saw() {
    let (sim, _dir, engine) = sim_and_engine(fast()).await;
    let r = engine.submit(BODY.to_string(), None).await.expect("submit");
    let (tx, mut events) = tokio::sync::mpsc::unbounded_channel();
    let poller = poller::spawn(
        engine.clone(),
        PollerConfig {
            interval: Duration::from_millis(200),
            requests_per_second: 50.0,
            leader: true,
            ..PollerConfig::default()
        },
        tx,
    );
    poller
        .send(PollerCmd::Track(Box::new(r.clone())))
        .expect("track");
    // A fresh store: nothing is sent before the finish.
    let model = next_model(&mut events).await;
    assert_eq!(model.learned(), 1);
    assert!(sim.stats().gets >= 1, "{:?}", sim.stats());
    // The face predicts a task of the same kind from it.
    let mut next = r.clone();
    next.local_id = "next".into();
    next.created_at = seedance_tui::engine::now();
    assert!(model.estimate(&next, next.created_at).is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_learns_from_a_finish_another_process_recorded_and_asks_nothing() {
    let (sim, _dir, engine) = sim_and_engine(fast()).await;
    let r = engine.submit(BODY.to_string(), None).await.expect("submit");
    let (tx, mut events) = tokio::sync::mpsc::unbounded_channel();
    let poller = poller::spawn(
        engine.clone(),
        PollerConfig {
            interval: Duration::from_millis(200),
            requests_per_second: 50.0,
            leader: false,
            ..PollerConfig::default()
        },
        tx,
    );
    poller
        .send(PollerCmd::Track(Box::new(r.clone())))
        .expect("track");
    // The lease holder recorded the finish; the store watcher hands the row over.
    let mut done = r.clone();
    done.phase = Phase::Remote(TaskStatus::Succeeded);
    done.finished_at = Some(r.created_at + 40);
    poller
        .send(PollerCmd::Track(Box::new(done)))
        .expect("finished");
    let model = next_model(&mut events).await;
    assert_eq!(model.learned(), 1);
    let e = model
        .estimate(&r, r.created_at + 10)
        .expect("a task of the kind has an estimate");
    assert_eq!(e.remaining, 30);
    let stats = sim.stats();
    assert_eq!(
        (stats.gets, stats.lists),
        (0, 0),
        "a follower sends nothing"
    );
}
