//! A task as the dashboard keeps it in memory ([`TaskRow`]): what the table, the sort, the
//! filter, the ETA and the budget read for every task, and nothing else. At 100k tasks each
//! byte of a row is 100 kB, so the full request and response, the result links and the saved
//! files' paths (hundreds of bytes each, read for one task at a time) are read on demand
//! ([`TaskBodies`](super::TaskBodies)), and the few strings most rows share (profile, model,
//! resolution, ratio) are shared.

use super::record::{Phase, TaskRecord};
use crate::api::types::CreateRequest;
use compact_str::CompactString;
use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::{Arc, Mutex, OnceLock};

/// What the views and the sums read of a task's create request. Rows hold it shared
/// ([`Spec::shared`]): the tasks of a batch ask for the same few sizes and lengths.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Spec {
    pub(crate) resolution: Option<Arc<str>>,
    pub(crate) ratio: Option<Arc<str>>,
    /// Seconds asked for (`-1`: the model picks).
    pub(crate) duration: Option<i64>,
    /// The model table's estimate of the tokens it bills (0 when the request is unreadable).
    pub(crate) estimate: u64,
    /// The request has a reference video (priced apart, `[pricing] with_video`).
    pub(crate) has_input_video: bool,
    /// A reference video's seconds were not known to this process, so `estimate` excludes them.
    pub(crate) input_video_unread: bool,
    /// The kinds of media the request carries ([`Spec::IMAGE`], [`Spec::VIDEO`],
    /// [`Spec::AUDIO`], [`Spec::DRAFT`]): part of a task's shape for its expected duration.
    pub(crate) media: u8,
    /// Whether the request asked for generated audio (its `generate_audio`; a failure's hint
    /// never suggests what was already done).
    pub(crate) audio: Option<bool>,
}

/// [`Spec::of_asked`] from anything with a create request's fields by their names (the full
/// [`CreateRequest`] and the borrowed [`AskedJson`]), so both read the same fields.
macro_rules! of_asked {
    ($req:expr, $media:expr) => {
        Spec::of_asked(
            &$req.model,
            $req.resolution.as_deref(),
            $req.ratio.as_deref(),
            $req.duration,
            $req.frames,
            $media,
        )
        .with_audio($req.generate_audio)
    };
}

impl Spec {
    /// The facts of a create request's JSON (all unknown when it is not a request).
    pub(crate) fn of_json(request_json: &str) -> Spec {
        // A dashboard start reads this for every stored task: the request is read in one pass
        // over the text, borrowing it, when it is exactly what a full parse takes (else the full
        // parse decides, so both give the same facts).
        if request_json.trim_start().starts_with('{')
            && let Ok(asked) = serde_json::from_str::<AskedJson<'_>>(request_json)
            && let Some(spec) = asked.spec()
        {
            return spec;
        }
        CreateRequest::from_json(request_json)
            .map(|r| Spec::of(&r))
            .unwrap_or_default()
    }

    /// One shared copy of this spec (the interned one when it has been seen before).
    pub(crate) fn shared(self) -> Arc<Spec> {
        static TABLE: OnceLock<Mutex<HashSet<Arc<Spec>>>> = OnceLock::new();
        let mut set = TABLE
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(shared) = set.get(&self) {
            return shared.clone();
        }
        let long = |t: &Option<Arc<str>>| t.as_ref().is_some_and(|t| t.len() > INTERN_MAX_LEN);
        let keep = !long(&self.resolution) && !long(&self.ratio);
        let shared = Arc::new(self);
        if keep && set.len() < INTERN_LIMIT {
            set.insert(shared.clone());
        }
        shared
    }

    pub(crate) const IMAGE: u8 = 1;
    pub(crate) const VIDEO: u8 = 2;
    pub(crate) const AUDIO: u8 = 4;
    pub(crate) const DRAFT: u8 = 8;

    pub(crate) fn of(req: &CreateRequest) -> Spec {
        use crate::api::types::ContentItem;
        let mut media = Media::default();
        for item in &req.content {
            match item {
                ContentItem::ImageUrl { .. } => media.kinds |= Spec::IMAGE,
                ContentItem::VideoUrl { video_url, .. } => media.video(&video_url.url),
                ContentItem::AudioUrl { .. } => media.kinds |= Spec::AUDIO,
                ContentItem::DraftTask { .. } => media.kinds |= Spec::DRAFT,
                ContentItem::Text { .. } => {}
            }
        }
        of_asked!(req, media)
    }

