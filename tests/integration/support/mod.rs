//! Helpers shared by the in-process tests.

/// One test body on SQLite and on PostgreSQL (`on_both_backends!`).
#[path = "../../support/backend.rs"]
pub mod backend;
/// A simulator and an engine on a fresh store, succeeded tasks, waiting on the loop's messages.
pub mod engine;
/// A raw HTTP/1.1 server on loopback for answers the simulator does not give.
pub mod http;
/// Videos for the contact-sheet tests (damaged copies, ffmpeg-made files of each resolution).
pub mod media;
/// A fresh PostgreSQL database per test (skipped with a message without a server, required under
/// `CI=true`).
#[path = "../../support/postgres.rs"]
pub mod postgres;
/// Screens as text, and a `TestBackend` readable while the dashboard's loop draws on it.
pub mod screen;
