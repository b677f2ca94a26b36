//! A task the server says does not exist (its 7-day retention passed on the simulator's clock)
//! becomes `lost`: settled with the reason and the date, out of the in-flight count (a queue
//! capped at one is not stalled by it), and retryable from its stored request.

use crate::support::process::{bin_on, http_post, run};
use crate::support::sim::SimProcess;
use serde_json::Value;
use std::process::Command;

#[test]
fn a_task_the_server_forgot_is_lost_frees_its_slot_and_can_be_retried() {
    let sim = SimProcess::builder().speed(1000.0).start();
    let base = sim.base.clone();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("lost.sqlite3");
    let cmd = || -> Command { bin_on(dir.path(), &store, &base, "sk-lost-tasks") };
    let (code, stdout, stderr) = run(cmd().args(["submit", "--prompt", "a heron [[sim:hold]]"]));
    assert_eq!(code, 0, "{stderr}");
    let id = stdout.trim().to_string();
    // Eight days pass on the server: its record is gone.
    let moved = http_post(&sim.control("advance"), r#"{"secs": 691200}"#);
    assert!(moved.contains("200"), "{moved}");

    // `watch` sees the 404 and settles the task as lost (a failure: exit 1, not a network
    // error).
    let (code, stdout, stderr) = run(cmd().arg("watch"));
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    let (_, stdout, _) = run(cmd().args(["get", &id]));
    let v: Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(v["status"], "lost", "{v}");
    let message = v["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("does not exist") && message.contains(" UTC"),
        "the reason and the date: {message}"
    );

    // It no longer counts in flight: a queue capped at one sends its line.
    let file = dir.path().join("one.jsonl");
    std::fs::write(
        &file,
        "{\"model\":\"doubao-seedance-2-0-fast-260128\",\"content\":[{\"type\":\"text\",\"text\":\"after [[sim:succeed]]\"}]}\n",
    )
    .expect("write");
    let f = file.to_str().expect("utf8");
    let mut batch = cmd();
    batch.args(["submit", "--batch", f, "--max-in-flight", "1", "--wait"]);
    let mut child = batch
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starts");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("the batch stalled behind the lost task");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(status.success());

    // Retried from its stored request.
    let creates = sim.stat("creates");
    let (code, stdout, stderr) = run(cmd().args(["retry", &id]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains(&id), "{stdout}");
    assert_eq!(sim.stat("creates"), creates + 1);
}
