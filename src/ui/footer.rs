//! The footer: the freshest notice, the event ticker, and the keys of the context.

use super::overlays::display_width;
use crate::app::keymap::Context;
use crate::app::msg::Level;
use crate::app::state::State;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub(super) fn footer(frame: &mut Frame, area: Rect, state: &State) {
    let theme = state.theme();
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
    let hints = state.keymap.footer(state.context());
    // The ticker: events (finishes, poll errors) logged since `L` was last opened.
    let ticker = (state.unseen_events > 0 && state.context() == Context::Main)
        .then(|| format!(" {} new in log (L) ", state.unseen_events));
    let ticker_w = ticker.as_deref().map_or(0, display_width);
    let hint_w = |(k, l): &(String, &str)| display_width(k) + display_width(l) + 2;
    // The user's own feedback keeps room for the first hints (help and quit come last in the
    // registry, so the first few are the most used).
    let keep_hints: usize = hints.iter().take(3).map(hint_w).sum();
    let mut spans = Vec::new();
    let mut used = 0;
    if let Some(m) = state.current_message() {
        let style = match m.level {
            Level::Error => theme.error(),
            Level::Warn => theme.warn(),
            Level::Info => theme.accent(),
        };
        let room = width.saturating_sub(keep_hints + ticker_w + 3).max(20);
        let text = format!(" {} ", crate::text::truncate(&m.text, room));
        used += display_width(&text) + 1;
        spans.push(Span::styled(text, style));
        spans.push(Span::raw(" "));
    }
    // Whole hints only, as many as fit: never cut in the middle at 80 columns.
    for h in &hints {
        if used + hint_w(h) + ticker_w > width {
            break;
        }
        used += hint_w(h);
        spans.push(Span::styled(
            format!(" {}", h.0),
            theme.accent().add_modifier(Modifier::BOLD),
        ));
        spans.push(Span::styled(format!(" {}", h.1), theme.dim()));
    }
    if let Some(t) = ticker {
        spans.push(Span::raw(" ".repeat(width.saturating_sub(used + ticker_w))));
        spans.push(Span::styled(t, theme.warn()));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
