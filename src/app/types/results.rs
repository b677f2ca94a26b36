//! The results' data: downloads in progress, the decoded preview and contact sheet, what the
//! runtime reports about them and what the reducer asks of it. A leaf: no reducer.

use crate::config::PricingConfig as Pricing;
use crate::store::TaskRecord;
use std::collections::HashMap;
use std::sync::Arc;

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
    /// The contact sheet of a task's video, made for a box of `size` (columns, rows) cells.
    Sheet {
        local_id: String,
        size: (u16, u16),
        tiles: SheetTiles,
    },
    /// The contact sheet could not be made; the text is the one line shown.
    SheetFailed { local_id: String, error: String },
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
    /// Make (or read the cached) contact sheet of the video at `path`, `frames` frames, laid out
    /// for a box of `cols`x`rows` cells (room for a time under each frame when `labels`).
    Sheet {
        local_id: String,
        path: String,
        frames: usize,
        cols: u16,
        rows: u16,
        labels: bool,
    },
    /// Open the local video (or, over SSH, show how to fetch it).
    Open { path: String },
    /// Tell the user that tasks finished (bell / desktop notification, per config).
    Notify {
        succeeded: Vec<String>,
        failed: Vec<String>,
    },
}

/// Results state kept in [`State::results`].
#[derive(Debug, Clone)]
pub(crate) struct Results {
    pub(crate) transfers: HashMap<String, Transfer>,
    /// The preview shown in the detail pane, for the task it belongs to.
    pub(crate) preview: Option<(String, PreviewImage)>,
    /// The box (columns, rows) the shown preview was made for.
    pub(crate) preview_box: Option<(u16, u16)>,
    /// Why the selected task's preview is missing.
    pub(crate) preview_error: Option<(String, String)>,
    /// The contact sheet shown, for the task it belongs to, and the box it was made for.
    pub(crate) sheet: Option<(String, SheetTiles)>,
    pub(crate) sheet_box: Option<(u16, u16)>,
    /// Why the selected task has no sheet.
    pub(crate) sheet_error: Option<(String, String)>,
    /// Frames per sheet (`[ui] contact_sheet_frames`; 0: no sheets).
    pub(crate) sheet_frames: usize,
    /// `v`: the sheet full screen.
    pub(crate) sheet_full: bool,
    /// Draw previews at all.
    pub(crate) images: bool,
    /// Unsaved results whose link dies within this many seconds are shown in the warning colour.
    pub(crate) warn_secs: i64,
    /// Finishes collected for one notification: since when, and which.
    pub(crate) batch_since: Option<i64>,
    pub(crate) batch_ok: Vec<String>,
    pub(crate) batch_failed: Vec<String>,
    /// Seconds a batch stays open.
    pub(crate) batch_secs: i64,
    pub(crate) pricing: Pricing,
}

impl Default for Results {
    fn default() -> Self {
        Results {
            transfers: HashMap::new(),
            preview: None,
            preview_box: None,
            preview_error: None,
            sheet: None,
            sheet_box: None,
            sheet_error: None,
            sheet_frames: crate::engine::sheet::DEFAULT_FRAMES,
            sheet_full: false,
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

/// A sheet ready to draw: `tiles` laid out `columns` to a row, each `tile` (columns, rows) cells.
#[derive(Debug, Clone)]
pub struct SheetTiles {
    pub(crate) columns: u16,
    pub(crate) tile: (u16, u16),
    pub(crate) images: Vec<PreviewImage>,
    /// Each frame's time, seconds.
    pub(crate) times: Vec<f64>,
}

impl SheetTiles {
    /// Rows of cells the grid takes, with `label` rows under each line of tiles.
    pub(crate) fn height(&self, label: u16) -> u16 {
        let lines = self.images.len().div_ceil(self.columns.max(1) as usize) as u16;
        lines * (self.tile.1 + label)
    }
}
