//! Wire types of the Ark video task API: the create request, the task object, list and error bodies.
//!
//! Every struct keeps the fields it does not know in `extra`, so nothing the server (or a stored
//! request) says is dropped on a round trip. JSON `null` is treated as absent everywhere.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;

/// The life-cycle state of a task as the server reports it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TaskStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
    Expired,
    Cancelled,
    /// Anything this client does not know yet (kept verbatim).
    Unknown(String),
}

impl TaskStatus {
    pub fn parse(s: &str) -> TaskStatus {
        match s {
            "queued" => TaskStatus::Queued,
            "running" => TaskStatus::Running,
            "succeeded" => TaskStatus::Succeeded,
            "failed" => TaskStatus::Failed,
            "expired" => TaskStatus::Expired,
            "cancelled" => TaskStatus::Cancelled,
            other => TaskStatus::Unknown(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            TaskStatus::Queued => "queued",
            TaskStatus::Running => "running",
            TaskStatus::Succeeded => "succeeded",
            TaskStatus::Failed => "failed",
            TaskStatus::Expired => "expired",
            TaskStatus::Cancelled => "cancelled",
            TaskStatus::Unknown(s) => s,
        }
    }

    /// True when the task will not change any more (an unknown status is not terminal: keep polling).
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            TaskStatus::Succeeded
                | TaskStatus::Failed
                | TaskStatus::Expired
                | TaskStatus::Cancelled
        )
    }

    /// Failed, expired or cancelled: the states a retry makes sense for.
    pub(crate) fn is_retryable(&self) -> bool {
        matches!(
            self,
            TaskStatus::Failed | TaskStatus::Expired | TaskStatus::Cancelled
        )
    }
}

impl fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for TaskStatus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for TaskStatus {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(TaskStatus::parse(&s))
    }
}

/// The purpose of an asset in `content[]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum Role {
    FirstFrame,
    LastFrame,
    ReferenceImage,
    ReferenceVideo,
    ReferenceAudio,
    /// A role this client does not know (validation names it).
    Other(String),
}

impl Role {
    pub(crate) fn as_str(&self) -> &str {
        match self {
            Role::FirstFrame => "first_frame",
            Role::LastFrame => "last_frame",
            Role::ReferenceImage => "reference_image",
            Role::ReferenceVideo => "reference_video",
            Role::ReferenceAudio => "reference_audio",
            Role::Other(s) => s,
        }
    }

    pub(crate) fn parse(s: &str) -> Role {
        match s {
            "first_frame" => Role::FirstFrame,
            "last_frame" => Role::LastFrame,
            "reference_image" => Role::ReferenceImage,
            "reference_video" => Role::ReferenceVideo,
            "reference_audio" => Role::ReferenceAudio,
            other => Role::Other(other.to_string()),
        }
    }

    /// A reference role (the multimodal reference scenario).
    pub(crate) fn is_reference(&self) -> bool {
        matches!(
            self,
            Role::ReferenceImage | Role::ReferenceVideo | Role::ReferenceAudio
        )
    }
}

/// The roles of a request's media items, `items` in request order with the role each was given,
/// if any: the one rule for the composer and `submit`. A given role is kept. Frame images and
/// references never mix (the service refuses it), so an image without a role is a
/// `reference_image` when another item is a reference (a video or an audio always is) or there
/// are more images than the two frames; otherwise it takes the first free frame, `first_frame`
/// then `last_frame` (an image the service receives without a role is its first frame).
pub(crate) fn default_roles(items: &[(MediaKind, Option<Role>)]) -> Vec<Role> {
    let images = items.iter().filter(|(k, _)| *k == MediaKind::Image).count();
    let references = items.iter().any(|(kind, role)| match role {
        Some(r) => r.is_reference(),
        None => *kind != MediaKind::Image,
    });
    let mut taken: Vec<Role> = items.iter().filter_map(|(_, r)| r.clone()).collect();
    items
        .iter()
        .map(|(kind, role)| match (role, kind) {
            (Some(r), _) => r.clone(),
            (None, MediaKind::Image) => {
                let free = [Role::FirstFrame, Role::LastFrame]
                    .into_iter()
                    .find(|f| !taken.contains(f));
                let role = match free {
                    Some(frame) if !references && images <= 2 => frame,
                    _ => Role::ReferenceImage,
                };
                taken.push(role.clone());
                role
            }
            (None, kind) => kind.roles()[0].clone(),
        })
        .collect()
}

