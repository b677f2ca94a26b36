//! The dashboard's state: every task once, a derived filtered and sorted order, the selection
//! (which follows the task, not the row), marks, panes, overlays, messages and poller health.

use super::filter::{Filter, RowText};
use super::keymap::{Context, Keymap};
pub(crate) use super::layout::{DetailMode, Focus};
use super::msg::{Health, Level};
pub(crate) use super::types::sort::SortKey;
use crate::api::TaskStatus;
use crate::store::{HistoryEntry, Phase, TaskBodies, TaskRow};
use crate::theme::Theme;
use std::collections::{HashMap, HashSet};

/// What a confirmation is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Question {
    /// Quit although submissions are in flight.
    Quit { in_flight: usize },
    /// Cancel this queued task.
    Cancel { local_id: String },
    /// Resubmit these tasks.
    Retry(RetryPlan),
    /// Remove these pending rows from the queue.
    RemovePending(Vec<String>),
    /// Remove these rows that never reached the server (no task was created for them).
    RemoveLocal { local_ids: Vec<String> },
    /// Take `task_id` (matched by parameters only) as the outcome of the uncertain `local_id`.
    Adopt { local_id: String, task_id: String },
}

/// What a retry would do, shown before it is done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RetryPlan {
    pub(crate) local_ids: Vec<String>,
    /// Estimated tokens the new tasks will bill.
    pub(crate) tokens: u64,
    /// How many failed for a reason a plain retry cannot fix (bad input, moderation of the input).
    pub(crate) unfixable: Vec<String>,
    /// How many have an unknown submission outcome (a retry may duplicate a task).
    pub(crate) unknown: usize,
    /// Targets skipped because they are not retryable (queued, running, succeeded).
    pub(crate) skipped: usize,
    /// Targets skipped because they were already retried: `original → retry (status)`.
    pub(crate) already: Vec<String>,
    /// Set when the plan passes today's spending cap (the numbers); confirming sends it anyway.
    pub(crate) over_budget: Option<String>,
    /// How many have a reference video whose seconds are not known: `tokens` excludes them.
    pub(crate) input_video_unread: usize,
}

/// A popup over the screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Overlay {
    None,
    Help {
        scroll: u16,
    },
    CopyMenu,
    /// `s`: which column to sort by.
    SortMenu,
    Confirm(Question),
    Log {
        scroll: u16,
    },
    Summary {
        scroll: u16,
    },
    /// The command palette (`:`).
    Palette(super::palette::Palette),
    /// The column chooser (`c`): the highlighted row.
    Columns {
        selected: usize,
    },
    /// Text no clipboard route is known to carry, shown to select by hand.
    CopyText {
        label: String,
        text: String,
        scroll: u16,
    },
}

/// One line of the message log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Message {
    pub(crate) level: Level,
    pub(crate) text: String,
    /// Unix seconds.
    pub(crate) at: i64,
    /// An answer to the user's own action (shown in the footer); else an event (polls,
    /// finishes) for the log and the ticker.
    pub(crate) user: bool,
}

/// How long a message stays in the footer, seconds.
pub(crate) const MESSAGE_SECS: i64 = 8;
/// How many messages the log keeps.
pub(crate) const LOG_LIMIT: usize = 500;

