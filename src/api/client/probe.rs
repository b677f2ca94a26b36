//! The base-URL probe: one GET of a task id that cannot exist. The Ark API (and the relay)
//! answer that with its JSON error shape — a 404, or a 401 when the key is refused — so an
//! API-shaped answer means the URL is right; an HTML page, a 404 that is not API JSON, a redirect
//! or no answer at all means it is wrong. `doctor` shows the verdict; a pre-flight before the
//! dashboard or a batch can refuse to start on it. The answer's `Date` header gives the clock skew.

use super::classify::{Answer, Endpoint, classify};
use super::{ApiError, ArkClient, NOT_API_READ_BYTES, describe, never_reached_server};
use crate::api::types::ErrorBody;
use reqwest::header::{self, HeaderValue};
use std::time::{Duration, Instant};

/// A task id no server can have (the real ones are `cgt-` + 14 digits + `-` + a random suffix).
pub const PROBE_TASK_ID: &str = "cgt-00000000000000-seedance-tui-probe";

/// The most the probe waits for an answer, whatever the client's own timeout.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// What the probe concluded.
#[derive(Debug, Clone, PartialEq)]
pub enum ProbeVerdict {
    /// The API answered its JSON "no such task": the URL is right and the key was accepted.
    Ok,
    /// The API answered its JSON 401/403: the URL is right; the key is missing or refused.
    KeyRefused(ApiError),
    /// The API answered in its JSON shape, but not with "no such task" (a 429, a 5xx, a 400):
    /// the URL is right; the error says what else is wrong.
    OtherApiError(ApiError),
    /// Something other than the API answered (a web page, a bare 404, a redirect): the URL is wrong.
    WrongUrl(ApiError),
    /// No answer: DNS, connection refused, TLS, timeout.
    Unreachable(ApiError),
}

impl ProbeVerdict {
    /// True when the base URL reaches the API (whatever else is wrong).
    pub fn url_is_right(&self) -> bool {
        matches!(
            self,
            ProbeVerdict::Ok | ProbeVerdict::KeyRefused(_) | ProbeVerdict::OtherApiError(_)
        )
    }
}

/// The probe's result.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    pub verdict: ProbeVerdict,
    /// The URL that was fetched.
    pub url: String,
    /// The answer's `Date` header as Unix seconds, when it had a valid one.
    pub server_date: Option<i64>,
    /// How long the exchange took (bounds the error of a clock skew measured from `server_date`).
    pub elapsed: Duration,
}

impl ArkClient {
    /// Probe the base URL (and the key) with one GET of [`PROBE_TASK_ID`]; never retried, never
    /// longer than ten seconds, reads at most a few KiB of a body that is not the API.
    pub async fn probe(&self) -> Probe {
        let url = self.tasks_url(Some(PROBE_TASK_ID));
        let started = Instant::now();
        let mut req = self
            .http
            .get(&url)
            .timeout(PROBE_TIMEOUT.min(self.cfg.timeout))
            .header(header::ACCEPT, HeaderValue::from_static("application/json"))
            .header(
                header::ACCEPT_ENCODING,
                HeaderValue::from_static("identity"),
            );
        if let Some(auth) = &self.auth {
            req = req.header(header::AUTHORIZATION, auth.clone());
        }
        let result = tokio::time::timeout(PROBE_TIMEOUT, self.probe_exchange(req)).await;
        let elapsed = started.elapsed();
        let (verdict, server_date) = match result {
            Ok(Ok((answer, date))) => (self.judge(&answer), date),
            Ok(Err(e)) => (ProbeVerdict::Unreachable(e), None),
            Err(_) => (
                ProbeVerdict::Unreachable(ApiError::Timeout {
                    after: PROBE_TIMEOUT,
                    create: false,
                }),
                None,
            ),
        };
        Probe {
            verdict,
            url,
            server_date,
            elapsed,
        }
    }

    async fn probe_exchange(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<(Answer, Option<i64>), ApiError> {
        let transport = |e: reqwest::Error| {
            if e.is_timeout() {
                return ApiError::Timeout {
                    after: PROBE_TIMEOUT,
                    create: false,
                };
            }
            ApiError::Connection {
                message: super::classify::redact(&describe(&e), self.secret()),
                reached_server: !never_reached_server(&e),
            }
        };
        let mut resp = req.send().await.map_err(transport)?;
        let headers = resp.headers();
        let text = |name: header::HeaderName| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|s| s.chars().take(200).collect::<String>())
        };
        let date = text(header::DATE)
            .and_then(|d| chrono::DateTime::parse_from_rfc2822(d.trim()).ok())
            .map(|d| d.timestamp());
        let mut answer = Answer {
            status: resp.status().as_u16(),
            content_type: text(header::CONTENT_TYPE).unwrap_or_default(),
            request_id: text(header::HeaderName::from_static("x-request-id")),
            retry_after: None,
            location: text(header::LOCATION),
            body: Vec::new(),
            truncated_at_cap: false,
        };
        // An error answer is small; anything longer is not the API's "no such task".
        while let Some(chunk) = resp.chunk().await.map_err(transport)? {
            answer.body.extend_from_slice(&chunk);
            if answer.body.len() > NOT_API_READ_BYTES {
                answer.body.truncate(NOT_API_READ_BYTES);
                answer.truncated_at_cap = true;
                break;
            }
        }
        Ok((answer, date))
    }

    fn judge(&self, answer: &Answer) -> ProbeVerdict {
        let api_shaped = serde_json::from_slice::<ErrorBody>(&answer.body).is_ok();
        let err = match classify(answer, &self.base, Endpoint::Get, self.secret()) {
            // A 2xx for a task that cannot exist: not the API's behaviour.
            Ok(()) => ApiError::NotTheApi {
                status: answer.status,
                content_type: answer.content_type.chars().take(60).collect(),
                hint: format!(
                    "a task that cannot exist was found at {}: check the base URL",
                    self.base
                ),
                snippet: super::classify::snippet(&answer.body, self.secret()),
            },
            Err(e) => e,
        };
        if !api_shaped {
            return match err {
                e @ ApiError::NotTheApi { .. } => ProbeVerdict::WrongUrl(e),
                other => ProbeVerdict::WrongUrl(ApiError::NotTheApi {
                    status: answer.status,
                    content_type: if answer.content_type.is_empty() {
                        "no content type".into()
                    } else {
                        answer.content_type.chars().take(60).collect()
                    },
                    hint: format!(
                        "the answer is not the Ark API's error JSON ({other}); check the base URL, it should end in /api/v3 (or /seedance/api/v3 for the relay)"
                    ),
                    snippet: super::classify::snippet(&answer.body, self.secret()),
                }),
            };
        }
        match err {
            ApiError::NotFound { .. } => ProbeVerdict::Ok,
            e @ ApiError::Auth { .. } => ProbeVerdict::KeyRefused(e),
            e => ProbeVerdict::OtherApiError(e),
        }
    }
}
