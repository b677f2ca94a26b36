//! The poll scheduler: a next-poll time per task in a heap (no loop over all tasks), a global
//! concurrency limit and requests-per-second budget, per-task backoff on errors, 429s and
//! `Retry-After` slowing everyone down, one probe (not one failure per task) while the server is
//! unreachable, and a pause on auth errors instead of hammering.

use crate::api::ApiError;
use crate::app::Health;
use crate::engine::eta::EtaModel;
use crate::engine::{Engine, PollError};
use crate::store::TaskRecord;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// Settings of the scheduler.
#[derive(Debug, Clone)]
pub struct PollerConfig {
    /// Time between polls of one task when nothing better is known.
    pub interval: Duration,
    /// At most this many requests in flight.
    pub concurrency: usize,
    /// At most this many requests per second.
    pub requests_per_second: f64,
    /// The longest a task waits between polls while errors continue.
    pub max_backoff: Duration,
    /// Start polling at once (true), or wait for `PollerCmd::Role(Leader)` from the lease gate.
    pub leader: bool,
    /// A `submitting` row older than this belongs to a process that died mid-submission: the
    /// leader marks it `submit_unknown` (never re-sent; the user decides).
    pub abandon_after: Duration,
}

impl Default for PollerConfig {
    fn default() -> Self {
        PollerConfig {
            interval: Duration::from_secs(10),
            concurrency: 4,
            requests_per_second: 5.0,
            max_backoff: Duration::from_secs(300),
            leader: true,
            abandon_after: Duration::from_secs(600),
        }
    }
}

impl PollerConfig {
    /// The settings of `[poll]`: interval, concurrency and budget. `leader` is false: polling
    /// starts when the lease gate says so.
    pub fn from_config(config: &crate::config::Config) -> PollerConfig {
        PollerConfig {
            interval: Duration::from_secs_f64(config.poll.interval_secs.clamp(1.0, 600.0)),
            concurrency: config.poll.concurrency.max(1),
            requests_per_second: config.poll.requests_per_second,
            leader: false,
            ..PollerConfig::default()
        }
    }

    /// The demo's pace: the embedded simulator runs tasks fast and has no budget to respect.
    pub fn demo_pace(self) -> PollerConfig {
        PollerConfig {
            interval: Duration::from_millis(500),
            requests_per_second: 50.0,
            ..self
        }
    }

    /// The settings for `ctx`: its config, at the demo's pace under `--demo`.
    pub fn for_context(ctx: &crate::context::Context) -> PollerConfig {
        let cfg = PollerConfig::from_config(&ctx.config);
        if ctx.demo { cfg.demo_pace() } else { cfg }
    }
}

/// What the loop tells the poller.
#[derive(Debug)]
pub enum PollerCmd {
    /// Start (or keep) polling this task; ignored unless it needs polling.
    Track(Box<TaskRecord>),
    /// Stop polling this task.
    Untrack(String),
    Pause(bool),
    /// Poll every tracked task as soon as the budget allows.
    RefreshNow,
    /// The lease gate's verdict: only a leader sends requests; a follower keeps tracking (so it
    /// can take over at once) but stays silent.
    Role(super::lease::Role),
}

/// What the poller reports.
#[derive(Debug)]
pub enum PollerEvent {
    Updated {
        record: Box<TaskRecord>,
        changed: bool,
    },
    Failed {
        local_id: String,
        message: String,
        transient: bool,
    },
    Health(Health),
}

/// How often the leader looks for submissions abandoned by a dead process.
const HOUSEKEEPING: Duration = Duration::from_secs(60);

/// Mark `submitting` rows older than `older_than` as `submit_unknown`: the process that wrote
/// them died before the answer (a SIGKILL mid-submit). The request stays in the store; it is
/// never re-sent automatically. Returns the local ids marked.
pub async fn abandon_stale_submissions(
    engine: &Engine,
    older_than: Duration,
) -> Result<Vec<String>, crate::store::StoreError> {
    let cutoff = now_secs() - older_than.as_secs() as i64;
    engine
        .with_store(move |st| {
            let query = crate::store::TaskQuery {
                statuses: vec!["submitting".into()],
                since: None,
                limit: None,
            };
            let mut marked = Vec::new();
            for r in st
                .list(&query)?
                .into_iter()
                .filter(|r| r.created_at < cutoff)
            {
                st.submission_unknown(
                    &r.local_id,
                    "the submitting process stopped before the server answered; check the \
                     server's task list before retrying, or the task may run twice",
                    now_secs(),
                )?;
                marked.push(r.local_id);
            }
            Ok(marked)
        })
        .await
}

