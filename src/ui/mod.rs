//! The view: `view(&State, &mut Frame)` draws the whole screen from state alone — header, task
//! table, detail pane, footer, and the overlays (help, copy menu, questions, message log).

pub(crate) mod composer;
pub(crate) mod detail;
mod footer;
pub(crate) mod format;
mod header;
mod overlays;
mod popups;
pub(crate) mod preview;
pub(crate) mod sheet;
pub(crate) mod summary;
pub(crate) mod table;
#[cfg(test)]
pub(crate) mod test_support;
#[cfg(test)]
mod tests;

use crate::app::keymap::Context;
use crate::app::layout::{self, MIN_HEIGHT, MIN_WIDTH};
use crate::app::state::{Overlay, Question, State};
use footer::{footer, message_box, message_fits};
use format::tokens;
use header::header;
pub(crate) use overlays::searched;
use overlays::{centered, copy_text, help, large_popup, log, menu};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::{Block, Paragraph, Wrap};

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
        if state.results.sheet_full {
            let top = a.header.height;
            let body = Rect::new(0, top, area.width, a.footer.y.saturating_sub(top));
            sheet::render_full(frame, body, state);
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

/// A drawn buffer as text: one line per row, one symbol per cell (the tests read screens so).
pub fn buffer_text(b: &ratatui::buffer::Buffer) -> String {
    let mut out = String::new();
    for y in 0..b.area.height {
        for x in 0..b.area.width {
            out.push_str(b[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}
