//! Validation of a create request: one rule table shared by the client, the composer and the
//! simulator. Every problem names the field (as the API names it) and the fix.
//!
//! Principles: capability checks read [`crate::api::models`]; a well-formed model id that is not in
//! the table is allowed (the server decides) and then only the model-independent rules apply, with
//! a warning ([`warnings`]). A field a model does not take is a problem when it is sent with a
//! non-default value (`camera_fixed: true`, `draft: true`, `priority: 3`); the default value is
//! harmless. Endpoint ids (`ep-...`) are valid on the official API and refused only through a
//! relay, which matches channels by plain model id.

use super::models::{self, ModelSpec, ModelTable};
use super::types::{ContentItem, CreateRequest, MediaKind, Role};

mod url;
use url::mib;
pub(crate) use url::{check_media_url, http_host};

/// Error code of a problem with a missing value (the server's `MissingParameter`).
pub(crate) const CODE_MISSING: &str = "MissingParameter";
/// Error code of a problem with a wrong value (the server's `InvalidParameter`).
pub(crate) const CODE_INVALID: &str = "InvalidParameter";

/// One thing wrong with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The field as the API names it: `model`, `duration`, `content[2].role`, ...
    pub field: String,
    /// What is wrong.
    pub(crate) message: String,
    /// What to do about it.
    pub fix: String,
    /// The error code the server would answer: [`CODE_MISSING`] or [`CODE_INVALID`].
    pub(crate) code: &'static str,
}

impl Problem {
    /// A wrong value (`InvalidParameter`).
    pub(crate) fn invalid(
        field: impl Into<String>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Problem {
            field: field.into(),
            message: message.into(),
            fix: fix.into(),
            code: CODE_INVALID,
        }
    }

    /// A missing value (`MissingParameter`).
    pub(crate) fn missing(
        field: impl Into<String>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Problem {
            code: CODE_MISSING,
            ..Problem::invalid(field, message, fix)
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {} ({})", self.field, self.message, self.fix)
    }
}

/// An example of a plain model id, for fixes.
const EXAMPLE_MODEL: &str = models::DEFAULT_MODEL;

/// Where a request is going: the rules differ slightly between the official API and a relay.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// The model table (shipped + config).
    pub(crate) models: &'a ModelTable,
    /// True for a relay: endpoint ids are refused and models it does not serve are named.
    pub(crate) relay: bool,
}

impl Target<'static> {
    /// The official API with the table in use.
    pub(crate) fn official() -> Target<'static> {
        Target {
            models: models::table(),
            relay: false,
        }
    }

    /// The official API, or a relay when `relay`, with the table in use.
    pub fn with_relay(relay: bool) -> Target<'static> {
        Target {
            relay,
            ..Target::official()
        }
    }
}

/// True for an endpoint id (`ep-...`), which the official API takes in place of a model id.
pub(crate) fn is_endpoint_id(id: &str) -> bool {
    id.starts_with("ep-")
}

/// True for a model id (or endpoint id) as the API wants it: letters, digits, `-`, `_`, `.`,
/// no label.
pub(crate) fn is_plain_model_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// The plain id inside a labelled one: `doubao-seedance-2-0-260128 (2.0-audio-video)` gives
/// `doubao-seedance-2-0-260128`.
pub(crate) fn strip_model_label(id: &str) -> &str {
    let end = id
        .find(|c: char| c.is_whitespace() || c == '(')
        .unwrap_or(id.len());
    id[..end].trim()
}

