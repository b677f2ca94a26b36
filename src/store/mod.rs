//! The store: every task with the exact request that created it, its last response, status
//! history, retry lineage and local files; drafts and templates. WAL mode with a busy timeout, so
//! a dashboard and headless commands in other SSH sessions can share one file.
//!
//! Durability: WAL with `synchronous=NORMAL` survives any process crash (SIGKILL included); only
//! an OS crash or power loss can lose the last transactions, never corrupt the file.
//!
//! Every query goes through [`db`], the SQL layer over the database driver.

#[macro_use]
mod db;
mod copy;
#[cfg(test)]
#[macro_use]
pub(crate) mod test_backend;
mod drafts;
pub(crate) mod inspect;
mod lease;
pub(crate) mod location;
mod meta;
pub(crate) mod pg;
mod pg_schema;
mod queue;
mod record;
#[macro_use]
mod requests;
mod retries;
mod row;
pub mod schema;
#[macro_use]
mod tasks;
mod pg_spelling;

pub use copy::CopyReport;
pub use lease::{Lease, LeaseOutcome, Liveness};
pub use location::StoreLocation;
pub(crate) use meta::SharedDay;
pub use pg::target::PgTarget;
pub use queue::{Enqueued, NewPending, QueueState};
pub use record::{FileKind, HistoryEntry, Phase, TaskBodies, TaskRecord};
pub use row::{ResultFiles, RowExtra, Spec, TaskFacts, TaskRow, intern};
pub(crate) use tasks::is_short_id;

use db::{Db, DbError};
use rusqlite::{Connection, OpenFlags};
use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What can go wrong with the store. Messages say what to do; none carries secrets.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "cannot open the store at {path}: {message} (check the path and permissions, or pass --store PATH)"
    )]
    Open { path: PathBuf, message: String },
    #[error(
        "the store at {path} is not a seedance-tui database or is damaged: {message} (move it aside to start a new one; nothing was changed)"
    )]
    Corrupt { path: PathBuf, message: String },
    #[error(
        "the store at {path} was written by a newer seedance-tui (schema {found}, this build knows {known}); upgrade seedance-tui"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error(
        "{path} is not a seedance-tui store (another application's database); nothing was changed: pass --store with a new file name or an empty database"
    )]
    Foreign { path: PathBuf },
    /// The server answered a create with an id another task in the store already has.
    #[error("the server answered the id {task_id}, which task {other} in the store already has")]
    DuplicateTaskId { task_id: String, other: String },
    #[error("the store is busy (another process holds a lock): {0}; try again")]
    Busy(String),
    #[error(
        "no task matches `{0}` (use the task id, its short id, the local id, or a unique prefix)"
    )]
    NotFound(String),
    #[error("`{key}` matches more than one task; give more of the id:\n  {}", matches.join("\n  "))]
    Ambiguous {
        key: String,
        /// `id status prompt…` of the newest matches.
        matches: Vec<String>,
    },
    /// A retry of a task that is not the head of its retry chain (see `Store::begin_retry`).
    #[error("{original} was already retried → {retry} ({status})")]
    AlreadyRetried {
        original: String,
        retry: String,
        status: String,
    },
    /// No session with a PostgreSQL server; `target` is shown without its password.
    #[error("cannot connect to the PostgreSQL store {target}: {message}")]
    Connect { target: String, message: String },
    #[error("store error: {0}")]
    Sql(String),
}

/// A new submission, written before the create POST.
#[derive(Debug, Clone)]
pub struct NewSubmission<'a> {
    pub local_id: &'a str,
    pub profile: &'a str,
    /// The exact JSON body that will be sent.
    pub request_json: &'a str,
    pub retry_of: Option<&'a str>,
    /// The local file names of the request's inlined assets (JSON, `engine::assets::AssetFiles`);
    /// `None` keeps those of `retry_of` (a retry or an edit sends the same `data:` URLs).
    pub asset_files: Option<&'a str>,
    /// Unix seconds.
    pub now: i64,
}

/// The most of a task's `asset_files` column that is read (64 names of 255 bytes fit, each byte
/// escaped as `\u00XX`); a bigger value, written by another tool, is read as none.
pub(crate) const ASSET_FILES_BYTES: usize = 128 << 10;

