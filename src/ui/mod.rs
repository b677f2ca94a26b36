//! The view: `view(&State, &mut Frame)` draws the whole screen from state alone — header, task
//! table, detail pane, footer, and the overlays (help, copy menu, questions, message log).

pub mod composer;
pub mod detail;
pub mod format;
mod popups;
pub mod preview;
pub mod summary;
pub mod table;

use crate::app::keymap::Context;
use crate::app::layout::{self, MIN_HEIGHT, MIN_WIDTH};
use crate::app::msg::Level;
use crate::app::state::{Overlay, Question, State};
use format::{span, tokens};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

/// Draw the whole screen.
pub fn view(state: &State, frame: &mut Frame) {
    draw(state, frame);
    // Every string is escaped where it is laid out; this pass makes sure no control or bidi
    // character that slipped through a new widget reaches the terminal.
    for cell in frame.buffer_mut().content.iter_mut() {
        if cell.symbol().chars().any(crate::sanitize::is_unsafe) {
            cell.set_symbol("\u{FFFD}");
        }
    }
}

fn draw(state: &State, frame: &mut Frame) {
    let area = frame.area();
    let theme = state.theme();
    frame.render_widget(Block::default().style(theme.base()), area);
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let msg = format!(
            "The terminal is {}x{}; seedance-tui needs at least {MIN_WIDTH}x{MIN_HEIGHT}. Enlarge it, or press q to quit.",
            area.width, area.height
        );
        frame.render_widget(Paragraph::new(msg).wrap(Wrap { trim: true }), area);
        return;
    }
    let a = layout::areas((area.width, area.height), state.detail);
    header(frame, a.header, state);
    if state.composer.is_open() {
        let top = a.header.height;
        let body = Rect::new(0, top, area.width, a.footer.y.saturating_sub(top));
        composer::render(frame, body, state);
    } else {
        if a.table.height > 0 {
            table::render(frame, a.table, state);
        }
        if let Some(d) = a.detail {
            detail::render(frame, d, state);
        }
    }
    footer(frame, a.footer, state);
    if !message_fits(state, usize::from(a.footer.width)) {
        message_box(frame, a.footer, state);
    }
    match &state.overlay {
        Overlay::None => {}
        Overlay::Help { scroll } => help(frame, area, state, *scroll),
        Overlay::Log { scroll } => log(frame, area, state, *scroll),
        Overlay::Summary { scroll } => summary::render(frame, area, state, *scroll),
        Overlay::CopyMenu => menu(frame, area, state, " Copy ", Context::CopyMenu, None),
        Overlay::SortMenu => menu(frame, area, state, " Sort by ", Context::Sort, None),
        Overlay::Palette(p) => popups::palette(frame, area, state, p),
        Overlay::Columns { selected } => popups::columns(frame, area, state, *selected),
        Overlay::CopyText {
            label,
            text,
            scroll,
        } => copy_text(frame, area, state, label, text, *scroll),
        Overlay::Confirm(q) => {
            let text = match q {
                Question::Quit { in_flight } => format!(
                    "{in_flight} submission(s) are in flight. Quit anyway? They stay in the store as `submitting` and are never re-sent automatically."
                ),
                Question::Retry(plan) => {
                    let mut t = format!(
                        "Resubmit {} task(s) as new tasks (about {} tokens)?",
                        plan.local_ids.len(),
                        tokens(plan.tokens)
                    );
                    if !plan.unfixable.is_empty() {
                        let mut codes = plan.unfixable.clone();
                        codes.dedup();
                        t.push_str(&format!(
                            " Warning: {} failed for a reason a retry cannot fix ({}); edit them instead (e).",
                            plan.unfixable.len(),
                            codes.join(", ")
                        ));
                    }
                    if plan.unknown > 0 {
                        t.push_str(&format!(
                            " {} had an unknown outcome and may already exist: a retry can bill twice.",
                            plan.unknown
                        ));
                    }
                    if plan.skipped > 0 {
                        t.push_str(&format!(" {} not retryable, skipped.", plan.skipped));
                    }
                    if !plan.already.is_empty() {
                        t.push_str(&format!(
                            " Skipped, already retried: {}.",
                            plan.already.join(", ")
                        ));
                    }
                    if plan.input_video_unread > 0 {
                        t.push_str(&format!(
                            " The estimate excludes the input video of {} (its seconds are not known; the minimum is counted).",
                            plan.input_video_unread
                        ));
                    }
                    if let Some(over) = &plan.over_budget {
                        t.push_str(&format!(" {over}; y sends it anyway."));
                    }
                    t
                }
                Question::RemovePending(ids) => format!(
                    "Remove {} pending row(s) from the queue? They were never sent; nothing on the server changes.",
                    ids.len()
                ),
                Question::RemoveLocal { local_ids } => format!(
                    "Remove {} row(s) that never reached the server? No task was created for them; only the local record goes.",
                    local_ids.len()
                ),
                Question::Adopt { local_id, task_id } => {
                    let id = state
                        .task(local_id)
                        .map(|t| t.display_id().to_string())
                        .unwrap_or_default();
                    format!(
                        "Take {task_id} as the outcome of {id}? Probable, not confirmed: it has this request's parameters, but the server does not say which request made it (another client's task would be followed and saved as yours)."
                    )
                }
                Question::Cancel { local_id } => {
                    let id = state
                        .task(local_id)
                        .map(|t| t.display_id().to_string())
                        .unwrap_or_default();
                    format!("Cancel the queued task {id}?")
                }
            };
            menu(
                frame,
                area,
                state,
                " Question ",
                Context::Confirm,
                Some(text),
            );
        }
    }
}

