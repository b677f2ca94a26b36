//! Reducer helpers for results: download progress, `d` (download) and `o` (open), the last-frame
//! preview, batched finish notifications, the extra copy-menu entries, expiry watch and the
//! token/money summary. Pure: time comes from `State::now`, IO happens in the runtime.

use super::effect::Effect;
use super::msg::{Intent, Level};
use super::state::{DetailMode, Overlay, State};
use crate::api::TaskStatus;
use crate::store::{Phase, TaskRecord};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Result URLs die about this long after the task succeeded.
pub const URL_LIFETIME_SECS: i64 = 24 * 3600;

/// Where one task's download stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Transfer {
    /// Waiting for a free slot.
    Queued,
    /// Bytes so far, total when known, bytes per second.
    Active {
        done: u64,
        total: Option<u64>,
        rate: f64,
    },
    /// Gave up (for now); the text says why.
    Failed(String),
}

/// A decoded last frame ready to draw (built off the UI task by the runtime).
#[derive(Clone)]
pub struct PreviewImage(pub Arc<ratatui_image::protocol::Protocol>);

impl std::fmt::Debug for PreviewImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.0.size();
        write!(f, "PreviewImage({}x{})", s.width, s.height)
    }
}

/// What the runtime reports about results.
#[derive(Debug, Clone)]
pub enum ResultsMsg {
    /// A download's state changed.
    Transfer {
        local_id: String,
        transfer: Transfer,
    },
    /// A download finished; the record now carries the file paths.
    Saved(Box<TaskRecord>),
    /// The last frame of a task, decoded for a box of `size` (columns, rows) cells.
    Preview {
        local_id: String,
        size: (u16, u16),
        image: PreviewImage,
    },
    /// The last frame could not be shown.
    PreviewFailed { local_id: String, error: String },
}

/// What the reducer asks the runtime to do about results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResultsEffect {
    /// Download these tasks' results (again, when `force`).
    Download { local_ids: Vec<String>, force: bool },
    /// Decode the last frame (local file first, else the URL) for a box of `cols`x`rows` cells.
    Preview {
        local_id: String,
        path: Option<String>,
        url: Option<String>,
        cols: u16,
        rows: u16,
    },
    /// Open the local video (or, over SSH, show how to fetch it).
    Open { path: String },
    /// Tell the user that tasks finished (bell / desktop notification, per config).
    Notify {
        succeeded: Vec<String>,
        failed: Vec<String>,
    },
}

/// Prices that turn tokens into money.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pricing {
    pub per_million: Option<f64>,
    pub models: HashMap<String, f64>,
    pub currency: String,
}

impl Pricing {
    /// The price of `tokens` on `model`, when a price is known.
    pub fn cost(&self, model: &str, tokens: u64) -> Option<f64> {
        let p = self.models.get(model).copied().or(self.per_million)?;
        Some(tokens as f64 / 1_000_000.0 * p)
    }

    /// Whether any price is configured.
    pub fn enabled(&self) -> bool {
        self.per_million.is_some() || !self.models.is_empty()
    }

    pub fn format(&self, amount: f64) -> String {
        format!("{}{amount:.2}", self.currency)
    }
}

/// Results state kept in [`State::results`].
#[derive(Debug, Clone)]
pub struct Results {
    pub transfers: HashMap<String, Transfer>,
    /// The preview shown in the detail pane, for the task it belongs to.
    pub preview: Option<(String, PreviewImage)>,
    /// The box (columns, rows) the shown preview was made for.
    pub preview_box: Option<(u16, u16)>,
    /// Why the selected task's preview is missing.
    pub preview_error: Option<(String, String)>,
    /// Draw previews at all.
    pub images: bool,
    /// Unsaved results whose link dies within this many seconds are shown in the warning colour.
    pub warn_secs: i64,
    /// Finishes collected for one notification: since when, and which.
    pub batch_since: Option<i64>,
    pub batch_ok: Vec<String>,
    pub batch_failed: Vec<String>,
    /// Seconds a batch stays open.
    pub batch_secs: i64,
    pub pricing: Pricing,
}

impl Default for Results {
    fn default() -> Self {
        Results {
            transfers: HashMap::new(),
            preview: None,
            preview_box: None,
            preview_error: None,
            images: true,
            warn_secs: 2 * 3600,
            batch_since: None,
            batch_ok: Vec::new(),
            batch_failed: Vec::new(),
            batch_secs: 3,
            pricing: Pricing::default(),
        }
    }
}

fn succeeded(t: &TaskRecord) -> bool {
    t.phase == Phase::Remote(TaskStatus::Succeeded)
}

