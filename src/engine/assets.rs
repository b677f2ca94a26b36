//! Local asset files for a create request: inlined as `data:` URLs, with the MIME type from the
//! file's extension and the API's limits checked before anything is read into memory or any
//! money is spent: size, an image's sides and aspect ratio (from its header), an audio's or a
//! video's duration (wav header, mp4 `mvhd`; see [`super::media_probe`]). With an upload bucket,
//! videos, audios and images too large to inline go to the user's bucket under a
//! content-addressed name instead, and are sent as presigned links that live as long as the task
//! can.

use super::media_probe;
use crate::api::models::{
    DEFAULT_EXPIRES_AFTER, MAX_AUDIO_BYTES, MAX_IMAGE_ASPECT, MAX_IMAGE_BYTES, MAX_IMAGE_SIDE,
    MAX_VIDEO_BYTES, MIN_IMAGE_ASPECT, MIN_IMAGE_SIDE, MIN_REFERENCE_SECONDS,
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
    #[error("{path} is not a regular file (it is {what}); give the path of the file itself")]
    NotAFile { path: String, what: &'static str },
    #[error(
        "{path} does not contain {expected} data (its first bytes are not a {expected} header); check the file and its extension"
    )]
    WrongContent {
        path: String,
        expected: &'static str,
    },
    #[error(
        "{path} starts like a PNG but has no IHDR chunk (no width and height), so it is not a PNG image; check the file"
    )]
    NoPngHeader { path: String },
    #[error(
        "{path} is {width}x{height} px: {problem} (each side {MIN_IMAGE_SIDE}..{MAX_IMAGE_SIDE} px, width/height {MIN_IMAGE_ASPECT}..{MAX_IMAGE_ASPECT}); resize or crop it"
    )]
    ImageShape {
        path: String,
        width: u32,
        height: u32,
        problem: &'static str,
    },
    #[error(
        "{path} lasts {seconds:.1} s; a reference {kind} must last {MIN_REFERENCE_SECONDS}..{max} s; trim it"
    )]
    Duration {
        path: String,
        seconds: f64,
        kind: &'static str,
        max: i64,
    },
    #[error(
        "the reference {kind}s last {seconds:.1} s together; at most {max} s in total are allowed; use shorter or fewer clips"
    )]
    TotalDuration {
        seconds: f64,
        kind: &'static str,
        max: i64,
    },
}

/// The largest request file (`submit --json FILE`) read.
pub(crate) const MAX_REQUEST_FILE_BYTES: u64 = 64 * 1024 * 1024;

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
pub(crate) fn sniff(head: &[u8]) -> Option<&'static str> {
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
        MediaKind::Video => MAX_VIDEO_BYTES,
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
    check_local_media(path, kind)?;
    Ok(size)
}

/// The longest reference video or audio, each and all together (the 2.0 series' limit, used for
/// local files before the model is known).
pub(crate) const MAX_REFERENCE_SECONDS: i64 = 15;

/// What a local file's header says, once it passed the checks.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct MediaFacts {
    /// Image sides, when read.
    pub(crate) size: Option<(u32, u32)>,
    /// Audio or video seconds, when read.
    pub(crate) seconds: Option<f64>,
}

