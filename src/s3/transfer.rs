//! Copies into a bucket: a result link streamed straight into an object (no local file), and a
//! local reference file uploaded once under a content-addressed name.

use super::{S3Client, S3Error};
use crate::file_download::{DownloadError, transport_error};
use bytes::Bytes;
use futures::StreamExt;
use reqwest::StatusCode;
use reqwest::header::{self, HeaderValue};
use std::path::{Path, PathBuf};

/// Why a copy from a link into the bucket failed: the download side or the storage side.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum CopyError {
    #[error("{0}")]
    Download(DownloadError),
    #[error("{0}")]
    Storage(S3Error),
}

impl CopyError {
    pub(crate) fn is_retryable(&self) -> bool {
        match self {
            CopyError::Download(e) => e.is_retryable(),
            CopyError::Storage(e) => e.is_retryable(),
        }
    }

    /// True when only a freshly signed result link can help.
    pub(crate) fn needs_fresh_url(&self) -> bool {
        matches!(self, CopyError::Download(e) if e.needs_fresh_url())
    }
}

/// The marker of a body cut at the size cap.
const TOO_LARGE: &str = "larger than the size limit";

fn host_of(url: &reqwest::Url) -> String {
    url.host_str().unwrap_or("the file server").to_string()
}

/// Stream the file at `url` (a presigned result link: plain GET, no Authorization) into `key`.
/// `progress(done, total)` follows the bytes; a body larger than `max_bytes` stops the copy
/// (`TooLarge`, nothing stored). Returns the object's size (checked against the link's announced
/// size and against the stored object).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn copy_url(
    http: &reqwest::Client,
    max_bytes: u64,
    url: &str,
    client: &S3Client,
    key: &str,
    content_type: &str,
    metadata: &[(&str, &str)],
    progress: &mut (dyn FnMut(u64, Option<u64>) + Send),
) -> Result<u64, CopyError> {
    let parsed = reqwest::Url::parse(url).map_err(|e| {
        CopyError::Download(DownloadError::BadUrl {
            message: e.to_string(),
        })
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(CopyError::Download(DownloadError::BadUrl {
            message: format!("`{}` is not an http(s) URL", parsed.scheme()),
        }));
    }
    let host = host_of(&parsed);
    let resp = http
        .get(parsed)
        .header(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("identity"),
        )
        .send()
        .await
        .map_err(|e| CopyError::Download(transport_error(&e, &host, 0)))?;
    let status = resp.status();
    if status == StatusCode::FORBIDDEN || status == StatusCode::GONE {
        return Err(CopyError::Download(DownloadError::LinkExpired {
            status: status.as_u16(),
        }));
    }
    if !status.is_success() {
        return Err(CopyError::Download(DownloadError::Http {
            status: status.as_u16(),
            host,
        }));
    }
    let total = resp.content_length();
    if total.is_some_and(|t| t > max_bytes) {
        return Err(CopyError::Download(DownloadError::TooLarge {
            host,
            limit: max_bytes,
        }));
    }
    progress(0, total);
    let mut received = 0u64;
    let source_host = host.clone();
    let body = resp.bytes_stream().map(move |chunk| match chunk {
        Ok(b) => {
            received += b.len() as u64;
            if received > max_bytes {
                return Err(S3Error::Source {
                    received,
                    message: TOO_LARGE.to_string(),
                });
            }
            Ok(b)
        }
        Err(e) => Err(S3Error::Source {
            received,
            message: match transport_error(&e, &source_host, received) {
                DownloadError::Interrupted { message, .. } => message,
                other => other.to_string(),
            },
        }),
    });
    let mut sent_progress = |sent: u64| progress(sent, total);
    client
        .put_stream(key, body, total, content_type, metadata, &mut sent_progress)
        .await
        .map_err(|e| match e {
            S3Error::Source { message, .. } if message == TOO_LARGE => {
                CopyError::Download(DownloadError::TooLarge {
                    host,
                    limit: max_bytes,
                })
            }
            S3Error::Source { received, message } => {
                CopyError::Download(DownloadError::Interrupted {
                    host,
                    received,
                    message,
                })
            }
            other => CopyError::Storage(other),
        })
}

/// A local file to upload under its content address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileUpload {
    pub(crate) path: PathBuf,
    /// The object key: `PREFIX` + the file's SHA-256 + its extension.
    pub(crate) key: String,
    pub(crate) size: u64,
    pub(crate) content_type: String,
}

/// Hash `path` (streaming, constant memory) and name its object under `prefix`.
pub(crate) fn plan_file(
    path: &Path,
    prefix: &str,
    content_type: &str,
) -> std::io::Result<FileUpload> {
    use sha2::Digest;
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0u8; 256 << 10];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        hasher.update(&buf[..n]);
    }
    let digest = hasher.finalize();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .filter(|e| e.chars().all(|c| c.is_ascii_alphanumeric()) && e.len() <= 8)
        .map(|e| format!(".{}", e.to_ascii_lowercase()))
        .unwrap_or_default();
    Ok(FileUpload {
        path: path.to_path_buf(),
        key: format!("{prefix}{hex}{ext}"),
        size,
        content_type: content_type.to_string(),
    })
}

/// Upload `file` unless an object of its size is already under its content address (the same
/// file is uploaded once). Returns true when it was uploaded now.
pub(crate) async fn upload_file(client: &S3Client, file: &FileUpload) -> Result<bool, S3Error> {
    if let Some(info) = client.head(&file.key).await?
        && info.size == file.size
    {
        return Ok(false);
    }
    let handle = tokio::fs::File::open(&file.path)
        .await
        .map_err(|e| S3Error::Source {
            received: 0,
            message: format!("cannot open {}: {e}", file.path.display()),
        })?;
    let stream = futures::stream::unfold((handle, 0u64), |(mut f, read)| async move {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0u8; 256 << 10];
        match f.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(Bytes::from(buf)), (f, read + n as u64)))
            }
            Err(e) => Some((
                Err(S3Error::Source {
                    received: read,
                    message: e.to_string(),
                }),
                (f, read),
            )),
        }
    });
    // Stop after the first error instead of reading on.
    let stream = stream.scan(false, |failed, item| {
        let out = if *failed { None } else { Some(item) };
        if matches!(out, Some(Err(_))) {
            *failed = true;
        }
        futures::future::ready(out)
    });
    client
        .put_stream(
            &file.key,
            stream,
            Some(file.size),
            &file.content_type,
            &[("purpose", "reference")],
            &mut |_| {},
        )
        .await?;
    Ok(true)
}