/// Apply a runtime report.
pub fn on_msg(state: &mut State, msg: ResultsMsg) -> Vec<Effect> {
    state.dirty = true;
    match msg {
        ResultsMsg::Transfer { local_id, transfer } => {
            if let Transfer::Failed(e) = &transfer {
                let id = state
                    .task(&local_id)
                    .map(|t| t.display_id().to_string())
                    .unwrap_or_else(|| local_id.clone());
                state.notice(Level::Error, format!("download of {id} failed: {e}"));
            }
            state.results.transfers.insert(local_id, transfer);
            Vec::new()
        }
        ResultsMsg::Saved(record) => {
            state.results.transfers.remove(&record.local_id);
            let selected = state.selected.as_deref() == Some(record.local_id.as_str());
            state.upsert(vec![*record]);
            if selected {
                preview_effect(state)
            } else {
                Vec::new()
            }
        }
        ResultsMsg::Preview {
            local_id,
            size,
            image,
        } => {
            if state.selected.as_deref() == Some(local_id.as_str()) {
                state.results.preview = Some((local_id, image));
                state.results.preview_box = Some(size);
                state.results.preview_error = None;
            }
            Vec::new()
        }
        ResultsMsg::PreviewFailed { local_id, error } => {
            state.results.preview_error = Some((local_id, error));
            Vec::new()
        }
    }
}

/// The preview box (columns, rows) of the detail pane, when the pane is shown.
pub fn preview_box(state: &State) -> Option<(u16, u16)> {
    let d = super::layout::areas(state.size, state.detail).detail?;
    // The pane has a top and a left border; keep at least half of it for text.
    let cols = d.width.saturating_sub(2).min(64);
    let rows = (d.height.saturating_sub(1) / 2).min(14);
    (cols >= 8 && rows >= 3).then_some((cols, rows))
}

/// Ask for the selected task's last frame when the detail pane shows it.
pub fn preview_effect(state: &State) -> Vec<Effect> {
    if !state.results.images || state.detail == DetailMode::Hidden {
        return Vec::new();
    }
    let (Some(t), Some((cols, rows))) = (state.selected_task(), preview_box(state)) else {
        return Vec::new();
    };
    if t.last_frame_path.is_none() && t.last_frame_url.is_none() {
        return Vec::new();
    }
    // Already shown, made for this box.
    if let Some((id, _)) = &state.results.preview
        && id == &t.local_id
        && state.results.preview_box == Some((cols, rows))
    {
        return Vec::new();
    }
    vec![Effect::Results(ResultsEffect::Preview {
        local_id: t.local_id.clone(),
        path: t.last_frame_path.clone(),
        url: t.last_frame_url.clone(),
        cols,
        rows,
    })]
}

/// `d`: download (or download again) the marked, else the selected, succeeded tasks.
pub fn download(state: &mut State) -> Vec<Effect> {
    let targets = state.targets();
    let total = targets.len();
    let ids: Vec<String> = targets
        .into_iter()
        .filter(|t| succeeded(t))
        .map(|t| t.local_id.clone())
        .collect();
    if ids.is_empty() {
        state.notice(
            Level::Warn,
            "nothing to download: select or mark succeeded tasks",
        );
        return Vec::new();
    }
    for id in &ids {
        state.results.transfers.insert(id.clone(), Transfer::Queued);
    }
    let skipped = total - ids.len();
    let mut text = format!("downloading {} task(s)", ids.len());
    if skipped > 0 {
        text.push_str(&format!("; {skipped} not succeeded, skipped"));
    }
    state.notice(Level::Info, text);
    vec![Effect::Results(ResultsEffect::Download {
        local_ids: ids,
        force: true,
    })]
}

/// `o`: open the selected task's saved video.
pub fn open(state: &mut State) -> Vec<Effect> {
    let Some(t) = state.selected_task() else {
        return Vec::new();
    };
    match (&t.video_path, succeeded(t)) {
        (Some(p), _) => vec![Effect::Results(ResultsEffect::Open { path: p.clone() })],
        (None, true) => {
            let msg = format!(
                "{} is not saved yet: press d to download it",
                t.display_id()
            );
            state.notice(Level::Warn, msg);
            Vec::new()
        }
        (None, false) => {
            let msg = format!("{} has no video ({})", t.display_id(), t.phase);
            state.notice(Level::Warn, msg);
            Vec::new()
        }
    }
}

/// A task changed phase: collect finishes for one notification.
pub fn on_phase_change(state: &mut State, r: &TaskRecord) {
    let id = r.display_id().to_string();
    let bucket = match &r.phase {
        Phase::Remote(TaskStatus::Succeeded) => &mut state.results.batch_ok,
        Phase::Remote(TaskStatus::Failed | TaskStatus::Expired) | Phase::Rejected => {
            &mut state.results.batch_failed
        }
        _ => return,
    };
    bucket.push(id);
    if state.results.batch_since.is_none() {
        state.results.batch_since = Some(state.now);
    }
}

