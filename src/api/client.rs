//! The Ark HTTP client: create, get, list and delete tasks, with error classification and a retry
//! policy that never sends a create twice when it may have reached the server.

mod classify;
mod list_items;
mod probe;

pub use classify::{Endpoint, looks_like_not_json, not_the_api_hint, parse_retry_after};
pub(crate) use list_items::{ListPage, MAX_LIST_URL_BYTES, list_id_query_len};
pub use probe::{PROBE_TASK_ID, Probe, ProbeVerdict};

use super::error::ApiError;
use super::types::{CreateRequest, CreateResponse, Task};
use classify::{Answer, classify, decode_error, redact};
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Largest API answer read (task JSON, lists); a bigger body is refused, not buffered.
pub(crate) const MAX_ANSWER_BYTES: usize = 4 * 1024 * 1024;
/// How much of a body that is not the API is read for the error's snippet.
const NOT_API_READ_BYTES: usize = 4096;

/// An API key. Its `Debug` never shows the key; read it only to build the Authorization header.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> Self {
        ApiKey(key.into())
    }

    /// The key itself; use only for the Authorization header.
    pub(crate) fn expose(&self) -> &str {
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
    pub(crate) base_url: String,
    pub(crate) api_key: Option<ApiKey>,
    /// Whole-request timeout.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub retry: RetryPolicy,
    /// Where every exchange is appended as one JSON line (`--trace FILE`), if anywhere.
    pub trace: Option<std::sync::Arc<super::trace::Trace>>,
}

impl ClientConfig {
    pub fn new(base_url: impl Into<String>, api_key: Option<ApiKey>) -> Self {
        ClientConfig {
            base_url: base_url.into(),
            api_key,
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
            trace: None,
        }
    }
}

/// The client. Cheap to clone (shares one connection pool).
#[derive(Debug, Clone)]
pub struct ArkClient {
    cfg: ClientConfig,
    http: reqwest::Client,
    /// `base_url` without trailing slashes.
    base: String,
    auth: Option<HeaderValue>,
}

/// A fresh id for `X-Client-Request-Id`: milliseconds, process id and a counter, in hex.
pub fn new_client_request_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!(
        "{millis:011x}{:06x}{:06x}",
        std::process::id() & 0xff_ffff,
        n & 0xff_ffff
    )
}

/// A uniformly drawn number in `0..=max` (no dependency: a hashed clock and counter).
fn jitter(max: u64) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    if max == 0 {
        return 0;
    }
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.finish() % (max + 1)
}

impl RetryPolicy {
    /// The wait before retry number `attempt` (0-based): full jitter over a capped exponential,
    /// or the server's `Retry-After` (capped by `max_delay`) when it sent one.
    pub(crate) fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(ra) = retry_after {
            return ra.min(self.max_delay);
        }
        let cap = crate::backoff::Backoff::new(self.base_delay, self.max_delay)
            .delay(attempt)
            .as_millis() as u64;
        Duration::from_millis(jitter(cap))
    }
}

fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// True when the request certainly never reached the server: DNS failed or the connection was
/// refused. Anything else (a reset, a timeout, a cut) may have delivered it.
fn never_reached_server(e: &reqwest::Error) -> bool {
    if e.is_dns() {
        return true;
    }
    if !e.is_connect() || e.is_timeout() {
        return false;
    }
    let mut source = std::error::Error::source(e);
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::ConnectionRefused
        {
            return true;
        }
        let text = err.to_string().to_ascii_lowercase();
        if text.contains("connection refused") || text.contains("dns error") {
            return true;
        }
        source = err.source();
    }
    false
}

/// The error chain of a transport error as one line (no headers, so no key), its link cut to
/// the host: a relay's base URL may carry a token in its query or credentials before the host.
fn describe(e: &reqwest::Error) -> String {
    crate::sanitize::error_chain(e)
}

