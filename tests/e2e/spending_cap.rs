//! The daily spending cap holds when several processes share one store: the spend is reserved in
//! the transaction that checks it, so three `submit`s started at once with room for one create
//! one task (counted at the simulator), round after round — on one SQLite file, and from three
//! "hosts" on one PostgreSQL database; and a batch the cap holds without `--wait` stays queued,
//! says why and until when, and returns.

use crate::support::process::{bin_on, finish, finish_all};
use crate::support::sim::SimProcess;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const KEY: &str = "sk-spending-cap-test-31c9";
const MODEL: &str = "doubao-seedance-2-0-fast-260128";

/// 720p 16:9 5 s is estimated at about 108,000 tokens: one fits under 150,000, two do not.
fn room_for_one(dir: &Path) -> PathBuf {
    let path = dir.join("budget.toml");
    std::fs::write(
        &path,
        "[budget]\ndaily_tokens = 150000\n[poll]\ninterval_secs = 1\nlease_secs = 2\n[download]\nauto = false\n",
    )
    .expect("config");
    path
}

fn cmd(dir: &Path, store: &Path, config: &Path, sim: &SimProcess) -> Command {
    let mut c = bin_on(dir, store, &sim.base, KEY);
    c.args(["--config", config.to_str().expect("utf8")]);
    c
}

/// Rounds of the race: before the reservation, 3 of 3 rounds in 5 went over.
const ROUNDS: usize = 6;

/// Three `submit`s at once on `hosts` (`SEEDANCE_HOST` when named), each round on a fresh
/// store from `store_for` (a path, or a database's URL with the guard that drops it).
fn three_submits_with_room_for_one<G>(
    hosts: [Option<&str>; 3],
    store_for: impl Fn(&Path, usize) -> (PathBuf, G),
) {
    let sim = SimProcess::builder().speed(1.0).start();
    for round in 0..ROUNDS {
        let dir = tempfile::tempdir().expect("tempdir");
        let (store, _guard) = store_for(dir.path(), round);
        let config = room_for_one(dir.path());
        let before = sim.stat("creates");
        let cmds = hosts
            .iter()
            .enumerate()
            .map(|(i, host)| {
                let mut c = cmd(dir.path(), &store, &config, &sim);
                if let Some(h) = host {
                    c.env("SEEDANCE_HOST", h);
                }
                c.args([
                    "submit",
                    "--prompt",
                    &format!("race {round}.{i} [[sim:hold]]"),
                ])
                .args([
                    "--resolution",
                    "720p",
                    "--ratio",
                    "16:9",
                    "--duration",
                    "5",
                ]);
                c
            })
            .collect();
        let outs = finish_all(cmds, Duration::from_secs(60));
        let created = sim.stat("creates") - before;
        let report = outs
            .iter()
            .map(|(code, _, err)| format!("exit {code}: {err}"))
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(created, 1, "round {round}: one task fits the cap\n{report}");
        assert_eq!(
            outs.iter().filter(|(code, _, _)| *code == 0).count(),
            1,
            "{report}"
        );
        for (code, _, err) in outs.iter().filter(|(code, _, _)| *code != 0) {
            assert_eq!(*code, 2, "refused as a usage matter: {err}");
            assert!(
                err.contains("over today's spending cap") && err.contains("nothing was sent"),
                "{err}"
            );
        }
    }
}

#[test]
fn three_submits_at_once_with_room_for_one_create_one_task() {
    three_submits_with_room_for_one([None, None, None], |dir, _| (dir.join("s.sqlite3"), ()));
}

/// The same race from three "hosts" on one PostgreSQL store: the writers' advisory lock
/// serialises the reservations.
#[test]
fn three_hosts_at_once_on_a_postgres_store_with_room_for_one_create_one_task() {
    if crate::support::postgres::server("spending cap on PostgreSQL").is_none() {
        return;
    }
    three_submits_with_room_for_one(
        [Some("host-a"), Some("host-b"), Some("host-c")],
        |_, round| {
            let db = crate::support::postgres::TestDb::create(&format!("cap_round_{round}"))
                .expect("the server was there a moment ago");
            (PathBuf::from(&db.url), db)
        },
    );
}