/// How many finished tasks the poller learns from at start.
const HISTORY: usize = 2000;

/// The outcome of one poll: the updated record and whether its status changed.
type PollResult = Result<(TaskRecord, bool), PollError>;

struct Scheduler {
    cfg: PollerConfig,
    tracked: HashMap<String, Tracked>,
    heap: BinaryHeap<Reverse<(Instant, u64, String)>>,
    seq: u64,
    paused: bool,
    /// This process holds the poller lease.
    leader: bool,
    /// Nobody polls before this (429, Retry-After, server unreachable).
    hold_until: Option<Instant>,
    next_slot: Instant,
    health: Health,
    in_flight: usize,
    /// Durations learned from finished tasks: when to poll each task next.
    eta: EtaModel,
}

struct Tracked {
    record: TaskRecord,
    due: Instant,
    errors: u32,
    /// Answers in a row with a status this client does not know: polled with backoff.
    unknown: u32,
    in_flight: bool,
}

fn now_secs() -> i64 {
    crate::engine::now()
}

impl Scheduler {
    fn new(cfg: PollerConfig, start: Instant) -> Scheduler {
        let leader = cfg.leader;
        Scheduler {
            cfg,
            tracked: HashMap::new(),
            heap: BinaryHeap::new(),
            seq: 0,
            paused: false,
            leader,
            hold_until: None,
            next_slot: start,
            health: Health {
                leader,
                follows: (!leader).then(|| "nobody yet (checking the poller lease)".into()),
                ..Health::default()
            },
            in_flight: 0,
            eta: EtaModel::default(),
        }
    }

    fn schedule(&mut self, local_id: &str, at: Instant) {
        if let Some(t) = self.tracked.get_mut(local_id) {
            t.due = at;
            self.seq += 1;
            self.heap
                .push(Reverse((at, self.seq, local_id.to_string())));
        }
    }

    fn track(&mut self, record: TaskRecord, now: Instant) {
        if !record.phase.needs_polling() {
            // Finished elsewhere (another process polls): learn from it once.
            if self.tracked.remove(&record.local_id).is_some() {
                self.eta.learn(&record);
            }
            return;
        }
        let id = record.local_id.clone();
        match self.tracked.get_mut(&id) {
            Some(t) => t.record = record,
            None => {
                // What the store says may be old (a dashboard opening after hours): ask now.
                // A row written moments ago (just submitted) whose kind history knows waits for
                // its ETA gap; with no history, ask now.
                let fresh = now_secs() - record.updated_at < self.cfg.interval.as_secs() as i64;
                let known = self.eta.estimate(&record, now_secs()).is_some();
                let first = if fresh && known {
                    now + self.next_gap(&record)
                } else {
                    now
                };
                self.tracked.insert(
                    id.clone(),
                    Tracked {
                        record,
                        due: first,
                        errors: 0,
                        unknown: 0,
                        in_flight: false,
                    },
                );
                self.schedule(&id, first);
            }
        }
    }

    /// The next task due now, honouring pause, hold, budget and concurrency.
    fn next_due(&mut self, now: Instant) -> Option<TaskRecord> {
        if self.paused || !self.leader || self.in_flight >= self.cfg.concurrency.max(1) {
            return None;
        }
        if self.hold_until.is_some_and(|h| h > now) || self.next_slot > now {
            return None;
        }
        while let Some(Reverse((at, _, id))) = self.heap.peek().cloned() {
            if at > now {
                return None;
            }
            self.heap.pop();
            let Some(t) = self.tracked.get_mut(&id) else {
                continue;
            };
            if t.due != at || t.in_flight {
                continue; // a stale heap entry
            }
            t.in_flight = true;
            self.in_flight += 1;
            let gap = 1.0 / self.cfg.requests_per_second.max(0.01);
            self.next_slot = now + Duration::from_secs_f64(gap);
            return Some(t.record.clone());
        }
        None
    }