    fn with_audio(self, audio: Option<bool>) -> Spec {
        Spec { audio, ..self }
    }

    fn of_asked(
        model: &str,
        resolution: Option<&str>,
        ratio: Option<&str>,
        duration: Option<i64>,
        frames: Option<i64>,
        media: Media,
    ) -> Spec {
        let has_input_video = media.kinds & Spec::VIDEO != 0;
        Spec {
            resolution: resolution.map(intern),
            ratio: ratio.map(intern),
            duration,
            estimate: crate::api::models::estimate_asked_tokens(&crate::api::models::Asked {
                model,
                resolution,
                ratio,
                frames,
                duration,
                input_video_seconds: media.video_seconds,
                has_input_video,
            }),
            has_input_video,
            input_video_unread: media.video_unread,
            media: media.kinds,
            audio: None,
        }
    }
}

/// A request's facts as stored with its task (`tasks.shape`): what a listing reads instead of
/// the request. A request holding only what [`Spec::of_json`] reads (the model, resolution,
/// ratio, duration, frames, audio, one item per kind of media), so it gives the same facts and
/// tasks that differ in their prompts or files share it; `{}` for a request that is none (no
/// facts); empty when the facts depend on this process (a reference video's length, learned as
/// it runs): the listing then reads the request.
pub(crate) fn shape_of(request_json: &str) -> String {
    use crate::api::types::ContentItem;
    use serde_json::json;
    let Ok(req) = CreateRequest::from_json(request_json) else {
        return "{}".into();
    };
    let mut kinds = 0u8;
    for item in &req.content {
        match item {
            ContentItem::ImageUrl { .. } => kinds |= Spec::IMAGE,
            ContentItem::AudioUrl { .. } => kinds |= Spec::AUDIO,
            ContentItem::DraftTask { .. } => kinds |= Spec::DRAFT,
            ContentItem::VideoUrl { .. } => return String::new(),
            ContentItem::Text { .. } => {}
        }
    }
    let mut content = Vec::new();
    if kinds & Spec::IMAGE != 0 {
        content.push(json!({"type": "image_url", "image_url": {"url": ""}}));
    }
    if kinds & Spec::AUDIO != 0 {
        content.push(json!({"type": "audio_url", "audio_url": {"url": ""}}));
    }
    if kinds & Spec::DRAFT != 0 {
        content.push(json!({"type": "draft_task", "draft_task": {"id": ""}}));
    }
    let mut shape = serde_json::Map::new();
    shape.insert("model".into(), json!(req.model));
    shape.insert("content".into(), json!(content));
    let mut put = |key: &str, v: serde_json::Value| {
        if !v.is_null() {
            shape.insert(key.into(), v);
        }
    };
    put("resolution", json!(req.resolution));
    put("ratio", json!(req.ratio));
    put("duration", json!(req.duration));
    put("frames", json!(req.frames));
    put("generate_audio", json!(req.generate_audio));
    serde_json::Value::Object(shape).to_string()
}

/// The facts of stored shapes ([`shape_of`]) read in one pass: a store holds a few distinct
/// ones, so most rows are a lookup of a short text.
#[derive(Default)]
pub(super) struct ShapeMemo {
    table: hashbrown::HashMap<Box<str>, Arc<Spec>>,
}

impl ShapeMemo {
    pub(super) fn spec(&mut self, shape: &str) -> Arc<Spec> {
        if let Some(spec) = self.table.get(shape) {
            return spec.clone();
        }
        let spec = Spec::of_json(shape).shared();
        if self.table.len() < MEMO_LIMIT && shape.len() <= MEMO_MAX_LEN {
            self.table.insert(shape.into(), spec.clone());
        }
        spec
    }
}

/// The media a request carries: its kinds, and its reference videos' known seconds.
#[derive(Default)]
struct Media {
    kinds: u8,
    video_seconds: f64,
    /// A reference video's seconds are not known to this process.
    video_unread: bool,
}