/// The most of a prompt the `prompt` column keeps (tables, filters and previews read it; the
/// whole prompt stays in the stored request). Every prompt anyone writes fits; a 20 MB one is
/// not copied into every row read.
pub(crate) const PROMPT_COLUMN_BYTES: usize = 16 << 10;

/// The model and the prompt (cut to [`PROMPT_COLUMN_BYTES`] at a character boundary) of a
/// request body, read without copying the body: a request that is not JSON has neither.
pub(crate) fn model_and_prompt(request_json: &str) -> (String, String) {
    use std::borrow::Cow;
    /// A string borrowed from the body when it has no escapes (serde copies an
    /// `Option<Cow<str>>` always: a 20 MB prompt would be copied to keep 16 KiB of it).
    #[derive(serde::Deserialize)]
    struct Text<'a>(#[serde(borrow)] Cow<'a, str>);
    #[derive(serde::Deserialize)]
    struct Item<'a> {
        #[serde(rename = "type", borrow, default)]
        kind: Option<Text<'a>>,
        #[serde(borrow, default)]
        text: Option<Text<'a>>,
    }
    #[derive(serde::Deserialize)]
    struct Peek<'a> {
        #[serde(borrow, default)]
        model: Option<Text<'a>>,
        #[serde(borrow, default)]
        content: Option<Vec<Item<'a>>>,
    }
    let Ok(peek) = serde_json::from_str::<Peek<'_>>(request_json) else {
        return (String::new(), String::new());
    };
    let prompt = peek
        .content
        .iter()
        .flatten()
        .find(|i| i.kind.as_ref().map(|k| &*k.0) == Some("text"))
        .and_then(|i| i.text.as_ref())
        .map_or("", |t| &t.0);
    let mut end = prompt.len().min(PROMPT_COLUMN_BYTES);
    while !prompt.is_char_boundary(end) {
        end -= 1;
    }
    (
        peek.model.as_ref().map_or("", |m| &m.0).to_string(),
        prompt[..end].to_string(),
    )
}

/// What a listing shows of a task (`ls`): no request or answer body.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TaskLine {
    pub(crate) local_id: String,
    pub(crate) task_id: Option<String>,
    pub(crate) phase: Phase,
    pub(crate) model: String,
    /// The `prompt` column (at most [`PROMPT_COLUMN_BYTES`]).
    pub prompt: String,
    pub created_at: i64,
    pub tokens: Option<u64>,
    /// The batch line's label.
    pub label: Option<String>,
}

impl TaskLine {
    /// The server id, else the local id.
    pub(crate) fn display_id(&self) -> &str {
        self.task_id.as_deref().unwrap_or(&self.local_id)
    }
}

/// A filter for [`Store::list`].
#[derive(Debug, Clone, Default)]
pub struct TaskQuery {
    /// Only rows whose phase text (`Phase::as_str`) is one of these; empty means all.
    pub statuses: Vec<String>,
    /// Only rows created at or after this Unix second.
    pub since: Option<i64>,
    /// At most this many rows, newest first; `None` means all.
    pub limit: Option<usize>,
}

/// A handle on one store file. Open one per thread that needs it (a connection is not `Sync`).
pub struct Store {
    db: Db,
    /// The SQLite file, or the PostgreSQL server's address without its password (for messages).
    path: PathBuf,
    location: location::StoreLocation,
    /// Commits made through this handle (`PRAGMA data_version` counts only other connections').
    own_writes: Cell<i64>,
}

/// Create `dir` (and missing parents) readable by the owner only: the store keeps prompts,
/// signed links and inlined images. An existing folder is left as it is.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