/// Everything the view needs and the reducer changes.
pub struct State {
    /// Unix seconds, from the last message that carried the time.
    pub(crate) now: i64,
    pub tasks: Vec<TaskRow>,
    index: super::task_index::TaskIndex,
    /// Indices into `tasks`: filtered and sorted. Derived; rebuilt by `recompute`.
    pub order: Vec<usize>,
    /// The selected task's local id (follows the task when the order changes).
    pub(crate) selected: Option<String>,
    /// First visible row of the table.
    pub(crate) offset: usize,
    pub(crate) marks: HashSet<String>,
    pub filter: Filter,
    /// The filter line while it is being typed.
    pub filter_input: Option<String>,
    pub(crate) quick: Option<u8>,
    pub(crate) sort: SortKey,
    pub(crate) sort_desc: bool,
    /// The table's columns in their order (`[ui] columns`, the chooser `c`, a view).
    pub(crate) columns: Vec<super::columns::Col>,
    /// Saved views (`[views.NAME]`), and the one applied last.
    pub(crate) views: Vec<super::views::View>,
    pub(crate) view: Option<String>,
    /// A search in the help or the detail pane (`/` there).
    pub(crate) search: Option<super::find::Search>,
    pub(crate) focus: Focus,
    pub(crate) detail: DetailMode,
    pub(crate) detail_scroll: u16,
    pub(crate) overlay: Overlay,
    pub(crate) messages: Vec<Message>,
    pub(crate) health: Health,
    pub(crate) histories: HashMap<String, Vec<HistoryEntry>>,
    /// Terminal size.
    pub(crate) size: (u16, u16),
    pub(crate) keymap: Keymap,
    pub(crate) themes: Vec<Theme>,
    pub(crate) theme_index: usize,
    /// Shown in the header.
    pub(crate) profile: String,
    /// The API base URL (the header shows its host; curl commands use it).
    pub(crate) base_url: String,
    /// The environment variable the API key was read from (curl commands name it, never the key).
    pub(crate) key_var: String,
    /// Something changed since the last frame.
    pub(crate) dirty: bool,
    /// Counts per phase text, derived.
    pub(crate) counts: HashMap<String, usize>,
    /// How many tasks have a batch label, derived: the table shows labels only when some do.
    pub(crate) labelled: usize,
    /// Tokens of tasks finished today (local day starting at `today_start`), derived.
    pub(crate) tokens_today: u64,
    /// Unix second the day began (given by the runtime; the reducer reads no clock): local
    /// midnight, or the store's day when it has one (`today_shared`).
    pub today_start: i64,
    /// `today_start` is the store's day (a PostgreSQL store's, as its daily cap counts it).
    pub(crate) today_shared: bool,
    /// The daily spending cap (`[budget]`) and prices; `spent_today` is counted against it.
    pub cap: crate::engine::budget::SpendingCap,
    /// Today's spend as the cap counts it (tasks created today, estimated until billed), derived.
    pub(crate) spent_today: crate::engine::budget::Spend,
    /// The composer pane (open or not) and the draft defaults.
    pub(crate) composer: super::composer::Composer,
    /// Keys and pastes that arrived while the composer was opening, replayed into it once it
    /// is open (see `app::router`).
    pub(crate) pending_input: Vec<super::msg::Msg>,
    /// The poller's model of durations (`Msg::Eta`), for the ETA and progress of unfinished
    /// tasks.
    pub(crate) eta: std::sync::Arc<crate::engine::eta::EtaModel>,
    /// Downloads, preview, notifications, prices.
    pub(crate) results: super::results::Results,
    /// The submission queue: pending rows in order, paused, held by the server.
    pub(crate) queue: super::queue::QueueInfo,
    /// The task the composer just submitted: selected once its row arrives.
    pub(crate) select_when_seen: Option<String>,
    /// Events (polls, finishes) logged since the log was last opened: the footer's ticker.
    pub(crate) unseen_events: usize,
    /// Local ids of tasks that have at least one retry (their originals), with the count.
    pub(crate) retries: HashMap<String, usize>,
    /// How many tasks run at once now (see `queue_place`): the ETA counts the queue.
    pub(crate) running_now: usize,
    /// Every task in the sort order (unfiltered), valid for `all_sorted_by`: a filter change
    /// filters it without sorting.
    all: Vec<usize>,
    all_sorted_by: Option<(SortKey, bool)>,
    /// The filter's view of each task's text (nothing lower-cased per keystroke).
    text: RowText,
    /// The unfinished tasks in the account's queue order (each queued task's place).
    queue_index: crate::engine::eta::QueueIndex,
    /// Today's spend per model, counted as tasks change.
    day_spend: crate::engine::budget::DaySpend,
    /// A pre-flight problem (no key, a base URL that is not the API), shown in the header
    /// until a poll succeeds.
    pub(crate) preflight: Option<String>,
    /// Why results cannot be saved where they go (a bucket that is missing or refuses the
    /// credentials), shown in the header until a result is saved.
    pub(crate) destination: Option<String>,
    /// What the copy in progress copies (`task id`), for the runtime's answer.
    pub(crate) copy_label: Option<String>,
    /// The full request and last response of the task last asked for (the selected one): the
    /// rows in `tasks` are [`TaskRow`]s, so the detail pane's JSON, links and files, copying
    /// the request and editing a task read them from the store on demand.
    pub(crate) bodies: Option<TaskBodies>,
    /// An action waiting for a task's bodies to arrive from the store.
    pub(crate) bodies_wanted_for: Option<BodiesUse>,
}

