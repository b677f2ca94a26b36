//! The command palette (`:`) and the column chooser (`c`), each a popup drawn from state alone.

use crate::app::palette::{self, Palette};
use crate::app::state::State;
use crate::text::truncate;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

fn block<'a>(title: &'a str, state: &State) -> Block<'a> {
    let theme = state.theme();
    Block::default()
        .borders(Borders::ALL)
        .border_style(theme.accent())
        .title(Span::styled(title, theme.title()))
        .style(theme.base())
}

/// The palette near the top: the line being typed, then the best matches (the highlighted one
/// in the selection colour), each with its keys and help.
pub(crate) fn palette(frame: &mut Frame, area: Rect, state: &State, p: &Palette) {
    let theme = state.theme();
    let w = area.width.saturating_sub(4).min(100);
    let h = area.height.saturating_sub(4).min(16);
    if w < 20 || h < 4 {
        return;
    }
    let r = Rect::new(area.x + (area.width - w) / 2, area.y + 2, w, h);
    let found = palette::entries(state, &p.input);
    let shown = usize::from(h.saturating_sub(3));
    let first = p.selected.saturating_sub(shown.saturating_sub(1));
    let inner = usize::from(w.saturating_sub(2));
    let mut lines = vec![Line::from(vec![
        Span::styled(":", theme.accent()),
        Span::styled(truncate(&p.input, inner.saturating_sub(2)), theme.base()),
        Span::styled("█", theme.accent()),
    ])];
    if found.is_empty() {
        lines.push(Line::from(Span::styled(
            "no command matches (Esc closes)",
            theme.dim(),
        )));
    }
    for (i, e) in found.iter().enumerate().skip(first).take(shown) {
        let name_w = 22.min(inner / 2);
        let keys_w = 8;
        let help_w = inner.saturating_sub(name_w + keys_w + 2);
        let text = format!(
            "{:<name_w$} {:<keys_w$} {}",
            truncate(&e.name, name_w),
            truncate(&e.keys, keys_w),
            truncate(&e.help, help_w),
        );
        let style = if i == p.selected {
            theme.selected().add_modifier(Modifier::BOLD)
        } else {
            theme.base()
        };
        lines.push(Line::from(Span::styled(text, style)));
    }
    frame.render_widget(Clear, r);
    frame.render_widget(
        Paragraph::new(lines).block(block(" Command (Enter runs, Tab completes) ", state)),
        r,
    );
}

/// The column chooser: every column, shown ones first in their order (`[x]`), then the hidden
/// ones (`[ ]`).
pub(crate) fn columns(frame: &mut Frame, area: Rect, state: &State, selected: usize) {
    let theme = state.theme();
    let rows = crate::app::column_chooser::rows(state);
    let h = (rows.len() as u16 + 4).min(area.height);
    let w = 44.min(area.width);
    let r = Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    );
    let mut lines = Vec::new();
    for (i, (col, shown)) in rows.iter().enumerate() {
        let mark = if *shown { "[x]" } else { "[ ]" };
        let text = format!(" {mark} {}", col.name());
        let style = if i == selected.min(rows.len().saturating_sub(1)) {
            theme.selected().add_modifier(Modifier::BOLD)
        } else if *shown {
            theme.base()
        } else {
            theme.dim()
        };
        lines.push(Line::from(Span::styled(text, style)));
    }
    lines.push(Line::from(Span::styled(
        " Space show/hide · K/J move · Enter save",
        theme.dim(),
    )));
    frame.render_widget(Clear, r);
    frame.render_widget(Paragraph::new(lines).block(block(" Columns ", state)), r);
}
