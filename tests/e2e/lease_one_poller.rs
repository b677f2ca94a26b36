//! One poller per store, with the real binary: two `watch --daemon` processes share a store;
//! exactly one polls (the follower is pointed at a second, decoy simulator, which must receive
//! no polls at all), the follower prints the same changes from the store, and after a SIGKILL of
//! the holder the follower takes over within the lease timeout.

use crate::support::process::{Proc, bin_on, fast_config};
use crate::support::sim::SimProcess;
use seedance_tui::store::Store;
use std::path::Path;
use std::time::{Duration, Instant};

const KEY: &str = "sk-lease-test-key";

fn submit(dir: &Path, store: &Path, base: &str, prompt: &str) -> String {
    let out = bin_on(dir, store, base, KEY)
        .args(["submit", "--prompt", prompt])
        .output()
        .expect("submit runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn daemon(dir: &Path, store: &Path, config: &Path, base: &str) -> Proc {
    let mut c = bin_on(dir, store, base, KEY);
    c.args(["--config", config.to_str().expect("utf8")])
        .args(["watch", "--daemon"]);
    Proc::spawn(c)
}

#[test]
fn exactly_one_process_polls_and_a_killed_holder_is_replaced() {
    let sim = SimProcess::builder().speed(1000.0).start();
    let decoy = SimProcess::builder().speed(1000.0).start();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("shared.sqlite3");
    let lease_secs = 1.0;
    let config = fast_config(dir.path(), lease_secs);
    // A task that stays queued, so there is always something to poll.
    let held = submit(dir.path(), &store, &sim.base, "hold [[sim:hold]]");

    let mut a = daemon(dir.path(), &store, &config, &sim.base);
    a.wait_line("A to take the lease", Duration::from_secs(20), |l| {
        l.err && l.text.contains("polling this store")
    });
    let b = daemon(dir.path(), &store, &config, &decoy.base);
    let following = b.wait_line("B to follow", Duration::from_secs(20), |l| {
        l.err && l.text.contains("following:")
    });
    assert!(
        following.text.contains(&format!("pid {}@", a.pid())),
        "B names A as the poller: {}",
        following.text
    );

    // A new task from a third process: A polls it to the end; B prints the same change.
    let quick = submit(dir.path(), &store, &sim.base, "quick [[sim:succeed]]");
    let seen_by_b = b.wait_line("B to see A's result", Duration::from_secs(30), |l| {
        !l.err && l.text.contains(&quick) && l.text.contains("succeeded")
    });
    assert!(seen_by_b.text.contains("succeeded"));
    a.wait_line("A to print it too", Duration::from_secs(10), |l| {
        !l.err && l.text.contains(&quick) && l.text.contains("succeeded")
    });
    assert!(polls(&sim) > 0, "A polled the real simulator");
    assert_eq!(polls(&decoy), 0, "B never polled while A held the lease");

    // SIGKILL the holder: its lease row stays behind until it expires; B then takes over.
    a.kill();
    let killed = Instant::now();
    b.wait_line("B to take over", Duration::from_secs(20), |l| {
        l.err && l.text.contains("polling this store")
    });
    let took = killed.elapsed();
    assert!(
        took < Duration::from_secs_f64(lease_secs + 3.0),
        "took over after {took:?}, lease is {lease_secs}s"
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while polls(&decoy) == 0 {
        assert!(
            Instant::now() < deadline,
            "B never polled after taking over"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let lease = Store::open(&store)
        .expect("open")
        .lease("poller")
        .expect("read")
        .expect("a lease row");
    assert!(
        lease.holder.contains(&format!("pid {}@", b.pid())),
        "{}",
        lease.holder
    );
    assert!(!held.is_empty());
}

#[test]
fn a_clean_exit_releases_the_lease_at_once() {
    let sim = SimProcess::builder().speed(1000.0).start();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("s.sqlite3");
    // A long lease: only a release (not expiry) can hand over within the test's deadline.
    let config = fast_config(dir.path(), 600.0);
    submit(dir.path(), &store, &sim.base, "hold [[sim:hold]]");
    let mut a = daemon(dir.path(), &store, &config, &sim.base);
    a.wait_line("A leads", Duration::from_secs(20), |l| {
        l.text.contains("polling this store")
    });
    let b = daemon(dir.path(), &store, &config, &sim.base);
    b.wait_line("B follows", Duration::from_secs(20), |l| {
        l.text.contains("following:")
    });
    // SIGTERM: A releases the lease and exits 0.
    // SAFETY: plain kill(2) on our own child's pid.
    unsafe { libc::kill(a.pid() as i32, libc::SIGTERM) };
    let status = a.child.wait().expect("A exits");
    assert!(status.success(), "A exits 0 on SIGTERM: {status:?}");
    b.wait_line("B takes over", Duration::from_secs(20), |l| {
        l.text.contains("polling this store")
    });
}

#[test]
fn a_plain_watch_holding_the_lease_polls_every_task_of_the_store() {
    let sim = SimProcess::builder().speed(1000.0).start();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("s.sqlite3");
    let config = fast_config(dir.path(), 1.0);
    let held = submit(dir.path(), &store, &sim.base, "hold [[sim:hold]]");
    // `watch ID` follows one task, but as the lease holder it polls the whole store.
    let mut c = bin_on(dir.path(), &store, &sim.base, KEY);
    c.args(["--config", config.to_str().expect("utf8")])
        .args(["watch", &held]);
    let w = Proc::spawn(c);
    w.wait_line("watch leads", Duration::from_secs(20), |l| {
        l.text.contains("polling this store")
    });
    let other = submit(dir.path(), &store, &sim.base, "other [[sim:succeed]]");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let s = Store::open(&store).expect("open");
        if s.find(&other).expect("row").phase.as_str() == "succeeded" {
            break;
        }
        assert!(Instant::now() < deadline, "the other task was never polled");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_download_daemon_saves_waiting_and_new_results() {
    let sim = SimProcess::builder().speed(1000.0).start();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("s.sqlite3");
    let out = dir.path().join("videos");
    let config = fast_config(dir.path(), 1.0);
    // A result that succeeded while no poller downloaded it.
    let waiting = submit(dir.path(), &store, &sim.base, "waiting [[sim:succeed]]");
    let status = bin_on(dir.path(), &store, &sim.base, KEY)
        .args(["--config", config.to_str().expect("utf8"), "watch"])
        .status()
        .expect("watch");
    assert!(status.success());
    let mut c = bin_on(dir.path(), &store, &sim.base, KEY);
    c.args(["--config", config.to_str().expect("utf8")])
        .args(["watch", "--daemon", "--download", "--out"])
        .arg(&out);
    let d = Proc::spawn(c);
    let fresh = submit(dir.path(), &store, &sim.base, "fresh [[sim:succeed]]");
    let mut saved = std::collections::HashSet::new();
    while saved.len() < 2 {
        let line = d.wait_line("saved results", Duration::from_secs(30), |l| {
            !l.err && l.text.starts_with("saved ") && l.text.ends_with(".mp4")
        });
        for id in [&waiting, &fresh] {
            if line.text.contains(id.as_str()) {
                saved.insert(id.clone());
            }
        }
    }
    let s = Store::open(&store).expect("open");
    for id in [&waiting, &fresh] {
        let path = s.find(id).expect("row").video_path.expect("saved");
        assert_eq!(
            std::fs::read(&path).expect("file"),
            seedance_tui::sim::SAMPLE_MP4
        );
    }
}

#[test]
fn submit_wait_follows_the_process_that_holds_the_lease() {
    let sim = SimProcess::builder().speed(1000.0).start();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("s.sqlite3");
    let config = fast_config(dir.path(), 600.0);
    let a = daemon(dir.path(), &store, &config, &sim.base);
    a.wait_line("A leads", Duration::from_secs(20), |l| {
        l.err && l.text.contains("polling this store")
    });
    // `submit --wait` runs the same leased loop as `watch`: it follows A instead of polling.
    let out = bin_on(dir.path(), &store, &sim.base, KEY)
        .args(["--config", config.to_str().expect("utf8")])
        .args(["submit", "--prompt", "followed [[sim:succeed]]", "--wait"])
        .output()
        .expect("submit --wait runs");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    assert!(
        stderr.contains(&format!("following: watch --daemon pid {}@", a.pid())),
        "it follows the holder: {stderr}"
    );
    assert!(stderr.contains("succeeded"), "progress on stderr: {stderr}");
    let id = stdout.trim();
    assert!(id.starts_with("cgt-"), "the task id on stdout: {stdout}");
    a.wait_line("A polled it", Duration::from_secs(10), |l| {
        !l.err && l.text.contains(id) && l.text.contains("succeeded")
    });
}

/// Requests that poll: GETs by id and list requests (the simulator's base URL lists).
fn polls(sim: &SimProcess) -> u64 {
    sim.stat("gets") + sim.stat("lists")
}

/// A lease row left by a holder whose clock was an hour ahead: its `expires_at` is an hour in
/// the future by ours. Judged by its own timestamps it would hold for that hour with nobody
/// polling; a holder whose process is gone on this host is replaced at once, and one on
/// another host (its pid cannot be checked) once its heartbeat counter has not moved for a
/// lease time of the follower's own clock.
#[test]
fn a_lease_written_by_a_clock_an_hour_ahead_does_not_stop_polling() {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default();
    // A pid that existed and is gone (reaped).
    let mut gone = std::process::Command::new("true").spawn().expect("spawn");
    let dead_pid = gone.id();
    gone.wait().expect("reap");
    for holder in [
        format!("watch --daemon pid {dead_pid}@{host} #abcdef"),
        "watch --daemon pid 4242@another-host.example #abcdef".to_string(),
    ] {
        let sim = SimProcess::builder().speed(1000.0).start();
        let dir = tempfile::tempdir().expect("tempdir");
        let store = dir.path().join("shared.sqlite3");
        let config = fast_config(dir.path(), 1.0);
        submit(dir.path(), &store, &sim.base, "hold [[sim:hold]]");
        let ahead = chrono::Utc::now().timestamp_millis() + 3_600_000;
        Store::open(&store)
            .expect("open")
            .lease_acquire("poller", &holder, ahead, 1_000, None)
            .expect("the stale row");
        let before = polls(&sim);
        let d = daemon(dir.path(), &store, &config, &sim.base);
        // Within the deadline, not within the hour the row claims.
        d.wait_line(
            "the daemon to take the lease",
            Duration::from_secs(30),
            |l| l.err && l.text.contains("polling this store"),
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        while polls(&sim) == before {
            assert!(
                Instant::now() < deadline,
                "{holder}: no poll after taking over"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
