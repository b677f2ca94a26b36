//! Turning an HTTP answer into a result or a classified [`ApiError`]: Ark error bodies, answers
//! that are not the API at all (HTML pages, garbage), `Retry-After`, and short sanitised snippets.
//! Pure functions, no IO.

use crate::api::error::ApiError;
use crate::api::types::ErrorBody;
use std::time::Duration;

/// Longest snippet of a body kept in an error.
const SNIPPET_CHARS: usize = 160;

/// What the client asked for, to name the likely cause of a wrong answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Create,
    Get,
    List,
    Delete,
}

/// An HTTP answer read (at most up to the size cap) from the wire.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) content_type: String,
    /// The server's `x-request-id`.
    pub(crate) request_id: Option<String>,
    pub(crate) retry_after: Option<Duration>,
    /// The `Location` of a redirect.
    pub(crate) location: Option<String>,
    /// The `Date` header as Unix seconds, when valid (the server's clock).
    pub(crate) server_date: Option<i64>,
    /// The body, or its first bytes when it was cut short because it is not the API.
    pub(crate) body: Vec<u8>,
    /// True when the body was larger than the cap and only its start was read.
    pub(crate) truncated_at_cap: bool,
}

/// True when a body (by its content type and first bytes) is certainly not API JSON.
pub fn looks_like_not_json(content_type: &str, first_bytes: &[u8]) -> bool {
    let ct = content_type.to_ascii_lowercase();
    if ct.contains("html") {
        return true;
    }
    match first_bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        None => false, // empty so far: decide on the whole body
        Some(b'{') | Some(b'[') => false,
        // Other JSON values (a string, a number) are JSON of the wrong shape when labelled so.
        Some(b) => !(ct.contains("json") && b"\"-0123456789tfn".contains(b)),
    }
}

/// A short single-line excerpt of a body: the `<title>` of an HTML page, else the text with
/// control characters and runs of whitespace squeezed; `secret` (the API key) is redacted.
pub(crate) fn snippet(body: &[u8], secret: Option<&str>) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(4096)]);
    let lower = text.to_ascii_lowercase();
    let source = match (lower.find("<title>"), lower.find("</title>")) {
        (Some(a), Some(b)) if b > a + 7 => &text[a + 7..b],
        _ => &text[..],
    };
    let mut out = String::new();
    for c in source.chars() {
        let c = if c.is_control() || c.is_whitespace() {
            ' '
        } else {
            c
        };
        if c == ' ' && (out.is_empty() || out.ends_with(' ')) {
            continue;
        }
        if out.chars().count() >= SNIPPET_CHARS {
            out.push('…');
            break;
        }
        out.push(c);
    }
    redact(out.trim_end(), secret)
}

/// `text` with every occurrence of `secret` replaced.
pub(crate) fn redact(text: &str, secret: Option<&str>) -> String {
    match secret {
        Some(s) if s.len() >= 4 && text.contains(s) => text.replace(s, "<redacted>"),
        _ => text.to_string(),
    }
}

/// `Retry-After` as seconds or an HTTP date (relative to `now_unix` seconds).
pub fn parse_retry_after(value: &str, now_unix: i64) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v).ok()?.timestamp();
    Some(Duration::from_secs(
        at.saturating_sub(now_unix).max(0) as u64
    ))
}

/// The likely reason why something other than the API answered, as advice.
pub fn not_the_api_hint(
    base_url: &str,
    endpoint: Endpoint,
    status: u16,
    location: Option<&str>,
) -> String {
    let base = base_url.trim_end_matches('/').to_ascii_lowercase();
    if (300..400).contains(&status) {
        return match location {
            Some(l) => {
                format!("the server redirects to {l}: set the base URL to the final address")
            }
            None => {
                "the server answered with a redirect: check the base URL (https, host, path)".into()
            }
        };
    }
    if base.contains("/contents/generations") || base.ends_with("/tasks") {
        return "the base URL must stop at /api/v3 (or /seedance/api/v3 for the relay), without /contents/generations/tasks".into();
    }
    if base.contains("laozhang") && !base.ends_with("/seedance/api/v3") {
        return "the LaoZhang relay needs the base URL https://api.laozhang.ai/seedance/api/v3"
            .into();
    }
    if endpoint == Endpoint::List && base.ends_with("/seedance/api/v3") {
        return "the relay answers its web page on the list endpoint: it has no task list, query tasks by id instead".into();
    }
    if !base.ends_with("/api/v3") {
        return "the base URL should end with /api/v3 (official Ark) or /seedance/api/v3 (LaoZhang relay)".into();
    }
    "something other than the Ark API answered: check the base URL and any proxy in between".into()
}

