//! The state of the palette and of a search while they are open. A leaf.

/// The palette while it is open.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Palette {
    pub input: String,
    /// The highlighted entry among the matches.
    pub selected: usize,
}

/// A search in the help or the detail pane.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Search {
    pub text: String,
    /// Still being typed on the footer's line.
    pub typing: bool,
    /// Which match is shown (wraps around).
    pub nth: usize,
}
