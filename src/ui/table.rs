//! The task table: rows are built only for the visible slice; columns drop by priority as the
//! terminal narrows; status shows as a symbol and a colour.

use super::format::{age, progress_time, short_id, short_status, symbol, tokens};
use crate::api::models::short_label;
use crate::app::state::{Focus, SortKey, State};
use crate::engine::eta;
use crate::sanitize::flat;
use crate::store::TaskRow;
use crate::text::truncate;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

pub(crate) use crate::app::columns::Col;

/// A column's title, width, and priority (lower stays longer as the terminal narrows).
fn spec(c: Col) -> (&'static str, u16, u8) {
    match c {
        Col::Status => ("STATUS", 11, 0),
        Col::Id => ("ID", 15, 0),
        Col::Model => ("MODEL", 5, 1),
        // Shown only when some task has a label, and the first to go as the terminal narrows
        // (below ~140 columns): the prompt then starts with the label.
        Col::Label => ("LABEL", 12, 5),
        Col::Prompt => ("PROMPT", 17, 0),
        Col::Ratio => ("RATIO", 5, 5),
        Col::Resolution => ("RES", 5, 4),
        Col::Duration => ("DUR", 4, 4),
        Col::Age => ("AGE", 5, 1),
        Col::Progress => ("TIME", 7, 3),
        Col::Tokens => ("TOKENS", 6, 3),
        Col::Error => ("ERROR", 8, 2),
        Col::Saved => ("⬇", 2, 2),
    }
}

/// Of the `chosen` columns (in their order), those that fit `width`, with their widths (the
/// prompt, else the last column, takes what is left).
pub(crate) fn columns(width: u16, chosen: &[Col]) -> Vec<(Col, u16)> {
    let mut cols: Vec<Col> = chosen.to_vec();
    let total = |cols: &[Col]| -> u16 { cols.iter().map(|c| spec(*c).1 + 1).sum() };
    while total(&cols) > width {
        let worst = cols
            .iter()
            .enumerate()
            .filter(|(_, c)| spec(**c).2 > 0)
            .max_by_key(|(i, c)| (spec(**c).2, *i))
            .map(|(i, _)| i);
        match worst {
            Some(i) => {
                cols.remove(i);
            }
            None => break,
        }
    }
    let used = total(&cols);
    let extra = width.saturating_sub(used);
    let grows = if cols.contains(&Col::Prompt) {
        Some(Col::Prompt)
    } else {
        cols.last().copied()
    };
    cols.into_iter()
        .map(|c| {
            let w = spec(c).1 + if Some(c) == grows { extra } else { 0 };
            (c, w)
        })
        .collect()
}

fn pad(s: &str, width: u16) -> String {
    let t = truncate(s, width as usize);
    let w = unicode_width::UnicodeWidthStr::width(t.as_str());
    format!("{t}{} ", " ".repeat((width as usize).saturating_sub(w)))
}

/// The sort key a column shows, for the header's marker.
fn sorted_by(col: Col) -> Option<SortKey> {
    match col {
        Col::Status => Some(SortKey::Status),
        Col::Model => Some(SortKey::Model),
        Col::Tokens => Some(SortKey::Tokens),
        Col::Duration => Some(SortKey::Duration),
        Col::Age => Some(SortKey::Created),
        _ => None,
    }
}

fn cell(t: &TaskRow, col: Col, now: i64, retries: usize) -> String {
    match col {
        Col::Status => format!("{} {}", symbol(&t.phase), short_status(&t.phase)),
        // `↻1` on a retry (its depth); `→1` on an original that has been retried (how often).
        Col::Id => {
            let mut s = short_id(t);
            if t.retry_depth > 0 {
                s.push_str(&format!(" ↻{}", t.retry_depth));
            }
            if retries > 0 {
                s.push_str(&format!(" →{retries}"));
            }
            s
        }
        Col::Error => t.error_code().map(short_error).unwrap_or_default(),
        Col::Model => short_label(&t.model),
        // Labels come from batch files (or a store written by hand): escaped, one line.
        Col::Label => t.label().map(|l| flat(l).into_owned()).unwrap_or_default(),
        Col::Prompt => t.prompt.to_string(),
        Col::Ratio => t.spec.ratio.as_deref().unwrap_or_default().to_string(),
        Col::Resolution => t.spec.resolution.as_deref().unwrap_or_default().to_string(),
        Col::Duration => match t.spec.duration {
            Some(-1) => "auto".into(),
            Some(d) => format!("{d}s"),
            None => String::new(),
        },
        Col::Age => age(now - t.created_at),
        Col::Progress => progress_time(t, now),
        Col::Tokens => t.tokens.map(tokens).unwrap_or_default(),
        Col::Saved => match (t.results.video_saved, t.results.video_url) {
            (true, _) => "✓".into(),
            (false, true) => "·".into(),
            _ => String::new(),
        },
    }
}

