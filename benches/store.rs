//! Store and memory at scale (run: `cargo bench --bench store`): for 10,000 and 100,000 tasks,
//! opening the store and loading every task (what the dashboard does at start), loading them
//! into the dashboard's state, and the resident memory of the real dashboard showing them in a
//! pseudo-terminal.

mod common;
// The end-to-end tests' PTY driver; a bench uses only part of it.
#[allow(dead_code)]
#[path = "../tests/e2e/support/pty.rs"]
mod pty_harness;

use seedance_tui::app::keymap::Keymap;
use seedance_tui::app::{Msg, State, update};
use seedance_tui::store::{Store, TaskFacts, TaskQuery};
use std::time::Duration;

fn main() {
    if let Ok(path) = std::env::var("BENCH_START_STORE") {
        start_path(std::path::Path::new(&path));
        return;
    }
    let sizes: Vec<usize> = std::env::var("BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10_000, 100_000]);
    println!(
        "| tasks | store file | open + load all | into dashboard state | dashboard RSS (peak) | start to first frame | start to full table | `ls --json` |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    for n in sizes {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("scale.sqlite3");
        common::make_store(&path, n, 0);
        let file_mb = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0) as f64 / 1e6;
        let (load, rows) = common::best_of(3, || {
            let s = Store::open(&path).expect("open");
            s.list_rows(&TaskQuery::default()).expect("list")
        });
        assert_eq!(rows.len(), n);
        let (into_state, _) = common::best_of(3, || {
            let mut s = State::new(
                "bench",
                "http://127.0.0.1:9/api/v3",
                Keymap::default(),
                Vec::new(),
            );
            update(&mut s, Msg::TasksLoaded(rows.clone()));
            s
        });
        let store_arg = path.to_string_lossy().into_owned();
        // `ls --json` over the whole store, to a pipe (best of 3).
        let ls = (0..3)
            .map(|_| {
                let t = std::time::Instant::now();
                let out = std::process::Command::new(env!("CARGO_BIN_EXE_seedance-tui"))
                    .args(["--store", &store_arg, "ls", "--json"])
                    .env("SEEDANCE_API_KEY", "bench-key")
                    .current_dir(dir.path())
                    .output()
                    .expect("ls");
                assert!(out.status.success(), "ls --json failed");
                // One array: `[`, a line per row, `]`.
                assert_eq!(out.stdout.iter().filter(|&&b| b == b'\n').count(), n + 2);
                t.elapsed()
            })
            .min()
            .expect("runs");
        // No automatic downloads: the RSS is the dashboard's rows, not a sweep of 100k
        // results to fetch. `BENCH_DOWNLOADS=on` turns them on to measure that sweep instead
        // (every row's result is unsaved; its link's host does not resolve, so each fails).
        let downloads = std::env::var("BENCH_DOWNLOADS").is_ok_and(|v| v == "on");
        let config = dir.path().join("config.toml");
        std::fs::write(&config, format!("[download]\nauto = {downloads}\n")).expect("config");
        let config_arg = config.to_string_lossy().into_owned();
        let started = std::time::Instant::now();
        let pty = pty_harness::Pty::spawn(
            &[
                "--store",
                &store_arg,
                "--base-url",
                "http://127.0.0.1:9/api/v3",
                "--config",
                &config_arg,
            ],
            160,
            48,
            &[("SEEDANCE_API_KEY", "bench-key")],
            dir.path(),
        );
        // The first frame: the table's title is drawn (with the first page of rows).
        let first_frame = shown(&pty, "Tasks ", started);
        // The full table: the title counts every row.
        let full_table = shown(&pty, &format!("Tasks {n}/{n}"), started);
        let cpu_ms = pty.pid().and_then(common::cpu_ticks).unwrap_or(0) as f64 * 1e3
            / common::ticks_per_second();
        eprintln!(
            "  dashboard at {n}: {cpu_ms:.0} ms of CPU to the full table, load average {}",
            common::load_average()
        );
        if downloads {
            // A window for the lease, the sweep and the first failed attempts.
            std::thread::sleep(Duration::from_secs(10));
        }
        let (rss, hwm) = pty.pid().and_then(common::memory_kib).unwrap_or((0, 0));
        let (anon, file) = pty
            .pid()
            .and_then(common::memory_split_kib)
            .unwrap_or((0, 0));
        println!(
            "| {n} | {file_mb:.0} MB | {:.0} ms | {:.0} ms | {:.0} MiB ({:.0} MiB) | {:.0} ms | {:.0} ms | {:.0} ms |",
            load.as_secs_f64() * 1e3,
            into_state.as_secs_f64() * 1e3,
            rss as f64 / 1024.0,
            hwm as f64 / 1024.0,
            first_frame.as_secs_f64() * 1e3,
            full_table.as_secs_f64() * 1e3,
            ls.as_secs_f64() * 1e3,
        );
        eprintln!(
            "  dashboard at {n}: {:.0} MiB anonymous (heap, stacks), {:.0} MiB file-backed (the binary, libraries)",
            anon as f64 / 1024.0,
            file as f64 / 1024.0
        );
    }
}

/// How long after `started` the screen first showed `text` (looked at every 2 ms: the PTY
/// harness's own wait looks every 50 ms, too coarse for these times).
fn shown(pty: &pty_harness::Pty, text: &str, started: std::time::Instant) -> Duration {
    let deadline = started + Duration::from_secs(120);
    while !pty.screen().contains(text) {
        assert!(
            std::time::Instant::now() < deadline,
            "the dashboard never showed {text:?}:\n{}",
            pty.screen()
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    started.elapsed()
}

/// The dashboard's start in process, on the store at `path` (made with `common::make_store` at
/// `BENCH_START_TASKS`, default 100,000, when it is not there): the newest page, the rest
/// behind it (`Store::rows_after`, on a connection of its own as the dashboard opens one), and
/// the reducer taking both, each with its thread CPU time and wall time. Run it under
/// `valgrind --tool=callgrind --toggle-collect='*rows_after*'` (or `*update*`) for the
/// instructions of one step: the machine's load does not change those.
fn start_path(path: &std::path::Path) {
    if !path.exists() {
        let n = std::env::var("BENCH_START_TASKS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(100_000);
        common::make_store(path, n, 0);
    }
    let store = Store::open(path).expect("open");
    let mut state = State::new(
        "bench",
        "http://127.0.0.1:9/api/v3",
        Keymap::default(),
        Vec::new(),
    );
    let (page, page_cpu, page_wall) = common::cpu_timed(|| {
        store
            .list_rows(&TaskQuery {
                limit: Some(1_000),
                ..TaskQuery::default()
            })
            .expect("page")
    });
    let after = page
        .last()
        .map(|r| (r.created_at(), r.local_id().to_string()));
    update(&mut state, Msg::TasksLoaded(page));
    let (rest, rest_cpu, rest_wall) = common::cpu_timed(|| {
        Store::open(path)
            .expect("open")
            .rows_after(after.as_ref().map(|(c, id)| (*c, id.as_str())))
            .expect("rest")
    });
    let n = rest.len();
    let (_, reduce_cpu, reduce_wall) =
        common::cpu_timed(|| update(&mut state, Msg::MoreTasksLoaded(rest)));
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "start path: newest page {:.1} ms CPU ({:.1} wall), the rest ({n} rows) {:.1} ms CPU ({:.1} wall), \
         into the state {:.1} ms CPU ({:.1} wall), load average {}",
        ms(page_cpu),
        ms(page_wall),
        ms(rest_cpu),
        ms(rest_wall),
        ms(reduce_cpu),
        ms(reduce_wall),
        common::load_average()
    );
}
