//! Downloading result files (videos, last frames) from presigned URLs: a plain GET with no
//! Authorization header, streamed to `DEST.part`, resumed with `Range` after an interruption,
//! checked against the announced size, synced, then renamed atomically to `DEST`.
//!
//! Dropping the future (cancelling) is safe: the `.part` file stays and the next call resumes it.
//! Errors never contain the signed URL's query (its signature) nor any key: only the host.

use futures::StreamExt;
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap, HeaderValue};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// Bounds on one transfer: its size, and how long and how slowly it may go without progress.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Largest file accepted; past it the transfer stops and the `.part` is removed.
    pub max_bytes: u64,
    /// No byte for this long: the transfer is cut (the `.part` is kept for a `Range` resume).
    pub stall: Duration,
    /// Fewer than `min_bytes_per_sec * slow_window` bytes in a `slow_window`: cut likewise.
    pub min_bytes_per_sec: u64,
    pub slow_window: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 4 * 1024 * 1024 * 1024,
            stall: Duration::from_secs(60),
            min_bytes_per_sec: 1024,
            slow_window: Duration::from_secs(120),
        }
    }
}

/// A finished download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadOutcome {
    /// Where the file now is (the `dest` given).
    pub(crate) path: PathBuf,
    /// Size of the file in bytes.
    pub bytes: u64,
    /// Bytes that were already in the `.part` file and kept (0 for a fresh download).
    pub(crate) resumed_from: u64,
}

/// Why a download failed. A `.part` file is kept whenever resuming it can help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DownloadError {
    /// 403 (or 410): the signed URL has expired or was refused. Fetch the task again for a fresh
    /// URL (`content.video_url` is re-signed on every query) and download that.
    #[error(
        "the download link was refused (HTTP {status}): it has probably expired; fetch the task again for a fresh link"
    )]
    LinkExpired { status: u16 },
    /// Any other non-success answer.
    #[error("the file server at {host} answered HTTP {status}")]
    Http { status: u16, host: String },
    /// The connection failed or was cut; the bytes received so far are kept in the `.part` file.
    #[error("the download from {host} was interrupted after {received} bytes: {message}")]
    Interrupted {
        host: String,
        received: u64,
        message: String,
    },
    /// No data arrived in time.
    #[error("the download from {host} timed out after {received} bytes")]
    Timeout { host: String, received: u64 },
    /// Nothing arrived for the stall window (`[download] stall_secs`).
    #[error("the download from {host} stalled: no data for {secs}s after {received} bytes")]
    Stalled {
        host: String,
        received: u64,
        secs: u64,
    },
    /// Slower than the floor over the window (`[download] min_bytes_per_sec`, `slow_window_secs`).
    #[error(
        "the download from {host} is too slow: {got} bytes in {secs}s (the floor is {floor} bytes/s) after {received} bytes"
    )]
    TooSlow {
        host: String,
        received: u64,
        got: u64,
        secs: u64,
        floor: u64,
    },
    /// The file is (or would become) larger than `[download] max_bytes`; nothing is kept.
    #[error(
        "the file from {host} is larger than the limit of {limit} bytes, so it was not saved (raise [download] max_bytes if it is really expected)"
    )]
    TooLarge { host: String, limit: u64 },
    /// The body ended at a size other than the announced one.
    #[error("the file is incomplete: got {got} of {expected} bytes")]
    SizeMismatch { expected: u64, got: u64 },
    /// The URL cannot be downloaded at all.
    #[error("cannot download this URL: {message}")]
    BadUrl { message: String },
    /// Writing the file failed (disk full, permissions, ...).
    #[error("could not write {}: {message}", path.display())]
    Io { path: PathBuf, message: String },
    /// Another download (in this or another process) is writing the same `.part` file right now.
    #[error(
        "another download is writing {} right now; try again when it has finished",
        path.display()
    )]
    Busy { path: PathBuf },
}

impl DownloadError {
    /// True when trying again (resuming the `.part` file) may succeed.
    pub(crate) fn is_retryable(&self) -> bool {
        match self {
            DownloadError::Interrupted { .. }
            | DownloadError::Timeout { .. }
            | DownloadError::Stalled { .. }
            | DownloadError::TooSlow { .. }
            | DownloadError::SizeMismatch { .. } => true,
            DownloadError::Http { status, .. } => {
                *status == 408 || *status == 429 || *status >= 500
            }
            _ => false,
        }
    }

