//! Key-to-frame latency under polling load (run: `cargo bench --bench latency`): the real
//! dashboard in a pseudo-terminal with 10,000 tasks, 2,000 of them active and polled (budget 50
//! requests/s) against a simulator that answers some polls 429 (5 per second are injected) and
//! fails 10 % of them with a 500, while a key opens and closes the help overlay. Latency is from writing the key to the screen showing the change
//! (sampled every 0.5 ms).

mod common;
// The end-to-end tests' PTY driver; a bench uses only part of it.
#[allow(dead_code)]
#[path = "../tests/e2e/support/pty.rs"]
mod pty_harness;

use seedance_tui::api::{ApiKey, ArkClient, ClientConfig};
use seedance_tui::engine::Engine;
use seedance_tui::sim::{self, Fault, FaultKind, FaultRoute, SimConfig};
use seedance_tui::store::Store;
use std::time::{Duration, Instant};

const ACTIVE: usize = 2_000;
const FINISHED: usize = 8_000;
const SAMPLES: usize = 40;

fn wait_screen(pty: &pty_harness::Pty, pred: impl Fn(&str) -> bool) -> Duration {
    let t = Instant::now();
    while !pred(&pty.screen()) {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "no frame:\n{}",
            pty.screen()
        );
        std::thread::sleep(Duration::from_micros(500));
    }
    t.elapsed()
}

fn main() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let sim = rt
        .block_on(sim::start(
            "127.0.0.1:0".parse().expect("addr"),
            SimConfig {
                speed: 1.0,
                fail_rate: 0.0,
                max_running: 100_000,
                ..SimConfig::default()
            },
        ))
        .expect("sim");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("load.sqlite3");
    common::make_store(&path, FINISHED, 0);
    // The active tasks are real simulator tasks, held queued so they are polled throughout.
    let client =
        ArkClient::new(ClientConfig::new(sim.base_url(), Some(ApiKey::new("k")))).expect("client");
    let engine = Engine::new(client, Store::open(&path).expect("store"), "bench");
    rt.block_on(async {
        for i in 0..ACTIVE {
            let body = format!(
                r#"{{"model":"doubao-seedance-2-0-fast-260128","content":[{{"type":"text","text":"active {i} [[sim:hold]]"}}]}}"#
            );
            engine.submit(body, None).await.expect("submit");
        }
    });
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        // No auto-download: the finished rows' result links point at a host that does not
        // exist, and downloading 8,000 of them is not what this measures.
        "[poll]\ninterval_secs = 10\nconcurrency = 8\nrequests_per_second = 50\n\n[download]\nauto = false\n",
    )
    .expect("config");
    let store_arg = path.to_string_lossy().into_owned();
    let config_arg = config.to_string_lossy().into_owned();
    let base = sim.base_url();
    let mut pty = pty_harness::Pty::spawn(
        &[
            "--store",
            &store_arg,
            "--base-url",
            &base,
            "--config",
            &config_arg,
        ],
        160,
        48,
        &[("SEEDANCE_API_KEY", "k")],
        dir.path(),
    );
    let total = FINISHED + ACTIVE;
    pty.wait_text(&format!("Tasks {total}/{total}"), Duration::from_secs(120));
    let (rss, _) = pty.pid().and_then(common::memory_kib).unwrap_or((0, 0));
    // Let polling get going.
    std::thread::sleep(Duration::from_secs(5));
    let mut lat = Vec::new();
    // Polls are counted over the measuring window only (not start-up).
    let before = sim.stats();
    let started = Instant::now();
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            // Faults while measuring: 429s (everyone waits) and 500s.
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                sim.inject(Fault {
                    route: FaultRoute::Get,
                    kind: FaultKind::Status(429),
                    times: 5,
                });
                sim.inject(Fault {
                    route: FaultRoute::Get,
                    kind: FaultKind::Status(500),
                    times: 5,
                });
                std::thread::sleep(Duration::from_secs(1));
            }
        });
        for i in 0..SAMPLES {
            pty.send(b"?");
            lat.push(wait_screen(&pty, |s| s.contains("Help — keys")));
            std::thread::sleep(Duration::from_millis(50 + (i as u64 * 37) % 150));
            pty.send(b"\x1b");
            lat.push(wait_screen(&pty, |s| !s.contains("Help — keys")));
            std::thread::sleep(Duration::from_millis(50 + (i as u64 * 53) % 150));
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    let secs = started.elapsed().as_secs_f64();
    let after = rt.block_on(async { sim.stats() });
    let gets = after.gets - before.gets;
    lat.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let mean = lat.iter().map(|d| ms(*d)).sum::<f64>() / lat.len() as f64;
    let pct = |p: usize| ms(lat[(lat.len() * p / 100).min(lat.len() - 1)]);
    let (p95, p99) = (pct(95), pct(99));
    println!(
        "key-to-frame with {total} tasks, {ACTIVE} polled, auto-download off ({gets} GETs while measuring, {secs:.0} s = {:.1}/s, faults injected: 5 × 429 and 5 × 500 per second):",
        gets as f64 / secs
    );
    println!(
        "  {} samples: mean {mean:.1} ms, p95 {p95:.1} ms, p99 {p99:.1} ms, max {:.1} ms",
        lat.len(),
        ms(*lat.last().expect("samples"))
    );
    println!("  dashboard RSS {:.0} MiB", rss as f64 / 1024.0);
    pty.send(b"q");
    let _ = pty.wait_exit(Duration::from_secs(10));
}
