//! A dashboard sharing its store with a `watch --daemon` only follows: its header names the
//! poller, it shows the daemon's results from the store, and it takes polling over when the
//! daemon is killed.

mod lease_processes;
mod pty_harness;
mod sim_process;

use lease_processes::{Proc, bin, fast_config};
use pty_harness::Pty;
use sim_process::SimProcess;
use std::time::Duration;

const KEY: &str = "sk-lease-dashboard-key";
const WAIT: Duration = Duration::from_secs(30);

#[test]
fn dashboard_follows_a_daemon_then_takes_over() {
    let sim = SimProcess::start(&["--speed", "1000", "--fail-rate", "0"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("s.sqlite3");
    let store_s = store.to_str().expect("utf8").to_string();
    let config = fast_config(dir.path(), 1.0);
    let config_s = config.to_str().expect("utf8").to_string();
    let common = [
        "--store",
        &store_s,
        "--base-url",
        &sim.base,
        "--config",
        &config_s,
    ];

    let mut c = bin(dir.path());
    c.args(common)
        .args(["watch", "--daemon"])
        .env("SEEDANCE_API_KEY", KEY);
    let mut daemon = Proc::spawn(c);
    daemon.wait_line("the daemon leads", WAIT, |l| {
        l.text.contains("polling this store")
    });

    let tui = Pty::spawn(&common, 160, 40, &[("SEEDANCE_API_KEY", KEY)], dir.path());
    tui.wait_text("following the poller: watch --daemon", WAIT);

    // A task submitted from elsewhere is polled by the daemon and shows finished in the table.
    let out = bin(dir.path())
        .args(common)
        .args(["submit", "--prompt", "lighthouse at dusk [[sim:succeed]]"])
        .env("SEEDANCE_API_KEY", KEY)
        .output()
        .expect("submit");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    tui.wait_for("the daemon's result in the table", WAIT, |s| {
        s.contains("lighthouse") && s.contains("1 done")
    });

    daemon.kill();
    tui.wait_for("the dashboard to poll itself", WAIT, |s| {
        !s.contains("following the poller") && s.contains("watched")
    });
}

#[test]
fn a_following_dashboard_shows_the_pollers_trouble() {
    let mut sim = Some(SimProcess::start(&["--speed", "1000", "--fail-rate", "0"]));
    let base = sim.as_ref().expect("sim").base.clone();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("s.sqlite3");
    let store_s = store.to_str().expect("utf8").to_string();
    let config = fast_config(dir.path(), 1.0);
    let config_s = config.to_str().expect("utf8").to_string();
    let common = [
        "--store",
        &store_s,
        "--base-url",
        &base,
        "--config",
        &config_s,
    ];
    let out = bin(dir.path())
        .args(common)
        .args(["submit", "--prompt", "kept waiting [[sim:hold]]"])
        .env("SEEDANCE_API_KEY", KEY)
        .output()
        .expect("submit");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut c = bin(dir.path());
    c.args(common)
        .args(["watch", "--daemon"])
        .env("SEEDANCE_API_KEY", KEY);
    let daemon = Proc::spawn(c);
    daemon.wait_line("the daemon leads", WAIT, |l| {
        l.text.contains("polling this store")
    });
    let tui = Pty::spawn(&common, 160, 40, &[("SEEDANCE_API_KEY", KEY)], dir.path());
    tui.wait_text("following the poller: watch --daemon", WAIT);
    // The server goes away: the daemon's banner reaches the follower's header.
    sim.take();
    tui.wait_text("server unreachable", WAIT);
    let screen = tui.screen();
    assert!(screen.contains("following the poller"), "{screen}");
}

/// Poll `f` until it is true or `timeout` passes; false on timeout.
fn eventually(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + timeout;
    while std::time::Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    f()
}

#[test]
fn only_the_lease_holder_downloads() {
    let sim = SimProcess::start(&["--speed", "1000", "--fail-rate", "0"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("s.sqlite3");
    let store_s = store.to_str().expect("utf8").to_string();
    let out_dir = dir.path().join("out");
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[poll]\ninterval_secs = 1\nrequests_per_second = 50\nlease_secs = 1\n\
             [download]\nauto = true\noutput_dir = {:?}\n",
            out_dir.to_str().expect("utf8")
        ),
    )
    .expect("write config");
    let config_s = config.to_str().expect("utf8").to_string();
    let common = [
        "--store",
        &store_s,
        "--base-url",
        &sim.base,
        "--config",
        &config_s,
    ];
    // The daemon holds the lease but does not download (no --download).
    let mut c = bin(dir.path());
    c.args(common)
        .args(["watch", "--daemon"])
        .env("SEEDANCE_API_KEY", KEY);
    let mut daemon = Proc::spawn(c);
    daemon.wait_line("the daemon leads", WAIT, |l| {
        l.text.contains("polling this store")
    });
    let mut tui = Pty::spawn(&common, 160, 40, &[("SEEDANCE_API_KEY", KEY)], dir.path());
    tui.wait_text("following the poller: watch --daemon", WAIT);
    let out = bin(dir.path())
        .args(common)
        .args(["submit", "--prompt", "saved once [[sim:succeed]]"])
        .env("SEEDANCE_API_KEY", KEY)
        .output()
        .expect("submit");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    tui.wait_for("the result in the table", WAIT, |s| {
        s.contains("saved once") && s.contains("1 done")
    });
    // A follower neither downloads on its own nor when asked.
    tui.send(b"d");
    tui.wait_text("another process downloads for this store", WAIT);
    assert_eq!(
        lease_processes::sim_stats(&sim)["downloads"].as_u64(),
        Some(0),
        "a follower downloaded"
    );
    // The holder goes away: the dashboard takes over and saves the unsaved result.
    daemon.kill();
    assert!(
        eventually(WAIT, || {
            std::fs::read_dir(&out_dir).is_ok_and(|d| {
                d.filter_map(Result::ok)
                    .any(|e| e.path().extension().is_some_and(|x| x == "mp4"))
            })
        }),
        "the new holder saved the video; screen:\n{}",
        tui.screen()
    );
}
