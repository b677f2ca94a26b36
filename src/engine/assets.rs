//! Local asset files turned into `data:` URLs for a create request, with the MIME type from the
//! file's extension and the API's size limits checked before anything is read into memory.

use crate::api::models::{MAX_AUDIO_BYTES, MAX_IMAGE_BYTES};
use crate::api::types::MediaKind;
use base64::Engine as _;
use std::path::Path;

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
        "{path} is {size} bytes; the API accepts {kind} files up to {limit} bytes inline (upload it somewhere and pass its https:// URL)"
    )]
    TooLarge {
        path: String,
        size: u64,
        limit: u64,
        kind: &'static str,
    },
    #[error(
        "{path}: the API takes no inline video; upload it and pass its https:// or asset:// URL"
    )]
    VideoNotInline { path: String },
}

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
