//! One error type for everything that can go wrong talking to the API, classified by what the
//! user can do about it. No variant ever carries the API key.

use std::time::Duration;

/// What went wrong with a request, and so what can be done about it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    /// 400 (and other 4xx not listed below): the request itself is wrong; fix it, do not retry.
    #[error("{}", describe_server("request rejected", *status, code, message, param.as_deref(), request_id.as_deref()))]
    BadRequest {
        status: u16,
        code: String,
        message: String,
        param: Option<String>,
        request_id: Option<String>,
    },
    /// 401 / 403: the key is missing, wrong, out of credit or lacks access to the model.
    #[error("{}", describe_server("not authorised", *status, code, message, None, request_id.as_deref()))]
    Auth {
        status: u16,
        code: String,
        message: String,
        request_id: Option<String>,
    },
    /// 404: unknown task id, model or endpoint.
    #[error("{}", describe_server("not found", 404, code, message, None, request_id.as_deref()))]
    NotFound {
        code: String,
        message: String,
        request_id: Option<String>,
    },
    /// 429: slow down; `retry_after` is the server's `Retry-After`, when it sent one.
    #[error("{}", describe_server("rate limited", 429, code, message, None, request_id.as_deref()))]
    RateLimited {
        code: String,
        message: String,
        retry_after: Option<Duration>,
        request_id: Option<String>,
    },
    /// 5xx (and 408/409): the server failed; the outcome of a create is unknown.
    #[error("{}", describe_server("server error", *status, code, message, None, request_id.as_deref()))]
    Server {
        status: u16,
        code: String,
        message: String,
        request_id: Option<String>,
    },
    /// No complete answer in time. For a create (`create` true) the request may or may not
    /// have been processed; a read just failed.
    #[error("timed out after {}s waiting for the server", .after.as_secs())]
    Timeout { after: Duration, create: bool },
    /// The connection failed. `reached_server` is false only when the request certainly never
    /// left this machine (DNS failure, connection refused), which is when a create may be re-sent.
    #[error("connection failed: {message}")]
    Connection {
        message: String,
        reached_server: bool,
    },
    /// Something answered, but not the API: an HTML page or other non-JSON body.
    #[error("the server answered HTTP {status} with {content_type} instead of API JSON ({hint})")]
    NotTheApi {
        status: u16,
        content_type: String,
        hint: String,
        snippet: String,
    },
    /// A task id that cannot be used (refused before any request is sent).
    #[error("{message}")]
    InvalidId { message: String },
    /// An answer in the API's shape that breaks its rules: a create answer whose id is not an
    /// id, a task answer for another id than the one asked for.
    #[error("the server broke the protocol (HTTP {status}): {message}")]
    Protocol { status: u16, message: String },
    /// JSON that does not have the expected shape (truncated, wrong fields, too large).
    #[error("could not read the server's answer (HTTP {status}): {message}")]
    Decode {
        status: u16,
        message: String,
        snippet: String,
    },
}

fn describe_server(
    what: &str,
    status: u16,
    code: &str,
    message: &str,
    param: Option<&str>,
    request_id: Option<&str>,
) -> String {
    // Everything here but `what` comes from the server: escaped, so no message built from an
    // error can drive a terminal or fake a line.
    use crate::sanitize::line;
    let mut s = format!("{what} (HTTP {status}");
    if !code.is_empty() {
        s.push_str(", ");
        s.push_str(&line(code));
    }
    s.push(')');
    if let Some(p) = param {
        s.push_str(&format!(" on field `{}`", line(p)));
    }
    if !message.is_empty() {
        s.push_str(": ");
        s.push_str(&line(message));
    }
    if let Some(id) = request_id
        && !message.contains(id)
    {
        s.push_str(&format!(" [request id {}]", line(id)));
    }
    s
}

impl ApiError {
    /// The server's error code, when there is one.
    pub fn code(&self) -> Option<&str> {
        match self {
            ApiError::BadRequest { code, .. }
            | ApiError::Auth { code, .. }
            | ApiError::NotFound { code, .. }
            | ApiError::RateLimited { code, .. }
            | ApiError::Server { code, .. } => Some(code.as_str()).filter(|c| !c.is_empty()),
            _ => None,
        }
    }