fn check_model(model: &str, target: &Target<'_>, out: &mut Vec<Problem>) {
    if model.trim().is_empty() {
        out.push(Problem::missing(
            "model",
            "no model is set",
            format!("set model to a plain model id such as {EXAMPLE_MODEL}"),
        ));
    } else if is_endpoint_id(model) && target.relay {
        out.push(Problem::invalid(
            "model",
            format!("`{model}` is an endpoint id, which the relay does not match (it routes by model id)"),
            format!(
                "through the relay use a plain model id such as {EXAMPLE_MODEL}; endpoint ids work on the official API (--profile ark)"
            ),
        ));
    } else if let Some(spec) = target
        .models
        .find(model)
        .filter(|s| target.relay && !s.relay)
    {
        out.push(Problem::invalid(
            "model",
            format!("the relay does not serve {}", model_name(spec)),
            format!(
                "use a model the relay serves such as {EXAMPLE_MODEL}, the official API (--profile ark), or set relay = true under [models.\"{model}\"] in the config if it now does"
            ),
        ));
    } else if model.contains(|c: char| c.is_whitespace() || c == '(' || c == ')') {
        let plain = strip_model_label(model);
        let fix = if is_plain_model_id(plain) {
            format!("drop the label: send `{plain}`")
        } else {
            format!("drop the label and send a plain model id such as {EXAMPLE_MODEL}")
        };
        out.push(Problem::invalid(
            "model",
            format!("`{model}` carries a label; the API wants the plain model id"),
            fix,
        ));
    } else if !is_plain_model_id(model) {
        out.push(Problem::invalid(
            "model",
            format!("`{model}` is not a plain model id (only letters, digits, '-', '_' and '.')"),
            format!("use a plain model id such as {EXAMPLE_MODEL}"),
        ));
    }
}

/// Whether this process talks to a relay (set once at start-up, like the model table), for
/// the callers that do not carry a [`Target`] (the composer's live checks).
static PROCESS_RELAY: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Record whether this process's profile is a relay (see [`validate`]).
pub(crate) fn set_process_relay(relay: bool) {
    PROCESS_RELAY.store(relay, std::sync::atomic::Ordering::Relaxed);
}

impl Target<'static> {
    /// The table in use, and a relay when this process's profile is one.
    pub(crate) fn process() -> Target<'static> {
        Target::with_relay(PROCESS_RELAY.load(std::sync::atomic::Ordering::Relaxed))
    }
}

/// Every problem with `req` for this process's target (the official API unless the profile is a
/// relay) with the table in use, in field order; empty when the request may be sent.
pub fn validate(req: &CreateRequest) -> Vec<Problem> {
    validate_for(req, &Target::process())
}

/// Every problem with `req` when it goes to `target`, in field order.
pub fn validate_for(req: &CreateRequest, target: &Target<'_>) -> Vec<Problem> {
    let mut out = Vec::new();
    check_model(&req.model, target, &mut out);
    let spec = target.models.find(&req.model);
    check_content(req, spec, &mut out);
    check_output(req, spec, &mut out);
    check_service(req, spec, &mut out);
    check_body_size(req, &mut out);
    out
}

/// Things worth saying that do not stop a request: a model in no table (only the
/// model-independent rules were checked).
pub(crate) fn warnings(req: &CreateRequest, target: &Target<'_>) -> Vec<String> {
    let mut out = Vec::new();
    let model = req.model.trim();
    // An endpoint id through a relay is a problem, not a warning.
    if !model.is_empty()
        && is_plain_model_id(model)
        && !(target.relay && is_endpoint_id(model))
        && target.models.find(model).is_none()
    {
        let what = if is_endpoint_id(model) {
            format!("`{model}` is an endpoint id: the model behind it is unknown here")
        } else {
            format!("`{model}` is in no model table")
        };
        out.push(format!(
            "{what}, so only the rules every model shares were checked (the service decides the rest); describe it under [models.\"{model}\"] in the config to check it fully"
        ));
    }
    out
}

fn model_name(spec: &ModelSpec) -> String {
    format!("{} ({})", spec.id, spec.label)
}