impl From<String> for Role {
    fn from(s: String) -> Self {
        Role::parse(&s)
    }
}

impl From<Role> for String {
    fn from(r: Role) -> Self {
        r.as_str().to_string()
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `{"url": "..."}` as used by `image_url`, `video_url` and `audio_url`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MediaUrl {
    pub(crate) url: String,
    #[serde(flatten)]
    pub(crate) extra: Map<String, Value>,
}

impl MediaUrl {
    pub(crate) fn new(url: impl Into<String>) -> Self {
        MediaUrl {
            url: url.into(),
            extra: Map::new(),
        }
    }
}

/// `{"id": "..."}` of a `draft_task` item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DraftRef {
    pub(crate) id: String,
}

/// The kind of media an asset item carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaKind {
    Image,
    Video,
    Audio,
}

impl MediaKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Video => "video",
            MediaKind::Audio => "audio",
        }
    }

    /// The roles an item of this kind may carry.
    pub(crate) fn roles(self) -> &'static [Role] {
        match self {
            MediaKind::Image => &[Role::FirstFrame, Role::LastFrame, Role::ReferenceImage],
            MediaKind::Video => &[Role::ReferenceVideo],
            MediaKind::Audio => &[Role::ReferenceAudio],
        }
    }

    /// The `type` value of a content item of this kind.
    pub(crate) fn item_type(self) -> &'static str {
        match self {
            MediaKind::Image => "image_url",
            MediaKind::Video => "video_url",
            MediaKind::Audio => "audio_url",
        }
    }
}

/// One item of `content[]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentItem {
    Text {
        text: String,
    },
    ImageUrl {
        image_url: MediaUrl,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        role: Option<Role>,
    },
    VideoUrl {
        video_url: MediaUrl,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        role: Option<Role>,
    },
    AudioUrl {
        audio_url: MediaUrl,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        role: Option<Role>,
    },
    DraftTask {
        draft_task: DraftRef,
    },
}

impl ContentItem {
    pub fn text(t: impl Into<String>) -> Self {
        ContentItem::Text { text: t.into() }
    }

    /// An asset item of `kind` pointing at `url` with an optional role.
    pub(crate) fn media(kind: MediaKind, url: impl Into<String>, role: Option<Role>) -> Self {
        let m = MediaUrl::new(url);
        match kind {
            MediaKind::Image => ContentItem::ImageUrl { image_url: m, role },
            MediaKind::Video => ContentItem::VideoUrl { video_url: m, role },
            MediaKind::Audio => ContentItem::AudioUrl { audio_url: m, role },
        }
    }

    /// The media kind, URL and role of an asset item; `None` for text and draft items.
    pub(crate) fn as_media(&self) -> Option<(MediaKind, &str, Option<&Role>)> {
        match self {
            ContentItem::ImageUrl { image_url, role } => {
                Some((MediaKind::Image, &image_url.url, role.as_ref()))
            }
            ContentItem::VideoUrl { video_url, role } => {
                Some((MediaKind::Video, &video_url.url, role.as_ref()))
            }
            ContentItem::AudioUrl { audio_url, role } => {
                Some((MediaKind::Audio, &audio_url.url, role.as_ref()))
            }
            _ => None,
        }
    }
}

