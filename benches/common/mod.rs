//! Shared by the benches: a store with many tasks, written in one transaction (fast to build,
//! rows shaped like the engine's), a simulator holding real queued tasks, and process memory,
//! CPU time and the load average from /proc.

#![allow(dead_code)]

use seedance_tui::api::{ApiKey, ArkClient, ClientConfig};
use seedance_tui::engine::Engine;
use seedance_tui::sim::{self, SimConfig, SimHandle};
use seedance_tui::store::Store;
use std::path::Path;

/// Create `path` with `finished` succeeded tasks and `active` queued ones (ids `cgt-bench-N`,
/// prompts carrying `[[sim:hold]]` so a simulator keeps the active ones queued).
pub fn make_store(path: &Path, finished: usize, active: usize) {
    drop(Store::open(path).expect("create the store"));
    let mut c = rusqlite::Connection::open(path).expect("open");
    let tx = c.transaction().expect("tx");
    let now = chrono::Utc::now().timestamp();
    {
        let mut task = tx
            .prepare(
                "INSERT INTO tasks (local_id, task_id, status, profile, model, prompt, \
                 response_json, created_at, updated_at, started_at, finished_at, tokens, video_url, \
                 urls_seen_at) VALUES (?1, ?2, ?3, 'bench', ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            )
            .expect("prepare");
        let mut body = tx
            .prepare("INSERT INTO task_requests (local_id, body) VALUES (?1, CAST(?2 AS BLOB))")
            .expect("prepare");
        let mut hist = tx
            .prepare("INSERT INTO status_history (local_id, status, at) VALUES (?1, ?2, ?3)")
            .expect("prepare");
        for n in 0..finished + active {
            let done = n < finished;
            let model = if n % 2 == 0 {
                "doubao-seedance-2-0-fast-260128"
            } else {
                "doubao-seedance-2-0-260128"
            };
            let prompt =
                format!("bench task {n}: a lighthouse at dusk, waves, slow dolly in [[sim:hold]]");
            let request = format!(
                r#"{{"model":"{model}","content":[{{"type":"text","text":"{prompt}"}}],"ratio":"16:9","duration":5,"resolution":"720p","generate_audio":false}}"#
            );
            let created = now - 86_000 + (n as i64 % 80_000);
            let (lid, tid) = (format!("lbench{n:07}"), format!("cgt-bench-{n:07}"));
            let status = if done { "succeeded" } else { "queued" };
            let response = done.then(|| {
                format!(
                    r#"{{"id":"{tid}","model":"{model}","status":"succeeded","content":{{"video_url":"https://sim.example/v/{tid}.mp4"}},"usage":{{"completion_tokens":108900,"total_tokens":108900}},"created_at":{created},"updated_at":{}}}"#,
                    created + 150
                )
            });
            task.execute(rusqlite::params![
                lid,
                tid,
                status,
                model,
                prompt,
                response,
                created,
                created + if done { 150 } else { 1 },
                done.then_some(created + 40),
                done.then_some(created + 150),
                done.then_some(108_900i64),
                done.then(|| format!("https://sim.example/v/{tid}.mp4")),
                done.then_some(created + 150),
            ])
            .expect("task row");
            body.execute(rusqlite::params![lid, request])
                .expect("request row");
            hist.execute(rusqlite::params![lid, "submitting", created])
                .expect("h");
            hist.execute(rusqlite::params![lid, "queued", created + 1])
                .expect("h");
            if done {
                hist.execute(rusqlite::params![lid, "succeeded", created + 150])
                    .expect("h");
            }
        }
    }
    tx.commit().expect("commit");
    // Opened once more as any process would: the store fills the facts of the rows written
    // here behind its back (`tasks.shape`), so no measured start pays for that.
    drop(Store::open(path).expect("open the written store"));
}

/// Two fields of /proc/PID/status, in KiB.
fn status_kib(pid: u32, a: &str, b: &str) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<u64> {
        status
            .lines()
            .find(|l| l.starts_with(name))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    };
    Some((field(a)?, field(b)?))
}