impl ArkClient {
    pub fn new(cfg: ClientConfig) -> Result<ArkClient, ApiError> {
        let auth = match &cfg.api_key {
            Some(key) => {
                let mut v = HeaderValue::from_str(&format!("Bearer {}", key.expose().trim()))
                    .map_err(|_| ApiError::Auth {
                        status: 0,
                        code: "InvalidApiKey".into(),
                        message: "the API key contains characters that cannot be sent in a header (a pasted line break or quote?)".into(),
                        request_id: None,
                    })?;
                v.set_sensitive(true);
                Some(v)
            }
            None => None,
        };
        let http = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .connect_timeout(cfg.connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("seedance-tui/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ApiError::Connection {
                message: format!("could not set up the HTTP client: {}", describe(&e)),
                reached_server: false,
            })?;
        let base = cfg.base_url.trim().trim_end_matches('/').to_string();
        Ok(ArkClient {
            cfg,
            http,
            base,
            auth,
        })
    }

    pub fn base_url(&self) -> &str {
        &self.cfg.base_url
    }

    /// The same client without its own retries, for callers that pace and back off themselves
    /// (the poll scheduler: a retry it does not see would break its request budget).
    pub(crate) fn without_retries(&self) -> ArkClient {
        let mut c = self.clone();
        c.cfg.retry.max_retries = 0;
        c
    }

    /// `BASE/contents/generations/tasks[/{id}]`, the id one percent-encoded path segment.
    pub(crate) fn tasks_url(&self, id: Option<&str>) -> String {
        let list = format!("{}/contents/generations/tasks", self.base);
        let Some(id) = id else {
            return list;
        };
        // `push` escapes `/`, `%`, `?`, `#` and spaces, but drops `.` and `..` segments (and
        // URL parsing treats `%2E%2E` as `..`): an id of dots is escaped once more, so it names
        // no task instead of climbing the path.
        let segment = if id.chars().all(|c| c == '.') {
            id.replace('.', "%2E")
        } else {
            id.to_string()
        };
        let Ok(mut url) = reqwest::Url::parse(&list) else {
            // Not a URL at all: the request fails with the client's own message.
            return format!("{list}/{segment}");
        };
        if let Ok(mut path) = url.path_segments_mut() {
            path.push(&segment);
        }
        url.to_string()
    }

    fn secret(&self) -> Option<&str> {
        self.cfg.api_key.as_ref().map(|k| k.expose().trim())
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
        let body = bytes::Bytes::copy_from_slice(body_json.as_bytes());
        self.create_body(body, client_request_id).await
    }

    /// [`ArkClient::create_raw`] of a body the caller hands over (`Bytes::from(String)` takes
    /// the string's buffer): a 20 MB request is sent without a copy.
    pub async fn create_body(
        &self,
        body_json: bytes::Bytes,
        client_request_id: &str,
    ) -> Result<CreateResponse, ApiError> {
        let url = self.tasks_url(None);
        let call = Call {
            method: Method::POST,
            url: &url,
            query: &[],
            body: Some(body_json),
            client_request_id: Some(client_request_id),
            endpoint: Endpoint::Create,
        };
        self.with_retries(&call, |a| {
            let resp: CreateResponse = parse_json(a, "create", self.secret())?;
            match super::task_id::problem(&resp.id) {
                None => Ok(resp),
                // The create was processed: the caller records it as outcome-unknown.
                Some(why) => Err(ApiError::Protocol {
                    status: a.status,
                    message: format!(
                        "the create answer's id `{}` is not a task id: {why}",
                        super::task_id::shown(&redact(&resp.id, self.secret()))
                    ),
                }),
            }
        })
        .await
    }

    /// Fetch one task; returns it parsed and the raw JSON text as received.
    pub async fn get(&self, id: &str) -> Result<(Task, String), ApiError> {
        self.get_task(id).await.map(|a| (a.task, a.raw))
    }

