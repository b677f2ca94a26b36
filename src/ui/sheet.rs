//! The contact sheet: its tiles in a grid (in the detail pane), and `v`'s full-screen view with
//! each frame's time under it. The tiles were decoded and encoded by the runtime; this only
//! places them.

use crate::app::results::{SheetTiles, shown_sheet};
use crate::app::state::State;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use ratatui_image::Image;

/// Draw `tiles` in a grid from the top left of `area`; with `label`, each frame's time under it.
pub(crate) fn tiles(frame: &mut Frame, area: Rect, tiles: &SheetTiles, label: Option<Style>) {
    let (tw, th) = tiles.tile;
    let per_line = tiles.columns.max(1) as usize;
    let label_rows = u16::from(label.is_some());
    for (i, img) in tiles.images.iter().enumerate() {
        let (col, line) = ((i % per_line) as u16, (i / per_line) as u16);
        let x = area.x + col * (tw + 1);
        let y = area.y + line * (th + label_rows);
        if x + tw > area.right() || y + th > area.bottom() {
            continue;
        }
        frame.render_widget(Image::new(&img.0), Rect::new(x, y, tw, th));
        if let Some(style) = label
            && y + th < area.bottom()
        {
            let at = tiles.times.get(i).copied().unwrap_or(0.0);
            let text = format!("#{} {}", i + 1, crate::engine::sheet::clock(at));
            frame.render_widget(
                Paragraph::new(Span::styled(text, style)),
                Rect::new(x, y + th, tw, 1),
            );
        }
    }
}

/// `v`: the selected task's sheet over the table and detail pane (`area` is between the header
/// and the footer).
pub(crate) fn render_full(frame: &mut Frame, area: Rect, state: &State) {
    let theme = state.theme();
    frame.render_widget(Clear, area);
    let Some(t) = state.selected_task() else {
        return;
    };
    let prompt = crate::sanitize::flat(&t.prompt);
    let title = format!(
        " Contact sheet · {} · {} ",
        t.display_id(),
        crate::text::truncate(&prompt, area.width.saturating_sub(30) as usize)
    );
    frame.render_widget(
        Paragraph::new(Line::from(Span::styled(title, theme.title()))),
        Rect { height: 1, ..area },
    );
    let body = Rect {
        y: area.y + 1,
        height: area.height.saturating_sub(1),
        ..area
    };
    if let Some(s) = shown_sheet(state, &t.local_id) {
        tiles(frame, body, s, Some(theme.dim()));
        return;
    }
    let line = super::preview::sheet_line(state, t).unwrap_or_else(|| {
        Line::from(Span::styled(
            "  no saved video on this disk: nothing to make a sheet of (d saves it)",
            theme.dim(),
        ))
    });
    frame.render_widget(Paragraph::new(line), body);
}