/// The API's limits for a local `kind` file, read from its header (cheap: no full read).
/// Formats that cannot be read cheaply pass (the service decides).
pub(crate) fn check_local_media(path: &Path, kind: MediaKind) -> Result<MediaFacts, AssetError> {
    // A regular file only (opened without blocking: a named pipe never stalls the check).
    drop(open_regular(path)?);
    let shown = path.display().to_string();
    let read_err = |e: std::io::Error| AssetError::Read {
        path: shown.clone(),
        message: e.to_string(),
    };
    let mut facts = MediaFacts::default();
    match kind {
        MediaKind::Image => {
            let size = media_probe::image_size(path).map_err(read_err)?;
            // A PNG's first chunk is its IHDR (its size): without it the file is not a PNG,
            // whatever its first eight bytes say. (Other formats' sizes may lie deeper.)
            if size.is_none() && mime_for(path, kind).ok() == Some("image/png") {
                let mut head = [0u8; 8];
                let signed = std::fs::File::open(path)
                    .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
                    .is_ok()
                    && head == *b"\x89PNG\r\n\x1a\n";
                return Err(if signed {
                    AssetError::NoPngHeader { path: shown }
                } else {
                    AssetError::WrongContent {
                        path: shown,
                        expected: "png",
                    }
                });
            }
            if let Some((w, h)) = size {
                facts.size = Some((w, h));
                let problem = if w < MIN_IMAGE_SIDE || h < MIN_IMAGE_SIDE {
                    Some("a side is too short")
                } else if w > MAX_IMAGE_SIDE || h > MAX_IMAGE_SIDE {
                    Some("a side is too long")
                } else {
                    let aspect = w as f64 / h as f64;
                    (!(MIN_IMAGE_ASPECT..=MAX_IMAGE_ASPECT).contains(&aspect))
                        .then_some("the aspect ratio is too extreme")
                };
                if let Some(problem) = problem {
                    return Err(AssetError::ImageShape {
                        path: shown,
                        width: w,
                        height: h,
                        problem,
                    });
                }
            }
        }
        MediaKind::Audio | MediaKind::Video => {
            let ext = path
                .extension()
                .and_then(|e| e.to_str())
                .unwrap_or("")
                .to_ascii_lowercase();
            let seconds = match ext.as_str() {
                "wav" => media_probe::wav_seconds(path).map_err(read_err)?,
                "mp4" | "mov" | "m4a" => media_probe::mp4_seconds(path).map_err(read_err)?,
                _ => None,
            };
            if let Some(s) = seconds {
                facts.seconds = Some(s);
                if !(MIN_REFERENCE_SECONDS..=MAX_REFERENCE_SECONDS as f64 + 0.05).contains(&s) {
                    return Err(AssetError::Duration {
                        path: shown,
                        seconds: s,
                        kind: kind.as_str(),
                        max: MAX_REFERENCE_SECONDS,
                    });
                }
            }
        }
    }
    Ok(facts)
}

/// The reference videos (or audios) of one request together last at most 15 s.
pub(crate) fn check_total_seconds(kind: MediaKind, seconds: &[f64]) -> Result<(), AssetError> {
    let total: f64 = seconds.iter().sum();
    if total > MAX_REFERENCE_SECONDS as f64 + 0.05 {
        return Err(AssetError::TotalDuration {
            seconds: total,
            kind: kind.as_str(),
            max: MAX_REFERENCE_SECONDS,
        });
    }
    Ok(())
}

/// True when `s` is already a URL the API understands (not a local path).
pub(crate) fn is_url(s: &str) -> bool {
    let lower = s.trim_start().to_ascii_lowercase();
    ["http://", "https://", "data:", "asset://"]
        .iter()
        .any(|p| lower.starts_with(p))
}

/// The MIME type of an asset file by its extension, if the API accepts it for `kind`.
pub(crate) fn mime_for(path: &Path, kind: MediaKind) -> Result<&'static str, AssetError> {
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
pub(crate) fn file_to_data_url(path: &Path, kind: MediaKind) -> Result<String, AssetError> {
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
    check_local_media(path, kind)?;
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

/// The bucket local references go through (`--upload-to`, `[assets] upload_to`).
pub(crate) struct ReferenceBucket {
    pub(crate) location: S3Location,
    /// The client, or why there is none (no credentials, a bad endpoint): reported only when a
    /// file actually needs the bucket.
    pub(crate) client: Result<S3Client, String>,
    /// How long the presigned links live.
    pub(crate) link_ttl: Duration,
}

/// Extra life of a reference link beyond the task's own (clock skew, the service's queue).
const LINK_MARGIN_SECS: u64 = 3600;

/// A reference link's life: the task's `execution_expires_after` (default 48 h) plus a margin,
/// at most 7 days (SigV4's limit).
pub(crate) fn link_ttl(execution_expires_after: Option<i64>) -> Duration {
    let task = execution_expires_after
        .filter(|s| *s > 0)
        .unwrap_or(DEFAULT_EXPIRES_AFTER) as u64;
    Duration::from_secs(task + LINK_MARGIN_SECS).min(crate::s3::MAX_PRESIGN)
}

/// A local file that goes up to the bucket before the request is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PlannedUpload {
    pub(crate) file: FileUpload,
    /// `s3://BUCKET/KEY`.
    pub(crate) object_url: String,
}

/// Resolve one asset: a URL as given; a local file inlined, or — videos, audios, and images too
/// large to inline, when `bucket` is set — planned for upload (added to `uploads`) and replaced by
/// its presigned link. Nothing is uploaded here; the caller uploads `uploads` before sending.
pub(crate) fn resolve_reference(
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
    if kind == MediaKind::Image
        && std::fs::metadata(path).is_ok_and(|m| m.len() <= INLINE_IMAGE_BYTES)
    {
        return file_to_data_url(path, kind);
    }
    // The same checks as an inlined file (regular file, type, size, content, duration).
    check_file(path, kind)?;
    let video_seconds = (kind == MediaKind::Video)
        .then(|| media_probe::mp4_seconds(path).ok().flatten())
        .flatten();
    let mime = expected_mime(path, kind)?;
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
    if let Some(seconds) = video_seconds {
        // The request names the link: the estimate counts the file's seconds under it.
        crate::api::models::remember_video_seconds(&link, seconds);
    }
    let object_url = bucket.location.object_url(&file.key);
    if !uploads.iter().any(|u| u.object_url == object_url) {
        uploads.push(PlannedUpload { file, object_url });
    }
    Ok(link)
}

