//! Popups over the dashboard: help, the log, a copied text to select by hand, the menus, a
//! search's matches, and the helpers that place and frame them.

use super::format::span;
use crate::app::keymap::Context;
use crate::app::msg::Level;
use crate::app::state::State;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

pub(super) fn display_width(s: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(s)
}

/// A centred box of `w`x`h` within `area`.
pub(super) fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

/// A popup of wrapped `lines` over most of `area`, scrolled down by `scroll` lines.
pub(super) fn large_popup(
    frame: &mut Frame,
    area: Rect,
    block: Block,
    lines: Vec<Line>,
    scroll: u16,
) {
    let r = centered(
        area,
        area.width.saturating_sub(4),
        area.height.saturating_sub(2),
    );
    frame.render_widget(Clear, r);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        r,
    );
}

pub(super) fn popup<'a>(title: &'a str, state: &State) -> Block<'a> {
    let theme = state.theme();
    Block::default()
        .borders(Borders::ALL)
        .border_style(theme.accent())
        .title(Span::styled(title, theme.title()))
        .style(theme.base())
}

pub(super) fn help(frame: &mut Frame, area: Rect, state: &State, scroll: u16) {
    let theme = state.theme();
    let mut lines = Vec::new();
    for (title, rows) in state.keymap.help() {
        lines.push(Line::from(Span::styled(title, theme.title())));
        for (keys, desc) in rows {
            lines.push(Line::from(vec![
                Span::styled(format!("  {keys:<16}"), theme.accent()),
                Span::styled(desc, theme.base()),
            ]));
        }
        lines.push(Line::default());
    }
    lines.push(Line::from(Span::styled(
        "Statuses: ↑ sending  … queued  ▶ running  ✓ succeeded  ✗ failed  ◷ expired  ⊘ cancelled  ? outcome unknown  ⊗ rejected  ⌀ lost",
        theme.dim(),
    )));
    let (lines, scroll, title) = searched(state, lines, scroll);
    let title = title.unwrap_or_else(|| " Help — keys (Esc closes, j/k scroll, / search) ".into());
    let r = centered(area, 76, area.height.saturating_sub(2));
    frame.render_widget(Clear, r);
    frame.render_widget(
        Paragraph::new(lines)
            .block(popup(&title, state))
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        r,
    );
}

/// With a search in effect: the matching lines highlighted, scrolled to the `nth` match, and a
/// title saying which match of how many (or that none matches).
pub(crate) fn searched<'a>(
    state: &State,
    mut lines: Vec<Line<'a>>,
    scroll: u16,
) -> (Vec<Line<'a>>, u16, Option<String>) {
    let Some(search) = crate::app::find::active(state) else {
        return (lines, scroll, None);
    };
    let texts: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    let found = crate::app::find::matches(search, texts.iter().map(String::as_str));
    if found.is_empty() {
        return (
            lines,
            scroll,
            Some(format!(" “{}”: no match (Esc drops it) ", search.text)),
        );
    }
    let theme = state.theme();
    for &i in &found {
        let l = std::mem::take(&mut lines[i]);
        lines[i] = l.style(theme.selected());
    }
    let k = search.nth % found.len();
    let title = format!(
        " “{}”: match {}/{} (n next, Esc drops) ",
        search.text,
        k + 1,
        found.len()
    );
    (lines, found[k] as u16, Some(title))
}

pub(super) fn log(frame: &mut Frame, area: Rect, state: &State, scroll: u16) {
    let theme = state.theme();
    let lines: Vec<Line> = state
        .messages
        .iter()
        .rev()
        .map(|m| {
            let style = match m.level {
                Level::Error => theme.error(),
                Level::Warn => theme.warn(),
                Level::Info => theme.base(),
            };
            Line::from(vec![
                Span::styled(format!("{:>5} ago  ", span(state.now - m.at)), theme.dim()),
                Span::styled(m.text.clone(), style),
            ])
        })
        .collect();
    large_popup(
        frame,
        area,
        popup(
            " Messages (newest first; Enter goes to the top line's task; Esc closes) ",
            state,
        ),
        lines,
        scroll,
    );
}

/// Text no clipboard is known to carry, to select by hand: full width and without side borders,
/// so a selection takes the text and nothing else.
pub(super) fn copy_text(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    label: &str,
    text: &str,
    scroll: u16,
) {
    let theme = state.theme();
    let r = Rect::new(
        area.x,
        area.y + 1,
        area.width,
        area.height.saturating_sub(2),
    );
    let title = format!(
        " The {label}: select it by hand (no clipboard is known to work here; Esc closes) "
    );
    let block = Block::default()
        .borders(Borders::TOP | Borders::BOTTOM)
        .border_style(theme.accent())
        .title(Span::styled(title, theme.title()))
        .style(theme.base());
    let lines: Vec<Line> = text
        .lines()
        // The text may come from the server: it reaches the terminal sanitized.
        .map(|l| {
            Line::from(Span::styled(
                crate::sanitize::line(l).into_owned(),
                theme.base(),
            ))
        })
        .collect();
    frame.render_widget(Clear, r);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        r,
    );
}

pub(super) fn menu(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    title: &str,
    ctx: Context,
    text: Option<String>,
) {
    let theme = state.theme();
    let mut lines = Vec::new();
    if let Some(t) = text {
        lines.push(Line::from(Span::styled(t, theme.base())));
        lines.push(Line::default());
    }
    for b in state.keymap.bindings.iter().filter(|b| b.context == ctx) {
        lines.push(Line::from(vec![
            Span::styled(
                format!("  {:<10}", crate::app::keymap::Keymap::keys_label(b)),
                theme.accent(),
            ),
            Span::styled(b.help, theme.base()),
        ]));
    }
    let h = lines.len() as u16 + 4;
    let r = centered(area, 64, h);
    frame.render_widget(Clear, r);
    frame.render_widget(
        Paragraph::new(lines)
            .block(popup(title, state))
            .wrap(Wrap { trim: false }),
        r,
    );
}
