//! The runtime: the only layer that does IO. The dashboard is one loop (`event_loop`) that
//! merges terminal input, poller and store-watcher reports, effect results and a slow clock
//! into messages, runs the reducer, hands its effects to the `executor`, and draws only when
//! something changed (at most one frame per ~16 ms); `setup` builds the state and starts the
//! workers around it. `headless` is the same poll loop without a terminal.

pub mod clipboard;
pub mod composer;
mod dashboard;
pub(crate) mod demo;
pub mod download_manager;
mod event_loop;
mod executor;
pub mod feeder;
mod follow;
pub(crate) mod headless;
mod input;
pub(crate) mod lease;
pub(crate) mod notify;
pub(crate) mod opener;
pub mod osc;
pub mod poller;
pub mod preview;
mod progress;
mod setup;
pub(crate) mod sheet;
pub mod store_watch;
pub mod terminal;
#[cfg(test)]
mod tests;
pub(crate) mod workers;

pub use dashboard::{DashboardError, DashboardOptions};
pub use input::Input;
pub use setup::{run_dashboard, run_dashboard_on};
