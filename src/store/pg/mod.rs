//! The PostgreSQL side of the store: where a server is and its secrets (`target`), and one
//! connection on a thread of its own (`conn`).

pub(crate) mod conn;
pub(crate) mod target;

/// A fresh database per test on the test server (the file every test program shares).
#[cfg(test)]
#[path = "../../../tests/support/postgres.rs"]
pub(crate) mod test_db;
