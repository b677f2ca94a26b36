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

/// Fit a header line into `width` by cutting the spans at `give_way` in turn, each with `…`.
/// On the first line the poller's words, then the profile, give way: the spend at the end holds
/// numbers, never cut. On the second, the queue's words: the counts are never cut.
fn fit_line(spans: &mut [Span<'static>], width: usize, give_way: [usize; 2]) {
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
    fit_line(&mut first, usize::from(area.width), [poll_at, profile_at]);
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
    let mut queue_at = None;
    if let Some(q) = crate::app::queue::header(state) {
        let style = if state.queue.paused || state.queue.held_at(state.now) {
            theme.warn()
        } else {
            Style::default().fg(theme.status_color("pending"))
        };
        queue_at = Some(second.len());
        second.push(Span::styled(
            format!("{} {q}  ", format::symbol(&Phase::Pending)),
            style,
        ));
    }
    let counts = status_counts(state);
    let width = usize::from(area.width);
    let used = line_width(&second);
    // Labels while they fit; then only the four a glance looks for keep theirs; then none (the
    // symbols are in the help's legend). A count is never cut.
    let labels = [Labels::All, Labels::Main, Labels::None]
        .into_iter()
        .find(|l| used + counts_width(&counts, *l) <= width)
        .unwrap_or(Labels::None);
    for c in &counts {
        second.push(Span::styled(
            c.text(labels),
            Style::default().fg(theme.status_color(c.phase.as_str())),
        ));
    }
    if let Some(last) = second.last_mut() {
        let trimmed = last.content.trim_end().to_owned();
        last.content = trimmed.into();
    }
    if let Some(i) = queue_at {
        // Still too wide: the queue's words give way, its symbol stays.
        let mut spans = second;
        fit_line(&mut spans, width, [i, i]);
        second = spans;
    }
    frame.render_widget(
        Paragraph::new(vec![Line::from(first), Line::from(second)]),
        area,
    );
}

/// How much of each status count's label the header's second line shows.
#[derive(Clone, Copy, PartialEq)]
enum Labels {
    All,
    /// Queued, running, done and failed keep their words.
    Main,
    None,
}

struct StatusCount {
    phase: Phase,
    n: usize,
    label: String,
    main: bool,
}

impl StatusCount {
    fn text(&self, labels: Labels) -> String {
        let sym = format::symbol(&self.phase);
        match labels {
            Labels::All => format!("{sym} {} {}  ", self.n, self.label),
            Labels::Main if self.main => format!("{sym} {} {}  ", self.n, self.label),
            _ => format!("{sym} {}  ", self.n),
        }
    }
}

fn line_width(spans: &[Span<'_>]) -> usize {
    use unicode_width::UnicodeWidthStr;
    spans.iter().map(|s| s.content.width()).sum()
}

fn counts_width(counts: &[StatusCount], labels: Labels) -> usize {
    use unicode_width::UnicodeWidthStr;
    // The line's last two spaces may fall past the edge.
    counts
        .iter()
        .map(|c| c.text(labels).width())
        .sum::<usize>()
        .saturating_sub(2)
}

/// The statuses of `Phase::ALL` in its order, but sending first: it comes before the server's
/// statuses in a task's life. Pending rows are the queue, counted apart.
fn status_counts(state: &State) -> Vec<StatusCount> {
    let rest = Phase::ALL
        .into_iter()
        .filter(|p| !matches!(p, Phase::Pending | Phase::Submitting));
    let mut out = Vec::new();
    for phase in std::iter::once(Phase::Submitting).chain(rest) {
        let n = state.counts.get(phase.as_str()).copied().unwrap_or(0);
        // The four a glance looks for are always there, the rest once they have a task.
        let main = matches!(
            phase,
            Phase::Remote(
                TaskStatus::Queued
                    | TaskStatus::Running
                    | TaskStatus::Succeeded
                    | TaskStatus::Failed
            )
        );
        if n == 0 && !main {
            continue;
        }
        let label = match &phase {
            Phase::Submitting => "sending".to_owned(),
            Phase::Remote(TaskStatus::Succeeded) => "done".to_owned(),
            Phase::SubmitUnknown => "unknown".to_owned(),
            other => other.as_str().to_owned(),
        };
        out.push(StatusCount {
            phase,
            n,
            label,
            main,
        });
    }
    out
}