/// With a bucket, images above this size go through it instead of inflating the request body by
/// a third as base64 (the body is capped at 64 MiB for all items together).
pub(crate) const INLINE_IMAGE_BYTES: u64 = 10 * 1024 * 1024;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_png_becomes_a_data_url() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("a.PNG");
        std::fs::write(&p, crate::engine::media_probe::samples::png(400, 300)).expect("write");
        let url = resolve(p.to_str().expect("utf8"), MediaKind::Image).expect("resolves");
        assert!(
            url.starts_with("data:image/png;base64,iVBORw0KGgo"),
            "{url}"
        );
    }

    #[test]
    fn urls_pass_through_and_bad_files_say_why() {
        assert_eq!(
            resolve("https://x/y.jpg", MediaKind::Image).as_deref(),
            Ok("https://x/y.jpg")
        );
        // Asset-library ids (the way to use an authorised face) pass through unchanged.
        assert_eq!(
            resolve("asset://asset-20260101-abc", MediaKind::Image).as_deref(),
            Ok("asset://asset-20260101-abc")
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
    fn image_sides_and_aspect_are_checked_from_the_header() {
        use crate::engine::media_probe::samples;
        let dir = tempfile::tempdir().expect("tempdir");
        let put = |name: &str, bytes: Vec<u8>| {
            let p = dir.path().join(name);
            std::fs::write(&p, bytes).expect("write");
            p
        };
        let good = put("good.png", samples::png(1280, 720));
        assert!(resolve(good.to_str().unwrap(), MediaKind::Image).is_ok());
        for (name, bytes, says) in [
            ("small.png", samples::png(299, 400), "too short"),
            ("huge.jpg", samples::jpeg(6001, 4000), "too long"),
            ("strip.png", samples::png(2600, 1000), "aspect"),
            ("tall.jpg", samples::jpeg(400, 1001), "aspect"),
        ] {
            let p = put(name, bytes);
            let err = resolve(p.to_str().unwrap(), MediaKind::Image).expect_err(name);
            assert!(
                matches!(err, AssetError::ImageShape { .. }) && err.to_string().contains(says),
                "{name}: {err}"
            );
        }
    }

    #[test]
    fn audio_and_video_durations_and_video_size_are_checked() {
        use crate::engine::media_probe::samples;
        let dir = tempfile::tempdir().expect("tempdir");
        let short = dir.path().join("short.wav");
        std::fs::write(&short, samples::wav(1)).expect("write");
        let err = resolve(short.to_str().unwrap(), MediaKind::Audio).expect_err("1 s");
        assert!(matches!(err, AssetError::Duration { .. }), "{err}");
        let ok = dir.path().join("ok.wav");
        std::fs::write(&ok, samples::wav(3)).expect("write");
        assert!(resolve(ok.to_str().unwrap(), MediaKind::Audio).is_ok());
        let long = dir.path().join("long.mp4");
        std::fs::write(&long, samples::mp4(16, 1000)).expect("write");
        assert!(matches!(
            check_file(&long, MediaKind::Video),
            Err(AssetError::Duration { .. })
        ));
        let fine = dir.path().join("fine.mp4");
        std::fs::write(&fine, samples::mp4(8, 1000)).expect("write");
        assert!(check_file(&fine, MediaKind::Video).is_ok());
        let facts = check_local_media(&fine, MediaKind::Video).expect("ok");
        assert_eq!(facts.seconds, Some(8.0));
        let big = dir.path().join("big.mp4");
        std::fs::File::create(&big)
            .expect("create")
            .set_len(MAX_VIDEO_BYTES + 1)
            .expect("sparse");
        assert!(matches!(
            check_file(&big, MediaKind::Video),
            Err(AssetError::TooLarge { limit, .. }) if limit == 200 * 1024 * 1024
        ));
        assert!(check_total_seconds(MediaKind::Audio, &[8.0, 7.0]).is_ok());
        assert!(matches!(
            check_total_seconds(MediaKind::Video, &[8.0, 8.0]),
            Err(AssetError::TotalDuration { .. })
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