impl Media {
    fn video(&mut self, url: &str) {
        self.kinds |= Spec::VIDEO;
        match crate::api::models::known_video_seconds(url) {
            Some(s) => self.video_seconds += s,
            None => self.video_unread = true,
        }
    }
}

/// A create request as [`Spec::of_json`] reads it: the fields the facts come from, borrowed,
/// and every other field [`CreateRequest`] knows held to the type it requires (so what this
/// takes, the full parse takes too); anything else is skipped unread. `null` is absent, as in
/// [`CreateRequest::from_json`].
#[derive(serde::Deserialize)]
struct AskedJson<'a> {
    #[serde(borrow)]
    model: Cow<'a, str>,
    #[serde(borrow, default, deserialize_with = "null_is_empty")]
    content: Vec<AskedItem<'a>>,
    #[serde(borrow)]
    ratio: Option<Cow<'a, str>>,
    duration: Option<i64>,
    frames: Option<i64>,
    #[serde(borrow)]
    resolution: Option<Cow<'a, str>>,
    #[serde(rename = "seed")]
    _seed: Option<i64>,
    #[serde(rename = "camera_fixed")]
    _camera_fixed: Option<bool>,
    #[serde(rename = "watermark")]
    _watermark: Option<bool>,
    generate_audio: Option<bool>,
    #[serde(rename = "return_last_frame")]
    _return_last_frame: Option<bool>,
    #[serde(borrow, rename = "callback_url")]
    _callback_url: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "service_tier")]
    _service_tier: Option<Cow<'a, str>>,
    #[serde(rename = "execution_expires_after")]
    _execution_expires_after: Option<i64>,
    #[serde(rename = "draft")]
    _draft: Option<bool>,
    #[serde(borrow, rename = "safety_identifier")]
    _safety_identifier: Option<Cow<'a, str>>,
    #[serde(rename = "priority")]
    _priority: Option<i64>,
    #[serde(rename = "tools")]
    _tools: Option<Vec<serde::de::IgnoredAny>>,
    #[serde(borrow, rename = "output_format")]
    _output_format: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "omni_reference_task_type")]
    _omni_reference_task_type: Option<Cow<'a, str>>,
}

/// One `content[]` item: its `type` and whichever of the fields the variants hold it has.
#[derive(serde::Deserialize)]
struct AskedItem<'a> {
    #[serde(borrow, rename = "type")]
    kind: Cow<'a, str>,
    text: Option<AnyStr>,
    #[serde(borrow)]
    image_url: Option<AskedUrl<'a>>,
    #[serde(borrow)]
    video_url: Option<AskedUrl<'a>>,
    #[serde(borrow)]
    audio_url: Option<AskedUrl<'a>>,
    #[serde(borrow, rename = "role")]
    _role: Option<Cow<'a, str>>,
    #[serde(borrow)]
    draft_task: Option<AskedDraft<'a>>,
}

/// A JSON string whose text is not kept, only checked to be one: a prompt may be megabytes
/// (serde copies an `Option<Cow<str>>`'s text; a borrowed string visited here is not copied).
struct AnyStr;

impl<'de> serde::Deserialize<'de> for AnyStr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<AnyStr, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = AnyStr;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<AnyStr, E> {
                Ok(AnyStr)
            }
        }
        d.deserialize_str(Visitor)
    }
}

#[derive(serde::Deserialize)]
struct AskedUrl<'a> {
    #[serde(borrow)]
    url: Cow<'a, str>,
}

#[derive(serde::Deserialize)]
struct AskedDraft<'a> {
    #[serde(borrow, rename = "id")]
    _id: Cow<'a, str>,
}

fn null_is_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    Ok(<Option<Vec<T>> as serde::Deserialize>::deserialize(d)?.unwrap_or_default())
}

impl AskedJson<'_> {
    /// The facts, when every item is one of the kinds a request holds with its field present
    /// (else `None`: the full parse decides).
    fn spec(&self) -> Option<Spec> {
        let mut media = Media::default();
        for item in &self.content {
            match &*item.kind {
                "text" if item.text.is_some() => {}
                "image_url" if item.image_url.is_some() => media.kinds |= Spec::IMAGE,
                "video_url" => media.video(&item.video_url.as_ref()?.url),
                "audio_url" if item.audio_url.is_some() => media.kinds |= Spec::AUDIO,
                "draft_task" if item.draft_task.is_some() => media.kinds |= Spec::DRAFT,
                _ => return None,
            }
        }
        Some(of_asked!(self, media))
    }
}

