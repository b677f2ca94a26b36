//! seedance-tui: a terminal dashboard and headless CLI for the Seedance / Ark video task API.
//!
//! Layers, dependencies pointing down: `cli` (commands) over `runtime` (the only IO: event loop,
//! effect executor, poller, downloads) over `ui` (pure views) over `app` (pure state, router and
//! reducer); `engine` (submit/poll/save shared by both faces) over `store` (SQLite) and `api`
//! (wire types, client). `context` is the resolved environment both `cli` and `runtime` use;
//! `sim` is an Ark-compatible server for the demo and the tests; `file_download` streams one
//! result file; `config`, `theme`, `text` and `backoff` are small leaves. See
//! `docs/architecture.md`.

pub mod api;
pub mod app;
pub(crate) mod backoff;
pub mod cli;
pub mod config;
pub mod context;
pub mod destination;
pub mod engine;
pub mod file_download;
pub(crate) mod logging;
pub mod runtime;
pub mod s3;
pub mod sanitize;
pub mod sim;
pub mod store;
pub(crate) mod text;
pub mod theme;
pub mod ui;

/// `--version`: the crate version and the git commit it was built from (see build.rs).
pub(crate) const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("SEEDANCE_TUI_COMMIT"),
    ")"
);