/// What a task's full request is being loaded for, done when it arrives (`Msg::Bodies`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BodiesUse {
    /// Open the composer on a copy of this task's request (`e`).
    Edit(String),
    /// Copy this task's request, `curl` command, a link or a path.
    Copy(String, super::copy::CopyWhat),
    /// Open this task's saved video (`o`).
    Open(String),
}

impl State {
    pub fn new(profile: &str, base_url: &str, keymap: Keymap, themes: Vec<Theme>) -> State {
        let themes = if themes.is_empty() {
            vec![Theme::default()]
        } else {
            themes
        };
        State {
            now: 0,
            tasks: Vec::new(),
            index: Default::default(),
            order: Vec::new(),
            selected: None,
            offset: 0,
            marks: HashSet::new(),
            filter: Filter::default(),
            filter_input: None,
            quick: None,
            sort: SortKey::Created,
            sort_desc: true,
            columns: super::columns::Col::defaults(),
            views: Vec::new(),
            view: None,
            search: None,
            focus: Focus::Table,
            detail: DetailMode::Hidden,
            detail_scroll: 0,
            overlay: Overlay::None,
            messages: Vec::new(),
            health: Health {
                leader: true,
                ..Health::default()
            },
            histories: HashMap::new(),
            size: (80, 24),
            keymap,
            themes,
            theme_index: 0,
            profile: profile.to_string(),
            base_url: base_url.to_string(),
            key_var: "SEEDANCE_API_KEY".to_string(),
            dirty: true,
            counts: HashMap::new(),
            labelled: 0,
            tokens_today: 0,
            today_start: 0,
            today_shared: false,
            cap: Default::default(),
            spent_today: Default::default(),
            composer: Default::default(),
            pending_input: Vec::new(),
            eta: Default::default(),
            results: Default::default(),
            queue: Default::default(),
            copy_label: None,
            bodies: None,
            bodies_wanted_for: None,
            preflight: None,
            destination: None,
            select_when_seen: None,
            unseen_events: 0,
            retries: HashMap::new(),
            running_now: 0,
            all: Vec::new(),
            all_sorted_by: None,
            text: RowText::default(),
            queue_index: Default::default(),
            day_spend: Default::default(),
        }
    }

    pub(crate) fn theme(&self) -> &Theme {
        &self.themes[self.theme_index.min(self.themes.len() - 1)]
    }

    /// The keymap context for the current overlay or input.
    pub(crate) fn context(&self) -> Context {
        if self.search.as_ref().is_some_and(|s| s.typing) {
            return Context::Search;
        }
        match &self.overlay {
            Overlay::Help { .. }
            | Overlay::Log { .. }
            | Overlay::Summary { .. }
            | Overlay::CopyText { .. } => Context::Help,
            Overlay::CopyMenu => Context::CopyMenu,
            Overlay::SortMenu => Context::Sort,
            Overlay::Confirm(_) => Context::Confirm,
            Overlay::Palette(_) => Context::Palette,
            Overlay::Columns { .. } => Context::Columns,
            Overlay::None if self.composer.is_open() => self.composer.context(),
            Overlay::None if self.filter_input.is_some() => Context::Filter,
            Overlay::None => Context::Main,
        }
    }

