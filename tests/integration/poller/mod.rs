//! The poller: its budget under load, an auth failure, a hostile `Retry-After`, list mode,
//! polling plans counted at the simulator, the queue refilled on a finish, the one ETA model
//! it sends the face.

mod auth;
mod budget;
mod eta_model;
mod list_mode;
mod plans;
mod queue_refill;
mod retry_after;
