//! The orders the table can be sorted in. A leaf.

/// Columns the table can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SortKey {
    Created,
    Status,
    Model,
    Tokens,
    Duration,
    Updated,
    /// The submission queue's order: pending rows by their place (the next one first in
    /// ascending order), the others after them by age.
    Queue,
}

impl SortKey {
    pub(crate) const ALL: [SortKey; 7] = [
        SortKey::Created,
        SortKey::Status,
        SortKey::Model,
        SortKey::Tokens,
        SortKey::Duration,
        SortKey::Updated,
        SortKey::Queue,
    ];

    /// A sort by its label (`age`, `queue`, ...).
    pub(crate) fn parse(s: &str) -> Option<SortKey> {
        SortKey::ALL.into_iter().find(|k| k.label() == s)
    }

    pub(crate) fn label(self) -> &'static str {
        match self {
            SortKey::Created => "age",
            SortKey::Status => "status",
            SortKey::Model => "model",
            SortKey::Tokens => "tokens",
            SortKey::Duration => "duration",
            SortKey::Updated => "updated",
            SortKey::Queue => "queue",
        }
    }
}
