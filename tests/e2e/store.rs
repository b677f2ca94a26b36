//! Store faults seen from the real binary and the library: a store from the previous schema
//! (v2) migrates to the lease schema keeping its rows; a store locked by another process is a
//! clear "busy, try again" error (exit 2) after the busy timeout, not a hang or data loss.
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
