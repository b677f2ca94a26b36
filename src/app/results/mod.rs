//! Results in the reducer: what the runtime reports (download progress, saved files, decoded
//! previews) and what the reducer asks of it. Pure: time comes from `State::now`, IO happens in
//! the runtime. By subject: `downloads` (`d`, `o`, the saved column and link expiry),
//! `preview` (the last frame in the detail pane), `notifications` (batched finishes) and
//! `summary` (tokens and money).

mod downloads;
mod notifications;
mod preview;
mod summary;

pub use downloads::{SavedCell, URL_LIFETIME_SECS, download, open, saved_cell, time_left};
pub use notifications::{flush_notifications, on_phase_change};
pub use preview::{preview_box, preview_effect};
pub use summary::{Pricing, Summary, Total, cost_today, show_summary, summary};

use super::effect::Effect;
use super::msg::Level;
use super::state::State;
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
            // A result reached its destination: whatever was wrong with it is fixed.
            if state.destination.take().is_some() {
                state.dirty = true;
            }
            let selected = state.selected.as_deref() == Some(record.local_id.as_str());
            // The saved paths are new: the detail pane reads them again.
            if selected {
                state.bodies = Some(crate::store::TaskBodies::of(&record));
            }
            state.upsert(vec![(*record).into()]);
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
