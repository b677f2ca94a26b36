//! The headless poll loop of `watch` and `submit --wait`: the poll scheduler, the poller lease
//! and the store watcher without a terminal UI. It prints one line per status change it sees in
//! the store — the same lines whether this process polls or another one (a dashboard, another
//! `watch`) does.
//!
//! With `daemon`, it never stops on its own: it keeps polling tasks that other processes submit
//! into the store, while dashboards come and go; SIGINT/SIGTERM/SIGHUP release the lease and
//! exit 0.

use super::feeder::{self, FeederCmd, FeederConfig, FeederEvent};
use super::lease::{self, LeaseConfig, LeaseKeeper, Role};
use super::poller::{self, PollerCmd, PollerConfig, PollerEvent};
use super::store_watch;
use crate::api::TaskStatus;
use crate::context::Context;
use crate::destination::Destination;
use crate::store::{Phase, TaskQuery, TaskRecord};
use std::collections::{HashMap, HashSet};
use tokio::sync::mpsc;

/// One line describing a task's state, for watch output.
pub fn change_line(r: &TaskRecord) -> String {
    let time = chrono::Local::now().format("%H:%M:%S");
    let mut line = format!("{time} {} {}", r.display_id(), r.phase);
    if let Some(code) = &r.error_code {
        line.push_str(&format!(" {code}"));
        let audio = r.request().and_then(|q| q.generate_audio);
        if let Some(h) = crate::api::hints::hint_for_request(code, audio) {
            line.push_str(&format!(" ({h})"));
        }
    }
    if let Some(t) = r.tokens {
        line.push_str(&format!(" tokens={t}"));
    }
    let prompt = prompt_start(&r.prompt);
    if !prompt.is_empty() {
        line.push_str(&format!(" “{prompt}”"));
    }
    line
}

/// The first words of a prompt for a one-line display: at most 30 characters, one line, no
/// control characters.
pub fn prompt_start(prompt: &str) -> String {
    const MAX: usize = 30;
    let flat: String = prompt
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    if flat.chars().count() <= MAX {
        return flat;
    }
    let mut cut: String = flat.chars().take(MAX - 1).collect();
    cut.push('…');
    cut
}

/// The line `watch` ends with: how the watched tasks ended and the tokens they billed.
pub fn summary_line(records: &[TaskRecord]) -> String {
    let mut succeeded = 0;
    let mut failed = 0;
    let mut other = 0;
    let mut tokens = 0u64;
    for r in records {
        match &r.phase {
            Phase::Remote(TaskStatus::Succeeded) => succeeded += 1,
            Phase::Remote(TaskStatus::Failed) | Phase::Rejected | Phase::Lost => failed += 1,
            _ => other += 1,
        }
        tokens = tokens.saturating_add(r.tokens.unwrap_or(0));
    }
    let mut line = format!("{succeeded} succeeded, {failed} failed");
    if other > 0 {
        line.push_str(&format!(", {other} other (expired, cancelled or unknown)"));
    }
    line.push_str(&format!(", {tokens} tokens"));
    line
}

/// Where progress lines (status changes, saved files) go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Progress {
    /// `watch`: the lines are the output.
    #[default]
    Stdout,
    /// `submit --wait`: the lines are progress; stdout is kept for the result.
    Stderr,
}

impl Progress {
    fn line(self, text: &str) {
        match self {
            Progress::Stdout => crate::outln!("{text}"),
            Progress::Stderr => crate::errln!("{text}"),
        }
    }
}

/// `submit --wait`'s status on stderr: on a terminal one line rewritten in place (status and
/// elapsed time, refreshed every second); otherwise a line per change.
struct StatusLine {
    live: bool,
    started: std::time::Instant,
    last: Option<String>,
}

impl StatusLine {
    fn new(progress: Progress) -> StatusLine {
        use std::io::IsTerminal;
        StatusLine {
            live: progress == Progress::Stderr && std::io::stderr().is_terminal(),
            started: std::time::Instant::now(),
            last: None,
        }
    }

    fn elapsed(&self) -> String {
        let s = self.started.elapsed().as_secs();
        if s >= 60 {
            format!("{}m{:02}s", s / 60, s % 60)
        } else {
            format!("{s}s")
        }
    }

    /// A status change: a new line, or the live line redrawn.
    fn change(&mut self, text: String) {
        if self.live {
            self.last = Some(text);
            self.redraw();
        } else {
            crate::errln!("{text} (after {})", self.elapsed());
        }
    }

