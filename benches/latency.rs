//! Key-to-frame latency under polling load (run: `cargo bench --bench latency`): the real
//! dashboard in a pseudo-terminal with 10,000 tasks, 2,000 of them active and polled through the
//! relay path (one GET per poll, budget 50 requests/s) against a simulator that fails 5 polls a
//! second with a 500 and delays 5 more by 100 ms, while a key opens and closes the help overlay.
//! Latency is from writing the key to the screen showing the change (sampled every 0.5 ms).
//! Prints the polls per second measured during the window, the percentiles over 400 samples and
//! the dashboard's CPU over the window.
//!
//! `LATENCY_TRACE=DIR` also writes `DIR/keys.txt` (each key's send time on the monotonic clock in
//! ns and its latency in µs) and has the dashboard write `DIR/frames.txt` (`SEEDANCE_FRAME_TRACE`:
//! what its loop did and when), to see what a slow key waited for.
//!
//! No 429s: one holds every task (`Retry-After`), and polling would drop to a few requests a
//! second instead of the load this measures.

mod common;
// The end-to-end tests' PTY driver; a bench uses only part of it.
#[allow(dead_code)]
#[path = "../tests/e2e/support/pty.rs"]
mod pty_harness;

use seedance_tui::sim::{Fault, FaultKind, FaultRoute};
use std::time::{Duration, Instant};

const ACTIVE: usize = 2_000;
const FINISHED: usize = 8_000;
/// Pairs of keys (open, close): 400 samples, so the p99 is not just the slowest one.
const SAMPLES: usize = 200;

