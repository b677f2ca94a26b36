//! The schema on PostgreSQL: the SQLite schema's tables at the version they have now
//! ([`BORN_AT`]), then one step per later version, each applied in order on open. The version
//! and our mark live in `seedance_schema` (SQLite keeps them in `PRAGMA user_version` and
//! `application_id`); a database with other tables and no such table is someone else's.
//!
//! Where SQLite has `rowid`, each table has a `rowid` identity column, so the store's queries
//! order by it in one spelling. The change sequence (`tasks.seq`) is set by a trigger from a
//! sequence on every insert and update; writers hold one advisory lock for their whole
//! transaction (`Db::begin_write`), so sequence numbers are handed out in commit order, as
//! SQLite's single writer does, and a watcher that remembers the last one never misses a change.
//! Each transaction that changed tasks notifies `seedance_changes` once at commit, with the
//! greatest sequence number it handed out (since v10; before, once per row).

use super::schema::Ownership;

/// The schema version the PostgreSQL store was first written at: [`BORN_SCHEMA`] creates it.
pub(crate) const BORN_AT: i64 = 9;

/// Every table of schema v9, as the SQLite store has it after its nine steps.
pub(crate) const BORN_SCHEMA: &str = "
CREATE TABLE seedance_schema (
    version BIGINT NOT NULL,
    app     TEXT NOT NULL
);
CREATE TABLE tasks (
    local_id        TEXT PRIMARY KEY,
    task_id         TEXT UNIQUE,
    status          TEXT NOT NULL,
    profile         TEXT NOT NULL DEFAULT '',
    model           TEXT NOT NULL DEFAULT '',
    prompt          TEXT NOT NULL DEFAULT '',
    response_json   TEXT,
    error_code      TEXT,
    error_message   TEXT,
    retry_of        TEXT,
    retry_depth     BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    started_at      BIGINT,
    finished_at     BIGINT,
    tokens          BIGINT,
    video_url       TEXT,
    last_frame_url  TEXT,
    urls_seen_at    BIGINT,
    video_path      TEXT,
    last_frame_path TEXT,
    seq             BIGINT NOT NULL DEFAULT 0,
    queue_key       TEXT,
    queue_pos       BIGINT,
    label           TEXT,
    max_in_flight   BIGINT,
    asset_files     TEXT,
    rowid           BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE
);
CREATE INDEX tasks_status ON tasks(status);
CREATE INDEX tasks_updated ON tasks(updated_at);
CREATE INDEX tasks_created ON tasks(created_at);
CREATE INDEX tasks_seq ON tasks(seq);
CREATE UNIQUE INDEX tasks_queue_key ON tasks(profile, queue_key) WHERE queue_key IS NOT NULL;
CREATE INDEX tasks_queue_pos ON tasks(queue_pos) WHERE status = 'pending';
CREATE SEQUENCE tasks_change_seq;
CREATE FUNCTION seedance_tasks_seq() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.seq := nextval('tasks_change_seq');
    PERFORM pg_notify('seedance_changes', NEW.seq::text);
    RETURN NEW;
END
$$;
CREATE TRIGGER tasks_seq BEFORE INSERT OR UPDATE ON tasks
    FOR EACH ROW EXECUTE FUNCTION seedance_tasks_seq();
CREATE TABLE status_history (
    local_id TEXT NOT NULL REFERENCES tasks(local_id) ON DELETE CASCADE,
    status   TEXT NOT NULL,
    at       BIGINT NOT NULL,
    note     TEXT,
    rowid    BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX status_history_task ON status_history(local_id);
CREATE TABLE task_requests (
    local_id TEXT PRIMARY KEY REFERENCES tasks(local_id) ON DELETE CASCADE,
    body     BYTEA NOT NULL
);
CREATE TABLE drafts (
    name       TEXT PRIMARY KEY,
    json       TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE TABLE templates (
    name       TEXT PRIMARY KEY,
    json       TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE leases (
    name         TEXT PRIMARY KEY,
    holder       TEXT NOT NULL,
    acquired_at  BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    note         TEXT,
    beats        BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE queue_removed (
    profile    TEXT NOT NULL,
    queue_key  TEXT NOT NULL,
    removed_at BIGINT NOT NULL,
    PRIMARY KEY (profile, queue_key)
);
";

/// The steps after [`BORN_AT`]: step `i` moves the schema from `BORN_AT + i` to
/// `BORN_AT + i + 1`, as SQLite's `schema::MIGRATIONS[BORN_AT + i]` does.
pub(crate) const STEPS: &[&str] = &[
    // v10: one change notification per transaction, not one per changed row. The row trigger
    // only numbers the row; a deferred trigger runs at commit, when `currval` is the greatest
    // number this transaction handed out, so every row of a transaction sends the same payload
    // and PostgreSQL delivers identical notifications of one transaction once.
    "CREATE OR REPLACE FUNCTION seedance_tasks_seq() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.seq := nextval('tasks_change_seq');
        RETURN NEW;
    END
    $$;
    CREATE FUNCTION seedance_tasks_notify() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_notify('seedance_changes', currval('tasks_change_seq')::text);
        RETURN NULL;
    END
    $$;
    CREATE CONSTRAINT TRIGGER tasks_notify AFTER INSERT OR UPDATE ON tasks
        DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION seedance_tasks_notify();",
    // v11: `tasks.shape` (see SQLite's v11).
    super::schema::SHAPE_STEP,
];

const _: () = assert!(
    BORN_AT + STEPS.len() as i64 == super::schema::CURRENT,
    "every SQLite migration has its PostgreSQL step"
);

/// What `seedance_schema.app` says in our databases.
pub(crate) const APP: &str = "seedance-tui";

/// The SQL that tells whose a database is: whether `seedance_schema` exists, and how many
/// tables the current schema has.
pub(crate) const LOOK: &str = "SELECT to_regclass('seedance_schema') IS NOT NULL, \
    (SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema())";

/// Whose database it is from [`LOOK`]'s answer and, when the table exists, its `app`.
pub(crate) fn ownership(has_table: bool, tables: i64, app: Option<&str>) -> Ownership {
    match (has_table, app) {
        (true, Some(APP)) => Ownership::Ours,
        (true, _) => Ownership::Foreign,
        (false, _) if tables == 0 => Ownership::Empty,
        (false, _) => Ownership::Foreign,
    }
}

#[cfg(test)]
mod tests;
