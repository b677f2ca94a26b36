//! Helpers shared by the end-to-end tests.

/// One test body on a SQLite and on a PostgreSQL store (`on_both_backends!`). Shared with
/// tests/integration, whose tests use the helpers that open and poke the store.
#[path = "../../support/backend.rs"]
#[allow(dead_code)]
pub mod backend;
/// A hostile server on loopback (answers no honest server gives), and running the binary with
/// its peak memory measured.
pub mod hostile;
/// The SIGKILL tests' seeded random source and their rounds and seed from the environment.
pub mod kill;
/// moto's S3-compatible server on loopback, for the object-storage tests (skipped with a message
/// when it is not installed, required under `CI=true`).
pub mod moto;
/// A fresh PostgreSQL database per test (skipped with a message without a server, required under
/// `CI=true`).
#[path = "../../support/postgres.rs"]
pub mod postgres;
/// The binary with the user's config, keys and data kept out; several copies of it on one store
/// (output lines awaited with a deadline); loopback HTTP to the simulator's control endpoints; a
/// config with fast poll and lease timings.
pub mod process;
/// The binary in a pseudo-terminal: keys in, screen text out.
pub mod pty;
/// The simulator as a separate process, and its request counters.
pub mod sim;