    pub(crate) fn task(&self, local_id: &str) -> Option<&TaskRow> {
        self.index
            .get(&self.tasks, local_id)
            .map(|i| &self.tasks[i])
    }

    /// The full request and response of this task, when they have been read from the store.
    pub(crate) fn bodies_of(&self, local_id: &str) -> Option<&TaskBodies> {
        self.bodies.as_ref().filter(|b| b.local_id == local_id)
    }

    /// The selected task.
    pub(crate) fn selected_task(&self) -> Option<&TaskRow> {
        self.selected.as_deref().and_then(|id| self.task(id))
    }

    /// The selected task's row in `order`: a binary search while the order is sorted by the
    /// current sort (it always is, except while `recompute`/`refilter` rebuild it).
    pub(crate) fn selected_row(&self) -> Option<usize> {
        let id = self.selected.as_deref()?;
        let ti = self.index.get(&self.tasks, id)?;
        if self.all_sorted_by == Some((self.sort, self.sort_desc))
            && self.sort != SortKey::Queue
            && self.all.len() == self.tasks.len()
            && ti < self.tasks.len()
        {
            let at = self.sorted_place(&self.order, ti);
            return (self.order.get(at) == Some(&ti)).then_some(at);
        }
        self.order.iter().position(|&i| i == ti)
    }

    /// Insert or replace tasks by local id. A few changed tasks each move to their place by
    /// binary search; a large batch rebuilds the order once.
    pub(crate) fn upsert(&mut self, rows: Vec<TaskRow>) {
        // A retry changes its original's mark and `retried:` filter, and a task the composer
        // waits for is selected by the rebuild: both take the full path.
        let needs_rebuild = self.select_when_seen.is_some()
            || rows.iter().any(|r| {
                r.retry_of().is_some() && self.index.get(&self.tasks, &r.local_id).is_none()
            });
        let derived_ok = self.all_sorted_by == Some((self.sort, self.sort_desc))
            && self.all.len() == self.tasks.len()
            && self.text.len() == self.tasks.len();
        // The queue's order lives outside the rows: a queue sort is rebuilt whole.
        if needs_rebuild
            || !derived_ok
            || self.sort == SortKey::Queue
            || rows.len() > INCREMENTAL_LIMIT
            || self.tasks.len() < INCREMENTAL_LIMIT
        {
            self.upsert_all(rows);
            return;
        }
        let previous_row = self.selected_row();
        let quick = self.quick_status();
        for r in rows {
            let at = self.index.get(&self.tasks, &r.local_id);
            let i = match at {
                Some(i) => {
                    self.count(i, false);
                    self.queue_index.remove(&self.tasks, i);
                    self.day_spend.remove(&self.tasks[i]);
                    self.unsort(i);
                    self.tasks[i] = r;
                    i
                }
                None => {
                    let i = self.tasks.len();
                    self.tasks.push(r);
                    self.index.insert(&self.tasks, i);
                    i
                }
            };
            self.text.set(i, &self.tasks[i]);
            self.count(i, true);
            self.queue_index.insert(&self.tasks, i);
            self.day_spend.add(&self.tasks[i]);
            let pos = self.sorted_place(&self.all, i);
            self.all.insert(pos, i);
            let t = &self.tasks[i];
            if quick.is_none_or(|q| t.phase.as_str() == q)
                && self.filter.matcher(&self.text).matches(i, t, &self.retries)
            {
                let pos = self.sorted_place(&self.order, i);
                self.order.insert(pos, i);
            }
        }
        self.running_now = self.queue_index.running();
        if self.cap.is_set() {
            self.spent_today = self.day_spend.spend(&self.cap);
        }
        self.follow_selection(previous_row);
    }

    /// Where task `i` goes in `rows` (a slice of the sort order), by binary search.
    fn sorted_place(&self, rows: &[usize], i: usize) -> usize {
        let (tasks, key, desc) = (&self.tasks, self.sort, self.sort_desc);
        rows.partition_point(|&x| {
            compare(tasks, key, desc, x, i, |j| requested_duration(&tasks[j])).is_lt()
        })
    }

