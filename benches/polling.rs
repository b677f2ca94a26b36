//! Polling cost and freshness, side by side in one run (run: `cargo bench --bench polling`):
//! (a) a fixed 15-second loop per task like the seed's example, (b) the scheduler with ETAs
//! learned from history. Each strategy gets its own simulator (same seed, so the same task
//! timings) running `BENCH_SPEED` times faster than real time (default 10), a warm-up batch that
//! becomes history, then a measured batch. Reported in simulated seconds: requests per finished
//! task, and the mean and p95 delay from a task finishing (the simulator's `updated_at`) to the
//! client seeing it.

use seedance_tui::api::{ApiKey, ArkClient, ClientConfig};
use seedance_tui::engine::Engine;
use seedance_tui::runtime::poller::{self, PollerCmd, PollerConfig, PollerEvent};
use seedance_tui::sim::{self, SimConfig};
use seedance_tui::store::{Store, TaskRecord};
use std::time::{Duration, Instant};

const REQUEST: &str = r#"{"model":"doubao-seedance-2-0-fast-260128","content":[{"type":"text","text":"bench [[sim:succeed]]"}],"duration":5,"resolution":"720p"}"#;

#[derive(Clone, Copy, PartialEq)]
enum Strategy {
    Fixed15,
    Scheduler,
}

