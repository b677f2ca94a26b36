//! Polling cost and freshness (run: `cargo bench --bench polling`), in two parts.
//!
//! 1. **Requests per finished task.** `BENCH_TASKS` (default 100) tasks in flight at once,
//!    simulator at `BENCH_SPEED` (default 10) times real time, every strategy on its own
//!    simulator with the same seed (so the same task timings), side by side in one run:
//!    - the seed's fixed loop: one GET per task every `BENCH_SEED_INTERVAL` (default 15, the
//!      seed's) simulated seconds,
//!    - the relay mode (one GET per task, through the relay's base URL), fresh store and after
//!      `BENCH_WARM` (default 40) tasks of the same shape as history,
//!    - the official mode (due tasks in one list request per tick), fresh and warm, with the
//!      shipped `[poll] interval_secs` (`BENCH_INTERVAL`, default 10 simulated seconds) and
//!      tuned (`BENCH_TUNED_INTERVAL`, default 7: denser ticks).
//!
//!    The poller runs with the shipped `[poll]` settings (4 requests in flight, 5 requests/s
//!    times the simulator's speed); `BENCH_SPEED=1` is real time, the defaults untouched.
//!    `BENCH_RPS` replaces the 5 (for experiments), `BENCH_ROWS=2,4` runs only those rows
//!    (numbered from 0) besides the seed's loop, and `BENCH_TIMELINE=1` prints each row's
//!    requests and finishes seen per 10 simulated seconds. `BENCH_SLOTS=8` limits the
//!    simulator to 8 running tasks (the rest wait in its queue, first in, first out): the
//!    account's queue. `BENCH_SIM_SEED` (default 7) draws other task timings. (One generator
//!    draws the timings and every answer's request id, so a row's batch after its history
//!    gets other timings than the seed loop's: the rows compare samples, not the same tasks.)
//!
//!    Reported: requests (GETs + lists) per finished task (and as a share of the seed loop's),
//!    the mean and p95 delay from a task finishing (the simulator's `updated_at`) to the client
//!    seeing it in simulated seconds, and the requests per second measured during the window.
//! 2. **Full sweep.** `BENCH_SWEEP` (default 1000,5000) held tasks tracked at once at the
//!    default budget (5 requests/s, 4 in flight): the time until every task was polled once,
//!    by id and in list mode. By id it is measured over the first `BENCH_SWEEP_SECS` (default
//!    10) seconds and extrapolated from the polls per second.

mod common;

use common::env_or;
use seedance_tui::api::{ApiKey, ArkClient, ClientConfig};
use seedance_tui::engine::Engine;
use seedance_tui::runtime::poller::{self, ListMode, PollerCmd, PollerConfig, PollerEvent};
use seedance_tui::sim::SimHandle;
use seedance_tui::store::{Store, TaskRecord};
use std::collections::HashSet;
use std::time::{Duration, Instant};

const REQUEST: &str = r#"{"model":"doubao-seedance-2-0-fast-260128","content":[{"type":"text","text":"bench [[sim:succeed]]"}],"duration":5,"resolution":"720p"}"#;
const HELD: &str = r#"{"model":"doubao-seedance-2-0-fast-260128","content":[{"type":"text","text":"sweep [[sim:hold]]"}],"duration":5,"resolution":"720p"}"#;

#[derive(Clone, Copy, PartialEq)]
enum Strategy {
    Fixed,
    /// One GET per task through the relay's base URL.
    Relay,
    /// The official API: list requests.
    Official,
}