/// A short form of an error code for the ERROR column: known families get a word, others
/// their first CamelCase words.
pub(crate) fn short_error(code: &str) -> String {
    const SHORT: &[(&str, &str)] = &[
        ("OutputVideoSensitive", "out-vid"),
        ("OutputAudioSensitive", "out-aud"),
        (
            "InputImageSensitiveContentDetected.PrivacyInformation",
            "face",
        ),
        ("InputTextSensitive", "prompt"),
        ("InputImageSensitive", "in-image"),
        ("InputVideoSensitive", "in-video"),
        ("InputAudioSensitive", "in-audio"),
        ("InvalidEndpointOrModel", "model"),
        ("ModelNotOpen", "not-open"),
        ("MissingParameter", "missing"),
        ("InvalidParameter", "invalid"),
        ("AuthenticationError", "auth"),
        ("AccountOverdue", "overdue"),
        ("AccessDenied", "denied"),
        ("QuotaExceeded", "quota"),
        ("SetLimitExceeded", "limit"),
        ("RateLimitExceeded", "rate"),
        ("ServerOverloaded", "overload"),
        ("InternalServiceError", "server"),
        ("Timeout", "timeout"),
    ];
    if let Some((_, s)) = SHORT.iter().find(|(p, _)| code.starts_with(p)) {
        return s.to_string();
    }
    // Unknown: only what a terminal shows safely, and not much of it.
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-')
        .take(8)
        .collect()
}

/// Draw the table into `area` (title line, column header, rows).
pub(crate) fn render(frame: &mut Frame, area: Rect, state: &State) {
    if area.height < 2 {
        return;
    }
    let theme = state.theme();
    // No task has a label: no empty LABEL column.
    let chosen: Vec<Col> = if state.labelled == 0 {
        state
            .columns
            .iter()
            .copied()
            .filter(|c| *c != Col::Label)
            .collect()
    } else {
        state.columns.clone()
    };
    let cols = columns(area.width.saturating_sub(2), &chosen);
    // A chosen LABEL column with no room of its own: the prompt cell starts with the label.
    let label_in_prompt =
        state.columns.contains(&Col::Label) && cols.iter().all(|(c, _)| *c != Col::Label);
    let title = table_title(state, &cols);
    let focused = state.focus == Focus::Table;
    let block = Block::default()
        .borders(Borders::TOP)
        .border_style(if focused {
            theme.accent()
        } else {
            theme.border()
        })
        .title(Span::styled(title, theme.title()));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.height == 0 {
        return;
    }
    // The sorted column's header carries the direction.
    let header: String = cols
        .iter()
        .map(|(c, w)| {
            let name = spec(*c).0;
            if sorted_by(*c) == Some(state.sort) {
                let arrow = if state.sort_desc { "▼" } else { "▲" };
                pad(&format!("{name}{arrow}"), *w)
            } else {
                pad(name, *w)
            }
        })
        .collect();
    let mut lines = vec![Line::from(Span::styled(
        format!("  {header}"),
        theme.dim().add_modifier(Modifier::BOLD),
    ))];
    if state.order.is_empty() {
        let msg = if state.tasks.is_empty() {
            "No tasks yet. Press n to write a request, or submit one with `seedance-tui submit`."
        } else {
            "No task matches the filter (Esc clears it)."
        };
        lines.push(Line::from(Span::styled(format!("  {msg}"), theme.dim())));
    }
    let rows = inner.height.saturating_sub(1) as usize;
    let selected = state.selected.as_deref();
    for &i in state.order.iter().skip(state.offset).take(rows) {
        let t = &state.tasks[i];
        let is_sel = selected == Some(&*t.local_id);
        let marked = state.marks.contains(&*t.local_id);
        let status_style = Style::default().fg(theme.status_color(t.phase.as_str()));
        let mark_style = if is_sel {
            theme.selected()
        } else {
            Style::default().fg(theme.marked)
        };
        let mut spans = vec![Span::styled(if marked { "● " } else { "  " }, mark_style)];
        for (c, w) in &cols {
            // An unfinished task with a history-based ETA: the remaining time, with the cell
            // filled (reversed) as far as the task has progressed.
            if *c == Col::Progress
                && let Some(e) = state
                    .eta
                    .estimate_in_queue(t, state.now, state.queue_place(t))
            {
                let stage = if t.started_at.is_some() { "r" } else { "q" };
                let text = pad(&format!("{stage} {}", eta::label(&e)), *w);
                let base = if is_sel {
                    theme.selected()
                } else {
                    theme.dim()
                };
                spans.extend(progress_bar(text, e.progress, base));
                continue;
            }
            if *c == Col::Prompt
                && label_in_prompt
                && let Some(label) = t.label()
            {
                let label = flat(label);
                let text = pad(&format!("{label} {}", t.prompt), *w);
                let cut = if text.starts_with(&*label) {
                    label.len()
                } else {
                    text.len()
                };
                let (head, rest) = text.split_at(cut);
                let (label_style, rest_style) = if is_sel {
                    (theme.selected(), theme.selected())
                } else {
                    (theme.accent(), theme.base())
                };
                spans.push(Span::styled(head.to_string(), label_style));
                spans.push(Span::styled(rest.to_string(), rest_style));
                continue;
            }
            let (text, warn) = match c {
                Col::Saved => {
                    let (s, warn) = super::preview::saved_text(state, t, *w as usize);
                    (pad(&s, *w), warn)
                }
                // A pending row's place in the queue (what `K`/`J` change).
                Col::Progress if t.phase == crate::store::Phase::Pending => {
                    let place = state
                        .queue
                        .position(&t.local_id)
                        .map(|n| format!("#{n}"))
                        .unwrap_or_default();
                    (pad(&place, *w), false)
                }
                _ => {
                    let retries = state.retries.get(&*t.local_id).copied().unwrap_or(0);
                    (pad(&cell(t, *c, state.now, retries), *w), false)
                }
            };
            let style = match c {
                // The selected row is one solid bar; the symbol still tells the status.
                _ if is_sel => theme.selected(),
                Col::Saved if warn => theme.warn(),
                Col::Status => status_style,
                Col::Error => theme.error(),
                Col::Id | Col::Age | Col::Progress => theme.dim(),
                _ => theme.base(),
            };
            spans.push(Span::styled(text, style));
        }
        lines.push(Line::from(spans));
    }
    frame.render_widget(Paragraph::new(lines).style(theme.base()), inner);
}

