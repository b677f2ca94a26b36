//! Results in the reducer: what the runtime reports (download progress, saved files, decoded
//! previews) and what the reducer asks of it. Pure: time comes from `State::now`, IO happens in
//! the runtime. By subject: `downloads` (`d`, `o`, the saved column and link expiry),
//! `preview` (the last frame in the detail pane), `notifications` (batched finishes) and
//! `summary` (tokens and money).

mod downloads;
mod notifications;
mod preview;
mod sheet;
mod summary;

pub(crate) use downloads::{SavedCell, URL_LIFETIME_SECS, download, open, saved_cell};
pub(crate) use notifications::{flush_notifications, on_phase_change};
pub(crate) use preview::preview_effect;
pub(crate) use sheet::{grid, local_video, sheet_effect, shown_sheet, toggle_full};
#[cfg(test)]
pub(crate) use summary::Pricing;
pub(crate) use summary::{Total, cost_today, show_summary, summary};

use super::effect::Effect;
use super::msg::Level;
use super::state::State;
pub(crate) use super::types::results::{PreviewImage, Results, ResultsEffect, SheetTiles};
pub use super::types::results::{ResultsMsg, Transfer};

/// Apply a runtime report.
pub(crate) fn on_msg(state: &mut State, msg: ResultsMsg) -> Vec<Effect> {
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
                // The record has no file names of its inlined assets: keep those read.
                let names = state
                    .bodies_of(&record.local_id)
                    .and_then(|b| b.asset_files.clone());
                let mut bodies = crate::store::TaskBodies::of(&record);
                bodies.asset_files = names;
                state.bodies = Some(bodies);
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
        ResultsMsg::Sheet {
            local_id,
            size,
            tiles,
        } => {
            if state.selected.as_deref() == Some(local_id.as_str()) {
                state.results.sheet = Some((local_id, tiles));
                state.results.sheet_box = Some(size);
                state.results.sheet_error = None;
            }
            // Made for another box (the pane was resized, `v` pressed meanwhile): ask again.
            sheet_effect(state)
        }
        ResultsMsg::SheetFailed { local_id, error } => {
            state.results.sheet_error = Some((local_id, error));
            Vec::new()
        }
    }
}
