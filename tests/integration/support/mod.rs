//! Helpers shared by the in-process tests.

/// Keys into the composer, its effects out, a composer opened on a fresh draft.
pub mod composer;
/// A simulator and an engine on a fresh store, succeeded tasks, waiting on the loop's messages.
pub mod engine;
/// Deterministic tasks in every phase and a dashboard state loaded with them.
pub mod fixtures;
/// A raw HTTP/1.1 server on loopback for answers the simulator does not give.
pub mod http;
/// Screens as text, and a `TestBackend` readable while the dashboard's loop draws on it.
pub mod screen;
