//! What the headless commands print while they follow tasks: one line per status change
//! (`change_line`), the closing summary, and `submit --wait`'s live status line on a terminal.

use crate::api::TaskStatus;
use crate::store::{Phase, TaskRecord};

/// One line describing a task's state, for watch output.
pub(crate) fn change_line(r: &TaskRecord) -> String {
    let time = chrono::Local::now().format("%H:%M:%S");
    let mut line = format!("{time} {} {}", r.display_id(), r.phase);
    if let Some(code) = &r.error_code {
        line.push_str(&format!(" {code}"));
        let audio = crate::store::TaskFacts::spec(r).audio;
        if let Some(h) = crate::api::hints::hint_for_request(code, audio) {
            line.push_str(&format!(" ({h})"));
        }
    }
    if let Some(t) = r.tokens {
        line.push_str(&format!(" tokens={t}"));
    }
    let prompt = prompt_start(&r.prompt);
    if !prompt.is_empty() {
        line.push_str(&format!(" “{prompt}”"));
    }
    line
}

/// The first words of a prompt for a one-line display: at most 30 characters, one line, no
/// control characters.
pub(crate) fn prompt_start(prompt: &str) -> String {
    const MAX: usize = 30;
    let flat: String = prompt
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    if flat.chars().count() <= MAX {
        return flat;
    }
    let mut cut: String = flat.chars().take(MAX - 1).collect();
    cut.push('…');
    cut
}

/// The line `watch` ends with: how the watched tasks ended and the tokens they billed.
pub(crate) fn summary_line(records: &[TaskRecord]) -> String {
    let mut succeeded = 0;
    let mut failed = 0;
    let mut other = 0;
    let mut tokens = 0u64;
    for r in records {
        match &r.phase {
            Phase::Remote(TaskStatus::Succeeded) => succeeded += 1,
            Phase::Remote(TaskStatus::Failed) | Phase::Rejected | Phase::Lost => failed += 1,
            _ => other += 1,
        }
        tokens = tokens.saturating_add(r.tokens.unwrap_or(0));
    }
    let mut line = format!("{succeeded} succeeded, {failed} failed");
    if other > 0 {
        line.push_str(&format!(", {other} other (expired, cancelled or unknown)"));
    }
    line.push_str(&format!(", {tokens} tokens"));
    line
}

/// Where progress lines (status changes, saved files) go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Progress {
    /// `watch`: the lines are the output.
    #[default]
    Stdout,
    /// `submit --wait`: the lines are progress; stdout is kept for the result.
    Stderr,
}

impl Progress {
    pub(super) fn line(self, text: &str) {
        match self {
            Progress::Stdout => crate::outln!("{text}"),
            Progress::Stderr => crate::errln!("{text}"),
        }
    }
}

/// `submit --wait`'s status on stderr: on a terminal one line rewritten in place (status and
/// elapsed time, refreshed every second); otherwise a line per change.
pub(super) struct StatusLine {
    pub(super) live: bool,
    started: std::time::Instant,
    last: Option<String>,
}

impl StatusLine {
    pub(super) fn new(progress: Progress) -> StatusLine {
        use std::io::IsTerminal;
        StatusLine {
            live: progress == Progress::Stderr && std::io::stderr().is_terminal(),
            started: std::time::Instant::now(),
            last: None,
        }
    }

    fn elapsed(&self) -> String {
        let s = self.started.elapsed().as_secs();
        if s >= 60 {
            format!("{}m{:02}s", s / 60, s % 60)
        } else {
            format!("{s}s")
        }
    }

    /// A status change: a new line, or the live line redrawn.
    pub(super) fn change(&mut self, text: String) {
        if self.live {
            self.last = Some(text);
            self.redraw();
        } else {
            crate::errln!("{text} (after {})", self.elapsed());
        }
    }

    pub(super) fn redraw(&self) {
        if let Some(t) = self.last.as_deref().filter(|_| self.live) {
            use std::io::Write;
            let mut err = std::io::stderr();
            let t = crate::sanitize::line(t);
            let _ = write!(err, "\r\x1b[2K{t} · {}", self.elapsed());
            let _ = err.flush();
        }
    }

    /// Before any other line, end the live one so the next starts on a clean line.
    pub(super) fn end(&mut self) {
        if self.live && self.last.take().is_some() {
            eprintln!();
        }
    }
}
