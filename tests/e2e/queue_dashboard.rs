//! The submission queue in the real dashboard (a PTY): it feeds a detached batch under
//! `[submit] max_in_flight`, shows pending rows (○, their place `#N`) and the queue count in the
//! header, pauses and resumes the queue (`P`), removes pending rows (`X`, asks first), lists the
//! queue's keys in `?`, and the composer's Ctrl-S at the cap queues the draft as a pending row.
//! A `watch --daemon` feeds a detached batch the same way.

use crate::support::process::{Proc, bin};
use crate::support::pty::Pty;
use crate::support::sim::SimProcess;
use std::path::Path;
use std::time::{Duration, Instant};

const KEY: &str = "sk-queue-dashboard-key";
const WAIT: Duration = Duration::from_secs(30);

fn config(dir: &Path, max_in_flight: usize) -> String {
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        format!(
            "[poll]\ninterval_secs = 1\nrequests_per_second = 50\nlease_secs = 1\n\
             [download]\nauto = false\n[submit]\nmax_in_flight = {max_in_flight}\n"
        ),
    )
    .expect("config");
    path.to_str().expect("utf8").to_string()
}

/// Queue `n` lines whose tasks the simulator keeps queued, without sending any.
fn detach_batch(dir: &Path, common: &[&str], n: usize) {
    let text: String = (1..=n)
        .map(|i| {
            format!(
                "{{\"model\":\"doubao-seedance-2-0-fast-260128\",\"content\":[{{\"type\":\"text\",\"text\":\"held line {i} [[sim:hold]]\"}}]}}\n"
            )
        })
        .collect();
    let file = dir.join("b.jsonl");
    std::fs::write(&file, text).expect("batch");
    let out = bin(dir)
        .args(common)
        .args([
            "submit",
            "--batch",
            file.to_str().expect("utf8"),
            "--detach",
        ])
        .env("SEEDANCE_API_KEY", KEY)
        .output()
        .expect("submit");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// How often the log at `path` says the feeder found the in-flight cap full (it says so at
/// `debug`, once per look): a look that says it sent nothing.
fn looks_at_the_full_cap(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .matches("the queue waits for a free slot")
        .count()
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_dashboard_feeds_the_queue_under_the_cap_and_its_keys_work() {
    let sim = SimProcess::builder().speed(400.0).start();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("s.sqlite3");
    let store = store.to_str().expect("utf8");
    let cfg = config(dir.path(), 2);
    let common = ["--store", store, "--base-url", &sim.base, "--config", &cfg];
    detach_batch(dir.path(), &common, 5);
    assert_eq!(sim.stat("creates"), 0, "--detach sends nothing");

    let log = dir.path().join("dashboard.log");
    let args = [&common[..], &["--log", log.to_str().expect("utf8")]].concat();
    let env = [("SEEDANCE_API_KEY", KEY), ("SEEDANCE_LOG", "debug")];
    let mut tui = Pty::spawn(&args, 160, 40, &env, dir.path());
    // Two go out (the cap), three wait in order.
    let screen = tui.wait_text("○ queue 3", WAIT);
    assert!(screen.contains("○ pending"), "{screen}");
    assert!(screen.contains("#1") && screen.contains("#3"), "{screen}");
    wait_until("two creates", || sim.stat("creates") == 2);

    // `?` lists the queue's keys, from the registry (found with the help's own search: the
    // help is longer than the screen).
    tui.send(b"?");
    tui.wait_text("Help — keys", WAIT);
    tui.send(b"/submission queue\r");
    tui.wait_text("“submission queue”: match 1/", WAIT);
    let help = tui.wait_text("pause or resume the submission queue", WAIT);
    assert!(
        help.contains("remove marked, else selected, pending rows"),
        "{help}"
    );
    tui.send(b"\x1b"); // drops the search
    tui.wait_text("Help — keys (Esc closes", WAIT);
    tui.send(b"\x1b");
    tui.wait_for("help to close", WAIT, |s| !s.contains("Help — keys"));

    // Pause: the header says so.
    tui.send(b"P");
    tui.wait_text("queue 3 paused", WAIT);

    // The newest row is selected first: a pending one. Remove it (asks first).
    tui.send(b"X");
    tui.wait_text("Remove 1 pending row(s) from the queue?", WAIT);
    tui.send(b"y");
    tui.wait_text("queue 2 paused", WAIT);

    // Resume: still at the cap (the two sent tasks are held queued), so nothing more goes out.
    tui.send(b"P");
    tui.wait_text("queue resumed", WAIT);
    let screen = tui.wait_text("○ queue 2", WAIT);
    assert!(!screen.contains("paused"), "{screen}");

    // The composer at the cap: Ctrl-S queues the draft as a pending row.
    tui.send(b"n");
    tui.wait_text("Describe the video", WAIT);
    tui.send(b"composed at the cap [[sim:hold]]");
    tui.send(b"\x13");
    tui.wait_text("waiting in the submission queue", WAIT);
    tui.wait_text("○ queue 3", WAIT);
    // Two more looks at the full cap: at least one began after the draft was queued.
    let looked = looks_at_the_full_cap(&log);
    wait_until("two looks at the full cap", || {
        looks_at_the_full_cap(&log) >= looked + 2
    });
    assert_eq!(sim.stat("creates"), 2, "nothing beyond the cap was sent");
    drop(tui);

    let s = seedance_tui::store::Store::open(Path::new(store)).expect("open");
    let pending = s.queue(None).expect("queue");
    assert_eq!(pending.len(), 3);
    assert_eq!(
        pending.last().map(|r| r.prompt.as_str()),
        Some("composed at the cap [[sim:hold]]"),
        "the composer's request joins the end of the queue"
    );
}

#[test]
fn a_daemon_feeds_a_detached_batch() {
    let sim = SimProcess::builder().speed(400.0).start();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("s.sqlite3");
    let store = store.to_str().expect("utf8");
    let cfg = config(dir.path(), 3);
    let common = ["--store", store, "--base-url", &sim.base, "--config", &cfg];
    detach_batch(dir.path(), &common, 4);
    let log = dir.path().join("daemon.log");
    let mut c = bin(dir.path());
    c.args(common)
        .arg("--log")
        .arg(&log)
        .args(["watch", "--daemon"])
        .env("SEEDANCE_API_KEY", KEY)
        .env("SEEDANCE_LOG", "debug");
    let daemon = Proc::spawn(c);
    daemon.wait_line("the daemon leads", WAIT, |l| {
        l.text.contains("polling this store")
    });
    wait_until("three creates", || sim.stat("creates") == 3);
    // The held tasks keep the cap full: the fourth waits, however often the feeder looks.
    wait_until("two looks at the full cap", || {
        looks_at_the_full_cap(&log) >= 2
    });
    assert_eq!(sim.stat("creates"), 3, "the daemon respects the cap");
    let s = seedance_tui::store::Store::open(Path::new(store)).expect("open");
    assert_eq!(s.queue(None).expect("queue").len(), 1);
}

#[test]
fn over_the_budget_the_queue_names_the_budget_and_the_header_keeps_its_numbers_at_80x24() {
    let sim = SimProcess::builder().speed(400.0).start();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("s.sqlite3");
    let store = store.to_str().expect("utf8");
    let path = dir.path().join("config.toml");
    std::fs::write(
        &path,
        "[poll]\ninterval_secs = 1\nrequests_per_second = 50\nlease_secs = 1\n\
         [download]\nauto = false\n[pricing]\nper_million_tokens = 10.0\ncurrency = \"¥\"\n\
         [budget]\ndaily_money = 0.01\n",
    )
    .expect("config");
    let cfg = path.to_str().expect("utf8");
    let common = ["--store", store, "--base-url", &sim.base, "--config", cfg];
    // One task paid past the cap, on purpose.
    let out = bin(dir.path())
        .args(common)
        .args([
            "submit",
            "--prompt",
            "paid [[sim:succeed]]",
            "--over-budget",
            "--wait",
        ])
        .env("SEEDANCE_API_KEY", KEY)
        .output()
        .expect("submit");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A detached batch over the cap is queued, and says at once that it waits.
    let file = dir.path().join("b.jsonl");
    std::fs::write(
        &file,
        "{\"model\":\"doubao-seedance-2-0-fast-260128\",\"content\":[{\"type\":\"text\",\"text\":\"one\"}]}\n\
         {\"model\":\"doubao-seedance-2-0-fast-260128\",\"content\":[{\"type\":\"text\",\"text\":\"two\"}]}\n",
    )
    .expect("batch");
    let out = bin(dir.path())
        .args(common)
        .args([
            "submit",
            "--batch",
            file.to_str().expect("utf8"),
            "--detach",
        ])
        .env("SEEDANCE_API_KEY", KEY)
        .output()
        .expect("submit");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("queued 2 request(s)"), "{stderr}");
    assert!(
        stderr.contains("warning: the queue is held (budget"),
        "over the cap is said at once: {stderr}"
    );

    let tui = Pty::spawn(&common, 80, 24, &[("SEEDANCE_API_KEY", KEY)], dir.path());
    let screen = tui.wait_text("queue 2 held: over budget", WAIT);
    assert!(!screen.contains("server busy"), "{screen}");
    let first = screen.lines().next().unwrap_or_default();
    assert!(
        first.trim_end().ends_with("/ ¥0.01"),
        "the spend against the cap is never cut: {first:?}"
    );
    assert_eq!(sim.stat("creates"), 1, "nothing over the cap was sent");
}
