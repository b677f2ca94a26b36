//! The state of the palette and of a search while they are open. A leaf.

/// The palette while it is open.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Palette {
    pub(crate) input: String,
    /// The highlighted entry among the matches.
    pub(crate) selected: usize,
}

/// A search in the help or the detail pane.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Search {
    pub(crate) text: String,
    /// Still being typed on the footer's line.
    pub(crate) typing: bool,
    /// Which match is shown (wraps around).
    pub(crate) nth: usize,
}
