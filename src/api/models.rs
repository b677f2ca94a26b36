//! The model capability table: one place that says what each known model accepts, how large its
//! outputs are and how its tokens are counted.
//!
//! The table is data (`models.toml`, embedded in the binary), extended or overridden by the
//! config's `[models."ID"]` tables, so a new model needs no release. Validation (client and
//! simulator), the composer's choices, token estimates and the table's short model labels all read
//! from here. An id in no table gets only the model-independent checks (see `api::validate`).

use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::{LazyLock, RwLock};

/// What one model accepts.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelSpec {
    /// The plain model id sent on the wire.
    pub id: String,
    /// A short label for narrow table columns.
    pub(crate) short: String,
    /// A human description.
    pub(crate) label: String,
    /// Output resolutions; empty means "not checked".
    pub(crate) resolutions: Vec<String>,
    pub(crate) default_resolution: String,
    /// Inclusive range of `duration` seconds (`None`: not checked); `-1` (the model picks) is
    /// allowed when `adaptive_duration`.
    pub(crate) min_duration: Option<i64>,
    pub(crate) max_duration: Option<i64>,
    pub(crate) adaptive_duration: bool,
    /// `frames` accepted (1.0 models).
    pub(crate) frames: bool,
    /// first_frame / last_frame images.
    pub(crate) first_last_frame: bool,
    /// reference_image / reference_video / reference_audio items.
    pub(crate) references: bool,
    /// Most reference images / videos / audios (`None`: not checked).
    pub(crate) max_reference_images: Option<usize>,
    pub(crate) max_reference_videos: Option<usize>,
    pub(crate) max_reference_audios: Option<usize>,
    /// Audio may be the only reference (2.0: no, there must be an image or a video).
    pub(crate) audio_only_references: bool,
    /// Longest reference video (and audio) in seconds, each and in total (`None`: not checked).
    pub(crate) reference_seconds_max: Option<i64>,
    /// `generate_audio` accepted.
    pub(crate) audio_output: bool,
    /// `camera_fixed` accepted.
    pub(crate) camera_fixed: bool,
    /// `service_tier = "flex"` accepted.
    pub(crate) flex_tier: bool,
    /// `draft` accepted.
    pub(crate) draft: bool,
    /// `priority` accepted.
    pub(crate) priority: bool,
    /// `tools` (web search) accepted.
    pub(crate) tools: bool,
    /// heic/heif images accepted.
    pub(crate) heic_images: bool,
    /// Real human faces in references are refused (the privacy rule of the 2.x series).
    pub(crate) rejects_real_faces: bool,
    /// The relay serves this model.
    pub(crate) relay: bool,
    /// Ratios accepted.
    pub(crate) ratios: Vec<String>,
    /// The name of the output size table (`[sizes.NAME]`).
    pub(crate) sizes: String,
    /// Reference-video input seconds are billed like output seconds.
    pub(crate) bills_input_video: bool,
    /// With a reference video, the bill is at least the output's own tokens times this (0: none).
    pub(crate) video_input_min_factor: f64,
}

pub(crate) const RATIOS: &[&str] = &["16:9", "4:3", "1:1", "3:4", "9:16", "21:9", "adaptive"];

