//! The HTTP trace (`--trace FILE`, `[debug] trace`): every exchange with the API appended to a
//! file as one JSON line, so what a real service (a relay, the official API) answers can be read,
//! attached to a bug report and replayed (`sim --replay FILE`) as a test fixture.
//!
//! Never written: the `Authorization` header. The API key is redacted wherever else it appears
//! (URL, headers, bodies). Bodies are cut at [`TRACE_BODY_BYTES`].

use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The most of each body (request and answer) a trace line holds.
pub(crate) const TRACE_BODY_BYTES: usize = 64 * 1024;

/// One HTTP exchange: one line of a trace file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exchange {
    /// When the request was sent (RFC 3339, UTC).
    pub time: String,
    pub method: String,
    /// The URL's path and query (no scheme or host).
    pub path: String,
    /// The answer's status; 0 when there was none (see `error`).
    pub status: u16,
    #[serde(default)]
    pub request_headers: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_body: Option<String>,
    #[serde(default)]
    pub response_headers: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_body: Option<String>,
    /// True when a body was longer than [`TRACE_BODY_BYTES`] (or than the client read).
    #[serde(default)]
    pub truncated: bool,
    #[serde(default)]
    pub elapsed_ms: u64,
    /// The transport error when no answer came (DNS, refused, timeout, cut).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A trace file open for appending. Shared by every clone of a client.
#[derive(Debug)]
pub struct Trace {
    path: PathBuf,
    file: Mutex<std::fs::File>,
}

impl Trace {
    /// Open (create, mode 0600) `path` for appending.
    pub fn open(path: &Path) -> std::io::Result<Trace> {
        use std::os::unix::fs::OpenOptionsExt;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)?;
        Ok(Trace {
            path: path.to_path_buf(),
            file: Mutex::new(file),
        })
    }

    /// Append one exchange with `secret` (the API key) redacted everywhere and `Authorization`
    /// dropped. A write that fails is logged, never an error of the request.
    pub(crate) fn record(&self, mut ex: Exchange, secret: Option<&str>) {
        ex.request_headers
            .retain(|(k, _)| !k.eq_ignore_ascii_case("authorization"));
        let red = |s: &mut String| {
            if let Some(key) = secret.filter(|k| k.len() >= 4)
                && s.contains(key)
            {
                *s = s.replace(key, "<redacted>");
            }
        };
        red(&mut ex.path);
        for (k, v) in ex
            .request_headers
            .iter_mut()
            .chain(ex.response_headers.iter_mut())
        {
            red(k);
            red(v);
        }
        for body in [&mut ex.request_body, &mut ex.response_body]
            .into_iter()
            .flatten()
        {
            red(body);
        }
        if let Some(e) = &mut ex.error {
            red(e);
        }
        let Ok(mut line) = serde_json::to_string(&ex) else {
            return;
        };
        line.push('\n');
        let mut file = match self.file.lock() {
            Ok(f) => f,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Err(e) = file.write_all(line.as_bytes()) {
            tracing::warn!(path = %self.path.display(), error = %e, "writing the trace failed");
        }
    }
}

/// The first [`TRACE_BODY_BYTES`] of `body` as text (invalid UTF-8 replaced) and whether it was
/// cut.
pub(crate) fn body_text(body: &[u8]) -> (String, bool) {
    let cut = body.len() > TRACE_BODY_BYTES;
    let part = &body[..body.len().min(TRACE_BODY_BYTES)];
    (String::from_utf8_lossy(part).into_owned(), cut)
}

/// The current time as RFC 3339 (UTC, milliseconds).
pub(crate) fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Read a trace file: one exchange per line; blank lines skipped; a line that is not an exchange
/// is an error naming its number.
pub fn read(path: &Path) -> Result<Vec<Exchange>, String> {
    const MAX_TRACE_BYTES: u64 = 256 * 1024 * 1024;
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if meta.len() > MAX_TRACE_BYTES {
        return Err(format!(
            "{}: larger than {} MiB",
            path.display(),
            MAX_TRACE_BYTES >> 20
        ));
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let ex: Exchange = serde_json::from_str(line)
            .map_err(|e| format!("{} line {}: not a trace line: {e}", path.display(), n + 1))?;
        out.push(ex);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A response header's value (case-insensitive name).
    fn response_header<'a>(ex: &'a Exchange, name: &str) -> Option<&'a str> {
        ex.response_headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn the_key_and_authorization_never_reach_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.jsonl");
        let trace = Trace::open(&path).unwrap();
        let key = "sk-trace-secret-1234";
        trace.record(
            Exchange {
                time: now_rfc3339(),
                method: "GET".into(),
                path: format!("/api/v3/contents/generations/tasks?k={key}"),
                status: 401,
                request_headers: vec![
                    ("Authorization".into(), format!("Bearer {key}")),
                    ("X-Echo".into(), key.into()),
                ],
                request_body: None,
                response_headers: vec![("x-request-id".into(), "02abc".into())],
                response_body: Some(format!("{{\"error\":{{\"message\":\"bad key {key}\"}}}}")),
                truncated: false,
                elapsed_ms: 3,
                error: None,
            },
            Some(key),
        );
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains(key), "{text}");
        assert!(
            !text.to_ascii_lowercase().contains("authorization"),
            "{text}"
        );
        assert_eq!(text.lines().count(), 1);
        let back = read(&path).unwrap();
        assert_eq!(back[0].status, 401);
        assert_eq!(response_header(&back[0], "X-REQUEST-ID"), Some("02abc"));
        assert!(back[0].path.contains("<redacted>"));
    }

    #[test]
    fn bodies_are_cut_at_the_cap() {
        let (text, cut) = body_text(&vec![b'a'; TRACE_BODY_BYTES + 10]);
        assert!(cut);
        assert_eq!(text.len(), TRACE_BODY_BYTES);
        let (text, cut) = body_text(b"{}");
        assert!(!cut);
        assert_eq!(text, "{}");
    }
}
