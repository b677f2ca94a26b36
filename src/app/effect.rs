//! Effects: what the reducer asks the runtime to do, as plain data.

/// One thing for the runtime to carry out; its outcome, if any, comes back as a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Restore the terminal and exit.
    Quit,
    /// Stop the process (Ctrl-Z); the runtime restores the terminal first and redraws on resume.
    Suspend,
    /// Pause or resume polling.
    SetPaused(bool),
    /// Poll every unfinished task as soon as the budget allows.
    RefreshNow,
    /// Put text on the clipboard (OSC 52, works over SSH and in tmux).
    Copy(String),
    /// Put a presigned link (1 hour) to this `s3://BUCKET/KEY` on the clipboard.
    CopyPresigned(String),
    /// Load a task's status history (answered with `Msg::History`).
    LoadHistory(String),
    /// Read a task's full request and last response from the store (answered with
    /// `Msg::Bodies`).
    LoadBodies(String),
    /// Cancel a queued task on the server (by local id).
    CancelTask(String),
    /// Resubmit these tasks' stored requests unchanged, each as a new task linked to its
    /// original, paced to the rate limit; one failure does not stop the rest. Each is checked
    /// against the daily cap as it is written.
    Retry(Vec<String>),
    /// [`Effect::Retry`] past the daily cap: the question named the cap and the user said `y`.
    RetryOverBudget(Vec<String>),
    /// Remove rows that never reached the server (answered with `Msg::TasksRemoved`).
    RemoveLocal(Vec<String>),
    /// The user's `y`: the uncertain row `local_id` takes server task `task_id` (the store
    /// watcher brings the change; a failure is a notice).
    Adopt { local_id: String, task_id: String },
    /// Something for the composer: drafts, templates, files, preview, submission.
    Composer(super::types::composer::ComposerEffect),
    /// Probe this base URL once (answered with `Msg::Probed`).
    Probe(String),
    /// Downloads, previews, open, notifications (see `app::results`).
    Results(super::types::results::ResultsEffect),
    /// Pause, reorder or shorten the submission queue (see `app::queue`).
    Queue(super::types::queue::QueueEffect),
    /// Keep the table's columns (by name, in order) as `[ui] columns` in the config file; the
    /// runtime answers with a notice once written (or why not).
    SaveColumns(Vec<String>),
}
