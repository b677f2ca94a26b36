//! The views' test helper: a state drawn into a test buffer, as text.

use crate::app::State;
use ratatui::buffer::Buffer;

/// [`super::buffer_text`] with each row's trailing spaces trimmed (as the snapshots keep it).
pub(crate) fn trimmed_text(b: &Buffer) -> String {
    super::buffer_text(b)
        .lines()
        .map(|l| format!("{}\n", l.trim_end()))
        .collect()
}

/// The whole screen `s` draws, as text: one line per row, one symbol per cell.
pub(crate) fn rendered(s: &State) -> String {
    let (w, h) = s.size;
    let mut term =
        ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, h)).expect("terminal");
    term.draw(|f| super::view(s, f)).expect("draw");
    super::buffer_text(term.backend().buffer())
}
