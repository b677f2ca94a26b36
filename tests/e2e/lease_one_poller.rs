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
    daemon_on(dir, store, config, base, None)
}

/// A `watch --daemon` on `store`, on the "host" `host` names (`SEEDANCE_HOST`) when given.
fn daemon_on(dir: &Path, store: &Path, config: &Path, base: &str, host: Option<&str>) -> Proc {
    let mut c = bin_on(dir, store, base, KEY);
    c.args(["--config", config.to_str().expect("utf8")])
        .args(["watch", "--daemon"]);
    if let Some(h) = host {
        c.env("SEEDANCE_HOST", h);
    }
    Proc::spawn(c)
}

/// `pid N@` and, on a named host, `pid N@HOST`: how a holder names the process.
fn named(p: &Proc, host: Option<&str>) -> String {
    format!("pid {}@{}", p.pid(), host.unwrap_or(""))
}

/// Daemons on `hosts` (one each) share `store`: the first polls, each other one follows it,
/// pointed at a decoy simulator of its own that must receive no polls at all, and prints the
/// same changes from the store; after a SIGKILL of the holder one follower takes over within
/// the lease time and the others keep following. `holder` reads the lease row's holder.
fn one_poller_then_takeover(store: &Path, hosts: &[Option<&str>], holder: impl Fn() -> String) {
    let sim = SimProcess::builder().speed(1000.0).start();
    let decoys: Vec<SimProcess> = hosts[1..]
        .iter()
        .map(|_| SimProcess::builder().speed(1000.0).start())
        .collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let lease_secs = 1.0;
    let config = fast_config(dir.path(), lease_secs);
    // A task that stays queued, so there is always something to poll.
    let held = submit(dir.path(), store, &sim.base, "hold [[sim:hold]]");

    let mut a = daemon_on(dir.path(), store, &config, &sim.base, hosts[0]);
    a.wait_line("A to take the lease", Duration::from_secs(20), |l| {
        l.err && l.text.contains("polling this store")
    });
    let followers: Vec<Proc> = hosts[1..]
        .iter()
        .zip(&decoys)
        .map(|(host, decoy)| daemon_on(dir.path(), store, &config, &decoy.base, *host))
        .collect();
    for f in &followers {
        let following = f.wait_line("a follower to follow", Duration::from_secs(20), |l| {
            l.err && l.text.contains("following:")
        });
        assert!(
            following.text.contains(&named(&a, hosts[0])),
            "the follower names A as the poller: {}",
            following.text
        );
    }

    // A new task from another process: A polls it to the end; every follower prints it.
    let quick = submit(dir.path(), store, &sim.base, "quick [[sim:succeed]]");
    for f in &followers {
        let seen = f.wait_line(
            "a follower to see A's result",
            Duration::from_secs(30),
            |l| !l.err && l.text.contains(&quick) && l.text.contains("succeeded"),
        );
        assert!(seen.text.contains("succeeded"));
    }
    a.wait_line("A to print it too", Duration::from_secs(10), |l| {
        !l.err && l.text.contains(&quick) && l.text.contains("succeeded")
    });
    assert!(polls(&sim) > 0, "A polled the real simulator");
    for decoy in &decoys {
        assert_eq!(polls(decoy), 0, "no follower polled while A held the lease");
    }

    // SIGKILL the holder: its lease row stays behind until it expires; a follower then takes
    // over (the lease row names it first: it is the one that says so).
    a.kill();
    let killed = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(20);
    let next = loop {
        let h = holder();
        if let Some(i) = followers
            .iter()
            .zip(&hosts[1..])
            .position(|(f, host)| h.contains(&named(f, *host)))
        {
            break i;
        }
        assert!(
            Instant::now() < deadline,
            "no follower took over; the row says {h}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    followers[next].wait_line("B to take over", Duration::from_secs(20), |l| {
        l.err && l.text.contains("polling this store")
    });
    let took = killed.elapsed();
    assert!(
        took < Duration::from_secs_f64(lease_secs + 3.0),
        "took over after {took:?}, lease is {lease_secs}s"
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while polls(&decoys[next]) == 0 {
        assert!(
            Instant::now() < deadline,
            "B never polled after taking over"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let lease = holder();
    assert!(
        lease.contains(&named(&followers[next], hosts[1 + next])),
        "{lease}"
    );
    // The others follow the new holder and never poll.
    for (i, (f, decoy)) in followers.iter().zip(&decoys).enumerate() {
        if i == next {
            continue;
        }
        f.wait_line("the others to follow B", Duration::from_secs(20), |l| {
            l.err
                && l.text.contains("following:")
                && l.text.contains(&named(&followers[next], hosts[1 + next]))
        });
        assert_eq!(polls(decoy), 0, "only B polls after the takeover");
    }
    assert!(!held.is_empty());
}

#[test]
fn exactly_one_process_polls_and_a_killed_holder_is_replaced() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("shared.sqlite3");
    let read = store.clone();
    one_poller_then_takeover(&store, &[None, None], move || {
        Store::open(&read)
            .expect("open")
            .lease("poller")
            .expect("read")
            .map(|l| l.holder)
            .unwrap_or_default()
    });
}

/// Three daemons on three "hosts" (`SEEDANCE_HOST`) sharing one PostgreSQL store: one polls,
/// and a SIGKILLed holder is replaced within the lease time, judged by the server's clock.
#[test]
fn exactly_one_host_polls_a_postgres_store_and_a_killed_holder_is_replaced() {
    let Some(db) = crate::support::postgres::TestDb::create("one_poller_hosts") else {
        return;
    };
    let url = db.url.clone();
    one_poller_then_takeover(
        Path::new(&db.url),
        &[Some("host-a"), Some("host-b"), Some("host-c")],
        move || {
            crate::support::postgres::client(&url)
                .query_opt("SELECT holder FROM leases WHERE name = 'poller'", &[])
                .expect("read")
                .map(|r| r.get::<_, String>(0))
                .unwrap_or_default()
        },
    );
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