struct Outcome {
    requests_per_task: f64,
    mean_delay: f64,
    p95_delay: f64,
    finished: usize,
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Sim-seconds clock calibration: sim time = offset + real seconds × speed.
struct Clock {
    t0: Instant,
    speed: f64,
    offsets: Vec<f64>,
}

impl Clock {
    fn sim_secs(&self, at: Instant) -> f64 {
        let offset = self.offsets.iter().sum::<f64>() / self.offsets.len().max(1) as f64;
        offset + at.duration_since(self.t0).as_secs_f64() * self.speed
    }
}

async fn submit_batch(engine: &Engine, n: usize) -> Vec<(TaskRecord, Instant)> {
    let mut out = Vec::new();
    for _ in 0..n {
        let r = engine
            .submit(REQUEST.to_string(), None)
            .await
            .expect("submit");
        out.push((r, Instant::now()));
    }
    out
}

/// Poll `batch` to the end with `strategy`; returns (seen instant, finish sim-second) per task.
async fn drive(
    strategy: Strategy,
    engine: &Engine,
    poller: &tokio::sync::mpsc::UnboundedSender<PollerCmd>,
    events: &mut tokio::sync::mpsc::UnboundedReceiver<PollerEvent>,
    batch: &[(TaskRecord, Instant)],
    clock: &mut Clock,
    speed: f64,
) -> Vec<(Instant, f64)> {
    let mut seen = Vec::new();
    match strategy {
        Strategy::Fixed15 => {
            let mut jobs = tokio::task::JoinSet::new();
            for (r, _) in batch {
                let (engine, mut r) = (engine.clone(), r.clone());
                jobs.spawn(async move {
                    loop {
                        if let Ok((fresh, _)) = engine.poll(&r).await {
                            r = fresh;
                            if r.phase.is_settled() {
                                return (Instant::now(), r);
                            }
                        }
                        tokio::time::sleep(Duration::from_secs_f64(15.0 / speed)).await;
                    }
                });
            }
            while let Some(Ok((at, r))) = jobs.join_next().await {
                seen.push((at, r));
            }
        }
        Strategy::Scheduler => {
            for (r, _) in batch {
                let _ = poller.send(PollerCmd::Track(Box::new(r.clone())));
            }
            let ids: std::collections::HashSet<&str> =
                batch.iter().map(|(r, _)| r.local_id.as_str()).collect();
            while seen.len() < batch.len() {
                match events.recv().await {
                    Some(PollerEvent::Updated { record, .. })
                        if record.phase.is_settled() && ids.contains(record.local_id.as_str()) =>
                    {
                        seen.push((Instant::now(), *record));
                    }
                    Some(_) => {}
                    None => break,
                }
            }
        }
    }
    let mut out = Vec::new();
    for (at, r) in seen {
        let Some(task) = r.task() else { continue };
        if let (Some(created), Some(submitted)) = (
            task.created_at,
            batch
                .iter()
                .find(|(b, _)| b.local_id == r.local_id)
                .map(|(_, t)| *t),
        ) {
            clock.offsets.push(
                created as f64 + 0.5
                    - submitted.duration_since(clock.t0).as_secs_f64() * clock.speed,
            );
        }
        if let Some(finished) = task.updated_at {
            out.push((at, finished as f64 + 0.5));
        }
    }
    out
}

async fn run(strategy: Strategy, speed: f64, warm: usize, measured: usize) -> Outcome {
    let sim = sim::start(
        "127.0.0.1:0".parse().expect("addr"),
        SimConfig {
            speed,
            seed: 7,
            fail_rate: 0.0,
            max_running: 100_000,
            ..SimConfig::default()
        },
    )
    .await
    .expect("sim");
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("bench.sqlite3")).expect("store");
    let client = ArkClient::new(ClientConfig::new(
        sim.base_url(),
        Some(ApiKey::new("bench")),
    ))
    .expect("client");
    let engine = Engine::new(client, store, "bench");
    let (tx, mut events) = tokio::sync::mpsc::unbounded_channel();
    let cfg = PollerConfig {
        // The configured default (10 s), in simulated time.
        interval: Duration::from_secs_f64(10.0 / speed),
        concurrency: 16,
        requests_per_second: 1000.0,
        leader: true,
        ..PollerConfig::default()
    };
    let poller = poller::spawn(engine.clone(), cfg, tx);
    let mut clock = Clock {
        t0: Instant::now(),
        speed,
        offsets: Vec::new(),
    };
    // Warm-up: becomes the history the scheduler learns from.
    let batch = submit_batch(&engine, warm).await;
    drive(
        strategy,
        &engine,
        &poller,
        &mut events,
        &batch,
        &mut clock,
        speed,
    )
    .await;
    let before = sim.stats().gets;
    let batch = submit_batch(&engine, measured).await;
    let seen = drive(
        strategy,
        &engine,
        &poller,
        &mut events,
        &batch,
        &mut clock,
        speed,
    )
    .await;
    let gets = sim.stats().gets - before;
    let mut delays: Vec<f64> = seen
        .iter()
        .map(|(at, finished)| (clock.sim_secs(*at) - finished).max(0.0))
        .collect();
    delays.sort_by(f64::total_cmp);
    let mean = delays.iter().sum::<f64>() / delays.len().max(1) as f64;
    let p95 = delays
        .get(((delays.len() as f64 * 0.95).ceil() as usize).saturating_sub(1))
        .copied()
        .unwrap_or(0.0);
    Outcome {
        requests_per_task: gets as f64 / measured.max(1) as f64,
        mean_delay: mean,
        p95_delay: p95,
        finished: delays.len(),
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let speed: f64 = env_or("BENCH_SPEED", 10.0);
    let warm: usize = env_or("BENCH_WARM", 40);
    let measured: usize = env_or("BENCH_TASKS", 40);
    let started = Instant::now();
    let fixed = tokio::spawn(run(Strategy::Fixed15, speed, warm, measured));
    let ours = tokio::spawn(run(Strategy::Scheduler, speed, warm, measured));
    let (fixed, ours) = (fixed.await.expect("fixed"), ours.await.expect("ours"));
    println!(
        "polling {measured} tasks after {warm} of history, simulator at {speed}x ({:.0} s):",
        started.elapsed().as_secs_f64()
    );
    println!(
        "| strategy | requests per finished task | mean finish-to-seen | p95 finish-to-seen | finished |"
    );
    println!("| --- | --- | --- | --- | --- |");
    for (name, o) in [("fixed 15 s loop", fixed), ("scheduler + ETA", ours)] {
        println!(
            "| {name} | {:.1} | {:.1} s | {:.1} s | {} |",
            o.requests_per_task, o.mean_delay, o.p95_delay, o.finished
        );
    }
}
