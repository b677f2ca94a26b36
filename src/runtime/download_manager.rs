//! The download manager: saves every succeeded task's results that are not saved yet (as the
//! store reports tasks), and whatever `d` asks for, with bounded concurrency, retries with
//! backoff, link refresh (inside `engine::task_results`), and progress reported to the loop.
//!
//! Never twice: a task is skipped while it is queued or running here, and once the store records
//! its file paths it is not fetched again automatically — also after a restart; an interrupted
//! file resumes from its `.part`. Only `d` (force) fetches a saved file again.
//!
//! A queued download is an id in a queue, not a task: at most `concurrency` jobs exist at once,
//! so a store with 100k unsaved results costs a queue of ids, not 100k waiting futures.
//!
//! `run_dashboard` starts it in one place ([`Downloads::start`]); a process that must not
//! download (another one holds the poller lease) uses [`Downloads::disabled`] instead.

use crate::api::TaskStatus;
use crate::app::Msg;
use crate::app::results::{ResultsMsg, Transfer};
use crate::destination::Destination;
use crate::engine::Engine;
use crate::engine::task_results::save_results_with;
use crate::store::{Phase, TaskRecord};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// The API keeps task records this long; older tasks cannot get a fresh link.
const RECORD_LIFETIME_SECS: i64 = 7 * 86_400;
/// The longest wait before a failed task is tried again automatically.
const MAX_COOL_DOWN: Duration = Duration::from_secs(6 * 3600);
/// The longest wait between two whole-task attempts.
const BACKOFF_MAX: Duration = Duration::from_secs(300);

/// Settings of the manager.
#[derive(Debug, Clone)]
pub struct DownloadSettings {
    /// A folder or a bucket.
    pub(crate) dir: Destination,
    pub template: String,
    /// Downloads at once.
    pub concurrency: usize,
    /// Save succeeded tasks without being asked.
    pub auto: bool,
    /// Whole-task attempts (each already resumes and refreshes the link inside).
    pub(crate) attempts: u32,
    /// First wait between attempts; doubles each time (up to `BACKOFF_MAX`).
    pub backoff: Duration,
    /// After the last attempt failed, try again this much later (auto only; doubling).
    pub(crate) cool_down: Duration,
    /// Least time between two progress messages of one download.
    pub progress_every: Duration,
    /// How often the store is swept for succeeded tasks not saved yet (auto only), so a change
    /// the watcher did not report is still saved.
    pub sweep_every: Duration,
}

impl DownloadSettings {
    pub fn new(dir: impl Into<Destination>, template: String) -> DownloadSettings {
        DownloadSettings {
            dir: dir.into(),
            template,
            concurrency: 2,
            auto: true,
            attempts: 3,
            backoff: Duration::from_secs(5),
            cool_down: Duration::from_secs(600),
            progress_every: Duration::from_millis(200),
            sweep_every: Duration::from_secs(30),
        }
    }
}

enum Cmd {
    /// Succeeded tasks with results to save: `(local_id, created_at)`.
    Consider(Vec<(String, i64)>),
    /// This process became (or stopped being) the one that downloads for the store.
    Active(bool),
    Download {
        local_ids: Vec<String>,
        force: bool,
    },
    Finished {
        local_id: String,
        ok: bool,
    },
}

/// A handle to the manager; cheap to clone. Dropping every handle stops it.
#[derive(Clone)]
pub struct Downloads {
    tx: Option<mpsc::UnboundedSender<Cmd>>,
    /// Only the poller-lease holder downloads; a follower's manager sits idle.
    active: Arc<AtomicBool>,
}

/// Whether `r` should be saved without being asked.
pub(crate) fn wants_auto(r: &TaskRecord) -> bool {
    r.phase == Phase::Remote(TaskStatus::Succeeded)
        && r.video_url.is_some()
        && (r.video_path.is_none() || (r.last_frame_url.is_some() && r.last_frame_path.is_none()))
}

impl Downloads {
    /// A manager that does nothing (this process does not download).
    pub(crate) fn disabled() -> Downloads {
        Downloads {
            tx: None,
            active: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Start the manager; progress and outcomes go to `to_loop` as [`Msg::Results`].
    pub fn start(
        engine: Engine,
        settings: DownloadSettings,
        to_loop: mpsc::UnboundedSender<Msg>,
    ) -> Downloads {
        let (tx, rx) = mpsc::unbounded_channel();
        let mgr = Manager {
            engine,
            settings,
            to_loop,
            busy: HashSet::new(),
            waiting: VecDeque::new(),
            forced: HashSet::new(),
            running: 0,
            again: HashSet::new(),
            active: true,
            cooling: HashMap::new(),
            failures: HashMap::new(),
            me: tx.downgrade(),
        };
        tokio::spawn(mgr.run(rx));
        Downloads {
            tx: Some(tx),
            active: Arc::new(AtomicBool::new(true)),
        }
    }

    /// Switch downloading on (this process holds the poller lease) or off (another process
    /// downloads for the store). Switching on sweeps the store for results still unsaved.
    pub(crate) fn set_active(&self, active: bool) {
        if let Some(tx) = &self.tx
            && self.active.swap(active, Ordering::SeqCst) != active
        {
            let _ = tx.send(Cmd::Active(active));
        }
    }

    /// Tasks loaded or changed: save the succeeded ones not saved yet (when auto is on).
    pub fn consider(&self, rows: &[TaskRecord]) {
        if let Some(tx) = &self.tx
            && self.enabled()
        {
            let wanted: Vec<(String, i64)> = rows
                .iter()
                .filter(|r| wants_auto(r))
                .map(|r| (r.local_id.clone(), r.created_at))
                .collect();
            if !wanted.is_empty() {
                let _ = tx.send(Cmd::Consider(wanted));
            }
        }
    }

    /// Download these tasks now (again, when `force`).
    pub fn download(&self, local_ids: Vec<String>, force: bool) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(Cmd::Download { local_ids, force });
        }
    }

