//! Local asset files turned into `data:` URLs for a create request, with the MIME type from the
//! file's extension and the API's limits checked before anything is read into memory or any
//! money is spent: size, an image's sides and aspect ratio (from its header), an audio's or a
//! video's duration (wav header, mp4 `mvhd`; see [`super::media_probe`]).

use super::media_probe;
use crate::api::models::{
    MAX_AUDIO_BYTES, MAX_IMAGE_ASPECT, MAX_IMAGE_BYTES, MAX_IMAGE_SIDE, MAX_VIDEO_BYTES,
    MIN_IMAGE_ASPECT, MIN_IMAGE_SIDE, MIN_REFERENCE_SECONDS,
};
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

/// The longest reference video or audio, each and all together (the 2.0 series' limit, used for
/// local files before the model is known).
pub const MAX_REFERENCE_SECONDS: i64 = 15;

/// What a local file's header says, once it passed the checks.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MediaFacts {
    /// Image sides, when read.
    pub size: Option<(u32, u32)>,
    /// Audio or video seconds, when read.
    pub seconds: Option<f64>,
}

/// The API's limits for a local `kind` file, read from its header (cheap: no full read).
/// Formats that cannot be read cheaply pass (the service decides).
pub fn check_local_media(path: &Path, kind: MediaKind) -> Result<MediaFacts, AssetError> {
    let shown = path.display().to_string();
    let read_err = |e: std::io::Error| AssetError::Read {
        path: shown.clone(),
        message: e.to_string(),
    };
    let mut facts = MediaFacts::default();
    match kind {
        MediaKind::Image => {
            if let Some((w, h)) = media_probe::image_size(path).map_err(read_err)? {
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

/// A local reference video checked before it is uploaded anywhere: at most 50 MB, 2..15 s.
pub fn check_video_file(path: &Path) -> Result<MediaFacts, AssetError> {
    let shown = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|e| AssetError::Read {
        path: shown.clone(),
        message: e.to_string(),
    })?;
    if meta.len() > MAX_VIDEO_BYTES {
        return Err(AssetError::TooLarge {
            path: shown,
            size: meta.len(),
            limit: MAX_VIDEO_BYTES,
            kind: "video",
        });
    }
    check_local_media(path, MediaKind::Video)
}

/// The reference videos (or audios) of one request together last at most 15 s.
pub fn check_total_seconds(kind: MediaKind, seconds: &[f64]) -> Result<(), AssetError> {
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
    check_local_media(path, kind)?;
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
            check_video_file(&long),
            Err(AssetError::Duration { .. })
        ));
        let fine = dir.path().join("fine.mp4");
        std::fs::write(&fine, samples::mp4(8, 1000)).expect("write");
        assert_eq!(check_video_file(&fine).expect("ok").seconds, Some(8.0));
        let big = dir.path().join("big.mp4");
        std::fs::File::create(&big)
            .expect("create")
            .set_len(MAX_VIDEO_BYTES + 1)
            .expect("sparse");
        assert!(matches!(
            check_video_file(&big),
            Err(AssetError::TooLarge { limit, .. }) if limit == 50 * 1024 * 1024
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
