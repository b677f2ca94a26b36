//! A team on one store (issue 26; run: `source /work/pgshared.env && cargo bench --bench team`):
//! the same load on a SQLite store and on a PostgreSQL store (a database of its own on the server
//! `SEEDANCE_TEST_POSTGRES` names, dropped at the end), real binaries throughout: one
//! `watch --daemon` (the poller, host "daemon") and three dashboards in pseudo-terminals (hosts
//! "dash-1".."dash-3", followers).
//!
//! The store holds `TEAM_TASKS` (default 10,000) tasks, `TEAM_ACTIVE` (default 2,000) of them
//! real simulator tasks still queued. The simulator's clock stands still (speed 0) until the
//! bench moves it an hour on, when every active task is finished at once. Polled through the
//! relay path (one GET per task, no lists) at 100 requests/s, so a second poller would show as
//! a second GET per task. Measured, per backend:
//! - **requests per finished task**: the simulator's GETs from moving the clock until the store
//!   shows every active task finished, over the tasks finished; the same with the daemon alone
//!   (the single-host figure);
//! - **a change seen by another host's dashboard**: `TEAM_CHANGES` (default 30) writes of a
//!   visible row's prompt straight into the store (another host's write), each timed from the
//!   commit to all three dashboards' screens showing it (screens read every 2 ms);
//! - **dashboard idle CPU**: the three dashboards' CPU time (/proc/PID/stat) over a
//!   `TEAM_WINDOW` (default 20 s) window once nothing is left to poll;
//! - **start-up at `TEAM_STARTUP_TASKS`** (default 100,000) finished tasks: one dashboard, start
//!   to first frame (the table's title) and to the full table (the title counts every row),
//!   best of `TEAM_STARTUP_RUNS` (default 2).
//!
//! Without `SEEDANCE_TEST_POSTGRES` the PostgreSQL half is skipped (said so); `TEAM_BACKENDS`
//! (`sqlite,postgres`) picks the backends.

mod common;
#[allow(dead_code)]
#[path = "../tests/support/postgres.rs"]
mod pg_support;
// The end-to-end tests' PTY driver; a bench uses only part of it.
#[allow(dead_code)]
#[path = "../tests/e2e/support/pty.rs"]
mod pty_harness;

use seedance_tui::api::{ApiKey, ArkClient, ClientConfig};
use seedance_tui::engine::Engine;
use seedance_tui::sim::SimHandle;
use seedance_tui::store::Store;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::env_or;

const DASHBOARDS: usize = 3;
const BIN: &str = env!("CARGO_BIN_EXE_seedance-tui");

/// Where the load runs: a SQLite file, or a database on the PostgreSQL server.
enum Backend {
    Sqlite(PathBuf),
    Postgres(pg_support::TestDb),
}

impl Backend {
    /// What `--store` is given.
    fn location(&self) -> String {
        match self {
            Backend::Sqlite(p) => p.to_string_lossy().into_owned(),
            Backend::Postgres(db) => db.url.clone(),
        }
    }

    /// Another host's connection, for writes and counts behind the binaries' backs.
    fn connect(&self) -> Conn {
        match self {
            Backend::Sqlite(p) => {
                let c = rusqlite::Connection::open(p).expect("open the store");
                c.busy_timeout(Duration::from_secs(10)).expect("timeout");
                Conn::Sqlite(c)
            }
            Backend::Postgres(db) => Conn::Postgres(Box::new(db.client())),
        }
    }
}

enum Conn {
    Sqlite(rusqlite::Connection),
    Postgres(Box<postgres::Client>),
}

impl Conn {
    fn count(&mut self, sql: &str) -> i64 {
        match self {
            Conn::Sqlite(c) => c.query_row(sql, [], |r| r.get(0)).expect("count"),
            Conn::Postgres(c) => c.query_one(sql, &[]).expect("count").get(0),
        }
    }

