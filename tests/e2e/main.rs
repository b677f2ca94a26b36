//! End-to-end tests that drive the real binary: headless commands as processes, the dashboard
//! in a real PTY, several processes sharing one store, SIGKILL at random points. The simulator
//! runs as its own process (`seedance-tui sim`) on loopback.
//!
//! One program (not one per file) so it is linked once; shared helpers are in `support`.

mod support;

mod answer_shapes;
mod batch;
mod batch_feeders;
mod batch_sigkill;
mod cli;
mod completions;
mod composer;
mod contact_sheet_dashboard;
mod copy_tmux;
mod dashboard;
mod dashboard_config;
mod doctor;
mod footer;
mod gallery_browser;
mod hostile_files;
mod hostile_server;
mod hostile_storage;
mod input_video;
mod lease_dashboard;
mod lease_one_poller;
mod lost_tasks;
mod man_pages;
mod object_storage;
mod palette_views;
mod postgres_store;
mod preflight;
mod queue_dashboard;
mod results_cli;
mod results_dashboard;
mod retry;
mod retry_chain;
mod scripting;
mod secrets;
mod shared_store;
mod sigkill;
mod spending_cap;
mod store;
mod store_copy;
mod table;
mod terminal_input;
mod watch;
