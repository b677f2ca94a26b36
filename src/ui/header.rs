//! The header: profile and host, polling health, the budget, counts per status and the queue.

use super::format::{self, span, tokens};
use crate::api::TaskStatus;
use crate::app::state::State;
use crate::store::Phase;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

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

pub(super) fn header(frame: &mut Frame, area: Rect, state: &State) {
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
        // Another host's process wrote it into the shared store: escaped here too.
        let who = crate::sanitize::line(h.follows.as_deref().unwrap_or("another process"));
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
            format!("{} {q}  ", format::symbol(&Phase::Pending)),
            style,
        ));
    }
    // The statuses of `Phase::ALL` in its order, but sending first: it comes before the
    // server's statuses in a task's life. Pending rows are the queue, counted above.
    let rest = Phase::ALL
        .into_iter()
        .filter(|p| !matches!(p, Phase::Pending | Phase::Submitting));
    for phase in std::iter::once(Phase::Submitting).chain(rest) {
        let key = phase.as_str();
        let n = state.counts.get(key).copied().unwrap_or(0);
        // The four a glance looks for are always there, the rest once they have a task.
        let always = matches!(
            phase,
            Phase::Remote(
                TaskStatus::Queued
                    | TaskStatus::Running
                    | TaskStatus::Succeeded
                    | TaskStatus::Failed
            )
        );
        if n == 0 && !always {
            continue;
        }
        let label = match &phase {
            Phase::Submitting => "sending",
            Phase::Remote(TaskStatus::Succeeded) => "done",
            Phase::SubmitUnknown => "unknown",
            other => other.as_str(),
        };
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