/// The facts of the requests read in one pass over the store, by each request's text without
/// its prompt: the tasks of a batch differ in the prompt alone, so most rows are a lookup
/// instead of a parse. Requests that cannot be split this way (the prompt not found verbatim)
/// are parsed as ever. Held for one pass only: a reference video's length learned later
/// changes the facts.
#[derive(Default)]
pub(super) struct SpecMemo {
    table: hashbrown::HashTable<(Box<str>, Box<str>, Arc<Spec>)>,
    hasher: hashbrown::DefaultHashBuilder,
}

/// Distinct request shapes remembered in one pass, and the longest remembered: past either a
/// request is parsed (a store whose every request names its own files has no shapes to share).
const MEMO_LIMIT: usize = 1024;
const MEMO_MAX_LEN: usize = 4096;

impl SpecMemo {
    /// The shared facts of `request_json`, whose first text item is `prompt`.
    pub(super) fn spec(&mut self, request_json: &str, prompt: &str) -> Arc<Spec> {
        let Some(at) = prompt_at(request_json, prompt) else {
            return Spec::of_json(request_json).shared();
        };
        let (before, after) = (&request_json[..at], &request_json[at + prompt.len()..]);
        let hash = {
            use std::hash::{BuildHasher, Hasher};
            let mut h = self.hasher.build_hasher();
            h.write(before.as_bytes());
            h.write_u8(0xff);
            h.write(after.as_bytes());
            h.finish()
        };
        if let Some((_, _, spec)) = self
            .table
            .find(hash, |(b, a, _)| **b == *before && **a == *after)
        {
            return spec.clone();
        }
        let spec = Spec::of_json(request_json).shared();
        if self.table.len() < MEMO_LIMIT && before.len() + after.len() <= MEMO_MAX_LEN {
            let hasher = &self.hasher;
            self.table.insert_unique(
                hash,
                (before.into(), after.into(), spec.clone()),
                |(b, a, _)| {
                    use std::hash::{BuildHasher, Hasher};
                    let mut h = hasher.build_hasher();
                    h.write(b.as_bytes());
                    h.write_u8(0xff);
                    h.write(a.as_bytes());
                    h.finish()
                },
            );
        }
        spec
    }
}

/// Where `prompt` is in `request_json` as the whole value of a `"text"` key, written as it is.
/// Only a prompt JSON writes verbatim (no quote, backslash or control character) is looked
/// for: then the bytes found are exactly one string's content, and requests alike but for it
/// have the same facts (no fact is read from a `"text"` value).
fn prompt_at(request_json: &str, prompt: &str) -> Option<usize> {
    if prompt.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        return None;
    }
    const KEY: &str = "\"text\":\"";
    static FINDER: OnceLock<memchr::memmem::Finder<'static>> = OnceLock::new();
    let json = request_json.as_bytes();
    FINDER
        .get_or_init(|| memchr::memmem::Finder::new(KEY))
        .find_iter(json)
        .map(|i| i + KEY.len())
        .find(|&at| {
            json[at..].starts_with(prompt.as_bytes()) && json.get(at + prompt.len()) == Some(&b'"')
        })
}

/// Which result files a task has: links from the server, files saved here.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResultFiles {
    pub(crate) video_url: bool,
    pub(crate) last_frame_url: bool,
    pub(crate) video_saved: bool,
    pub(crate) last_frame_saved: bool,
}

/// What few rows have (a failure, a retry's original, a batch line's label), out of line so the
/// rest pay one pointer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowExtra {
    pub(crate) error_code: Option<Box<str>>,
    pub(crate) error_message: Option<Box<str>>,
    /// `local_id` of the task this one retries.
    pub retry_of: Option<Box<str>>,
    /// The batch line's label (see [`label`]: shared, never empty).
    pub label: Option<Arc<str>>,
}

