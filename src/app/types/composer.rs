//! The composer's data: the editor (prompt, parameters, assets, mode), the form's fields, the
//! keys' intents, and what the composer asks of the runtime and hears back. A leaf: no reducer.

use crate::api::types::{ContentItem, CreateRequest, MediaKind, Role};
use crate::api::validate::Problem;
use crate::config::RequestDefaults;
use crate::engine::asset_files::AssetFiles;
use ratatui_textarea::TextArea;

/// Seconds of quiet after which an edited draft is written to the store.
pub(crate) const SAVE_IDLE_SECS: i64 = 1;
/// While typing continuously, the draft is written at least this often.
pub(crate) const SAVE_MAX_SECS: i64 = 3;

/// One image, video or audio item: a URL or a local file path, and its role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Asset {
    pub(crate) kind: MediaKind,
    /// `https://…`, `asset://…`, `data:…`, or a local file path (inlined at submit).
    pub(crate) target: String,
    pub(crate) role: Role,
    /// The local file an inlined (`data:`) target was made from, when known (an edited task's
    /// `asset_files`): its base name, as the filesystem gave it (sanitize it to show it).
    pub(crate) name: Option<String>,
}

impl Asset {
    /// True when the target is a local file (to be turned into a `data:` URL at submit).
    pub(crate) fn is_local(&self) -> bool {
        !self.target.trim().is_empty() && !crate::engine::assets::is_url(&self.target)
    }
}

/// What the one-line input at the bottom of the composer is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum InputPurpose {
    /// The target (URL or path) of asset `n`; `fresh` when it was just added (Esc removes it).
    AssetTarget {
        index: usize,
        fresh: bool,
    },
    RenameDraft,
    SaveTemplate,
    LoadJson,
    ExportJson,
}

impl InputPurpose {
    pub(crate) fn label(&self) -> &'static str {
        match self {
            InputPurpose::AssetTarget { .. } => "URL or file path",
            InputPurpose::RenameDraft => "draft name",
            InputPurpose::SaveTemplate => "template name",
            InputPurpose::LoadJson => "load request from JSON file",
            InputPurpose::ExportJson => "export request to JSON file",
        }
    }

    /// Whether Tab completes file paths here.
    pub(crate) fn completes_paths(&self) -> bool {
        matches!(
            self,
            InputPurpose::AssetTarget { .. } | InputPurpose::LoadJson | InputPurpose::ExportJson
        )
    }
}

/// Which list the picker shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PickerKind {
    Drafts,
    Templates,
}

/// What the composer shows over its form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Mode {
    Edit,
    /// A one-line input; `candidates` are the last path completions.
    Input {
        purpose: InputPurpose,
        text: String,
        candidates: Vec<String>,
    },
    /// A list of drafts or templates: (name, json).
    Picker {
        kind: PickerKind,
        items: Vec<(String, String)>,
        selected: usize,
    },
    /// The exact body and a curl command (`body` is `None` until the runtime has resolved it).
    Preview {
        body: Option<Result<String, String>>,
        scroll: u16,
    },
    /// The request is on its way.
    Submitting,
}