/// The body of `POST /contents/generations/tasks`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CreateRequest {
    pub model: String,
    #[serde(default)]
    pub content: Vec<ContentItem>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ratio: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frames: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub camera_fixed: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watermark: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generate_audio: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_last_frame: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_tier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_expires_after: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub draft: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub safety_identifier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub omni_reference_task_type: Option<String>,
    /// Fields this client does not know, passed through unchanged (null values are dropped).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl CreateRequest {
    /// Whether the request has a reference video (billed and priced apart on the 2.0 series).
    pub(crate) fn has_input_video(&self) -> bool {
        self.content
            .iter()
            .any(|c| matches!(c.as_media(), Some((MediaKind::Video, _, _))))
    }

    /// True when an image is a first or last frame (an image without a role is a first frame):
    /// then the output follows the image unless a ratio is chosen.
    pub(crate) fn has_frame_image(&self) -> bool {
        self.content.iter().any(|c| {
            matches!(
                c.as_media(),
                Some((
                    MediaKind::Image,
                    _,
                    None | Some(Role::FirstFrame | Role::LastFrame)
                ))
            )
        })
    }

    /// The ratio to send when none was chosen: `adaptive` with a frame image (the official
    /// default on 1.5 and 2.x; any other ratio crops the image), else `configured` (`[defaults]
    /// ratio`, for text and references).
    pub(crate) fn ratio_when_unset(&self, configured: &str) -> String {
        if self.has_frame_image() {
            "adaptive".to_string()
        } else {
            configured.to_string()
        }
    }

    /// The text of the first `text` item (the prompt), if any.
    pub(crate) fn prompt(&self) -> Option<&str> {
        self.content.iter().find_map(|c| match c {
            ContentItem::Text { text } => Some(text.as_str()),
            _ => None,
        })
    }

    /// Parse a request from JSON text, treating `null` as absent.
    pub fn from_json(text: &str) -> Result<CreateRequest, serde_json::Error> {
        let mut v: Value = serde_json::from_str(text)?;
        strip_nulls(&mut v);
        serde_json::from_value(v)
    }

    /// Parse a request from a JSON value, treating `null` as absent.
    pub fn from_value(mut v: Value) -> Result<CreateRequest, serde_json::Error> {
        strip_nulls(&mut v);
        serde_json::from_value(v)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_string())
    }

    /// [`CreateRequest::to_json`] into a buffer of `size` bytes to start with (the size of the
    /// text it was read from): a 20 MB request is not written through a series of doublings,
    /// each holding the old and the new buffer.
    pub(crate) fn to_json_sized(&self, size: usize) -> String {
        let mut out = Vec::with_capacity(size);
        match serde_json::to_writer(&mut out, self) {
            // serde_json writes UTF-8.
            Ok(()) => String::from_utf8(out).unwrap_or_else(|_| "{}".to_string()),
            Err(_) => "{}".to_string(),
        }
    }

    pub(crate) fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".to_string())
    }
}

/// Remove object keys whose value is `null`, recursively (the SDKs send every key).
pub fn strip_nulls(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.retain(|_, val| !val.is_null());
            for val in map.values_mut() {
                strip_nulls(val);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

/// The answer to a create: `{"id": "..."}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreateResponse {
    pub id: String,
    #[serde(flatten)]
    pub(crate) extra: Map<String, Value>,
}

/// `content` of a finished task.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TaskContent {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) video_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) last_frame_url: Option<String>,
    #[serde(flatten)]
    pub(crate) extra: Map<String, Value>,
}

/// `usage` of a finished task.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Usage {
    #[serde(
        default,
        deserialize_with = "token_count",
        skip_serializing_if = "Option::is_none"
    )]
    pub(crate) completion_tokens: Option<u64>,
    #[serde(
        default,
        deserialize_with = "token_count",
        skip_serializing_if = "Option::is_none"
    )]
    pub(crate) total_tokens: Option<u64>,
    #[serde(flatten)]
    pub(crate) extra: Map<String, Value>,
}

/// The largest token count believed (2^53: exact in every JSON reader). A bigger one is not a
/// count any task bills (`u64::MAX` would show as 9223372036854775807 once stored): it is
/// refused, so the lenient task parse drops it with a note.
pub const MAX_TOKENS: u64 = 1 << 53;

fn token_count<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    match Option::<u64>::deserialize(d)? {
        Some(n) if n > MAX_TOKENS => Err(serde::de::Error::custom(format!(
            "{n} tokens is not a believable count"
        ))),
        other => Ok(other),
    }
}

/// `error` of a failed task, and the inner object of an HTTP error body.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ErrorObject {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub(crate) kind: Option<String>,
    #[serde(flatten)]
    pub(crate) extra: Map<String, Value>,
}

/// An HTTP error body: `{"error": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorObject,
}

/// A task as returned by `GET /contents/generations/tasks/{id}` (and as list items).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) model: Option<String>,
    #[serde(default = "missing_status")]
    pub status: TaskStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<TaskContent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<ErrorObject>,
    /// Some list items carry the failure here instead of in `error`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) failure_reason: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) seed: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) resolution: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) ratio: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) duration: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) frames: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framespersecond: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) service_tier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) execution_expires_after: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) generate_audio: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) draft: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) priority: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) safety_identifier: Option<String>,
    #[serde(flatten)]
    pub(crate) extra: Map<String, Value>,
}

fn missing_status() -> TaskStatus {
    TaskStatus::Unknown("null".into())
}

