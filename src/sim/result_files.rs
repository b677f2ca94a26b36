//! Result files of the simulator (`GET /sim-files/{id}/{name}`): checks the signed URL like
//! object storage does (no `Authorization`, signature, expiry), answers `Range` requests, and
//! applies download faults; large videos are generated on the fly in chunks.

use super::files;
use super::routes::status_code;
use super::{FaultKind, FaultRoute, Shared};
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

fn storage_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>{message}</Message></Error>"
    );
    (status, [(header::CONTENT_TYPE, "application/xml")], body).into_response()
}

/// Parse `bytes=START-[END]` against a file of `len` bytes. An END past the file means its last
/// byte (RFC 9110 14.1.2, as object storage answers a read of "the first N bytes" of a shorter
/// file); a START past it cannot be served.
fn parse_range(v: &str, len: u64) -> Option<(u64, u64)> {
    let spec = v.trim().strip_prefix("bytes=")?;
    let (a, b) = spec.split_once('-')?;
    let start: u64 = a.trim().parse().ok()?;
    let last = len.checked_sub(1)?;
    let end: u64 = if b.trim().is_empty() {
        last
    } else {
        b.trim().parse::<u64>().ok()?.min(last)
    };
    (start <= end).then_some((start, end))
}

pub(crate) async fn file(
    State(shared): State<Shared>,
    Path((id, name)): Path<(String, String)>,
    Query(q): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Response {
    let fault = {
        let mut s = shared.lock();
        s.count(FaultRoute::Download);
        if headers.contains_key(header::RANGE) {
            s.stats.ranged_downloads += 1;
        }
        s.take_fault(FaultRoute::Download)
    };
    if headers.contains_key(header::AUTHORIZATION) {
        return storage_error(
            StatusCode::BAD_REQUEST,
            "InvalidArgument",
            "Presigned URLs must not carry an Authorization header",
        );
    }
    let get = |k: &str| q.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
    let (Some(date), Some(expires), Some(sig)) = (
        get("X-Tos-Date"),
        get("X-Tos-Expires"),
        get("X-Tos-Signature"),
    ) else {
        return storage_error(StatusCode::FORBIDDEN, "AccessDenied", "Missing signature");
    };
    let (Ok(date_n), Ok(expires_n)) = (date.parse::<i64>(), expires.parse::<u64>()) else {
        return storage_error(StatusCode::FORBIDDEN, "AccessDenied", "Bad signature");
    };
    {
        let s = shared.lock();
        if files::sign(&id, &name, date_n, expires_n, s.secret()) != sig {
            return storage_error(
                StatusCode::FORBIDDEN,
                "SignatureDoesNotMatch",
                "The request signature does not match",
            );
        }
        if s.url_now() > date_n + expires_n as i64 {
            return storage_error(StatusCode::FORBIDDEN, "AccessDenied", "Request has expired");
        }
    }
    let data: Bytes = match name.as_str() {
        "video.mp4" => Bytes::from_static(files::SAMPLE_MP4),
        "last_frame.png" => Bytes::from(files::frame_png(&id)),
        _ => {
            return storage_error(
                StatusCode::NOT_FOUND,
                "NoSuchKey",
                "The specified key does not exist",
            );
        }
    };
    let content_type = if name.ends_with(".png") {
        "image/png"
    } else {
        "video/mp4"
    };
    match fault {
        Some(FaultKind::Status(code)) | Some(FaultKind::StatusAfterProcessing(code)) => {
            return storage_error(status_code(code), "InternalError", "Injected failure");
        }
        Some(FaultKind::Delay(d)) => tokio::time::sleep(d).await,
        _ => {}
    }
    if name == "video.mp4"
        && let Some(size) = shared.config().video_size
    {
        return generated_video(size, &headers, fault);
    }
    let len = data.len() as u64;
    let Some((status, start, end, range_header)) = requested_range(&headers, len) else {
        return unsatisfiable(len);
    };
    let slice = data.slice(start as usize..end as usize);
    let body_len = slice.len();
    let body = match fault {
        Some(FaultKind::CutAfter(n)) => {
            let keep = slice.slice(..(n as usize).min(body_len));
            let stream = futures::stream::iter(vec![
                Ok::<Bytes, std::io::Error>(keep),
                Err(std::io::Error::other("connection cut by fault injection")),
            ]);
            Body::from_stream(stream)
        }
        _ => Body::from(slice),
    };
    file_response(status, body, content_type, end - start, range_header)
}

/// The part of a `len`-byte file a request asks for: the status, `start..end`, and the
/// `Content-Range` to answer with; `None` for a range that cannot be served.
fn requested_range(
    headers: &HeaderMap,
    len: u64,
) -> Option<(StatusCode, u64, u64, Option<String>)> {
    match headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        Some(r) => {
            let (a, b) = parse_range(r, len)?;
            Some((
                StatusCode::PARTIAL_CONTENT,
                a,
                b + 1,
                Some(format!("bytes {a}-{b}/{len}")),
            ))
        }
        None => Some((StatusCode::OK, 0, len, None)),
    }
}

/// The answer to a `Range` outside a `len`-byte file.
fn unsatisfiable(len: u64) -> Response {
    (
        StatusCode::RANGE_NOT_SATISFIABLE,
        [(header::CONTENT_RANGE, format!("bytes */{len}"))],
        "",
    )
        .into_response()
}

/// A file answer with its type, length and range headers.
fn file_response(
    status: StatusCode,
    body: Body,
    content_type: &'static str,
    body_len: u64,
    range_header: Option<String>,
) -> Response {
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Ok(v) = HeaderValue::from_str(&body_len.to_string()) {
        h.insert(header::CONTENT_LENGTH, v);
    }
    if let Some(v) = range_header.and_then(|r| HeaderValue::from_str(&r).ok()) {
        h.insert(header::CONTENT_RANGE, v);
    }
    resp
}

/// A generated video of `len` bytes, streamed in chunks (with `Range` and cut faults).
fn generated_video(len: u64, headers: &HeaderMap, fault: Option<FaultKind>) -> Response {
    let Some((status, start, end, range_header)) = requested_range(headers, len) else {
        return unsatisfiable(len);
    };
    let body = match fault {
        Some(FaultKind::CutAfter(n)) => {
            let stop = (start + n).min(end);
            let cut = futures::stream::once(async {
                Err::<Bytes, std::io::Error>(std::io::Error::other(
                    "connection cut by fault injection",
                ))
            });
            Body::from_stream(futures::StreamExt::chain(
                files::video_stream(start, stop),
                cut,
            ))
        }
        _ => Body::from_stream(files::video_stream(start, end)),
    };
    file_response(status, body, "video/mp4", end - start, range_header)
}

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn a_range_past_the_end_is_served_to_the_last_byte() {
        assert_eq!(parse_range("bytes=0-1048575", 23_773), Some((0, 23_772)));
        assert_eq!(parse_range("bytes=100-", 23_773), Some((100, 23_772)));
        assert_eq!(parse_range("bytes=10-19", 23_773), Some((10, 19)));
        assert_eq!(parse_range("bytes=23773-", 23_773), None, "starts past it");
        assert_eq!(parse_range("bytes=20-10", 23_773), None);
        assert_eq!(parse_range("bytes=0-", 0), None, "an empty file");
    }
}