/// The state of the open composer.
#[derive(Debug, Clone)]
pub(crate) struct Editor {
    /// The draft's name in the store.
    pub(crate) name: String,
    /// The task this one is an edit of (`e`), recorded as lineage.
    pub(crate) retry_of: Option<String>,
    /// Every field other than content and duration (unknown fields kept for the round trip).
    pub(crate) base: CreateRequest,
    /// Kept aside so that `frames` can override it without losing it.
    pub(crate) duration: Option<i64>,
    pub(crate) prompt: TextArea<'static>,
    pub(crate) assets: Vec<Asset>,
    /// Content items the form does not edit (e.g. `draft_task`), sent after the assets.
    pub(crate) other_content: Vec<ContentItem>,
    pub(crate) focus: Field,
    /// The selected asset row.
    pub(crate) asset_sel: usize,
    /// What a field being typed into holds (seed, expiry, callback URL).
    pub(crate) typing: Option<String>,
    /// Problems found by `validate`, located in the form.
    pub(crate) problems: Vec<ProblemAt>,
    /// The server's answer to the last submission, shown beside the field it names.
    pub(crate) server_error: Option<ProblemAt>,
    pub(crate) mode: Mode,
    /// Unix second of the first edit not yet written to the store.
    pub(crate) unsaved_since: Option<i64>,
    /// Unix second of the last edit.
    pub(crate) edited_at: i64,
    /// Unix second of the last write to the store (`None`: never written).
    pub(crate) saved_at: Option<i64>,
    /// Position in the prompt history while recalling (0 = the newest earlier prompt).
    pub(crate) history_pos: Option<usize>,
    /// What was typed before recalling history.
    pub(crate) history_stash: Option<String>,
    /// Local files looked at by the runtime: size in bytes, or why they cannot be sent
    /// (`None` while the answer is pending).
    pub(crate) files: std::collections::HashMap<String, Option<Result<u64, String>>>,
    /// The last submission was refused by the daily spending cap: the next `Ctrl-S` is the
    /// user's explicit confirmation and sends it anyway.
    pub(crate) over_budget_ok: bool,
    /// Local videos and audios go through the `[assets] upload_to` bucket (so a local video is
    /// no problem); set by [`Composer::install`].
    pub(crate) uploads: bool,
    /// `[defaults] ratio` while the user has not chosen one (`base.ratio` is then unset): sent
    /// for text and reference requests; a frame image gets `adaptive` instead.
    pub(crate) default_ratio: Option<String>,
    /// The local file names of the `data:` URLs the request carries (from the edited task),
    /// sent with the submission so the new task keeps them.
    pub(crate) asset_files: AssetFiles,
}

impl Editor {
    /// A blank editor from the config defaults.
    pub(crate) fn from_defaults(name: String, d: &RequestDefaults) -> Editor {
        let base = CreateRequest {
            model: d.model.clone(),
            duration: Some(d.duration),
            resolution: Some(d.resolution.clone()),
            watermark: Some(d.watermark),
            generate_audio: Some(d.generate_audio),
            return_last_frame: d.return_last_frame.then_some(true),
            ..CreateRequest::default()
        };
        let mut e = Editor::from_request(name, base, None);
        e.default_ratio = Some(d.ratio.clone());
        e.revalidate();
        e
    }

    /// An editor holding `req` (content split into prompt, assets and other items).
    pub(crate) fn from_request(
        name: String,
        mut req: CreateRequest,
        retry_of: Option<String>,
    ) -> Editor {
        let mut prompt = None;
        let mut assets = Vec::new();
        let mut other = Vec::new();
        for item in std::mem::take(&mut req.content) {
            if let Some((kind, url, role)) = item.as_media() {
                let role = role.cloned().unwrap_or_else(|| kind.roles()[0].clone());
                assets.push(Asset {
                    kind,
                    target: url.to_string(),
                    role,
                    name: None,
                });
                continue;
            }
            match item {
                ContentItem::Text { text } if prompt.is_none() => prompt = Some(text),
                other_item => other.push(other_item),
            }
        }
        let duration = req.duration.take();
        let mut e = Editor {
            name,
            retry_of,
            base: req,
            duration,
            prompt: textarea(prompt.as_deref().unwrap_or("")),
            assets,
            other_content: other,
            focus: Field::Prompt,
            asset_sel: 0,
            typing: None,
            problems: Vec::new(),
            server_error: None,
            mode: Mode::Edit,
            unsaved_since: None,
            edited_at: 0,
            saved_at: None,
            history_pos: None,
            history_stash: None,
            files: Default::default(),
            over_budget_ok: false,
            uploads: false,
            default_ratio: None,
            asset_files: AssetFiles::default(),
        };
        e.revalidate();
        e
    }