/// Classify an answer: `Ok(body)` for a 2xx with a JSON-looking (or empty, for delete) body,
/// else the error. `secret` is redacted from every message and snippet.
pub(crate) fn classify(
    answer: &Answer,
    base_url: &str,
    endpoint: Endpoint,
    secret: Option<&str>,
) -> Result<(), ApiError> {
    let status = answer.status;
    let body = &answer.body;
    let not_json = looks_like_not_json(&answer.content_type, body) || (300..400).contains(&status);
    if (200..300).contains(&status) {
        if not_json {
            return Err(not_the_api(answer, base_url, endpoint, secret));
        }
        if answer.truncated_at_cap {
            return Err(ApiError::Decode {
                status,
                message: format!(
                    "the answer is larger than {} MiB",
                    super::MAX_ANSWER_BYTES >> 20
                ),
                snippet: snippet(body, secret),
            });
        }
        return Ok(());
    }
    let parsed = serde_json::from_slice::<ErrorBody>(body)
        .ok()
        .map(|b| b.error);
    if parsed.is_none() && not_json && !matches!(status, 401 | 403 | 408 | 409 | 429 | 500..=599) {
        // A 404 or 400 page from a web server: almost always a wrong base URL.
        return Err(not_the_api(answer, base_url, endpoint, secret));
    }
    let (code, message, param) = match parsed {
        Some(e) => (
            redact(&e.code.unwrap_or_default(), secret),
            redact(&e.message.unwrap_or_default(), secret),
            e.param.filter(|p| !p.is_empty()),
        ),
        None => (String::new(), snippet(body, secret), None),
    };
    let request_id = answer.request_id.clone();
    Err(match status {
        401 | 403 => ApiError::Auth {
            status,
            code,
            message,
            request_id,
        },
        404 => ApiError::NotFound {
            code,
            message,
            request_id,
        },
        429 => ApiError::RateLimited {
            code,
            message,
            retry_after: answer.retry_after,
            request_id,
        },
        408 | 409 | 500.. => ApiError::Server {
            status,
            code,
            message,
            request_id,
        },
        _ => ApiError::BadRequest {
            status,
            code,
            message,
            param,
            request_id,
        },
    })
}

fn not_the_api(
    answer: &Answer,
    base_url: &str,
    endpoint: Endpoint,
    secret: Option<&str>,
) -> ApiError {
    let content_type = if answer.content_type.is_empty() {
        "no content type".to_string()
    } else {
        answer.content_type.chars().take(60).collect()
    };
    ApiError::NotTheApi {
        status: answer.status,
        content_type,
        hint: not_the_api_hint(
            base_url,
            endpoint,
            answer.status,
            answer.location.as_deref(),
        ),
        snippet: snippet(&answer.body, secret),
    }
}