    /// Take task `i` out of `all` and `order` while `tasks[i]` is still the row they were
    /// sorted with (the order is total, so it is where a binary search puts it, or not shown).
    fn unsort(&mut self, i: usize) {
        let at = self.sorted_place(&self.all, i);
        if self.all.get(at) == Some(&i) {
            self.all.remove(at);
        } else if let Some(p) = self.all.iter().position(|&x| x == i) {
            self.all.remove(p);
        }
        let at = self.sorted_place(&self.order, i);
        if self.order.get(at) == Some(&i) {
            self.order.remove(at);
        }
    }

    /// A queued task's place in the account's queue (unfinished tasks of its profile created
    /// before it) and how many run now; `None` for any other task.
    pub(crate) fn queue_place(&self, t: &TaskRow) -> Option<crate::engine::eta::QueuePlace> {
        let i = self.index.get(&self.tasks, &t.local_id)?;
        self.queue_index.place(&self.tasks, i)
    }

    /// Add (or take away) one task's share of the derived counts.
    fn count(&mut self, i: usize, add: bool) {
        let t = &self.tasks[i];
        let key = t.phase.as_str();
        let tokens = if t.finished_at.is_some_and(|f| f >= self.today_start) {
            t.tokens.unwrap_or(0)
        } else {
            0
        };
        let labelled = usize::from(t.label().is_some());
        if add {
            *self.counts.entry(key.to_string()).or_default() += 1;
            self.tokens_today += tokens;
            self.labelled += labelled;
        } else {
            self.tokens_today = self.tokens_today.saturating_sub(tokens);
            self.labelled = self.labelled.saturating_sub(labelled);
            if let Some(n) = self.counts.get_mut(key) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    self.counts.remove(key);
                }
            }
        }
    }

    /// After the order changed: keep the selection on its task when it is still visible, else
    /// on the nearest row; scroll to it; draw.
    fn follow_selection(&mut self, previous_row: Option<usize>) {
        let still_visible = self.selected_row().is_some();
        if !still_visible {
            let row = previous_row
                .unwrap_or(0)
                .min(self.order.len().saturating_sub(1));
            self.selected = self
                .order
                .get(row)
                .map(|&i| self.tasks[i].local_id.to_string());
        }
        self.keep_selection_visible();
        self.dirty = true;
    }

    /// The filter was narrowed (see `Filter::narrows`): keep the shown rows that still match,
    /// in their order.
    pub(crate) fn narrow(&mut self) {
        if self.text.len() != self.tasks.len() {
            return self.recompute();
        }
        let previous_row = self.selected_row();
        let (tasks, retries) = (&self.tasks, &self.retries);
        let m = self
            .filter
            .matcher(&self.text)
            .prepare_scan(self.order.len());
        self.order.retain(|&i| m.matches(i, &tasks[i], retries));
        self.follow_selection(previous_row);
    }

    fn upsert_all(&mut self, rows: Vec<TaskRow>) {
        let mut rows = Some(rows);
        if self.tasks.is_empty() {
            // The first load: the rows become the table as they are (no copy of 100k rows)
            // unless an id repeats (the store has none; a caller might): then, as for any
            // batch, a later row replaces an earlier one.
            self.tasks = rows.take().unwrap_or_default();
            if !self.index.rebuild(&self.tasks) {
                rows = Some(std::mem::take(&mut self.tasks));
                self.index.clear();
            }
        }
        if let Some(rows) = rows {
            // The rest of the store arrives in one batch: grow once, to size, not by doubling.
            self.tasks.reserve_exact(rows.len());
            self.index.reserve(&self.tasks, rows.len());
            for r in rows {
                let at = self.index.get(&self.tasks, &r.local_id);
                match at {
                    Some(i) => self.tasks[i] = r,
                    None => {
                        self.tasks.push(r);
                        self.index.insert(&self.tasks, self.tasks.len() - 1);
                    }
                }
            }
        }
        match self.select_when_seen.clone() {
            Some(id) if self.index.get(&self.tasks, &id).is_some() => {
                self.select_when_seen = None;
                self.show_and_select(id);
            }
            _ => self.recompute(),
        }
    }

    /// Select a task and scroll it into view, dropping a filter that hides it.
    pub(crate) fn show_and_select(&mut self, local_id: String) {
        self.selected = Some(local_id.clone());
        self.recompute();
        if self.selected.as_deref() != Some(local_id.as_str()) {
            self.filter = Filter::default();
            self.quick = None;
            self.selected = Some(local_id);
            self.refilter();
        }
        self.keep_selection_visible();
    }

    /// Drop tasks by local id (rows removed from the store).
    pub(crate) fn remove(&mut self, local_ids: &[String]) {
        let gone: HashSet<&str> = local_ids.iter().map(String::as_str).collect();
        self.tasks.retain(|t| !gone.contains(&*t.local_id));
        for id in local_ids {
            self.marks.remove(id);
        }
        self.index.rebuild(&self.tasks);
        self.recompute();
    }

    /// Drop tasks that left the store (pending rows removed from the queue).
    pub(crate) fn remove_tasks(&mut self, local_ids: &[String]) {
        let gone: HashSet<&str> = local_ids.iter().map(String::as_str).collect();
        self.tasks.retain(|t| !gone.contains(&*t.local_id));
        self.marks.retain(|m| !gone.contains(m.as_str()));
        self.index.rebuild(&self.tasks);
        self.recompute();
    }

    /// Replace every task.
    pub(crate) fn replace_all(&mut self, rows: Vec<TaskRow>) {
        self.tasks.clear();
        self.index.clear();
        self.upsert_all(rows);
    }

    /// The status the quick filter (1-6) keeps, if one is on.
    pub(crate) fn quick_status(&self) -> Option<&'static str> {
        // 1-6 are the server's statuses, the first six of `Phase::ALL`.
        match self.quick? {
            q @ 1..=6 => crate::store::Phase::name_at(usize::from(q) - 1),
            _ => None,
        }
    }

    /// Rebuild everything derived from the tasks (after `tasks` was changed directly, or the
    /// day or cap changed); keep the selection on its task when it is still visible, else on
    /// the nearest row.
    pub(crate) fn recompute(&mut self) {
        // Originals with a retry first: the filter's `retried:` term and the table's mark use it.
        self.retries.clear();
        for t in &self.tasks {
            if let Some(o) = t.retry_of() {
                *self.retries.entry(o.to_string()).or_default() += 1;
            }
        }
        self.text.rebuild(&self.tasks);
        self.all_sorted_by = None;
        self.counts.clear();
        self.tokens_today = 0;
        self.labelled = 0;
        for t in &self.tasks {
            // Keyed by a few status words: a new key is allocated once, not once a row.
            match self.counts.get_mut(t.phase.as_str()) {
                Some(n) => *n += 1,
                None => {
                    self.counts.insert(t.phase.as_str().to_string(), 1);
                }
            }
            self.labelled += usize::from(t.label().is_some());
            if t.finished_at.is_some_and(|f| f >= self.today_start) {
                self.tokens_today += t.tokens.unwrap_or(0);
            }
        }
        self.queue_index = crate::engine::eta::QueueIndex::build(&self.tasks);
        self.running_now = self.queue_index.running();
        self.day_spend = crate::engine::budget::DaySpend::new(self.today_start);
        for t in &self.tasks {
            self.day_spend.add(t);
        }
        if self.cap.is_set() {
            self.spent_today = self.day_spend.spend(&self.cap);
        }
        self.refilter();
    }

    /// The queue's order changed: a table sorted by it is sorted again.
    pub(crate) fn queue_reordered(&mut self) {
        if self.sort == SortKey::Queue {
            self.all_sorted_by = None;
            self.refilter();
        }
    }

    /// Rebuild the shown order after the filter, quick filter or sort changed (the tasks did
    /// not): the sorted list of every task is filtered, and sorted again only for a new sort.
    pub(crate) fn refilter(&mut self) {
        if self.text.len() != self.tasks.len() {
            // The tasks changed without `upsert`/`recompute`.
            return self.recompute();
        }
        let previous_row = self.selected_row();
        if self.all_sorted_by != Some((self.sort, self.sort_desc))
            || self.all.len() != self.tasks.len()
        {
            let tasks = &self.tasks;
            // Parsing requests is not free: do it once per task, not once per comparison.
            // Parsing requests is not free either way; the queue's places come from its order.
            let durations: Vec<i64> = match self.sort {
                SortKey::Duration => tasks.iter().map(requested_duration).collect(),
                SortKey::Queue => {
                    let places: HashMap<&str, i64> = self
                        .queue
                        .order
                        .iter()
                        .enumerate()
                        .map(|(p, id)| (id.as_str(), p as i64))
                        .collect();
                    tasks
                        .iter()
                        .map(|t| places.get(&*t.local_id).copied().unwrap_or(i64::MAX))
                        .collect()
                }
                _ => Vec::new(),
            };
            let duration = |i: usize| durations[i];
            let (key, desc) = (self.sort, self.sort_desc);
            let mut all: Vec<usize> = (0..tasks.len()).collect();
            all.sort_by(|&a, &b| compare(tasks, key, desc, a, b, duration));
            self.all = all;
            self.all_sorted_by = Some((key, desc));
        }
        let quick = self.quick_status();
        // The filter's `group:` members, from the current rows (before the scan).
        if let Some(id) = self.filter.group().map(str::to_string) {
            let m = super::groups::members_by(&self.tasks, &id, |id| self.task(id));
            self.filter.set_members(std::sync::Arc::new(m));
        }
        let (tasks, text, retries) = (&self.tasks, &self.text, &self.retries);
        self.order.clear();
        if quick.is_none() && self.filter.is_empty() {
            self.order.extend_from_slice(&self.all);
        } else {
            let m = self.filter.matcher(text).prepare_scan(self.all.len());
            // The quick filter by status slot, so a scan reads the row table, not the rows.
            let slot = quick.and_then(super::filter::status_slot);
            self.order.extend(self.all.iter().copied().filter(|&i| {
                let t = &tasks[i];
                let status_kept = match (quick, slot, text.status_slot(i)) {
                    (None, ..) => true,
                    (Some(_), Some(want), Some(got)) => want == got,
                    (Some(q), ..) => t.phase.as_str() == q,
                };
                status_kept && m.matches(i, t, retries)
            }));
        }
        self.follow_selection(previous_row);
    }

    /// Rows of the table that fit on screen.
    pub(crate) fn table_height(&self) -> usize {
        super::layout::table_rows(self.size, self.detail) as usize
    }

    /// Scroll so the selected row is on screen.
    pub(crate) fn keep_selection_visible(&mut self) {
        let h = self.table_height().max(1);
        let row = self.selected_row().unwrap_or(0);
        if row < self.offset {
            self.offset = row;
        } else if row >= self.offset + h {
            self.offset = row + 1 - h;
        }
        let max_offset = self.order.len().saturating_sub(h);
        self.offset = self.offset.min(max_offset);
    }

    /// A frame of this state was drawn: nothing waits to be drawn now. Only drawing calls this.
    pub(crate) fn drawn(&mut self) {
        self.dirty = false;
    }

    /// Add a message to the log, shown in the footer for a while: the answer to the user's
    /// own action.
    pub(crate) fn notice(&mut self, level: Level, text: impl Into<String>) {
        self.log(level, text.into(), true);
    }

    /// Add an event (a poll error, a finish) to the log only; the footer's ticker counts it.
    pub(crate) fn event(&mut self, level: Level, text: impl Into<String>) {
        self.unseen_events += 1;
        self.log(level, text.into(), false);
    }

    fn log(&mut self, level: Level, text: String, user: bool) {
        self.messages.push(Message {
            level,
            text,
            at: self.now,
            user,
        });
        if self.messages.len() > LOG_LIMIT {
            let extra = self.messages.len() - LOG_LIMIT;
            self.messages.drain(..extra);
        }
        self.dirty = true;
    }

    /// The message the footer shows now, if any is fresh: the newest answer to the user's own
    /// action (events never push it away).
    pub(crate) fn current_message(&self) -> Option<&Message> {
        self.messages
            .iter()
            .rev()
            .find(|m| m.user)
            .filter(|m| self.now - m.at < MESSAGE_SECS)
    }

    /// Tasks still being submitted (quitting would leave them `submitting`).
    pub(crate) fn in_flight(&self) -> usize {
        self.tasks
            .iter()
            .filter(|t| t.phase == Phase::Submitting)
            .count()
    }

    /// Whether the screen shows times relative to now (so a slow clock must redraw it): ages in
    /// the table, a fresh message, the composer, or the header's "polled N s ago".
    pub(crate) fn shows_relative_times(&self) -> bool {
        !self.order.is_empty()
            || self.current_message().is_some()
            || self.composer.is_open()
            || self.health.last_success.is_some()
    }

    /// Whether the header is on screen (a terminal below the minimum size shows only a note).
    pub(crate) fn header_visible(&self) -> bool {
        let (w, h) = self.size;
        w >= super::layout::MIN_WIDTH && h >= super::layout::MIN_HEIGHT
    }

    /// The tasks an action applies to: the marked ones, else the selected one.
    pub(crate) fn targets(&self) -> Vec<&TaskRow> {
        if self.marks.is_empty() {
            self.selected_task().into_iter().collect()
        } else {
            self.order
                .iter()
                .map(|&i| &self.tasks[i])
                .filter(|t| self.marks.contains(&*t.local_id))
                .collect()
        }
    }
}