    /// Know the local file names of the request's inlined files: each `data:` asset shows its
    /// own (hashed once here, not at every frame).
    pub(crate) fn name_files(&mut self, files: AssetFiles) {
        for a in &mut self.assets {
            a.name = files.name(&a.target).map(str::to_string);
        }
        self.asset_files = files;
    }

    /// The prompt text.
    pub(crate) fn prompt_text(&self) -> String {
        self.prompt.lines().join("\n")
    }

    /// Characters in the prompt.
    pub(crate) fn prompt_chars(&self) -> usize {
        self.prompt
            .lines()
            .iter()
            .map(|l| l.chars().count())
            .sum::<usize>()
            + self.prompt.lines().len().saturating_sub(1)
    }

    /// The first problem, in form order.
    pub(crate) fn first_problem(&self) -> Option<&ProblemAt> {
        self.problems.first()
    }

    /// The problems shown beside `field` (and asset `index` for the asset list).
    pub(crate) fn problems_at(&self, field: Field, index: Option<usize>) -> Vec<&ProblemAt> {
        self.problems
            .iter()
            .chain(self.server_error.iter())
            .filter(|p| p.field == field && (index.is_none() || p.asset == index))
            .collect()
    }

    /// Ask the runtime about local files not looked at yet.
    pub(crate) fn request_file_checks(&mut self) -> Vec<ComposerEffect> {
        let mut out = Vec::new();
        for a in &self.assets {
            let path = a.target.trim().to_string();
            if a.is_local() && a.kind != MediaKind::Video && !self.files.contains_key(&path) {
                self.files.insert(path.clone(), None);
                out.push(ComposerEffect::CheckFile { path, kind: a.kind });
            }
        }
        out
    }
}

/// A prompt editor holding `text`.
pub(crate) fn textarea(text: &str) -> TextArea<'static> {
    let mut t = TextArea::from(text.split('\n').map(str::to_string));
    t.set_max_histories(500);
    t.set_cursor_line_style(ratatui::style::Style::default());
    t.set_wrap_mode(ratatui_textarea::WrapMode::Word);
    t.move_cursor(ratatui_textarea::CursorMove::Bottom);
    t.move_cursor(ratatui_textarea::CursorMove::End);
    t
}

/// The composer part of the dashboard state.
#[derive(Debug, Clone, Default)]
pub(crate) struct Composer {
    /// `[defaults]` of the config: the starting point of a new draft.
    pub(crate) defaults: RequestDefaults,
    /// The open editor, if the composer is showing.
    pub(crate) editor: Option<Box<Editor>>,
    /// Set between `n` and the drafts arriving from the store (input meanwhile is kept in
    /// `State::pending_input`).
    pub(crate) opening: bool,
    /// The editor whose request is being submitted (the composer is closed meanwhile and
    /// reopens with the error if the request is refused).
    pub(crate) submitting: Option<Box<Editor>>,
    /// Draft names given out in the current clock second (so none is given out twice).
    pub(crate) issued: Vec<String>,
    /// `[assets] upload_to` is set: local references go through the bucket.
    pub(crate) uploads: bool,
}

impl Composer {
    /// Show `e` as the open editor, knowing whether local references go through a bucket.
    pub(crate) fn install(&mut self, mut e: Box<Editor>) {
        if e.uploads != self.uploads {
            e.uploads = self.uploads;
            e.revalidate();
        }
        self.editor = Some(e);
    }

    pub(crate) fn is_open(&self) -> bool {
        self.editor.is_some()
    }
}

