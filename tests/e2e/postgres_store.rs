//! A team store on a real PostgreSQL server, from the real binary against the simulator:
//! `submit`, `ls`, `get` and `watch --daemon` run on it, and a dashboard in a PTY opens it,
//! follows the daemon and shows a task another process submits as it finishes (told by the
//! store's notification, not by reading on a timer). The password never reaches the output.

use crate::support::postgres::TestDb;
use crate::support::process::{Proc, bin, fast_config, run};
use crate::support::pty::Pty;
use crate::support::sim::SimProcess;
use serde_json::Value;
use std::time::Duration;

const KEY: &str = "sk-team-store-key";
const WAIT: Duration = Duration::from_secs(30);

#[test]
fn the_commands_the_daemon_and_the_dashboard_share_a_postgres_store() {
    let Some(db) = TestDb::create("e2e_team_store") else {
        return;
    };
    let password = std::env::var("PGPASSWORD").expect("the fixture checked it");
    let sim = SimProcess::builder().speed(1000.0).start();
    let dir = tempfile::tempdir().expect("tempdir");
    let config = fast_config(dir.path(), 1.0);
    let common = [
        "--store",
        &db.url,
        "--base-url",
        &sim.base,
        "--config",
        config.to_str().expect("utf8"),
    ];
    let cmd = |args: &[&str]| {
        let mut c = bin(dir.path());
        c.args(common).args(args).env("SEEDANCE_API_KEY", KEY);
        c
    };
    let clean = |text: &str| assert!(!text.contains(&password), "the password shows: {text}");

    let (code, out, err) = run(&mut cmd(&[
        "submit",
        "--prompt",
        "harbour at dawn [[sim:succeed]]",
        "--wait",
    ]));
    assert_eq!(code, 0, "{out}{err}");
    clean(&out);
    clean(&err);
    let id = out.trim().to_string();
    assert!(id.starts_with("cgt-"), "{out}");

    let (code, out, err) = run(&mut cmd(&["ls"]));
    assert_eq!(code, 0, "{err}");
    let row = out
        .lines()
        .find(|l| l.contains(&id))
        .unwrap_or_else(|| panic!("ls lists {id}: {out}"));
    assert!(row.contains("harbour at dawn"), "{row}");

    let (code, out, err) = run(&mut cmd(&["get", &id]));
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["id"], id.as_str());
    assert_eq!(v["status"], "succeeded", "{out}");

    // The daemon polls the store; a dashboard opening it follows the daemon.
    let mut c = cmd(&["watch", "--daemon"]);
    c.env("SEEDANCE_API_KEY", KEY);
    let mut daemon = Proc::spawn(c);
    daemon.wait_line("the daemon leads", WAIT, |l| {
        l.text.contains("polling this store")
    });
    let tui = Pty::spawn(&common, 160, 40, &[("SEEDANCE_API_KEY", KEY)], dir.path());
    tui.wait_text("following the poller: watch --daemon", WAIT);
    let screen = tui.wait_text("harbour at dawn", WAIT);
    clean(&screen);

    // Submitted by another process, polled by the daemon, seen finished by the dashboard.
    let (code, out, err) = run(&mut cmd(&[
        "submit",
        "--prompt",
        "lighthouse at dusk [[sim:succeed]]",
    ]));
    assert_eq!(code, 0, "{out}{err}");
    let second = out.trim().to_string();
    tui.wait_for("the daemon's result in the table", WAIT, |s| {
        s.contains("lighthouse at dusk") && s.contains("2 done")
    });
    let (code, out, _) = run(&mut cmd(&["get", &second]));
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["status"], "succeeded", "{out}");
    daemon.kill();
}