/// `text` split at `fraction` of its width: the done part reversed, the rest plain.
fn progress_bar(text: String, fraction: f64, style: Style) -> [Span<'static>; 2] {
    let chars: Vec<char> = text.chars().collect();
    let done = ((chars.len() as f64) * fraction.clamp(0.0, 1.0)).round() as usize;
    let (a, b) = chars.split_at(done.min(chars.len()));
    [
        Span::styled(
            a.iter().collect::<String>(),
            style.add_modifier(Modifier::REVERSED),
        ),
        Span::styled(b.iter().collect::<String>(), style),
    ]
}

fn table_title(state: &State, shown: &[(Col, u16)]) -> String {
    let mut t = format!(" Tasks {}/{} ", state.order.len(), state.tasks.len());
    // Where the selection is among the rows shown (`12/340`).
    if let Some(row) = state.selected_row() {
        t.push_str(&format!("· row {}/{} ", row + 1, state.order.len()));
    }
    // A sort without its column on screen (updated, queue order, a hidden or dropped column)
    // is named here; the others are marked in the column header.
    if !shown.iter().any(|(c, _)| sorted_by(*c) == Some(state.sort)) {
        let arrow = if state.sort_desc { "▼" } else { "▲" };
        t.push_str(&format!("· sort {}{arrow} ", state.sort.label()));
    }
    if let Some(v) = &state.view {
        t.push_str(&format!("· view {v} "));
    }
    if !state.filter.is_empty() {
        t.push_str(&format!("· filter “{}” ", state.filter.text.trim()));
    }
    if state.quick.is_some() {
        let name = state.quick_status().unwrap_or("");
        t.push_str(&format!("· only {name} "));
    }
    if !state.marks.is_empty() {
        t.push_str(&format!("· {} marked ", state.marks.len()));
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_drop_by_priority_and_fill_width() {
        let wide = columns(160, &Col::ALL);
        assert_eq!(wide.len(), Col::ALL.len());
        assert_eq!(wide.iter().map(|(_, w)| w + 1).sum::<u16>(), 160);
        let narrow = columns(60, &Col::ALL);
        let names: Vec<Col> = narrow.iter().map(|(c, _)| *c).collect();
        assert!(
            names.contains(&Col::Status)
                && names.contains(&Col::Id)
                && names.contains(&Col::Prompt)
        );
        assert!(!names.contains(&Col::Ratio));
        assert!(narrow.iter().map(|(_, w)| w + 1).sum::<u16>() <= 60);
    }
}