/// What the composer asks the runtime to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComposerEffect {
    /// Read every draft (answered with `ComposerMsg::Drafts`).
    LoadDrafts {
        then_open: bool,
    },
    /// Write a draft (answered with `ComposerMsg::Saved`).
    SaveDraft {
        name: String,
        json: String,
        at: i64,
    },
    DeleteDraft(String),
    /// Forget a named template.
    DeleteTemplate(String),
    SaveTemplate {
        name: String,
        json: String,
    },
    /// Read every template (answered with `ComposerMsg::Templates`).
    LoadTemplates,
    /// Read a request from a JSON file (answered with `ComposerMsg::Loaded`).
    LoadJson(String),
    /// Resolve local files and write the body to a file.
    ExportJson {
        path: String,
        request_json: String,
    },
    /// Resolve local files for the preview (answered with `ComposerMsg::Preview`).
    Preview {
        request_json: String,
    },
    /// List completions of a path (answered with `ComposerMsg::Completions`).
    Complete(String),
    /// Check a local asset file's existence and size (answered with `ComposerMsg::FileChecked`).
    CheckFile {
        path: String,
        kind: MediaKind,
    },
    /// Resolve local files, submit once through the engine, and delete the draft when accepted.
    Submit {
        request_json: String,
        retry_of: Option<String>,
        draft: String,
        /// Send even if it passes the daily spending cap (the user confirmed).
        over_budget: bool,
        /// The names the editor knows of the `data:` URLs in `request_json`.
        asset_files: AssetFiles,
    },
}

/// How a submission from the composer ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubmitOutcome {
    Accepted {
        local_id: String,
    },
    /// This profile already has `[submit] max_in_flight` tasks in flight: the request waits in
    /// the submission queue as a `pending` row (nothing sent yet).
    Queued {
        local_id: String,
    },
    /// A local file could not be inlined (nothing was sent).
    AssetError {
        field: String,
        message: String,
    },
    /// The server refused it (stored as `rejected`); `param` names the field when it said.
    Rejected {
        local_id: Option<String>,
        param: Option<String>,
        message: String,
    },
    /// It may have reached the server: stored as `submit_unknown`, never re-sent.
    Unknown {
        local_id: String,
        message: String,
    },
    /// Nothing was sent (the store failed, or validation refused it).
    NotSent(String),
    /// Nothing was sent: it would pass today's spending cap (the numbers).
    OverBudget(String),
}

/// What the runtime reports back to the composer.
#[derive(Debug, Clone)]
pub enum ComposerMsg {
    Drafts {
        items: Vec<(String, String, i64)>,
        then_open: bool,
    },
    Templates(Vec<(String, String)>),
    Saved {
        name: String,
        at: i64,
    },
    SaveFailed(String),
    Loaded(Result<String, String>),
    Exported(Result<String, String>),
    Preview(Result<String, String>),
    Completions {
        input: String,
        matches: Vec<String>,
    },
    FileChecked {
        path: String,
        result: Result<u64, String>,
    },
    Submitted(SubmitOutcome),
}

/// The problem list of an editor, for the tests.
#[cfg(test)]
pub(crate) fn problem_texts(e: &Editor) -> Vec<String> {
    e.problems.iter().map(|p| p.problem.to_string()).collect()
}

/// A place in the composer that can have the keyboard, in Tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Field {
    Prompt,
    Model,
    Ratio,
    Duration,
    Frames,
    Resolution,
    Seed,
    CameraFixed,
    Watermark,
    GenerateAudio,
    ReturnLastFrame,
    ServiceTier,
    Priority,
    ExpiresAfter,
    CallbackUrl,
    WebSearch,
    SafetyIdentifier,
    Assets,
}

impl Field {
    pub(crate) const ALL: [Field; 18] = [
        Field::Prompt,
        Field::Model,
        Field::Ratio,
        Field::Duration,
        Field::Frames,
        Field::Resolution,
        Field::Seed,
        Field::CameraFixed,
        Field::Watermark,
        Field::GenerateAudio,
        Field::ReturnLastFrame,
        Field::ServiceTier,
        Field::Priority,
        Field::ExpiresAfter,
        Field::CallbackUrl,
        Field::WebSearch,
        Field::SafetyIdentifier,
        Field::Assets,
    ];

