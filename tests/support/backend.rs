//! One test body, two backends: `on_both_backends!(name, …)` runs each `fn name(b: &Backend)`
//! as the tests `name::sqlite` (a file in a temporary folder) and `name::postgres` (a database
//! of its own on the test server: skipped with a message outside CI when there is none,
//! required under `CI=true`).
//!
//! One file for the test programs that use it: tests/integration and tests/e2e include it by
//! path (the library's own tests have `store::test_backend`).

use super::postgres::TestDb;
use seedance_tui::store::Store;
use std::path::PathBuf;

/// A fresh, empty store on one backend.
pub enum Backend {
    Sqlite(tempfile::TempDir),
    Postgres(TestDb),
}

impl Backend {
    pub fn sqlite() -> Backend {
        Backend::Sqlite(tempfile::tempdir().expect("tempdir"))
    }

    /// `None` (after saying so) when there is no test server outside CI.
    pub fn postgres(test: &str) -> Option<Backend> {
        TestDb::create(test).map(Backend::Postgres)
    }

    /// The store as `--store` names it: the file's path or the database's URL.
    pub fn location(&self) -> String {
        match self {
            Backend::Sqlite(_) => self
                .sqlite_path()
                .expect("a file")
                .to_string_lossy()
                .into_owned(),
            Backend::Postgres(db) => db.url.clone(),
        }
    }

    /// The SQLite file, `None` on PostgreSQL.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        match self {
            Backend::Sqlite(dir) => Some(dir.path().join("s.db")),
            Backend::Postgres(_) => None,
        }
    }

    /// A new connection to the store (created on the first).
    pub fn open(&self) -> Store {
        match self.sqlite_path() {
            Some(path) => Store::open(&path).expect("open"),
            None => Store::open_named(&self.location()).expect("open"),
        }
    }

    /// Run `sqlite` or `postgres` (the same statement in each one's spelling) on the store with
    /// a plain connection of its own, as another tool would.
    pub fn raw_sql(&self, sqlite: &str, postgres: &str) {
        match self {
            Backend::Sqlite(_) => {
                rusqlite::Connection::open(self.sqlite_path().expect("a file"))
                    .expect("sqlite open")
                    .execute_batch(sqlite)
                    .expect("sql");
            }
            Backend::Postgres(db) => {
                let (url, sql) = (db.url.clone(), postgres.to_string());
                // Off any runtime, as the `postgres` crate wants.
                std::thread::spawn(move || {
                    super::postgres::client(&url)
                        .batch_execute(&sql)
                        .expect("sql")
                })
                .join()
                .expect("client thread");
            }
        }
    }
}

impl Backend {
    /// The number `sql` (a `SELECT count(*) …` both backends spell alike) counts, read with a
    /// plain connection of its own.
    pub fn count(&self, sql: &str) -> i64 {
        match self {
            Backend::Sqlite(_) => rusqlite::Connection::open(self.sqlite_path().expect("a file"))
                .expect("sqlite open")
                .query_row(sql, [], |r| r.get(0))
                .expect("count"),
            Backend::Postgres(db) => {
                let (url, sql) = (db.url.clone(), sql.to_string());
                std::thread::spawn(move || {
                    super::postgres::client(&url)
                        .query_one(&sql, &[])
                        .expect("count")
                        .get(0)
                })
                .join()
                .expect("client thread")
            }
        }
    }
}

impl Backend {
    /// The names of the store's tables, sorted, read with a plain connection of its own.
    pub fn tables(&self) -> Vec<String> {
        match self {
            Backend::Sqlite(_) => {
                let c = rusqlite::Connection::open(self.sqlite_path().expect("a file"))
                    .expect("sqlite open");
                let mut q = c
                    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY 1")
                    .expect("tables");
                q.query_map([], |r| r.get(0))
                    .expect("tables")
                    .collect::<Result<_, _>>()
                    .expect("names")
            }
            Backend::Postgres(db) => {
                let url = db.url.clone();
                std::thread::spawn(move || {
                    super::postgres::client(&url)
                        .query(
                            "SELECT table_name::text FROM information_schema.tables \
                             WHERE table_schema = current_schema() ORDER BY 1",
                            &[],
                        )
                        .expect("tables")
                        .iter()
                        .map(|r| r.get(0))
                        .collect()
                })
                .join()
                .expect("client thread")
            }
        }
    }
}

impl Backend {
    /// Another empty store on the same backend (for a test that needs several).
    pub fn fresh(&self, test: &str) -> Backend {
        match self {
            Backend::Sqlite(_) => Backend::sqlite(),
            Backend::Postgres(_) => Backend::postgres(test).expect("the server answered before"),
        }
    }

    /// Hold the store's write lock from a plain connection of its own, as another process
    /// would (SQLite: `BEGIN EXCLUSIVE`; PostgreSQL: the tasks table locked against writers),
    /// until `held_for` has passed or the guard is released; returns once the lock is held.
    pub fn hold_write_lock(&self, held_for: std::time::Duration) -> WriteLock {
        let (held_tx, held_rx) = std::sync::mpsc::channel::<()>();
        let (release, released) = std::sync::mpsc::channel::<()>();
        let wait = move || {
            let _ = held_tx.send(());
            let _ = released.recv_timeout(held_for);
        };
        let thread = match self {
            Backend::Sqlite(_) => {
                let path = self.sqlite_path().expect("a file");
                std::thread::spawn(move || {
                    let c = rusqlite::Connection::open(path).expect("sqlite open");
                    c.execute_batch("BEGIN EXCLUSIVE").expect("lock");
                    wait();
                    c.execute_batch("COMMIT").expect("unlock");
                })
            }
            Backend::Postgres(db) => {
                let url = db.url.clone();
                std::thread::spawn(move || {
                    let mut c = super::postgres::client(&url);
                    let mut t = c.transaction().expect("begin");
                    t.batch_execute("LOCK TABLE tasks IN EXCLUSIVE MODE")
                        .expect("lock");
                    wait();
                    t.commit().expect("unlock");
                })
            }
        };
        held_rx
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("the write lock is taken");
        WriteLock {
            release: Some(release),
            thread: Some(thread),
        }
    }
}

/// A write lock another connection holds ([`Backend::hold_write_lock`]); released on drop.
pub struct WriteLock {
    release: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl WriteLock {
    /// Let go of the lock now (and wait until it is let go).
    pub fn release(self) {}
}

impl Drop for WriteLock {
    fn drop(&mut self) {
        drop(self.release.take());
        if let Some(t) = self.thread.take() {
            let joined = t.join();
            if !std::thread::panicking() {
                joined.expect("the lock holder");
            }
        }
    }
}

/// `on_both_backends!(a, b)`: the tests `a::sqlite`, `a::postgres`, `b::sqlite`, … each
/// calling `fn a(b: &Backend)` of the module it is written in; `on_both_backends!(async a)` for
/// `async fn a(b: &Backend)`.
macro_rules! on_both_backends {
    ($(async $name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name(&$crate::support::backend::Backend::sqlite()).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if let Some(b) =
                        $crate::support::backend::Backend::postgres(stringify!($name))
                    {
                        super::$name(&b).await;
                    }
                }
            }
        )+
    };
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[test]
                fn sqlite() {
                    super::$name(&$crate::support::backend::Backend::sqlite());
                }

                #[test]
                fn postgres() {
                    if let Some(b) =
                        $crate::support::backend::Backend::postgres(stringify!($name))
                    {
                        super::$name(&b);
                    }
                }
            }
        )+
    };
}
pub(crate) use on_both_backends;
