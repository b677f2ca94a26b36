//! Store faults seen from the real binary and the library: a store from the previous schema
//! (v2) migrates to the lease schema keeping its rows; a store locked by another process is a
//! clear "busy, try again" error (exit 2) after the busy timeout, not a hang or data loss.
//! A database URL is never created as a file: a PostgreSQL server that cannot be reached is a
//! clear error (exit 2, the password never repeated) from `--store`, `SEEDANCE_STORE` and
//! `[store] url` alike, a URL of another kind (`mysql://…`) is refused, and a password in the
//! config file's URL is pointed at PGPASSWORD / ~/.pgpass.
//! (Damaged and newer files: tests/integration/store.rs.)

use crate::support::process::bin;
use seedance_tui::store::{LeaseOutcome, Store, schema};

#[test]
fn a_v2_store_migrates_to_the_lease_schema_and_keeps_its_rows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("v2.db");
    {
        let c = rusqlite::Connection::open(&path).expect("open");
        for step in &schema::MIGRATIONS[..2] {
            c.execute_batch(step).expect("old schema");
        }
        c.execute(
            "INSERT INTO tasks (local_id, task_id, status, request_json, created_at, updated_at) \
             VALUES ('old1', 'cgt-old1', 'running', '{}', 1, 1)",
            [],
        )
        .expect("row");
        c.execute(
            "INSERT INTO drafts (name, json, updated_at) VALUES ('d', '{}', 1)",
            [],
        )
        .expect("draft");
        c.pragma_update(None, "user_version", 2).expect("v2");
    }
    let s = Store::open(&path).expect("migrates");
    let c = rusqlite::Connection::open(&path).expect("open");
    assert_eq!(schema::version(&c).expect("version"), schema::CURRENT);
    assert_eq!(s.find("old1").expect("kept").phase.as_str(), "running");
    assert_eq!(s.unfinished().expect("unfinished").len(), 1);
    assert!(matches!(
        s.lease_acquire("poller", "me", 1, 1000, None),
        Ok(LeaseOutcome::Held(_))
    ));
    assert!(s.integrity_ok().expect("integrity"));
}

#[test]
fn a_locked_store_is_a_clear_error_not_a_hang() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("locked.db");
    drop(Store::open(&path).expect("create"));
    // Another process (here: a connection) holds an exclusive lock.
    let holder = rusqlite::Connection::open(&path).expect("open");
    holder
        .execute_batch("PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE;")
        .expect("lock");
    let started = std::time::Instant::now();
    let out = bin(dir.path())
        .args(["--store", path.to_str().expect("utf8"), "ls"])
        .output()
        .expect("ls runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("busy") && stderr.contains("try again"),
        "{stderr}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    drop(holder);
    // Released: the same command works and nothing was lost.
    let out = bin(dir.path())
        .args(["--store", path.to_str().expect("utf8"), "ls"])
        .output()
        .expect("ls runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every file and folder under `dir`, as paths relative to it.
fn tree(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).expect("read_dir").flatten() {
            let p = entry.path();
            out.push(p.strip_prefix(dir).expect("under").display().to_string());
            if p.is_dir() {
                todo.push(p);
            }
        }
    }
    out
}

#[test]
fn a_database_url_never_becomes_a_file_from_any_source() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Nothing listens on port 1: the connection is refused at once.
    let url = "postgres://alice:hunter2@127.0.0.1:1/video";
    let config = dir.path().join("store-url.toml");
    std::fs::write(&config, format!("[store]\nurl = \"{url}\"\n")).expect("config");
    let runs = [
        bin(dir.path())
            .current_dir(dir.path())
            .args(["--store", url, "ls"])
            .output(),
        bin(dir.path())
            .current_dir(dir.path())
            .env("SEEDANCE_STORE", url)
            .arg("ls")
            .output(),
        bin(dir.path())
            .current_dir(dir.path())
            .args(["--config", config.to_str().expect("utf8"), "ls"])
            .output(),
        bin(dir.path())
            .current_dir(dir.path())
            .args(["--store", "mysql://h/db", "ls"])
            .output(),
    ];
    for (i, out) in runs.into_iter().enumerate() {
        let out = out.expect("the binary runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "run {i}: {stderr}");
        let why = match i {
            0 | 1 => "cannot connect to the PostgreSQL store postgres://alice@127.0.0.1:1/video",
            2 => "a password never goes in the config file",
            _ => "not a store location",
        };
        assert!(stderr.contains(why), "run {i}: {stderr}");
        // The server is named without its password; a refused location is not repeated.
        assert!(!stderr.contains("hunter2"), "run {i}: {stderr}");
        assert!(i < 2 || !stderr.contains("alice"), "run {i}: {stderr}");
        // The config file's URL carries a password: it is told where a password belongs.
        if i == 2 {
            assert!(
                stderr.contains("PGPASSWORD") && stderr.contains("~/.pgpass"),
                "run {i}: {stderr}"
            );
        }
    }
    let made = tree(dir.path());
    assert!(
        !made
            .iter()
            .any(|p| p.contains("postgres") || p.contains("mysql") || p.ends_with(".sqlite3")),
        "no store may be created for a refused location: {made:?}"
    );
}

#[test]
fn a_sqlite_url_names_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("team.db");
    let out = bin(dir.path())
        .args(["--store", &format!("sqlite://{}", path.display()), "ls"])
        .output()
        .expect("ls runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        path.exists(),
        "sqlite:// + an absolute path opens that file"
    );
    let s = Store::open(&path).expect("our store");
    assert!(s.unfinished().expect("readable").is_empty());
}