    /// Set the prompt of the task whose prompt is `old` (one commit).
    fn set_prompt(&mut self, old: &str, new: &str) {
        let n = match self {
            Conn::Sqlite(c) => c
                .execute(
                    "UPDATE tasks SET prompt = ?1 WHERE prompt = ?2",
                    rusqlite::params![new, old],
                )
                .expect("update") as u64,
            Conn::Postgres(c) => c
                .execute(
                    "UPDATE tasks SET prompt = $1 WHERE prompt = $2",
                    &[&new, &old],
                )
                .expect("update"),
        };
        assert_eq!(n, 1, "one task's prompt is {old:?}");
    }
}

/// The columns copied to PostgreSQL, per table (every column but `rowid` and `seq`, which the
/// server fills in).
const TASK_COLUMNS: &str = "local_id, task_id, status, profile, model, prompt, response_json, \
    error_code, error_message, retry_of, retry_depth, created_at, updated_at, started_at, \
    finished_at, tokens, video_url, last_frame_url, urls_seen_at, video_path, last_frame_path, \
    queue_key, queue_pos, label, max_in_flight, asset_files, shape";
const TABLES: [(&str, &str); 3] = [
    ("tasks", TASK_COLUMNS),
    ("task_requests", "local_id, body"),
    ("status_history", "local_id, status, at, note"),
];

/// One value in COPY's text format.
fn copy_text(out: &mut Vec<u8>, v: rusqlite::types::ValueRef<'_>) {
    use rusqlite::types::ValueRef;
    match v {
        ValueRef::Null => out.extend_from_slice(b"\\N"),
        ValueRef::Integer(i) => out.extend_from_slice(i.to_string().as_bytes()),
        ValueRef::Real(f) => out.extend_from_slice(f.to_string().as_bytes()),
        ValueRef::Text(t) => {
            for &b in t {
                match b {
                    b'\\' => out.extend_from_slice(b"\\\\"),
                    b'\t' => out.extend_from_slice(b"\\t"),
                    b'\n' => out.extend_from_slice(b"\\n"),
                    b'\r' => out.extend_from_slice(b"\\r"),
                    b => out.push(b),
                }
            }
        }
        ValueRef::Blob(b) => {
            out.extend_from_slice(b"\\\\x");
            for byte in b {
                out.extend_from_slice(format!("{byte:02x}").as_bytes());
            }
        }
    }
}

/// Copy the SQLite store at `from` into the (created, empty) PostgreSQL store `db` with COPY:
/// the store's own `copy` goes row by row, too slow to set up 100k tasks in a bench.
fn copy_to_postgres(from: &Path, db: &pg_support::TestDb) {
    let src = rusqlite::Connection::open(from).expect("open the SQLite store");
    let mut client = db.client();
    // What another host's dashboard is told of the copy: the change notifications it sends.
    let mut listener = db.client();
    listener
        .batch_execute("LISTEN seedance_changes")
        .expect("listen");
    for (table, columns) in TABLES {
        let mut buf = Vec::new();
        let mut stmt = src
            .prepare(&format!("SELECT {columns} FROM {table} ORDER BY rowid"))
            .expect("select");
        let n = stmt.column_count();
        let mut rows = stmt.query([]).expect("rows");
        while let Some(row) = rows.next().expect("row") {
            for i in 0..n {
                if i > 0 {
                    buf.push(b'\t');
                }
                copy_text(&mut buf, row.get_ref(i).expect("value"));
            }
            buf.push(b'\n');
        }
        let mut w = client
            .copy_in(&format!("COPY {table} ({columns}) FROM STDIN"))
            .expect("COPY");
        w.write_all(&buf).expect("COPY data");
        w.finish().expect("COPY done");
    }
    // Notifications arrive in commit order: this one after every one the copy sent.
    client
        .batch_execute("NOTIFY seedance_changes, 'bench-end'")
        .expect("notify");
    use postgres::fallible_iterator::FallibleIterator;
    let mut notes = listener.notifications();
    let mut waiting = notes.timeout_iter(Duration::from_secs(120));
    let mut sent = 0;
    while let Some(n) = waiting.next().expect("the listener") {
        if n.payload() == "bench-end" {
            break;
        }
        sent += 1;
    }
    eprintln!("PostgreSQL: one COPY of the tasks sent {sent} change notification(s)");
}

