//! seedance-tui: a terminal dashboard and headless CLI for the Seedance / Ark video task API.
//!
//! Layers, dependencies pointing down: `cli` (commands) and `ui` (widgets) over `runtime` (event
//! loop, effect executor, poller, downloads) over `engine` (submit/poll/save shared by both faces)
//! and `app` (pure state and reducer) over `store` (SQLite) and `api` (wire types, client).
//! `sim` is an Ark-compatible server for the demo and the tests; `download` streams result files.

pub mod api;
pub mod app;
pub mod cli;
pub mod config;
pub mod context;
pub mod engine;
pub mod file_download;
pub mod runtime;
pub mod sanitize;
pub mod sim;
pub mod store;
pub mod text;
pub mod theme;
pub mod ui;

/// `--version`: the crate version and the git commit it was built from (see build.rs).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("SEEDANCE_TUI_COMMIT"),
    ")"
);