    /// The field the server (or validation) named, when there is one.
    pub fn param(&self) -> Option<&str> {
        match self {
            ApiError::BadRequest { param, .. } => param.as_deref(),
            _ => None,
        }
    }

    /// For a create: true when the request may have reached the server and been processed, so
    /// re-sending it could start (and bill) the same video twice.
    pub fn create_outcome_unknown(&self) -> bool {
        match self {
            ApiError::Timeout { .. } | ApiError::Server { .. } => true,
            ApiError::Connection { reached_server, .. } => *reached_server,
            // A 200 with a body we could not read: the task was probably created.
            ApiError::Decode { status, .. }
            | ApiError::NotTheApi { status, .. }
            | ApiError::Protocol { status, .. } => (200..300).contains(status),
            _ => false,
        }
    }

    /// True when the same idempotent request (GET/DELETE) may succeed if tried again later.
    pub fn is_transient(&self) -> bool {
        match self {
            ApiError::RateLimited { .. }
            | ApiError::Server { .. }
            | ApiError::Timeout { .. }
            | ApiError::Connection { .. } => true,
            // Providers report occasional empty or cut 200 bodies: transient.
            ApiError::Decode { status, .. } => (200..300).contains(status) || *status >= 500,
            _ => false,
        }
    }

    /// One line that tells the user what to do about this error.
    pub fn hint(&self) -> String {
        match self {
            ApiError::BadRequest { code, param, .. } => {
                let by_code = crate::api::hints::hint_for_code(code);
                match (by_code, param) {
                    (Some(h), _) => h.to_string(),
                    (None, Some(p)) => format!("fix the field `{p}` and submit again"),
                    (None, None) => "fix the request and submit again".to_string(),
                }
            }
            ApiError::Auth { code, .. } => crate::api::hints::hint_for_code(code)
                .unwrap_or(
                    "check the API key (SEEDANCE_API_KEY or ARK_API_KEY) and that it may use this model; relay tokens must be in the SeeDance2 group",
                )
                .to_string(),
            ApiError::NotFound { code, .. } => crate::api::hints::hint_for_code(code)
                .unwrap_or("check the task id or model id; tasks are kept for 7 days")
                .to_string(),
            ApiError::RateLimited { retry_after, .. } => match retry_after {
                Some(d) => format!("slow down: the server asks to wait {}s", d.as_secs().max(1)),
                None => "slow down and try again shortly".to_string(),
            },
            ApiError::Server { .. } => {
                "the service failed; try again later (a create may have gone through: check before re-sending)"
                    .to_string()
            }
            ApiError::Timeout { create: true, .. } => {
                "the network or server is slow; a create may have gone through: check before re-sending"
                    .to_string()
            }
            ApiError::Timeout { create: false, .. } => {
                "the network or server is slow or stuck; try again later, and check the base URL if it persists"
                    .to_string()
            }
            ApiError::InvalidId { .. } => {
                "use the id the server gave the task (see `seedance-tui ls`)".to_string()
            }
            ApiError::Protocol { .. } => {
                "the server (or relay) answered wrongly; report it to its operator, and check the base URL"
                    .to_string()
            }
            ApiError::Connection { .. } => {
                "check the network and the base URL (profile or --base-url)".to_string()
            }
            ApiError::NotTheApi { hint, .. } => hint.clone(),
            ApiError::Decode { .. } => {
                "the answer was cut or malformed; try again, and check the base URL if it persists"
                    .to_string()
            }
        }
    }

    /// The hint for an error answering a create: a 404 there cannot be about a task id — the
    /// base URL or the model id is wrong.
    pub(crate) fn create_hint(&self) -> String {
        match self {
            ApiError::NotFound { code, .. } => {
                let by_code = crate::api::hints::hint_for_code(code)
                    .map(|h| format!(" ({h})"))
                    .unwrap_or_default();
                format!(
                    "the base URL or the model id is wrong{by_code}: the base URL ends in /api/v3 (the relay's in /seedance/api/v3); `seedance-tui doctor` checks it"
                )
            }
            other => other.hint(),
        }
    }
}
