//! The submission queue as the runtime reads it from the store, and what the reducer asks of it.
//! A leaf.

/// The queue as the runtime last read it from the store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueInfo {
    /// Local ids of the `pending` rows, in the order they will be sent.
    pub(crate) order: Vec<String>,
    /// Paused by a user (in any dashboard sharing the store).
    pub(crate) paused: bool,
    /// The server asked to wait until this Unix second, and why.
    pub(crate) held_until: Option<i64>,
    pub(crate) held_reason: Option<String>,
}

/// What the reducer asks the runtime to do to the queue (all in the store).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueueEffect {
    SetPaused(bool),
    /// Swap a pending row with its neighbour (`up`: towards the front).
    Move {
        local_id: String,
        up: bool,
    },
    /// Delete these rows if they are still pending (never sent).
    Remove(Vec<String>),
}

impl QueueInfo {
    /// 1-based place of a pending row in the queue.
    pub(crate) fn position(&self, local_id: &str) -> Option<usize> {
        self.order
            .iter()
            .position(|id| id == local_id)
            .map(|i| i + 1)
    }

    /// True while the server's hold lasts at `now`.
    pub(crate) fn held_at(&self, now: i64) -> bool {
        self.held_until.is_some_and(|t| t > now)
    }
}
