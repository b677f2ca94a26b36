//! Headless retries never pay twice, counted at the simulator: `retry --failed` run twice
//! sends 3 creates, then 0 (the README's cron line must not re-spend); `--dry-run` prints the
//! plan and sends nothing; `--max` caps a run; `--again` is the one explicit way to resubmit.
//! The daily spending cap refuses a submission or a retry before anything is sent, with the
//! numbers, and `--over-budget` lets one through.

use crate::support::process::{bin_on, http_post, run};
use crate::support::sim::SimProcess;
use std::path::Path;
use std::process::Command;

const KEY: &str = "sk-retry-chain-test-7d1f";

fn cmd(dir: &Path, store: &Path, base: &str) -> Command {
    bin_on(dir, store, base, KEY)
}

/// Three tasks that fail (the simulator fails everything), then a healed simulator.
fn three_failed(dir: &Path, store: &Path, sim: &SimProcess) {
    for p in ["fox in snow", "paper boats", "neon street"] {
        let (code, _, stderr) = run(cmd(dir, store, &sim.base).args(["submit", "--prompt", p]));
        assert_eq!(code, 0, "{stderr}");
    }
    let (code, stdout, stderr) = run(cmd(dir, store, &sim.base).arg("watch"));
    assert_eq!(code, 1, "all three fail: {stdout}\n{stderr}");
    let healed = http_post(&sim.control("config"), r#"{"fail_rate":0}"#);
    assert!(healed.contains("200"), "{healed}");
}

#[test]
fn retry_failed_twice_sends_three_then_none() {
    let sim = SimProcess::builder().speed(2000.0).fail_rate(1.0).start();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("s.sqlite3");
    three_failed(dir.path(), &store, &sim);
    assert_eq!(sim.stat("creates"), 3);

    // The plan alone: nothing sent.
    let (code, stdout, stderr) =
        run(cmd(dir.path(), &store, &sim.base).args(["retry", "--failed", "--dry-run"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("would retry 3 task(s), about") && stderr.contains("tokens"),
        "{stderr}"
    );
    assert_eq!(
        stdout.lines().count(),
        3,
        "the ids it would retry: {stdout}"
    );
    assert_eq!(sim.stat("creates"), 3, "--dry-run sends nothing");

    let (code, stdout, stderr) =
        run(cmd(dir.path(), &store, &sim.base).args(["retry", "--failed", "--since", "1h"]));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stderr.contains("retrying 3 task(s), about"), "{stderr}");
    assert_eq!(sim.stat("creates"), 6, "3 retries");

    // The cron line again: every original already has a retry (queued or succeeded by now).
    let (code, stdout, stderr) =
        run(cmd(dir.path(), &store, &sim.base).args(["retry", "--failed", "--since", "1h"]));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(sim.stat("creates"), 6, "the second run sends nothing");
    // One line for the whole run (not one per link of every chain), naming each original.
    let skipped: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("skipped "))
        .collect();
    assert_eq!(skipped.len(), 1, "one summary line: {stderr}");
    let ids = skipped[0]
        .strip_prefix("skipped 3 failed tasks already retried: ")
        .and_then(|l| l.split(" (").next())
        .unwrap_or_else(|| panic!("each skipped original is named: {stderr}"));
    let ids: Vec<&str> = ids.split(", ").collect();
    assert_eq!(ids.len(), 3, "{stderr}");
    assert!(stdout.trim().is_empty(), "{stdout}");

    // Naming one explicitly is held by the same rule; --again is the way to pay again.
    let first = ids[0].to_string();
    let (code, _, stderr) = run(cmd(dir.path(), &store, &sim.base).args(["retry", &first]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("already retried →"), "{stderr}");
    assert_eq!(sim.stat("creates"), 6);
    let (code, stdout, stderr) =
        run(cmd(dir.path(), &store, &sim.base).args(["retry", "--again", &first]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains(&format!("{first} -> ")), "{stdout}");
    assert_eq!(sim.stat("creates"), 7, "--again sends one more");
}

#[test]
fn max_caps_one_run_and_the_rest_follow_in_the_next() {
    let sim = SimProcess::builder().speed(2000.0).fail_rate(1.0).start();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("s.sqlite3");
    three_failed(dir.path(), &store, &sim);
    let (code, stdout, stderr) =
        run(cmd(dir.path(), &store, &sim.base).args(["retry", "--failed", "--max", "2"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("--max 2: sending 2 of 3"), "{stderr}");
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
    assert_eq!(sim.stat("creates"), 5);
    let (code, stdout, stderr) =
        run(cmd(dir.path(), &store, &sim.base).args(["retry", "--failed", "--max", "2"]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.lines().count(), 1, "only the one left: {stdout}");
    assert_eq!(sim.stat("creates"), 6);
}

#[test]
fn two_retry_processes_at_once_send_each_retry_once() {
    let sim = SimProcess::builder().speed(2000.0).fail_rate(1.0).start();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("s.sqlite3");
    three_failed(dir.path(), &store, &sim);
    let children: Vec<_> = (0..2)
        .map(|_| {
            cmd(dir.path(), &store, &sim.base)
                .args(["retry", "--failed"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().expect("wait");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(sim.stat("creates"), 6, "3 originals + exactly 3 retries");
}

fn budget_config(dir: &Path, tokens: u64) -> std::path::PathBuf {
    let path = dir.join("budget.toml");
    std::fs::write(
        &path,
        format!("[budget]\ndaily_tokens = {tokens}\n[pricing]\nper_million_tokens = 10.0\ncurrency = \"¥\"\n"),
    )
    .expect("config");
    path
}

#[test]
fn the_daily_cap_refuses_before_sending_and_over_budget_lets_one_through() {
    let sim = SimProcess::builder().speed(1.0).start();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("s.sqlite3");
    // 720p 16:9 5 s is estimated at about 108,000 tokens: two fit under 250,000, a third does not.
    let config = budget_config(dir.path(), 250_000);
    let submit = |extra: &[&str]| {
        let mut c = cmd(dir.path(), &store, &sim.base);
        c.args(["--config", config.to_str().expect("utf8")])
            .args(["submit", "--prompt", "held [[sim:hold]]"])
            .args(["--resolution", "720p", "--ratio", "16:9", "--duration", "5"])
            .args(extra);
        run(&mut c)
    };
    for _ in 0..2 {
        let (code, _, stderr) = submit(&[]);
        assert_eq!(code, 0, "{stderr}");
    }
    let (code, _, stderr) = submit(&[]);
    assert_eq!(code, 2, "refused as a usage matter: {stderr}");
    assert!(
        stderr.contains(" tokens today + ")
            && stderr.contains(" for this = ")
            && stderr.contains("> the cap of 250000 ([budget] daily_tokens)"),
        "the numbers: {stderr}"
    );
    assert!(stderr.contains("--over-budget"), "{stderr}");
    assert_eq!(sim.stat("creates"), 2, "nothing was sent");
    let (code, _, stderr) = submit(&["--over-budget"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(sim.stat("creates"), 3);

    // A retry is held by the same cap; its plan shows the money with [pricing].
    let (code, stdout, _) = run(cmd(dir.path(), &store, &sim.base)
        .args(["--config", config.to_str().expect("utf8")])
        .args(["ls", "--jsonl"]));
    assert_eq!(code, 0);
    let id = stdout
        .lines()
        .next()
        .and_then(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .and_then(|v| v["id"].as_str().map(str::to_string))
        .expect("an id");
    let (code, _, stderr) = run(cmd(dir.path(), &store, &sim.base)
        .args(["--config", config.to_str().expect("utf8")])
        .args(["retry", "--again", &id]));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("retrying 1 task(s), about 10") && stderr.contains(" tokens (≈ ¥1."),
        "the plan with the money: {stderr}"
    );
    assert!(stderr.contains("over today's spending cap"), "{stderr}");
    assert_eq!(sim.stat("creates"), 3);
}