/// The fields of a task that are not required (everything but `id` and `status`).
const OPTIONAL_TASK_FIELDS: [&str; 19] = [
    "model",
    "content",
    "usage",
    "error",
    "failure_reason",
    "created_at",
    "updated_at",
    "seed",
    "resolution",
    "ratio",
    "duration",
    "frames",
    "framespersecond",
    "service_tier",
    "execution_expires_after",
    "generate_audio",
    "draft",
    "priority",
    "safety_identifier",
];

/// True when `key: value` alone reads as a task field (a stand-in id and status around it).
fn field_reads(key: &str, value: &Value) -> bool {
    let mut probe = Map::new();
    probe.insert("id".into(), Value::String("x".into()));
    probe.insert("status".into(), Value::String("queued".into()));
    probe.insert(key.into(), value.clone());
    serde_json::from_value::<Task>(Value::Object(probe)).is_ok()
}

/// Remove the optional fields (or, inside `content`/`usage`/`error`, the sub-fields) that do not
/// read, noting each. A succeeded task's unreadable `content.video_url` is kept, so the strict
/// parse after this fails on it.
fn drop_bad_optional_fields(map: &mut Map<String, Value>, notes: &mut Vec<String>) {
    let succeeded = map.get("status").and_then(Value::as_str) == Some("succeeded");
    for key in OPTIONAL_TASK_FIELDS {
        let Some(value) = map.get(key).cloned() else {
            continue;
        };
        if field_reads(key, &value) {
            continue;
        }
        if let Value::Object(mut inner) = value {
            let subkeys: Vec<String> = inner.keys().cloned().collect();
            for sub in subkeys {
                let Some(one) = inner.get(&sub).cloned() else {
                    continue;
                };
                let mut alone = Map::new();
                alone.insert(sub.clone(), one);
                if field_reads(key, &Value::Object(alone)) {
                    continue;
                }
                if succeeded && key == "content" && sub == "video_url" {
                    continue; // required: the strict parse reports it
                }
                inner.remove(&sub);
                notes.push(format!(
                    "ignored the server's `{key}.{sub}`: not the expected type or range"
                ));
            }
            if field_reads(key, &Value::Object(inner.clone())) {
                map.insert(key.into(), Value::Object(inner));
                continue;
            }
            if succeeded && key == "content" {
                continue;
            }
        }
        map.remove(key);
        notes.push(format!(
            "ignored the server's `{key}`: not the expected type or range"
        ));
    }
}

impl Task {
    /// Parse a task from JSON text, treating `null` as absent and dropping optional fields of
    /// the wrong shape (see [`Task::from_json_noted`]).
    pub fn from_json(text: &str) -> Result<Task, serde_json::Error> {
        Task::from_json_noted(text).map(|(task, _)| task)
    }

    /// Parse a task strictly in what is required and leniently in everything else: `id` must be
    /// a string, `status` a string (absent or `null` is the unknown status `null`), and a
    /// succeeded task's `content.video_url` a string when present. Any other known field of the
    /// wrong type or range (`usage.total_tokens: -1`, `created_at: 1e20`) is dropped, and a note
    /// naming it is returned, so one bad optional field never hides a finished task.
    pub fn from_json_noted(text: &str) -> Result<(Task, Vec<String>), serde_json::Error> {
        Task::from_value_noted(serde_json::from_str(text)?)
    }

    /// [`Task::from_json_noted`] for a parsed value.
    pub(crate) fn from_value_noted(mut v: Value) -> Result<(Task, Vec<String>), serde_json::Error> {
        strip_nulls(&mut v);
        let mut notes = Vec::new();
        if let Value::Object(map) = &mut v {
            if !map.contains_key("status") {
                map.insert("status".into(), Value::String("null".into()));
            }
            if serde_json::from_value::<Task>(Value::Object(map.clone())).is_err() {
                drop_bad_optional_fields(map, &mut notes);
            }
        }
        let task: Task = serde_json::from_value(v)?;
        Ok((task, notes))
    }

    pub fn video_url(&self) -> Option<&str> {
        self.content.as_ref()?.video_url.as_deref()
    }

    pub fn last_frame_url(&self) -> Option<&str> {
        self.content.as_ref()?.last_frame_url.as_deref()
    }

    pub fn tokens(&self) -> Option<u64> {
        let u = self.usage.as_ref()?;
        u.total_tokens.or(u.completion_tokens)
    }

