//! End to end: the binary against servers that answer an unknown task in each shape of the
//! catalogue in `tests/fixtures/traces/` (served by `sim --replay`). Only evidence that the URL
//! is wrong (a web page, a bare 404 text, a redirect) refuses a create; any JSON lets it go with
//! a warning; a gateway's error page says "try again". The dashboard shows the warning, not a
//! wall. The creates are recorded, once, on SQLite and on PostgreSQL stores alike.

use crate::support::backend::{Backend, on_both_backends};
use crate::support::process::{bin, bin_on, run};
use crate::support::pty::Pty;
use crate::support::sim::SimProcess;
use std::path::PathBuf;
use std::time::Duration;

/// The id every catalogued create answers.
const TASK_ID: &str = "cgt-20261201100000-r3l4y";

fn trace(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/traces")
        .join(format!("{name}.jsonl"))
}

fn posts(sim: &SimProcess) -> usize {
    sim.served()
        .iter()
        .filter(|r| r.starts_with("POST "))
        .count()
}

/// `submit --prompt` against the replay, on a fresh SQLite store: (exit code, stdout, stderr).
fn submit(sim: &SimProcess) -> (i32, String, String) {
    submit_on(sim, &Backend::sqlite())
}

/// `submit --prompt` against the replay, on the store `b`: (exit code, stdout, stderr).
fn submit_on(sim: &SimProcess, b: &Backend) -> (i32, String, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = b.location();
    let mut c = bin_on(
        dir.path(),
        std::path::Path::new(&store),
        &sim.base,
        "relay-key",
    );
    c.args(["submit", "--prompt", "apple tea"]);
    run(&mut c)
}

on_both_backends!(
    submit_goes_through_every_api_like_answer_and_warns_about_unknown_shapes,
    only_evidence_of_a_wrong_url_refuses_and_nothing_is_sent,
);

/// Each shape on a fresh store of the backend (every shape answers the same task id).
fn submit_goes_through_every_api_like_answer_and_warns_about_unknown_shapes(b: &Backend) {
    // (shape, a warning expected)
    for (name, warned) in [
        ("ark_error", false),
        ("openai_error", false),
        ("relay_task_error", true),
        ("message_only_500", true),
        ("code_msg_data", true),
    ] {
        let sim = SimProcess::builder().replay(&trace(name)).start();
        let (code, stdout, stderr) = submit_on(&sim, &b.fresh(name));
        assert_eq!(code, 0, "{name}: {stdout}\n{stderr}");
        assert!(stdout.contains(TASK_ID), "{name}: {stdout}");
        assert_eq!(posts(&sim), 1, "{name}: one create");
        assert_eq!(
            stderr.contains("of a shape we do not know"),
            warned,
            "{name}: {stderr}"
        );
        assert!(!stderr.contains("does not reach"), "{name}: {stderr}");
    }
}

#[test]
fn a_relay_answering_task_not_exist_with_400_is_not_refused() {
    let sim = SimProcess::builder()
        .replay(&trace("relay_task_error"))
        .start();
    let (code, stdout, stderr) = submit(&sim);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stderr.contains("HTTP 400") && stderr.contains("task_not_exist"),
        "the warning names the status and the body's first line: {stderr}"
    );
}

fn only_evidence_of_a_wrong_url_refuses_and_nothing_is_sent(b: &Backend) {
    for (name, says) in [
        ("html_page", "does not reach the Ark API"),
        ("text_not_found", "does not reach the Ark API"),
        ("redirect", "does not reach the Ark API"),
        ("gateway_502", "is having trouble"),
    ] {
        let sim = SimProcess::builder().replay(&trace(name)).start();
        let (code, stdout, stderr) = submit_on(&sim, &b.fresh(name));
        assert_eq!(code, 3, "{name}: {stdout}\n{stderr}");
        assert!(stderr.contains(says), "{name}: {stderr}");
        assert!(stderr.contains("nothing was sent"), "{name}: {stderr}");
        assert_eq!(posts(&sim), 0, "{name}: no create");
    }
}

#[test]
fn doctor_shows_an_unknown_shape_as_a_warning_with_its_first_line() {
    let sim = SimProcess::builder()
        .replay(&trace("relay_task_error"))
        .start();
    let dir = tempfile::tempdir().expect("tempdir");
    let traced = dir.path().join("doctor-trace.jsonl");
    let mut c = bin(dir.path());
    c.env("SEEDANCE_API_KEY", "relay-key")
        .args(["--base-url", &sim.base, "--trace"])
        .arg(&traced)
        .arg("doctor");
    let (_, stdout, stderr) = run(&mut c);
    let line = stdout
        .lines()
        .find(|l| l.contains("base URL:"))
        .unwrap_or_else(|| panic!("no base URL line: {stdout}\n{stderr}"));
    assert!(line.starts_with("! base URL:"), "{line}");
    assert!(
        line.contains(
            "answered JSON of a shape we do not know (HTTP 400: {\"code\":\"task_not_exist\""
        ),
        "{line}"
    );
    // The probe is in the trace (for a bug report), the key is not.
    let text = std::fs::read_to_string(&traced).expect("doctor wrote the trace");
    assert!(text.contains("task_not_exist"), "{text}");
    assert!(!text.contains("relay-key"), "{text}");
}

#[test]
fn the_dashboard_shows_an_unknown_shape_as_a_warning_not_a_wall() {
    let sim = SimProcess::builder()
        .replay(&trace("relay_task_error"))
        .start();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("store.sqlite3");
    let args = [
        "--store",
        store.to_str().expect("utf8"),
        "--base-url",
        &sim.base,
    ];
    let env = [("SEEDANCE_API_KEY", "relay-key")];
    let mut pty = Pty::spawn(&args, 200, 30, &env, dir.path());
    let screen = pty.wait_text("of a shape we do not know", Duration::from_secs(60));
    assert!(screen.contains("warning:"), "{screen}");
    assert!(!screen.contains("is not the Ark API"), "{screen}");
    pty.send(b"q");
    assert_eq!(pty.wait_exit(Duration::from_secs(60)), Some(0));
}