    /// True when only a freshly signed URL can help (refetch the task).
    pub(crate) fn needs_fresh_url(&self) -> bool {
        matches!(self, DownloadError::LinkExpired { .. })
    }
}

/// The HTTP client for result files: no default headers (so never an Authorization header),
/// a connect timeout and a read (stall) timeout but no whole-transfer limit.
pub fn http_client() -> reqwest::Client {
    http_client_with(&Limits::default())
}

/// [`http_client`] for `limits`: its read timeout is only a backstop behind the stall window,
/// which [`download_with`] watches itself (so a stall is reported as one).
pub(crate) fn http_client_with(limits: &Limits) -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(15))
        .read_timeout(limits.stall.saturating_mul(2))
        .redirect(reqwest::redirect::Policy::limited(5))
        .user_agent(concat!("seedance-tui/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

/// `dest` with `.part` appended to the file name.
pub fn part_path(dest: &Path) -> PathBuf {
    let mut name = dest.file_name().unwrap_or_default().to_os_string();
    name.push(".part");
    dest.with_file_name(name)
}

/// The host of `url`, for messages (never the path or the signed query).
fn host_of(url: &str) -> String {
    reqwest::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "the file server".to_string())
}

fn io_err(path: &Path, e: std::io::Error) -> DownloadError {
    DownloadError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Parse `Content-Range: bytes START-END/TOTAL` (or `bytes */TOTAL`) into (start, total).
fn content_range(headers: &HeaderMap) -> (Option<u64>, Option<u64>) {
    let Some(v) = headers
        .get(header::CONTENT_RANGE)
        .and_then(|v| v.to_str().ok())
    else {
        return (None, None);
    };
    let rest = v.trim().strip_prefix("bytes").unwrap_or(v).trim();
    let (range, total) = rest.split_once('/').unwrap_or((rest, "*"));
    let start = range
        .split_once('-')
        .and_then(|(s, _)| s.trim().parse().ok());
    (start, total.trim().parse().ok())
}

/// What the server's answer means for the `.part` file.
enum Plan {
    /// Append the body at `offset`; the file will be `total` bytes when known.
    Write { offset: u64, total: Option<u64> },
    /// The `.part` already holds the whole file.
    Complete,
    /// The `.part` cannot be resumed: delete it and start again.
    Restart,
}

/// Download `url` to `dest`. `progress(done, total)` is called as bytes arrive (`total` when
/// known). An existing `DEST.part` is resumed. See the module docs.
pub async fn download(
    http: &reqwest::Client,
    url: &str,
    dest: &Path,
    progress: impl FnMut(u64, Option<u64>),
) -> Result<DownloadOutcome, DownloadError> {
    download_with(http, url, dest, &Limits::default(), progress).await
}

/// [`download`] within `limits`: a body past `max_bytes` stops with [`DownloadError::TooLarge`]
/// and its `.part` is removed; a stalled or too slow one is cut with the `.part` kept, so a retry
/// resumes it with `Range`.
pub async fn download_with(
    http: &reqwest::Client,
    url: &str,
    dest: &Path,
    limits: &Limits,
    mut progress: impl FnMut(u64, Option<u64>),
) -> Result<DownloadOutcome, DownloadError> {
    let parsed = reqwest::Url::parse(url).map_err(|e| DownloadError::BadUrl {
        message: e.to_string(),
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(DownloadError::BadUrl {
            message: format!("`{}` is not an http(s) URL", parsed.scheme()),
        });
    }
    let part = part_path(dest);
    if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
        // Results are private like the store: folders made for them are the owner's only.
        tokio::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .await
            .map_err(|e| io_err(dir, e))?;
    }
    let result = download_locked(http, parsed, dest, &part, limits, &mut progress).await;
    if result.is_err() {
        // Taking the lock creates the `.part`: do not leave an empty one behind (unless another
        // download holds it).
        if let Ok(_lock) = lock_part(&part).await
            && tokio::fs::metadata(&part).await.is_ok_and(|m| m.len() == 0)
        {
            let _ = remove_if_exists(&part).await;
        }
    }
    result
}

/// [`download`] after the checks: each attempt holds the `.part` file's lock.
async fn download_locked(
    http: &reqwest::Client,
    parsed: reqwest::Url,
    dest: &Path,
    part: &Path,
    limits: &Limits,
    progress: &mut impl FnMut(u64, Option<u64>),
) -> Result<DownloadOutcome, DownloadError> {
    let part = part.to_path_buf();
    let host = host_of(parsed.as_str());
    // At most one restart from zero (an unusable .part); everything else returns.
    for _ in 0..2 {
        // Held until this attempt ends: no other writer may append to the same `.part`.
        let _lock = lock_part(&part).await?;
        let have = match tokio::fs::metadata(&part).await {
            Ok(m) => m.len(),
            Err(_) => 0,
        };
        let mut req = http.get(parsed.clone()).header(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("identity"),
        );
        if have > 0 {
            req = req.header(header::RANGE, format!("bytes={have}-"));
        }
        let resp = match tokio::time::timeout(limits.stall, req.send()).await {
            Ok(sent) => sent.map_err(|e| transport_error(&e, &host, have))?,
            Err(_) => {
                return Err(DownloadError::Stalled {
                    host,
                    received: have,
                    secs: limits.stall.as_secs().max(1),
                });
            }
        };
        let status = resp.status();
        let plan = match status {
            StatusCode::PARTIAL_CONTENT => match content_range(resp.headers()) {
                (Some(start), total) if start == have => Plan::Write {
                    offset: have,
                    total: total.or(resp.content_length().map(|rest| have + rest)),
                },
                _ => Plan::Restart,
            },
            s if s.is_success() => Plan::Write {
                offset: 0,
                total: resp.content_length(),
            },
            StatusCode::RANGE_NOT_SATISFIABLE => match content_range(resp.headers()) {
                (_, Some(total)) if total == have && have > 0 => Plan::Complete,
                _ => Plan::Restart,
            },
            StatusCode::FORBIDDEN | StatusCode::GONE => {
                return Err(DownloadError::LinkExpired {
                    status: status.as_u16(),
                });
            }
            _ => {
                return Err(DownloadError::Http {
                    status: status.as_u16(),
                    host,
                });
            }
        };
        match plan {
            Plan::Restart => {
                tracing::debug!(have, "download: the .part cannot be resumed, restarting");
                remove_if_exists(&part).await?;
                continue;
            }
            Plan::Complete => {
                progress(have, Some(have));
                return finish(&part, dest, have, have).await;
            }
            Plan::Write { offset, total } => {
                if total.is_some_and(|t| t > limits.max_bytes) {
                    remove_if_exists(&part).await?;
                    return Err(DownloadError::TooLarge {
                        host,
                        limit: limits.max_bytes,
                    });
                }
                let body = Body {
                    part: &part,
                    offset,
                    total,
                    host: &host,
                    limits,
                };
                let done = match write_body(resp, &body, progress).await {
                    Err(e @ DownloadError::TooLarge { .. }) => {
                        remove_if_exists(&part).await?;
                        return Err(e);
                    }
                    other => other?,
                };
                if let Some(expected) = total
                    && done != expected
                {
                    if done > expected {
                        remove_if_exists(&part).await?;
                    }
                    return Err(DownloadError::SizeMismatch {
                        expected,
                        got: done,
                    });
                }
                return finish(&part, dest, done, offset).await;
            }
        }
    }
    Err(DownloadError::Http {
        status: StatusCode::RANGE_NOT_SATISFIABLE.as_u16(),
        host,
    })
}

/// Where and within what limits one answer's body is written.
struct Body<'a> {
    part: &'a Path,
    offset: u64,
    total: Option<u64>,
    host: &'a str,
    limits: &'a Limits,
}

/// Stream the body into `part` starting at `offset`; returns the file's size afterwards.
async fn write_body(
    resp: reqwest::Response,
    body: &Body<'_>,
    progress: &mut impl FnMut(u64, Option<u64>),
) -> Result<u64, DownloadError> {
    let Body {
        part,
        offset,
        total,
        host,
        limits,
    } = *body;
    let mut opts = tokio::fs::OpenOptions::new();
    opts.create(true).write(true);
    if offset > 0 {
        opts.append(true);
    } else {
        opts.truncate(true);
    }
    let mut file = opts.open(part).await.map_err(|e| io_err(part, e))?;
    let mut done = offset;
    progress(done, total);
    let mut stream = resp.bytes_stream();
    let mut failure = None;
    // The slow-body floor is measured over consecutive windows.
    let mut window_start = tokio::time::Instant::now();
    let mut window_bytes = 0u64;
    loop {
        let chunk = match tokio::time::timeout(limits.stall, stream.next()).await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(_) => {
                failure = Some(DownloadError::Stalled {
                    host: host.to_string(),
                    received: done,
                    secs: limits.stall.as_secs().max(1),
                });
                break;
            }
        };
        match chunk {
            Ok(bytes) => {
                let len = bytes.len() as u64;
                if done.saturating_add(len) > limits.max_bytes {
                    return Err(DownloadError::TooLarge {
                        host: host.to_string(),
                        limit: limits.max_bytes,
                    });
                }
                file.write_all(&bytes).await.map_err(|e| io_err(part, e))?;
                done += len;
                window_bytes += len;
                progress(done, total);
            }
            Err(e) => {
                failure = Some(transport_error(&e, host, done));
                break;
            }
        }
        let elapsed = window_start.elapsed();
        if elapsed >= limits.slow_window {
            let floor = limits.min_bytes_per_sec as f64 * limits.slow_window.as_secs_f64();
            if (window_bytes as f64) < floor {
                failure = Some(DownloadError::TooSlow {
                    host: host.to_string(),
                    received: done,
                    got: window_bytes,
                    secs: elapsed.as_secs().max(1),
                    floor: limits.min_bytes_per_sec,
                });
                break;
            }
            window_start = tokio::time::Instant::now();
            window_bytes = 0;
        }
    }
    // Keep what arrived, durably, so a later call resumes from it.
    file.flush().await.map_err(|e| io_err(part, e))?;
    file.sync_all().await.map_err(|e| io_err(part, e))?;
    match failure {
        Some(e) => Err(e),
        None => Ok(done),
    }
}

