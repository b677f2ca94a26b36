//! The selected task's last frame in the detail pane: asked for once per task and box size.

use super::ResultsEffect;
use crate::app::effect::Effect;
use crate::app::state::{DetailMode, State};

/// The preview box (columns, rows) of the detail pane, when the pane is shown.
pub(crate) fn preview_box(state: &State) -> Option<(u16, u16)> {
    let d = crate::app::layout::areas(state.size, state.detail).detail?;
    // The pane has a top and a left border; keep at least half of it for text.
    let cols = d.width.saturating_sub(2).min(64);
    let rows = (d.height.saturating_sub(1) / 2).min(14);
    (cols >= 8 && rows >= 3).then_some((cols, rows))
}

/// Ask for the selected task's pictures: its last frame and, for a saved video, its contact sheet.
pub(crate) fn preview_effect(state: &State) -> Vec<Effect> {
    let mut fx = last_frame_effect(state);
    fx.extend(super::sheet::sheet_effect(state));
    fx
}

/// Ask for the selected task's last frame when the detail pane shows it, once its link and
/// path have been read from the store (the detail pane asks for them; their arrival asks again).
fn last_frame_effect(state: &State) -> Vec<Effect> {
    if !state.results.images || state.detail == DetailMode::Hidden {
        return Vec::new();
    }
    let (Some(t), Some((cols, rows))) = (state.selected_task(), preview_box(state)) else {
        return Vec::new();
    };
    if !t.results.last_frame_saved && !t.results.last_frame_url {
        return Vec::new();
    }
    let Some(b) = state.bodies_of(&t.local_id) else {
        return Vec::new();
    };
    // Already shown, made for this box.
    if let Some((id, _)) = &state.results.preview
        && **id == *t.local_id
        && state.results.preview_box == Some((cols, rows))
    {
        return Vec::new();
    }
    vec![Effect::Results(ResultsEffect::Preview {
        local_id: t.local_id.to_string(),
        path: b.last_frame_path.clone(),
        url: b.last_frame_url.clone(),
        cols,
        rows,
    })]
}