/// Below this many rows shown or above this many changed, a change rebuilds the whole order.
const INCREMENTAL_LIMIT: usize = 64;

/// The table's order of tasks `a` and `b` (indices into `tasks`): the sort key, then age, then
/// local id, so the order is total and a task's place can be found by binary search.
fn compare(
    tasks: &[TaskRow],
    key: SortKey,
    desc: bool,
    a: usize,
    b: usize,
    duration: impl Fn(usize) -> i64,
) -> std::cmp::Ordering {
    let (x, y) = (&tasks[a], &tasks[b]);
    let primary = match key {
        SortKey::Created => x.created_at.cmp(&y.created_at),
        // Reversed, so the default (descending) order puts active tasks first.
        SortKey::Status => status_rank(&y.phase).cmp(&status_rank(&x.phase)),
        SortKey::Model => x.model.cmp(&y.model),
        SortKey::Tokens => x.tokens.cmp(&y.tokens),
        SortKey::Duration => duration(a).cmp(&duration(b)),
        // Ascending (its default) puts the next to be sent first; rows not queued after them.
        SortKey::Queue => duration(a).cmp(&duration(b)),
        SortKey::Updated => x.updated_at.cmp(&y.updated_at),
    };
    let ord = primary
        .then_with(|| x.created_at.cmp(&y.created_at))
        .then_with(|| x.local_id.cmp(&y.local_id));
    if desc { ord.reverse() } else { ord }
}

/// Active first, then problems, then done.
fn status_rank(p: &Phase) -> u8 {
    match p {
        Phase::Submitting => 0,
        Phase::Pending => 0,
        Phase::Remote(TaskStatus::Running) => 1,
        Phase::Remote(TaskStatus::Queued) => 2,
        Phase::Remote(TaskStatus::Unknown(_)) => 3,
        Phase::SubmitUnknown => 4,
        Phase::Remote(TaskStatus::Failed) => 5,
        Phase::Rejected => 6,
        Phase::Lost => 6,
        Phase::Remote(TaskStatus::Expired) => 7,
        Phase::Remote(TaskStatus::Cancelled) => 8,
        Phase::Remote(TaskStatus::Succeeded) => 9,
    }
}

/// The duration the request asked for (-1 adaptive).
pub(crate) fn requested_duration(t: &TaskRow) -> i64 {
    t.requested_duration()
}