fn check_content(req: &CreateRequest, spec: Option<&ModelSpec>, out: &mut Vec<Problem>) {
    if req.content.is_empty() {
        out.push(Problem::missing(
            "content",
            "content is empty",
            "add a text prompt and/or an image, video or audio item",
        ));
        return;
    }
    let has_input = req.content.iter().any(|c| {
        matches!(c, ContentItem::Text { text } if !text.trim().is_empty())
            || c.as_media().is_some()
            || matches!(c, ContentItem::DraftTask { .. })
    });
    if !has_input {
        out.push(Problem::missing(
            "content",
            "content has no prompt and no asset",
            "write a prompt or add an image, video or audio item",
        ));
    }
    let mut first_frame: Option<usize> = None;
    let mut last_frame: Option<usize> = None;
    let mut frame_item: Option<usize> = None;
    let mut reference_item: Option<usize> = None;
    let mut counts = [0usize; 3]; // reference images, videos, audios
    let mut visual = false;
    let mut first_audio: Option<usize> = None;
    for (i, item) in req.content.iter().enumerate() {
        match item {
            ContentItem::Text { text } if text.trim().is_empty() && has_input => {
                out.push(Problem::invalid(
                    format!("content[{i}].text"),
                    "the text item is empty",
                    "write a prompt or remove the empty text item",
                ));
            }
            ContentItem::DraftTask { draft_task } => {
                if draft_task.id.trim().is_empty() {
                    out.push(Problem::missing(
                        format!("content[{i}].draft_task.id"),
                        "the draft_task item has no id",
                        "set it to the id of a finished draft task",
                    ));
                }
                if let Some(s) = spec.filter(|s| !s.draft) {
                    out.push(Problem::invalid(
                        format!("content[{i}].type"),
                        format!("{} does not take draft_task items", model_name(s)),
                        "use doubao-seedance-1-5-pro-251215 for drafts, or remove the item",
                    ));
                }
            }
            _ => {}
        }
        let Some((kind, url, role)) = item.as_media() else {
            continue;
        };
        check_url(i, kind, url, out);
        if kind == MediaKind::Image
            && let Some(s) = spec.filter(|s| !s.heic_images)
            && is_heic(url)
        {
            out.push(Problem::invalid(
                format!("content[{i}].image_url.url"),
                format!("{} does not take heic/heif images", model_name(s)),
                "convert the image to jpeg or png",
            ));
        }
        match kind {
            MediaKind::Image | MediaKind::Video => visual = true,
            MediaKind::Audio => {
                first_audio.get_or_insert(i);
            }
        }
        let field = format!("content[{i}].role");
        let Some(role) = check_role(i, kind, role, out) else {
            continue;
        };
        match role {
            Role::FirstFrame | Role::LastFrame => {
                frame_item.get_or_insert(i);
                let slot = if role == Role::FirstFrame {
                    &mut first_frame
                } else {
                    &mut last_frame
                };
                if slot.is_some() {
                    out.push(Problem::invalid(
                        field.clone(),
                        format!("a second {} image", role.as_str()),
                        format!(
                            "keep one {} image (an image without a role counts as first_frame)",
                            role.as_str()
                        ),
                    ));
                }
                slot.get_or_insert(i);
                if let Some(s) = spec.filter(|s| !s.first_last_frame) {
                    out.push(Problem::invalid(
                        field,
                        format!("{} does not take first/last frame images", model_name(s)),
                        "use another model or remove the image",
                    ));
                }
            }
            _ => {
                reference_item.get_or_insert(i);
                counts[kind as usize] += 1;
                if let Some(s) = spec.filter(|s| !s.references) {
                    out.push(Problem::invalid(
                        field,
                        format!("{} does not take reference_* items", model_name(s)),
                        format!(
                            "use {} for references, or make the image a first_frame",
                            EXAMPLE_MODEL
                        ),
                    ));
                }
            }
        }
    }
    if let (Some(f), Some(r)) = (frame_item, reference_item) {
        let later = f.max(r);
        out.push(Problem::invalid(
            format!("content[{later}].role"),
            "first/last frame images and reference_* items cannot be mixed in one request",
            "use either first_frame/last_frame images or reference_* items, not both",
        ));
    }
    if let (Some(l), None) = (last_frame, first_frame) {
        out.push(Problem::invalid(
            format!("content[{l}].role"),
            "a last_frame image needs a first_frame image",
            "add a first_frame image, or make this image a reference_image",
        ));
    }
    if let Some(s) = spec {
        check_reference_limits(counts, s, out);
    }
    if first_audio.is_some() && !visual && spec.is_some_and(|s| !s.audio_only_references) {
        out.push(Problem::invalid(
            "content",
            "audio cannot be the only reference",
            "add at least one reference image or video beside the audio",
        ));
    }
}