/// Size limits on assets, in bytes.
pub(crate) const MAX_IMAGE_BYTES: u64 = 30 * 1024 * 1024;
pub(crate) const MAX_AUDIO_BYTES: u64 = 15 * 1024 * 1024;
/// One reference video (the current official create page: at most 200 MB).
pub(crate) const MAX_VIDEO_BYTES: u64 = 200 * 1024 * 1024;
/// The whole request body.
pub(crate) const MAX_BODY_BYTES: u64 = 64 * 1024 * 1024;
/// Image sides in pixels, and width / height.
pub(crate) const MIN_IMAGE_SIDE: u32 = 300;
pub(crate) const MAX_IMAGE_SIDE: u32 = 6000;
pub(crate) const MIN_IMAGE_ASPECT: f64 = 0.4;
pub(crate) const MAX_IMAGE_ASPECT: f64 = 2.5;
/// Each reference video or audio lasts at least this many seconds.
pub(crate) const MIN_REFERENCE_SECONDS: f64 = 2.0;
/// Recommended prompt length (characters); longer prompts are allowed but warned about.
pub(crate) const PROMPT_SOFT_LIMIT: usize = 1000;
/// `execution_expires_after` bounds, seconds.
pub(crate) const MIN_EXPIRES_AFTER: i64 = 3600;
pub(crate) const MAX_EXPIRES_AFTER: i64 = 259_200;
pub(crate) const DEFAULT_EXPIRES_AFTER: i64 = 172_800;
/// `duration` when a request sends none.
pub(crate) const DEFAULT_DURATION: i64 = 5;
/// `seed` bounds: -1 (random) to 2^32 - 1.
pub(crate) const MIN_SEED: i64 = -1;
pub(crate) const MAX_SEED: i64 = 2_147_483_647;
/// `priority` bounds.
pub(crate) const MAX_PRIORITY: i64 = 9;
/// `safety_identifier`: at most this many ASCII characters.
pub(crate) const MAX_SAFETY_IDENTIFIER: usize = 64;
/// Frames per second of every output.
pub(crate) const FPS: i64 = 24;

/// One `[models."ID"]` table: every field optional, laid over `like` (or the existing entry).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct ModelOverride {
    /// Start from this model's values (a shipped or configured id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) like: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) short: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) resolutions: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) default_resolution: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) min_duration: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) max_duration: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) adaptive_duration: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) frames: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) first_last_frame: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) references: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) max_reference_images: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) max_reference_videos: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) max_reference_audios: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) audio_only_references: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) reference_seconds_max: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) audio_output: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) camera_fixed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) flex_tier: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) draft: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) priority: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tools: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) heic_images: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) rejects_real_faces: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) relay: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) ratios: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) sizes: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) bills_input_video: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) video_input_min_factor: Option<f64>,
}

impl ModelSpec {
    /// The most permissive entry: every parameter taken, no range or count checked. The base of
    /// a `[models."ID"]` table without `like`.
    pub(crate) fn permissive(id: &str) -> ModelSpec {
        ModelSpec {
            id: id.to_string(),
            short: shorten(id),
            label: id.to_string(),
            resolutions: Vec::new(),
            default_resolution: "720p".to_string(),
            min_duration: None,
            max_duration: None,
            adaptive_duration: true,
            frames: true,
            first_last_frame: true,
            references: true,
            max_reference_images: None,
            max_reference_videos: None,
            max_reference_audios: None,
            audio_only_references: true,
            reference_seconds_max: None,
            audio_output: true,
            camera_fixed: true,
            flex_tier: true,
            draft: true,
            priority: true,
            tools: true,
            heic_images: true,
            rejects_real_faces: false,
            relay: true,
            ratios: RATIOS.iter().map(|r| r.to_string()).collect(),
            sizes: "v2".to_string(),
            bills_input_video: false,
            video_input_min_factor: 0.0,
        }
    }

    /// `self` with the fields `o` sets replaced.
    fn overlaid(mut self, id: &str, o: &ModelOverride) -> ModelSpec {
        self.id = id.to_string();
        macro_rules! set {
            ($($f:ident),*) => { $( if let Some(v) = &o.$f { self.$f = v.clone(); } )* };
        }
        macro_rules! set_opt {
            ($($f:ident),*) => { $( if let Some(v) = &o.$f { self.$f = Some(v.clone()); } )* };
        }
        set!(
            short,
            label,
            resolutions,
            default_resolution,
            adaptive_duration,
            frames,
            first_last_frame,
            references,
            audio_only_references,
            audio_output,
            camera_fixed,
            flex_tier,
            draft,
            priority,
            tools,
            heic_images,
            rejects_real_faces,
            relay,
            ratios,
            sizes,
            bills_input_video,
            video_input_min_factor
        );
        set_opt!(
            min_duration,
            max_duration,
            max_reference_images,
            max_reference_videos,
            max_reference_audios,
            reference_seconds_max
        );
        if o.like.is_some() && o.short.is_none() && o.label.is_none() {
            // A copy of another model keeps its capabilities, not its name.
            self.short = shorten(id);
            self.label = id.to_string();
        }
        self
    }
}