/// A stored label as a row keeps it: one shared copy (a batch often repeats its labels, and
/// retries keep theirs), none for an empty one.
pub fn label(stored: &str) -> Option<Arc<str>> {
    (!stored.is_empty()).then(|| intern(stored))
}

/// One task as the dashboard keeps it (see the module's comment). Built from the store by
/// [`Store::list_rows`](super::Store::list_rows), or from a full record with `From`.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRow {
    /// Ids are held inline up to 24 bytes (a local id is 21, an Ark task id 24): no allocation.
    pub(crate) local_id: CompactString,
    pub(crate) task_id: Option<CompactString>,
    pub phase: Phase,
    pub(crate) profile: Arc<str>,
    pub(crate) model: Arc<str>,
    /// The prompt (first text item), for display and filtering.
    pub(crate) prompt: Box<str>,
    pub(crate) spec: Arc<Spec>,
    pub(crate) retry_depth: u32,
    pub(crate) results: ResultFiles,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
    pub(crate) started_at: Option<i64>,
    pub(crate) finished_at: Option<i64>,
    pub(crate) tokens: Option<u64>,
    /// Unix seconds when the result links were first seen (they die ~24 h later).
    pub(crate) urls_seen_at: Option<i64>,
    pub(super) extra: Option<Box<RowExtra>>,
}

impl TaskRow {
    /// The server id when known, else the local id: what to show and what to accept as a key.
    pub(crate) fn display_id(&self) -> &str {
        self.task_id.as_deref().unwrap_or(&self.local_id)
    }

    pub(crate) fn error_code(&self) -> Option<&str> {
        self.extra.as_ref()?.error_code.as_deref()
    }

    pub(crate) fn error_message(&self) -> Option<&str> {
        self.extra.as_ref()?.error_message.as_deref()
    }

    /// `local_id` of the task this one retries.
    pub(crate) fn retry_of(&self) -> Option<&str> {
        self.extra.as_ref()?.retry_of.as_deref()
    }

    /// The batch line's label (never empty); raw: sanitize before a terminal.
    pub fn label(&self) -> Option<&str> {
        self.extra.as_ref()?.label.as_deref()
    }

    /// Set the rarely-set fields (`None` everywhere keeps no allocation).
    pub(crate) fn set_extra(&mut self, extra: RowExtra) {
        self.extra = (extra != RowExtra::default()).then(|| Box::new(extra));
    }

    /// Seconds asked for (0 when the request names none: the model's default).
    pub(crate) fn requested_duration(&self) -> i64 {
        self.spec.duration.unwrap_or(0)
    }
}

impl From<&TaskRecord> for TaskRow {
    fn from(r: &TaskRecord) -> TaskRow {
        let mut row = TaskRow {
            local_id: r.local_id.as_str().into(),
            task_id: r.task_id.as_deref().map(Into::into),
            phase: r.phase.clone(),
            profile: intern(&r.profile),
            model: intern(&r.model),
            prompt: r.prompt.as_str().into(),
            spec: match &r.request_facts {
                Some(spec) => spec.clone(),
                None => Spec::of_json(&r.request_json).shared(),
            },
            retry_depth: r.retry_depth,
            results: ResultFiles {
                video_url: r.video_url.is_some(),
                last_frame_url: r.last_frame_url.is_some(),
                video_saved: r.video_path.is_some(),
                last_frame_saved: r.last_frame_path.is_some(),
            },
            created_at: r.created_at,
            updated_at: r.updated_at,
            started_at: r.started_at,
            finished_at: r.finished_at,
            tokens: r.tokens,
            urls_seen_at: r.urls_seen_at,
            extra: None,
        };
        row.set_extra(RowExtra {
            error_code: r.error_code.as_deref().map(Into::into),
            error_message: r.error_message.as_deref().map(Into::into),
            retry_of: r.retry_of.as_deref().map(Into::into),
            label: r.label.as_deref().and_then(label),
        });
        row
    }
}

impl From<TaskRecord> for TaskRow {
    fn from(r: TaskRecord) -> TaskRow {
        TaskRow::from(&r)
    }
}

