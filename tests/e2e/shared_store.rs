//! Several processes opening and writing one new store at once: three `submit --batch` started
//! together, round after round on a fresh store each time, all end well — none is told "the
//! store is busy" (opening and migrating take the write lock up front and wait for it), and
//! every line is created exactly once with no `submit_unknown` (a busy store never turns into an
//! uncertain create, and a process that stops feeding first finishes the send it started).

use crate::support::process::{bin, bin_on, fast_config, finish_all};
use crate::support::sim::SimProcess;
use seedance_tui::store::{Phase, Store, TaskQuery};
use std::time::Duration;

const KEY: &str = "sk-shared-store-key";
const LINES: usize = 6;
/// Rounds that queue (`--detach`, no network): about one in ten failed before, so forty all
/// passing by chance is about one in seventy.
const QUEUE_ROUNDS: usize = 40;
/// Rounds that also send every line.
const ROUNDS: usize = 6;

/// `LINES` lines tagged with the round and batch.
fn batch_file(dir: &std::path::Path, round: usize, b: usize) -> std::path::PathBuf {
    let file = dir.join(format!("b{b}.jsonl"));
    let text: String = (1..=LINES)
        .map(|i| {
            format!(
                "{{\"model\":\"doubao-seedance-2-0-fast-260128\",\"content\":[{{\"type\":\"text\",\"text\":\"round {round} batch {b} line {i} [[sim:succeed]]\"}}]}}\n"
            )
        })
        .collect();
    std::fs::write(&file, text).expect("write");
    file
}

#[test]
fn three_batches_queued_at_once_on_a_fresh_store_all_succeed() {
    for round in 0..QUEUE_ROUNDS {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = dir.path().join("s.sqlite3");
        let cmds = (0..3)
            .map(|b| {
                let file = batch_file(dir.path(), round, b);
                let mut c = bin(dir.path());
                c.args(["--store", store.to_str().expect("utf8")]).args([
                    "submit",
                    "--batch",
                    file.to_str().expect("utf8"),
                    "--detach",
                ]);
                c
            })
            .collect();
        for (code, _, err) in finish_all(cmds, Duration::from_secs(60)) {
            assert_eq!(code, 0, "round {round}: {err}");
            assert!(!err.contains("busy"), "round {round}: {err}");
        }
        let pending = Store::open(&store)
            .expect("open")
            .queue(None)
            .expect("queue")
            .len();
        assert_eq!(pending, 3 * LINES, "round {round}");
    }
}

#[test]
fn three_batches_at_once_on_a_fresh_store_all_succeed_and_send_every_line_once() {
    let sim = SimProcess::builder().speed(400.0).start();
    for round in 0..ROUNDS {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = dir.path().join("s.sqlite3");
        let config = fast_config(dir.path(), 2.0);
        let before = sim.stat("creates");
        let cmds = (0..3)
            .map(|b| {
                let file = batch_file(dir.path(), round, b);
                let mut c = bin_on(dir.path(), &store, &sim.base, KEY);
                c.args(["--config", config.to_str().expect("utf8")]).args([
                    "submit",
                    "--batch",
                    file.to_str().expect("utf8"),
                ]);
                c
            })
            .collect();
        let outs = finish_all(cmds, Duration::from_secs(120));
        for (code, _, err) in &outs {
            assert_eq!(*code, 0, "round {round}: {err}");
            assert!(!err.contains("busy"), "round {round}: {err}");
        }
        let rows = Store::open(&store)
            .expect("open")
            .list(&TaskQuery::default())
            .expect("list");
        assert_eq!(rows.len(), 3 * LINES, "round {round}");
        for r in &rows {
            assert!(
                r.task_id.is_some() && r.phase != Phase::SubmitUnknown,
                "round {round}: {} ended {} ({:?})",
                r.local_id,
                r.phase.as_str(),
                r.error_message
            );
        }
        assert_eq!(
            sim.stat("creates") - before,
            (3 * LINES) as u64,
            "round {round}"
        );
    }
    assert_eq!(sim.stat("repeated_client_ids"), 0);
}
