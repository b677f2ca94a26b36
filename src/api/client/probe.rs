//! The base-URL probe: one GET of a task id that cannot exist. It fails open: only evidence that
//! the URL is wrong refuses a create (an HTML or plain-text page with a 2xx or a 404, a redirect,
//! no answer at all). The Ark API answers its JSON error shape (a 404, or a 401 when the key is
//! refused); relays answer other JSON (`{"code":"task_not_exist",...}` with a 400, `{"message"}`
//! with a 500): any JSON means something API-like answered, so the create is sent and its own
//! answer decides, with a warning naming the shape. A gateway's error page (5xx that is not JSON)
//! means the server is having trouble, not that the URL is wrong. `doctor` shows the verdict; the
//! pre-flights act on it. The answer's `Date` header gives the clock skew.

use super::classify::{Answer, Endpoint, classify};
use super::{ApiError, ArkClient};
use crate::api::types::ErrorBody;
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
    /// JSON (or a non-JSON 4xx other than 404) of a shape we do not know: something API-like
    /// answered, so the URL is taken as right; shown as a warning with the body's first line.
    UnknownShape {
        status: u16,
        /// The body's first non-empty line, without control characters, key redacted, ≤ 160
        /// characters (sanitize it again before it reaches a terminal).
        first_line: String,
    },
    /// A 5xx that is not JSON (a proxy's 502/503/504 page): the server is having trouble; try
    /// again later. Not evidence of a wrong URL.
    ServerTrouble(ApiError),
    /// Something other than the API answered (a web page with a 2xx or a 404, a redirect): the URL
    /// is wrong.
    WrongUrl(ApiError),
    /// No answer: DNS, connection refused, TLS, timeout.
    Unreachable(ApiError),
}

impl ProbeVerdict {
    /// True when the base URL reaches the API (whatever else is wrong).
    pub fn url_is_right(&self) -> bool {
        matches!(
            self,
            ProbeVerdict::Ok
                | ProbeVerdict::KeyRefused(_)
                | ProbeVerdict::OtherApiError(_)
                | ProbeVerdict::UnknownShape { .. }
        )
    }

    /// The warning for an answer of unknown shape: `answered JSON of a shape we do not know
    /// (HTTP 400: {"code":"task_not_exist",...})`.
    pub fn shape_warning(&self) -> Option<String> {
        match self {
            ProbeVerdict::UnknownShape { status, first_line } => Some(format!(
                "answered {} of a shape we do not know (HTTP {status}: {first_line}); creates are sent and their own answers decide",
                if first_line.starts_with(['{', '[']) {
                    "JSON"
                } else {
                    "a body"
                }
            )),
            _ => None,
        }
    }
}

/// The first non-empty line of `body`: control characters dropped, `secret` redacted, at most
/// 160 characters.
pub(crate) fn first_line(body: &[u8], secret: Option<&str>) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(4096)]);
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("(empty body)");
    let clean: String = line.chars().filter(|c| !c.is_control()).collect();
    let clean = super::classify::redact(&clean, secret);
    if clean.chars().count() > 160 {
        format!("{}…", clean.chars().take(160).collect::<String>())
    } else {
        clean
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
    pub(crate) elapsed: Duration,
}

impl ArkClient {
    /// Probe the base URL (and the key) with one GET of [`PROBE_TASK_ID`]; never retried, never
    /// longer than ten seconds, reads at most a few KiB of a body that is not the API.
    pub async fn probe(&self) -> Probe {
        let url = self.tasks_url(Some(PROBE_TASK_ID));
        let started = Instant::now();
        let call = super::Call {
            method: reqwest::Method::GET,
            url: &url,
            query: &[],
            body: None,
            client_request_id: None,
            endpoint: Endpoint::Get,
        };
        let result = tokio::time::timeout(PROBE_TIMEOUT, self.send_once(&call)).await;
        let elapsed = started.elapsed();
        let (verdict, server_date) = match result {
            Ok(Ok(answer)) => (self.judge(&answer), answer.server_date),
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

    fn judge(&self, answer: &Answer) -> ProbeVerdict {
        judge(answer, &self.base, self.secret())
    }
}

/// The verdict on one answer to the probe (see the module doc for the rules).
fn judge(answer: &Answer, base: &str, secret: Option<&str>) -> ProbeVerdict {
    let status = answer.status;
    let api_shaped = serde_json::from_slice::<ErrorBody>(&answer.body).is_ok();
    let any_json = !answer.truncated_at_cap
        && serde_json::from_slice::<serde_json::Value>(&answer.body)
            .is_ok_and(|v| v.is_object() || v.is_array());
    let classified = classify(answer, base, Endpoint::Get, secret);
    let not_the_api = |why: String| ApiError::NotTheApi {
        status,
        content_type: if answer.content_type.is_empty() {
            "no content type".into()
        } else {
            answer.content_type.chars().take(60).collect()
        },
        hint: why,
        snippet: super::classify::snippet(&answer.body, secret),
    };
    if (300..400).contains(&status) {
        return ProbeVerdict::WrongUrl(match classified {
            Err(e @ ApiError::NotTheApi { .. }) => e,
            _ => not_the_api(super::not_the_api_hint(
                base,
                Endpoint::Get,
                status,
                answer.location.as_deref(),
            )),
        });
    }
    if api_shaped && !(200..300).contains(&status) {
        return match classified {
            Err(ApiError::NotFound { .. }) => ProbeVerdict::Ok,
            Err(e @ ApiError::Auth { .. }) => ProbeVerdict::KeyRefused(e),
            Err(e) => ProbeVerdict::OtherApiError(e),
            Ok(()) => ProbeVerdict::Ok,
        };
    }
    if any_json {
        return ProbeVerdict::UnknownShape {
            status,
            first_line: first_line(&answer.body, secret),
        };
    }
    if status >= 500 {
        return ProbeVerdict::ServerTrouble(match classified {
            Err(e) => e,
            Ok(()) => not_the_api("the server answered an error page".into()),
        });
    }
    // A page (or a bare 404, empty or not) where the API would answer JSON: the path is wrong.
    let empty = answer.body.iter().all(u8::is_ascii_whitespace);
    if status == 404 || (!empty && (200..300).contains(&status)) {
        return ProbeVerdict::WrongUrl(match classified {
            Err(e @ ApiError::NotTheApi { .. }) => e,
            Ok(()) => not_the_api(format!(
                "a task that cannot exist was found at {base}: check the base URL"
            )),
            Err(other) => not_the_api(format!(
                "the answer is not the Ark API's error JSON ({other}); check the base URL, it should end in /api/v3 (or /seedance/api/v3 for the relay)"
            )),
        });
    }
    // Another 4xx that is not JSON (a firewall's 403 page, a 405): not proof of a wrong URL; the
    // create's own answer (a refusal, nothing billed) will say more.
    ProbeVerdict::UnknownShape {
        status,
        first_line: first_line(&answer.body, secret),
    }
}