    /// Fetch one task: refused before sending when `id` is not an id, and refused when the
    /// answer is for another task. Optional fields of the wrong shape are dropped with a note;
    /// the API key echoed anywhere in the answer is redacted before it is returned.
    pub(crate) async fn get_task(&self, id: &str) -> Result<TaskAnswer, ApiError> {
        check_id(id)?;
        let url = self.tasks_url(Some(id));
        let call = Call {
            method: Method::GET,
            url: &url,
            query: &[],
            body: None,
            client_request_id: None,
            endpoint: Endpoint::Get,
        };
        self.with_retries(&call, |answer| {
            let text = String::from_utf8(answer.body.clone()).map_err(|_| ApiError::Decode {
                status: answer.status,
                message: "the task answer is not UTF-8 text".into(),
                snippet: classify::snippet(&answer.body, self.secret()),
            })?;
            let decode = |e: &serde_json::Error| {
                decode_error(answer.status, &answer.body, "task", e, self.secret())
            };
            let mut value: serde_json::Value =
                serde_json::from_str(&text).map_err(|e| decode(&e))?;
            let raw = if redact_strings(&mut value, self.secret()) {
                value.to_string()
            } else {
                text
            };
            let (task, notes) = Task::from_value_noted(value).map_err(|e| decode(&e))?;
            if task.id != id {
                return Err(ApiError::Protocol {
                    status: answer.status,
                    message: format!(
                        "asked for task `{}`, the answer is for task `{}`",
                        super::task_id::shown(id),
                        super::task_id::shown(&task.id)
                    ),
                });
            }
            Ok(TaskAnswer { task, raw, notes })
        })
        .await
    }

    /// Cancel a queued task, or delete the record of a finished one. Any 2xx is success.
    pub async fn delete(&self, id: &str) -> Result<(), ApiError> {
        check_id(id)?;
        let url = self.tasks_url(Some(id));
        let call = Call {
            method: Method::DELETE,
            url: &url,
            query: &[],
            body: None,
            client_request_id: None,
            endpoint: Endpoint::Delete,
        };
        self.with_retries(&call, |_| Ok(())).await
    }