/// (VmRSS, VmHWM) of a process in KiB.
pub fn memory_kib(pid: u32) -> Option<(u64, u64)> {
    status_kib(pid, "VmRSS:", "VmHWM:")
}

/// Of a process's resident memory, in KiB: (anonymous, file-backed), to tell the heap from
/// mapped files (the binary, a database).
pub fn memory_split_kib(pid: u32) -> Option<(u64, u64)> {
    status_kib(pid, "RssAnon:", "RssFile:")
}

/// An environment variable's value as a `T`, `default` when unset or unreadable: the benches'
/// knobs.
pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A simulator on a loopback port where nothing fails, at `speed` (0: its clock stands still
/// until moved), running up to `max_running` tasks at once; `seed` fixes its durations.
pub async fn simulator(speed: f64, max_running: usize, seed: Option<u64>) -> SimHandle {
    let base = SimConfig::default();
    sim::start(
        "127.0.0.1:0".parse().expect("addr"),
        SimConfig {
            speed,
            fail_rate: 0.0,
            max_running,
            seed: seed.unwrap_or(base.seed),
            ..base
        },
    )
    .await
    .expect("sim")
}

/// A simulator (real time, nothing failing) and `held` real tasks submitted to it through the
/// engine into the store at `path`, each held queued (`[[sim:hold]]`) so it is polled for as long
/// as the bench runs; `label` starts each prompt.
pub fn held_tasks(
    rt: &tokio::runtime::Runtime,
    path: &Path,
    held: usize,
    label: &str,
) -> (SimHandle, Engine) {
    let sim = rt.block_on(simulator(1.0, 100_000, None));
    let client =
        ArkClient::new(ClientConfig::new(sim.base_url(), Some(ApiKey::new("k")))).expect("client");
    let engine = Engine::new(client, Store::open(path).expect("store"), "bench");
    rt.block_on(async {
        for i in 0..held {
            let body = format!(
                r#"{{"model":"doubao-seedance-2-0-fast-260128","content":[{{"type":"text","text":"{label} {i} [[sim:hold]]"}}]}}"#
            );
            engine.submit(body, None).await.expect("submit");
        }
    });
    (sim, engine)
}

/// User + system CPU time of a process, in clock ticks (from /proc/PID/stat).
pub fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// Clock ticks a second (the unit of [`cpu_ticks`]).
pub fn ticks_per_second() -> f64 {
    // SAFETY: sysconf reads a constant.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 { t as f64 } else { 100.0 }
}

/// The machine's 1-minute load average (the cores are shared; timings depend on it).
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

/// The machine's 1-, 5- and 15-minute load averages, for a run's start and end.
pub fn load_averages() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The best time of `n` runs of `f`, and the last run's value.
pub fn best_of<T>(n: usize, mut f: impl FnMut() -> T) -> (std::time::Duration, T) {
    let mut best = std::time::Duration::MAX;
    let mut last = None;
    for _ in 0..n {
        let t = std::time::Instant::now();
        let v = f();
        best = best.min(t.elapsed());
        last = Some(v);
    }
    (best, last.expect("ran"))
}

/// The calling thread's CPU time so far (user + system): on shared cores, the steadier measure.
pub fn thread_cpu() -> std::time::Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec for the call to write.
    let ok = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) } == 0;
    if !ok {
        return std::time::Duration::ZERO;
    }
    std::time::Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// `f`'s value, the thread CPU time it took and its wall time.
pub fn cpu_timed<T>(f: impl FnOnce() -> T) -> (T, std::time::Duration, std::time::Duration) {
    let (cpu, wall) = (thread_cpu(), std::time::Instant::now());
    let v = f();
    (v, thread_cpu() - cpu, wall.elapsed())
}
