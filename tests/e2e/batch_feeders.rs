//! Three `submit --batch --max-in-flight 3` runs started at once, each with lines of its own and
//! each on a "host" of its own, share one store: whichever feeds, the simulator never has more
//! than 3 of their tasks in flight, the daily budget (room for nine and a half of the twelve
//! lines' estimates) is never passed, and every line sent was sent once — on one SQLite file,
//! and from three hosts (`SEEDANCE_HOST`) on one PostgreSQL database.

use crate::support::process::{bin_on, finish_all};
use crate::support::sim::SimProcess;
use seedance_tui::store::{Store, TaskQuery};
use std::path::{Path, PathBuf};
use std::time::Duration;

const KEY: &str = "sk-batch-feeders-7e21";
const LINES_EACH: usize = 4;
const CAP: u64 = 3;

fn line(host: usize, i: usize) -> String {
    format!(
        r#"{{"model":"doubao-seedance-2-0-fast-260128","content":[{{"type":"text","text":"host {host} line {i} [[sim:succeed]]"}}],"resolution":"720p","ratio":"16:9","duration":5}}"#
    )
}

/// What the store says after the runs: rows with a server id, and rows still queued.
struct Rows {
    sent: u64,
    pending: u64,
}

fn three_batches_share_the_cap_and_the_budget(
    store: &Path,
    hosts: [Option<&str>; 3],
    rows: impl Fn() -> Rows,
) {
    // Tasks take a moment (5 s at 20x), so slots stay taken while the others race for them.
    let sim = SimProcess::builder().speed(20.0).start();
    let dir = tempfile::tempdir().expect("tempdir");
    let per_line = seedance_tui::engine::budget::estimate(
        &seedance_tui::api::types::CreateRequest::from_json(&line(0, 0)).expect("request"),
    );
    let budget = per_line * 19 / 2;
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[budget]\ndaily_tokens = {budget}\n[poll]\ninterval_secs = 1\nrequests_per_second = 50\n\
             lease_secs = 1\n[download]\nauto = false\n"
        ),
    )
    .expect("config");
    let cmds = hosts
        .iter()
        .enumerate()
        .map(|(h, host)| {
            let file = dir.path().join(format!("host-{h}.jsonl"));
            let text: String = (0..LINES_EACH).map(|i| line(h, i) + "\n").collect();
            std::fs::write(&file, text).expect("batch file");
            let mut c = bin_on(dir.path(), store, &sim.base, KEY);
            c.args(["--config", config.to_str().expect("utf8")])
                .args(["submit", "--batch", file.to_str().expect("utf8")])
                .args(["--max-in-flight", &CAP.to_string()]);
            if let Some(name) = host {
                c.env("SEEDANCE_HOST", name);
            }
            c
        })
        .collect();
    let outs = finish_all(cmds, Duration::from_secs(180));
    let report = outs
        .iter()
        .map(|(code, _, err)| format!("exit {code}: {err}"))
        .collect::<Vec<_>>()
        .join("\n");
    for (code, _, _) in &outs {
        assert_eq!(*code, 0, "{report}");
    }
    let creates = sim.stat("creates");
    let peak = sim.stat("peak_in_flight");
    assert!(
        peak <= CAP,
        "{peak} in flight at once (cap {CAP})\n{report}"
    );
    assert_eq!(sim.stat("repeated_client_ids"), 0, "a line was sent twice");
    let lines = (LINES_EACH * hosts.len()) as u64;
    let seen = rows();
    assert_eq!(seen.sent, creates, "every create is one row with its id");
    assert_eq!(seen.sent + seen.pending, lines, "every line has a row");
    assert!(
        creates * per_line <= budget,
        "{creates} creates of ~{per_line} tokens passed the budget of {budget}\n{report}"
    );
    assert!(
        creates >= CAP && seen.pending > 0,
        "the budget, not the file's end, stopped the queue: {creates} sent\n{report}"
    );
    eprintln!(
        "three batch feeders: {creates} of {lines} sent, peak {peak} in flight at the simulator"
    );
}

#[test]
fn three_batch_feeders_never_pass_the_cap_nor_the_budget() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("team.sqlite3");
    let read = store.clone();
    three_batches_share_the_cap_and_the_budget(&store, [None, None, None], move || {
        let s = Store::open(&read).expect("open");
        let all = s.list(&TaskQuery::default()).expect("list");
        Rows {
            sent: all.iter().filter(|t| t.task_id.is_some()).count() as u64,
            pending: all.iter().filter(|t| t.phase.as_str() == "pending").count() as u64,
        }
    });
}

#[test]
fn three_batch_feeders_on_three_hosts_never_pass_the_cap_nor_the_budget_on_postgres() {
    let Some(db) = crate::support::postgres::TestDb::create("batch_feeders") else {
        return;
    };
    let url = db.url.clone();
    three_batches_share_the_cap_and_the_budget(
        &PathBuf::from(&db.url),
        [Some("host-a"), Some("host-b"), Some("host-c")],
        move || {
            let mut c = crate::support::postgres::client(&url);
            let mut count =
                |sql: &str| c.query_one(sql, &[]).expect("count").get::<_, i64>(0) as u64;
            Rows {
                sent: count("SELECT count(*) FROM tasks WHERE task_id IS NOT NULL"),
                pending: count("SELECT count(*) FROM tasks WHERE status = 'pending'"),
            }
        },
    );
}
