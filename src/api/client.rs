//! The Ark HTTP client: create, get, list and delete tasks, with error classification and a retry
//! policy that never sends a create twice when it may have reached the server.

use super::error::ApiError;
use super::types::{CreateRequest, CreateResponse, ListQuery, ListResponse, Task};
use std::time::Duration;

/// An API key. Its `Debug` never shows the key; read it only to build the Authorization header.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> Self {
        ApiKey(key.into())
    }

    /// The key itself; use only for the Authorization header.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

/// Retries of idempotent requests (GET, DELETE): capped exponential backoff with jitter.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    pub max_retries: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(20),
        }
    }
}

/// How to reach the API.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// e.g. `https://api.laozhang.ai/seedance/api/v3` (no trailing `/contents/...`).
    pub base_url: String,
    pub api_key: Option<ApiKey>,
    /// Whole-request timeout.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub retry: RetryPolicy,
}

impl ClientConfig {
    pub fn new(base_url: impl Into<String>, api_key: Option<ApiKey>) -> Self {
        ClientConfig {
            base_url: base_url.into(),
            api_key,
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
        }
    }
}

/// The client. Cheap to clone (shares one connection pool).
#[derive(Debug, Clone)]
pub struct ArkClient {
    cfg: ClientConfig,
}

impl ArkClient {
    pub fn new(cfg: ClientConfig) -> Result<ArkClient, ApiError> {
        Ok(ArkClient { cfg })
    }

    pub fn base_url(&self) -> &str {
        &self.cfg.base_url
    }

    /// Create a task from a typed request. See [`ArkClient::create_raw`].
    pub async fn create(
        &self,
        req: &CreateRequest,
        client_request_id: &str,
    ) -> Result<CreateResponse, ApiError> {
        self.create_raw(&req.to_json(), client_request_id).await
    }

    /// Create a task, sending `body_json` byte for byte. Re-sent only when it certainly never
    /// reached the server (connection refused, DNS) or the server answered 429.
    pub async fn create_raw(
        &self,
        body_json: &str,
        client_request_id: &str,
    ) -> Result<CreateResponse, ApiError> {
        let _ = (body_json, client_request_id);
        todo!()
    }

    /// Fetch one task; returns it parsed and the raw JSON text as received.
    pub async fn get(&self, id: &str) -> Result<(Task, String), ApiError> {
        let _ = id;
        todo!()
    }

    /// List tasks (official API only: the relay answers an HTML page here).
    pub async fn list(&self, query: &ListQuery) -> Result<ListResponse, ApiError> {
        let _ = query;
        todo!()
    }

    /// Cancel a queued task, or delete the record of a finished one.
    pub async fn delete(&self, id: &str) -> Result<(), ApiError> {
        let _ = id;
        todo!()
    }
}
