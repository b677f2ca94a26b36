//! `watch` prints a status change as soon as its own poller sees it: the line comes straight
//! from the poller in the same process, not from the store watcher's next check.

use crate::support::process::{Proc, bin_on, http_post, run};
use crate::support::sim::SimProcess;
use std::time::Duration;

#[test]
fn watch_prints_a_change_its_own_poller_sees_without_the_store_watcher() {
    // The simulator's clock only moves on its own at real speed: the task stays queued or
    // running (60-200 s) until the test advances it.
    let sim = SimProcess::builder().speed(1.0).start();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("s.sqlite3");
    // The store watcher checks once at start and then not for an hour: whatever `watch` prints
    // after that can only have come from its poller.
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        "[poll]\ninterval_secs = 1\nrequests_per_second = 50\nstore_check_secs = 3600\n\
         [download]\nauto = false\n",
    )
    .expect("write config");
    let cmd = || {
        let mut c = bin_on(dir.path(), &store, &sim.base, "sk-watch-test-key-51c2");
        c.args(["--config", config.to_str().expect("utf8")]);
        c
    };
    let (code, stdout, stderr) =
        run(cmd().args(["submit", "--prompt", "harbour at dawn [[sim:succeed]]"]));
    assert_eq!(code, 0, "{stderr}");
    let id = stdout.trim().to_string();
    assert!(id.starts_with("cgt-"), "{stdout}");

    let mut c = cmd();
    c.args(["watch", &id]);
    let mut watch = Proc::spawn(c);
    let long = Duration::from_secs(60);
    watch.wait_line("the task's first line", long, |l| {
        !l.err && l.text.contains(&id) && l.text.contains("queued")
    });
    // stdout and stderr are read apart: the lease line may have come first.
    let leader = |l: &crate::support::process::Line| l.err && l.text.contains("polling this store");
    if !watch.lines.lock().expect("lines").iter().any(leader) {
        watch.wait_line("the poller lease", long, leader);
    }

    // Two simulated hours later the task has succeeded; the next poll (1 s apart) sees it.
    let status = http_post(&sim.control("advance"), r#"{"secs": 7200}"#);
    assert!(status.contains("200"), "advance: {status}");
    let line = watch.wait_line("the succeeded line", long, |l| {
        !l.err && l.text.contains(&id) && l.text.contains("succeeded")
    });
    assert!(line.text.contains("tokens="), "{}", line.text);
    let summary =
        |l: &crate::support::process::Line| l.err && l.text.contains("1 succeeded, 0 failed");
    if !watch.lines.lock().expect("lines").iter().any(summary) {
        watch.wait_line("the summary", long, summary);
    }
    let code = watch.child.wait().expect("watch exits").code();
    assert_eq!(code, Some(0), "{}", watch.dump());
}

/// A relay base URL given on the command line makes `watch` a relay client everywhere, the
/// poller included (`config::is_relay`): its tasks are asked by id and the list, which a relay
/// answers with its web page, is never asked, not even once to probe it.
#[test]
fn watch_through_a_relay_base_url_never_asks_the_list() {
    let sim = SimProcess::builder().speed(1.0).start();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("s.sqlite3");
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        "[poll]\ninterval_secs = 1\nrequests_per_second = 50\n[download]\nauto = false\n",
    )
    .expect("write config");
    let relay = sim.relay_base();
    let cmd = || {
        let mut c = bin_on(dir.path(), &store, &relay, "sk-watch-relay-key-83d1");
        c.args(["--config", config.to_str().expect("utf8")]);
        c
    };
    let (code, stdout, stderr) =
        run(cmd().args(["submit", "--prompt", "lighthouse in fog [[sim:succeed]]"]));
    assert_eq!(code, 0, "{stderr}");
    let id = stdout.trim().to_string();
    let mut c = cmd();
    c.args(["watch", &id]);
    let mut watch = Proc::spawn(c);
    let long = Duration::from_secs(60);
    watch.wait_line("the task's first line", long, |l| {
        !l.err && l.text.contains(&id) && l.text.contains("queued")
    });
    let status = http_post(&sim.control("advance"), r#"{"secs": 7200}"#);
    assert!(status.contains("200"), "advance: {status}");
    watch.wait_line("the succeeded line", long, |l| {
        !l.err && l.text.contains(&id) && l.text.contains("succeeded")
    });
    let code = watch.child.wait().expect("watch exits").code();
    assert_eq!(code, Some(0), "{}", watch.dump());
    assert_eq!(sim.stat("lists"), 0, "no list request through a relay");
    assert!(sim.stat("gets") >= 2, "the task was asked by id");
}