    /// The failure as (code, message), read from `error` or from `failure_reason`.
    pub fn failure(&self) -> Option<(String, String)> {
        if let Some(e) = &self.error
            && (e.code.is_some() || e.message.is_some())
        {
            return Some((
                e.code.clone().unwrap_or_default(),
                e.message.clone().unwrap_or_default(),
            ));
        }
        match &self.failure_reason {
            Some(Value::String(s)) => Some((String::new(), s.clone())),
            Some(Value::Object(o)) => Some((
                o.get("code")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                o.get("message")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
            )),
            _ => None,
        }
    }
}

/// The answer to the list endpoint.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ListResponse {
    #[serde(default)]
    pub total: u64,
    #[serde(default)]
    pub items: Vec<Task>,
    #[serde(flatten)]
    pub(crate) extra: Map<String, Value>,
}

/// Query parameters of the list endpoint.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListQuery {
    pub page_num: Option<u32>,
    pub page_size: Option<u32>,
    pub status: Option<TaskStatus>,
    pub model: Option<String>,
    pub service_tier: Option<String>,
    pub task_ids: Vec<String>,
}

impl ListQuery {
    /// The query as `(key, value)` pairs in the wire form (`filter.status`, repeated `filter.task_ids`).
    pub(crate) fn pairs(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if let Some(p) = self.page_num {
            out.push(("page_num".into(), p.to_string()));
        }
        if let Some(p) = self.page_size {
            out.push(("page_size".into(), p.to_string()));
        }
        if let Some(s) = &self.status {
            out.push(("filter.status".into(), s.as_str().to_string()));
        }
        if let Some(m) = &self.model {
            out.push(("filter.model".into(), m.clone()));
        }
        if let Some(t) = &self.service_tier {
            out.push(("filter.service_tier".into(), t.clone()));
        }
        for id in &self.task_ids {
            out.push(("filter.task_ids".into(), id.clone()));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roles(items: &[(MediaKind, Option<Role>)]) -> Vec<&'static str> {
        default_roles(items)
            .iter()
            .map(|r| match r {
                Role::FirstFrame => "first",
                Role::LastFrame => "last",
                Role::ReferenceImage => "ref_image",
                Role::ReferenceVideo => "ref_video",
                Role::ReferenceAudio => "ref_audio",
                Role::Other(_) => "other",
            })
            .collect()
    }

    #[test]
    fn a_missing_role_never_mixes_frames_and_references() {
        use MediaKind::{Audio, Image, Video};
        let image = (Image, None);
        assert_eq!(roles(std::slice::from_ref(&image)), ["first"]);
        assert_eq!(roles(&[image.clone(), image.clone()]), ["first", "last"]);
        assert_eq!(
            roles(&[image.clone(), image.clone(), image.clone()]),
            ["ref_image", "ref_image", "ref_image"],
            "more images than frames: references"
        );
        assert_eq!(
            roles(&[image.clone(), (Video, None)]),
            ["ref_image", "ref_video"],
            "beside a video an image is a reference"
        );
        assert_eq!(
            roles(&[(Audio, None), image.clone()]),
            ["ref_audio", "ref_image"]
        );
        assert_eq!(
            roles(&[(Image, Some(Role::FirstFrame)), image.clone()]),
            ["first", "last"]
        );
        assert_eq!(
            roles(&[image.clone(), (Image, Some(Role::FirstFrame))]),
            ["last", "first"],
            "a given role keeps its frame"
        );
        assert_eq!(
            roles(&[(Image, Some(Role::ReferenceImage)), image.clone()]),
            ["ref_image", "ref_image"]
        );
        // Every answer above passes the validator: frames and references never mixed.
        for items in [
            vec![image.clone(), image.clone()],
            vec![image.clone(), (Video, None)],
            vec![(Image, Some(Role::FirstFrame)), image.clone()],
        ] {
            let content: Vec<ContentItem> = items
                .iter()
                .zip(default_roles(&items))
                .map(|((kind, _), role)| ContentItem::media(*kind, "https://x/a", Some(role)))
                .collect();
            let mut req = CreateRequest::from_value(serde_json::json!({
                "model": crate::api::models::DEFAULT_MODEL,
                "content": [{"type": "text", "text": "a fox"}],
            }))
            .expect("request");
            req.content.extend(content);
            let problems = crate::api::validate::validate(&req);
            assert!(
                !problems
                    .iter()
                    .any(|p| p.message.contains("cannot be mixed")),
                "{items:?}: {problems:?}"
            );
        }
    }
}