    /// When the loop should next wake up to start a poll.
    fn wake_at(&self) -> Option<Instant> {
        if self.paused || !self.leader {
            return None;
        }
        let head = self.heap.peek().map(|Reverse((at, _, _))| *at)?;
        Some(
            head.max(self.next_slot)
                .max(self.hold_until.unwrap_or(head)),
        )
    }

    /// The wait before the next poll of a task that answered: sparse while it is young, dense
    /// around its likely finish, the plain interval when history knows nothing.
    fn next_gap(&self, record: &TaskRecord) -> Duration {
        let interval = self.cfg.interval.as_secs_f64();
        let dense = interval / 4.0;
        let secs = self
            .eta
            .next_poll_secs(record, now_secs(), interval, dense)
            .min(self.cfg.max_backoff.as_secs_f64());
        Duration::from_secs_f64(secs.max(0.01))
    }

    fn backoff(&self, errors: u32) -> Duration {
        crate::backoff::Backoff::new(self.cfg.interval, self.cfg.max_backoff).delay(errors)
    }

    fn finished(&mut self, local_id: &str, result: PollResult, now: Instant) -> PollerEvent {
        self.in_flight = self.in_flight.saturating_sub(1);
        let Some(t) = self.tracked.get_mut(local_id) else {
            return match result {
                Ok((record, changed)) => PollerEvent::Updated {
                    record: Box::new(record),
                    changed,
                },
                Err(e) => PollerEvent::Failed {
                    local_id: local_id.to_string(),
                    message: e.to_string(),
                    transient: false,
                },
            };
        };
        t.in_flight = false;
        match result {
            Ok((record, changed)) => {
                t.errors = 0;
                t.record = record.clone();
                self.health.last_success = Some(now_secs());
                self.health.consecutive_errors = 0;
                if !self.paused {
                    self.health.banner = None;
                }
                self.hold_until = None;
                let unknown = matches!(
                    record.phase,
                    crate::store::Phase::Remote(crate::api::TaskStatus::Unknown(_))
                );
                t.unknown = if unknown { t.unknown + 1 } else { 0 };
                let unknown_streak = t.unknown;
                if record.phase.needs_polling() {
                    // A status we cannot read says nothing about when the task ends: back off
                    // instead of polling it at full rate forever.
                    let gap = if unknown_streak > 0 {
                        self.backoff(unknown_streak)
                    } else {
                        self.next_gap(&record)
                    };
                    self.schedule(local_id, now + gap);
                } else {
                    self.tracked.remove(local_id);
                    self.eta.learn(&record);
                }
                PollerEvent::Updated {
                    record: Box::new(record),
                    changed,
                }
            }
            Err(err) => {
                t.errors += 1;
                let errors = t.errors;
                self.health.consecutive_errors += 1;
                let (transient, message) = match &err {
                    PollError::Api(api) => (api.is_transient(), format!("{api} — {}", api.hint())),
                    other => (false, other.to_string()),
                };
                match &err {
                    PollError::Api(ApiError::Auth { .. }) => {
                        self.paused = true;
                        self.health.banner = Some(
                            "auth failed: polling paused — fix the key, then press p to resume"
                                .into(),
                        );
                    }
                    PollError::Api(ApiError::RateLimited { retry_after, .. }) => {
                        // The header is external data: a huge value must neither overflow the
                        // clock (a panic kills the poller) nor stop polling for days.
                        let wait = retry_after
                            .unwrap_or(self.cfg.interval)
                            .min(self.cfg.max_backoff.max(self.cfg.interval));
                        self.hold_until = Some(now + wait);
                        self.health.banner = Some(format!(
                            "rate limited: everyone waits {}s",
                            wait.as_secs().max(1)
                        ));
                    }
                    PollError::Api(ApiError::Connection { .. } | ApiError::Timeout { .. })
                        if self.health.consecutive_errors >= 3 =>
                    {
                        // One probe at a time while the server is unreachable.
                        let wait = self.backoff(self.health.consecutive_errors.saturating_sub(2));
                        self.hold_until = Some(now + wait);
                        self.health.banner = Some(format!(
                            "server unreachable: next try in {}s",
                            wait.as_secs().max(1)
                        ));
                    }
                    _ => {}
                }
                let next = now + self.backoff(errors);
                self.schedule(local_id, next);
                PollerEvent::Failed {
                    local_id: local_id.to_string(),
                    message,
                    transient,
                }
            }
        }
    }