/// Create the store file with mode 0600 when it does not exist yet (SQLite gives its `-wal` and
/// `-shm` files the same mode). An existing file is not touched.
fn create_private_file(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// How long opening a store keeps trying while another process holds the lock it needs.
const OPEN_BUSY_FOR: Duration = Duration::from_secs(30);

/// Run `f` again while SQLite answers busy, with a short growing pause, until
/// [`OPEN_BUSY_FOR`] has passed.
fn retry_busy<T>(mut f: impl FnMut() -> rusqlite::Result<T>) -> Result<T, DbError> {
    let started = std::time::Instant::now();
    let pause = crate::backoff::Backoff::new(Duration::from_millis(5), Duration::from_millis(200));
    let mut busy = 0;
    loop {
        match f().map_err(DbError::from) {
            Err(e) if e.is_busy() && started.elapsed() < OPEN_BUSY_FOR => {
                std::thread::sleep(pause.delay(busy));
                busy += 1;
            }
            other => return other,
        }
    }
}

impl Store {
    /// Open (creating and migrating as needed) the store at `path`. A database that is not ours
    /// (see [`schema::ownership`]) is refused without a single write.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let open_err = |message: String| StoreError::Open {
            path: path.to_path_buf(),
            message,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_private_dir(dir).map_err(|e| open_err(e.to_string()))?;
        }
        create_private_file(path).map_err(|e| open_err(e.to_string()))?;
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut conn =
            Connection::open_with_flags(path, flags).map_err(|e| open_err(e.to_string()))?;
        let refused = |e: DbError| {
            if e.is_corruption() {
                StoreError::Corrupt {
                    path: path.to_path_buf(),
                    message: e.to_string(),
                }
            } else if e.is_busy() {
                StoreError::Busy(e.to_string())
            } else {
                open_err(e.to_string())
            }
        };
        let corrupt = |e: rusqlite::Error| refused(DbError::from(e));
        conn.busy_timeout(Duration::from_secs(5)).map_err(corrupt)?;
        // Room for every statement the store runs (`db::Db` caches them all; rusqlite keeps 16):
        // the poll path's statements are not pushed out by the dashboard's other reads.
        conn.set_prepared_statement_cache_capacity(64);
        // Reading the version first detects a file that is not a database without writing to it.
        let found = schema::version(&conn).map_err(corrupt)?;
        if schema::ownership(&conn).map_err(corrupt)? == schema::Ownership::Foreign {
            return Err(StoreError::Foreign {
                path: path.to_path_buf(),
            });
        }
        if found > schema::CURRENT {
            return Err(StoreError::TooNew {
                path: path.to_path_buf(),
                found,
                known: schema::CURRENT,
            });
        }
        // Switching to WAL and migrating need the write lock; several processes opening a new
        // store at once can be told "busy" without the busy timeout being waited (a journal
        // switch or a WAL recovery in progress), so each is tried again until a deadline.
        retry_busy(|| conn.pragma_update(None, "journal_mode", "WAL")).map_err(refused)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(corrupt)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(corrupt)?;
        retry_busy(|| schema::migrate_and_mark(&mut conn).map(|_| ())).map_err(refused)?;
        let store = Store {
            db: Db::Sqlite(conn),
            path: path.to_path_buf(),
            location: location::StoreLocation::Sqlite(path.to_path_buf()),
            own_writes: Cell::new(0),
        };
        store.fill_shapes()?;
        Ok(store)
    }

    /// Open (creating and migrating as needed) the store `location` names: a SQLite file as
    /// [`Store::open`] does, or a PostgreSQL database as [`Store::open_postgres`] does.
    pub fn open_location(location: &StoreLocation) -> Result<Store, StoreError> {
        match location {
            location::StoreLocation::Sqlite(path) => Store::open(path),
            location::StoreLocation::Postgres(target) => Store::open_postgres(target),
        }
    }

    /// Open the store `text` names as `--store` takes it: a file path, `sqlite:PATH` or a
    /// `postgres://` URL (a URL that is no store is refused, never taken for a file name).
    pub fn open_named(text: &str) -> Result<Store, StoreError> {
        let location = location::parse(text).map_err(|e| StoreError::Open {
            path: PathBuf::from("(the store location)"),
            message: e.to_string(),
        })?;
        Store::open_location(&location)
    }

    /// Where this store lives: open another connection to it with [`Store::open_location`].
    pub fn location(&self) -> &StoreLocation {
        &self.location
    }

    /// Open (creating and migrating as needed) the PostgreSQL store `target` names. A database
    /// with other tables and none of ours is refused without a single write; one written by a
    /// newer seedance-tui is refused too. Processes opening a new database at once queue on the
    /// write lock, and the later ones find it created.
    pub(crate) fn open_postgres(target: &pg::target::PgTarget) -> Result<Store, StoreError> {
        let conn = pg::conn::PgConn::connect(target)?;
        let store = Store {
            path: PathBuf::from(conn.target()),
            location: location::StoreLocation::Postgres(target.clone()),
            db: Db::Postgres(db::PgDb::new(conn)),
            own_writes: Cell::new(0),
        };
        store.write(|s| {
            let err = |e| s.err(e);
            let (has_table, tables) =
                s.db.query_row(pg_schema::LOOK, args![], |r| {
                    Ok((r.get::<bool>(0)?, r.get::<i64>(1)?))
                })
                .map_err(err)?
                .unwrap_or((false, 0));
            let mark: Option<(String, i64)> = if has_table {
                s.db.query_row("SELECT app, version FROM seedance_schema", args![], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .map_err(err)?
            } else {
                None
            };
            let app = mark.as_ref().map(|(a, _)| a.as_str());
            let found = match pg_schema::ownership(has_table, tables, app) {
                schema::Ownership::Foreign | schema::Ownership::OursUnmarked => {
                    return Err(StoreError::Foreign {
                        path: s.path.clone(),
                    });
                }
                schema::Ownership::Empty => {
                    s.db.batch(pg_schema::BORN_SCHEMA).map_err(err)?;
                    s.db.execute(
                        "INSERT INTO seedance_schema (version, app) VALUES (?1, ?2)",
                        args![pg_schema::BORN_AT, pg_schema::APP],
                    )
                    .map_err(err)?;
                    pg_schema::BORN_AT
                }
                schema::Ownership::Ours => mark.map_or(0, |(_, v)| v),
            };
            if found > schema::CURRENT {
                return Err(StoreError::TooNew {
                    path: s.path.clone(),
                    found,
                    known: schema::CURRENT,
                });
            }
            if found < pg_schema::BORN_AT {
                return Err(StoreError::Corrupt {
                    path: s.path.clone(),
                    message: format!("schema version {found} was never written to PostgreSQL"),
                });
            }
            for step in pg_schema::STEPS
                .iter()
                .skip((found - pg_schema::BORN_AT) as usize)
            {
                s.db.batch(step).map_err(err)?;
            }
            s.db.execute(
                "UPDATE seedance_schema SET version = ?1",
                args![schema::CURRENT],
            )
            .map_err(err)?;
            Ok(())
        })?;
        store.fill_shapes()?;
        Ok(store)
    }

    /// Map a database error to a StoreError.
    fn err(&self, e: DbError) -> StoreError {
        if e.is_busy() {
            StoreError::Busy(e.to_string())
        } else if e.is_corruption() {
            StoreError::Corrupt {
                path: self.path.clone(),
                message: e.to_string(),
            }
        } else {
            StoreError::Sql(e.to_string())
        }
    }

    /// Run `f` in a write transaction (see [`Db::begin_write`]) and count the commit.
    fn write<T>(&self, f: impl FnOnce(&Store) -> Result<T, StoreError>) -> Result<T, StoreError> {
        self.db.begin_write().map_err(|e| self.err(e))?;
        match f(self) {
            Ok(v) => {
                if let Err(e) = self.db.commit() {
                    self.db.rollback();
                    return Err(self.err(e));
                }
                self.own_writes.set(self.own_writes.get() + 1);
                Ok(v)
            }
            Err(e) => {
                self.db.rollback();
                Err(e)
            }
        }
    }

    /// A number that changes whenever any connection commits to the store (`PRAGMA
    /// data_version` for other connections, plus this handle's own commits).
    pub fn change_counter(&self) -> Result<i64, StoreError> {
        let v: i64 = match &self.db {
            Db::Sqlite(_) => self
                .db
                .query_row("PRAGMA data_version", args![], |r| r.get(0)),
            // Writers hold one lock for their whole transaction, so the greatest committed
            // change sequence only grows (a sequence's own counter moves before commit).
            Db::Postgres(_) => return self.change_seq(),
        }
        .map_err(|e| self.err(e))?
        .unwrap_or(0);
        Ok(v.wrapping_add(self.own_writes.get()))
    }

    /// The database's own integrity check passes (`PRAGMA integrity_check` says "ok").
    pub fn integrity_ok(&self) -> Result<bool, StoreError> {
        let s: Option<String> = match &self.db {
            Db::Sqlite(_) => self
                .db
                .query_row("PRAGMA integrity_check", args![], |r| r.get(0)),
            // The server checks its own pages; there is no file of ours to check.
            Db::Postgres(_) => return Ok(true),
        }
        .map_err(|e| self.err(e))?;
        Ok(s.as_deref() == Some("ok"))
    }
}
