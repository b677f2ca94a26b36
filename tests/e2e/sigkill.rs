//! SIGKILL at random points of `submit --wait` (store write, create, polls, downloads), round
//! after round against one store, then a restart: the store is intact, no request is lost, no
//! create was sent twice (the simulator counts them), and downloads cut by the kill resume to
//! complete files. `SEEDANCE_KILL_ROUNDS` sets the rounds (default 20; `bench/soak_kill.sh` runs
//! more).

use crate::support::kill::{Lcg, rounds_and_seed};
use crate::support::process::{Proc, arm_fault, bin_on, fast_config};
use crate::support::sim::SimProcess;
use seedance_tui::store::{Store, TaskQuery};
use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

const KEY: &str = "sk-kill-loop-DISTINCTIVE-key";

/// A small deterministic generator for the kill points (the seed is printed on failure).
fn part_files(dir: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "part"))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn sigkill_at_random_points_loses_nothing_and_sends_nothing_twice() {
    let (rounds, seed) = rounds_and_seed(20, 0x5eed);
    let mut rng = Lcg(seed);
    let sim = SimProcess::builder()
        .speed(2000.0)
        .max_running(1000)
        .start();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("s.sqlite3");
    let out = dir.path().join("out");
    let config = fast_config(dir.path(), 1.0);
    let cmd = || {
        let mut c = bin_on(dir.path(), &store, &sim.base, KEY);
        c.args(["--config", config.to_str().expect("utf8")]);
        c
    };
    let started = Instant::now();
    let mut cut_downloads = 0;
    for round in 0..rounds {
        let prompt = format!("kill round {round} [[sim:succeed]]");
        let mut c = cmd();
        c.args(["submit", "--prompt", &prompt, "--wait", "--out"])
            .arg(&out);
        let mid_download = round % 4 == 3;
        if mid_download {
            // The first transfer is cut after 8 kB; the resume then hangs: kill it there.
            arm_fault(
                &sim,
                r#"{"route":"download","kind":{"cut_after":8000},"times":1}"#,
            );
            arm_fault(
                &sim,
                r#"{"route":"download","kind":{"delay_ms":5000},"times":1}"#,
            );
        }
        let mut p = Proc::spawn(c);
        if mid_download {
            let deadline = Instant::now() + Duration::from_secs(20);
            while part_files(&out).is_empty() {
                assert!(
                    Instant::now() < deadline,
                    "round {round}: no partial download appeared (seed {seed}):\n{}",
                    p.dump()
                );
                if let Ok(Some(_)) = p.child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            if !part_files(&out).is_empty() {
                cut_downloads += 1;
            }
        } else {
            // A random point: the kill is the event under test, not a synchronisation.
            std::thread::sleep(Duration::from_millis(rng.below(1500)));
        }
        p.kill();
    }
    eprintln!(
        "{rounds} rounds in {:?}, {cut_downloads} killed mid-download (seed {seed})",
        started.elapsed()
    );
    assert!(cut_downloads > 0 || rounds < 4, "some kills hit a download");

    // Right after the kills: the store is intact; each request is there once.
    let s = Store::open(&store).expect("the store opens after SIGKILLs");
    assert!(s.integrity_ok().expect("integrity check"));
    let rows = s.list(&TaskQuery::default()).expect("list");
    let mut per_prompt: HashMap<&str, usize> = HashMap::new();
    for r in &rows {
        *per_prompt.entry(r.prompt.as_str()).or_default() += 1;
        assert!(r.request_json.contains(&r.prompt), "the request is kept");
    }
    assert!(per_prompt.values().all(|n| *n == 1), "{per_prompt:?}");
    assert!(rows.len() <= rounds);
    let sent = sim.stat("creates");
    let accepted = rows.iter().filter(|r| r.task_id.is_some()).count() as u64;
    assert!(
        sent <= rows.len() as u64,
        "{sent} creates for {} stored requests: one was sent twice",
        rows.len()
    );
    assert!(accepted <= sent);

    // Restart: finish polling, then save every result; cut downloads resume to whole files.
    let mut c = cmd();
    let status = c.arg("watch").output().expect("watch");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let s = Store::open(&store).expect("open");
    let rows = s.list(&TaskQuery::default()).expect("list");
    for r in rows.iter().filter(|r| r.task_id.is_some()) {
        assert_eq!(r.phase.as_str(), "succeeded", "{}", r.local_id);
        let mut c = cmd();
        let o = c
            .args(["download", r.display_id(), "--out"])
            .arg(&out)
            .output()
            .expect("download");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let path = String::from_utf8_lossy(&o.stdout)
            .lines()
            .next()
            .expect("a saved path")
            .to_string();
        let bytes = std::fs::read(&path).expect("saved video");
        assert_eq!(bytes, seedance_tui::sim::SAMPLE_MP4, "{path} is whole");
    }
    assert!(part_files(&out).is_empty(), "{:?}", part_files(&out));
    assert_eq!(sim.stat("creates"), sent, "a restart never creates");
    // The key is nowhere in the store.
    for file in [store.clone(), store.with_extension("sqlite3-wal")] {
        let bytes = std::fs::read(&file).unwrap_or_default();
        assert!(
            !bytes.windows(13).any(|w| w == b"DISTINCTIVE-k"),
            "{file:?}"
        );
    }
}
