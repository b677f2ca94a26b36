//! The schema and its migrations: numbered SQL steps applied in order, the version kept in
//! `PRAGMA user_version`. Opening an older store migrates it; a newer one is refused.

use rusqlite::Connection;

/// Each step moves the schema from version `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    // v1: tasks and their status history.
    "CREATE TABLE tasks (
        local_id        TEXT PRIMARY KEY,
        task_id         TEXT UNIQUE,
        status          TEXT NOT NULL,
        profile         TEXT NOT NULL DEFAULT '',
        model           TEXT NOT NULL DEFAULT '',
        prompt          TEXT NOT NULL DEFAULT '',
        request_json    TEXT NOT NULL,
        response_json   TEXT,
        error_code      TEXT,
        error_message   TEXT,
        retry_of        TEXT,
        retry_depth     INTEGER NOT NULL DEFAULT 0,
        created_at      INTEGER NOT NULL,
        updated_at      INTEGER NOT NULL,
        started_at      INTEGER,
        finished_at     INTEGER,
        tokens          INTEGER,
        video_url       TEXT,
        last_frame_url  TEXT,
        urls_seen_at    INTEGER,
        video_path      TEXT,
        last_frame_path TEXT
    );
    CREATE INDEX tasks_status ON tasks(status);
    CREATE INDEX tasks_updated ON tasks(updated_at);
    CREATE INDEX tasks_created ON tasks(created_at);
    CREATE TABLE status_history (
        local_id TEXT NOT NULL REFERENCES tasks(local_id) ON DELETE CASCADE,
        status   TEXT NOT NULL,
        at       INTEGER NOT NULL,
        note     TEXT
    );
    CREATE INDEX status_history_task ON status_history(local_id);",
    // v2: drafts, templates and a key/value table.
    "CREATE TABLE drafts (
        name       TEXT PRIMARY KEY,
        json       TEXT NOT NULL,
        updated_at INTEGER NOT NULL
    );
    CREATE TABLE templates (
        name       TEXT PRIMARY KEY,
        json       TEXT NOT NULL,
        updated_at INTEGER NOT NULL
    );
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );",
    // v3: leases (one poller per store). Times are Unix milliseconds.
    "CREATE TABLE leases (
        name         TEXT PRIMARY KEY,
        holder       TEXT NOT NULL,
        acquired_at  INTEGER NOT NULL,
        heartbeat_at INTEGER NOT NULL,
        expires_at   INTEGER NOT NULL,
        note         TEXT
    );",
    // v4: a change sequence on tasks, bumped by triggers on every insert and update in commit
    // order (SQLite has one writer at a time), so a watcher that remembers the last sequence it
    // read never misses a change, whatever the writers' clocks said.
    "ALTER TABLE tasks ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
    UPDATE tasks SET seq = rowid;
    CREATE INDEX tasks_seq ON tasks(seq);
    CREATE TRIGGER tasks_seq_insert AFTER INSERT ON tasks BEGIN
        UPDATE tasks SET seq = (SELECT MAX(seq) FROM tasks) + 1 WHERE rowid = NEW.rowid;
    END;
    CREATE TRIGGER tasks_seq_update AFTER UPDATE ON tasks WHEN NEW.seq = OLD.seq BEGIN
        UPDATE tasks SET seq = (SELECT MAX(seq) FROM tasks) + 1 WHERE rowid = NEW.rowid;
    END;",
    // v5: the local submission queue. A `pending` row is written, not sent; `queue_pos` orders
    // the queue, `queue_key` (unique per profile) makes a batch line idempotent, `label` is the
    // user's name for the line.
    "ALTER TABLE tasks ADD COLUMN queue_key TEXT;
    ALTER TABLE tasks ADD COLUMN queue_pos INTEGER;
    ALTER TABLE tasks ADD COLUMN label TEXT;
    CREATE UNIQUE INDEX tasks_queue_key ON tasks(profile, queue_key) WHERE queue_key IS NOT NULL;
    CREATE INDEX tasks_queue_pos ON tasks(queue_pos) WHERE status = 'pending';",
    // v6: a lease's heartbeat counter, bumped by every renewal: followers judge a holder alive
    // by seeing it move on their own monotonic clock, not by the holder's wall-clock times.
    "ALTER TABLE leases ADD COLUMN beats INTEGER NOT NULL DEFAULT 0;",
    // v7: the in-flight cap a queued line was given (`submit --batch --max-in-flight N`) travels
    // with its row, and a pending line the user removed is remembered by its key, so running
    // the same batch file again skips it instead of sending it.
    "ALTER TABLE tasks ADD COLUMN max_in_flight INTEGER;
    CREATE TABLE queue_removed (
        profile    TEXT NOT NULL,
        queue_key  TEXT NOT NULL,
        removed_at INTEGER NOT NULL,
        PRIMARY KEY (profile, queue_key)
    );",
    // v8: create requests in a table of their own, written once: the task row (rewritten by
    // every status change and by the change-sequence trigger) keeps only the prompt's preview,
    // so a 20 MB request is not copied on each update. The body is UTF-8 JSON stored as a blob
    // (a big one is written and read in pieces: `Store::read_request`).
    "CREATE TABLE task_requests (
        local_id TEXT PRIMARY KEY REFERENCES tasks(local_id) ON DELETE CASCADE,
        body     BLOB NOT NULL
    );
    INSERT INTO task_requests (local_id, body) SELECT local_id, CAST(request_json AS BLOB) FROM tasks;
    ALTER TABLE tasks DROP COLUMN request_json;",
    // v9: the local file names of a task's inlined assets (`data:` URLs), as JSON (a short hash
    // of each URL -> the file's base name), so an edit shows `first.png`, not its base64.
    "ALTER TABLE tasks ADD COLUMN asset_files TEXT;",
    // v10: nothing changes on SQLite. On PostgreSQL the change notification became one per
    // transaction (`pg_schema::STEPS`); both backends keep one version line.
    "",
    // v11: the facts of a task's request a listing reads (`row::shape_of`), written with the
    // request, so the dashboard's start reads a few bytes a row instead of parsing every
    // request. Rows without one (older stores, rows another tool wrote) are found by the
    // partial index and filled on open (`Store::fill_shapes`).
    SHAPE_STEP,
];

