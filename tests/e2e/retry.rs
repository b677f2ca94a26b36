//! Retrying failed tasks. From the dashboard: a simulator that fails every task, three tasks
//! submitted headless, then the dashboard in a PTY — the failures show, the simulator is healed,
//! the user marks all failed tasks and bulk-retries them in one key, and the retries succeed.
//! Headless: `retry` never sends one stored request twice in one run: a task named twice (by id
//! and by prefix), or named and also matched by `--failed`, is resubmitted once.

use crate::support::process::http_post;
use crate::support::process::{bin_on, run};
use crate::support::pty::Pty;
use crate::support::sim::SimProcess;
use std::path::Path;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(60);
const KEY: &str = "sk-retry-pty-test";

fn cli(args: &[&str], store: &str, base: &str) -> std::process::Output {
    let dir = Path::new(store).parent().expect("the store is in a folder");
    bin_on(dir, Path::new(store), base, KEY)
        .args(args)
        .output()
        .expect("cli runs")
}

#[test]
fn failed_tasks_are_bulk_retried_from_the_dashboard() {
    let sim = SimProcess::builder().speed(2000.0).fail_rate(1.0).start();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("s.sqlite3");
    let store = store.to_str().expect("utf8");
    for p in ["fox in snow", "paper boats", "neon street"] {
        let out = cli(&["submit", "--prompt", p], store, &sim.base);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = cli(&["watch"], store, &sim.base);
    assert_eq!(out.status.code(), Some(1), "all three fail first");

    // Heal the simulator (another process's control endpoint), then open the dashboard.
    let healed = http_post(&sim.control("config"), r#"{"fail_rate":0}"#);
    assert!(healed.contains("200"), "{healed}");

    let mut pty = Pty::spawn(
        &["--store", store, "--base-url", &sim.base],
        110,
        30,
        &[("SEEDANCE_API_KEY", KEY)],
        dir.path(),
    );
    pty.wait_text("Tasks 3/3", WAIT);
    pty.send(b"4"); // only failed
    pty.wait_text("only failed", WAIT);
    pty.send(b"\x01"); // Ctrl-A: mark all in the filter
    pty.wait_text("3 marked", WAIT);
    pty.send(b"r");
    let screen = pty.wait_text("Resubmit 3 task(s)", WAIT);
    assert!(
        screen.contains("tokens"),
        "the question shows the estimated cost:\n{screen}"
    );
    pty.send(b"y");
    pty.send(b"4"); // back to every task
    pty.wait_for("three retries succeeded", WAIT, |s| {
        s.lines()
            .filter(|l| l.contains("✓ succeeded") && l.contains("↻1"))
            .count()
            == 3
    });
    let screen = pty.screen();
    assert!(
        screen.contains("Tasks 6/6"),
        "originals kept, retries added:\n{screen}"
    );
    pty.send(b"q");
    assert_eq!(pty.wait_exit(WAIT), Some(0));

    // The dashboard keeps trimmed rows in memory; each retry sent its original's full stored
    // body (prompt included), byte for byte: the engine stores the exact body it sends.
    let s = seedance_tui::store::Store::open(std::path::Path::new(store)).expect("open");
    let rows = s
        .list(&seedance_tui::store::TaskQuery::default())
        .expect("rows");
    let retries: Vec<_> = rows.iter().filter(|r| r.retry_of.is_some()).collect();
    assert_eq!(retries.len(), 3);
    for r in retries {
        let original = rows
            .iter()
            .find(|o| Some(&o.local_id) == r.retry_of.as_ref())
            .expect("the original");
        assert_eq!(r.request_json, original.request_json);
        assert!(
            r.request_json.contains(&original.prompt) && !original.prompt.is_empty(),
            "the prompt text was sent: {}",
            r.request_json
        );
    }
}

#[test]
fn a_task_named_twice_is_retried_once() {
    let sim = SimProcess::builder().speed(1000.0).start();
    let base = sim.base.clone();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("shared.sqlite3");
    let cmd = || bin_on(dir.path(), &store, &base, "sk-review-retry-key-1c2d");
    let (code, stdout, stderr) = run(cmd().args(["submit", "--prompt", "one [[sim:fail]]"]));
    assert_eq!(code, 0, "{stderr}");
    let id = stdout.trim().to_string();
    let (code, stdout, stderr) = run(cmd().arg("watch"));
    assert_eq!(code, 1, "the task failed: {stdout}\n{stderr}");

    // By full id, by a prefix of it, and again through --failed: one task, one create.
    let prefix = &id[..id.len() - 2];
    let (code, stdout, stderr) = run(cmd().args(["retry", &id, prefix, "--failed"]));
    assert_eq!(code, 0, "{stdout}\n{stderr}");

    let (_, stdout, _) = run(cmd().args(["ls", "--jsonl"]));
    let retries = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["retry_depth"] == 1)
        .count();
    assert_eq!(retries, 1, "one retry row, not one per mention:\n{stdout}");
}