/// A Decode error for a body that is JSON-like but not the expected shape.
pub(crate) fn decode_error(
    status: u16,
    body: &[u8],
    what: &str,
    err: &serde_json::Error,
    secret: Option<&str>,
) -> ApiError {
    let message = if body.iter().all(u8::is_ascii_whitespace) {
        format!("the {what} answer was empty")
    } else if err.is_eof() {
        format!("the {what} answer was cut short (incomplete JSON)")
    } else {
        format!("the {what} answer is not in the expected shape: {err}")
    };
    ApiError::Decode {
        status,
        message: redact(&message, secret),
        snippet: snippet(body, secret),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, ct: &str, body: &str) -> Answer {
        Answer {
            status,
            content_type: ct.into(),
            request_id: Some("02abc".into()),
            retry_after: None,
            location: None,
            server_date: None,
            body: body.as_bytes().to_vec(),
            truncated_at_cap: false,
        }
    }

    const JSON: &str = "application/json";
    const BASE: &str = "https://ark.example.com/api/v3";

    #[test]
    fn ark_error_bodies_are_classified_by_status() {
        let body = r#"{"error":{"code":"InvalidParameter","message":"bad duration","param":"duration","type":"BadRequest"}}"#;
        let e = classify(&answer(400, JSON, body), BASE, Endpoint::Create, None).unwrap_err();
        assert_eq!(e.param(), Some("duration"));
        assert_eq!(e.code(), Some("InvalidParameter"));
        for (status, want) in [
            (401, "Auth"),
            (403, "Auth"),
            (404, "NotFound"),
            (429, "RateLimited"),
            (500, "Server"),
            (503, "Server"),
            (408, "Server"),
            (409, "Server"),
            (422, "BadRequest"),
        ] {
            let e = classify(&answer(status, JSON, body), BASE, Endpoint::Get, None).unwrap_err();
            assert!(format!("{e:?}").starts_with(want), "{status}: {e:?}");
        }
    }

    #[test]
    fn html_and_garbage_are_not_the_api() {
        let html =
            "<!doctype html><html><head><title>LaoZhang API</title></head><body>hi</body></html>";
        let e = classify(
            &answer(200, "text/html", html),
            "https://api.laozhang.ai/seedance/api/v3",
            Endpoint::List,
            None,
        )
        .unwrap_err();
        match &e {
            ApiError::NotTheApi { hint, snippet, .. } => {
                assert!(hint.contains("list"), "{hint}");
                assert_eq!(snippet, "LaoZhang API");
            }
            other => panic!("{other:?}"),
        }
        let e = classify(
            &answer(404, "text/html", html),
            "https://api.laozhang.ai/api/v3",
            Endpoint::Get,
            None,
        )
        .unwrap_err();
        assert!(e.hint().contains("/seedance/api/v3"), "{}", e.hint());
        let e = classify(
            &answer(200, "", "\u{1}\u{2}garbage"),
            BASE,
            Endpoint::Get,
            None,
        )
        .unwrap_err();
        assert!(matches!(e, ApiError::NotTheApi { .. }), "{e:?}");
        let e = classify(
            &answer(404, "text/html", html),
            "https://x/api/v3/contents/generations/tasks",
            Endpoint::Get,
            None,
        )
        .unwrap_err();
        assert!(e.hint().contains("without /contents"), "{}", e.hint());
        // A proxy's HTML 502 is a server error (transient), not a wrong URL.
        let e = classify(&answer(502, "text/html", html), BASE, Endpoint::Get, None).unwrap_err();
        assert!(matches!(e, ApiError::Server { status: 502, .. }), "{e:?}");
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        assert_eq!(parse_retry_after(" 7 ", 0), Some(Duration::from_secs(7)));
        let now = chrono::DateTime::parse_from_rfc2822("Tue, 24 Nov 2026 02:30:00 GMT")
            .unwrap()
            .timestamp();
        assert_eq!(
            parse_retry_after("Tue, 24 Nov 2026 02:30:12 GMT", now),
            Some(Duration::from_secs(12))
        );
        assert_eq!(
            parse_retry_after("Tue, 24 Nov 2026 02:29:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn snippets_are_short_single_line_and_redacted() {
        let s = snippet(
            format!("line1\n\n\tKEY-123456 {}", "x".repeat(500)).as_bytes(),
            Some("KEY-123456"),
        );
        assert!(s.starts_with("line1 <redacted> x"), "{s}");
        assert!(s.chars().count() <= SNIPPET_CHARS + 12);
        assert!(!s.contains('\n'));
    }

    #[test]
    fn oversized_2xx_json_is_a_decode_error() {
        let mut a = answer(200, JSON, "{\"id\": \"");
        a.truncated_at_cap = true;
        let e = classify(&a, BASE, Endpoint::Get, None).unwrap_err();
        assert!(matches!(e, ApiError::Decode { .. }), "{e:?}");
    }
}