fn check_reference_limits(counts: [usize; 3], spec: &ModelSpec, out: &mut Vec<Problem>) {
    let limits = [
        (MediaKind::Image, spec.max_reference_images),
        (MediaKind::Video, spec.max_reference_videos),
        (MediaKind::Audio, spec.max_reference_audios),
    ];
    for (kind, max) in limits {
        let n = counts[kind as usize];
        let Some(max) = max else { continue };
        if n > max {
            out.push(Problem::invalid(
                "content",
                format!(
                    "{n} reference {}s; {} takes at most {max}",
                    kind.as_str(),
                    spec.label
                ),
                format!("remove {} reference {}(s)", n - max, kind.as_str()),
            ));
        }
    }
}

/// Checks the role of asset item `i`; returns the effective role (no role on an image means
/// `first_frame`) when it is valid for the kind.
fn check_role(
    i: usize,
    kind: MediaKind,
    role: Option<&Role>,
    out: &mut Vec<Problem>,
) -> Option<Role> {
    let field = format!("content[{i}].role");
    let allowed = kind
        .roles()
        .iter()
        .map(Role::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    match role {
        None if kind == MediaKind::Image => Some(Role::FirstFrame),
        None => {
            out.push(Problem::missing(
                field,
                format!("the {} item has no role", kind.as_str()),
                format!("set role to {allowed}"),
            ));
            None
        }
        Some(r) if kind.roles().contains(r) => Some(r.clone()),
        Some(Role::Other(s)) => {
            out.push(Problem::invalid(
                field,
                format!("`{s}` is not a known role"),
                format!("use one of: {allowed}"),
            ));
            None
        }
        Some(r) => {
            out.push(Problem::invalid(
                field,
                format!("role {r} is not for {} items", kind.as_str()),
                format!("use one of: {allowed}"),
            ));
            None
        }
    }
}

fn check_url(i: usize, kind: MediaKind, url: &str, out: &mut Vec<Problem>) {
    if let Err((message, fix)) = check_media_url(kind, url) {
        let field = format!("content[{i}].{}.url", kind.item_type());
        out.push(if url.is_empty() {
            Problem::missing(field, message, fix)
        } else {
            Problem::invalid(field, message, fix)
        });
    }
}

fn check_output(req: &CreateRequest, spec: Option<&ModelSpec>, out: &mut Vec<Problem>) {
    if let (Some(r), Some(s)) = (&req.ratio, spec)
        && !s.ratios.iter().any(|x| x == r)
    {
        out.push(Problem::invalid(
            "ratio",
            format!("`{r}` is not a ratio {} takes", s.label),
            format!("use one of: {}", s.ratios.join(", ")),
        ));
    }
    if let Some(d) = req.duration {
        match spec {
            Some(s) => {
                let min = s.min_duration.unwrap_or(i64::MIN);
                let max = s.max_duration.unwrap_or(i64::MAX);
                let adaptive = s.adaptive_duration;
                let fits = if d == -1 {
                    adaptive
                } else {
                    d >= 1 && (min..=max).contains(&d)
                };
                if !fits {
                    let range = match (s.min_duration, s.max_duration) {
                        (Some(a), Some(b)) => format!("{a}..{b} seconds"),
                        (Some(a), None) => format!("{a} seconds or more"),
                        (None, Some(b)) => format!("1..{b} seconds"),
                        (None, None) => "a positive number of seconds".to_string(),
                    };
                    let fix = if adaptive {
                        format!("use {range}, or -1 to let the model choose")
                    } else {
                        format!("use {range}")
                    };
                    out.push(Problem::invalid(
                        "duration",
                        format!("{d} s is out of range for {}", s.label),
                        fix,
                    ));
                }
            }
            // Model-independent: a duration is a positive number of seconds, or -1.
            None if d == 0 || d < -1 => out.push(Problem::invalid(
                "duration",
                format!("{d} s is not a duration"),
                "use a positive number of seconds, or -1 to let the model choose",
            )),
            None => {}
        }
    }
    if let Some(f) = req.frames {
        if let Some(s) = spec.filter(|s| !s.frames) {
            out.push(Problem::invalid(
                "frames",
                format!("{} does not take frames", model_name(s)),
                "remove frames and set duration in seconds",
            ));
        } else if !(29..=289).contains(&f) || (f - 25) % 4 != 0 {
            out.push(Problem::invalid(
                "frames",
                format!("{f} frames is not 25 + 4n within 29..289"),
                "use 29, 33, 37, ... 289 (25 + a multiple of 4)",
            ));
        }
    }
    if let Some(r) = &req.resolution {
        match spec {
            Some(s) if !s.resolutions.is_empty() && !s.resolutions.iter().any(|x| x == r) => out
                .push(Problem::invalid(
                    "resolution",
                    format!("{} does not make {r} videos", model_name(s)),
                    format!("use one of: {}", s.resolutions.join(", ")),
                )),
            _ if !plausible_resolution(r) => out.push(Problem::invalid(
                "resolution",
                format!("`{r}` is not a resolution"),
                "use a value such as 480p, 720p or 1080p",
            )),
            _ => {}
        }
    }
    if let Some(seed) = req.seed
        && !(models::MIN_SEED..=models::MAX_SEED).contains(&seed)
    {
        out.push(Problem::invalid(
            "seed",
            format!("{seed} is out of range"),
            format!("use -1 (random) or 0..{}", models::MAX_SEED),
        ));
    }
    if let (Some(true), Some(s)) = (req.camera_fixed, spec.filter(|s| !s.camera_fixed)) {
        out.push(Problem::invalid(
            "camera_fixed",
            format!("{} does not take camera_fixed", model_name(s)),
            "remove camera_fixed (describe the camera in the prompt instead)",
        ));
    }
    if let (Some(true), Some(s)) = (req.generate_audio, spec.filter(|s| !s.audio_output)) {
        out.push(Problem::invalid(
            "generate_audio",
            format!("{} makes silent videos", model_name(s)),
            "set generate_audio to false or use a model with audio",
        ));
    }
}

fn plausible_resolution(r: &str) -> bool {
    let digits = r.trim_end_matches(['p', 'k', 'K']);
    r.len() > digits.len() && !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
}

fn check_service(req: &CreateRequest, spec: Option<&ModelSpec>, out: &mut Vec<Problem>) {
    if let Some(url) = &req.callback_url {
        let lower = url.to_ascii_lowercase();
        let http = lower.starts_with("http://") || lower.starts_with("https://");
        if !http || http_host(url).is_none() || url.contains(char::is_whitespace) {
            out.push(Problem::invalid(
                "callback_url",
                format!("`{url}` is not an http(s) URL"),
                "use a full https:// URL the service can POST to, or leave it empty",
            ));
        }
    }
    let flex = req.service_tier.as_deref() == Some("flex");
    if let Some(tier) = &req.service_tier {
        if tier != "default" && tier != "flex" {
            out.push(Problem::invalid(
                "service_tier",
                format!("`{tier}` is not a service tier"),
                "use default or flex",
            ));
        } else if let (true, Some(s)) = (flex, spec.filter(|s| !s.flex_tier)) {
            out.push(Problem::invalid(
                "service_tier",
                format!("{} has no flex tier", model_name(s)),
                "use service_tier default",
            ));
        }
    }
    if let Some(e) = req.execution_expires_after
        && !(models::MIN_EXPIRES_AFTER..=models::MAX_EXPIRES_AFTER).contains(&e)
    {
        out.push(Problem::invalid(
            "execution_expires_after",
            format!("{e} s is out of range"),
            format!(
                "use {}..{} seconds (1 hour to 3 days)",
                models::MIN_EXPIRES_AFTER,
                models::MAX_EXPIRES_AFTER
            ),
        ));
    }
    if let (Some(true), Some(s)) = (req.draft, spec.filter(|s| !s.draft)) {
        out.push(Problem::invalid(
            "draft",
            format!("{} has no draft mode", model_name(s)),
            "remove draft, or use doubao-seedance-1-5-pro-251215",
        ));
    }
    if let Some(id) = &req.safety_identifier
        && let Err(message) = check_safety_identifier(id)
    {
        out.push(Problem::invalid(
            "safety_identifier",
            message,
            "use a fixed id per end user, such as a hash of their user id (letters and digits)",
        ));
    }
    if let Some(p) = req.priority {
        if !(0..=models::MAX_PRIORITY).contains(&p) {
            out.push(Problem::invalid(
                "priority",
                format!("{p} is out of range"),
                format!(
                    "use 0..{} (higher runs sooner; it never pre-empts)",
                    models::MAX_PRIORITY
                ),
            ));
        } else if let (true, Some(s)) = (p != 0, spec.filter(|s| !s.priority)) {
            out.push(Problem::invalid(
                "priority",
                format!("{} does not take priority", model_name(s)),
                "remove priority (2.x models only)",
            ));
        } else if p != 0 && flex {
            out.push(Problem::invalid(
                "priority",
                "priority cannot be used with the flex tier",
                "remove priority or use service_tier default",
            ));
        }
    }
    if let Some(tools) = &req.tools {
        check_tools(tools, spec, out);
    }
}

/// The tool types the API knows.
pub(crate) const TOOL_TYPES: &[&str] = &["web_search"];

fn check_tools(tools: &[serde_json::Value], spec: Option<&ModelSpec>, out: &mut Vec<Problem>) {
    if let (false, Some(s)) = (tools.is_empty(), spec.filter(|s| !s.tools)) {
        out.push(Problem::invalid(
            "tools",
            format!("{} does not take tools", model_name(s)),
            "remove tools (web search is for Seedance 2.0 and 2.0 fast)",
        ));
    }
    for (i, t) in tools.iter().enumerate() {
        match t.get("type") {
            None => out.push(Problem::missing(
                format!("tools[{i}].type"),
                "the tool has no type",
                "write {\"type\": \"web_search\"}",
            )),
            Some(serde_json::Value::String(ty)) if TOOL_TYPES.contains(&ty.as_str()) => {}
            Some(serde_json::Value::String(ty)) => out.push(Problem::invalid(
                format!("tools[{i}].type"),
                format!("`{ty}` is not a tool the API knows"),
                format!("use one of: {}", TOOL_TYPES.join(", ")),
            )),
            Some(_) => out.push(Problem::invalid(
                format!("tools[{i}].type"),
                "the tool type is not a string",
                "write {\"type\": \"web_search\"}",
            )),
        }
    }
}

/// A `safety_identifier` is at most 64 printable ASCII characters with no spaces.
pub(crate) fn check_safety_identifier(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("safety_identifier is empty".into());
    }
    if id.len() > models::MAX_SAFETY_IDENTIFIER {
        return Err(format!(
            "safety_identifier is {} characters; at most {} are allowed",
            id.chars().count(),
            models::MAX_SAFETY_IDENTIFIER
        ));
    }
    if !id.chars().all(|c| c.is_ascii_graphic()) {
        return Err(
            "safety_identifier must be ASCII letters, digits and punctuation, without spaces"
                .into(),
        );
    }
    Ok(())
}