/// Rename the complete `.part` to `dest` (atomic on one file system) and sync the directory.
async fn finish(
    part: &Path,
    dest: &Path,
    bytes: u64,
    resumed_from: u64,
) -> Result<DownloadOutcome, DownloadError> {
    tokio::fs::rename(part, dest)
        .await
        .map_err(|e| io_err(dest, e))?;
    if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
        // Best effort: make the rename itself durable.
        if let Ok(d) = tokio::fs::File::open(dir).await {
            let _ = d.sync_all().await;
        }
    }
    Ok(DownloadOutcome {
        path: dest.to_path_buf(),
        bytes,
        resumed_from,
    })
}

/// Open (creating) `part` and take an exclusive advisory lock on it, without waiting: two
/// writers appending to one `.part` (two processes saving the same name) would mix their bytes.
/// The lock goes with the returned file (closing it releases it, also when the process dies).
async fn lock_part(part: &Path) -> Result<std::fs::File, DownloadError> {
    let file = tokio::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(part)
        .await
        .map_err(|e| io_err(part, e))?
        .into_std()
        .await;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(DownloadError::Busy {
            path: part.to_path_buf(),
        }),
        Err(std::fs::TryLockError::Error(err)) => {
            // A file system without locks (some network or FUSE mounts): download unlocked.
            tracing::debug!(error = %err, "download: cannot lock the .part file; going on without");
            Ok(file)
        }
    }
}

