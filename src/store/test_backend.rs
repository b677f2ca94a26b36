//! One test body, two backends: `on_both_backends!(name, …)` runs each `fn name(b: &Backend)`
//! as the tests `name::sqlite` (a file in a temporary folder) and `name::postgres` (a database
//! of its own on the test server: skipped with a message outside CI when there is none,
//! required under `CI=true`).

use super::Store;
use super::pg::test_db::TestDb;

/// A fresh, empty store on one backend.
pub(crate) enum Backend {
    Sqlite(tempfile::TempDir),
    Postgres(TestDb),
}

impl Backend {
    pub(crate) fn sqlite() -> Backend {
        Backend::Sqlite(tempfile::tempdir().expect("tempdir"))
    }

    /// `None` (after saying so) when there is no test server outside CI.
    pub(crate) fn postgres(test: &str) -> Option<Backend> {
        TestDb::create(test).map(Backend::Postgres)
    }

    /// A new connection to the store (created on the first).
    pub(crate) fn open(&self) -> Store {
        match self {
            Backend::Sqlite(dir) => Store::open(&dir.path().join("s.db")).expect("open"),
            Backend::Postgres(db) => Store::open_named(&db.url).expect("open"),
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
                    super::$name(&$crate::store::test_backend::Backend::sqlite()).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if let Some(b) =
                        $crate::store::test_backend::Backend::postgres(stringify!($name))
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
                    super::$name(&$crate::store::test_backend::Backend::sqlite());
                }

                #[test]
                fn postgres() {
                    if let Some(b) =
                        $crate::store::test_backend::Backend::postgres(stringify!($name))
                    {
                        super::$name(&b);
                    }
                }
            }
        )+
    };
}
pub(crate) use on_both_backends;
