//! The Ark video task API: wire types, the model table, validation, the HTTP client and its errors.

pub mod client;
pub(crate) mod error;
pub(crate) mod hints;
pub mod models;
pub mod task_id;
pub mod trace;
pub mod types;
pub mod validate;

pub use client::{ApiKey, ArkClient, ClientConfig, RetryPolicy};
pub use error::ApiError;
pub use types::{ContentItem, CreateRequest, MediaKind, Role, Task, TaskStatus};