fn shorten(id: &str) -> String {
    id.trim_start_matches("doubao-seedance-")
        .chars()
        .take(8)
        .collect()
}

/// Sizes per resolution, per ratio.
type SizeTable = BTreeMap<String, BTreeMap<String, [u64; 2]>>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TableFile {
    #[serde(default = "typical_secs")]
    typical_secs: [f64; 2],
    sizes: BTreeMap<String, SizeTable>,
    models: BTreeMap<String, ModelOverride>,
}

/// The whole table: models, output sizes and the default model.
#[derive(Debug, Clone)]
pub struct ModelTable {
    models: Vec<ModelSpec>,
    sizes: BTreeMap<String, SizeTable>,
    typical_secs: [f64; 2],
}

/// Seconds from create to finish a task typically takes when the table says nothing.
fn typical_secs() -> [f64; 2] {
    [60.0, 300.0]
}

/// The shipped table's source.
pub(crate) const SHIPPED_TOML: &str = include_str!("models.toml");

impl ModelTable {
    /// The table shipped with the binary.
    pub fn shipped() -> ModelTable {
        // The embedded file is checked by a unit test; a broken build of it cannot ship.
        ModelTable::parse(SHIPPED_TOML).unwrap_or_else(|e| {
            tracing::error!("the embedded model table is broken: {e}");
            ModelTable {
                models: Vec::new(),
                sizes: BTreeMap::new(),
                typical_secs: typical_secs(),
            }
        })
    }

    /// Parse a table file (the format of `models.toml`).
    pub(crate) fn parse(text: &str) -> Result<ModelTable, String> {
        let file: TableFile = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut table = ModelTable {
            models: Vec::new(),
            sizes: file.sizes,
            typical_secs: file.typical_secs,
        };
        table.apply(&file.models)?;
        Ok(table)
    }

    /// Lay `overrides` (the config's `[models."ID"]` tables) over this table: a known id is
    /// changed field by field, a new one is added (from `like`, else permissive).
    pub(crate) fn apply(
        &mut self,
        overrides: &BTreeMap<String, ModelOverride>,
    ) -> Result<(), String> {
        // Entries with `like` go after the ones they copy, whatever their order in the file.
        let mut pending: Vec<(&String, &ModelOverride)> = overrides.iter().collect();
        while !pending.is_empty() {
            let before = pending.len();
            let mut waiting = Vec::new();
            for (id, o) in pending {
                let base = match (self.find(id), &o.like) {
                    (_, Some(like)) if like != id => match self.find(like) {
                        Some(b) => b.clone(),
                        None if overrides.contains_key(like) => {
                            waiting.push((id, o));
                            continue;
                        }
                        None => {
                            return Err(format!(
                                "[models.\"{id}\"] like = \"{like}\": no model with that id"
                            ));
                        }
                    },
                    (Some(existing), _) => existing.clone(),
                    (None, _) => ModelSpec::permissive(id),
                };
                let spec = base.overlaid(id, o);
                if !self.sizes.contains_key(&spec.sizes) {
                    return Err(format!(
                        "[models.\"{id}\"] sizes = \"{}\": no size table with that name (known: {})",
                        spec.sizes,
                        self.sizes.keys().cloned().collect::<Vec<_>>().join(", ")
                    ));
                }
                if let (Some(a), Some(b)) = (spec.min_duration, spec.max_duration)
                    && a > b
                {
                    return Err(format!(
                        "[models.\"{id}\"] min_duration {a} is above max_duration {b}"
                    ));
                }
                match self.models.iter_mut().find(|m| m.id == *id) {
                    Some(slot) => *slot = spec,
                    None => self.models.push(spec),
                }
            }
            if waiting.len() == before {
                let ids: Vec<&str> = waiting.iter().map(|(id, _)| id.as_str()).collect();
                return Err(format!(
                    "[models] `like` goes round in a circle: {}",
                    ids.join(", ")
                ));
            }
            pending = waiting;
        }
        Ok(())
    }

    /// Look a model up by its exact id.
    pub(crate) fn find(&self, id: &str) -> Option<&ModelSpec> {
        self.models.iter().find(|m| m.id == id)
    }

