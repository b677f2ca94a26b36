//! The footer: the freshest notice (or, too long for it, a box above it), the event ticker,
//! and the keys of the context.

use super::overlays::display_width;
use crate::app::keymap::Context;
use crate::app::msg::Level;
use crate::app::state::State;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

pub(super) fn footer(frame: &mut Frame, area: Rect, state: &State) {
    let theme = state.theme();
    if let Some(s) = state.search.as_ref().filter(|s| s.typing) {
        let line = Line::from(vec![
            Span::styled("/", theme.accent()),
            Span::styled(s.text.clone(), theme.base()),
            Span::styled("█", theme.accent()),
            Span::styled("   Enter keeps (n next) · Esc drops", theme.dim()),
        ]);
        frame.render_widget(Paragraph::new(line), area);
        return;
    }
    if let Some(input) = &state.filter_input {
        let line = Line::from(vec![
            Span::styled("/", theme.accent()),
            Span::styled(input.clone(), theme.base()),
            Span::styled("█", theme.accent()),
            Span::styled(
                "   Enter keeps · Esc drops · status:failed model:fast",
                theme.dim(),
            ),
        ]);
        frame.render_widget(Paragraph::new(line), area);
        return;
    }
    let width = usize::from(area.width);
    let mut hints = state.keymap.footer(state.context());
    // Help and quit are always shown, at the end: the rest give way.
    let always: Vec<(String, &str)> = {
        let (last, rest): (Vec<_>, Vec<_>) = hints
            .into_iter()
            .partition(|(_, l)| matches!(*l, "help" | "quit"));
        hints = rest;
        last
    };
    // The ticker: events (finishes, poll errors) logged since `L` was last opened.
    let ticker = (state.unseen_events > 0 && state.context() == Context::Main)
        .then(|| format!(" {} new in log (L) ", state.unseen_events));
    let ticker_w = ticker.as_deref().map_or(0, display_width);
    let hint_w = |(k, l): &(String, &str)| display_width(k) + display_width(l) + 2;
    let always_w: usize = always.iter().map(hint_w).sum();
    let mut spans = Vec::new();
    let mut used = 0;
    if let Some(m) = state.current_message()
        && message_fits(state, width)
    {
        let style = match m.level {
            Level::Error => theme.error(),
            Level::Warn => theme.warn(),
            Level::Info => theme.accent(),
        };
        let text = format!(" {} ", crate::text::truncate(&m.text, width));
        used += display_width(&text) + 1;
        spans.push(Span::styled(text, style));
        spans.push(Span::raw(" "));
    }
    // Whole hints only, as many as fit: never cut in the middle at 80 columns.
    let hint = |spans: &mut Vec<Span<'static>>, h: &(String, &str)| {
        spans.push(Span::styled(
            format!(" {}", h.0),
            theme.accent().add_modifier(Modifier::BOLD),
        ));
        spans.push(Span::styled(format!(" {}", h.1), theme.dim()));
    };
    for h in &hints {
        if used + hint_w(h) + always_w + ticker_w > width {
            break;
        }
        used += hint_w(h);
        hint(&mut spans, h);
    }
    for h in &always {
        used += hint_w(h);
        hint(&mut spans, h);
    }
    if let Some(t) = ticker {
        spans.push(Span::raw(" ".repeat(width.saturating_sub(used + ticker_w))));
        spans.push(Span::styled(t, theme.warn()));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The room the footer leaves for an answer: the first hints, help and quit, and the ticker
/// keep theirs.
fn message_room(state: &State, width: usize) -> usize {
    let hints = state.keymap.footer(state.context());
    let hint_w = |(k, l): &(String, &str)| display_width(k) + display_width(l) + 2;
    let always: usize = hints
        .iter()
        .filter(|(_, l)| matches!(*l, "help" | "quit"))
        .map(hint_w)
        .sum();
    let first: usize = hints
        .iter()
        .filter(|(_, l)| !matches!(*l, "help" | "quit"))
        .take(2)
        .map(hint_w)
        .sum();
    let ticker = if state.unseen_events > 0 && state.context() == Context::Main {
        display_width(&format!(" {} new in log (L) ", state.unseen_events))
    } else {
        0
    };
    width.saturating_sub(always + first + ticker + 3)
}

/// Whether the current answer fits the footer whole; a longer one is shown above it, wrapped
/// ([`message_box`]), never cut.
pub(super) fn message_fits(state: &State, width: usize) -> bool {
    state.current_message().is_none_or(|m| {
        display_width(&crate::sanitize::flat(&m.text)) <= message_room(state, width)
    })
}

/// An answer too long for the footer, wrapped whole in a box just above it.
pub(super) fn message_box(frame: &mut Frame, footer: Rect, state: &State) {
    let Some(m) = state.current_message() else {
        return;
    };
    let theme = state.theme();
    let style = match m.level {
        Level::Error => theme.error(),
        Level::Warn => theme.warn(),
        Level::Info => theme.accent(),
    };
    let width = usize::from(footer.width.saturating_sub(2)).max(10);
    let lines: Vec<Line> = crate::text::wrap(&m.text, width)
        .into_iter()
        .map(|l| Line::from(Span::styled(l, style)))
        .collect();
    let h = (lines.len() as u16 + 1)
        .min(footer.y.saturating_sub(2))
        .max(2);
    let r = Rect::new(footer.x, footer.y.saturating_sub(h), footer.width, h);
    frame.render_widget(Clear, r);
    frame.render_widget(
        Paragraph::new(lines)
            .block(Block::default().borders(Borders::TOP).border_style(style))
            .style(theme.base()),
        r,
    );
}