    /// Apply the lease gate's verdict. A new leader polls everything it tracks soon (the
    /// records it followed may be stale), spread by the budget.
    fn set_role(&mut self, role: super::lease::Role, now: Instant) {
        use super::lease::Role;
        let was = self.leader;
        self.leader = role.is_leader();
        self.health.leader = self.leader;
        self.health.follows = match role {
            Role::Leader => None,
            Role::Starting => Some("nobody yet (checking the poller lease)".into()),
            Role::Follower { holder, note } => Some(match note {
                Some(n) => format!("{holder} — {n}"),
                None => holder,
            }),
        };
        if self.leader && !was {
            let ids: Vec<String> = self.tracked.keys().cloned().collect();
            for id in ids {
                self.schedule(&id, now);
            }
        }
    }

    fn health(&self) -> Health {
        Health {
            paused: self.paused,
            tracked: self.tracked.len(),
            in_flight: self.in_flight,
            ..self.health.clone()
        }
    }
}

/// Start the poller on the current runtime. Commands go in; events come out on `events`.
pub fn spawn(
    engine: Engine,
    cfg: PollerConfig,
    events: mpsc::UnboundedSender<PollerEvent>,
) -> mpsc::UnboundedSender<PollerCmd> {
    let (tx, mut rx) = mpsc::unbounded_channel::<PollerCmd>();
    // Every request the scheduler makes is one it counted: no hidden client retries.
    let mut engine = engine;
    engine.client = engine.client.without_retries();
    tokio::spawn(async move {
        let start = Instant::now();
        let mut s = Scheduler::new(cfg, start);
        // Learn from the newest finished tasks (oldest first, so the newest stay remembered).
        let query = crate::store::TaskQuery {
            statuses: vec!["succeeded".into()],
            since: None,
            limit: Some(HISTORY),
        };
        if let Ok(rows) = engine.with_store(move |st| st.list(&query)).await {
            for r in rows.iter().rev() {
                s.eta.learn(r);
            }
        }
        let mut jobs: JoinSet<(String, PollResult)> = JoinSet::new();
        let mut last_health = Health::default();
        let abandon_after = s.cfg.abandon_after;
        let mut housekeeping = tokio::time::interval(HOUSEKEEPING.min(abandon_after));
        housekeeping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let now = Instant::now();
            while let Some(record) = s.next_due(now) {
                let engine = engine.clone();
                jobs.spawn(async move {
                    let id = record.local_id.clone();
                    (id, engine.poll(&record).await)
                });
            }
            let health = s.health();
            if health != last_health {
                last_health = health.clone();
                if events.send(PollerEvent::Health(health)).is_err() {
                    return;
                }
            }
            let wake = s.wake_at();
            tokio::select! {
                cmd = rx.recv() => match cmd {
                    None => return,
                    Some(PollerCmd::Track(r)) => s.track(*r, Instant::now()),
                    Some(PollerCmd::Untrack(id)) => { s.tracked.remove(&id); }
                    Some(PollerCmd::Pause(p)) => {
                        s.paused = p;
                        if !p {
                            s.health.banner = None;
                            s.hold_until = None;
                        }
                    }
                    Some(PollerCmd::Role(role)) => s.set_role(role, Instant::now()),
                    Some(PollerCmd::RefreshNow) => {
                        let now = Instant::now();
                        let ids: Vec<String> = s.tracked.keys().cloned().collect();
                        s.hold_until = None;
                        for id in ids {
                            s.schedule(&id, now);
                        }
                    }
                },
                Some(done) = jobs.join_next(), if !jobs.is_empty() => {
                    let event = match done {
                        Ok((id, result)) => s.finished(&id, result, Instant::now()),
                        Err(e) => {
                            s.in_flight = s.in_flight.saturating_sub(1);
                            PollerEvent::Failed { local_id: String::new(), message: format!("poll task failed: {e}"), transient: true }
                        }
                    };
                    if events.send(event).is_err() {
                        return;
                    }
                }
                _ = housekeeping.tick(), if s.leader => {
                    let engine = engine.clone();
                    tokio::spawn(async move {
                        let _ = abandon_stale_submissions(&engine, abandon_after).await;
                    });
                }
                _ = sleep_until_opt(wake) => {}
            }
        }
    });
    tx
}

async fn sleep_until_opt(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
#[path = "poller_tests.rs"]
mod tests;
