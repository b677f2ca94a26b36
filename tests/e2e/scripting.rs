//! Headless commands in scripts, run as the real binary: `ls --json` is one array and `--jsonl`
//! a line each; `ls | head -1` ends quietly; `download --out DIR` fills DIR even when the files
//! were saved before; a URL-looking `--out` is refused and never created; short ids and suffixes
//! work and an ambiguous one lists its matches; `cancel` only cancels a queued task and `delete`
//! asks (or needs `--yes`); `watch` lines carry the prompt and end with a summary; `submit
//! --wait` reports progress on stderr; a refused local validation leaves no row; dashboard-only
//! options are refused by subcommands; the CLI pre-flight names the key variables and catches a
//! wrong base URL before any create, and a 404 on create names the base URL or model.

use crate::support::process::{bin, bin_on, run};
use crate::support::sim::SimProcess;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

const KEY: &str = "sk-scripting-test-3e9a";

fn cmd(dir: &Path, store: &Path, base: &str) -> Command {
    bin_on(dir, store, base, KEY)
}

fn submit(dir: &Path, store: &Path, base: &str, prompt: &str) -> String {
    let (code, stdout, stderr) = run(cmd(dir, store, base).args(["submit", "--prompt", prompt]));
    assert_eq!(code, 0, "{stderr}");
    stdout.trim().to_string()
}

