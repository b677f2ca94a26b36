//! Local asset files for a create request: inlined as `data:` URLs (MIME type from the file's
//! extension, the API's size limits checked before anything is read into memory), or — for
//! videos, audios and images too large to inline, when an upload bucket is set — uploaded to the
//! user's bucket under a content-addressed name and sent as presigned links that live as long as
//! the task can.

use crate::api::models::{
    DEFAULT_EXPIRES_AFTER, MAX_AUDIO_BYTES, MAX_IMAGE_BYTES, MAX_VIDEO_BYTES,
};
use crate::api::types::MediaKind;
use crate::s3::transfer::{FileUpload, plan_file};
use crate::s3::{S3Client, S3Location};
use base64::Engine as _;
use std::path::Path;
use std::time::Duration;

/// Why a local asset cannot be used.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum AssetError {
    #[error("cannot read {path}: {message}")]
    Read { path: String, message: String },
    #[error("{path}: the file type `.{ext}` is not accepted for {kind} (use {accepted})")]
    Type {
        path: String,
        ext: String,
        kind: &'static str,
        accepted: &'static str,
    },
    #[error(
        "{path} is {size} bytes; the API accepts {kind} files up to {limit} bytes inline (pass --upload-to s3://BUCKET/PREFIX to send it through your bucket, or pass its https:// URL)"
    )]
    TooLarge {
        path: String,
        size: u64,
        limit: u64,
        kind: &'static str,
    },
    #[error(
        "{path}: the API takes no inline video; pass --upload-to s3://BUCKET/PREFIX (or set [assets] upload_to) to send it through your bucket, or pass its https:// or asset:// URL"
    )]
    VideoNotInline { path: String },
    #[error("{path}: cannot send it through the bucket: {message}")]
    Upload { path: String, message: String },
}

/// The bucket local references go through (`--upload-to`, `[assets] upload_to`).
pub struct ReferenceBucket {
    pub location: S3Location,
    /// The client, or why there is none (no credentials, a bad endpoint): reported only when a
    /// file actually needs the bucket.
    pub client: Result<S3Client, String>,
    /// How long the presigned links live.
    pub link_ttl: Duration,
}

/// Extra life of a reference link beyond the task's own (clock skew, the service's queue).
const LINK_MARGIN_SECS: u64 = 3600;

/// A reference link's life: the task's `execution_expires_after` (default 48 h) plus a margin,
/// at most 7 days (SigV4's limit).
pub fn link_ttl(execution_expires_after: Option<i64>) -> Duration {
    let task = execution_expires_after
        .filter(|s| *s > 0)
        .unwrap_or(DEFAULT_EXPIRES_AFTER) as u64;
    Duration::from_secs(task + LINK_MARGIN_SECS).min(crate::s3::MAX_PRESIGN)
}

/// A local file that goes up to the bucket before the request is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedUpload {
    pub file: FileUpload,
    /// `s3://BUCKET/KEY`.
    pub object_url: String,
}

/// The MIME type of a reference video by its extension.
fn video_mime(path: &Path) -> Result<&'static str, AssetError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match ext.as_str() {
        "mp4" => Ok("video/mp4"),
        "mov" => Ok("video/quicktime"),
        _ => Err(AssetError::Type {
            path: path.display().to_string(),
            ext,
            kind: MediaKind::Video.as_str(),
            accepted: "mp4, mov",
        }),
    }
}

/// Resolve one asset: a URL as given; a local file inlined, or — videos, audios, and images too
/// large to inline, when `bucket` is set — planned for upload (added to `uploads`) and replaced by
/// its presigned link. Nothing is uploaded here; the caller uploads `uploads` before sending.
pub fn resolve_reference(
    url_or_path: &str,
    kind: MediaKind,
    bucket: Option<&ReferenceBucket>,
    uploads: &mut Vec<PlannedUpload>,
) -> Result<String, AssetError> {
    if is_url(url_or_path) {
        return Ok(url_or_path.trim().to_string());
    }
    let path = Path::new(url_or_path.trim());
    let shown = path.display().to_string();
    let Some(bucket) = bucket else {
        return file_to_data_url(path, kind);
    };
    let (mime, limit) = match kind {
        MediaKind::Video => (video_mime(path)?, MAX_VIDEO_BYTES),
        MediaKind::Audio => (mime_for(path, kind)?, MAX_AUDIO_BYTES),
        MediaKind::Image => (mime_for(path, kind)?, MAX_IMAGE_BYTES),
    };
    let meta = std::fs::metadata(path).map_err(|e| AssetError::Read {
        path: shown.clone(),
        message: e.to_string(),
    })?;
    if kind == MediaKind::Image && meta.len() <= INLINE_IMAGE_BYTES {
        return file_to_data_url(path, kind);
    }
    if meta.len() > limit {
        return Err(AssetError::TooLarge {
            path: shown,
            size: meta.len(),
            limit,
            kind: kind.as_str(),
        });
    }
    let client = bucket.client.as_ref().map_err(|m| AssetError::Upload {
        path: shown.clone(),
        message: m.clone(),
    })?;
    let file = plan_file(path, &bucket.location.prefix, mime).map_err(|e| AssetError::Read {
        path: shown.clone(),
        message: e.to_string(),
    })?;
    let link = client
        .presign_get(&file.key, bucket.link_ttl)
        .map_err(|e| AssetError::Upload {
            path: shown,
            message: e.to_string(),
        })?;
    let object_url = bucket.location.object_url(&file.key);
    if !uploads.iter().any(|u| u.object_url == object_url) {
        uploads.push(PlannedUpload { file, object_url });
    }
    Ok(link)
}