async fn remove_if_exists(path: &Path) -> Result<(), DownloadError> {
    match tokio::fs::remove_file(path).await {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_err(path, e)),
    }
}

/// The error of a failed request or body read from a result link: timed out, or interrupted with
/// the error's message (its link cut to the host: the query is the signature).
pub(crate) fn transport_error(e: &reqwest::Error, host: &str, received: u64) -> DownloadError {
    if e.is_timeout() {
        return DownloadError::Timeout {
            host: host.to_string(),
            received,
        };
    }
    DownloadError::Interrupted {
        host: host.to_string(),
        received,
        message: crate::sanitize::error_chain(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_path_appends_a_suffix() {
        assert_eq!(
            part_path(Path::new("/tmp/out/a.mp4")),
            PathBuf::from("/tmp/out/a.mp4.part")
        );
    }

    #[test]
    fn content_range_forms() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_RANGE,
            HeaderValue::from_static("bytes 100-199/200"),
        );
        assert_eq!(content_range(&h), (Some(100), Some(200)));
        h.insert(
            header::CONTENT_RANGE,
            HeaderValue::from_static("bytes */200"),
        );
        assert_eq!(content_range(&h), (None, Some(200)));
        h.insert(
            header::CONTENT_RANGE,
            HeaderValue::from_static("bytes 0-9/*"),
        );
        assert_eq!(content_range(&h), (Some(0), None));
        assert_eq!(content_range(&HeaderMap::new()), (None, None));
    }

    #[test]
    fn host_only_in_messages() {
        assert_eq!(
            host_of("https://tos.example.com/v.mp4?X-Tos-Signature=abc"),
            "tos.example.com"
        );
        assert_eq!(host_of("not a url"), "the file server");
    }
}