    /// Every model, in table order.
    pub fn iter(&self) -> impl Iterator<Item = &ModelSpec> {
        self.models.iter()
    }

    /// The range of seconds from create to finish a task typically takes (queue and run): what
    /// the poller expects before its store has history.
    pub(crate) fn typical_secs(&self) -> (f64, f64) {
        let [lo, hi] = self.typical_secs;
        (lo.max(0.0), hi.max(lo).max(0.0))
    }

    /// `[width, height]` from size table `sizes` at `resolution` and `ratio`. `adaptive` (or a
    /// ratio not in the table) takes the largest area of the resolution; an unknown resolution
    /// falls back to 720p.
    pub(crate) fn pixel_size(&self, sizes: &str, resolution: &str, ratio: &str) -> (u64, u64) {
        let Some(table) = self.sizes.get(sizes).or_else(|| self.sizes.get("v2")) else {
            return (1280, 720);
        };
        let Some(by_ratio) = table.get(resolution).or_else(|| table.get("720p")) else {
            return (1280, 720);
        };
        if let Some([w, h]) = by_ratio.get(ratio) {
            return (*w, *h);
        }
        by_ratio
            .values()
            .max_by_key(|[w, h]| w * h)
            .map(|[w, h]| (*w, *h))
            .unwrap_or((1280, 720))
    }
}

/// The table in use: the shipped one until the config installs its overrides.
static SHIPPED: LazyLock<ModelTable> = LazyLock::new(ModelTable::shipped);
static INSTALLED: RwLock<Option<&'static ModelTable>> = RwLock::new(None);

/// The table in use by this process.
pub(crate) fn table() -> &'static ModelTable {
    match INSTALLED.read() {
        Ok(guard) => guard.unwrap_or(&SHIPPED),
        Err(_) => &SHIPPED,
    }
}

/// Make `t` the table of this process (called once, after the config is read). The previous
/// table is kept alive (it is tiny and installs happen once per run), so references handed out
/// stay valid.
pub(crate) fn install(t: ModelTable) {
    let leaked: &'static ModelTable = Box::leak(Box::new(t));
    if let Ok(mut guard) = INSTALLED.write() {
        *guard = Some(leaked);
    }
}

/// The shipped table with the config's overrides, or what is wrong with them.
pub(crate) fn with_overrides(
    overrides: &BTreeMap<String, ModelOverride>,
) -> Result<ModelTable, String> {
    let mut t = ModelTable::shipped();
    t.apply(overrides)?;
    Ok(t)
}

/// The shipped default model (for config defaults).
pub(crate) const DEFAULT_MODEL: &str = "doubao-seedance-2-0-fast-260128";

/// Look a model up by its exact id in the table in use.
pub(crate) fn find(id: &str) -> Option<&'static ModelSpec> {
    table().find(id)
}

/// A short label for a model id: the table's label for known models, else a shortened id.
pub(crate) fn short_label(id: &str) -> String {
    match find(id) {
        Some(m) => m.short.clone(),
        None => shorten(id),
    }
}

/// What a task's token count depends on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TokenInput<'a> {
    pub model: &'a str,
    pub resolution: &'a str,
    pub ratio: &'a str,
    /// Output seconds.
    pub seconds: i64,
    /// Seconds of reference video in the input, when known.
    pub input_video_seconds: f64,
    /// The request has at least one reference video (the minimum charge applies).
    pub has_input_video: bool,
}