    /// Send `call` and read its answer with `parse`, retrying as the policy and the method allow
    /// (a cut or empty 200 of a GET is retried too; a create's never is).
    async fn with_retries<T>(
        &self,
        call: &Call<'_>,
        parse: impl Fn(&Answer) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let mut attempt = 0;
        loop {
            // The server's Retry-After, on a 429 or on a 503 alike.
            let mut retry_after = None;
            let result = self.send_once(call).await.and_then(|answer| {
                retry_after = answer.retry_after;
                classify(&answer, &self.base, call.endpoint, self.secret())?;
                parse(&answer)
            });
            let err = match result {
                Ok(value) => return Ok(value),
                Err(e) => e,
            };
            // A request that used the whole timeout is not asked again at once: a trickling or
            // stuck server fails within one timeout (the poller comes back on its schedule).
            let timed_out = matches!(err, ApiError::Timeout { .. });
            if timed_out
                || !may_send_again(call.endpoint, &err)
                || attempt >= self.cfg.retry.max_retries
            {
                return Err(err);
            }
            let wait = self.cfg.retry.delay(attempt, retry_after);
            tracing::debug!(
                endpoint = ?call.endpoint,
                attempt,
                wait_ms = wait.as_millis() as u64,
                error = %err,
                "retrying"
            );
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// One HTTP exchange: send, then read the body with a size cap; traced when a trace is on.
    async fn send_once(&self, call: &Call<'_>) -> Result<Answer, ApiError> {
        let request_id = call
            .client_request_id
            .map_or_else(new_client_request_id, str::to_string);
        let Some(trace) = &self.cfg.trace else {
            return self.exchange(call, &request_id).await.map(|(a, _)| a);
        };
        let (time, started) = (super::trace::now_rfc3339(), std::time::Instant::now());
        let result = self.exchange(call, &request_id).await;
        let mut path = reqwest::Url::parse(call.url).map_or_else(
            |_| call.url.to_string(),
            |mut u| {
                if !call.query.is_empty() {
                    u.query_pairs_mut().extend_pairs(call.query);
                }
                match u.query() {
                    Some(q) => format!("{}?{q}", u.path()),
                    None => u.path().to_string(),
                }
            },
        );
        if path.is_empty() {
            path = "/".into();
        }
        let mut request_headers = vec![
            ("Accept".to_string(), "application/json".to_string()),
            ("Accept-Encoding".to_string(), "identity".to_string()),
            ("X-Client-Request-Id".to_string(), request_id.clone()),
        ];
        if call.body.is_some() {
            request_headers.push(("Content-Type".into(), "application/json".into()));
        }
        let (request_body, mut truncated) = match &call.body {
            Some(b) => {
                let (t, cut) = super::trace::body_text(b);
                (Some(t), cut)
            }
            None => (None, false),
        };
        let mut ex = super::trace::Exchange {
            time,
            method: call.method.as_str().to_string(),
            path,
            status: 0,
            request_headers,
            request_body,
            response_headers: Vec::new(),
            response_body: None,
            truncated: false,
            elapsed_ms: started.elapsed().as_millis() as u64,
            error: None,
        };
        match &result {
            Ok((answer, headers)) => {
                let (body, cut) = super::trace::body_text(&answer.body);
                truncated |= cut || answer.truncated_at_cap;
                ex.status = answer.status;
                ex.response_headers = headers.clone();
                ex.response_body = Some(body);
            }
            Err(e) => ex.error = Some(e.to_string()),
        }
        ex.truncated = truncated;
        trace.record(ex, self.secret());
        result.map(|(a, _)| a)
    }

    /// Send and read the answer (its headers too, for the trace).
    async fn exchange(
        &self,
        call: &Call<'_>,
        request_id: &str,
    ) -> Result<(Answer, Vec<(String, String)>), ApiError> {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("identity"),
        );
        if let Ok(v) = HeaderValue::from_str(request_id) {
            headers.insert("X-Client-Request-Id", v);
        }
        if let Some(auth) = &self.auth {
            headers.insert(header::AUTHORIZATION, auth.clone());
        }
        let mut builder = self
            .http
            .request(call.method.clone(), call.url)
            .headers(headers);
        if !call.query.is_empty() {
            builder = builder.query(call.query);
        }
        if let Some(body) = &call.body {
            // A shared handle on the same bytes (a retry sends them again).
            builder = builder
                .header(header::CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        let create = call.endpoint == Endpoint::Create;
        let mut resp = builder
            .send()
            .await
            .map_err(|e| self.transport_error(&e, create))?;
        let status = resp.status();
        let headers = resp.headers();
        let text_header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|s| s.chars().take(200).collect::<String>())
        };
        let traced: Vec<(String, String)> = if self.cfg.trace.is_some() {
            headers
                .iter()
                .take(64)
                .map(|(k, v)| {
                    let v = String::from_utf8_lossy(v.as_bytes());
                    (k.as_str().to_string(), v.chars().take(1024).collect())
                })
                .collect()
        } else {
            Vec::new()
        };
        let mut answer = Answer {
            status: status.as_u16(),
            content_type: text_header("content-type").unwrap_or_default(),
            request_id: text_header("x-request-id"),
            retry_after: text_header("retry-after").and_then(|v| parse_retry_after(&v, now_unix())),
            location: text_header("location"),
            server_date: text_header("date")
                .and_then(|d| chrono::DateTime::parse_from_rfc2822(d.trim()).ok())
                .map(|d| d.timestamp()),
            body: Vec::new(),
            truncated_at_cap: false,
        };
        if status == StatusCode::NO_CONTENT {
            return Ok((answer, traced));
        }
        let mut not_api = false;
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| self.body_error(&e, create))?
        {
            answer.body.extend_from_slice(&chunk);
            if !not_api && looks_like_not_json(&answer.content_type, &answer.body) {
                not_api = true;
            }
            let cap = if not_api {
                NOT_API_READ_BYTES
            } else {
                MAX_ANSWER_BYTES
            };
            if answer.body.len() > cap {
                answer.body.truncate(cap);
                answer.truncated_at_cap = true;
                break;
            }
        }
        Ok((answer, traced))
    }

