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
mod architecture;
mod clipboard_tmux;
mod contact_sheet;
mod dashboard_loop;
mod download_memory;
mod downloads;
mod engine_submit;
mod file_download;
mod input_video;
mod poller;
mod postgres_test_db;
mod preview;
mod probe;
mod reconcile;
mod retry_chain;
mod store;
mod store_asset_files;
mod store_requests;
