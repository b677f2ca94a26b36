//! The contact sheet of the selected task's saved video: asked for when the detail pane (or the
//! full-screen sheet, `v`) shows a task whose video is a local file, once per task and box; the
//! runtime decodes it off the loop and answers with the frames encoded as tiles of a grid.

use super::{ResultsEffect, SheetTiles};
use crate::app::effect::Effect;
use crate::app::state::{DetailMode, State};

/// How `n` frames of `aspect` (width / height) fit a box of `cols`x`rows` cells, with `label`
/// rows under each line of tiles: (columns, tile columns, tile rows) making the frames largest.
/// A cell is taken as twice as tall as wide (halfblocks draw two pixels in one).
pub(crate) fn grid(
    cols: u16,
    rows: u16,
    n: usize,
    aspect: f64,
    label: u16,
) -> Option<(u16, u16, u16)> {
    let n = n.max(1) as u16;
    let aspect = if aspect.is_finite() && aspect > 0.0 {
        aspect
    } else {
        16.0 / 9.0
    };
    let mut best: Option<(f64, (u16, u16, u16))> = None;
    for c in 1..=n {
        let lines = n.div_ceil(c);
        let tw = cols.saturating_sub(c - 1) / c;
        let th_max = (rows / lines).saturating_sub(label);
        if tw < 4 || th_max < 2 {
            continue;
        }
        // The frame's width in cells when it fills the tile's width or its height.
        let th_by_w = (tw as f64 / aspect / 2.0).ceil();
        let th = th_by_w.min(th_max as f64).max(1.0) as u16;
        let width = (tw as f64).min(th as f64 * 2.0 * aspect);
        if best.is_none_or(|(w, _)| width > w) {
            best = Some((width, (c, tw, th)));
        }
    }
    best.map(|(_, g)| g)
}

/// The box (columns, rows) the sheet takes: the detail pane's picture area, or the whole body
/// for the full-screen view.
pub(crate) fn sheet_box(state: &State) -> Option<(u16, u16)> {
    if state.results.sheet_full {
        let (w, h) = state.size;
        // Header (2), title line and footer (1 each).
        return (w >= 20 && h >= 10).then(|| (w, h.saturating_sub(4)));
    }
    let d = crate::app::layout::areas(state.size, state.detail).detail?;
    let cols = d.width.saturating_sub(2);
    let rows = d.height.saturating_sub(1) / 2;
    (cols >= 8 && rows >= 3).then_some((cols, rows))
}

/// The local video of the selected task, when it has one on this disk (not in a bucket).
pub(crate) fn local_video(state: &State) -> Option<(String, String)> {
    let t = state.selected_task()?;
    if !t.results.video_saved {
        return None;
    }
    let path = state.bodies_of(&t.local_id)?.video_path.clone()?;
    (!path.starts_with("s3://")).then(|| (t.local_id.to_string(), path))
}

/// Ask for the selected task's sheet when it is shown and not already there (a request in flight
/// for the same task and box is answered once: the runtime drops the repeat).
pub(crate) fn sheet_effect(state: &State) -> Vec<Effect> {
    let r = &state.results;
    if !r.images || r.sheet_frames == 0 || (state.detail == DetailMode::Hidden && !r.sheet_full) {
        return Vec::new();
    }
    let (Some((local_id, path)), Some((cols, rows))) = (local_video(state), sheet_box(state))
    else {
        return Vec::new();
    };
    let shown =
        matches!(&r.sheet, Some((id, _)) if *id == local_id) && r.sheet_box == Some((cols, rows));
    let failed = matches!(&r.sheet_error, Some((id, _)) if *id == local_id);
    if shown || failed {
        return Vec::new();
    }
    vec![Effect::Results(ResultsEffect::Sheet {
        local_id,
        path,
        frames: r.sheet_frames,
        cols,
        rows,
        labels: r.sheet_full,
    })]
}

/// The sheet shown for `local_id`, if it is the one made for the current box.
pub(crate) fn shown_sheet<'a>(state: &'a State, local_id: &str) -> Option<&'a SheetTiles> {
    match &state.results.sheet {
        Some((id, tiles)) if id == local_id => Some(tiles),
        _ => None,
    }
}

/// `v`: the sheet full screen with its frame times, or back. It follows the selection, so `j`/`k`
/// and `[`/`]` page through sheets; the detail pane opens under it (its paths are read there).
pub(crate) fn toggle_full(state: &mut State) -> Vec<Effect> {
    state.results.sheet_full = !state.results.sheet_full;
    state.dirty = true;
    let mut fx = Vec::new();
    if state.results.sheet_full && state.detail == DetailMode::Hidden {
        state.detail = DetailMode::Split;
        state.keep_selection_visible();
        if let Some(id) = state.selected.clone() {
            fx.push(Effect::LoadHistory(id.clone()));
            fx.push(Effect::LoadBodies(id));
        }
    }
    fx.extend(sheet_effect(state));
    fx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn six_wide_frames_in_a_wide_box_go_three_by_two_or_one_line() {
        // 60x14: two lines of three (19 columns each) beat one line of six (9 columns).
        let (c, tw, th) = grid(60, 14, 6, 16.0 / 9.0, 0).unwrap();
        assert_eq!((c, tw), (3, 19));
        assert!(th * 2 <= 14 && th >= 5, "{th}");
        // A very wide, short box: all six in one line.
        let (c, ..) = grid(200, 8, 6, 16.0 / 9.0, 0).unwrap();
        assert_eq!(c, 6);
        // Portrait frames in a tall box: fewer columns.
        let (c, ..) = grid(40, 60, 6, 9.0 / 16.0, 1).unwrap();
        assert!(c <= 3, "{c}");
        // Nothing fits a tiny box.
        assert_eq!(grid(6, 2, 6, 1.0, 0), None);
    }
}
