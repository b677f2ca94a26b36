//! Asset URL rules: `http(s)://` with a host, `asset://ID`, or a well-formed base64 `data:` URL
//! of the right media type and size.

use crate::api::models;
use crate::api::types::MediaKind;

/// Accepted `data:` formats by kind (lowercase, as the API wants them).
const IMAGE_FORMATS: &[&str] = &[
    "jpeg", "jpg", "png", "webp", "bmp", "tiff", "gif", "heic", "heif",
];
const AUDIO_FORMATS: &[&str] = &["wav", "wave", "x-wav", "mp3", "mpeg"];

/// How an asset URL reaches the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UrlForm {
    /// `http://` or `https://`: fetched by the server.
    Http,
    /// `asset://ID`: an uploaded asset.
    Asset,
    /// `data:<mime>;base64,...` with this many decoded bytes.
    Inline { bytes: u64 },
}

/// Checks one asset URL for `kind`; `Err((message, fix))` says what is wrong.
pub(crate) fn check_media_url(kind: MediaKind, url: &str) -> Result<UrlForm, (String, String)> {
    let how = "use https://..., asset://ID, or a data: URL (local files are inlined as base64)";
    if url.is_empty() {
        return Err(("the URL is empty".into(), how.into()));
    }
    if url.trim() != url || url.contains(char::is_whitespace) {
        return Err((
            "the URL contains spaces or line breaks".into(),
            "remove them (encode spaces as %20)".into(),
        ));
    }
    let lower_prefix: String = url.chars().take(8).collect::<String>().to_ascii_lowercase();
    if lower_prefix.starts_with("http://") || lower_prefix.starts_with("https://") {
        return if http_host(url).is_some() {
            Ok(UrlForm::Http)
        } else {
            Err((
                "the URL has no host".into(),
                "use a full URL such as https://example.com/image.png".into(),
            ))
        };
    }
    if let Some(id) = url.strip_prefix("asset://") {
        return if !id.is_empty() && !id.contains('/') {
            Ok(UrlForm::Asset)
        } else {
            Err((
                "the asset URL has no valid id".into(),
                "use asset://<asset id>".into(),
            ))
        };
    }
    if let Some(rest) = url.strip_prefix("data:") {
        return check_data_url(kind, rest).map(|bytes| UrlForm::Inline { bytes });
    }
    Err(("not a URL the API can fetch".into(), how.into()))
}

/// The host of an `http(s)://` URL, when it has one.
pub(crate) fn http_host(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit('@').next().unwrap_or("");
    let host = if host_port.starts_with('[') {
        host_port
            .split(']')
            .next()
            .map(|h| h.trim_start_matches('['))?
    } else {
        host_port.split(':').next().unwrap_or("")
    };
    (!host.is_empty()).then_some(host)
}

fn check_data_url(kind: MediaKind, rest: &str) -> Result<u64, (String, String)> {
    let bad = |m: &str, f: &str| Err((m.to_string(), f.to_string()));
    let (major, formats) = match kind {
        MediaKind::Image => ("image", IMAGE_FORMATS),
        MediaKind::Audio => ("audio", AUDIO_FORMATS),
        MediaKind::Video => {
            return bad(
                "video cannot be sent inline as base64",
                "upload the video and use an https:// or asset:// URL",
            );
        }
    };
    let example = format!("data:{major}/{};base64,<payload>", formats[0]);
    let Some((mime, payload)) = rest.split_once(";base64,") else {
        return bad("not a base64 data URL", &format!("use {example}"));
    };
    let Some((m, format)) = mime.split_once('/') else {
        return bad("the data URL has no media type", &format!("use {example}"));
    };
    if !m.eq_ignore_ascii_case(major) {
        return Err((
            format!("a {} item cannot carry {mime} data", kind.as_str()),
            format!("use {example}"),
        ));
    }
    if mime != mime.to_ascii_lowercase() {
        return Err((
            format!("the format `{mime}` must be lowercase"),
            format!("write data:{};base64,...", mime.to_ascii_lowercase()),
        ));
    }
    if !formats.contains(&format) {
        return Err((
            format!("{mime} is not a supported {major} format"),
            format!("use one of: {}", formats.join(", ")),
        ));
    }
    let len = base64_decoded_len(payload).ok_or_else(|| {
        (
            "the base64 payload is empty or not valid base64".to_string(),
            "re-encode the file as standard base64 (A-Z a-z 0-9 + / with = padding)".to_string(),
        )
    })?;
    let max = match kind {
        MediaKind::Image => models::MAX_IMAGE_BYTES,
        _ => models::MAX_AUDIO_BYTES,
    };
    if len > max {
        return Err((
            format!(
                "the inlined {} is {}, over the {} limit",
                kind.as_str(),
                mib(len),
                mib(max)
            ),
            format!(
                "use a smaller {} or upload it and pass an https:// URL",
                kind.as_str()
            ),
        ));
    }
    Ok(len)
}

/// The decoded length of standard padded base64, or `None` when it is empty or malformed.
/// Checks every character but decodes nothing (cheap on large payloads).
pub(crate) fn base64_decoded_len(payload: &str) -> Option<u64> {
    let b = payload.as_bytes();
    if b.is_empty() || !b.len().is_multiple_of(4) {
        return None;
    }
    let pad = b.iter().rev().take_while(|&&c| c == b'=').count();
    if pad > 2 {
        return None;
    }
    let body = &b[..b.len() - pad];
    if !body
        .iter()
        .all(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/')
    {
        return None;
    }
    Some((b.len() / 4 * 3 - pad) as u64)
}

pub(super) fn mib(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
}