/// Tokens the service bills for a video, by the official formula: width × height × frames / 1024
/// with the official output size, where an output of `s` seconds has `24·s + 1` frames (5 s at
/// 720p 16:9 is 108,900, as the service reports). Reference-video seconds are added where the model
/// bills them, and a request with a reference video is billed at least the model's minimum.
pub(crate) fn estimate_tokens_with(table: &ModelTable, t: &TokenInput<'_>) -> u64 {
    let spec = table.find(t.model);
    let sizes = spec.map_or("v2", |s| s.sizes.as_str());
    let (w, h) = table.pixel_size(sizes, t.resolution, t.ratio);
    let secs = if t.seconds > 0 {
        t.seconds
    } else {
        // -1: the model picks; count the longest it may pick (an upper bound).
        spec.and_then(|s| s.max_duration)
            .unwrap_or(DEFAULT_DURATION)
    } as u64;
    let output = w * h * (FPS as u64 * secs + 1) / 1024;
    let Some(spec) = spec else {
        return output;
    };
    let input = if spec.bills_input_video && t.input_video_seconds > 0.0 {
        (w * h) as f64 * FPS as f64 * t.input_video_seconds / 1024.0
    } else {
        0.0
    };
    let billed = output + input.round() as u64;
    if t.has_input_video && spec.video_input_min_factor > 0.0 {
        billed.max((output as f64 * spec.video_input_min_factor).round() as u64)
    } else {
        billed
    }
}

/// [`estimate_tokens_with`] on the table in use.
pub fn estimate_tokens(t: &TokenInput<'_>) -> u64 {
    estimate_tokens_with(table(), t)
}

/// The most reference-video durations remembered by one process (a batch sends a few distinct
/// videos; past this the memory starts over rather than grow).
const MAX_KNOWN_VIDEOS: usize = 4096;

static VIDEO_SECONDS: std::sync::LazyLock<
    std::sync::Mutex<std::collections::HashMap<String, f64>>,
> = std::sync::LazyLock::new(Default::default);

/// Remember that the reference video at `url` (as it appears in a request) lasts `seconds`: read
/// from a local file's header or a remote file's first bytes by the layers that do IO, so every
/// estimate of a request naming it ([`estimate_request_tokens`]) counts its seconds.
pub(crate) fn remember_video_seconds(url: &str, seconds: f64) {
    if !(seconds.is_finite() && seconds > 0.0) {
        return;
    }
    let mut known = VIDEO_SECONDS.lock().unwrap_or_else(|e| e.into_inner());
    if known.len() >= MAX_KNOWN_VIDEOS && !known.contains_key(url) {
        known.clear();
    }
    known.insert(url.to_string(), seconds);
}

/// The remembered seconds of the reference video at `url`.
pub(crate) fn known_video_seconds(url: &str) -> Option<f64> {
    VIDEO_SECONDS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(url)
        .copied()
}

/// The reference videos of a request: the sum of the known seconds, and the URLs whose seconds
/// are not known (the estimate excludes those).
pub(crate) fn input_videos(req: &crate::api::types::CreateRequest) -> (f64, Vec<&str>) {
    let mut seconds = 0.0;
    let mut unknown = Vec::new();
    for c in &req.content {
        if let Some((crate::api::types::MediaKind::Video, url, _)) = c.as_media() {
            match known_video_seconds(url) {
                Some(s) => seconds += s,
                None => unknown.push(url),
            }
        }
    }
    (seconds, unknown)
}

/// The resolution a request is made at: its own, else the model's default (else 720p).
pub(crate) fn request_resolution(model: &str, resolution: Option<&str>) -> String {
    resolution
        .map(str::to_string)
        .or_else(|| find(model).map(|s| s.default_resolution.clone()))
        .unwrap_or_else(|| "720p".to_string())
}

