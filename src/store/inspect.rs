//! Looking at a store without changing it: whose database a file is, its schema version and
//! size, and who holds the poller lease. For `doctor` and shell completion, which must never
//! create, migrate or mark a file.

use super::db::Db;
use super::{Lease, Store, StoreError, schema};
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::time::Duration;

// The one rule for whose a database is lives with the schema (`Store::open` applies it).
pub(crate) use super::schema::{Ownership, ownership};

/// What a look at a store file found.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StoreReport {
    pub(crate) path: PathBuf,
    pub(crate) ownership: Ownership,
    /// `PRAGMA user_version`.
    pub(crate) schema_version: i64,
    /// Bytes of the database file plus its `-wal`.
    pub(crate) size: u64,
    /// The poller lease row, if any (it may have expired).
    pub(crate) poller: Option<Lease>,
}

fn open_ro(path: &Path) -> Result<Connection, StoreError> {
    let open_err = |message: String| StoreError::Open {
        path: path.to_path_buf(),
        message,
    };
    if !path.is_file() {
        return Err(open_err(if path.exists() {
            "not a regular file".into()
        } else {
            "no such file".into()
        }));
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(|e| open_err(e.to_string()))?;
    conn.busy_timeout(Duration::from_secs(2))
        .map_err(|e| open_err(e.to_string()))?;
    Ok(conn)
}

/// Look at the store at `path` read-only. Errors: the file is missing or unreadable
/// ([`StoreError::Open`]), or not a SQLite database ([`StoreError::Corrupt`]).
pub(crate) fn inspect(path: &Path) -> Result<StoreReport, StoreError> {
    let conn = open_ro(path)?;
    let corrupt = |e: rusqlite::Error| StoreError::Corrupt {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let ownership = ownership(&conn).map_err(corrupt)?;
    let schema_version = schema::version(&conn).map_err(corrupt)?;
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let size = [path.to_path_buf(), PathBuf::from(wal)]
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let poller = match ownership {
        Ownership::Ours | Ownership::OursUnmarked if schema_version >= 3 => conn
            .query_row(
                "SELECT name, holder, acquired_at, heartbeat_at, expires_at, note \
                 FROM leases WHERE name = 'poller'",
                [],
                |r| {
                    Ok(Lease {
                        name: r.get(0)?,
                        holder: r.get(1)?,
                        acquired_at: r.get(2)?,
                        heartbeat_at: r.get(3)?,
                        expires_at: r.get(4)?,
                        note: r.get(5)?,
                        beats: 0,
                    })
                },
            )
            .optional()
            .map_err(corrupt)?,
        _ => None,
    };
    Ok(StoreReport {
        path: path.to_path_buf(),
        ownership,
        schema_version,
        size,
        poller,
    })
}

impl Store {
    /// Open an existing store for reading only: never creates, migrates or marks the file, and
    /// refuses another program's database. For shell completion and other lookups that must
    /// leave the file as it is.
    pub(crate) fn open_read_only(path: &Path) -> Result<Store, StoreError> {
        let conn = open_ro(path)?;
        let corrupt = |message: String| StoreError::Corrupt {
            path: path.to_path_buf(),
            message,
        };
        match ownership(&conn).map_err(|e| corrupt(e.to_string()))? {
            Ownership::Ours | Ownership::OursUnmarked => {}
            Ownership::Empty => return Err(corrupt("the database is empty".into())),
            Ownership::Foreign => {
                return Err(corrupt("another program's database".into()));
            }
        }
        Ok(Store {
            db: Db::Sqlite(conn),
            path: path.to_path_buf(),
            location: super::location::StoreLocation::Sqlite(path.to_path_buf()),
            own_writes: Cell::new(0),
        })
    }

    /// [`Store::open_read_only`] for a PostgreSQL store: it looks whose the database is and
    /// writes nothing (an empty database is not given the schema, an older one not migrated).
    pub(crate) fn open_postgres_read_only(
        target: &super::pg::target::PgTarget,
    ) -> Result<Store, StoreError> {
        let conn = super::pg::conn::PgConn::connect(target)?;
        let store = Store {
            path: PathBuf::from(conn.target()),
            location: super::location::StoreLocation::Postgres(target.clone()),
            db: Db::Postgres(super::db::PgDb::new(conn)),
            own_writes: Cell::new(0),
        };
        let corrupt = |message: String| StoreError::Corrupt {
            path: store.path.clone(),
            message,
        };
        let (has_table, tables) = store
            .db
            .query_row(super::pg_schema::LOOK, args![], |r| {
                Ok((r.get::<bool>(0)?, r.get::<i64>(1)?))
            })
            .map_err(|e| corrupt(e.to_string()))?
            .unwrap_or((false, 0));
        let app = if has_table {
            store
                .db
                .query_row("SELECT app FROM seedance_schema", args![], |r| {
                    r.get::<String>(0)
                })
                .map_err(|e| corrupt(e.to_string()))?
        } else {
            None
        };
        match super::pg_schema::ownership(has_table, tables, app.as_deref()) {
            Ownership::Ours => Ok(store),
            Ownership::Empty => Err(corrupt("the database is empty".into())),
            Ownership::Foreign | Ownership::OursUnmarked => {
                Err(corrupt("another program's database".into()))
            }
        }
    }
}
