//! The queue refills on a finish: when this process's poller sees a task finish, the feeder
//! sends the next line at once, without waiting for the store watcher or its own next look. On
//! SQLite and on PostgreSQL.

use crate::support::backend::{Backend, on_both_backends};
use crate::support::engine::{engine_on, start_sim};
use seedance_tui::runtime::feeder::{self, FeederConfig, FeederEvent};
use seedance_tui::runtime::poller::{self, ListMode, PollerCmd, PollerConfig, PollerEvent};
use seedance_tui::sim::SimConfig;
use seedance_tui::store::NewPending;
use std::collections::HashSet;
use std::time::Duration;

on_both_backends!(async a_finish_the_poller_sees_sends_the_next_line_at_once);

async fn a_finish_the_poller_sees_sends_the_next_line_at_once(b: &Backend) {
    let sim = start_sim(SimConfig {
        speed: 1000.0,
        fail_rate: 0.0,
        max_running: 100_000,
        ..SimConfig::default()
    })
    .await;
    let engine = engine_on(&sim, b.open());
    let lines = 5;
    let bodies: Vec<String> = (0..lines)
        .map(|i| {
            format!(
                r#"{{"model":"doubao-seedance-2-0-fast-260128","content":[{{"type":"text","text":"line {i} [[sim:succeed]]"}}]}}"#
            )
        })
        .collect();
    let ids: Vec<String> = (0..lines).map(|i| format!("line-{i}")).collect();
    let profile = engine.profile.clone();
    engine
        .with_store(move |s| {
            let items: Vec<NewPending<'_>> = bodies
                .iter()
                .zip(&ids)
                .map(|(body, id)| NewPending {
                    local_id: id,
                    profile: &profile,
                    request_json: body,
                    key: None,
                    label: None,
                    retry_of: None,
                    max_in_flight: None,
                    asset_files: None,
                })
                .collect();
            s.enqueue(&items, seedance_tui::engine::now())
        })
        .await
        .expect("enqueue");

    let (ptx, mut polled) = tokio::sync::mpsc::unbounded_channel();
    let poller = poller::spawn(
        engine.clone(),
        PollerConfig {
            interval: Duration::from_millis(200),
            requests_per_second: 50.0,
            leader: true,
            list: ListMode::Use,
            ..PollerConfig::default()
        },
        ptx,
    );
    // One line at a time, and the feeder's own look only once an hour: no store watcher runs
    // here, so only the poller's finish can send the next line.
    let (ftx, mut fed) = tokio::sync::mpsc::unbounded_channel();
    let _feeder = feeder::spawn(
        engine.clone(),
        FeederConfig {
            leader: true,
            check_every: Duration::from_secs(3600),
            ..FeederConfig::new(1)
        },
        ftx,
    );
    let mut done = HashSet::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while done.len() < lines {
        tokio::select! {
            Some(ev) = fed.recv() => if let FeederEvent::Sent(r) = ev {
                poller.send(PollerCmd::Track(r)).expect("track");
            },
            Some(ev) = polled.recv() => if let PollerEvent::Updated { record, .. } = ev
                && record.phase.is_settled()
            {
                done.insert(record.local_id.clone());
            },
            _ = tokio::time::sleep_until(deadline) => {
                panic!("only {} of {lines} lines finished: {:?}", done.len(), sim.stats())
            }
        }
    }
    let stats = sim.stats();
    assert_eq!(
        stats.creates, lines as u64,
        "one create per line: {stats:?}"
    );
    assert_eq!(
        stats.peak_in_flight, 1,
        "never more than the cap: {stats:?}"
    );
}