    fn redraw(&self) {
        if let Some(t) = self.last.as_deref().filter(|_| self.live) {
            use std::io::Write;
            let mut err = std::io::stderr();
            let t = crate::sanitize::line(t);
            let _ = write!(err, "\r\x1b[2K{t} · {}", self.elapsed());
            let _ = err.flush();
        }
    }

    /// Before any other line, end the live one so the next starts on a clean line.
    fn end(&mut self) {
        if self.live && self.last.take().is_some() {
            eprintln!();
        }
    }
}

/// What to watch and do.
#[derive(Debug, Clone, Default)]
pub struct WatchPlan {
    /// Keep running and pick up every task that appears in the store.
    pub daemon: bool,
    /// Save the results of succeeded tasks here (only while this process holds the lease).
    pub download_to: Option<Destination>,
    pub progress: Progress,
    /// The queue's cap while this process feeds it (default: `[submit] max_in_flight`).
    pub max_in_flight: Option<usize>,
    /// Stop once every watched task has been sent (none `pending` or `submitting`) instead of
    /// once every one has settled: `submit --batch` without `--wait`.
    pub until_sent: bool,
}

/// True when the watched task `r` needs nothing more from this run.
fn is_done(plan: &WatchPlan, r: &TaskRecord) -> bool {
    if plan.until_sent {
        !matches!(r.phase, Phase::Pending | Phase::Submitting)
    } else {
        r.phase.is_settled()
    }
}

/// Why the loop could not run or stopped early.
#[derive(Debug, thiserror::Error)]
pub enum HeadlessError {
    /// The store cannot hold the poller lease (a setup problem the user fixes).
    #[error("{0}")]
    Lease(String),
    /// Polling stopped for good (bad key, not the API), or signals cannot be watched.
    #[error("{0}")]
    Stopped(String),
}

/// The watched tasks as they ended, and the results that could not be saved.
#[derive(Debug, Default)]
pub struct WatchOutcome {
    pub records: Vec<TaskRecord>,
    /// `id: why` for each succeeded task whose results failed to download.
    pub failed_downloads: Vec<String>,
}

/// How long the end of a run waits for the feeder's send in progress (a create's timeout and
/// the time an accepted one keeps trying to be recorded).
const FEEDER_STOP_WITHIN: std::time::Duration = std::time::Duration::from_secs(150);

/// Non-transient poll failures in a row after which a watched task stops the command.
const HOPELESS_AFTER: u32 = 3;

/// What made the loop stop.
enum Stop {
    Done,
    Signal,
    Fatal(String),
}

