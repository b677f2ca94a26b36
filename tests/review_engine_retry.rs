//! `retry` never sends one stored request twice in one run: a task named twice (by id and by
//! prefix), or named and also matched by `--failed`, is resubmitted once.

mod sim_process;

use sim_process::{SimProcess, bin, run};
use std::process::Command;

#[test]
fn a_task_named_twice_is_retried_once() {
    let sim = SimProcess::start(&["--speed", "1000", "--fail-rate", "0"]);
    let base = sim.base.clone();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("shared.sqlite3");
    let common = |c: &mut Command| {
        c.args([
            "--store",
            store.to_str().expect("utf8"),
            "--base-url",
            &base,
        ])
        .env("SEEDANCE_API_KEY", "sk-review-retry-key-1c2d");
    };
    let mut c = bin();
    common(&mut c);
    let (code, stdout, stderr) = run(c.args(["submit", "--prompt", "one [[sim:fail]]"]));
    assert_eq!(code, 0, "{stderr}");
    let id = stdout.trim().to_string();
    let mut c = bin();
    common(&mut c);
    let (code, stdout, stderr) = run(c.arg("watch"));
    assert_eq!(code, 1, "the task failed: {stdout}\n{stderr}");

    // By full id, by a prefix of it, and again through --failed: one task, one create.
    let prefix = &id[..id.len() - 2];
    let mut c = bin();
    common(&mut c);
    let (code, stdout, stderr) = run(c.args(["retry", &id, prefix, "--failed"]));
    assert_eq!(code, 0, "{stdout}\n{stderr}");

    let mut c = bin();
    common(&mut c);
    let (_, stdout, _) = run(c.args(["ls", "--json"]));
    let retries = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["retry_depth"] == 1)
        .count();
    assert_eq!(retries, 1, "one retry row, not one per mention:\n{stdout}");
}
