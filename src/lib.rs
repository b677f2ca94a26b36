//! seedance-tui: a terminal dashboard and headless CLI for the Seedance / Ark video task API.
//!
//! Layers, dependencies pointing down: `cli` (commands) and `ui` (widgets) over `runtime` (event
//! loop, effect executor, poller, downloads) over `app` (pure state and reducer) over `store`
//! (SQLite) and `api` (wire types, client). `sim` is an Ark-compatible server for the demo and tests.

pub mod api;
pub mod download;
pub mod sim;
pub mod store;
