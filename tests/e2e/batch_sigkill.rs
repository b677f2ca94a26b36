//! SIGKILL the feeder (`submit --batch`) at random points, round after round on one store, then
//! let a last run finish: every line has exactly one row, no create was sent twice (the
//! simulator counts repeated client request ids), and every line was sent — except a line whose
//! create was in the air at the kill, which is `submit_unknown` (it may or may not have reached
//! the server; without an idempotency key in the API nobody can tell) and is never re-sent.
//! `SEEDANCE_KILL_ROUNDS` sets the rounds (default 10), `SEEDANCE_KILL_SEED` the kill points.

use crate::support::backend::{Backend, on_both_backends};
use crate::support::kill::{Lcg, rounds_and_seed};
use crate::support::process::{Proc, arm_fault, bin_on, fast_config, finish};
use crate::support::sim::SimProcess;
use seedance_tui::store::{Store, TaskQuery};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

const KEY: &str = "sk-batch-kill-key";
const LINES: usize = 12;

#[test]
fn sigkill_of_the_feeder_then_a_restart_sends_every_line_once() {
    let (rounds, seed) = rounds_and_seed(10, 0xba7c);
    let mut rng = Lcg(seed);
    let sim = SimProcess::builder().speed(400.0).start();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("s.sqlite3");
    // A short lease, so each restart takes over from the killed feeder quickly. Lines left in
    // the air keep no slot (the test below is about that): three of them would otherwise hold
    // the last run at its cap of 3 for half an hour.
    let config = fast_config(dir.path(), 0.6);
    let mut text = std::fs::read_to_string(&config).expect("config");
    text.push_str("[submit]\nunknown_slot_secs = 0\n");
    std::fs::write(&config, text).expect("config");
    let file = dir.path().join("b.jsonl");
    let text: String = (1..=LINES)
        .map(|i| {
            format!(
                "{{\"model\":\"doubao-seedance-2-0-fast-260128\",\"content\":[{{\"type\":\"text\",\"text\":\"kill line {i} [[sim:succeed]]\"}}]}}\n"
            )
        })
        .collect();
    std::fs::write(&file, text).expect("write");
    let cmd = || {
        let mut c = bin_on(dir.path(), &store, &sim.base, KEY);
        c.args(["--config", config.to_str().expect("utf8")])
            .args(["submit", "--batch", file.to_str().expect("utf8")])
            .args(["--max-in-flight", "3"]);
        c
    };
    let started = Instant::now();
    for _ in 0..rounds {
        let mut p = Proc::spawn(cmd());
        // A random point: the kill is the event under test, not a synchronisation.
        std::thread::sleep(Duration::from_millis(rng.below(1200)));
        p.kill();
    }
    let killed_creates = sim.stat("creates");

    // A last run to the end.
    let mut p = Proc::spawn(cmd());
    let deadline = Instant::now() + Duration::from_secs(120);
    let code = loop {
        if let Ok(Some(s)) = p.child.try_wait() {
            break s.code();
        }
        assert!(
            Instant::now() < deadline,
            "the last run hangs:\n{}",
            p.dump()
        );
        std::thread::sleep(Duration::from_millis(20));
    };

    let s = Store::open(&store).expect("the store opens after SIGKILLs");
    assert!(s.integrity_ok().expect("integrity"));
    let rows = s.list(&TaskQuery::default()).expect("list");
    let mut per_prompt: HashMap<&str, usize> = HashMap::new();
    for r in &rows {
        *per_prompt.entry(r.prompt.as_str()).or_default() += 1;
    }
    assert_eq!(rows.len(), LINES, "one row per line: {per_prompt:?}");
    assert!(per_prompt.values().all(|n| *n == 1), "{per_prompt:?}");
    let accepted = rows.iter().filter(|r| r.task_id.is_some()).count();
    let unknown = rows
        .iter()
        .filter(|r| r.phase.as_str() == "submit_unknown")
        .count();
    assert_eq!(
        accepted + unknown,
        LINES,
        "no line lost: {:?}",
        rows.iter().map(|r| r.phase.as_str()).collect::<Vec<_>>()
    );
    assert_eq!(sim.stat("repeated_client_ids"), 0, "a line was sent twice");
    let sent = sim.stat("creates");
    assert!(
        (accepted as u64..=(accepted + unknown) as u64).contains(&sent),
        "{sent} creates for {accepted} accepted and {unknown} uncertain lines"
    );
    if unknown == 0 {
        assert_eq!(sent, LINES as u64, "creates == lines");
        assert_eq!(code, Some(0), "{}", p.dump());
    }
    eprintln!(
        "{rounds} kills in {:?} (seed {seed}): {killed_creates} creates before the last run, \
         {sent} in all, {accepted} accepted, {unknown} uncertain",
        started.elapsed()
    );

    // And again: nothing more is sent.
    let mut p = Proc::spawn(cmd());
    let deadline = Instant::now() + Duration::from_secs(60);
    while p.child.try_wait().ok().flatten().is_none() {
        assert!(Instant::now() < deadline, "the rerun hangs:\n{}", p.dump());
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(sim.stat("creates"), sent, "a rerun sends nothing");
}

/// The feeder (`submit --batch --max-in-flight 2`, through a relay: no reconciliation) is
/// SIGKILLed while its first create is in the air: the simulator made the task but holds the
/// answer. The next run takes over, marks that line `submit_unknown`, and counts it as in flight
/// for `[submit] unknown_slot_secs` (30 s here; the task lives 10 s at the simulator): it sends
/// one more line, not two, so the simulator never has more than the cap. Each task stays
/// queued for 30 simulated seconds, then expires (`[[sim:expire]]`), so the orphan is still
/// there when the next run starts sending.
fn a_killed_feeders_create_in_the_air_keeps_its_slot_for_the_next_feeder(b: &Backend) {
    const CAP: u64 = 2;
    let sim = SimProcess::builder().speed(3.0).start();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = PathBuf::from(b.location());
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        "[poll]\ninterval_secs = 1\nrequests_per_second = 50\nlease_secs = 1\n\
         [download]\nauto = false\n[submit]\nunknown_slot_secs = 30\n",
    )
    .expect("config");
    let file = dir.path().join("b.jsonl");
    let text: String = (1..=3)
        .map(|i| {
            format!(
                "{{\"model\":\"doubao-seedance-2-0-fast-260128\",\"content\":[{{\"type\":\"text\",\"text\":\"slot line {i} [[sim:expire]]\"}}]}}\n"
            )
        })
        .collect();
    std::fs::write(&file, text).expect("write");
    let cmd = || {
        let mut c = bin_on(dir.path(), &store, &sim.relay_base(), KEY);
        c.args(["--config", config.to_str().expect("utf8")])
            .args(["submit", "--batch", file.to_str().expect("utf8")])
            .args(["--max-in-flight", &CAP.to_string()]);
        c
    };
    arm_fault(
        &sim,
        r#"{"route":"create","kind":{"delay_after_processing_ms":120000},"times":1}"#,
    );
    let mut first = Proc::spawn(cmd());
    // The task exists at the simulator (its answer is held): the create is in the air.
    let deadline = Instant::now() + Duration::from_secs(60);
    while sim.stat("peak_in_flight") == 0 {
        assert!(
            Instant::now() < deadline,
            "the first create never reached the simulator:\n{}",
            first.dump()
        );
        assert!(
            first.child.try_wait().ok().flatten().is_none(),
            "the first run ended:\n{}",
            first.dump()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let killed_at = Instant::now();
    first.kill();
    assert_eq!(sim.stat("creates"), 1, "one line was in the air");

    let (code, out, err) = finish(cmd(), Duration::from_secs(180));
    let peak = sim.stat("peak_in_flight");
    let report = format!("exit {code}\n{out}\n{err}");
    assert_eq!(sim.stat("creates"), 3, "every line sent once: {report}");
    assert_eq!(sim.stat("repeated_client_ids"), 0, "a line was sent twice");
    assert!(
        peak <= CAP,
        "{peak} in flight at once at the simulator (cap {CAP}): the next feeder filled the \
         slot of the create in the air\n{report}"
    );
    let s = b.open();
    let rows = s.list(&TaskQuery::default()).expect("list");
    let unknown: Vec<&str> = rows
        .iter()
        .filter(|r| r.phase.as_str() == "submit_unknown")
        .map(|r| r.prompt.as_str())
        .collect();
    assert_eq!(unknown, ["slot line 1 [[sim:expire]]"], "{report}");
    assert_eq!(
        rows.iter().filter(|r| r.task_id.is_some()).count(),
        2,
        "{report}"
    );
    eprintln!(
        "a killed feeder's create in the air: peak {peak} in flight (cap {CAP}), the next run \
         ended {:?} after the kill",
        killed_at.elapsed()
    );
}

on_both_backends!(a_killed_feeders_create_in_the_air_keeps_its_slot_for_the_next_feeder);
