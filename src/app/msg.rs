//! Messages (everything that can happen) and intents (what a key means).

use crate::store::{HistoryEntry, TaskBodies, TaskRow};
use crossterm::event::KeyEvent;

/// How serious a notice is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

/// Poller health as the header shows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Health {
    /// Unix seconds of the last successful poll.
    pub(crate) last_success: Option<i64>,
    pub(crate) consecutive_errors: u32,
    pub paused: bool,
    /// Why polling is impaired, when it is.
    pub banner: Option<String>,
    pub(crate) tracked: usize,
    pub(crate) in_flight: usize,
    /// False when another process holds the poller lease and this one only reads the store.
    pub(crate) leader: bool,
    /// Who polls when this process only follows (a lease holder id), or why nobody does.
    pub(crate) follows: Option<String>,
}

/// Everything that can happen. Time arrives in messages; the reducer never reads the clock.
#[derive(Debug, Clone)]
pub enum Msg {
    Key(KeyEvent),
    Paste(String),
    /// The mouse wheel over the dashboard (`down` away from the top).
    Scroll {
        down: bool,
    },
    /// A left click at a screen cell.
    Click {
        column: u16,
        row: u16,
    },
    Resize(u16, u16),
    /// The slow clock (and every message that knows the time updates `now`).
    Tick {
        now: i64,
    },
    /// A full load of the store (at start, its newest page).
    TasksLoaded(Vec<TaskRow>),
    /// The rest of the store, read behind the first page: only rows the dashboard does not
    /// have yet are taken (the ones it has are as new, or newer from the store watcher).
    MoreTasksLoaded(Vec<TaskRow>),
    /// Rows inserted or changed (by this process or another one sharing the store).
    TasksChanged(Vec<TaskRow>),
    /// Rows removed from the store (they never reached the server).
    TasksRemoved(Vec<String>),
    /// The status history of a task, for the detail pane.
    History {
        local_id: String,
        entries: Vec<HistoryEntry>,
    },
    /// A task's full request and last response, read from the store (`Effect::LoadBodies`);
    /// `Err` says why they could not be read.
    Bodies {
        local_id: String,
        result: Result<TaskBodies, String>,
    },
    PollFailed {
        local_id: String,
        error: String,
        transient: bool,
    },
    Health(Health),
    /// The poller's ETA model, sent whenever it learned something: the table's predictions
    /// come from it (one model; the face does not learn on its own).
    Eta(std::sync::Arc<crate::engine::eta::EtaModel>),
    Notice {
        level: Level,
        text: String,
    },
    /// An answer for the composer (drafts, templates, files, submission).
    Composer(super::types::composer::ComposerMsg),
    /// Downloads, previews (see `app::results`).
    Results(super::types::results::ResultsMsg),
    /// The submission queue as the store has it now.
    Queue(super::types::queue::QueueInfo),
    /// The dashboard starts: where the key came from (`None`: not found) and where it was
    /// looked for.
    Preflight {
        key_var: Option<String>,
        searched: Vec<String>,
    },
    /// Results cannot be saved where they go (checked at start, or a save failed for a reason
    /// no retry fixes): the reason.
    Destination(String),
    /// The base-URL probe's verdict, with the URL's shape problems (each with its fix).
    Probed {
        verdict: crate::api::client::ProbeVerdict,
        url_problems: Vec<String>,
    },
    /// A copy was carried out: the route known to have carried it, or none (show the text).
    Copied {
        text: String,
        route: Option<super::types::copy::CopyRoute>,
    },
    /// A day began (the loop saw the date change, or the store named its day): today's spend
    /// starts again. `shared`: the store's day (PostgreSQL, one for every host), not local.
    DayStarted {
        today_start: i64,
        shared: bool,
    },
    /// The process was stopped (Ctrl-Z) and runs again: the whole screen is drawn anew;
    /// `error` says why the terminal could not be restored, when it could not.
    Resumed {
        error: Option<String>,
    },
    /// A result was opened (or could not be): what to tell the user and, when the runtime
    /// copies an `scp` command instead, what the copy is called.
    Opened {
        level: Level,
        text: String,
        copying: Option<String>,
    },
}

/// What a key means, after the keymap. The reducer acts on intents, never on raw keys. Grouped
/// by where they apply (see `keymap::Context`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Intent {
    // Moving in the table, the detail pane and scrolling overlays.
    MoveUp,
    MoveDown,
    Top,
    Bottom,
    PageUp,
    PageDown,
    ToggleDetail,
    FullDetail,
    FocusNext,
    // What the table shows.
    StartFilter,
    ClearFilter,
    /// Open the sort menu (`s`, then the column's letter).
    SortMenu,
    SortBy(super::types::sort::SortKey),
    SortReverse,
    /// The column chooser (`c`).
    Columns,
    /// The next match of the search in the help or the detail pane.
    SearchNext,
    QuickFilter(u8),
    ToggleMark,
    MarkAll,
    // Acting on tasks.
    NewDraft,
    Edit,
    Retry,
    RetryAllFailed,
    /// Cancel the queued task, or remove rows that never reached the server.
    CancelTask,
    /// Take the probable server task of an uncertain create as its own (asks first).
    Adopt,
    Download,
    Open,
    // Judging results.
    /// `v`: the contact sheet full screen.
    SheetView,
    /// `=`: only the selected task's variants (again: all).
    Variants,
    /// `[`/`]`: the previous / next variant.
    PrevVariant,
    NextVariant,
    // The submission queue.
    QueuePause,
    QueueUp,
    QueueDown,
    QueueRemove,
    // The dashboard.
    /// The command palette (`:`).
    Palette,
    TogglePause,
    RefreshNow,
    CycleTheme,
    Help,
    ShowLog,
    Summary,
    CopyMenu,
    Suspend,
    Quit,
    ForceQuit,
    // Overlays: the filter line, help, questions, the copy menu.
    Close,
    Confirm,
    Deny,
    /// An entry of the copy menu.
    Copy(super::types::copy::CopyWhat),
    /// A composer command.
    Composer(super::types::composer::ComposerIntent),
}