#[test]
fn a_batch_held_by_the_cap_without_wait_stays_queued_says_until_when_and_returns() {
    let sim = SimProcess::builder().speed(1.0).start();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("s.sqlite3");
    let config = room_for_one(dir.path());
    let file = dir.path().join("b.jsonl");
    let text: String = (1..=3)
        .map(|i| {
            format!(
                r#"{{"model":"{MODEL}","content":[{{"type":"text","text":"held {i} [[sim:hold]]"}}],"resolution":"720p","ratio":"16:9","duration":5}}"#
            ) + "\n"
        })
        .collect();
    std::fs::write(&file, text).expect("batch");
    let mut c = cmd(dir.path(), &store, &config, &sim);
    c.args(["submit", "--batch", file.to_str().expect("utf8")]);
    // Without the fix this runs until local midnight: the deadline is the failure.
    let (code, stdout, stderr) = finish(c, Duration::from_secs(60));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("queue held: budget: over today's spending cap"),
        "why: {stderr}"
    );
    assert!(
        stderr.contains("held until ") && stderr.contains("(local midnight)"),
        "until when: {stderr}"
    );
    assert!(stderr.contains("the lines stay queued"), "{stderr}");
    assert!(
        stderr.contains("3 lines: 1 sent, 0 rejected, 2 still queued"),
        "{stderr}"
    );
    assert_eq!(stdout.lines().count(), 3, "{stdout}");
    assert_eq!(sim.stat("creates"), 1);
}

/// A POSIX `TZ` value whose local midnight was `ago_secs` before `now` (Unix seconds), to the
/// minute: offsets within ±12 h, sign as POSIX has it (west of Greenwich positive).
fn zone_with_midnight_ago(name: &str, now: i64, ago_secs: i64) -> String {
    let since_utc_midnight = now.rem_euclid(86_400);
    let mut east = (ago_secs - since_utc_midnight).rem_euclid(86_400) / 60 * 60;
    if east > 12 * 3600 {
        east -= 86_400;
    }
    let sign = if east >= 0 { '-' } else { '+' };
    let a = east.abs();
    format!("{name}{sign}{:02}:{:02}", a / 3600, a % 3600 / 60)
}

/// On a PostgreSQL store the cap counts the server's day, whatever each host's time zone: a
/// spend from three hours ago (inside the server's day, which began six hours ago) is counted
/// by a host whose local day began ten hours ago and by one whose local day began an hour and a
/// half ago alike; counting from local midnights, the second would send. `doctor` names the day.
#[test]
fn hosts_in_different_time_zones_count_one_day_on_a_postgres_store() {
    use seedance_tui::store::{NewSubmission, Store};
    let Some(db) = crate::support::postgres::TestDb::create("cap_day") else {
        return;
    };
    let now = chrono::Utc::now().timestamp();
    let server_zone = zone_with_midnight_ago("SRV", now, 6 * 3600);
    db.client()
        .batch_execute(&format!(
            "ALTER DATABASE \"{}\" SET timezone TO '{server_zone}'",
            db.name
        ))
        .expect("the database's time zone");
    let store = Store::open_named(&db.url).expect("the store");
    store
        .begin_submission(&NewSubmission {
            local_id: "earlier",
            profile: "default",
            request_json: &format!(
                r#"{{"model":"{MODEL}","content":[{{"type":"text","text":"earlier"}}],"resolution":"720p","ratio":"16:9","duration":5}}"#
            ),
            retry_of: None,
            asset_files: None,
            now: now - 3 * 3600,
        })
        .expect("a spend three hours ago");
    drop(store);

    let sim = SimProcess::builder().speed(1.0).start();
    let dir = tempfile::tempdir().expect("tempdir");
    let config = room_for_one(dir.path());
    let url = PathBuf::from(&db.url);
    for (host, ago) in [("host-a", 10 * 3600), ("host-b", 90 * 60)] {
        let tz = zone_with_midnight_ago("LOC", now, ago);
        let mut c = cmd(dir.path(), &url, &config, &sim);
        c.env("SEEDANCE_HOST", host).env("TZ", &tz);
        c.args(["submit", "--prompt", &format!("from {host} [[sim:hold]]")])
            .args(["--resolution", "720p", "--ratio", "16:9", "--duration", "5"]);
        let (code, _, err) = finish(c, Duration::from_secs(60));
        assert_eq!(code, 2, "{host} (TZ={tz}) is refused: {err}");
        assert!(
            err.contains("over today's spending cap") && err.contains("nothing was sent"),
            "{err}"
        );
    }
    assert_eq!(sim.stat("creates"), 0, "nothing was sent");

    let mut c = bin_on(dir.path(), &url, &sim.base, KEY);
    c.env("TZ", zone_with_midnight_ago("LOC", now, 90 * 60))
        .args(["--config", config.to_str().expect("utf8"), "doctor"]);
    let (_, out, err) = finish(c, Duration::from_secs(60));
    let line = out
        .lines()
        .chain(err.lines())
        .find(|l| l.contains("budget day"))
        .unwrap_or_else(|| panic!("doctor names the day: {out}{err}"));
    assert!(
        line.contains(&server_zone) && line.contains("one day for every host"),
        "{line}"
    );
}