#[test]
fn ls_prints_one_array_or_lines_and_a_closed_pipe_is_quiet() {
    let sim = SimProcess::builder().speed(2000.0).start();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("s.sqlite3");
    for i in 0..3 {
        submit(dir.path(), &store, &sim.base, &format!("task {i}"));
    }
    let (code, stdout, _) = run(cmd(dir.path(), &store, &sim.base).args(["ls", "--json"]));
    assert_eq!(code, 0);
    let all: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON document");
    assert_eq!(all.as_array().map(Vec::len), Some(3), "{stdout}");
    let (code, stdout, _) = run(cmd(dir.path(), &store, &sim.base).args(["ls", "--jsonl"]));
    assert_eq!(code, 0);
    assert_eq!(
        stdout
            .lines()
            .filter(|l| serde_json::from_str::<serde_json::Value>(l).is_ok())
            .count(),
        3
    );

    // Many rows, and the reader leaves after the first line: no panic, exit 0, stderr empty.
    for i in 3..40 {
        submit(dir.path(), &store, &sim.base, &format!("task {i}"));
    }
    for _ in 0..3 {
        let mut child = cmd(dir.path(), &store, &sim.base)
            .args(["ls", "--jsonl"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let mut first = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut first)
            .expect("a line");
        // The reader (and the pipe with it) is gone here.
        let out = child.wait_with_output().expect("wait");
        assert!(first.starts_with('{'), "{first}");
        assert_eq!(out.status.code(), Some(0), "quiet exit");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn download_out_fills_the_folder_even_when_saved_before_and_refuses_urls() {
    let sim = SimProcess::builder().speed(2000.0).start();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("s.sqlite3");
    let first = dir.path().join("first");
    let (code, stdout, stderr) = run(cmd(dir.path(), &store, &sim.base).args([
        "submit",
        "--prompt",
        "apple tea [[sim:succeed]]",
        "--wait",
        "--out",
        first.to_str().expect("utf8"),
    ]));
    assert_eq!(code, 0, "{stderr}");
    let id = stdout.trim().to_string();
    let downloads = sim.stat("downloads");
    // Progress went to stderr, one line per change (not a terminal), with the elapsed time.
    assert!(
        stderr.contains("succeeded") && stderr.contains("(after "),
        "{stderr}"
    );

    // By its short id (the table's `HHMMSS-suffix`), into another folder.
    let short = {
        let parts: Vec<&str> = id.split('-').collect();
        format!("{}-{}", &parts[1][8..], parts[2])
    };
    let second = dir.path().join("second");
    let (code, stdout, stderr) = run(cmd(dir.path(), &store, &sim.base).args([
        "download",
        &short,
        "--out",
        second.to_str().expect("utf8"),
    ]));
    assert_eq!(code, 0, "{stderr}");
    let printed: Vec<&str> = stdout.lines().collect();
    assert!(!printed.is_empty());
    for p in &printed {
        assert!(
            Path::new(p).starts_with(&second),
            "printed a path in DIR: {p}"
        );
        assert!(Path::new(p).is_file(), "{p} exists");
    }
    for p in &printed {
        let name = Path::new(p).file_name().expect("a file name");
        let a = std::fs::read(first.join(name)).expect("saved before under that name");
        let b = std::fs::read(p).expect("read");
        assert!(a == b, "{p} is the same file as the one saved before");
    }
    assert_eq!(
        sim.stat("downloads"),
        downloads,
        "put there from the saved files, not fetched again"
    );

    // A URL other than s3:// is not a folder: refused, nothing created (no folder `http:`).
    for url in ["gs://bucket/videos", "http://host/x"] {
        let mut c = cmd(dir.path(), &store, &sim.base);
        c.current_dir(dir.path());
        let (code, _, stderr) = run(c.args(["download", &id, "--out", url]));
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains("not a folder"), "{stderr}");
    }
    assert!(!dir.path().join("gs:").exists());
    assert!(!dir.path().join("http:").exists());
    let creates = sim.stat("creates");
    let mut c = cmd(dir.path(), &store, &sim.base);
    c.current_dir(dir.path());
    let (code, _, _) = run(c.args(["submit", "--prompt", "x", "--wait", "--out", "http://b/x"]));
    assert_eq!(code, 2);
    assert_eq!(sim.stat("creates"), creates, "refused before sending");
}

#[test]
fn ids_cancel_delete_watch_and_local_rows() {
    let sim = SimProcess::builder().speed(2000.0).start();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("s.sqlite3");
    let held = submit(
        dir.path(),
        &store,
        &sim.base,
        "a lighthouse in a storm [[sim:hold]]",
    );
    let done = submit(
        dir.path(),
        &store,
        &sim.base,
        "apple fruit tea advert [[sim:succeed]]",
    );
    let fails = submit(
        dir.path(),
        &store,
        &sim.base,
        "neon street in the rain [[sim:fail]]",
    );

    // watch: every line carries the prompt's start; a summary ends it.
    let (code, stdout, stderr) =
        run(cmd(dir.path(), &store, &sim.base).args(["watch", &done, &fails]));
    assert_eq!(code, 1, "one failed: {stdout}\n{stderr}");
    assert!(
        stdout
            .lines()
            .any(|l| l.contains(&done) && l.contains("“apple fruit tea advert")),
        "{stdout}"
    );
    assert!(stdout.lines().all(|l| l.contains('“')), "{stdout}");
    assert!(stderr.contains("1 succeeded, 1 failed, "), "{stderr}");
    assert!(stderr.contains(" tokens"), "{stderr}");

    // An ambiguous prefix lists its matches.
    let (code, _, stderr) = run(cmd(dir.path(), &store, &sim.base).args(["get", "cgt-"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("matches more than one task"), "{stderr}");
    assert!(stderr.contains(&held) && stderr.contains(&done), "{stderr}");

    // cancel is for queued tasks only; a finished one points to delete.
    let (code, _, stderr) = run(cmd(dir.path(), &store, &sim.base).args(["cancel", &done]));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("only a queued task can be cancelled") && stderr.contains("delete"),
        "{stderr}"
    );
    let tail = &held[held.len() - 8..];
    let (code, stdout, stderr) = run(cmd(dir.path(), &store, &sim.base).args(["cancel", tail]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("cancelled"), "by a unique suffix: {stdout}");

    // delete asks; without a terminal it needs --yes.
    let (code, _, stderr) = run(cmd(dir.path(), &store, &sim.base)
        .args(["delete", &done])
        .stdin(Stdio::null()));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--yes"), "{stderr}");
    let (code, stdout, stderr) =
        run(cmd(dir.path(), &store, &sim.base).args(["delete", &done, "--yes"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("deleted on the server"), "{stdout}");

    // A refused local validation leaves no row; a server refusal leaves one that delete
    // --local removes (nothing reached the server, nothing is billed).
    let before = rows(dir.path(), &store, &sim.base);
    let (code, _, _) = run(cmd(dir.path(), &store, &sim.base).args([
        "submit",
        "--prompt",
        "x",
        "--duration",
        "99",
    ]));
    assert_eq!(code, 2);
    assert_eq!(
        rows(dir.path(), &store, &sim.base),
        before,
        "no row for a local refusal"
    );
    // A model the service does not know: refused by the server (404), stored as `rejected`.
    let (code, _, stderr) = run(cmd(dir.path(), &store, &sim.base).args([
        "submit",
        "--prompt",
        "refused",
        "--model",
        "doubao-seedance-9-9-unknown",
    ]));
    assert_ne!(code, 0);
    assert!(
        stderr.contains("the base URL or the model id is wrong") && !stderr.contains("task id"),
        "{stderr}"
    );
    let local = rows(dir.path(), &store, &sim.base)
        .into_iter()
        .find(|v| v["status"] == "rejected")
        .and_then(|v| v["local_id"].as_str().map(str::to_string))
        .expect("a rejected row");
    let (code, stdout, stderr) =
        run(cmd(dir.path(), &store, &sim.base).args(["delete", "--local", &local, "--yes"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("removed 1"), "{stdout}");
    assert!(
        rows(dir.path(), &store, &sim.base)
            .iter()
            .all(|v| v["local_id"] != local.as_str())
    );
    // A task that reached the server is never removed locally.
    let (code, _, stderr) =
        run(cmd(dir.path(), &store, &sim.base).args(["delete", "--local", &fails, "--yes"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("reached the server"), "{stderr}");
}

fn rows(dir: &Path, store: &Path, base: &str) -> Vec<serde_json::Value> {
    let (_, stdout, _) = run(cmd(dir, store, base).args(["ls", "--json"]));
    serde_json::from_str::<Vec<serde_json::Value>>(&stdout).expect("an array")
}

#[test]
fn dashboard_options_belong_to_the_dashboard_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, _, stderr) = run(bin(dir.path()).args(["ls", "--theme", "dark"]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--theme"), "{stderr}");
    let (code, _, _) = run(bin(dir.path()).args(["ls", "--mouse"]));
    assert_eq!(code, 2);
}

#[test]
fn preflight_names_the_key_variables_and_catches_a_wrong_base_url() {
    let sim = SimProcess::builder().speed(2000.0).start();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("s.sqlite3");
    let mut c = bin(dir.path());
    c.args([
        "--store",
        store.to_str().expect("utf8"),
        "--base-url",
        &sim.base,
    ]);
    let (code, _, stderr) = run(c.args(["submit", "--prompt", "x"]));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("SEEDANCE_API_KEY") && stderr.contains("ARK_API_KEY"),
        "{stderr}"
    );
    // The host without /api/v3: caught by the probe, no create sent.
    let host = sim.base.trim_end_matches("/api/v3").to_string();
    let (code, _, stderr) = run(cmd(dir.path(), &store, &host).args(["submit", "--prompt", "x"]));
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("does not reach the Ark API") && stderr.contains("/api/v3"),
        "{stderr}"
    );
    assert!(!stderr.contains("task id"), "{stderr}");
    assert_eq!(sim.stat("creates"), 0);
}

#[test]
fn submit_wait_on_a_terminal_keeps_one_status_line_updated() {
    let sim = SimProcess::builder().speed(200.0).start();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("s.sqlite3");
    let out = dir.path().join("out");
    let mut pty = crate::support::pty::Pty::spawn(
        &[
            "--store",
            store.to_str().expect("utf8"),
            "--base-url",
            &sim.base,
            "submit",
            "--prompt",
            "a fox [[sim:succeed]]",
            "--wait",
            "--out",
            out.to_str().expect("utf8"),
        ],
        100,
        20,
        &[("SEEDANCE_API_KEY", KEY)],
        dir.path(),
    );
    assert_eq!(
        pty.wait_exit(std::time::Duration::from_secs(60)),
        Some(0),
        "{}",
        pty.screen()
    );
    let raw = String::from_utf8_lossy(&pty.raw()).into_owned();
    // The status is redrawn in place (carriage return, erase line) with the elapsed time.
    assert!(raw.contains("\r\x1b[2K"), "{raw:?}");
    assert!(raw.contains(" · "), "{raw:?}");
    assert!(
        !raw.contains("(after "),
        "no line per change on a terminal: {raw:?}"
    );
    let screen = pty.screen();
    assert!(screen.contains("succeeded"), "{screen}");
}