    /// False for [`Downloads::disabled`] and while another process downloads for the store.
    pub(crate) fn enabled(&self) -> bool {
        self.tx.is_some() && self.active.load(Ordering::SeqCst)
    }
}

struct Manager {
    engine: Engine,
    settings: DownloadSettings,
    to_loop: mpsc::UnboundedSender<Msg>,
    /// Queued or running.
    busy: HashSet<String>,
    /// Queued, in order; a job is started for the front one when fewer than `concurrency` run.
    waiting: VecDeque<String>,
    /// Queued ones asked for with force.
    forced: HashSet<String>,
    /// Jobs running now.
    running: usize,
    /// Asked to download again (force) while busy: run once more when the current job ends.
    again: HashSet<String>,
    /// False while another process holds the poller lease: nothing new is started.
    active: bool,
    /// Failed after every attempt: not tried automatically before this time.
    cooling: HashMap<String, Instant>,
    /// Consecutive failed jobs per task.
    failures: HashMap<String, u32>,
    me: mpsc::WeakUnboundedSender<Cmd>,
}

impl Manager {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Cmd>) {
        let mut retry = tokio::time::interval(self.settings.sweep_every);
        retry.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let cmd = tokio::select! {
                cmd = rx.recv() => match cmd {
                    Some(c) => c,
                    None => return,
                },
                _ = retry.tick(), if self.active => {
                    self.retry_cooled();
                    self.start_jobs();
                    self.sweep();
                    continue;
                }
            };
            match cmd {
                Cmd::Active(active) => {
                    self.active = active;
                    if active {
                        self.sweep();
                    }
                }
                Cmd::Consider(_) | Cmd::Download { .. } if !self.active => {}
                Cmd::Consider(rows) if self.settings.auto => {
                    // The API forgets tasks after 7 days: no fresh link can be had for those.
                    let oldest = crate::engine::now() - RECORD_LIFETIME_SECS;
                    for (local_id, created_at) in rows {
                        let cooling = self
                            .cooling
                            .get(&local_id)
                            .is_some_and(|t| *t > Instant::now());
                        if !cooling && created_at >= oldest {
                            self.enqueue(local_id, false);
                        }
                    }
                }
                Cmd::Consider(_) => {}
                Cmd::Download { local_ids, force } => {
                    for id in local_ids {
                        self.cooling.remove(&id);
                        self.enqueue(id, force);
                    }
                }
                Cmd::Finished { local_id, ok } => {
                    self.running = self.running.saturating_sub(1);
                    self.busy.remove(&local_id);
                    if self.again.remove(&local_id) {
                        self.enqueue(local_id, true);
                    } else if ok {
                        self.cooling.remove(&local_id);
                        self.failures.remove(&local_id);
                    } else {
                        // Each failure doubles the wait before the next automatic try (≤ 6 h).
                        let n = self.failures.entry(local_id.clone()).or_insert(0);
                        *n = (*n + 1).min(16);
                        let wait =
                            crate::backoff::Backoff::new(self.settings.cool_down, MAX_COOL_DOWN)
                                .delay(*n - 1);
                        self.cooling.insert(local_id, Instant::now() + wait);
                    }
                }
            }
            self.start_jobs();
        }
    }

    /// Read the succeeded tasks with unsaved results from the store (off this task: ids only,
    /// not the rows) and consider them.
    fn sweep(&self) {
        if !self.settings.auto {
            return;
        }
        let (engine, me) = (self.engine.clone(), self.me.clone());
        tokio::spawn(async move {
            let since = crate::engine::now() - RECORD_LIFETIME_SECS;
            if let Ok(wanted) = engine.with_store(move |s| s.unsaved_results(since)).await
                && let (false, Some(me)) = (wanted.is_empty(), me.upgrade())
            {
                let _ = me.send(Cmd::Consider(wanted));
            }
        });
    }

    /// Ids whose cool-down is over are tried again (auto only).
    fn retry_cooled(&mut self) {
        if !self.settings.auto {
            return;
        }
        let now = Instant::now();
        let due: Vec<String> = self
            .cooling
            .iter()
            .filter(|(_, t)| **t <= now)
            .map(|(id, _)| id.clone())
            .collect();
        for id in due {
            self.cooling.remove(&id);
            self.enqueue(id, false);
        }
    }

    fn enqueue(&mut self, local_id: String, force: bool) {
        if !self.busy.insert(local_id.clone()) {
            // Still queued: it runs with force when its turn comes. Running: the job reports
            // its outcome (it ends after this command: see `Job::run`), then it runs again.
            if force {
                if self.waiting.contains(&local_id) {
                    self.forced.insert(local_id);
                } else {
                    self.again.insert(local_id);
                }
            }
            return;
        }
        let _ = self.to_loop.send(Msg::Results(ResultsMsg::Transfer {
            local_id: local_id.clone(),
            transfer: Transfer::Queued,
        }));
        if force {
            self.forced.insert(local_id.clone());
        }
        self.waiting.push_back(local_id);
    }

    /// Start queued downloads while fewer than `concurrency` run.
    fn start_jobs(&mut self) {
        while self.running < self.settings.concurrency.max(1) {
            let Some(local_id) = self.waiting.pop_front() else {
                return;
            };
            let force = self.forced.remove(&local_id);
            self.running += 1;
            let job = Job {
                engine: self.engine.clone(),
                settings: self.settings.clone(),
                to_loop: self.to_loop.clone(),
                me: self.me.clone(),
            };
            tokio::spawn(job.run(local_id, force));
        }
    }
}