/// With a bucket, images above this size go through it instead of inflating the request body by
/// a third as base64 (the body is capped at 64 MiB for all items together).
pub const INLINE_IMAGE_BYTES: u64 = 10 * 1024 * 1024;

/// True when `s` is already a URL the API understands (not a local path).
pub fn is_url(s: &str) -> bool {
    let lower = s.trim_start().to_ascii_lowercase();
    ["http://", "https://", "data:", "asset://"]
        .iter()
        .any(|p| lower.starts_with(p))
}

/// The MIME type of an asset file by its extension, if the API accepts it for `kind`.
pub fn mime_for(path: &Path, kind: MediaKind) -> Result<&'static str, AssetError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let found = match (kind, ext.as_str()) {
        (MediaKind::Image, "jpg" | "jpeg") => Some("image/jpeg"),
        (MediaKind::Image, "png") => Some("image/png"),
        (MediaKind::Image, "webp") => Some("image/webp"),
        (MediaKind::Image, "bmp") => Some("image/bmp"),
        (MediaKind::Image, "tif" | "tiff") => Some("image/tiff"),
        (MediaKind::Image, "gif") => Some("image/gif"),
        (MediaKind::Image, "heic") => Some("image/heic"),
        (MediaKind::Image, "heif") => Some("image/heif"),
        (MediaKind::Audio, "mp3") => Some("audio/mp3"),
        (MediaKind::Audio, "wav") => Some("audio/wav"),
        _ => None,
    };
    found.ok_or_else(|| AssetError::Type {
        path: path.display().to_string(),
        ext,
        kind: kind.as_str(),
        accepted: match kind {
            MediaKind::Image => "jpeg, png, webp, bmp, tiff, gif, heic, heif",
            MediaKind::Audio => "mp3, wav",
            MediaKind::Video => "an https:// URL",
        },
    })
}

/// Turn a local file into a `data:` URL, checking type and size first.
pub fn file_to_data_url(path: &Path, kind: MediaKind) -> Result<String, AssetError> {
    let shown = path.display().to_string();
    if kind == MediaKind::Video {
        return Err(AssetError::VideoNotInline { path: shown });
    }
    let mime = mime_for(path, kind)?;
    let meta = std::fs::metadata(path).map_err(|e| AssetError::Read {
        path: shown.clone(),
        message: e.to_string(),
    })?;
    let limit = if kind == MediaKind::Image {
        MAX_IMAGE_BYTES
    } else {
        MAX_AUDIO_BYTES
    };
    if meta.len() > limit {
        return Err(AssetError::TooLarge {
            path: shown,
            size: meta.len(),
            limit,
            kind: kind.as_str(),
        });
    }
    let bytes = std::fs::read(path).map_err(|e| AssetError::Read {
        path: shown,
        message: e.to_string(),
    })?;
    Ok(format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    ))
}

/// A URL as given, or a local file turned into a `data:` URL.
pub fn resolve(url_or_path: &str, kind: MediaKind) -> Result<String, AssetError> {
    if is_url(url_or_path) {
        Ok(url_or_path.trim().to_string())
    } else {
        file_to_data_url(Path::new(url_or_path.trim()), kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_png_becomes_a_data_url() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("a.PNG");
        std::fs::write(&p, [0x89, b'P', b'N', b'G']).expect("write");
        let url = resolve(p.to_str().expect("utf8"), MediaKind::Image).expect("resolves");
        assert_eq!(url, "data:image/png;base64,iVBORw==");
    }

    #[test]
    fn urls_pass_through_and_bad_files_say_why() {
        assert_eq!(
            resolve("https://x/y.jpg", MediaKind::Image).as_deref(),
            Ok("https://x/y.jpg")
        );
        assert!(matches!(
            resolve("/nonexistent/file.png", MediaKind::Image),
            Err(AssetError::Read { .. })
        ));
        assert!(matches!(
            resolve("clip.mp4", MediaKind::Video),
            Err(AssetError::VideoNotInline { .. })
        ));
        assert!(matches!(
            resolve("notes.txt", MediaKind::Image),
            Err(AssetError::Type { .. })
        ));
    }

    #[test]
    fn oversized_audio_is_refused_before_reading() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("big.mp3");
        let f = std::fs::File::create(&p).expect("create");
        f.set_len(MAX_AUDIO_BYTES + 1).expect("sparse file");
        assert!(matches!(
            resolve(p.to_str().expect("utf8"), MediaKind::Audio),
            Err(AssetError::TooLarge { .. })
        ));
    }
}