/// Watch `records` (and, as a daemon, every task that shows up) until they settle. Returns the
/// final records of the watched tasks.
pub async fn run(
    ctx: &Context,
    records: Vec<TaskRecord>,
    plan: WatchPlan,
) -> Result<WatchOutcome, HeadlessError> {
    use tokio::signal::unix::{SignalKind, signal};
    let sig =
        |k| signal(k).map_err(|e| HeadlessError::Stopped(format!("cannot watch signals: {e}")));
    let (mut sigint, mut sigterm, mut sighup) = (
        sig(SignalKind::interrupt())?,
        sig(SignalKind::terminate())?,
        sig(SignalKind::hangup())?,
    );

    let (ptx, mut events) = mpsc::unbounded_channel();
    let poller = poller::spawn(ctx.engine.clone(), PollerConfig::for_context(ctx), ptx);
    let keeper = LeaseKeeper::spawn(
        ctx.store_path.clone(),
        lease::POLLER,
        lease::holder_id(if plan.daemon {
            "watch --daemon"
        } else {
            "watch"
        }),
        LeaseConfig::from_secs(ctx.config.poll.lease_secs),
    )
    .map_err(|e| HeadlessError::Lease(e.to_string()))?;
    let noter = keeper.noter();
    let (ftx, mut fed) = mpsc::unbounded_channel();
    let feeder = feeder::spawn(
        ctx.engine.clone(),
        FeederConfig::new(
            plan.max_in_flight
                .unwrap_or(ctx.config.submit.max_in_flight),
        ),
        ftx,
    );
    // The gate: only the lease holder polls, feeds the queue and downloads.
    let (role_tx, mut roles) = mpsc::unbounded_channel();
    let to_poller = poller.clone();
    let to_feeder = feeder.clone();
    lease::gate(keeper.role(), move |role| {
        let _ = to_poller.send(PollerCmd::Role(role.clone()));
        let _ = to_feeder.send(FeederCmd::Role(role.clone()));
        let _ = role_tx.send(role.clone());
    });

    // Read the change sequence before loading rows, so no change falls between the two.
    let seq = ctx.engine.with_store(|s| s.change_seq()).await.ok();
    let (wtx, mut changes) = mpsc::unbounded_channel();
    let every = store_watch::interval(&ctx.config.poll);
    store_watch::spawn_every(ctx.store_path.clone(), seq, every, wtx);

    // The lease holder polls every unfinished task of the store, not only the watched ones:
    // dashboards following it rely on that.
    if let Ok(all) = ctx.engine.with_store(|s| s.unfinished()).await {
        for r in all {
            let _ = poller.send(PollerCmd::Track(Box::new(r)));
        }
    }
    let mut seen: HashMap<String, TaskRecord> = HashMap::new();
    let mut pending: HashSet<String> = HashSet::new();
    for r in records {
        if !is_done(&plan, &r) {
            pending.insert(r.local_id.clone());
        }
        if r.phase.needs_polling() {
            let _ = poller.send(PollerCmd::Track(Box::new(r.clone())));
        }
        seen.insert(r.local_id.clone(), r);
    }
    let mut leader = false;
    let mut downloads = tokio::task::JoinSet::new();
    let mut to_download: Vec<TaskRecord> = Vec::new();
    if plan.daemon && plan.download_to.is_some() {
        // Results that succeeded while no poller ran (within the last day: older links are
        // dead and old tasks are the user's business).
        let query = TaskQuery {
            statuses: vec!["succeeded".into()],
            since: Some(crate::engine::now() - 86_400),
            limit: None,
        };
        if let Ok(rows) = ctx.engine.with_store(move |s| s.list(&query)).await {
            to_download.extend(rows.into_iter().filter(|r| r.video_path.is_none()));
        }
    }
    let mut downloaded: HashSet<String> = HashSet::new();
    let mut failed_downloads = Vec::new();
    let mut banner: Option<String> = None;
    let mut warned = false;
    let mut status = StatusLine::new(plan.progress);
    let mut clock = tokio::time::interval(std::time::Duration::from_secs(1));
    // Watched tasks' non-transient poll failures in a row.
    let mut hopeless: HashMap<String, u32> = HashMap::new();

    let stop = loop {
        if leader && let Some(dir) = &plan.download_to {
            for r in to_download.drain(..) {
                if downloaded.insert(r.local_id.clone()) {
                    let (engine, dir) = (ctx.engine.clone(), dir.clone());
                    let template = ctx.config.download.template.clone();
                    downloads.spawn(async move {
                        let id = r.display_id().to_string();
                        let out =
                            crate::engine::task_results::save_results(&engine, &r, dir, &template)
                                .await;
                        (id, out)
                    });
                }
            }
        }
        if !plan.daemon && pending.is_empty() && downloads.is_empty() {
            break Stop::Done;
        }
        // Rows to report: from the store watcher (any process's changes) and straight from this
        // process's poller (printed as soon as it sees them, not at the watcher's next check).
        let mut incoming: Vec<TaskRecord> = Vec::new();
        tokio::select! {
            Some(rows) = changes.recv() => {
                // A finished task frees a slot, new rows may have been queued: look again.
                let _ = feeder.send(FeederCmd::Wake);
                incoming = rows;
            }
            Some(role) = roles.recv() => {
                let now_leader = role.is_leader();
                match &role {
                    Role::Leader if !leader => crate::errln!("polling this store (holding the poller lease)"),
                    Role::Follower { holder, .. } => {
                        crate::errln!("following: {holder} polls this store");
                        if plan.download_to.is_some() {
                            crate::errln!("note: only the poller downloads; save results later with `seedance-tui download ID`");
                        }
                    }
                    _ => {}
                }
                leader = now_leader;
            }
            Some(ev) = events.recv() => {
                // An answer that no retry fixes (another task's id, a refused id, 404): a
                // watched task that keeps getting one ends the command instead of polling on
                // for ever. Three in a row, so a momentary store error does not count.
                match &ev {
                    PollerEvent::Failed { local_id, message, transient: false }
                        if !plan.daemon && pending.contains(local_id) =>
                    {
                        let n = hopeless.entry(local_id.clone()).or_insert(0);
                        *n += 1;
                        if *n >= HOPELESS_AFTER {
                            break Stop::Fatal(message.clone());
                        }
                    }
                    PollerEvent::Failed { local_id, .. } => {
                        hopeless.remove(local_id);
                    }
                    PollerEvent::Updated { record, .. } => {
                        hopeless.remove(&record.local_id);
                        incoming.push((**record).clone());
                    }
                    _ => {}
                }
                if let PollerEvent::Failed { message, .. } = &ev
                    && !warned
                {
                    crate::errln!("warning: {message} (will keep trying)");
                    warned = true;
                }
                if let PollerEvent::Health(h) = ev {
                    if h.leader {
                        noter.set(lease::note_for(&h));
                    }
                    if h.paused {
                        break Stop::Fatal(h.banner.unwrap_or_else(|| "polling paused".into()));
                    }
                    if h.banner != banner {
                        if let Some(b) = &h.banner {
                            crate::errln!("warning: {b}");
                        }
                        banner = h.banner;
                    }
                }
            }
            Some(ev) = fed.recv() => match ev {
                // A batch that only has to be sent does not wait for the day to turn: its
                // lines stay queued for a dashboard, a daemon or the next run.
                FeederEvent::Held { reason, .. }
                    if plan.until_sent && feeder::is_budget_hold(&reason) =>
                {
                    crate::errln!("queue held: {reason}");
                    crate::errln!(
                        "the lines stay queued: a dashboard, `seedance-tui watch --daemon` or the next run sends them when the cap allows"
                    );
                    break Stop::Done;
                }
                FeederEvent::Held { until, reason } => {
                    let secs = (until - crate::engine::now()).max(0);
                    crate::errln!("queue held: {reason}; trying again in {secs}s");
                }
                FeederEvent::Resumed => crate::errln!("queue resumed"),
                FeederEvent::Abandoned(n) => crate::errln!(
                    "{n} queued request(s) were being sent by a process that stopped: marked submit_unknown (check before sending again)"
                ),
                FeederEvent::StoreFailed(m) => crate::errln!("warning: the queue could not read the store: {m} (will keep trying)"),
                FeederEvent::Sent(_) | FeederEvent::Rejected(_) | FeederEvent::Unknown(_) => {}
            },
            Some(done) = downloads.join_next(), if !downloads.is_empty() => {
                match done {
                    Ok((_, Ok(saved))) => {
                        status.end();
                        for p in &saved.files {
                            plan.progress.line(&format!("saved {}", p.display()));
                        }
                        seen.insert(saved.record.local_id.clone(), saved.record);
                    }
                    Ok((id, Err(e))) => {
                        crate::errln!("{id}: download failed: {e}");
                        failed_downloads.push(format!("{id}: {e}"));
                    }
                    Err(e) => crate::errln!("download task failed: {e}"),
                }
            }
            _ = clock.tick(), if status.live => status.redraw(),
            _ = sigint.recv() => break Stop::Signal,
            _ = sigterm.recv() => break Stop::Signal,
            _ = sighup.recv() => break Stop::Signal,
        }
        for r in incoming.drain(..) {
            if r.phase.needs_polling() {
                let _ = poller.send(PollerCmd::Track(Box::new(r.clone())));
            }
            let known = seen.get(&r.local_id);
            let watched = plan.daemon || known.is_some();
            if !watched {
                continue;
            }
            if known.is_none_or(|k| k.phase != r.phase) {
                if plan.progress == Progress::Stderr {
                    status.change(change_line(&r));
                } else {
                    plan.progress.line(&change_line(&r));
                }
            }
            if is_done(&plan, &r) {
                pending.remove(&r.local_id);
            } else {
                pending.insert(r.local_id.clone());
            }
            let succeeded = matches!(r.phase, Phase::Remote(TaskStatus::Succeeded));
            if succeeded && r.video_path.is_none() && !downloaded.contains(&r.local_id) {
                to_download.retain(|d| d.local_id != r.local_id);
                to_download.push(r.clone());
            }
            seen.insert(r.local_id.clone(), r);
        }
    };
    status.end();
    // A line this process is sending (maybe another process's) is recorded before the lease
    // goes: cut off between its claim and its answer it would become `submit_unknown`.
    feeder::stop(&feeder, FEEDER_STOP_WITHIN).await;
    keeper.release().await;
    match stop {
        Stop::Fatal(m) => Err(HeadlessError::Stopped(m)),
        Stop::Done | Stop::Signal => Ok(WatchOutcome {
            records: seen.into_values().filter(|r| is_done(&plan, r)).collect(),
            failed_downloads,
        }),
    }
}
