//! Idle cost of the dashboard (run: `cargo bench --bench idle`): 1,000 finished tasks in the
//! store, the real binary in a pseudo-terminal, then CPU time and bytes written to the terminal
//! over a quiet window. Numbers go to docs/performance.md.

// The end-to-end tests' PTY driver; a bench uses only part of it.
#[allow(dead_code)]
#[path = "../tests/e2e/support/pty.rs"]
mod pty_harness;

use seedance_tui::api::types::Task;
use seedance_tui::store::{NewSubmission, Store};
use std::time::{Duration, Instant};

const TASKS: usize = 1_000;
const WINDOW: Duration = Duration::from_secs(20);

/// User + system CPU time of a process, in clock ticks (from /proc/PID/stat).
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

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
    let mut pty = pty_harness::Pty::spawn(
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
    // Let start-up settle, then measure a quiet window.
    std::thread::sleep(Duration::from_secs(2));
    let pid = pty.pid().expect("pid");
    let (bytes0, ticks0, t0) = (pty.raw().len(), cpu_ticks(pid).unwrap_or(0), Instant::now());
    std::thread::sleep(WINDOW);
    let (bytes1, ticks1, secs) = (
        pty.raw().len(),
        cpu_ticks(pid).unwrap_or(0),
        t0.elapsed().as_secs_f64(),
    );
    let hz = 100.0; // USER_HZ on Linux
    let cpu_pct = (ticks1 - ticks0) as f64 / hz / secs * 100.0;
    println!("idle dashboard, {TASKS} tasks, {secs:.0} s window:");
    println!("  CPU: {cpu_pct:.2}% of one core");
    println!(
        "  bytes written to the terminal: {} ({:.0} per minute)",
        bytes1 - bytes0,
        (bytes1 - bytes0) as f64 * 60.0 / secs
    );
    pty.send(b"q");
    let _ = pty.wait_exit(Duration::from_secs(10));
}
