//! Following watched tasks without a terminal (`watch`, `submit --wait`, `submit --batch`):
//! what is watched, what is left, what to print for each report of the workers, and which
//! succeeded tasks to save while this process holds the lease.

use super::feeder::FeederEvent;
use super::lease::Role;
use super::poller::PollerEvent;
use super::progress::{Progress, StatusLine, change_line};
use super::workers::{SaveOutcome, Saves, Workers};
use crate::api::TaskStatus;
use crate::context::Context;
use crate::destination::Destination;
use crate::store::{Phase, TaskQuery, TaskRecord};
use std::collections::{HashMap, HashSet};

/// What to watch and do.
#[derive(Debug, Clone, Default)]
pub(crate) struct WatchPlan {
    /// Keep running and pick up every task that appears in the store.
    pub(crate) daemon: bool,
    /// Save the results of succeeded tasks here (only while this process holds the lease).
    pub(crate) download_to: Option<Destination>,
    pub(crate) progress: Progress,
    /// The queue's cap while this process feeds it (default: `[submit] max_in_flight`).
    pub(crate) max_in_flight: Option<usize>,
    /// Stop once every watched task has been sent (none `pending` or `submitting`) instead of
    /// once every one has settled: `submit --batch` without `--wait`.
    pub(crate) until_sent: bool,
}

/// True when the watched task `r` needs nothing more from this run.
pub(super) fn is_done(plan: &WatchPlan, r: &TaskRecord) -> bool {
    if plan.until_sent {
        !matches!(r.phase, Phase::Pending | Phase::Submitting)
    } else {
        r.phase.is_settled()
    }
}

/// Why the loop could not run or stopped early.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HeadlessError {
    /// The store cannot hold the poller lease (a setup problem the user fixes).
    #[error("{0}")]
    Lease(String),
    /// Polling stopped for good (bad key, not the API), or signals cannot be watched.
    #[error("{0}")]
    Stopped(String),
}

/// The watched tasks as they ended, and the results that could not be saved.
#[derive(Debug, Default)]
pub(crate) struct WatchOutcome {
    pub(crate) records: Vec<TaskRecord>,
    /// `id: why` for each succeeded task whose results failed to download.
    pub(crate) failed_downloads: Vec<String>,
}

/// Non-transient poll failures in a row after which a watched task stops the command.
const HOPELESS_AFTER: u32 = 3;

/// What made the loop stop.
pub(super) enum Stop {
    Done,
    Signal,
    Fatal(String),
}

/// The watched tasks and what this run has said and saved about them.
pub(super) struct Follow {
    plan: WatchPlan,
    seen: HashMap<String, TaskRecord>,
    /// Watched tasks not done yet.
    pending: HashSet<String>,
    /// Watched tasks' non-transient poll failures in a row.
    hopeless: HashMap<String, u32>,
    banner: Option<String>,
    warned: bool,
    pub(super) status: StatusLine,
    leader: bool,
    saves: Option<Saves>,
    to_download: Vec<TaskRecord>,
    failed_downloads: Vec<String>,
}

impl Follow {
    /// Follow `records`; each one still unfinished is polled.
    pub(super) fn new(
        ctx: &Context,
        plan: WatchPlan,
        records: Vec<TaskRecord>,
        workers: &Workers,
    ) -> Follow {
        let mut f = Follow {
            saves: plan.download_to.clone().map(|d| Saves::new(ctx, d)),
            status: StatusLine::new(plan.progress),
            plan,
            seen: HashMap::new(),
            pending: HashSet::new(),
            hopeless: HashMap::new(),
            banner: None,
            warned: false,
            leader: false,
            to_download: Vec::new(),
            failed_downloads: Vec::new(),
        };
        for r in records {
            // Kept until the run ends: the request's facts, not its body.
            let r = r.into_followed();
            if !is_done(&f.plan, &r) {
                f.pending.insert(r.local_id.clone());
            }
            workers.track(&r);
            f.seen.insert(r.local_id.clone(), r);
        }
        f
    }

    /// A daemon that saves: results that succeeded while no poller ran (within the last day:
    /// older links are dead and old tasks are the user's business).
    pub(super) async fn find_unsaved(&mut self, ctx: &Context) {
        if !(self.plan.daemon && self.saves.is_some()) {
            return;
        }
        let query = TaskQuery {
            statuses: vec!["succeeded".into()],
            since: Some(crate::engine::now() - 86_400),
            limit: None,
        };
        if let Ok(rows) = ctx.engine.with_store(move |s| s.list(&query)).await {
            // Kept until the lease comes: the request's facts, not its body (as `seen`).
            self.to_download.extend(
                rows.into_iter()
                    .filter(|r| r.video_path.is_none())
                    .map(TaskRecord::into_followed),
            );
        }
    }

    /// Start the saves waiting for the lease; true when nothing is left to wait for.
    pub(super) fn settle(&mut self) -> bool {
        if self.leader
            && let Some(saves) = &mut self.saves
        {
            for r in self.to_download.drain(..) {
                saves.save(r);
            }
        }
        let saving = self.saves.as_ref().is_some_and(|s| !s.is_empty());
        !self.plan.daemon && self.pending.is_empty() && !saving
    }

    /// The saves running now, when there are any.
    pub(super) fn saves(&mut self) -> Option<&mut Saves> {
        self.saves.as_mut().filter(|s| !s.is_empty())
    }