/// The estimated tokens of a create request as it would be sent: the model's defaults fill what
/// it leaves out (resolution, ratio `adaptive`, 5 s); the seconds of its reference videos count
/// where they are known ([`remember_video_seconds`]), else only the model's minimum does.
pub fn estimate_request_tokens(req: &crate::api::types::CreateRequest) -> u64 {
    let input_video_seconds = input_videos(req).0;
    let resolution = request_resolution(&req.model, req.resolution.as_deref());
    let seconds = match (req.frames, req.duration) {
        (Some(f), _) if f > 0 => (f as f64 / FPS as f64).ceil() as i64,
        (_, Some(d)) => d,
        _ => DEFAULT_DURATION,
    };
    let has_input_video = req.has_input_video();
    estimate_tokens(&TokenInput {
        model: &req.model,
        resolution: &resolution,
        ratio: req.ratio.as_deref().unwrap_or("adaptive"),
        seconds,
        input_video_seconds,
        has_input_video,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(model: &str, res: &str, ratio: &str, secs: i64) -> u64 {
        estimate_tokens_with(
            &ModelTable::shipped(),
            &TokenInput {
                model,
                resolution: res,
                ratio,
                seconds: secs,
                input_video_seconds: 0.0,
                has_input_video: false,
            },
        )
    }

    #[test]
    fn the_shipped_table_parses_and_has_the_mini_model() {
        let t = ModelTable::parse(SHIPPED_TOML).expect("embedded table parses");
        let mini = t.find("doubao-seedance-2-0-mini-260615").expect("mini");
        assert_eq!(mini.resolutions, ["480p", "720p"]);
        assert_eq!((mini.min_duration, mini.max_duration), (Some(4), Some(15)));
        assert!(mini.rejects_real_faces && !mini.audio_only_references);
        assert!(
            t.find(DEFAULT_MODEL).is_some(),
            "the default model is in the table"
        );
    }

    #[test]
    fn tokens_match_what_the_service_reports() {
        // 720p 16:9, 5 s: the service reports 108,900 (121 frames of 1280x720 / 1024).
        let m = "doubao-seedance-2-0-260128";
        assert_eq!(tokens(m, "720p", "16:9", 5), 108_900);
        // 1080p 16:9, 5 s: 245,025 (as published for the relay).
        assert_eq!(tokens(m, "1080p", "16:9", 5), 245_025);
        // 2.0 keeps the area per resolution: 1:1 is 960x960, not 720x720.
        assert_eq!(tokens(m, "720p", "1:1", 5), 960 * 960 * 121 / 1024);
        assert_eq!(tokens(m, "480p", "16:9", 5), 864 * 496 * 121 / 1024);
        // 1.0 has its own table.
        assert_eq!(
            tokens("doubao-seedance-1-0-pro-250528", "720p", "16:9", 5),
            1248 * 704 * 121 / 1024
        );
    }

    #[test]
    fn reference_video_seconds_and_the_minimum_are_billed() {
        let t = ModelTable::shipped();
        let base = TokenInput {
            model: "doubao-seedance-2-0-260128",
            resolution: "720p",
            ratio: "16:9",
            seconds: 5,
            input_video_seconds: 10.0,
            has_input_video: true,
        };
        let with_video = estimate_tokens_with(&t, &base);
        assert_eq!(with_video, 108_900 + 1280 * 720 * 24 * 10 / 1024);
        let short_input = estimate_tokens_with(
            &t,
            &TokenInput {
                input_video_seconds: 1.0,
                ..base
            },
        );
        assert_eq!(short_input, (108_900.0_f64 * 1.643).round() as u64);
    }

    #[test]
    fn config_overrides_change_and_add_models() {
        let mut t = ModelTable::shipped();
        let overrides: BTreeMap<String, ModelOverride> = toml::from_str(
            "[\"doubao-seedance-2-5-260628\"]\nlike = \"doubao-seedance-2-0-260128\"\nmax_duration = 30\naudio_only_references = true\nmax_reference_images = 30\n\
             [\"doubao-seedance-2-0-fast-260128\"]\nrelay = false\n",
        )
        .expect("overrides parse");
        t.apply(&overrides).expect("applies");
        let new = t.find("doubao-seedance-2-5-260628").expect("added");
        assert_eq!(new.max_duration, Some(30));
        assert_eq!(new.min_duration, Some(4), "the rest comes from `like`");
        assert_eq!(new.max_reference_images, Some(30));
        assert!(new.audio_only_references);
        assert_eq!(new.short, "2-5-2606");
        let fast = t.find("doubao-seedance-2-0-fast-260128").expect("fast");
        assert!(!fast.relay);
        assert_eq!(fast.resolutions, ["480p", "720p"], "other fields kept");
        let bad: BTreeMap<String, ModelOverride> =
            toml::from_str("[x]\nlike = \"nope\"\n").expect("parses");
        assert!(t.apply(&bad).expect_err("unknown like").contains("nope"));
    }

    #[test]
    fn unknown_model_short_label_is_shortened() {
        assert_eq!(short_label("doubao-seedance-3-0-xyz"), "3-0-xyz");
        assert_eq!(short_label("doubao-seedance-2-0-fast-260128"), "2.0f");
    }
}
