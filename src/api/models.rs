//! The model capability table: one place that says what each known model accepts.
//!
//! Adding a model is one entry in [`MODELS`]. Validation (client and simulator), the composer's
//! choices and the table's short model labels all read from here.

/// What one model accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelSpec {
    /// The plain model id sent on the wire.
    pub id: &'static str,
    /// A short label for narrow table columns.
    pub short: &'static str,
    /// A human description.
    pub label: &'static str,
    /// Output resolutions, the first is not necessarily the default (see `default_resolution`).
    pub resolutions: &'static [&'static str],
    pub default_resolution: &'static str,
    /// Inclusive range of `duration` seconds; `-1` (adaptive) is allowed when `adaptive_duration`.
    pub min_duration: i64,
    pub max_duration: i64,
    pub adaptive_duration: bool,
    /// `frames` accepted (1.0 models).
    pub frames: bool,
    /// first_frame / last_frame images.
    pub first_last_frame: bool,
    /// reference_image / reference_video / reference_audio items.
    pub references: bool,
    /// `generate_audio` accepted.
    pub audio_output: bool,
    /// `camera_fixed` accepted.
    pub camera_fixed: bool,
    /// `service_tier = "flex"` accepted.
    pub flex_tier: bool,
    /// `draft` accepted.
    pub draft: bool,
    /// `priority` accepted.
    pub priority: bool,
    /// Ratios accepted.
    pub ratios: &'static [&'static str],
    /// The 2.0 series (face rule, minimum billing, reference limits).
    pub series_2: bool,
}

pub const RATIOS: &[&str] = &["16:9", "4:3", "1:1", "3:4", "9:16", "21:9", "adaptive"];

/// Limits on reference assets (2.0 series).
pub const MAX_REFERENCE_IMAGES: usize = 9;
pub const MAX_REFERENCE_VIDEOS: usize = 3;
pub const MAX_REFERENCE_AUDIOS: usize = 3;
/// Size limits on inlined (`data:`) assets, in bytes.
pub const MAX_IMAGE_BYTES: u64 = 30 * 1024 * 1024;
pub const MAX_AUDIO_BYTES: u64 = 15 * 1024 * 1024;
pub const MAX_VIDEO_BYTES: u64 = 200 * 1024 * 1024;
/// The whole request body.
pub const MAX_BODY_BYTES: u64 = 64 * 1024 * 1024;
/// Recommended prompt length (characters); longer prompts are allowed but warned about.
pub const PROMPT_SOFT_LIMIT: usize = 1000;
/// `execution_expires_after` bounds, seconds.
pub const MIN_EXPIRES_AFTER: i64 = 3600;
pub const MAX_EXPIRES_AFTER: i64 = 259_200;
pub const DEFAULT_EXPIRES_AFTER: i64 = 172_800;
/// Frames per second of every output.
pub const FPS: i64 = 24;

pub const MODELS: &[ModelSpec] = &[
    ModelSpec {
        id: "doubao-seedance-2-0-260128",
        short: "2.0",
        label: "Seedance 2.0 standard",
        resolutions: &["480p", "720p", "1080p", "4k"],
        default_resolution: "720p",
        min_duration: 4,
        max_duration: 15,
        adaptive_duration: true,
        frames: false,
        first_last_frame: true,
        references: true,
        audio_output: true,
        camera_fixed: false,
        flex_tier: false,
        draft: false,
        priority: true,
        ratios: RATIOS,
        series_2: true,
    },
    ModelSpec {
        id: "doubao-seedance-2-0-fast-260128",
        short: "2.0f",
        label: "Seedance 2.0 fast",
        resolutions: &["480p", "720p"],
        default_resolution: "720p",
        min_duration: 4,
        max_duration: 15,
        adaptive_duration: true,
        frames: false,
        first_last_frame: true,
        references: true,
        audio_output: true,
        camera_fixed: false,
        flex_tier: false,
        draft: false,
        priority: true,
        ratios: RATIOS,
        series_2: true,
    },
    ModelSpec {
        id: "doubao-seedance-1-5-pro-251215",
        short: "1.5p",
        label: "Seedance 1.5 pro",
        resolutions: &["480p", "720p", "1080p"],
        default_resolution: "720p",
        min_duration: 4,
        max_duration: 12,
        adaptive_duration: true,
        frames: false,
        first_last_frame: true,
        references: false,
        audio_output: true,
        camera_fixed: true,
        flex_tier: true,
        draft: true,
        priority: false,
        ratios: RATIOS,
        series_2: false,
    },
    ModelSpec {
        id: "doubao-seedance-1-0-pro-250528",
        short: "1.0p",
        label: "Seedance 1.0 pro",
        resolutions: &["480p", "720p", "1080p"],
        default_resolution: "1080p",
        min_duration: 2,
        max_duration: 12,
        adaptive_duration: false,
        frames: true,
        first_last_frame: true,
        references: false,
        audio_output: false,
        camera_fixed: true,
        flex_tier: true,
        draft: false,
        priority: false,
        ratios: RATIOS,
        series_2: false,
    },
];

/// The default model for new drafts (the relay serves the two 2.0 models).
pub const DEFAULT_MODEL: &str = "doubao-seedance-2-0-fast-260128";

/// Look a model up by its exact id.
pub fn find(id: &str) -> Option<&'static ModelSpec> {
    MODELS.iter().find(|m| m.id == id)
}

/// A short label for a model id: the table's label for known models, else a shortened id.
pub fn short_label(id: &str) -> String {
    match find(id) {
        Some(m) => m.short.to_string(),
        None => {
            let trimmed = id.trim_start_matches("doubao-seedance-");
            trimmed.chars().take(8).collect()
        }
    }
}

/// Pixel size of an output at `resolution` and `ratio` (used to estimate tokens).
/// Unknown values fall back to 720p 16:9.
pub fn pixel_size(resolution: &str, ratio: &str) -> (u64, u64) {
    let short_side: u64 = match resolution {
        "480p" => 480,
        "720p" => 720,
        "1080p" => 1080,
        "4k" => 2160,
        _ => 720,
    };
    let (a, b): (u64, u64) = match ratio {
        "4:3" => (4, 3),
        "1:1" => (1, 1),
        "3:4" => (3, 4),
        "9:16" => (9, 16),
        "21:9" => (21, 9),
        _ => (16, 9),
    };
    if a >= b {
        (short_side * a / b, short_side)
    } else {
        (short_side, short_side * b / a)
    }
}

/// Tokens the service bills for a video: width × height × fps × seconds / 1024.
pub fn estimate_tokens(resolution: &str, ratio: &str, seconds: i64) -> u64 {
    let (w, h) = pixel_size(resolution, ratio);
    let secs = if seconds <= 0 { 5 } else { seconds as u64 };
    w * h * FPS as u64 * secs / 1024
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_match_the_documented_example() {
        // 1280x720, 5 s is about 108,000 tokens per the API doc.
        assert_eq!(estimate_tokens("720p", "16:9", 5), 108_000);
    }

    #[test]
    fn fast_model_has_no_1080p() {
        let fast = find("doubao-seedance-2-0-fast-260128").expect("fast model in table");
        assert!(!fast.resolutions.contains(&"1080p"));
        assert!(
            find("doubao-seedance-2-0-260128")
                .expect("std model")
                .resolutions
                .contains(&"1080p")
        );
    }

    #[test]
    fn unknown_model_short_label_is_shortened() {
        assert_eq!(short_label("doubao-seedance-3-0-xyz"), "3-0-xyz");
        assert_eq!(short_label("doubao-seedance-2-0-fast-260128"), "2.0f");
    }
}
