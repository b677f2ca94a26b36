//! End to end: the dashboard's pre-flight against the simulator as its own process. No key: the
//! header names the variables it looked in. A base URL without `/api/v3`: one probe, and the
//! header says the URL is not the Ark API, before anything is submitted.

use crate::support::pty::Pty;
use crate::support::sim::SimProcess;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(60);

#[test]
fn the_dashboard_says_what_is_wrong_before_the_first_submit() {
    let sim = SimProcess::builder().fail_rate(0.1).start();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("store.sqlite3");
    let store = store.to_str().expect("utf8 path");

    let args = ["--store", store, "--base-url", &sim.base];
    let mut pty = Pty::spawn(&args, 160, 30, &[], dir.path());
    pty.wait_text("no API key: looked in SEEDANCE_API_KEY, ARK_API_KEY", WAIT);
    pty.send(b"q");
    assert_eq!(pty.wait_exit(WAIT), Some(0));

    let host_only = sim.base.trim_end_matches("/api/v3").to_string();
    let args = ["--store", store, "--base-url", &host_only];
    let env = [("SEEDANCE_API_KEY", "sim-key")];
    let mut pty = Pty::spawn(&args, 160, 30, &env, dir.path());
    let screen = pty.wait_text("is not the Ark API", WAIT);
    assert!(
        screen.contains(&host_only),
        "the banner names the URL:\n{screen}"
    );
    assert!(!screen.contains("no API key"), "{screen}");
    pty.send(b"q");
    assert_eq!(pty.wait_exit(WAIT), Some(0));
}
