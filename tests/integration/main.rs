//! In-process tests, one module per subject: the api client, the simulator, the store, the
//! engine, the poller, downloads, and the reducers and views drawn into a test buffer. The
//! simulator runs over real loopback HTTP; nothing reaches the internet.
//!
//! One program (not one per file) so the library is linked once; shared helpers are in `support`.

mod support;

mod answer_shapes;
mod api_client;
mod api_errors;
mod api_fidelity;
mod api_validation;
mod app_copy;
mod app_drawing;
mod app_index;
mod app_mouse;
mod app_preflight;
mod app_table;
mod app_update;
mod clipboard_tmux;
mod clock_redraw;
mod composer_drafts;
mod composer_opening;
mod composer_parameters;
mod composer_snapshots;
mod composer_templates;
mod composer_update;
mod curl_commands;
mod dashboard_bodies;
mod download_memory;
mod downloads;
mod engine_submit;
mod eta_table;
mod file_download;
mod hostile_dashboard;
mod input_video;
mod poller;
mod preview;
mod probe;
mod queue_render;
mod queue_update;
mod reconcile;
mod results_update;
mod retry_chain;
mod store;
mod store_watch;
mod ui_snapshots;
mod wide_text;