    /// The form's parameter rows (everything but the prompt and the assets).
    pub(crate) fn form() -> &'static [Field] {
        &Self::ALL[1..Self::ALL.len() - 1]
    }

    /// The name the API uses (and the form shows).
    pub(crate) fn api_name(self) -> &'static str {
        match self {
            Field::Prompt => "prompt",
            Field::Model => "model",
            Field::Ratio => "ratio",
            Field::Duration => "duration",
            Field::Frames => "frames",
            Field::Resolution => "resolution",
            Field::Seed => "seed",
            Field::CameraFixed => "camera_fixed",
            Field::Watermark => "watermark",
            Field::GenerateAudio => "generate_audio",
            Field::ReturnLastFrame => "return_last_frame",
            Field::ServiceTier => "service_tier",
            Field::ExpiresAfter => "execution_expires_after",
            Field::CallbackUrl => "callback_url",
            Field::Priority => "priority",
            Field::WebSearch => "tools",
            Field::SafetyIdentifier => "safety_identifier",
            Field::Assets => "assets",
        }
    }

    /// The field an API parameter name belongs to (`tools[0].type` belongs to `tools`).
    pub(crate) fn from_api(name: &str) -> Option<Field> {
        let name = name.split(['[', '.']).next().unwrap_or(name);
        Self::ALL
            .iter()
            .copied()
            .find(|f| f.api_name() == name && *f != Field::Prompt && *f != Field::Assets)
    }

    pub(crate) fn next(self, delta: isize) -> Field {
        let i = Self::ALL.iter().position(|f| *f == self).unwrap_or(0) as isize;
        let n = Self::ALL.len() as isize;
        Self::ALL[((i + delta) % n + n) as usize % Self::ALL.len()]
    }

    /// The section a field is in: 0 the prompt, 1 the parameters, 2 the assets.
    pub(crate) fn section(self) -> usize {
        match self {
            Field::Prompt => 0,
            Field::Assets => 2,
            _ => 1,
        }
    }

    /// The first field of the section `delta` sections away (`Tab`, `Shift-Tab`), wrapping.
    pub(crate) fn next_section(self, delta: isize) -> Field {
        match (self.section() as isize + delta).rem_euclid(3) {
            0 => Field::Prompt,
            1 => Field::Model,
            _ => Field::Assets,
        }
    }

    /// The parameter `delta` rows away, staying among the parameters (arrows in the form).
    pub(crate) fn next_param(self, delta: isize) -> Field {
        let form = Self::form();
        let i = form.iter().position(|f| *f == self).unwrap_or(0) as isize;
        form[(i + delta).clamp(0, form.len() as isize - 1) as usize]
    }

    /// Fields whose value is typed (digits or text) rather than chosen.
    pub(crate) fn typed(self) -> bool {
        matches!(
            self,
            Field::Seed
                | Field::ExpiresAfter
                | Field::CallbackUrl
                | Field::Duration
                | Field::Frames
                | Field::Priority
                | Field::SafetyIdentifier
        )
    }

    /// Typed fields whose text is edited in place (not replaced by the first key).
    pub(crate) fn edited_as_text(self) -> bool {
        matches!(self, Field::CallbackUrl | Field::SafetyIdentifier)
    }
}

/// A problem and where the form shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProblemAt {
    pub(crate) field: Field,
    /// The asset row, for problems in the asset list.
    pub(crate) asset: Option<usize>,
    pub(crate) problem: Problem,
}

/// What a composer key means (the keymap's composer entries).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ComposerIntent {
    Submit,
    Close,
    NextField,
    PrevField,
    /// `Tab` / `Shift-Tab`: the prompt, the parameters, the assets.
    NextSection,
    PrevSection,
    Preview,
    HistoryPrev,
    HistoryNext,
    Undo,
    Redo,
    Drafts,
    NewBlank,
    RenameDraft,
    SaveTemplate,
    Templates,
    LoadJson,
    ExportJson,
    Decrease,
    Increase,
    AddImage,
    AddVideo,
    AddAudio,
    EditAsset,
    RemoveAsset,
    NextRole,
    MoveAssetUp,
    MoveAssetDown,
    SelectUp,
    SelectDown,
    InputAccept,
    InputCancel,
    InputComplete,
    PickerOpen,
    PickerDelete,
    Back,
    CopyJson,
    CopyCurl,
}
