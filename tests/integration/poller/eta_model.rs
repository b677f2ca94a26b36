//! One ETA model, the poller's: it sends the face a copy whenever it learned something, from a
//! finish it saw itself or, as a follower that sends nothing, from a finish another process
//! recorded (the store watcher's rows reach it as `Track`). On SQLite and on PostgreSQL.

use crate::support::backend::{Backend, on_both_backends};
use crate::support::engine::{engine_on, fast, start_sim};
use seedance_tui::api::TaskStatus;
use seedance_tui::engine::eta::EtaModel;
use seedance_tui::runtime::poller::{self, PollerCmd, PollerConfig, PollerEvent};
use seedance_tui::store::Phase;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;

const BODY: &str = r#"{"model":"doubao-seedance-2-0-fast-260128","content":[{"type":"text","text":"a fox [[sim:succeed]]"}],"resolution":"720p","duration":5}"#;

/// The first model the poller sends that learned `n` tasks (a minute at most).
async fn model_of(events: &mut UnboundedReceiver<PollerEvent>, n: usize) -> Arc<EtaModel> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Some(PollerEvent::Eta(model))) => {
                assert!(model.learned() <= n, "learned {}", model.learned());
                if model.learned() == n {
                    return model;
                }
            }
            Ok(Some(_)) => {}
            Ok(None) => panic!("the poller stopped"),
            Err(_) => panic!("no model of {n} tasks was sent"),
        }
    }
}

/// Three tasks of one kind (a prediction needs three of a kind).
async fn submit_three(
    engine: &seedance_tui::engine::Engine,
) -> Vec<seedance_tui::store::TaskRecord> {
    let mut out = Vec::new();
    for _ in 0..3 {
        out.push(engine.submit(BODY.to_string(), None).await.expect("submit"));
    }
    out
}

fn config(leader: bool) -> PollerConfig {
    PollerConfig {
        interval: Duration::from_millis(200),
        requests_per_second: 50.0,
        leader,
        ..PollerConfig::default()
    }
}

on_both_backends!(
    async the_poller_sends_the_model_that_learned_the_finishes_it_saw,
    async a_follower_learns_from_finishes_another_process_recorded_and_asks_nothing,
);

async fn the_poller_sends_the_model_that_learned_the_finishes_it_saw(b: &Backend) {
    let sim = start_sim(fast()).await;
    let engine = engine_on(&sim, b.open());
    let tasks = submit_three(&engine).await;
    let (tx, mut events) = tokio::sync::mpsc::unbounded_channel();
    let poller = poller::spawn(engine.clone(), config(true), tx);
    for r in &tasks {
        let track = PollerCmd::Track(Box::new(r.clone()));
        poller.send(track).expect("track");
    }
    // A fresh store: no model before the finishes; then one that learned all three.
    let model = model_of(&mut events, 3).await;
    assert!(sim.stats().gets >= 3, "{:?}", sim.stats());
    // The face predicts a task of the same kind from it.
    let mut next = tasks[0].clone();
    next.local_id = "next".into();
    next.created_at = seedance_tui::engine::now();
    assert!(model.estimate(&next, next.created_at).is_some());
}

async fn a_follower_learns_from_finishes_another_process_recorded_and_asks_nothing(b: &Backend) {
    let sim = start_sim(fast()).await;
    let engine = engine_on(&sim, b.open());
    let tasks = submit_three(&engine).await;
    let (tx, mut events) = tokio::sync::mpsc::unbounded_channel();
    let poller = poller::spawn(engine.clone(), config(false), tx);
    for r in &tasks {
        let track = PollerCmd::Track(Box::new(r.clone()));
        poller.send(track).expect("track");
    }
    // The lease holder recorded the finishes (40 s each); the store watcher hands the rows
    // over.
    for r in &tasks {
        let mut done = r.clone();
        done.phase = Phase::Remote(TaskStatus::Succeeded);
        done.finished_at = Some(r.created_at + 40);
        poller
            .send(PollerCmd::Track(Box::new(done)))
            .expect("finished");
    }
    let model = model_of(&mut events, 3).await;
    let r = &tasks[0];
    let e = model
        .estimate(r, r.created_at + 10)
        .expect("a task of the kind has an estimate");
    assert_eq!(e.remaining, 30);
    let stats = sim.stats();
    assert_eq!(
        (stats.gets, stats.lists),
        (0, 0),
        "a follower sends nothing"
    );
}