fn host_of(base_url: &str) -> &str {
    let rest = base_url.split("://").nth(1).unwrap_or(base_url);
    rest.split('/').next().unwrap_or(rest)
}

/// Today's spend against the `[budget]` cap, in the warning colour from 80 % on.
fn budget_span(state: &State, theme: &crate::theme::Theme) -> Span<'static> {
    let spent = state.spent_today;
    let b = &state.cap.budget;
    let mut parts = Vec::new();
    let mut share: f64 = 0.0;
    if let Some(limit) = b.daily_tokens {
        parts.push(format!("{} / {} tok", tokens(spent.tokens), tokens(limit)));
        share = share.max(spent.tokens as f64 / limit.max(1) as f64);
    }
    if let Some(limit) = b.daily_money {
        let m = spent.money.unwrap_or(0.0);
        parts.push(format!(
            "{} / {}",
            state.cap.format_money(m),
            state.cap.format_money(limit)
        ));
        share = share.max(m / limit);
    }
    let text = format!("today {}", parts.join(", "));
    if share >= 0.8 {
        Span::styled(text, theme.warn())
    } else {
        Span::styled(text, theme.dim())
    }
}

/// Fit the header's first line (profile, poller, spend) into `width` by cutting the spans at
/// `give_way` in turn (the poller's words, then the profile), each with `…`: the spend at the
/// end holds numbers, never cut.
fn fit_first_line(spans: &mut [Span<'static>], width: usize, give_way: [usize; 2]) {
    use unicode_width::UnicodeWidthStr;
    let total = |spans: &[Span<'_>]| -> usize { spans.iter().map(|s| s.content.width()).sum() };
    for i in give_way {
        let over = total(spans).saturating_sub(width);
        if over == 0 {
            return;
        }
        let Some(span) = spans.get_mut(i) else {
            return;
        };
        let w = span.content.width();
        let keep = w.saturating_sub(over).max(1);
        span.content = crate::text::truncate(&span.content, keep).into();
    }
}

/// The header's time since the last answered poll. Both times are whole seconds, so a
/// difference of one may be a millisecond: under two seconds reads "just now", which also keeps
/// the header still while polls keep coming (it would flip between 0 s and 1 s every second).
fn polled_ago(secs: i64) -> String {
    if secs < 2 {
        "polled just now".into()
    } else {
        format!("polled {} ago", span(secs))
    }
}

fn header(frame: &mut Frame, area: Rect, state: &State) {
    let theme = state.theme();
    let mut first = Vec::new();
    if area.width >= 100 {
        first.push(Span::styled(" seedance-tui ", theme.title()));
    }
    let profile_at = first.len();
    first.push(Span::styled(
        format!(" {}@{}", state.profile, host_of(&state.base_url)),
        theme.base(),
    ));
    first.push(Span::styled(" │ ", theme.border()));
    let h = &state.health;
    // A banner says why (an auth failure pauses polling too); a plain pause is the user's.
    let poll = if let Some(b) = &h.banner {
        Span::styled(b.clone(), theme.error())
    } else if h.paused {
        Span::styled("polling paused (p resumes)", theme.warn())
    } else if !h.leader {
        let who = h.follows.as_deref().unwrap_or("another process");
        Span::styled(format!("following the poller: {who}"), theme.dim())
    } else {
        let last = h
            .last_success
            .map(|t| polled_ago(state.now - t))
            .unwrap_or_else(|| "not polled yet".into());
        let errors = if h.consecutive_errors > 0 {
            format!(", {} errors", h.consecutive_errors)
        } else {
            String::new()
        };
        Span::styled(
            format!("{last}, {} watched{errors}", h.tracked),
            theme.dim(),
        )
    };
    let poll_at = first.len();
    first.push(poll);
    first.push(Span::styled(" │ ", theme.border()));
    if state.cap.is_set() {
        first.push(budget_span(state, theme));
    } else {
        first.push(Span::styled(
            format!("today {} tok", tokens(state.tokens_today)),
            theme.dim(),
        ));
        if let Some(c) = crate::app::results::cost_today(state) {
            let text = format!(" ≈ {}", state.results.pricing.format(c));
            first.push(Span::styled(text, theme.dim()));
        }
    }
    fit_first_line(&mut first, usize::from(area.width), [poll_at, profile_at]);
    let mut second = vec![Span::raw(" ")];
    if let Some(banner) = &state.preflight {
        // Until it is fixed, nothing else on this line matters as much.
        let banner = crate::sanitize::line(banner).into_owned();
        // An answer of unknown shape is a warning (creates are sent), anything else a wall.
        let style = if banner.starts_with("warning:") {
            theme.warn()
        } else {
            theme.error()
        };
        second.push(Span::styled(banner, style));
        frame.render_widget(
            Paragraph::new(vec![Line::from(first), Line::from(second)]),
            area,
        );
        return;
    }
    if let Some(problem) = &state.destination {
        // Results would die unsaved: said where it is seen, before the counts.
        let text = crate::sanitize::line(problem).into_owned();
        second.push(Span::styled(format!("⬇ {text}"), theme.error()));
        frame.render_widget(
            Paragraph::new(vec![Line::from(first), Line::from(second)]),
            area,
        );
        return;
    }
    if let Some(q) = crate::app::queue::header(state) {
        let style = if state.queue.paused || state.queue.held_at(state.now) {
            theme.warn()
        } else {
            Style::default().fg(theme.status_color("pending"))
        };
        second.push(Span::styled(
            format!("{} {q}  ", format::symbol(&crate::store::Phase::Pending)),
            style,
        ));
    }
    for (key, label) in [
        ("submitting", "sending"),
        ("queued", "queued"),
        ("running", "running"),
        ("succeeded", "done"),
        ("failed", "failed"),
        ("expired", "expired"),
        ("cancelled", "cancelled"),
        ("submit_unknown", "unknown"),
        ("rejected", "rejected"),
        ("lost", "lost"),
    ] {
        let n = state.counts.get(key).copied().unwrap_or(0);
        if n == 0 && !matches!(key, "queued" | "running" | "succeeded" | "failed") {
            continue;
        }
        let phase = crate::store::Phase::parse(key);
        second.push(Span::styled(
            format!("{} {n} {label}  ", format::symbol(&phase)),
            Style::default().fg(theme.status_color(key)),
        ));
    }
    frame.render_widget(
        Paragraph::new(vec![Line::from(first), Line::from(second)]),
        area,
    );
}

fn footer(frame: &mut Frame, area: Rect, state: &State) {
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
fn message_fits(state: &State, width: usize) -> bool {
    state.current_message().is_none_or(|m| {
        display_width(&crate::sanitize::flat(&m.text)) <= message_room(state, width)
    })
}

/// An answer too long for the footer, wrapped whole in a box just above it.
fn message_box(frame: &mut Frame, footer: Rect, state: &State) {
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

fn display_width(s: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(s)
}

/// A centred box of `w`x`h` within `area`.
fn centered(area: Rect, w: u16, h: u16) -> Rect {
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
fn large_popup(frame: &mut Frame, area: Rect, block: Block, lines: Vec<Line>, scroll: u16) {
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

fn popup<'a>(title: &'a str, state: &State) -> Block<'a> {
    let theme = state.theme();
    Block::default()
        .borders(Borders::ALL)
        .border_style(theme.accent())
        .title(Span::styled(title, theme.title()))
        .style(theme.base())
}

fn help(frame: &mut Frame, area: Rect, state: &State, scroll: u16) {
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

fn log(frame: &mut Frame, area: Rect, state: &State, scroll: u16) {
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
fn copy_text(frame: &mut Frame, area: Rect, state: &State, label: &str, text: &str, scroll: u16) {
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

fn menu(
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
