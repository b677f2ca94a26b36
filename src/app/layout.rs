//! Screen geometry shared by the reducer (to keep the selection on screen) and the view.

use ratatui::layout::Rect;

/// The detail pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DetailMode {
    Hidden,
    Split,
    Full,
}

/// Which pane has the keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Focus {
    Table,
    Detail,
}

/// The smallest terminal the dashboard draws in; smaller ones get a plain message.
pub(crate) const MIN_WIDTH: u16 = 50;
pub(crate) const MIN_HEIGHT: u16 = 12;
/// From this width the detail pane sits beside the table instead of below it.
pub(crate) const SIDE_BY_SIDE_WIDTH: u16 = 140;

/// The areas of the main screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Areas {
    pub(crate) header: Rect,
    /// The table including its title line and column header.
    pub(crate) table: Rect,
    pub(crate) detail: Option<Rect>,
    pub(crate) footer: Rect,
}

/// Split the screen.
pub(crate) fn areas(size: (u16, u16), mode: DetailMode) -> Areas {
    let (w, h) = size;
    let header = Rect::new(0, 0, w, 2.min(h));
    let footer = Rect::new(0, h.saturating_sub(1), w, 1.min(h));
    let body_y = header.height;
    let body_h = h.saturating_sub(header.height + footer.height);
    let body = Rect::new(0, body_y, w, body_h);
    let (table, detail) = match mode {
        DetailMode::Hidden => (body, None),
        DetailMode::Full => (Rect::new(0, body_y, w, 0), Some(body)),
        DetailMode::Split if w >= SIDE_BY_SIDE_WIDTH => {
            let tw = percent(w, 55);
            (
                Rect::new(0, body_y, tw, body_h),
                Some(Rect::new(tw, body_y, w - tw, body_h)),
            )
        }
        DetailMode::Split => {
            let th = percent(body_h, 45);
            (
                Rect::new(0, body_y, w, th),
                Some(Rect::new(0, body_y + th, w, body_h - th)),
            )
        }
    };
    Areas {
        header,
        table,
        detail,
        footer,
    }
}

/// `p` percent of `v`, computed wide enough not to overflow on very large terminals.
pub(crate) fn percent(v: u16, p: u16) -> u16 {
    (u32::from(v) * u32::from(p) / 100) as u16
}

/// How many task rows the table shows (its title and column header take two lines).
pub(crate) fn table_rows(size: (u16, u16), mode: DetailMode) -> u16 {
    areas(size, mode).table.height.saturating_sub(2)
}