    pub(super) fn role(&mut self, role: Role) {
        match &role {
            Role::Leader if !self.leader => {
                crate::errln!("polling this store (holding the poller lease)")
            }
            Role::Follower { holder, .. } => {
                crate::errln!("following: {holder} polls this store");
                if self.plan.download_to.is_some() {
                    crate::errln!(
                        "note: only the poller downloads; save results later with `seedance-tui download ID`"
                    );
                }
            }
            _ => {}
        }
        self.leader = role.is_leader();
    }

    /// A report of this process's poller: the record it has (shown at once, not at the store
    /// watcher's next check), or why the run must stop.
    pub(super) fn poller(&mut self, ev: PollerEvent) -> Result<Option<TaskRecord>, Stop> {
        let mut got = None;
        match &ev {
            // An answer that no retry fixes (another task's id, a refused id, 404): a watched
            // task that keeps getting one ends the command instead of polling on for ever.
            // Three in a row, so a momentary store error does not count.
            PollerEvent::Failed {
                local_id,
                message,
                transient: false,
            } if !self.plan.daemon && self.pending.contains(local_id) => {
                let n = self.hopeless.entry(local_id.clone()).or_insert(0);
                *n += 1;
                if *n >= HOPELESS_AFTER {
                    return Err(Stop::Fatal(message.clone()));
                }
            }
            PollerEvent::Failed { local_id, .. } => {
                self.hopeless.remove(local_id);
            }
            PollerEvent::Updated { record, .. } => {
                self.hopeless.remove(&record.local_id);
                got = Some((**record).clone());
            }
            PollerEvent::Health(_) | PollerEvent::Eta(_) => {}
        }
        if let PollerEvent::Failed { message, .. } = &ev
            && !self.warned
        {
            crate::errln!("warning: {message} (will keep trying)");
            self.warned = true;
        }
        if let PollerEvent::Health(h) = ev {
            if h.paused {
                return Err(Stop::Fatal(
                    h.banner.unwrap_or_else(|| "polling paused".into()),
                ));
            }
            if h.banner != self.banner {
                if let Some(b) = &h.banner {
                    crate::errln!("warning: {b}");
                }
                self.banner = h.banner;
            }
        }
        Ok(got)
    }

    /// The feeder's news; a batch that only has to be sent stops at a budget hold.
    pub(super) fn feeder(&self, ev: FeederEvent) -> Option<Stop> {
        match ev {
            // A batch that only has to be sent does not wait for the day to turn: its lines
            // stay queued for a dashboard, a daemon or the next run.
            FeederEvent::Held { reason, .. }
                if self.plan.until_sent && super::feeder::is_budget_hold(&reason) =>
            {
                crate::errln!("queue held: {reason}");
                crate::errln!(
                    "the lines stay queued: a dashboard, `seedance-tui watch --daemon` or the next run sends them when the cap allows"
                );
                return Some(Stop::Done);
            }
            FeederEvent::Held { until, reason } => {
                let secs = (until - crate::engine::now()).max(0);
                crate::errln!("queue held: {reason}; trying again in {secs}s");
            }
            FeederEvent::Resumed => crate::errln!("queue resumed"),
            FeederEvent::Abandoned(n) => crate::errln!(
                "{n} queued request(s) were being sent by a process that stopped: marked submit_unknown (check before sending again)"
            ),
            FeederEvent::StoreFailed(m) => {
                crate::errln!("warning: the queue could not read the store: {m} (will keep trying)")
            }
            FeederEvent::Sent(_) | FeederEvent::Rejected(_) | FeederEvent::Unknown(_) => {}
        }
        None
    }

    /// A save ended.
    pub(super) fn saved(&mut self, done: SaveOutcome) {
        match done {
            Ok((_, Ok(saved))) => {
                self.status.end();
                for p in &saved.files {
                    self.plan.progress.line(&format!("saved {}", p.display()));
                }
                self.seen
                    .insert(saved.record.local_id.clone(), saved.record);
            }
            Ok((id, Err(e))) => {
                crate::errln!("{id}: download failed: {e}");
                self.failed_downloads.push(format!("{id}: {e}"));
            }
            Err(e) => crate::errln!("download task failed: {e}"),
        }
    }

    /// Rows seen (by the store watcher or this process's poller): a line per status change of
    /// a watched task; a succeeded one waits to be saved.
    pub(super) fn rows(&mut self, rows: Vec<TaskRecord>) {
        for r in rows {
            let known = self.seen.get(&r.local_id);
            if !(self.plan.daemon || known.is_some()) {
                continue;
            }
            if known.is_none_or(|k| k.phase != r.phase) {
                if self.plan.progress == Progress::Stderr {
                    self.status.change(change_line(&r));
                } else {
                    self.plan.progress.line(&change_line(&r));
                }
            }
            if is_done(&self.plan, &r) {
                self.pending.remove(&r.local_id);
            } else {
                self.pending.insert(r.local_id.clone());
            }
            let succeeded = matches!(r.phase, Phase::Remote(TaskStatus::Succeeded));
            if let Some(saves) = &self.saves
                && succeeded
                && r.video_path.is_none()
                && !saves.started(&r.local_id)
            {
                self.to_download.retain(|d| d.local_id != r.local_id);
                self.to_download.push(r.clone());
            }
            self.seen.insert(r.local_id.clone(), r);
        }
    }

    /// How the run ended.
    pub(super) fn finish(mut self, stop: Stop) -> Result<WatchOutcome, HeadlessError> {
        self.status.end();
        match stop {
            Stop::Fatal(m) => Err(HeadlessError::Stopped(m)),
            Stop::Done | Stop::Signal => Ok(WatchOutcome {
                records: (self.seen.into_values())
                    .filter(|r| is_done(&self.plan, r))
                    .collect(),
                failed_downloads: self.failed_downloads,
            }),
        }
    }
}