/// True for an inline heic/heif image or a URL whose path ends in .heic/.heif.
fn is_heic(url: &str) -> bool {
    let lower: String = url
        .chars()
        .take(40)
        .collect::<String>()
        .to_ascii_lowercase();
    if lower.starts_with("data:") {
        return lower.starts_with("data:image/heic") || lower.starts_with("data:image/heif");
    }
    let path = url
        .split(['?', '#'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    path.ends_with(".heic") || path.ends_with(".heif")
}

fn check_body_size(req: &CreateRequest, out: &mut Vec<Problem>) {
    // Serialising is only worth it when the inlined data could come near the limit.
    let rough: usize = req
        .content
        .iter()
        .map(|c| match c {
            ContentItem::Text { text } => text.len(),
            other => other.as_media().map_or(0, |(_, url, _)| url.len()),
        })
        .sum();
    if (rough as u64) < models::MAX_BODY_BYTES / 2 {
        return;
    }
    let len = req.to_json().len() as u64;
    if len > models::MAX_BODY_BYTES {
        out.push(Problem::invalid(
            "content",
            format!(
                "the request body is {}, over the {} limit",
                mib(len),
                mib(models::MAX_BODY_BYTES)
            ),
            "inline fewer or smaller files; upload large ones and pass https:// URLs",
        ));
    }
}

#[cfg(test)]
mod tests;