struct Outcome {
    /// Per 10 simulated seconds of the measured window: requests sent, finishes seen, and the
    /// summed delay of those finishes (`BENCH_TIMELINE=1` prints it).
    timeline: Vec<(u64, usize, f64)>,
    requests_per_task: f64,
    /// GETs answered while the task was still queued, per finished task (counted at the
    /// simulator).
    queued_gets_per_task: f64,
    requests_per_sec: f64,
    mean_delay: f64,
    p95_delay: f64,
    finished: usize,
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

/// The simulator's run slots: `BENCH_SLOTS` (default 100,000: no slot limit, so a task's place
/// among ours plays no part); e.g. 8 for a slot-limited account whose tasks queue behind ours.
async fn start_sim(speed: f64) -> SimHandle {
    common::simulator(
        speed,
        env_or("BENCH_SLOTS", 100_000usize),
        Some(env_or("BENCH_SIM_SEED", 7u64)),
    )
    .await
}

fn new_engine(sim: &SimHandle, dir: &tempfile::TempDir) -> Engine {
    engine_at(sim.base_url(), dir)
}

fn engine_at(base_url: String, dir: &tempfile::TempDir) -> Engine {
    let store = Store::open(&dir.path().join("bench.sqlite3")).expect("store");
    let client =
        ArkClient::new(ClientConfig::new(base_url, Some(ApiKey::new("bench")))).expect("client");
    Engine::new(client, store, "bench")
}

async fn submit_batch(engine: &Engine, n: usize, body: &str) -> Vec<(TaskRecord, Instant)> {
    let mut out = Vec::new();
    for _ in 0..n {
        let r = engine.submit(body.to_string(), None).await.expect("submit");
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
    interval: Duration,
) -> Vec<(Instant, f64)> {
    let mut seen = Vec::new();
    match strategy {
        Strategy::Fixed => {
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
                        tokio::time::sleep(interval).await;
                    }
                });
            }
            while let Some(Ok((at, r))) = jobs.join_next().await {
                seen.push((at, r));
            }
        }
        Strategy::Relay | Strategy::Official => {
            for (r, _) in batch {
                let _ = poller.send(PollerCmd::Track(Box::new(r.clone())));
            }
            let ids: HashSet<&str> = batch.iter().map(|(r, _)| r.local_id.as_str()).collect();
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

async fn run(strategy: Strategy, speed: f64, interval_secs: f64, warm: usize, n: usize) -> Outcome {
    let sim = start_sim(speed).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let base_url = match strategy {
        Strategy::Relay => sim.relay_base_url(),
        _ => sim.base_url(),
    };
    let engine = engine_at(base_url.clone(), &dir);
    let interval = Duration::from_secs_f64(interval_secs / speed);
    let (tx, mut events) = tokio::sync::mpsc::unbounded_channel();
    // The shipped `[poll]` settings, the interval and the request budget scaled to the
    // simulator's speed (at 1x: exactly what a user gets without tuning).
    let shipped = PollerConfig::from_config(&seedance_tui::config::Config::default());
    let cfg = PollerConfig {
        interval,
        requests_per_second: env_or("BENCH_RPS", shipped.requests_per_second) * speed,
        leader: true,
        list: ListMode::for_profile(&base_url, strategy != Strategy::Official),
        ..shipped
    };
    let poller = poller::spawn(engine.clone(), cfg, tx);
    let mut clock = Clock {
        t0: Instant::now(),
        speed,
        offsets: Vec::new(),
    };
    if warm > 0 {
        // Becomes the history the scheduler learns from.
        let batch = submit_batch(&engine, warm, REQUEST).await;
        drive(
            strategy,
            &engine,
            &poller,
            &mut events,
            &batch,
            &mut clock,
            interval,
        )
        .await;
    }
    let before = sim.stats();
    let started = Instant::now();
    // Requests counted every 10 simulated seconds, for the timeline.
    let mut counts = Vec::new();
    let sampling = async {
        let mut tick = tokio::time::interval(Duration::from_secs_f64(10.0 / speed));
        loop {
            tick.tick().await;
            let s = sim.stats();
            counts.push(s.gets + s.lists - before.gets - before.lists);
        }
    };
    let measured = async {
        let batch = submit_batch(&engine, n, REQUEST).await;
        drive(
            strategy,
            &engine,
            &poller,
            &mut events,
            &batch,
            &mut clock,
            interval,
        )
        .await
    };
    let seen = tokio::select! {
        seen = measured => seen,
        () = sampling => unreachable!("the sampler never ends"),
    };
    let window = started.elapsed().as_secs_f64();
    let after = sim.stats();
    let requests = (after.gets - before.gets) + (after.lists - before.lists);
    let mut delays: Vec<f64> = seen
        .iter()
        .map(|(at, finished)| (clock.sim_secs(*at) - finished).max(0.0))
        .collect();
    let mut timeline: Vec<(u64, usize, f64)> =
        counts.windows(2).map(|w| (w[1] - w[0], 0, 0.0)).collect();
    let t_start = clock.sim_secs(started);
    for ((at, _), delay) in seen.iter().zip(&delays) {
        let bucket = ((clock.sim_secs(*at) - t_start) / 10.0).max(0.0) as usize;
        if timeline.len() <= bucket {
            timeline.resize(bucket + 1, (0, 0, 0.0));
        }
        timeline[bucket].1 += 1;
        timeline[bucket].2 += delay;
    }
    delays.sort_by(f64::total_cmp);
    let mean = delays.iter().sum::<f64>() / delays.len().max(1) as f64;
    let p95 = delays
        .get(((delays.len() as f64 * 0.95).ceil() as usize).saturating_sub(1))
        .copied()
        .unwrap_or(0.0);
    Outcome {
        timeline,
        requests_per_task: requests as f64 / n.max(1) as f64,
        queued_gets_per_task: (after.queued_gets - before.queued_gets) as f64 / n.max(1) as f64,
        requests_per_sec: requests as f64 / window.max(1e-9),
        mean_delay: mean,
        p95_delay: p95,
        finished: delays.len(),
    }
}

/// Track `n` held tasks at the default budget; returns (seconds until every task was polled
/// once — measured, or extrapolated after `cap` — , polls per second, whether extrapolated).
async fn sweep(mode: ListMode, n: usize, cap: Duration) -> (f64, f64, bool) {
    let sim = start_sim(1.0).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = new_engine(&sim, &dir);
    let mut jobs = tokio::task::JoinSet::new();
    for chunk in 0..8 {
        let engine = engine.clone();
        let count = n / 8 + usize::from(chunk < n % 8);
        jobs.spawn(async move { submit_batch(&engine, count, HELD).await });
    }
    let mut tasks = Vec::new();
    while let Some(Ok(batch)) = jobs.join_next().await {
        tasks.extend(batch.into_iter().map(|(r, _)| r));
    }
    let (tx, mut events) = tokio::sync::mpsc::unbounded_channel();
    let cfg = PollerConfig {
        list: mode,
        leader: true,
        ..PollerConfig::default()
    };
    let poller = poller::spawn(engine.clone(), cfg, tx);
    let before = sim.stats();
    let started = Instant::now();
    for r in &tasks {
        let _ = poller.send(PollerCmd::Track(Box::new(r.clone())));
    }
    let mut polled = HashSet::new();
    let deadline = started + cap;
    while polled.len() < n {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, events.recv()).await {
            Ok(Some(PollerEvent::Updated { record, .. })) => {
                polled.insert(record.local_id);
            }
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => break,
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let after = sim.stats();
    let requests = (after.gets - before.gets) + (after.lists - before.lists);
    let polls_per_sec = polled.len() as f64 / elapsed.max(1e-9);
    let _ = requests;
    if polled.len() >= n {
        (elapsed, polls_per_sec, false)
    } else {
        (n as f64 / polls_per_sec.max(1e-9), polls_per_sec, true)
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let speed: f64 = env_or("BENCH_SPEED", 10.0);
    let interval: f64 = env_or("BENCH_INTERVAL", 10.0);
    let warm: usize = env_or("BENCH_WARM", 40);
    let n: usize = env_or("BENCH_TASKS", 100);
    let slots: usize = env_or("BENCH_SLOTS", 100_000);
    let sweep_sizes: Vec<usize> = std::env::var("BENCH_SWEEP")
        .unwrap_or_else(|_| "1000,5000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let sweep_cap = Duration::from_secs_f64(env_or("BENCH_SWEEP_SECS", 10.0));

    let started = Instant::now();
    let load_at = common::load_averages;
    let load_start = load_at();
    let seed_interval: f64 = env_or("BENCH_SEED_INTERVAL", 15.0);
    let tuned: f64 = env_or("BENCH_TUNED_INTERVAL", 7.0);
    let rows = [
        (
            "the seed's fixed loop (GET each)",
            Strategy::Fixed,
            seed_interval,
            0,
        ),
        (
            "relay mode (GET each), fresh store",
            Strategy::Relay,
            interval,
            0,
        ),
        (
            "relay mode (GET each), after history",
            Strategy::Relay,
            interval,
            warm,
        ),
        (
            "official (list), defaults, fresh store",
            Strategy::Official,
            interval,
            0,
        ),
        (
            "official (list), defaults, after history",
            Strategy::Official,
            interval,
            warm,
        ),
        (
            "official (list), tuned, after history",
            Strategy::Official,
            tuned,
            warm,
        ),
    ];
    // `BENCH_ROWS=2,4`: only those rows (numbered from 0) besides the seed's loop, the baseline.
    let only: Option<Vec<usize>> = std::env::var("BENCH_ROWS")
        .ok()
        .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect());
    let rows: Vec<_> = rows
        .into_iter()
        .enumerate()
        .filter(|(k, _)| *k == 0 || only.as_ref().is_none_or(|o| o.contains(k)))
        .map(|(_, row)| row)
        .collect();
    let handles: Vec<_> = rows
        .iter()
        .map(|(_, s, i, w)| tokio::spawn(run(*s, speed, *i, *w, n)))
        .collect();
    let mut outcomes = Vec::new();
    for h in handles {
        outcomes.push(h.await.expect("run"));
    }
    println!(
        "polling {n} tasks in flight, simulator at {speed}x, {slots} run slots ({:.0} s; history: {warm} tasks of the same shape first; load average at the start: {load_start}, at the end: {}):",
        started.elapsed().as_secs_f64(),
        load_at()
    );
    println!(
        "| strategy | interval (sim-s) | requests per finished task | share of the seed loop's | mean finish-to-seen | p95 finish-to-seen | requests/s during the window | finished | GETs of queued tasks per task |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    let seed_cost = outcomes[0].requests_per_task;
    if env_or("BENCH_TIMELINE", 0u8) == 1 {
        for ((name, ..), o) in rows.iter().zip(&outcomes) {
            println!("{name}: per 10 sim-s, requests / finishes seen / their mean delay");
            for (k, (req, seen, delay)) in o.timeline.iter().enumerate() {
                let mean = if *seen > 0 { delay / *seen as f64 } else { 0.0 };
                println!("  {:>4}s {req:>4} {seen:>4} {mean:>6.1}", k * 10);
            }
        }
    }
    for ((name, _, i, _), o) in rows.iter().zip(outcomes) {
        println!(
            "| {name} | {i} | {:.2} | {:.2}x | {:.1} s | {:.1} s | {:.1} | {} | {:.2} |",
            o.requests_per_task,
            o.requests_per_task / seed_cost.max(1e-9),
            o.mean_delay,
            o.p95_delay,
            o.requests_per_sec,
            o.finished,
            o.queued_gets_per_task
        );
    }
    if env_or("BENCH_SWEEP_SKIP", 0u8) == 1 {
        return;
    }
    println!();
    println!(
        "full sweep at the default budget (5 requests/s, 4 in flight, interval 10 s); by id measured over {} s and extrapolated:",
        sweep_cap.as_secs_f64()
    );
    println!("| tasks | mode | one full sweep | polls/s |");
    println!("| --- | --- | --- | --- |");
    for &size in &sweep_sizes {
        for (name, mode, cap) in [
            ("GET each", ListMode::Never, sweep_cap),
            ("list", ListMode::Use, Duration::from_secs(600)),
        ] {
            let (secs, rate, extrapolated) = sweep(mode, size, cap).await;
            println!(
                "| {size} | {name} | {secs:.1} s{} | {rate:.1} |",
                if extrapolated { " (extrapolated)" } else { "" }
            );
        }
    }
}
