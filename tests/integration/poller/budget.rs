//! The poller stays within its budget under load and faults: 100 active tasks, a simulator that
//! answers some polls 500 and some 429, a budget of 20 requests/s and 4 in flight — the
//! simulator never sees more requests than the budget allows (the client's own retries are off
//! for the poller, so none are hidden), and every task still reaches its end.

use crate::support::backend::{Backend, on_both_backends};
use seedance_tui::api::{ApiKey, ArkClient, ClientConfig};
use seedance_tui::engine::Engine;
use seedance_tui::runtime::poller::{self, PollerCmd, PollerConfig, PollerEvent};
use seedance_tui::sim::{self, Fault, FaultKind, FaultRoute, SimConfig};
use std::time::{Duration, Instant};

async fn polls_stay_within_budget_and_everything_finishes(b: &Backend) {
    let sim = sim::start(
        "127.0.0.1:0".parse().expect("addr"),
        SimConfig {
            speed: 1000.0,
            fail_rate: 0.0,
            max_running: 100_000,
            ..SimConfig::default()
        },
    )
    .await
    .expect("sim");
    let client =
        ArkClient::new(ClientConfig::new(sim.base_url(), Some(ApiKey::new("k")))).expect("client");
    let engine = Engine::new(client, b.open(), "p");
    let mut tasks = Vec::new();
    for i in 0..100 {
        let body = format!(
            r#"{{"model":"doubao-seedance-2-0-fast-260128","content":[{{"type":"text","text":"budget {i}"}}]}}"#
        );
        tasks.push(engine.submit(body, None).await.expect("submit"));
    }
    let (tx, mut events) = tokio::sync::mpsc::unbounded_channel();
    let budget = 20.0;
    let p = poller::spawn(
        engine,
        PollerConfig {
            interval: Duration::from_millis(200),
            concurrency: 4,
            requests_per_second: budget,
            leader: true,
            ..PollerConfig::default()
        },
        tx,
    );
    for t in &tasks {
        p.send(PollerCmd::Track(Box::new(t.clone())))
            .expect("track");
    }
    let before = sim.stats().gets;
    let started = Instant::now();
    let mut done = std::collections::HashSet::new();
    let mut faults_armed = 0;
    while done.len() < tasks.len() {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "{} of {} finished",
            done.len(),
            tasks.len()
        );
        if faults_armed < 10 && started.elapsed() > Duration::from_millis(300 * faults_armed) {
            // Two 429s in all (each holds everyone for the simulator's Retry-After), 500s often.
            let (status, times) = if faults_armed % 5 == 4 {
                (429, 1)
            } else {
                (500, 3)
            };
            sim.inject(Fault {
                route: FaultRoute::Get,
                kind: FaultKind::Status(status),
                times,
            });
            faults_armed += 1;
        }
        match tokio::time::timeout(Duration::from_secs(5), events.recv()).await {
            Ok(Some(PollerEvent::Updated { record, .. })) if record.phase.is_settled() => {
                done.insert(record.local_id.clone());
            }
            Ok(Some(_)) | Err(_) => {}
            Ok(None) => panic!("poller stopped"),
        }
        let secs = started.elapsed().as_secs_f64();
        let gets = sim.stats().gets - before;
        assert!(
            gets as f64 <= budget * secs + 1.0,
            "{gets} polls in {secs:.1} s: over the budget of {budget}/s"
        );
    }
    eprintln!(
        "{} tasks finished with {} polls in {:.1} s",
        done.len(),
        sim.stats().gets - before,
        started.elapsed().as_secs_f64()
    );
}

on_both_backends!(async polls_stay_within_budget_and_everything_finishes);
