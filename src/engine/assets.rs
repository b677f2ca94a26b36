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
    #[error("{path} is not a regular file (it is {what}); give the path of the file itself")]
    NotAFile { path: String, what: &'static str },
    #[error(
        "{path} does not contain {expected} data (its first bytes are not a {expected} header); check the file and its extension"
    )]
    WrongContent {
        path: String,
        expected: &'static str,
    },
}

/// The largest request file (`submit --json FILE`) read.
pub const MAX_REQUEST_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// What a file system entry that is not a regular file is, for messages.
fn kind_of(ft: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_dir() {
        "a folder"
    } else if ft.is_fifo() {
        "a named pipe"
    } else if ft.is_char_device() {
        "a character device"
    } else if ft.is_block_device() {
        "a block device"
    } else if ft.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

/// Open `path` once, without blocking (a named pipe would wait for a writer), and make sure it
/// is a regular file (symlinks are followed: one to `/dev/zero` is a device). Returns the open
/// file and its size.
fn open_regular(path: &Path) -> Result<(std::fs::File, u64), AssetError> {
    use std::os::unix::fs::OpenOptionsExt;
    let shown = path.display().to_string();
    let read_err = |e: std::io::Error| AssetError::Read {
        path: shown.clone(),
        message: e.to_string(),
    };
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(read_err)?;
    let meta = file.metadata().map_err(read_err)?;
    if !meta.file_type().is_file() {
        return Err(AssetError::NotAFile {
            path: shown,
            what: kind_of(&meta.file_type()),
        });
    }
    Ok((file, meta.len()))
}

/// Read a regular file of at most `limit` bytes: never more than `limit + 1` bytes are read,
/// whatever the file claims or grows to. `kind` names the limit in the error.
pub fn read_regular(path: &Path, limit: u64, kind: &'static str) -> Result<Vec<u8>, AssetError> {
    use std::io::Read;
    let shown = path.display().to_string();
    let (file, size) = open_regular(path)?;
    let too_large = |size: u64| AssetError::TooLarge {
        path: shown.clone(),
        size,
        limit,
        kind,
    };
    if size > limit {
        return Err(too_large(size));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| AssetError::Read {
            path: shown.clone(),
            message: e.to_string(),
        })?;
    if bytes.len() as u64 > limit {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

/// The media type the first bytes of a file show, for the formats the API takes.
pub fn sniff(head: &[u8]) -> Option<&'static str> {
    let at = |i: usize, m: &[u8]| head.get(i..i + m.len()) == Some(m);
    if at(0, b"\x89PNG") {
        Some("image/png")
    } else if at(0, &[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if at(0, b"RIFF") && at(8, b"WEBP") {
        Some("image/webp")
    } else if at(0, b"RIFF") && at(8, b"WAVE") {
        Some("audio/wav")
    } else if at(0, b"BM") {
        Some("image/bmp")
    } else if at(0, b"II*\0") || at(0, b"MM\0*") {
        Some("image/tiff")
    } else if at(0, b"GIF87a") || at(0, b"GIF89a") {
        Some("image/gif")
    } else if at(4, b"ftyp") {
        let brand = head.get(8..12).unwrap_or_default();
        if [
            &b"heic"[..],
            b"heix",
            b"hevc",
            b"heim",
            b"heis",
            b"mif1",
            b"msf1",
        ]
        .contains(&brand)
        {
            Some("image/heic")
        } else if brand == b"qt  " {
            Some("video/quicktime")
        } else {
            Some("video/mp4")
        }
    } else if at(4, b"moov") || at(4, b"mdat") || at(4, b"wide") || at(4, b"free") {
        Some("video/quicktime")
    } else if at(0, b"ID3") || (head.len() >= 2 && head[0] == 0xFF && head[1] & 0xE0 == 0xE0) {
        Some("audio/mp3")
    } else {
        None
    }
}

/// True when content sniffed as `found` is acceptable for a file whose extension says `mime`.
fn content_matches(mime: &str, found: Option<&str>) -> bool {
    let Some(found) = found else {
        return false;
    };
    match mime {
        "image/heic" | "image/heif" => found == "image/heic",
        "video/mp4" | "video/quicktime" => found == "video/mp4" || found == "video/quicktime",
        m => m == found,
    }
}

/// The media type a local file's extension names, video included (for the content check).
fn expected_mime(path: &Path, kind: MediaKind) -> Result<&'static str, AssetError> {
    if kind != MediaKind::Video {
        return mime_for(path, kind);
    }
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match ext.as_str() {
        "mp4" | "m4v" => Ok("video/mp4"),
        "mov" => Ok("video/quicktime"),
        _ => Err(AssetError::Type {
            path: path.display().to_string(),
            ext,
            kind: kind.as_str(),
            accepted: "mp4, mov",
        }),
    }
}

/// Check `bytes` (the whole file or its start) against the type `path`'s extension names.
fn check_content(path: &Path, mime: &'static str, bytes: &[u8]) -> Result<(), AssetError> {
    if content_matches(mime, sniff(bytes)) {
        Ok(())
    } else {
        Err(AssetError::WrongContent {
            path: path.display().to_string(),
            expected: mime.split('/').nth(1).unwrap_or(mime),
        })
    }
}

/// The one check of a local asset file, shared by `submit` and the composer: a regular file,
/// a type accepted for `kind`, within the size limit, whose first bytes match its type.
/// Returns the file's size. Reads only the first bytes.
pub fn check_file(path: &Path, kind: MediaKind) -> Result<u64, AssetError> {
    use std::io::Read;
    let mime = expected_mime(path, kind)?;
    let (file, size) = open_regular(path)?;
    let limit = match kind {
        MediaKind::Image => MAX_IMAGE_BYTES,
        MediaKind::Audio => MAX_AUDIO_BYTES,
        MediaKind::Video => u64::MAX,
    };
    if size > limit {
        return Err(AssetError::TooLarge {
            path: path.display().to_string(),
            size,
            limit,
            kind: kind.as_str(),
        });
    }
    let mut head = Vec::with_capacity(16);
    file.take(16)
        .read_to_end(&mut head)
        .map_err(|e| AssetError::Read {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
    check_content(path, mime, &head)?;
    Ok(size)
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
    let limit = if kind == MediaKind::Image {
        MAX_IMAGE_BYTES
    } else {
        MAX_AUDIO_BYTES
    };
    let bytes = read_regular(path, limit, kind.as_str())?;
    check_content(path, mime, &bytes)?;
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
