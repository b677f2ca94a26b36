//! The poller: its budget under load, an auth failure, a hostile `Retry-After`.

mod auth;
mod budget;
mod retry_after;