/// What the ETA and the budget read of a task, from a full record or a dashboard row.
pub trait TaskFacts {
    fn local_id(&self) -> &str;
    fn phase(&self) -> &Phase;
    fn profile(&self) -> &str;
    fn model(&self) -> &str;
    fn created_at(&self) -> i64;
    fn started_at(&self) -> Option<i64>;
    fn finished_at(&self) -> Option<i64>;
    /// Tokens billed, once the server said.
    fn tokens(&self) -> Option<u64>;
    /// The facts of its create request (a record parses its JSON; a row has them).
    fn spec(&self) -> std::borrow::Cow<'_, Spec>;
}

macro_rules! facts {
    ($t:ty, |$r:ident| $spec:expr) => {
        impl TaskFacts for $t {
            fn local_id(&self) -> &str {
                &self.local_id
            }
            fn phase(&self) -> &Phase {
                &self.phase
            }
            fn profile(&self) -> &str {
                &self.profile
            }
            fn model(&self) -> &str {
                &self.model
            }
            fn created_at(&self) -> i64 {
                self.created_at
            }
            fn started_at(&self) -> Option<i64> {
                self.started_at
            }
            fn finished_at(&self) -> Option<i64> {
                self.finished_at
            }
            fn tokens(&self) -> Option<u64> {
                self.tokens
            }
            fn spec(&self) -> std::borrow::Cow<'_, Spec> {
                let $r = self;
                $spec
            }
        }
    };
}

facts!(TaskRecord, |r| match &r.request_facts {
    Some(spec) => std::borrow::Cow::Borrowed(&**spec),
    None => std::borrow::Cow::Owned(Spec::of_json(&r.request_json)),
});
facts!(TaskRow, |r| std::borrow::Cow::Borrowed(&*r.spec));

/// How many distinct strings are shared at most, and the longest shared; past either a string is
/// simply copied (a store written by hand with a new model name per row, or a megabyte one, must
/// not grow the table without end: it is never emptied).
const INTERN_LIMIT: usize = 4096;
const INTERN_MAX_LEN: usize = 128;