/// From the dashboard's trace: for each key, the time from writing it to the dashboard handling
/// it (waiting for the loop: its work in front of the key, or the process waiting to run) and to
/// its frame written; the rest of a sample is the PTY and this bench's sampling.
fn dashboard_side(frames: &std::path::Path, sent: &[u64], lat: &[Duration]) {
    let Ok(text) = std::fs::read_to_string(frames) else {
        return;
    };
    // Lines: start_ns, what (one or two words), count, took_us.
    let mut keys = Vec::new();
    let mut draws = Vec::new();
    for line in text.lines() {
        let p: Vec<&str> = line.split_whitespace().collect();
        let Some(start) = p.first().and_then(|s| s.parse::<u64>().ok()) else {
            continue;
        };
        let took = p.last().and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
        match p.get(1..3) {
            Some(["key", _]) => keys.push(start),
            Some(["draw", "key"]) => draws.push(start + took * 1_000),
            _ => {}
        }
    }
    let (mut handled, mut written) = (Vec::new(), Vec::new());
    for &t in sent {
        let Some(&k) = keys.iter().find(|&&k| k >= t) else {
            continue;
        };
        let Some(&d) = draws.iter().find(|&&d| d >= k) else {
            continue;
        };
        handled.push(k - t);
        written.push(d - t);
    }
    let show = |name: &str, v: &mut Vec<u64>| {
        v.sort();
        let at = |p: usize| v[(v.len() * p / 100).min(v.len() - 1)] as f64 / 1e6;
        println!(
            "  {name}: p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            at(50),
            at(95),
            at(99),
            at(100)
        );
    };
    if handled.is_empty() {
        return;
    }
    println!(
        "  the dashboard's side ({} of {} keys found in its trace):",
        handled.len(),
        lat.len()
    );
    show("key written → handled by the loop", &mut handled);
    show("key written → its frame written", &mut written);
}

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
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("load.sqlite3");
    common::make_store(&path, FINISHED, 0);
    // The active tasks are real simulator tasks, held queued so they are polled throughout.
    let (sim, _engine) = common::held_tasks(&rt, &path, ACTIVE, "active");
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        // No auto-download: the finished rows' result links point at a host that does not
        // exist, and downloading 8,000 of them is not what this measures. A 5 s interval: with
        // 8,000 finished tasks of history the scheduler spaces a queued task's polls by its
        // expected time, and at 10 s the 2,000 asked for only ~37 polls a second; at 5 s the
        // demand is above the budget, so polls go out at the budget (~47 a second measured).
        "[poll]\ninterval_secs = 5\nconcurrency = 8\nrequests_per_second = 50\n\n[download]\nauto = false\n",
    )
    .expect("config");
    let store_arg = path.to_string_lossy().into_owned();
    let config_arg = config.to_string_lossy().into_owned();
    // The relay path: a relay never lists, so every poll is one GET.
    let base = sim.relay_base_url();
    let trace_dir = std::env::var_os("LATENCY_TRACE").map(std::path::PathBuf::from);
    let frames = trace_dir
        .as_ref()
        .map(|d| d.join("frames.txt").to_string_lossy().into_owned());
    let mut env = vec![("SEEDANCE_API_KEY", "k")];
    if let Some(f) = &frames {
        env.push(("SEEDANCE_FRAME_TRACE", f.as_str()));
    }
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
        &env,
        dir.path(),
    );
    let total = FINISHED + ACTIVE;
    pty.wait_text(&format!("Tasks {total}/{total}"), Duration::from_secs(120));
    let (rss, _) = pty.pid().and_then(common::memory_kib).unwrap_or((0, 0));
    // Let polling get going.
    std::thread::sleep(Duration::from_secs(5));
    let mut lat = Vec::new();
    let mut sent = Vec::new();
    // Polls are counted over the measuring window only (not start-up).
    let before = sim.stats();
    let pid = pty.pid().expect("pid");
    let ticks0 = common::cpu_ticks(pid).unwrap_or(0);
    let started = Instant::now();
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            // Faults while measuring, each for one task (that task backs off, the others go
            // on): slow answers and 500s.
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                sim.inject(Fault {
                    route: FaultRoute::Get,
                    kind: FaultKind::Delay(Duration::from_millis(100)),
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
            sent.push(seedance_tui::runtime::terminal::monotonic_ns());
            pty.send(b"?");
            lat.push(wait_screen(&pty, |s| s.contains("Help — keys")));
            std::thread::sleep(Duration::from_millis(50 + (i as u64 * 37) % 150));
            sent.push(seedance_tui::runtime::terminal::monotonic_ns());
            pty.send(b"\x1b");
            lat.push(wait_screen(&pty, |s| !s.contains("Help — keys")));
            std::thread::sleep(Duration::from_millis(50 + (i as u64 * 53) % 150));
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    let secs = started.elapsed().as_secs_f64();
    let cpu = (common::cpu_ticks(pid).unwrap_or(0) - ticks0) as f64 / 100.0 / secs * 100.0;
    let after = rt.block_on(async { sim.stats() });
    let gets = after.gets - before.gets;
    if let Some(d) = &trace_dir {
        let lines: String = sent
            .iter()
            .zip(&lat)
            .map(|(t, l)| format!("{t} {}\n", l.as_micros()))
            .collect();
        std::fs::write(d.join("keys.txt"), lines).expect("write keys.txt");
    }
    let trace = trace_dir
        .as_ref()
        .map(|d| (d.join("frames.txt"), sent.clone(), lat.clone()));
    lat.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let mean = lat.iter().map(|d| ms(*d)).sum::<f64>() / lat.len() as f64;
    let pct = |p: usize| ms(lat[(lat.len() * p / 100).min(lat.len() - 1)]);
    println!(
        "key-to-frame with {total} tasks, {ACTIVE} polled through the relay path, auto-download off:"
    );
    println!(
        "  polls while measuring: {gets} GETs in {secs:.0} s = {:.1} per second (faults injected: 5 × 500 and 5 × 100 ms delay per second; {} answered 429)",
        gets as f64 / secs,
        after.rate_limited - before.rate_limited
    );
    println!(
        "  {} samples: mean {mean:.1} ms, p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        lat.len(),
        pct(50),
        pct(95),
        pct(99),
        ms(*lat.last().expect("samples"))
    );
    println!(
        "  dashboard CPU over the window: {cpu:.1} % of one core; load average at the end: {}",
        common::load_average()
    );
    println!("  dashboard RSS {:.0} MiB", rss as f64 / 1024.0);
    pty.send(b"q");
    let _ = pty.wait_exit(Duration::from_secs(10));
    if let Some((frames, sent, lat)) = trace {
        dashboard_side(&frames, &sent, &lat);
    }
}
