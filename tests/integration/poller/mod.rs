//! The poller: its budget under load, an auth failure, a hostile `Retry-After`, list mode.

mod auth;
mod budget;
mod list_mode;
mod retry_after;
