//! Small text formatters shared by the widgets: status symbols, relative times, token counts,
//! short ids.

use crate::api::TaskStatus;
use crate::store::{Phase, TaskRow};

/// A symbol per phase, so the status reads without colour.
pub(crate) fn symbol(p: &Phase) -> &'static str {
    match p {
        Phase::Pending => "○",
        Phase::Submitting => "↑",
        Phase::SubmitUnknown => "?",
        Phase::Rejected => "⊗",
        Phase::Lost => "⌀",
        Phase::Remote(TaskStatus::Queued) => "…",
        Phase::Remote(TaskStatus::Running) => "▶",
        Phase::Remote(TaskStatus::Succeeded) => "✓",
        Phase::Remote(TaskStatus::Failed) => "✗",
        Phase::Remote(TaskStatus::Expired) => "◷",
        Phase::Remote(TaskStatus::Cancelled) => "⊘",
        Phase::Remote(TaskStatus::Unknown(_)) => "·",
    }
}

/// A short label per phase for narrow columns.
pub(crate) fn short_status(p: &Phase) -> &str {
    match p {
        Phase::SubmitUnknown => "unknown?",
        Phase::Submitting => "sending",
        other => other.as_str(),
    }
}

/// `42s`, `5m`, `3h`, `2d` (negative spans show as `0s`).
pub(crate) fn span(secs: i64) -> String {
    let s = secs.max(0);
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m", s / 60),
        3600..=86_399 => {
            let (h, m) = (s / 3600, (s % 3600) / 60);
            if h < 10 && m > 0 {
                format!("{h}h{m:02}")
            } else {
                format!("{h}h")
            }
        }
        _ => format!("{}d", s / 86_400),
    }
}

/// A task's age for the table's AGE column: like [`span`], but the first minute counts in
/// 10-second steps (`0s`, `10s` … `50s`). The TIME column counts every second of a task in
/// progress; an age that also changed every second would redraw every fresh row each second
/// for nothing the user needs (the exact time is in the detail pane).
pub(crate) fn age(secs: i64) -> String {
    let s = secs.max(0);
    if s < 60 { span(s - s % 10) } else { span(s) }
}

/// `950`, `12.3k`, `108k`, `1.2M`.
pub(crate) fn tokens(n: u64) -> String {
    match n {
        0..=999 => n.to_string(),
        1000..=99_999 => format!("{:.1}k", n as f64 / 1000.0),
        100_000..=999_999 => format!("{}k", n / 1000),
        _ => format!("{:.1}M", n as f64 / 1_000_000.0),
    }
}

/// A short id for the table: the server id's time and suffix (`105718-mq3yp`), or the tail of a
/// relay id, or `local` for a submission without one.
pub(crate) fn short_id(t: &TaskRow) -> String {
    crate::api::task_id::short_task_id(t.task_id.as_deref())
}

/// Time spent queued or running (or, when finished, how long it took), from local timestamps.
pub(crate) fn progress_time(t: &TaskRow, now: i64) -> String {
    match (&t.phase, t.started_at, t.finished_at) {
        (Phase::Remote(TaskStatus::Queued), _, _) | (Phase::Submitting, _, _) => {
            format!("q {}", span(now - t.created_at))
        }
        (Phase::Remote(TaskStatus::Running), Some(s), _) => format!("r {}", span(now - s)),
        (Phase::Remote(TaskStatus::Running), None, _) => format!("r {}", span(now - t.created_at)),
        (_, _, Some(f)) => span(f - t.created_at),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_and_tokens() {
        assert_eq!(span(5), "5s");
        assert_eq!(span(300), "5m");
        assert_eq!(span(3700), "1h01");
        assert_eq!(span(40_000), "11h");
        assert_eq!(span(200_000), "2d");
        assert_eq!(span(-3), "0s");
        assert_eq!(age(9), "0s");
        assert_eq!(age(42), "40s");
        assert_eq!(age(59), "50s");
        assert_eq!(age(60), "1m");
        assert_eq!(age(3700), "1h01");
        assert_eq!(age(-3), "0s");
        assert_eq!(tokens(108_000), "108k");
        assert_eq!(tokens(12_345), "12.3k");
        assert_eq!(tokens(2_500_000), "2.5M");
    }
}
