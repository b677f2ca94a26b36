//! The summary overlay (`$`): tasks, tokens and — when `[pricing]` is configured — money, per day,
//! per model, for the current filter and overall. Numbers come from `app::results::summary`.

use super::format::tokens;
use crate::app::results::{Total, summary};
use crate::app::state::State;
use crate::text::truncate;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

fn row<'a>(label: String, t: &Total, state: &'a State) -> Line<'a> {
    let theme = state.theme();
    let p = &state.results.pricing;
    let money = t.cost.map(|c| p.format(c)).unwrap_or_default();
    let label = truncate(&label, 32);
    let pad = 32usize.saturating_sub(unicode_width::UnicodeWidthStr::width(label.as_str()));
    Line::from(vec![
        Span::styled(format!("  {label}{} ", " ".repeat(pad)), theme.base()),
        Span::styled(
            format!(
                "{:>6} {} ",
                t.tasks,
                if t.tasks == 1 { "task " } else { "tasks" }
            ),
            theme.dim(),
        ),
        Span::styled(format!("{:>9} tok ", tokens(t.tokens)), theme.base()),
        Span::styled(format!("{money:>10}"), theme.accent()),
    ])
}

fn day_label(state: &State, days_back: i64) -> String {
    match days_back {
        0 => "today".to_string(),
        1 => "yesterday".to_string(),
        n => chrono::DateTime::from_timestamp(state.today_start - n * 86_400 + 43_200, 0)
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_else(|| format!("{n} days ago")),
    }
}

/// Draw the summary overlay.
pub(crate) fn render(frame: &mut Frame, area: Rect, state: &State, scroll: u16) {
    let theme = state.theme();
    let s = summary(state);
    let mut lines = vec![Line::from(Span::styled("By day (finished)", theme.title()))];
    for (d, t) in s.by_day.iter().take(14) {
        lines.push(row(day_label(state, *d), t, state));
    }
    lines.push(Line::default());
    lines.push(Line::from(Span::styled("By model", theme.title())));
    for (m, t) in &s.by_model {
        lines.push(row(m.clone(), t, state));
    }
    lines.push(Line::default());
    let mut parts = Vec::new();
    if !state.filter.is_empty() {
        parts.push(format!("“{}”", state.filter.text.trim()));
    }
    if state.quick.is_some() {
        parts.push(format!("only {}", state.quick_status().unwrap_or("")));
    }
    let filter = if parts.is_empty() {
        "current filter (none)".to_string()
    } else {
        format!("filter {}", parts.join(" "))
    };
    lines.push(row(filter, &s.filtered, state));
    lines.push(row("all tasks".to_string(), &s.all, state));
    if !state.results.pricing.is_set() {
        lines.push(Line::default());
        lines.push(Line::from(Span::styled(
            "  Set [pricing] per_million_tokens in the config to see money.",
            theme.dim(),
        )));
    }
    let w = 74.min(area.width);
    let h = (lines.len() as u16 + 2).min(area.height);
    let r = Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    );
    frame.render_widget(Clear, r);
    frame.render_widget(
        Paragraph::new(lines)
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .border_style(theme.accent())
                    .title(Span::styled(" Usage summary (Esc closes) ", theme.title()))
                    .style(theme.base()),
            )
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        r,
    );
}
