//! Where the time of `ls --json` goes (run: `cargo bench --bench ls_json`): over a store of
//! `BENCH_LS_TASKS` tasks (default 100,000; rows from `benches/common`), best of 3 each:
//! reading the rows alone, the rows as `serde_json::Value` trees serialised and sanitised (the
//! reference output), the rows written from their borrowed fields (what `ls --json` does), and
//! the real binary to a pipe, next to the binary's start-up on an empty store. Each figure is the
//! wall time and, in brackets, the CPU time (user + system), the steadier one on a busy machine. It also checks
//! that the two ways give the same bytes. `BENCH_LS_STORE=PATH` keeps the store there (built if
//! missing), e.g. to profile the binary with `perf record`.

mod common;

use seedance_tui::cli::query::write_json_rows;
use seedance_tui::cli::task_json::record_json;
use seedance_tui::store::{Store, TaskQuery};
use std::time::{Duration, Instant};

/// CPU seconds (user + system) used so far by this process, or by its waited-for children.
fn cpu_secs(children: bool) -> f64 {
    let who = if children {
        libc::RUSAGE_CHILDREN
    } else {
        libc::RUSAGE_SELF
    };
    // SAFETY: getrusage only writes the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(who, &mut u) } != 0 {
        return 0.0;
    }
    let t = |v: libc::timeval| v.tv_sec as f64 + v.tv_usec as f64 / 1e6;
    t(u.ru_utime) + t(u.ru_stime)
}

/// Wall time and CPU time (this process's, or with `children` its children's), each the best of
/// `n` runs. CPU time is the steadier figure on a shared machine.
fn best_of<T>(n: usize, children: bool, mut f: impl FnMut() -> T) -> (Duration, Duration, T) {
    let mut best = Duration::MAX;
    let mut best_cpu = Duration::MAX;
    let mut last = None;
    for _ in 0..n {
        let c = cpu_secs(children);
        let t = Instant::now();
        let v = f();
        best = best.min(t.elapsed());
        best_cpu = best_cpu.min(Duration::from_secs_f64((cpu_secs(children) - c).max(0.0)));
        last = Some(v);
    }
    (best, best_cpu, last.expect("ran"))
}

fn ms(d: (Duration, Duration)) -> String {
    format!(
        "{:.0} ms ({:.0} ms CPU)",
        d.0.as_secs_f64() * 1e3,
        d.1.as_secs_f64() * 1e3
    )
}

fn ls_json(store: &str, cwd: &std::path::Path, rows: usize) -> (Duration, Duration) {
    let (wall, cpu, ()) = best_of(3, true, || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_seedance-tui"))
            .args(["--store", store, "ls", "--json"])
            .env("SEEDANCE_API_KEY", "bench-key")
            .current_dir(cwd)
            .output()
            .expect("ls");
        assert!(out.status.success(), "ls --json failed");
        assert_eq!(
            out.stdout.iter().filter(|&&b| b == b'\n').count(),
            rows + 1 + usize::from(rows > 0)
        );
    });
    (wall, cpu)
}

fn main() {
    let n: usize = std::env::var("BENCH_LS_TASKS")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = match std::env::var_os("BENCH_LS_STORE") {
        Some(p) => std::path::PathBuf::from(p),
        None => dir.path().join("ls.sqlite3"),
    };
    if !path.exists() {
        common::make_store(&path, n, 0);
    }
    let store = Store::open(&path).expect("open");
    let all = TaskQuery::default();
    let (read_wall, read_cpu, count) = best_of(3, false, || {
        let mut count = 0usize;
        store
            .each(&all, |_| {
                count += 1;
                true
            })
            .expect("each");
        count
    });
    let (values_wall, values_cpu, reference) = best_of(3, false, || {
        use std::io::Write;
        let mut out = Vec::new();
        out.push(b'[');
        let mut first = true;
        store
            .each(&all, |r| {
                let line = seedance_tui::sanitize::json(&record_json(&r));
                let _ = write!(out, "{}{line}", if first { "\n" } else { ",\n" });
                first = false;
                true
            })
            .expect("each");
        out.extend_from_slice(if first { b"]\n" } else { b"\n]\n" });
        out
    });
    let (streamed_wall, streamed_cpu, written) = best_of(3, false, || {
        let mut out = Vec::new();
        write_json_rows(&store, &all, true, &mut out).expect("rows");
        out
    });
    assert!(
        written == reference,
        "the streamed rows differ from the Value rows"
    );
    let store_arg = path.to_string_lossy().into_owned();
    let binary = ls_json(&store_arg, dir.path(), count);
    let empty = dir.path().join("empty.sqlite3");
    drop(Store::open(&empty).expect("empty store"));
    let startup = ls_json(&empty.to_string_lossy(), dir.path(), 0);
    println!(
        "| tasks | output | read rows | rows as Values, serialised + sanitised | rows written from fields | `ls --json` (binary, to a pipe) | binary on an empty store |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    println!(
        "| {count} | {:.0} MB | {} | {} | {} | {} | {} |",
        written.len() as f64 / 1e6,
        ms((read_wall, read_cpu)),
        ms((values_wall, values_cpu)),
        ms((streamed_wall, streamed_cpu)),
        ms(binary),
        ms(startup),
    );
}
