//! `d` (download) and `o` (open), and what the saved column shows: progress, saved, or how long
//! until the result links die.

use super::{ResultsEffect, Transfer};
use crate::api::TaskStatus;
use crate::app::effect::Effect;
use crate::app::msg::Level;
use crate::app::state::State;
use crate::store::{Phase, TaskRow};

/// Result URLs die about this long after the task succeeded.
pub(crate) const URL_LIFETIME_SECS: i64 = 24 * 3600;

fn succeeded(t: &TaskRow) -> bool {
    t.phase == Phase::Remote(TaskStatus::Succeeded)
}

/// `d`: download (or download again) the marked, else the selected, succeeded tasks.
pub(crate) fn download(state: &mut State) -> Vec<Effect> {
    let targets = state.targets();
    let total = targets.len();
    let ids: Vec<String> = targets
        .into_iter()
        .filter(|t| succeeded(t))
        .map(|t| t.local_id.to_string())
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

/// `o`: open the selected task's saved video (its path is read from the store first, and this
/// is done again when it arrives).
pub(crate) fn open(state: &mut State) -> Vec<Effect> {
    let Some(t) = state.selected_task() else {
        return Vec::new();
    };
    if t.results.video_saved {
        match state.bodies_of(&t.local_id).map(|b| b.video_path.clone()) {
            Some(Some(path)) => return vec![Effect::Results(ResultsEffect::Open { path })],
            // Read and no path after all (the row changed meanwhile): said below, not read again.
            Some(None) => {}
            None => {
                let local_id = t.local_id.to_string();
                state.bodies_wanted_for =
                    Some(crate::app::state::BodiesUse::Open(local_id.clone()));
                return vec![Effect::LoadBodies(local_id)];
            }
        }
    }
    match succeeded(t) {
        true => {
            let msg = format!(
                "{} is not saved yet: press d to download it",
                t.display_id()
            );
            state.notice(Level::Warn, msg);
            Vec::new()
        }
        false => {
            let msg = format!("{} has no video ({})", t.display_id(), t.phase);
            state.notice(Level::Warn, msg);
            Vec::new()
        }
    }
}

/// What the saved column shows for a task.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SavedCell {
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
pub(crate) fn time_left(t: &TaskRow, now: i64) -> Option<i64> {
    if !t.results.video_url {
        return None;
    }
    let since = t.urls_seen_at.or(t.finished_at)?;
    Some(since + URL_LIFETIME_SECS - now)
}

pub(crate) fn saved_cell(state: &State, t: &TaskRow) -> SavedCell {
    match state.results.transfers.get(&*t.local_id) {
        Some(Transfer::Queued) => return SavedCell::Queued,
        Some(Transfer::Active { done, total, .. }) => {
            return SavedCell::Progress(
                total
                    .filter(|&n| n > 0)
                    .map(|n| (*done as f64 / n as f64).min(1.0)),
            );
        }
        Some(Transfer::Failed(_)) if !t.results.video_saved => return SavedCell::Failed,
        _ => {}
    }
    if t.results.video_saved {
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