/// One shared copy of a short string that many rows repeat (a profile, a model, a ratio).
pub fn intern(s: &str) -> Arc<str> {
    static TABLE: OnceLock<Mutex<HashSet<Arc<str>>>> = OnceLock::new();
    let table = TABLE.get_or_init(Default::default);
    // A poisoned lock only means another thread panicked mid-insert: the set is still valid.
    let mut set = table.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(shared) = set.get(s) {
        return shared.clone();
    }
    let shared: Arc<str> = Arc::from(s);
    if s.len() <= INTERN_MAX_LEN && set.len() < INTERN_LIMIT {
        set.insert(shared.clone());
    }
    shared
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_keeps_what_the_table_reads_and_flags_for_the_rest() {
        let r = TaskRecord {
            request_json: r#"{"model":"m","content":[{"type":"text","text":"a cat"}],"resolution":"480p","ratio":"16:9","duration":7}"#.into(),
            video_url: Some("https://x/v.mp4".into()),
            last_frame_path: Some("/tmp/f.png".into()),
            error_code: Some("E".into()),
            retry_of: Some("l0".into()),
            label: Some("lighthouse-1".into()),
            ..TaskRecord::factory("l1", Phase::Pending, 5)
        };
        let row = TaskRow::from(&r);
        assert_eq!(&*row.local_id, "l1");
        assert_eq!(row.spec.resolution.as_deref(), Some("480p"));
        assert_eq!(row.spec.ratio.as_deref(), Some("16:9"));
        assert_eq!(row.spec.duration, Some(7));
        assert!(row.spec.estimate > 0);
        assert_eq!(
            row.results,
            ResultFiles {
                video_url: true,
                last_frame_url: false,
                video_saved: false,
                last_frame_saved: true
            }
        );
        assert_eq!(row.error_code(), Some("E"));
        assert_eq!(row.error_message(), None);
        assert_eq!(row.retry_of(), Some("l0"));
        assert_eq!(row.label(), Some("lighthouse-1"));
        // Nothing rare set: no out-of-line part.
        let plain = TaskRow::from(TaskRecord::factory("l2", Phase::Pending, 5));
        assert!(plain.extra.is_none());
        assert_eq!(plain.retry_of(), None);
        assert_eq!(plain.label(), None);
        // An empty label is none; equal labels are one copy.
        let empty = TaskRow::from(TaskRecord {
            label: Some(String::new()),
            ..TaskRecord::factory("l3", Phase::Pending, 5)
        });
        assert!(empty.extra.is_none());
        let again = TaskRow::from(TaskRecord {
            label: Some("lighthouse-1".into()),
            ..TaskRecord::factory("l4", Phase::Pending, 5)
        });
        assert!(Arc::ptr_eq(
            row.extra
                .as_ref()
                .and_then(|e| e.label.as_ref())
                .expect("label"),
            again
                .extra
                .as_ref()
                .and_then(|e| e.label.as_ref())
                .expect("label"),
        ));
    }

    #[test]
    fn rows_asking_the_same_share_one_spec_and_the_row_stays_small() {
        let a = TaskRow::from(TaskRecord::factory("l1", Phase::Pending, 5));
        let b = TaskRow::from(TaskRecord::factory("l2", Phase::Pending, 6));
        assert!(Arc::ptr_eq(&a.spec, &b.spec));
        // 100k rows are held at once: each byte here is 100 kB there.
        assert!(
            std::mem::size_of::<TaskRow>() <= 224,
            "{}",
            std::mem::size_of::<TaskRow>()
        );
    }

    #[test]
    fn shared_strings_are_one_copy() {
        let (a, b) = (
            intern("doubao-seedance-2-0-260128"),
            intern("doubao-seedance-2-0-260128"),
        );
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &intern("other")));
        // A long one is copied, never kept in the table.
        let long = "x".repeat(INTERN_MAX_LEN + 1);
        assert!(!Arc::ptr_eq(&intern(&long), &intern(&long)));
        assert_eq!(&*intern(&long), long);
    }

    #[test]
    fn an_unreadable_request_has_no_facts() {
        assert_eq!(Spec::of_json("not json"), Spec::default());
    }

    /// The facts as a full parse of the request gives them.
    fn parsed(json: &str) -> Spec {
        CreateRequest::from_json(json)
            .map(|r| Spec::of(&r))
            .unwrap_or_default()
    }

    #[test]
    fn the_one_pass_read_of_a_request_gives_the_full_parse_facts() {
        crate::api::models::remember_video_seconds("https://x/known.mp4", 4.0);
        let items = [
            r#"{"type":"text","text":"a cat"}"#,
            r#"{"type":"text","text":"esc\"aped \u00e9"}"#,
            r#"{"type":"image_url","image_url":{"url":"https://x/a.png","w":1},"role":"first_frame"}"#,
            r#"{"type":"image_url","image_url":{"url":"https://x/a.png"},"role":null}"#,
            r#"{"type":"video_url","video_url":{"url":"https://x/known.mp4"},"role":"reference_video"}"#,
            r#"{"type":"video_url","video_url":{"url":"https://x/unknown.mp4"}}"#,
            r#"{"type":"audio_url","audio_url":{"url":"https://x/a.mp3"}}"#,
            r#"{"type":"draft_task","draft_task":{"id":"cgt-1"}}"#,
            r#"{"text":"a cat","type":"text","role":"odd"}"#,
            // Refused by the full parse: unknown type, a missing or null field, wrong types.
            r#"{"type":"sticker","text":"x"}"#,
            r#"{"type":"text"}"#,
            r#"{"type":"text","text":null}"#,
            r#"{"type":"image_url","image_url":{"url":null}}"#,
            r#"{"type":"video_url"}"#,
            r#"{"type":"text","text":5}"#,
            r#"{"type":"image_url","image_url":{"url":"u"},"role":5}"#,
            r#"["text","a cat"]"#,
            "null",
        ];
        let fields = [
            "",
            r#","ratio":"16:9","resolution":"1080p","duration":7"#,
            r#","ratio":null,"resolution":null,"duration":null,"frames":null"#,
            r#","frames":121,"duration":5"#,
            r#","duration":-1"#,
            r#","duration":5.5"#,
            r#","duration":"5""#,
            r#","seed":"x""#,
            r#","seed":null,"watermark":true,"tools":[{"type":"web_search"},null]"#,
            r#","tools":{"a":1}"#,
            r#","camera_fixed":"yes""#,
            r#","callback_url":7"#,
            r#","service_tier":"flex","priority":3,"safety_identifier":"s""#,
            r#","unknown_field":{"deep":[null,1]},"another":null"#,
            r#","duration":5,"duration":6"#,
        ];
        let heads = [
            r#"{"model":"doubao-seedance-2-0-260128""#,
            r#"{"model":"doubao-seedance-2-0-fast-260128""#,
            r#"{"model":"unknown-model""#,
            r#"{"model":null"#,
            r#"{"model":5"#,
            "{",
        ];
        let mut checked = 0;
        for head in heads {
            for extra in fields {
                for content in [
                    String::new(),
                    r#","content":null"#.to_string(),
                    r#","content":"x""#.to_string(),
                ]
                .into_iter()
                .chain(items.iter().map(|i| format!(r#","content":[{i}]"#)))
                .chain(std::iter::once(format!(
                    r#","content":[{},{},{}]"#,
                    items[0], items[4], items[7]
                ))) {
                    let json = format!("{head}{content}{extra}}}").replacen("{,", "{", 1);
                    assert_eq!(Spec::of_json(&json), parsed(&json), "{json}");
                    assert_shape_gives_the_facts(&json);
                    checked += 1;
                }
            }
        }
        assert!(checked > 1000);
        for other in ["", "[]", "[1]", "5", r#""{}""#, "{} x", r#"{"model":"m"} "#] {
            assert_eq!(Spec::of_json(other), parsed(other), "{other:?}");
            assert_shape_gives_the_facts(other);
        }
        // The usual stored request is read by the one pass.
        let usual = r#"{"model":"doubao-seedance-2-0-260128","content":[{"type":"text","text":"a cat"}],"ratio":"16:9","duration":5,"resolution":"720p","generate_audio":false}"#;
        let asked = serde_json::from_str::<AskedJson<'_>>(usual).expect("one pass");
        assert_eq!(asked.spec(), Some(parsed(usual)));
        assert!(parsed(usual).estimate > 0);
    }

    /// The stored shape of `json` gives its facts, or is empty (read the request) exactly when
    /// the request has a reference video.
    fn assert_shape_gives_the_facts(json: &str) {
        let shape = shape_of(json);
        let facts = parsed(json);
        if shape.is_empty() {
            assert!(facts.has_input_video, "{json}: no shape without a video");
        } else {
            assert!(
                !facts.has_input_video,
                "{json}: a video's length is no shape's"
            );
            assert_eq!(Spec::of_json(&shape), facts, "{json} as {shape}");
        }
    }

    #[test]
    fn a_stored_shape_gives_the_requests_facts_without_its_prompt_or_files() {
        let with = |prompt: &str, image: &str, extra: &str| {
            format!(
                r#"{{"model":"doubao-seedance-2-0-260128","content":[{{"type":"text","text":"{prompt}"}},{{"type":"image_url","image_url":{{"url":"{image}"}},"role":"first_frame"}},{{"type":"audio_url","audio_url":{{"url":"a.mp3"}}}},{{"type":"draft_task","draft_task":{{"id":"cgt-9"}}}}]{extra}}}"#
            )
        };
        for extra in [
            "",
            r#","generate_audio":true,"resolution":"1080p","ratio":"9:16","duration":-1"#,
            r#","generate_audio":false,"frames":121,"seed":3,"watermark":true"#,
        ] {
            let (a, b) = (
                with("a cat", "https://x/1.png", extra),
                with("a dog", "data:x", extra),
            );
            assert_eq!(
                shape_of(&a),
                shape_of(&b),
                "the prompt and files are no part of it"
            );
            assert_shape_gives_the_facts(&a);
            let facts = parsed(&a);
            assert_eq!(facts.media, Spec::IMAGE | Spec::AUDIO | Spec::DRAFT);
        }
        assert_eq!(shape_of("not json"), "{}");
        assert_eq!(Spec::of_json("{}"), Spec::default());
        let video = r#"{"model":"m","content":[{"type":"video_url","video_url":{"url":"https://x/v.mp4"}}]}"#;
        assert_eq!(shape_of(video), "");
    }
}
