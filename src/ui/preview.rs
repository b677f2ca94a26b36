//! The last-frame preview and the download line of the detail pane. The picture was decoded and
//! encoded (halfblocks, or kitty/sixel/iTerm2 where detected) by the runtime; this only draws it.

use super::format::span;
use crate::app::results::{SavedCell, Transfer, saved_cell, shown_sheet};
use crate::app::state::State;
use crate::store::TaskRow;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui_image::Image;

/// Rows the pictures take at the top of the detail pane `inner` (0: none for `t`): the contact
/// sheet when there is one for `t`, else the last frame.
pub(crate) fn height(state: &State, t: &TaskRow, inner: Rect) -> u16 {
    if !state.results.images {
        return 0;
    }
    if let Some(tiles) = shown_sheet(state, &t.local_id) {
        return tiles.height(0).min(inner.height / 2);
    }
    match &state.results.preview {
        Some((id, img)) if **id == *t.local_id => img.0.size().height.min(inner.height / 2),
        _ => 0,
    }
}

/// Draw the pictures of `t` into `area` (already sized by [`height`]).
pub(crate) fn render(frame: &mut Frame, area: Rect, state: &State, t: &TaskRow) {
    if area.height == 0 {
        return;
    }
    if let Some(tiles) = shown_sheet(state, &t.local_id) {
        super::sheet::tiles(frame, area, tiles, None);
        return;
    }
    if let Some((id, img)) = &state.results.preview
        && **id == *t.local_id
    {
        frame.render_widget(Image::new(&img.0), area);
    }
}

/// Human bytes: 1.5 MB.
pub(crate) fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KB", "MB", "GB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1000.0 && u < UNITS.len() - 1 {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// A bar of `width` cells filled to `frac` with eighth blocks.
pub(crate) fn bar(frac: f64, width: usize) -> String {
    const EIGHTHS: [char; 8] = [' ', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
    let eighths = (frac.clamp(0.0, 1.0) * (width * 8) as f64).round() as usize;
    let mut s = "█".repeat(eighths / 8);
    if s.chars().count() < width {
        s.push(EIGHTHS[eighths % 8]);
    }
    while s.chars().count() < width {
        s.push(' ');
    }
    s
}

/// One cell rising with `frac`: `▁▂▃▄▅▆▇█`.
pub(crate) fn column(frac: f64) -> char {
    const LEVELS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    LEVELS[((frac.clamp(0.0, 1.0) * 7.0).round() as usize).min(7)]
}

/// The table's saved-column text for `t` (fits `width` cells) and whether it is a warning:
/// ✓ saved, … queued, a rising bar while downloading, ✗ failed; unsaved results show hours
/// left when under 10 h (`<1` under an hour), `·` otherwise, `!!` once the link is dead.
pub(crate) fn saved_text(state: &State, t: &TaskRow, width: usize) -> (String, bool) {
    match saved_cell(state, t) {
        SavedCell::None => (String::new(), false),
        SavedCell::Saved => ("✓".into(), false),
        SavedCell::Queued => ("…".into(), false),
        SavedCell::Failed => ("✗".into(), true),
        SavedCell::Progress(Some(f)) if width >= 4 => (bar(f, width), false),
        SavedCell::Progress(Some(f)) => (column(f).to_string(), false),
        SavedCell::Progress(None) => ("⇣".into(), false),
        SavedCell::Expires { left, warn } if left > 0 && width >= 4 => (span(left), warn),
        SavedCell::Expires { left, warn } if left >= 10 * 3600 => ("·".into(), warn),
        SavedCell::Expires { left, warn } if left >= 3600 => (format!("{}h", left / 3600), warn),
        SavedCell::Expires { left, warn } if left > 0 => ("<1".into(), warn),
        SavedCell::Expires { .. } => ("!!".into(), true),
    }
}

/// The download line of the detail pane, when a download is queued, running or failed.
pub(crate) fn transfer_line<'a>(state: &'a State, t: &TaskRow) -> Option<Line<'a>> {
    let theme = state.theme();
    let text = match state.results.transfers.get(&*t.local_id)? {
        Transfer::Queued => "download queued".to_string(),
        Transfer::Active { done, total, rate } => {
            let of = total
                .map(|n| format!(" of {}", bytes(n)))
                .unwrap_or_default();
            let pct = total
                .filter(|&n| n > 0)
                .map(|n| format!(" ({:.0}%)", *done as f64 * 100.0 / n as f64))
                .unwrap_or_default();
            format!(
                "downloading {}{of}{pct} at {}/s",
                bytes(*done),
                bytes(*rate as u64)
            )
        }
        Transfer::Failed(e) => {
            return Some(Line::from(Span::styled(
                format!("  download failed: {e} (d tries again)"),
                theme.error(),
            )));
        }
    };
    Some(Line::from(Span::styled(
        format!("  {text}"),
        theme.accent(),
    )))
}

/// The contact sheet's line while there is none for `t`: decoding, or the one line saying why
/// it cannot be made.
pub(crate) fn sheet_line<'a>(state: &'a State, t: &TaskRow) -> Option<Line<'a>> {
    let theme = state.theme();
    if let Some((id, e)) = &state.results.sheet_error
        && **id == *t.local_id
    {
        return Some(Line::from(Span::styled(
            format!("no contact sheet: {e}"),
            theme.dim(),
        )));
    }
    let decoding = state.results.images
        && state.results.sheet_frames > 0
        && shown_sheet(state, &t.local_id).is_none()
        && crate::app::results::local_video(state).is_some_and(|(id, _)| *id == *t.local_id);
    decoding.then(|| Line::from(Span::styled("contact sheet: decoding…", theme.dim())))
}

/// A placeholder line while there is no last frame (or why there is none).
pub(crate) fn status_line<'a>(state: &'a State, t: &TaskRow) -> Option<Line<'a>> {
    let theme = state.theme();
    if let Some((id, e)) = &state.results.preview_error
        && **id == *t.local_id
    {
        return Some(Line::from(Span::styled(
            format!("  no preview: {e}"),
            theme.dim(),
        )));
    }
    None
}
