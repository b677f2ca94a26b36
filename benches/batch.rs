//! The submission queue (run: `cargo bench --bench batch`): validating and queueing a
//! 10,000-line batch (JSON lines and a prompt list; a rerun that finds every key), and the
//! feeder's requests against the simulator over loopback — one create per line, and polls only
//! for sent tasks: `BENCH_BATCH_SEND` lines (default 100) are sent and followed to the end, once
//! with only those queued and once with 10,000 queued behind them, and the GETs per task match.

mod common;

use seedance_tui::api::{ApiKey, ArkClient, ClientConfig};
use seedance_tui::engine::batch::{parse_json_lines, parse_prompts};
use seedance_tui::engine::{Engine, ids};
use seedance_tui::runtime::feeder::{self, FeederConfig, FeederEvent};
use seedance_tui::runtime::poller::{self, PollerCmd, PollerConfig, PollerEvent};
use seedance_tui::sim::{self, SimConfig};
use seedance_tui::store::{NewPending, Store};
use std::collections::HashSet;
use std::time::{Duration, Instant};

const LINES: usize = 10_000;
const MODEL: &str = "doubao-seedance-2-0-fast-260128";

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn queue(store: &Store, jsons: &[String], profile: &str) -> usize {
    let ids: Vec<String> = jsons.iter().map(|_| ids::new_local_id()).collect();
    let keys: Vec<String> = (0..jsons.len()).map(|i| format!("bench-{i}")).collect();
    let items: Vec<NewPending<'_>> = jsons
        .iter()
        .zip(&ids)
        .zip(&keys)
        .map(|((j, id), k)| NewPending {
            local_id: id,
            profile,
            request_json: j,
            key: Some(k),
            label: None,
            retry_of: None,
            max_in_flight: None,
            asset_files: None,
        })
        .collect();
    store
        .enqueue(&items, seedance_tui::engine::now())
        .expect("enqueue")
        .len()
}

fn main() {
    // Validating and queueing.
    let jsonl: String = (1..=LINES)
        .map(|i| {
            format!(
                r#"{{"model":"{MODEL}","content":[{{"type":"text","text":"shot {i}: a lighthouse at dusk, slow dolly in"}}],"ratio":"16:9","duration":5,"resolution":"720p"}}"#
            ) + "\n"
        })
        .collect();
    let prompts: String = (1..=LINES)
        .map(|i| format!("shot {i}: a lighthouse at dusk, slow dolly in\n"))
        .collect();
    let (parse_json, parsed) =
        common::best_of(3, || parse_json_lines(&jsonl, std::path::Path::new(".")));
    assert_eq!(parsed.lines.len(), LINES);
    let template = seedance_tui::api::CreateRequest {
        model: MODEL.into(),
        ..Default::default()
    };
    let (parse_prompt, p) = common::best_of(3, || parse_prompts(&prompts, &template));
    assert_eq!(p.lines.len(), LINES);
    let jsons: Vec<String> = parsed
        .lines
        .iter()
        .map(|l| l.request_json.clone())
        .collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut enqueue_new = Duration::MAX;
    for i in 0..3 {
        let store = Store::open(&dir.path().join(format!("q{i}.sqlite3"))).expect("open");
        let t = Instant::now();
        assert_eq!(queue(&store, &jsons, "bench"), LINES);
        enqueue_new = enqueue_new.min(t.elapsed());
    }
    let store = Store::open(&dir.path().join("q0.sqlite3")).expect("open");
    let (enqueue_again, _) = common::best_of(3, || queue(&store, &jsons, "bench"));
    assert_eq!(store.queue(None).expect("queue").len(), LINES);
    println!("| {LINES} lines | best of 3 |");
    println!("| --- | --- |");
    println!("| validate JSON lines | {} |", ms(parse_json));
    println!("| validate a prompt list | {} |", ms(parse_prompt));
    println!("| queue (one transaction) | {} |", ms(enqueue_new));
    println!(
        "| queue again (every key found: nothing written) | {} |",
        ms(enqueue_again)
    );
    println!();

    // The feeder's requests.
    let send: usize = std::env::var("BENCH_BATCH_SEND")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    println!(
        "| queued | sent | creates | GETs | GETs per task | peak in flight at the server | wall time |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for queued in [send, LINES] {
        let row = rt.block_on(feed(&jsons[..queued], send, dir.path()));
        println!(
            "| {queued} | {} | {} | {} | {:.2} | {} | {:.1} s |",
            row.sent,
            row.creates,
            row.gets,
            row.gets as f64 / row.sent as f64,
            row.peak,
            row.wall.as_secs_f64()
        );
    }
}

struct Row {
    /// Lines the feeder sent (the pause, set once `send` are out, can come one line late).
    sent: usize,
    creates: u64,
    gets: u64,
    peak: u64,
    wall: Duration,
}

/// Queue `jsons`, let the feeder (cap 8) and the poller (1 s interval) send `send` of them
/// and follow those to the end, then pause the queue.
async fn feed(jsons: &[String], send: usize, dir: &std::path::Path) -> Row {
    let sim = sim::start(
        "127.0.0.1:0".parse().expect("addr"),
        SimConfig {
            speed: 400.0,
            fail_rate: 0.0,
            max_running: 8,
            ..SimConfig::default()
        },
    )
    .await
    .expect("sim");
    let path = dir.join(format!("feed-{}.sqlite3", jsons.len()));
    let store = Store::open(&path).expect("open");
    queue(&store, jsons, "bench");
    let client =
        ArkClient::new(ClientConfig::new(sim.base_url(), Some(ApiKey::new("k")))).expect("client");
    let engine = Engine::new(client, store, "bench");
    let (ptx, mut polled) = tokio::sync::mpsc::unbounded_channel();
    let poller = poller::spawn(
        engine.clone(),
        PollerConfig {
            interval: Duration::from_secs(1),
            concurrency: 4,
            requests_per_second: 50.0,
            ..PollerConfig::default()
        },
        ptx,
    );
    let (ftx, mut fed) = tokio::sync::mpsc::unbounded_channel();
    let _feeder = feeder::spawn(
        engine.clone(),
        FeederConfig {
            leader: true,
            ..FeederConfig::new(8)
        },
        ftx,
    );
    let started = Instant::now();
    let mut sent: HashSet<String> = HashSet::new();
    let mut done: HashSet<String> = HashSet::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(600);
    while done.len() < send.max(sent.len()) {
        tokio::select! {
            Some(ev) = fed.recv() => if let FeederEvent::Sent(r) = ev {
                sent.insert(r.local_id.clone());
                if sent.len() == send {
                    engine.with_store(|s| s.set_queue_paused(true)).await.expect("pause");
                }
                let _ = poller.send(PollerCmd::Track(r));
            },
            Some(ev) = polled.recv() => if let PollerEvent::Updated { record, .. } = ev
                && record.phase.is_settled()
            {
                done.insert(record.local_id.clone());
                // A slot is free: the store watcher would wake the feeder in the dashboard.
            },
            _ = tokio::time::sleep_until(deadline) => panic!("the batch did not finish"),
        }
    }
    let wall = started.elapsed();
    let stats = sim.stats();
    sim.shutdown().await;
    Row {
        sent: sent.len(),
        creates: stats.creates,
        gets: stats.gets,
        peak: stats.peak_in_flight,
        wall,
    }
}
