//! Idle cost of the dashboard (run: `cargo bench --bench idle`): the real binary in a
//! pseudo-terminal, CPU time and bytes written to the terminal over a 20 s window, twice: 1,000
//! finished tasks and nothing to poll; then 2,000 queued tasks held by the simulator and polled
//! at ~48 requests/s through the relay path (one GET per poll, no list requests), nothing visible
//! changing but clocks. Numbers go to docs/performance.md.
//!
//! `IDLE_CAPTURE=DIR` writes each window's terminal bytes to `DIR/idle-*.bin`, to see which
//! escape sequences a clock tick sends.

mod common;
// The end-to-end tests' PTY driver; a bench uses only part of it.
#[allow(dead_code)]
#[path = "../tests/e2e/support/pty.rs"]
mod pty_harness;

use seedance_tui::api::types::Task;
use seedance_tui::store::{NewSubmission, Store};
use std::time::{Duration, Instant};

const TASKS: usize = 1_000;
const ACTIVE: usize = 2_000;
const WINDOW: Duration = Duration::from_secs(20);

/// What ratatui's crossterm backend writes at the end of every frame.
const FRAME_END: &[u8] = b"\x1b[39m\x1b[49m\x1b[59m\x1b[0m";

fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store_path = dir.path().join("idle.sqlite3");
    let store = Store::open(&store_path).expect("store");
    let now = chrono::Utc::now().timestamp();
    for n in 0..TASKS {
        let id = format!("l{n:06}");
        let body = format!(
            r#"{{"model":"doubao-seedance-2-0-fast-260128","content":[{{"type":"text","text":"idle task {n}"}}]}}"#
        );
        store
            .begin_submission(&NewSubmission {
                local_id: &id,
                profile: "idle",
                request_json: &body,
                retry_of: None,
                now: now - 7200,
                asset_files: None,
            })
            .expect("insert");
        store
            .submission_accepted(&id, &format!("cgt-idle-{n:06}"), now - 7200)
            .expect("accept");
        let raw = format!(
            r#"{{"id":"cgt-idle-{n:06}","status":"succeeded","usage":{{"total_tokens":108000}}}}"#
        );
        let task = Task::from_json(&raw).expect("task");
        store
            .record_poll(&id, &task, &raw, now - 7000)
            .expect("poll");
    }
    drop(store);
    let store_arg = store_path.to_string_lossy().into_owned();
    let pty = pty_harness::Pty::spawn(
        &[
            "--store",
            &store_arg,
            "--base-url",
            "http://127.0.0.1:9/api/v3",
        ],
        160,
        48,
        &[("SEEDANCE_API_KEY", "idle-bench-key")],
        dir.path(),
    );
    pty.wait_text("Tasks 1000/1000", Duration::from_secs(30));
    measure(
        pty,
        &format!("idle dashboard, {TASKS} finished tasks"),
        "finished",
        None,
    );
    polled();
}

/// 2,000 queued tasks polled at the budget (50 requests/s), nothing visible changing but clocks.
fn polled() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("polled.sqlite3");
    let (sim, _engine) = common::held_tasks(&rt, &path, ACTIVE, "held");
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        "[poll]\ninterval_secs = 10\nconcurrency = 8\nrequests_per_second = 50\n\n[download]\nauto = false\n",
    )
    .expect("config");
    // The relay path: a relay never lists, so every poll is one GET (issue 15's shape).
    let (store_arg, config_arg, base) = (
        path.to_string_lossy().into_owned(),
        config.to_string_lossy().into_owned(),
        sim.relay_base_url(),
    );
    let pty = pty_harness::Pty::spawn(
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
    pty.wait_text(&format!("Tasks {ACTIVE}/{ACTIVE}"), Duration::from_secs(60));
    // Let the first sweep get going.
    std::thread::sleep(Duration::from_secs(3));
    let before = sim.stats().gets;
    measure(
        pty,
        &format!(
            "dashboard polling {ACTIVE} queued tasks (relay: one GET each), nothing visible changing"
        ),
        "polled",
        Some(Box::new(move || sim.stats().gets - before)),
    );
}

/// CPU and terminal bytes over the window; `polls` counts the GETs made in it.
fn measure(
    mut pty: pty_harness::Pty,
    label: &str,
    name: &str,
    polls: Option<Box<dyn Fn() -> u64>>,
) {
    // Let start-up settle, then measure a quiet window.
    std::thread::sleep(Duration::from_secs(2));
    let pid = pty.pid().expect("pid");
    let gets0 = polls.as_ref().map(|p| p()).unwrap_or(0);
    let (bytes0, ticks0, t0) = (
        pty.raw().len(),
        common::cpu_ticks(pid).unwrap_or(0),
        Instant::now(),
    );
    std::thread::sleep(WINDOW);
    let (bytes1, ticks1, secs) = (
        pty.raw().len(),
        common::cpu_ticks(pid).unwrap_or(0),
        t0.elapsed().as_secs_f64(),
    );
    if let Some(dir) = std::env::var_os("IDLE_CAPTURE") {
        let file = std::path::Path::new(&dir).join(format!("idle-{name}.bin"));
        std::fs::write(&file, &pty.raw()[bytes0..bytes1]).expect("write the capture");
        println!("  (window's terminal bytes in {})", file.display());
    }
    let hz = 100.0; // USER_HZ on Linux
    let cpu_pct = (ticks1 - ticks0) as f64 / hz / secs * 100.0;
    println!("{label}, {secs:.0} s window:");
    if let Some(p) = &polls {
        let n = p() - gets0;
        println!("  polls: {n} ({:.1} per second)", n as f64 / secs);
    }
    println!("  CPU: {cpu_pct:.2}% of one core");
    let window = &pty.raw()[bytes0..bytes1];
    // Every frame ends by resetting the colours and attributes.
    let frames = window
        .windows(FRAME_END.len())
        .filter(|w| *w == FRAME_END)
        .count();
    println!(
        "  frames: {frames}; load average at the end: {}",
        common::load_average()
    );
    println!(
        "  bytes written to the terminal: {} ({:.0} per minute)",
        bytes1 - bytes0,
        (bytes1 - bytes0) as f64 * 60.0 / secs
    );
    pty.send(b"q");
    let _ = pty.wait_exit(Duration::from_secs(10));
}