/// The step adding `tasks.shape`, the same SQL on both backends.
pub(crate) const SHAPE_STEP: &str = "ALTER TABLE tasks ADD COLUMN shape TEXT;
    CREATE INDEX tasks_unshaped ON tasks(local_id) WHERE shape IS NULL;";

/// The schema version this build writes.
pub const CURRENT: i64 = MIGRATIONS.len() as i64;

/// `PRAGMA application_id` of our stores: "SEED".
pub const APPLICATION_ID: i64 = 0x5345_4544;

/// Whose database a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ownership {
    /// Marked with our application id.
    Ours,
    /// No mark, but our `tasks` table and a schema version: a store from before the mark.
    OursUnmarked,
    /// Nothing in it: a new store.
    Empty,
    /// Anything else: another application's database, never changed.
    Foreign,
}

/// Decide whose database `conn` is, without writing to it. The rule (shared with `doctor`):
/// ours if its application id is [`APPLICATION_ID`], or it is 0 and the file has our `tasks`
/// table; new if it is empty; anything else is foreign.
pub(crate) fn ownership(conn: &Connection) -> rusqlite::Result<Ownership> {
    let app: i64 = conn.query_row("PRAGMA application_id", [], |r| r.get(0))?;
    if app == APPLICATION_ID {
        return Ok(Ownership::Ours);
    }
    if app != 0 {
        return Ok(Ownership::Foreign);
    }
    let objects: i64 = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))?;
    if objects == 0 {
        return Ok(Ownership::Empty);
    }
    let mut stmt = conn.prepare("SELECT name FROM pragma_table_info('tasks')")?;
    let columns: Vec<String> = stmt
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let has = |c: &str| columns.iter().any(|have| have == c);
    // The request is a column of `tasks` before v8, a table of its own since.
    let requests: i64 = conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'task_requests'",
        [],
        |r| r.get(0),
    )?;
    let ours = ["local_id", "task_id", "status"].iter().all(|c| has(c))
        && (has("request_json") || requests == 1);
    Ok(if ours && version(conn)? >= 1 {
        Ownership::OursUnmarked
    } else {
        Ownership::Foreign
    })
}

/// Write our application id (a no-op when it is already there).
pub(crate) fn mark(conn: &Connection) -> rusqlite::Result<()> {
    let app: i64 = conn.query_row("PRAGMA application_id", [], |r| r.get(0))?;
    if app != APPLICATION_ID {
        conn.pragma_update(None, "application_id", APPLICATION_ID)?;
    }
    Ok(())
}

/// The store's schema version.
pub fn version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

/// Apply every missing step, in one immediate transaction (see [`migrate_and_mark`]). Returns
/// the version found.
pub fn migrate(conn: &mut Connection) -> rusqlite::Result<i64> {
    upgrade(conn, false)
}

/// Apply every missing step and mark the file ours, all in one immediate transaction: the write
/// lock is taken before the version is read, so processes opening a new store at once queue on
/// it (the busy timeout) and the later ones find it migrated. Returns the version found.
pub(crate) fn migrate_and_mark(conn: &mut Connection) -> rusqlite::Result<i64> {
    upgrade(conn, true)
}

fn upgrade(conn: &mut Connection, and_mark: bool) -> rusqlite::Result<i64> {
    let app: i64 = conn.query_row("PRAGMA application_id", [], |r| r.get(0))?;
    if version(conn)? == CURRENT && (!and_mark || app == APPLICATION_ID) {
        return Ok(CURRENT);
    }
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let found = version(&tx)?;
    for (i, step) in MIGRATIONS.iter().enumerate().skip(found.max(0) as usize) {
        tx.execute_batch(step)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
    }
    if and_mark {
        mark(&tx)?;
    }
    tx.commit()?;
    Ok(found)
}
