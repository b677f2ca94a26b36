//! A fresh PostgreSQL database per test, on the server `SEEDANCE_TEST_POSTGRES` names (a URL
//! without password; the password in `PGPASSWORD`), as `tests/support/pg_cluster.sh` starts one
//! and `.ci/run` exports. Each database has a unique name and is dropped when the test is done.
//! Without a server the test's PostgreSQL half is skipped with a message saying so — except under
//! `CI=true`, where a missing server fails the test.
//!
//! One file for every test program: tests/e2e, tests/integration and the library's own tests
//! include it by path.

use std::sync::atomic::{AtomicU32, Ordering};

/// The variable naming the test server.
pub const SERVER_VAR: &str = "SEEDANCE_TEST_POSTGRES";

/// One database of its own on the test server; dropped (with any session still in it) on drop.
pub struct TestDb {
    /// `postgres://USER@HOST:PORT/NAME`, without the password.
    pub url: String,
    /// The database's name.
    pub name: String,
    admin: String,
}

fn password() -> Option<String> {
    std::env::var("PGPASSWORD").ok().filter(|p| !p.is_empty())
}

/// The server's URL, or why there is none (`None` after printing that the PostgreSQL half is
/// skipped; a panic under `CI=true`).
pub fn server(test: &str) -> Option<String> {
    let url = std::env::var(SERVER_VAR).ok().filter(|u| !u.is_empty());
    let why = match (&url, password()) {
        (Some(_), Some(_)) => return url,
        (None, _) => format!("{SERVER_VAR} is not set"),
        (Some(_), None) => "PGPASSWORD is not set".to_string(),
    };
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "{test}: PostgreSQL is required under CI=true, but {why} (.ci/run starts one with tests/support/pg_cluster.sh)"
        );
    }
    eprintln!(
        "SKIPPED the PostgreSQL half of {test}: {why}; run `eval \"$(tests/support/pg_cluster.sh start \"$(mktemp -d)\")\"` first to test it"
    );
    None
}

/// `url` with its database replaced by `db`.
fn with_db(url: &str, db: &str) -> String {
    let (head, tail) = match url.find('?') {
        Some(i) => (&url[..i], &url[i..]),
        None => (url, ""),
    };
    let after_scheme = head.find("://").map_or(0, |i| i + 3);
    let base = match head[after_scheme..].find('/') {
        Some(i) => &head[..after_scheme + i],
        None => head,
    };
    format!("{base}/{db}{tail}")
}

/// Run `sql` on the server's admin database, on a thread of its own: the `postgres` crate
/// panics when called inside a tokio runtime, and a test may be one.
fn admin_sql(admin: &str, sql: String) -> Result<(), String> {
    let admin = admin.to_string();
    std::thread::spawn(move || {
        client(&admin)
            .batch_execute(&sql)
            .map_err(|e| e.to_string())
    })
    .join()
    .unwrap_or_else(|_| Err("the admin connection panicked".into()))
}

/// A client of the database `url` names (plain text: the server is on loopback). Not inside a
/// tokio runtime (the `postgres` crate's rule).
pub fn client(url: &str) -> postgres::Client {
    let mut cfg: postgres::Config = url.parse().expect("SEEDANCE_TEST_POSTGRES is a URL");
    if let Some(p) = password() {
        cfg.password(p);
    }
    cfg.connect_timeout(std::time::Duration::from_secs(20));
    cfg.connect(postgres::NoTls)
        .expect("the test PostgreSQL server answers")
}

impl TestDb {
    /// A new empty database for `test` (any text; it becomes part of the name), or `None` when
    /// there is no server outside CI.
    pub fn create(test: &str) -> Option<TestDb> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let admin = server(test)?;
        let slug: String = test
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .take(30)
            .collect();
        let name = format!(
            "t_{slug}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        admin_sql(&admin, format!("CREATE DATABASE \"{name}\"")).expect("CREATE DATABASE");
        Some(TestDb {
            url: with_db(&admin, &name),
            name,
            admin,
        })
    }

    /// A plain client of this database.
    pub fn client(&self) -> postgres::Client {
        client(&self.url)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let dropped = admin_sql(
            &self.admin,
            format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name),
        );
        if let Err(e) = dropped {
            eprintln!("could not drop the test database {}: {e}", self.name);
        }
    }
}