/// The binary with the bench's environment: `XDG_*` under `dir`, no inherited store or key.
fn command(dir: &Path, args: &[&str], host: &str) -> std::process::Command {
    let mut c = std::process::Command::new(BIN);
    c.args(args)
        .current_dir(dir)
        .env_remove("SEEDANCE_STORE")
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env("XDG_DATA_HOME", dir.join("data"))
        .env("SEEDANCE_API_KEY", "k")
        .env("SEEDANCE_HOST", host)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    c
}

/// A store at `backend` holding `finished` succeeded tasks (from the SQLite file `seed`, built
/// by `common::make_store` and any submissions) — for PostgreSQL, the schema made by the binary
/// opening it, then the rows copied in.
fn place(seed: &Path, backend: &Backend, dir: &Path) {
    if let Backend::Postgres(db) = backend {
        let out = command(dir, &["--store", &db.url, "ls", "--json"], "setup")
            .output()
            .expect("run the binary");
        assert!(
            out.status.success(),
            "the binary could not open the PostgreSQL store: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        copy_to_postgres(seed, db);
    }
}

/// `active` tasks submitted to `sim` through the engine into the SQLite store at `path`, of a
/// shape the store's history does not have (so the poller polls them at the plain interval).
fn submit(rt: &tokio::runtime::Runtime, sim: &SimHandle, path: &Path, active: usize) {
    let client =
        ArkClient::new(ClientConfig::new(sim.base_url(), Some(ApiKey::new("k")))).expect("client");
    let engine = Engine::new(client, Store::open(path).expect("store"), "bench");
    rt.block_on(async {
        let mut jobs = tokio::task::JoinSet::new();
        for chunk in 0..8 {
            let engine = engine.clone();
            jobs.spawn(async move {
                for i in (chunk..active).step_by(8) {
                    let body = format!(
                        r#"{{"model":"doubao-seedance-2-0-260128","content":[{{"type":"text","text":"team {i:05}"}}],"duration":10,"resolution":"1080p"}}"#
                    );
                    engine.submit(body, None).await.expect("submit");
                }
            });
        }
        while let Some(r) = jobs.join_next().await {
            r.expect("submitter");
        }
    });
}

struct Team {
    requests_per_task: f64,
    finished: i64,
    finish_secs: f64,
    /// Per dashboard, % of one core.
    idle_cpu: Vec<f64>,
    /// Store write to every dashboard showing it, in ms (one per dashboard per change).
    change_ms: Vec<f64>,
}

/// Start-up cost of the dashboards at `TEAM_TASKS`: start to the full table, per dashboard.
struct Run {
    team: Team,
    full_table_10k: Vec<f64>,
}

/// One run: a daemon and `dashboards` dashboards on `backend`, the simulator's clock moved so
/// every active task finishes; with dashboards, then the idle window and the changes.
fn run(
    rt: &tokio::runtime::Runtime,
    kind: &str,
    dashboards: usize,
    finished: usize,
    active: usize,
) -> Option<Run> {
    let dir = tempfile::tempdir().expect("tempdir");
    let seed = dir.path().join("seed.sqlite3");
    common::make_store(&seed, finished, 0);
    let sim = rt.block_on(common::simulator(0.0, 1_000_000, None));
    submit(rt, &sim, &seed, active);
    let backend = match kind {
        "postgres" => Backend::Postgres(pg_support::TestDb::create("team bench")?),
        _ => Backend::Sqlite(seed.clone()),
    };
    place(&seed, &backend, dir.path());
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        "[poll]\ninterval_secs = 10\nconcurrency = 8\nrequests_per_second = 100\n\n[download]\nauto = false\n",
    )
    .expect("config");
    let (loc, config_arg, base) = (
        backend.location(),
        config.to_string_lossy().into_owned(),
        sim.relay_base_url(),
    );
    let args = [
        "--store",
        loc.as_str(),
        "--base-url",
        base.as_str(),
        "--config",
        config_arg.as_str(),
    ];
    let mut daemon_args = args.to_vec();
    daemon_args.extend(["watch", "--daemon"]);
    let mut daemon = command(dir.path(), &daemon_args, "daemon")
        .spawn()
        .expect("spawn the daemon");
    // The daemon polls: it holds the lease before any dashboard starts.
    let t = Instant::now();
    while sim.stats().gets == 0 {
        assert!(
            t.elapsed() < Duration::from_secs(120),
            "the daemon never polled"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let total = finished + active;
    let mut ptys = Vec::new();
    let mut full_table_10k = Vec::new();
    for n in 0..dashboards {
        let home = dir.path().join(format!("dash-{}", n + 1));
        std::fs::create_dir_all(&home).expect("dir");
        let host = format!("dash-{}", n + 1);
        let started = Instant::now();
        let pty = pty_harness::Pty::spawn(
            &args,
            160,
            48,
            &[("SEEDANCE_API_KEY", "k"), ("SEEDANCE_HOST", host.as_str())],
            &home,
        );
        pty.wait_text(&format!("Tasks {total}/{total}"), Duration::from_secs(120));
        full_table_10k.push(started.elapsed().as_secs_f64() * 1e3);
        ptys.push(pty);
    }
    // Every task finishes at the simulator at once; count the GETs until the store has them.
    let mut conn = backend.connect();
    let done_sql = "SELECT count(*) FROM tasks WHERE status IN ('succeeded', 'failed', 'expired', 'cancelled')";
    let before = sim.stats();
    let moved = Instant::now();
    sim.advance(Duration::from_secs(3600));
    let cap = Duration::from_secs(env_or("TEAM_FINISH_SECS", 300));
    let mut done = 0;
    while moved.elapsed() < cap {
        done = conn.count(done_sql) - finished as i64;
        if done >= active as i64 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let finish_secs = moved.elapsed().as_secs_f64();
    let after = sim.stats();
    let requests = (after.gets - before.gets) + (after.lists - before.lists);
    let mut team = Team {
        requests_per_task: requests as f64 / done.max(1) as f64,
        finished: done,
        finish_secs,
        idle_cpu: Vec::new(),
        change_ms: Vec::new(),
    };
    if !ptys.is_empty() {
        // Nothing left to poll: the dashboards idle (the followers' store watch, clocks).
        std::thread::sleep(Duration::from_secs(3));
        let window = Duration::from_secs(env_or("TEAM_WINDOW", 20));
        let pids: Vec<u32> = ptys.iter().map(|p| p.pid().expect("pid")).collect();
        let ticks0: Vec<u64> = pids
            .iter()
            .map(|p| common::cpu_ticks(*p).unwrap_or(0))
            .collect();
        let t0 = Instant::now();
        std::thread::sleep(window);
        let secs = t0.elapsed().as_secs_f64();
        team.idle_cpu = pids
            .iter()
            .zip(ticks0)
            .map(|(p, t)| (common::cpu_ticks(*p).unwrap_or(0) - t) as f64 / 100.0 / secs * 100.0)
            .collect();
        team.change_ms = changes(&mut conn, &ptys, env_or("TEAM_CHANGES", 30));
    }
    for mut pty in ptys {
        pty.send(b"q");
        let _ = pty.wait_exit(Duration::from_secs(10));
    }
    // SAFETY: kill(2) on our own child's pid.
    unsafe {
        libc::kill(daemon.id() as i32, libc::SIGTERM);
    }
    let _ = daemon.wait();
    drop(conn);
    Some(Run {
        team,
        full_table_10k,
    })
}

/// Rewrite the prompt of a row every dashboard shows, `n` times; the time from each commit to
/// the last of the dashboards showing the new prompt, per dashboard.
fn changes(conn: &mut Conn, ptys: &[pty_harness::Pty], n: usize) -> Vec<f64> {
    let screens: Vec<String> = ptys.iter().map(|p| p.screen()).collect();
    // A submitted task's prompt ("team 01234") on every screen.
    let shown = screens[0]
        .split("team ")
        .skip(1)
        .filter_map(|s| s.get(..5))
        .find(|id| {
            id.bytes().all(|b| b.is_ascii_digit())
                && screens.iter().all(|s| s.contains(&format!("team {id}")))
        })
        .unwrap_or_else(|| panic!("no submitted task on every screen:\n{}", screens[0]))
        .to_string();
    let mut prompt = format!("team {shown}");
    let mut out = Vec::new();
    for i in 0..n {
        let next = format!("m{i:03} team {shown}");
        let t0 = Instant::now();
        conn.set_prompt(&prompt, &next);
        let mut seen = vec![None; ptys.len()];
        while seen.iter().any(Option::is_none) {
            assert!(
                t0.elapsed() < Duration::from_secs(30),
                "a dashboard never showed {next:?}"
            );
            for (p, s) in ptys.iter().zip(seen.iter_mut()) {
                if s.is_none() && p.screen().contains(&next) {
                    *s = Some(t0.elapsed().as_secs_f64() * 1e3);
                }
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        out.extend(seen.into_iter().flatten());
        prompt = next;
        // Spaced apart, off the SQLite watcher's 0.5 s beat.
        std::thread::sleep(Duration::from_millis(300 + (i as u64 * 137) % 400));
    }
    out
}

/// Start to first frame and to the full table, best of `runs`, at `n` finished tasks.
fn startup(kind: &str, n: usize, runs: usize) -> Option<(f64, f64, f64)> {
    let dir = tempfile::tempdir().expect("tempdir");
    let seed = dir.path().join("seed.sqlite3");
    common::make_store(&seed, n, 0);
    let backend = match kind {
        "postgres" => Backend::Postgres(pg_support::TestDb::create("team startup")?),
        _ => Backend::Sqlite(seed.clone()),
    };
    place(&seed, &backend, dir.path());
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[download]\nauto = false\n").expect("config");
    let (loc, config_arg) = (backend.location(), config.to_string_lossy().into_owned());
    let (mut first, mut full, mut cpu) = (f64::MAX, f64::MAX, f64::MAX);
    for _ in 0..runs {
        let started = Instant::now();
        let mut pty = pty_harness::Pty::spawn(
            &[
                "--store",
                &loc,
                "--base-url",
                "http://127.0.0.1:9/api/v3",
                "--config",
                &config_arg,
            ],
            160,
            48,
            &[("SEEDANCE_API_KEY", "k")],
            dir.path(),
        );
        first = first.min(shown(&pty, "Tasks ", started));
        full = full.min(shown(&pty, &format!("Tasks {n}/{n}"), started));
        // The dashboard's own CPU time to the full table (clock ticks, 10 ms): steadier than
        // the wall time on shared cores.
        let ticks = pty.pid().and_then(common::cpu_ticks).unwrap_or(0);
        cpu = cpu.min(ticks as f64 * 1e3 / common::ticks_per_second());
        pty.send(b"q");
        let _ = pty.wait_exit(Duration::from_secs(10));
    }
    Some((first, full, cpu))
}

/// Milliseconds from `started` until the screen showed `text` (looked at every 2 ms).
fn shown(pty: &pty_harness::Pty, text: &str, started: Instant) -> f64 {
    let deadline = started + Duration::from_secs(180);
    while !pty.screen().contains(text) {
        assert!(
            Instant::now() < deadline,
            "the dashboard never showed {text:?}:\n{}",
            pty.screen()
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    started.elapsed().as_secs_f64() * 1e3
}

fn pct(v: &mut [f64], p: usize) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[((v.len() * p).div_ceil(100))
        .saturating_sub(1)
        .min(v.len() - 1)]
}

fn main() {
    let total: usize = env_or("TEAM_TASKS", 10_000);
    let active: usize = env_or("TEAM_ACTIVE", 2_000).min(total);
    let big: usize = env_or("TEAM_STARTUP_TASKS", 100_000);
    let runs: usize = env_or("TEAM_STARTUP_RUNS", 2);
    let kinds: Vec<String> = std::env::var("TEAM_BACKENDS")
        .unwrap_or_else(|_| "sqlite,postgres".into())
        .split(',')
        .map(|s| s.trim().to_string())
        .collect();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let started = Instant::now();
    let load_start = common::load_averages();
    let mut rows = Vec::new();
    if std::env::var("TEAM_ONLY").is_ok_and(|v| v == "startup") {
        // The start-up column alone (each backend's store built and started `runs` times).
        for kind in &kinds {
            let load = common::load_averages();
            let (first, full, cpu) = startup(kind, big, runs).expect("store");
            println!(
                "{kind}: start-up at {big}: first frame {first:.0} ms, full table {full:.0} ms, the dashboard's CPU to the full table {cpu:.0} ms (best of {runs}; load average {load} before, {} after)",
                common::load_averages()
            );
        }
        return;
    }
    for kind in &kinds {
        let name = if kind == "postgres" {
            "PostgreSQL"
        } else {
            "SQLite"
        };
        eprintln!(
            "{name}: the daemon alone ({}s in)",
            started.elapsed().as_secs()
        );
        let Some(alone) = run(&rt, kind, 0, total - active, active) else {
            continue;
        };
        eprintln!(
            "{name}: the daemon and {DASHBOARDS} dashboards ({}s in, load {})",
            started.elapsed().as_secs(),
            common::load_averages()
        );
        let team = run(&rt, kind, DASHBOARDS, total - active, active).expect("store");
        eprintln!(
            "{name}: start-up at {big} ({}s in, load {})",
            started.elapsed().as_secs(),
            common::load_averages()
        );
        let start = startup(kind, big, runs).expect("store");
        rows.push((name, alone, team, start, common::load_averages()));
    }
    println!(
        "team bench: {total} tasks, {active} active (relay path, 100 requests/s), one `watch --daemon`, {DASHBOARDS} dashboards; {:.0} s; load average at the start {load_start}, at the end {}",
        started.elapsed().as_secs_f64(),
        common::load_averages()
    );
    println!(
        "| store | requests per finished task: daemon alone | with {DASHBOARDS} dashboards | all {active} seen finished in | change seen by the dashboards p50 / p95 / max (n) | dashboard idle CPU (each, % of a core) | dashboards' start to full table at {total} | start-up at {big}: first frame / full table | load after |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for (name, alone, mut team, (first, full, _), load) in rows {
        let n = team.team.change_ms.len();
        let p50 = pct(&mut team.team.change_ms, 50);
        let p95 = pct(&mut team.team.change_ms, 95);
        let max = pct(&mut team.team.change_ms, 100);
        let cpu: Vec<String> = team
            .team
            .idle_cpu
            .iter()
            .map(|c| format!("{c:.2}"))
            .collect();
        let tables: Vec<String> = team
            .full_table_10k
            .iter()
            .map(|c| format!("{c:.0}"))
            .collect();
        println!(
            "| {name} | {:.3} ({} finished) | {:.3} ({} finished) | {:.1} s | {p50:.0} / {p95:.0} / {max:.0} ms ({n}) | {} | {} ms | {first:.0} / {full:.0} ms | {load} |",
            alone.team.requests_per_task,
            alone.team.finished,
            team.team.requests_per_task,
            team.team.finished,
            team.team.finish_secs,
            cpu.join(", "),
            tables.join(", "),
        );
    }
}