struct Job {
    engine: Engine,
    settings: DownloadSettings,
    to_loop: mpsc::UnboundedSender<Msg>,
    me: mpsc::WeakUnboundedSender<Cmd>,
}

impl Job {
    fn report(&self, local_id: &str, transfer: Transfer) {
        let _ = self.to_loop.send(Msg::Results(ResultsMsg::Transfer {
            local_id: local_id.to_string(),
            transfer,
        }));
    }

    async fn run(self, local_id: String, force: bool) {
        let outcome = self.attempts(&local_id, force).await;
        // Tell the manager first: a request made after the loop hears the outcome finds the
        // task idle (both go through the manager's channel in order).
        if let Some(me) = self.me.upgrade() {
            let ok = outcome.is_ok();
            let _ = me.send(Cmd::Finished {
                local_id: local_id.clone(),
                ok,
            });
        }
        match outcome {
            Ok(record) => self.saved(record),
            Err(e) => self.report(&local_id, Transfer::Failed(e)),
        }
    }

    async fn attempts(&self, local_id: &str, force: bool) -> Result<TaskRecord, String> {
        let backoff = crate::backoff::Backoff::new(self.settings.backoff, BACKOFF_MAX);
        let mut last_error = String::new();
        for attempt in 0..self.settings.attempts.max(1) {
            if attempt > 0 {
                tokio::time::sleep(backoff.delay(attempt - 1)).await;
            }
            // Read the row fresh: another process may have saved it meanwhile.
            let record = match self.engine.find(local_id).await {
                Ok(r) => r,
                Err(e) => {
                    last_error = e.to_string();
                    continue;
                }
            };
            if !force && !wants_auto(&record) {
                return Ok(record);
            }
            match self.save(&record, force).await {
                Ok(r) => return Ok(r),
                Err(Unsaved::Destination(e)) => {
                    // The bucket itself is wrong (missing, refused credentials): no retry fixes
                    // it, and the header says so, not only the log.
                    let _ = self
                        .to_loop
                        .send(Msg::Destination(format!("results cannot be saved: {e}")));
                    return Err(e);
                }
                Err(Unsaved::Other(e)) => last_error = e,
            }
        }
        Err(last_error)
    }

    fn saved(&self, record: TaskRecord) {
        let _ = self
            .to_loop
            .send(Msg::Results(ResultsMsg::Saved(Box::new(record))));
    }

    async fn save(&self, record: &TaskRecord, force: bool) -> Result<TaskRecord, Unsaved> {
        let started = Instant::now();
        let mut last = started - self.settings.progress_every;
        let mut first: Option<u64> = None;
        let every = self.settings.progress_every;
        let (to_loop, id) = (self.to_loop.clone(), record.local_id.clone());
        let mut progress = move |_kind, done: u64, total: Option<u64>| {
            let now = Instant::now();
            let base = *first.get_or_insert(done);
            if now.duration_since(last) < every && Some(done) != total {
                return;
            }
            last = now;
            let secs = now.duration_since(started).as_secs_f64().max(0.001);
            let rate = done.saturating_sub(base) as f64 / secs;
            let _ = to_loop.send(Msg::Results(ResultsMsg::Transfer {
                local_id: id.clone(),
                transfer: Transfer::Active { done, total, rate },
            }));
        };
        save_results_with(
            &self.engine,
            record,
            &self.settings.dir,
            &self.settings.template,
            force,
            &mut progress,
        )
        .await
        .map(|s| s.record)
        .map_err(|e| match e {
            crate::engine::task_results::SaveError::Storage(s) if !s.is_retryable() => {
                Unsaved::Destination(s.to_string())
            }
            other => Unsaved::Other(other.to_string()),
        })
    }
}

/// Why a save failed: the destination itself (no retry helps), or anything else.
enum Unsaved {
    Destination(String),
    Other(String),
}