/// Close the notification batch when its window has passed (or at once with a zero window).
pub fn flush_notifications(state: &mut State) -> Vec<Effect> {
    let r = &mut state.results;
    match r.batch_since {
        Some(since) if state.now - since >= r.batch_secs => {
            r.batch_since = None;
            vec![Effect::Results(ResultsEffect::Notify {
                succeeded: std::mem::take(&mut r.batch_ok),
                failed: std::mem::take(&mut r.batch_failed),
            })]
        }
        _ => Vec::new(),
    }
}

/// The extra copy-menu entries: last-frame URL and local paths.
pub fn copy(state: &mut State, what: Intent) -> Vec<Effect> {
    let Some(t) = state.selected_task() else {
        return Vec::new();
    };
    let (text, label) = match what {
        Intent::CopyFrameUrl => (t.last_frame_url.clone(), "last-frame URL"),
        _ => {
            let paths: Vec<&str> = [&t.video_path, &t.last_frame_path]
                .into_iter()
                .filter_map(|p| p.as_deref())
                .collect();
            ((!paths.is_empty()).then(|| paths.join("\n")), "local path")
        }
    };
    super::update::copy_text(state, text, label)
}

/// What the saved column shows for a task.
#[derive(Debug, Clone, PartialEq)]
pub enum SavedCell {
    None,
    Saved,
    Queued,
    /// A fraction 0..=1 when the size is known.
    Progress(Option<f64>),
    Failed,
    /// Unsaved; seconds left before the link dies (negative: dead); `warn` under the threshold.
    Expires {
        left: i64,
        warn: bool,
    },
}

/// Seconds before `t`'s result links die, when it has links.
pub fn time_left(t: &TaskRecord, now: i64) -> Option<i64> {
    t.video_url.as_ref()?;
    let since = t.urls_seen_at.or(t.finished_at)?;
    Some(since + URL_LIFETIME_SECS - now)
}

pub fn saved_cell(state: &State, t: &TaskRecord) -> SavedCell {
    match state.results.transfers.get(&t.local_id) {
        Some(Transfer::Queued) => return SavedCell::Queued,
        Some(Transfer::Active { done, total, .. }) => {
            return SavedCell::Progress(
                total
                    .filter(|&n| n > 0)
                    .map(|n| (*done as f64 / n as f64).min(1.0)),
            );
        }
        Some(Transfer::Failed(_)) if t.video_path.is_none() => return SavedCell::Failed,
        _ => {}
    }
    if t.video_path.is_some() {
        return SavedCell::Saved;
    }
    match time_left(t, state.now) {
        Some(left) => SavedCell::Expires {
            left,
            warn: left < state.results.warn_secs,
        },
        None => SavedCell::None,
    }
}

/// Token (and money) totals for one group of tasks.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Total {
    pub tasks: usize,
    pub tokens: u64,
    /// `None` when no price is configured for any of its tasks.
    pub cost: Option<f64>,
}

impl Total {
    fn add(&mut self, t: &TaskRecord, pricing: &Pricing) {
        self.tasks += 1;
        let n = t.tokens.unwrap_or(0);
        self.tokens += n;
        if let Some(c) = pricing.cost(&t.model, n) {
            *self.cost.get_or_insert(0.0) += c;
        }
    }
}

/// The summary view's numbers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    /// Days back from today (0 = today) -> total, by the day tasks finished (else were created).
    pub by_day: BTreeMap<i64, Total>,
    pub by_model: BTreeMap<String, Total>,
    /// The tasks in the current filter.
    pub filtered: Total,
    pub all: Total,
}

/// Compute the summary from the state (billed tasks: those with a token count).
pub fn summary(state: &State) -> Summary {
    let p = &state.results.pricing;
    let mut s = Summary::default();
    for t in state.tasks.iter().filter(|t| t.tokens.is_some()) {
        let at = t.finished_at.unwrap_or(t.created_at);
        let day = (state.today_start - at + 86_399).div_euclid(86_400).max(0);
        s.by_day.entry(day).or_default().add(t, p);
        s.by_model.entry(t.model.clone()).or_default().add(t, p);
        s.all.add(t, p);
    }
    for &i in &state.order {
        let t = &state.tasks[i];
        if t.tokens.is_some() {
            s.filtered.add(t, p);
        }
    }
    s
}

/// Money spent today, when prices are configured.
pub fn cost_today(state: &State) -> Option<f64> {
    let p = &state.results.pricing;
    if !p.enabled() {
        return None;
    }
    Some(
        state
            .tasks
            .iter()
            .filter(|t| t.finished_at.is_some_and(|f| f >= state.today_start))
            .filter_map(|t| p.cost(&t.model, t.tokens.unwrap_or(0)))
            .sum(),
    )
}

/// `$`: show the summary.
pub fn show_summary(state: &mut State) -> Vec<Effect> {
    state.overlay = Overlay::Summary { scroll: 0 };
    Vec::new()
}
