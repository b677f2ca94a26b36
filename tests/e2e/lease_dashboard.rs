//! A dashboard sharing its store with a `watch --daemon` only follows: its header names the
//! poller, it shows the daemon's results from the store, and it takes polling over when the
//! daemon is killed.

use crate::support::process::{Proc, bin, fast_config};
use crate::support::pty::Pty;
use crate::support::sim::SimProcess;
use std::path::{Path, PathBuf};
use std::time::Duration;

const KEY: &str = "sk-lease-dashboard-key";
const WAIT: Duration = Duration::from_secs(30);

/// What every process of a test shares: its working dir, one store, one server, one config.
struct Setup {
    dir: PathBuf,
    store: String,
    base: String,
    config: String,
}

impl Setup {
    fn new(dir: &Path, base: &str, config: &Path) -> Setup {
        Setup {
            dir: dir.to_path_buf(),
            store: dir.join("s.sqlite3").to_str().expect("utf8").to_string(),
            base: base.to_string(),
            config: config.to_str().expect("utf8").to_string(),
        }
    }

    fn common(&self) -> [&str; 6] {
        [
            "--store",
            &self.store,
            "--base-url",
            &self.base,
            "--config",
            &self.config,
        ]
    }

    /// `watch --daemon`, once it holds the lease.
    fn daemon(&self) -> Proc {
        let mut c = bin(&self.dir);
        c.args(self.common())
            .args(["watch", "--daemon"])
            .env("SEEDANCE_API_KEY", KEY);
        let daemon = Proc::spawn(c);
        daemon.wait_line("the daemon leads", WAIT, |l| {
            l.text.contains("polling this store")
        });
        daemon
    }

    /// The dashboard, once it shows that it follows the daemon.
    fn following_dashboard(&self) -> Pty {
        let tui = Pty::spawn(
            &self.common(),
            160,
            40,
            &[("SEEDANCE_API_KEY", KEY)],
            &self.dir,
        );
        tui.wait_text("following the poller: watch --daemon", WAIT);
        tui
    }

    /// `submit --prompt PROMPT` from another process; it must succeed.
    fn submit(&self, prompt: &str) {
        let out = bin(&self.dir)
            .args(self.common())
            .args(["submit", "--prompt", prompt])
            .env("SEEDANCE_API_KEY", KEY)
            .output()
            .expect("submit");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn dashboard_follows_a_daemon_then_takes_over() {
    let sim = SimProcess::builder().speed(1000.0).start();
    let dir = tempfile::tempdir().expect("tempdir");
    let setup = Setup::new(dir.path(), &sim.base, &fast_config(dir.path(), 1.0));

    let mut daemon = setup.daemon();

    let tui = setup.following_dashboard();

    // A task submitted from elsewhere is polled by the daemon and shows finished in the table.
    setup.submit("lighthouse at dusk [[sim:succeed]]");
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
    let mut sim = Some(SimProcess::builder().speed(1000.0).start());
    let base = sim.as_ref().expect("sim").base.clone();
    let dir = tempfile::tempdir().expect("tempdir");
    let setup = Setup::new(dir.path(), &base, &fast_config(dir.path(), 1.0));
    setup.submit("kept waiting [[sim:hold]]");
    let _daemon = setup.daemon();
    let tui = setup.following_dashboard();
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
    let sim = SimProcess::builder().speed(1000.0).start();
    let dir = tempfile::tempdir().expect("tempdir");
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
    let setup = Setup::new(dir.path(), &sim.base, &config);
    // The daemon holds the lease but does not download (no --download).
    let mut daemon = setup.daemon();
    let mut tui = setup.following_dashboard();
    setup.submit("saved once [[sim:succeed]]");
    tui.wait_for("the result in the table", WAIT, |s| {
        s.contains("saved once") && s.contains("1 done")
    });
    // A follower neither downloads on its own nor when asked.
    tui.send(b"d");
    tui.wait_text("another process downloads for this store", WAIT);
    assert_eq!(sim.stat("downloads"), 0, "a follower downloaded");
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
