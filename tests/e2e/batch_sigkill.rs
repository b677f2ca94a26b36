//! SIGKILL the feeder (`submit --batch`) at random points, round after round on one store, then
//! let a last run finish: every line has exactly one row, no create was sent twice (the
//! simulator counts repeated client request ids), and every line was sent — except a line whose
//! create was in the air at the kill, which is `submit_unknown` (it may or may not have reached
//! the server; without an idempotency key in the API nobody can tell) and is never re-sent.
//! `SEEDANCE_KILL_ROUNDS` sets the rounds (default 10), `SEEDANCE_KILL_SEED` the kill points.

use crate::support::kill::{Lcg, rounds_and_seed};
use crate::support::process::{Proc, bin_on, fast_config};
use crate::support::sim::SimProcess;
use seedance_tui::store::{Store, TaskQuery};
use std::collections::HashMap;
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
    // A short lease, so each restart takes over from the killed feeder quickly.
    let config = fast_config(dir.path(), 0.6);
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