    fn transport_error(&self, e: &reqwest::Error, create: bool) -> ApiError {
        if e.is_timeout() {
            return ApiError::Timeout {
                after: self.cfg.timeout,
                create,
            };
        }
        let reached_server = !never_reached_server(e);
        let message = classify::redact(&describe(e), self.secret());
        ApiError::Connection {
            message,
            reached_server,
        }
    }

    fn body_error(&self, e: &reqwest::Error, create: bool) -> ApiError {
        if e.is_timeout() {
            return ApiError::Timeout {
                after: self.cfg.timeout,
                create,
            };
        }
        ApiError::Connection {
            message: format!(
                "the connection was cut while reading the answer: {}",
                classify::redact(&describe(e), self.secret())
            ),
            reached_server: true,
        }
    }
}

/// Whether a request to `endpoint` that failed with `err` may be sent again automatically.
/// A create only when it certainly was not processed (never reached the server, or a 429):
/// never spend the user's money twice. GET and DELETE on any transient error.
pub(crate) fn may_send_again(endpoint: Endpoint, err: &ApiError) -> bool {
    match endpoint {
        Endpoint::Create => matches!(
            err,
            ApiError::RateLimited { .. }
                | ApiError::Connection {
                    reached_server: false,
                    ..
                }
        ),
        _ => err.is_transient(),
    }
}

/// A task as [`ArkClient::get_task`] read it.
#[derive(Debug, Clone)]
pub(crate) struct TaskAnswer {
    pub(crate) task: Task,
    /// The answer's JSON text: verbatim, unless the key had to be redacted from it.
    pub(crate) raw: String,
    /// Optional fields that were dropped, one note each.
    pub(crate) notes: Vec<String>,
}

/// Refuse an id that is not an id before it goes into a URL.
fn check_id(id: &str) -> Result<(), ApiError> {
    super::task_id::check(id).map_err(|message| ApiError::InvalidId { message })
}

/// Redact `secret` in every string of `v` (keys included); true when anything was replaced.
fn redact_strings(v: &mut serde_json::Value, secret: Option<&str>) -> bool {
    use serde_json::Value;
    let Some(secret) = secret.filter(|s| s.len() >= 4) else {
        return false;
    };
    match v {
        Value::String(s) if s.contains(secret) => {
            *s = redact(s, Some(secret));
            true
        }
        Value::Array(items) => items
            .iter_mut()
            .fold(false, |hit, i| redact_strings(i, Some(secret)) | hit),
        Value::Object(map) => {
            let mut hit = false;
            if map.keys().any(|k| k.contains(secret)) {
                let old = std::mem::take(map);
                for (k, val) in old {
                    map.insert(redact(&k, Some(secret)), val);
                }
                hit = true;
            }
            map.values_mut()
                .fold(hit, |hit, val| redact_strings(val, Some(secret)) | hit)
        }
        _ => false,
    }
}

/// One request as the retry loop sees it.
struct Call<'a> {
    method: Method,
    url: &'a str,
    query: &'a [(String, String)],
    body: Option<bytes::Bytes>,
    client_request_id: Option<&'a str>,
    endpoint: Endpoint,
}

/// Parse a 2xx JSON body (null fields treated as absent).
fn parse_json<T: serde::de::DeserializeOwned>(
    answer: &Answer,
    what: &str,
    secret: Option<&str>,
) -> Result<T, ApiError> {
    let parsed = serde_json::from_slice::<serde_json::Value>(&answer.body).and_then(|mut v| {
        super::types::strip_nulls(&mut v);
        serde_json::from_value(v)
    });
    parsed.map_err(|e| decode_error(answer.status, &answer.body, what, &e, secret))
}

#[cfg(test)]
mod tests;
