//! The poll scheduler: a next-poll time per task in a heap (no loop over all tasks), a global
//! concurrency limit and requests-per-second budget, per-task backoff on errors, 429s and
//! `Retry-After` slowing everyone down, one probe (not one failure per task) while the server is
//! unreachable, and a pause on auth errors instead of hammering.

use crate::api::ApiError;
use crate::api::client::MAX_LIST_URL_BYTES;
use crate::app::Health;
use crate::engine::eta::{EtaModel, Plan, PollTargets, ServerTimes};
use crate::engine::list_poll::ListPoll;
use crate::engine::reconcile::ReconcileWindow;
use crate::engine::{Engine, PollError};
use crate::store::TaskRecord;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;
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
    /// Whether due tasks are polled together through the server's task list.
    pub list: ListMode,
    /// The lease this poller works under, checked before each batch of requests (`None`: no
    /// lease, as in a one-off command).
    pub lease: Option<super::lease::HeldUntil>,
}

/// Whether the poller may use the list endpoint (`GET …/tasks?filter.task_ids=…`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListMode {
    /// One GET per task (a relay: its list answers a web page).
    Never,
    /// Not known for this base URL: the first list request decides, and the store remembers.
    Probe,
    /// The official API: due tasks go out together, one list request per tick.
    Use,
}

impl ListMode {
    /// The mode for a profile: a relay never lists; the official hosts do; any other base URL
    /// is probed once.
    pub fn for_profile(base_url: &str, relay: bool) -> ListMode {
        let host = base_url
            .split("://")
            .nth(1)
            .unwrap_or(base_url)
            .split(['/', ':'])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if relay {
            ListMode::Never
        } else if host.ends_with(".volces.com") || host.ends_with(".bytepluses.com") {
            ListMode::Use
        } else {
            ListMode::Probe
        }
    }
}

/// The store's `meta` key that remembers whether `base_url` has a usable task list.
pub fn list_meta_key(base_url: &str) -> String {
    format!("task_list:{}", base_url.trim().trim_end_matches('/'))
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
            list: ListMode::Never,
            lease: None,
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
    pub(crate) fn demo_pace(self) -> PollerConfig {
        PollerConfig {
            interval: Duration::from_millis(500),
            requests_per_second: 50.0,
            ..self
        }
    }

    /// The settings for `ctx`: its config, at the demo's pace under `--demo`.
    pub(crate) fn for_context(ctx: &crate::context::Context) -> PollerConfig {
        // One relay rule for the whole program (`config::is_relay`, settled when the context
        // was resolved): a relay never lists, not even once.
        let cfg = PollerConfig {
            list: ListMode::for_profile(&ctx.base_url, ctx.engine.relay),
            ..PollerConfig::from_config(&ctx.config)
        };
        if ctx.demo { cfg.demo_pace() } else { cfg }
    }
}

/// What the loop tells the poller.
#[derive(Debug)]
pub enum PollerCmd {
    /// Start (or keep) polling this task; a tracked task that finished elsewhere (another
    /// process polls) is learned from and no longer polled.
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
    /// The ETA model after it learned something (at start, from the store's history; then
    /// from every finish this poller sees or hears of): the faces predict with it.
    Eta(Arc<EtaModel>),
}

/// How often the leader looks for submissions abandoned by a dead process.
const HOUSEKEEPING: Duration = Duration::from_secs(60);

/// Mark `submitting` rows older than `older_than` as `submit_unknown`: the process that wrote
/// them died before the answer (a SIGKILL mid-submit). The request stays in the store; it is
/// never re-sent automatically. Returns the local ids marked.
pub(crate) async fn abandon_stale_submissions(
    engine: &Engine,
    older_than: Duration,
) -> Result<Vec<String>, crate::store::StoreError> {
    let cutoff = now_secs() - older_than.as_secs() as i64;
    engine
        .with_store(move |st| {
            let mut marked = Vec::new();
            for local_id in st.submitting_before(cutoff)? {
                st.submission_unknown(
                    &local_id,
                    "the submitting process stopped before the server answered; check the \
                     server's task list before retrying, or the task may run twice",
                    now_secs(),
                )?;
                marked.push(local_id);
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
    /// By id: the tasks due now that the budget has not let out yet, most likely finished
    /// first (entries whose task was rescheduled since are dropped when met).
    ready: Vec<(Instant, String)>,
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
    /// Whether due tasks go out together in list requests (settled by the first answer when
    /// `Probe`).
    list: ListMode,
    /// Room for ids in one list URL (bytes).
    list_url_room: usize,
    /// List answers in a row that were not a task list (with `Use`): three switch to GETs.
    list_surprises: u32,
    /// In list mode, the wait between ticks while tasks are inside their window.
    tick: Duration,
    /// The ETA model learned something the faces have not been sent yet (`PollerEvent::Eta`).
    eta_changed: bool,
    /// How fast the tracked tasks have been finishing lately.
    observed: Observed,
    /// By id, per kind of speculative poll (see `Tracked::speculative`), the latest ones and
    /// whether each found its task finished: when most do, the rest of that kind are asked at
    /// once (`speculative_answered`).
    speculative_polls: [std::collections::VecDeque<(Instant, bool)>; 2],
    /// When speculative polls of each kind were last pulled forward.
    pulled_at: [Option<Instant>; 2],
}

/// The tracked tasks' finishes and the task-seconds they were tracked, both fading with a time
/// constant of a few intervals: their ratio is how often a tracked task finishes now, measured
/// rather than predicted (a fresh store's history holds only the batch's early finishers, so
/// its plans call every other task overdue; the end of a batch leaves few tasks to finish).
#[derive(Debug, Clone, Copy, Default)]
struct Observed {
    finishes: f64,
    exposure: f64,
    /// Unix seconds of the last update, and how many tasks were tracked since.
    at: f64,
    tracked: usize,
}

impl Observed {
    /// Bring it to `now` (Unix seconds) with `finished` more finishes and `tracked` tasks from
    /// now on.
    fn update(&mut self, now: f64, finished: usize, tracked: usize, fade: f64) {
        let dt = (now - self.at).max(0.0);
        if self.at > 0.0 {
            let keep = (-dt / fade.max(1e-3)).exp();
            self.exposure = self.exposure * keep + self.tracked as f64 * dt;
            self.finishes *= keep;
        }
        self.finishes += finished as f64;
        self.at = now;
        self.tracked = tracked;
    }

    /// The finish rate (per second) of `tracked` tasks at the pace measured, once at least one
    /// finish and an interval's worth of one task's tracking were seen.
    fn rate(&self, tracked: usize, interval: f64) -> f64 {
        if self.finishes < 0.5 || self.exposure < interval {
            return 0.0;
        }
        self.finishes / self.exposure * tracked as f64
    }
}

struct Tracked {
    record: TaskRecord,
    due: Instant,
    errors: u32,
    /// Answers in a row with a status this client does not know: polled with backoff.
    unknown: u32,
    in_flight: bool,
    /// The list could not settle this task: ask it by id next time.
    get_next: bool,
    /// When it was created (Unix seconds, finer than the stored whole seconds when this
    /// process saw the row appear).
    origin: f64,
    /// When its last answer (still unfinished) came (Unix seconds).
    last_answer: Option<f64>,
    /// Its kind's plan, with the model's `learned()` count it was taken at.
    plan: Option<(usize, Arc<Plan>)>,
    /// When the server says it was created and its run started.
    server: Option<ServerTimes>,
    /// The chance it has finished by its next poll since its last answer (1 when not known):
    /// what goes first when more are due than the budget lets out.
    chance: f32,
    /// Its next poll is speculative: before its kind's window (a check with little chance of a
    /// finish), or past every remembered finish of its kind.
    speculative: Option<Speculative>,
}

/// Why a poll has little support from its plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Speculative {
    /// Before the window: the plan gave it little chance of a finish.
    Early = 0,
    /// Past every remembered finish of its kind.
    Overdue = 1,
}

/// A request the scheduler decided to send.
#[derive(Debug)]
enum Request {
    Get(Box<TaskRecord>),
    List(Vec<TaskRecord>),
}

/// What a finished request brings back.
enum Done {
    Get(String, Box<PollResult>),
    List(Vec<String>, ListPoll),
}

/// List ticks every √(this × interval / λ) for finishes expected at λ per second: at the
/// shipped 10 s interval about 0.45 requests per finished task at a mean delay of ~2.7 s on
/// the polling bench (0.8 gave 0.38-0.43 at 2.9-3.3 s; docs/performance.md).
const TICK_PACE: f64 = 0.7;

/// The latest speculative polls whose outcomes decide whether the rest are asked at once.
const SPECULATIVE_POLLS: usize = 16;
/// A poll planned with less chance than this of finding a finish (a check before the window)
/// is speculative.
const SPECULATIVE: f64 = 0.1;

/// Whether a poll planned with `chance` of a finish is speculative, and why.
fn speculative_kind(overdue: bool, chance: f64) -> Option<Speculative> {
    if overdue {
        Some(Speculative::Overdue)
    } else if chance < SPECULATIVE {
        Some(Speculative::Early)
    } else {
        None
    }
}

/// List answers that are not a task list, in a row, before a listing server is polled by id.
const LIST_SURPRISES: u32 = 3;

fn now_secs() -> i64 {
    crate::engine::now()
}

/// Unix time in seconds, with fractions (plans work at the simulator's speeds too).
fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

impl Scheduler {
    fn new(cfg: PollerConfig, start: Instant) -> Scheduler {
        let leader = cfg.leader;
        let cfg_list = cfg.list;
        let cfg_interval = cfg.interval;
        Scheduler {
            cfg,
            tracked: HashMap::new(),
            heap: BinaryHeap::new(),
            ready: Vec::new(),
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
            list: cfg_list,
            list_url_room: MAX_LIST_URL_BYTES.saturating_sub(200),
            list_surprises: 0,
            tick: cfg_interval,
            eta_changed: false,
            observed: Observed::default(),
            speculative_polls: Default::default(),
            pulled_at: [None; 2],
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
        // Kept for as long as the task runs: its request's facts, not its body.
        let record = record.into_followed();
        if !record.phase.needs_polling() {
            // Finished elsewhere (another process polls): learn from it once.
            if self.tracked.remove(&record.local_id).is_some() {
                self.eta_changed = true;
                self.eta.learn(&record);
                if matches!(record.phase, crate::store::Phase::Remote(_)) {
                    self.eta.saw_finish(unix_now());
                }
            }
            return;
        }
        let id = record.local_id.clone();
        match self.tracked.get_mut(&id) {
            Some(t) => t.record = record,
            None => {
                // What the store says may be old (a dashboard opening after hours): ask now.
                // A row written moments ago (just submitted) waits for its kind's plan (the
                // model table's typical durations when the store has no history).
                // (Stored times are whole seconds: "moments" is at least two of them.)
                let fresh = ((now_secs() - record.updated_at) as f64)
                    < self.cfg.interval.as_secs_f64().max(2.0);
                // When the task reached the server. A row never answered yet was accepted at
                // its last change: a line of the queue was written when it was queued, maybe
                // long before it was sent. The stored times are whole seconds: a row this
                // process sees within a second of it reached the server just now.
                let unix = unix_now();
                self.observe(0, 1);
                let sent = if record.response_json.is_none() {
                    record.updated_at.max(record.created_at)
                } else {
                    record.created_at
                } as f64;
                let origin = if (0.0..1.0).contains(&(unix - sent)) {
                    unix
                } else {
                    sent + 0.5
                };
                self.tracked.insert(
                    id.clone(),
                    Tracked {
                        record,
                        due: now,
                        errors: 0,
                        unknown: 0,
                        in_flight: false,
                        get_next: false,
                        origin,
                        last_answer: None,
                        plan: None,
                        server: None,
                        chance: 1.0,
                        speculative: None,
                    },
                );
                if fresh && self.listing() {
                    // Ticks as frequent as the account finishes tasks: a task just sent rides
                    // them once inside its window.
                    if let Some(rate) = self.eta.throughput(unix_now()) {
                        self.tick = self.tick.min(self.tick_for(rate));
                    }
                }
                let first = if fresh { now + self.next_gap(&id) } else { now };
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
        if !self.listing() {
            return self.likeliest_due(now);
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
            return self.send(&id, now);
        }
        None
    }

    /// Count a request for `id` against the concurrency and the budget; its record.
    fn send(&mut self, id: &str, now: Instant) -> Option<TaskRecord> {
        let t = self.tracked.get_mut(id)?;
        t.in_flight = true;
        self.in_flight += 1;
        let gap = 1.0 / self.cfg.requests_per_second.max(0.01);
        self.next_slot = now + Duration::from_secs_f64(gap);
        Some(t.record.clone())
    }

    /// By id, when more tasks are due than the budget lets out at once (tasks sent together
    /// fall due together): the one most likely to have finished goes first, so a check before
    /// a window waits behind a poll inside one. Waiting past its time counts too (a sparse
    /// check's worth of it as much as a certain finish), so nothing waits for ever.
    fn likeliest_due(&mut self, now: Instant) -> Option<TaskRecord> {
        while let Some(Reverse((at, _, _))) = self.heap.peek() {
            if *at > now {
                break;
            }
            if let Some(Reverse((at, _, id))) = self.heap.pop() {
                self.ready.push((at, id));
            }
        }
        let sparse = self.targets().sparse.max(1.0);
        let mut best: Option<(usize, f64)> = None;
        let mut i = 0;
        while i < self.ready.len() {
            let (at, id) = &self.ready[i];
            let Some(t) = self
                .tracked
                .get(id)
                .filter(|t| t.due == *at && !t.in_flight)
            else {
                self.ready.swap_remove(i); // stale
                continue;
            };
            let score =
                f64::from(t.chance) + now.saturating_duration_since(*at).as_secs_f64() / sparse;
            if best.is_none_or(|(_, b)| score > b) {
                best = Some((i, score));
            }
            i += 1;
        }
        let (i, _) = best?;
        let (_, id) = self.ready.swap_remove(i);
        self.send(&id, now)
    }

    /// Whether requests may go out now: not paused, leading, and (the role message can come
    /// late) the lease confirmed now. A lapsed lease wakes nothing: the keeper's next role does.
    fn may_send(&self) -> bool {
        !self.paused && self.leader && self.cfg.lease.as_ref().is_none_or(|l| l.holds())
    }

    /// True while due tasks go out in list requests.
    fn listing(&self) -> bool {
        self.list != ListMode::Never
    }

    /// The next request to send now: in list mode every task due now (and those due within
    /// the dense gap, which ride along for free) in one list, as many as fit its URL; one GET
    /// for a task the list could not settle, and for every task when listing is off.
    fn next_request(&mut self, now: Instant) -> Option<Request> {
        let first = self.next_due(now)?;
        let fallback = self
            .tracked
            .get(&first.local_id)
            .is_some_and(|t| t.get_next);
        if !self.listing() || fallback || first.task_id.is_none() {
            if let Some(t) = self.tracked.get_mut(&first.local_id) {
                t.get_next = false;
            }
            return Some(Request::Get(Box::new(first)));
        }
        let horizon = now + self.list_lead();
        let id_room = |r: &TaskRecord| {
            crate::api::client::list_id_query_len(r.task_id.as_deref().unwrap_or(""))
        };
        let mut room = self.list_url_room.saturating_sub(id_room(&first));
        let mut batch = vec![first];
        let mut put_back = Vec::new();
        while batch.len() < 500 {
            let Some(Reverse((at, seq, id))) = self.heap.peek().cloned() else {
                break;
            };
            if at > horizon {
                break;
            }
            self.heap.pop();
            let Some(t) = self.tracked.get_mut(&id) else {
                continue;
            };
            if t.due != at || t.in_flight {
                continue; // a stale heap entry
            }
            if t.get_next || t.record.task_id.is_none() {
                put_back.push(Reverse((at, seq, id)));
                continue;
            }
            let need = id_room(&t.record);
            if need > room {
                put_back.push(Reverse((at, seq, id)));
                break;
            }
            room -= need;
            t.in_flight = true;
            batch.push(t.record.clone());
        }
        self.heap.extend(put_back);
        Some(Request::List(batch))
    }

    /// How far ahead of its time a task joins a list that goes out anyway: anything due before
    /// the next tick.
    fn list_lead(&self) -> Duration {
        self.tick.max(Duration::from_millis(10))
    }

    /// When the loop should next wake up to start a poll.
    fn wake_at(&self) -> Option<Instant> {
        if !self.may_send() {
            return None;
        }
        let head = self
            .heap
            .peek()
            .map(|Reverse((at, _, _))| *at)
            .into_iter()
            .chain(self.ready.iter().map(|(at, _)| *at))
            .min()?;
        Some(
            head.max(self.next_slot)
                .max(self.hold_until.unwrap_or(head)),
        )
    }

    /// What polling aims for. By id every poll is a request: a mean delay of 0.6 × the
    /// interval (a fixed loop at the interval gives 0.5 ×; at the seed's 15 s, 7.5 s) for far
    /// fewer requests. In list mode
    /// a tick costs one request whatever it carries, so tasks inside their window ride every
    /// tick and the tick's pace decides (`refresh_tick`).
    fn targets(&self) -> PollTargets {
        let i = self.cfg.interval.as_secs_f64();
        PollTargets {
            delay: if self.listing() { i / 4.0 } else { 0.6 * i },
            min_gap: i / 4.0,
            sparse: (6.0 * i).min(self.cfg.max_backoff.as_secs_f64().max(i)),
        }
    }

    /// `local_id`'s plan and age (seconds since its creation).
    fn plan_of(&mut self, local_id: &str, targets: &PollTargets) -> Option<(Arc<Plan>, f64)> {
        let learned = self.eta.version();
        let eta = &mut self.eta;
        let t = self.tracked.get_mut(local_id)?;
        let plan = match &t.plan {
            Some((at, plan)) if *at == learned => plan.clone(),
            _ => {
                let plan = eta.plan(&t.record, targets);
                t.plan = Some((learned, plan.clone()));
                plan
            }
        };
        Some((plan, unix_now() - t.origin))
    }

    /// The wait before the next poll of a task that answered: by id, its kind's plan (sparse
    /// before the window, dense inside it, gently less often past it); in list mode the next
    /// tick inside the window and the window's start (or the sparse check) before it.
    fn next_gap(&mut self, local_id: &str) -> Duration {
        let targets = self.targets();
        let Some((plan, age)) = self.plan_of(local_id, &targets) else {
            return self.cfg.interval;
        };
        let server = self.tracked.get(local_id).and_then(|t| t.server);
        let run = match (self.listing(), server) {
            (false, Some(server)) => self
                .tracked
                .get(local_id)
                .and_then(|t| self.eta.run_plan(&t.record, server, age, &targets)),
            _ => None,
        };
        let mut speculative = None;
        let (secs, chance) = if let Some((run_plan, ran)) = run {
            // Running, and the server said since when: the rest of its run.
            let gap = run_plan.next_gap(ran, &targets);
            let chance = run_plan.finish_chance(ran, ran + gap);
            speculative = speculative_kind(run_plan.overdue(ran + gap), chance);
            (gap, chance)
        } else if !self.listing() {
            let gap = plan.next_gap(age, &targets);
            match self.queued_until(local_id, &targets) {
                // The poll that tells when its run started can wait (at most the sparse check).
                Some(wait) if wait > gap => (wait.min(targets.sparse), 0.0),
                _ => {
                    let chance = plan.finish_chance(age, age + gap);
                    speculative = speculative_kind(plan.overdue(age + gap), chance);
                    (gap, chance)
                }
            }
        } else if let Some(wait) = self.queued_until(local_id, &targets) {
            (wait.clamp(targets.min_gap, targets.sparse), 0.0)
        } else if plan.finish_rate(age, &targets).is_some() {
            (self.tick.as_secs_f64(), 1.0)
        } else {
            (
                (plan.start() - age).clamp(targets.min_gap, targets.sparse),
                1.0,
            )
        };
        if let Some(t) = self.tracked.get_mut(local_id) {
            t.chance = chance as f32;
            t.speculative = speculative;
        }
        tracing::debug!(task = local_id, age, gap = secs, tick = ?self.tick, "next poll");
        Duration::from_secs_f64(secs.clamp(0.01, self.cfg.max_backoff.as_secs_f64().max(0.01)))
    }

    /// Seconds from now before a task last answered `queued` can finish: the shortest runs of
    /// its kind, counted from that answer. `None` when it is not queued or history does not
    /// know its kind's runs.
    fn queued_until(&mut self, local_id: &str, targets: &PollTargets) -> Option<f64> {
        let t = self.tracked.get(local_id)?;
        let answered = t.last_answer?;
        if t.record.phase != crate::store::Phase::Remote(crate::api::TaskStatus::Queued) {
            return None;
        }
        let run = self.eta.run_kind_plan(&t.record, targets)?.start();
        let wait = answered + run - unix_now();
        (wait > 0.0).then_some(wait)
    }

    /// A speculative poll of `kind` answered (`finished`: it found its task finished). When most
    /// of the latest polls of that kind found a finish, the plans are wrong now (tasks held
    /// together ending together: a backlog draining, a stalled service catching up), and the
    /// other tasks waiting for a poll of that kind (up to the sparse check away) are asked now:
    /// each such poll is then likelier to find a finish than one inside a window. The kinds
    /// are counted apart: the last tasks of a batch finishing late must not pull forward the
    /// first checks of tasks just sent.
    fn speculative_answered(&mut self, kind: Speculative, finished: bool, now: Instant) {
        let targets = self.targets();
        let window = Duration::from_secs_f64(targets.sparse.max(0.01));
        let k = kind as usize;
        let polls = &mut self.speculative_polls[k];
        polls.push_back((now, finished));
        while polls.len() > SPECULATIVE_POLLS
            || polls
                .front()
                .is_some_and(|(at, _)| now.saturating_duration_since(*at) > window)
        {
            polls.pop_front();
        }
        let hits = polls.iter().filter(|(_, f)| *f).count();
        let min_gap = Duration::from_secs_f64(targets.min_gap.max(0.01));
        if polls.len() < SPECULATIVE_POLLS / 2
            || hits * 2 < polls.len()
            || self.pulled_at[k].is_some_and(|at| now.saturating_duration_since(at) < min_gap)
        {
            return;
        }
        self.pulled_at[k] = Some(now);
        let soon = now + min_gap;
        let due: Vec<String> = self
            .tracked
            .iter()
            .filter(|(_, t)| t.speculative == Some(kind) && !t.in_flight && t.due > soon)
            .map(|(id, _)| id.clone())
            .collect();
        for id in due {
            self.schedule(&id, now);
        }
    }

    /// Count `finished` more finishes, with `more` tasks about to be tracked.
    fn observe(&mut self, finished: usize, more: usize) {
        let fade = 3.0 * self.cfg.interval.as_secs_f64();
        let tracked = self.tracked.len() + more;
        self.observed.update(unix_now(), finished, tracked, fade);
    }

    /// In list mode, set the tick from how fast the tracked tasks are expected to finish now:
    /// the sum of the finish rates of those inside their kind's window, or the rate measured
    /// lately when that is higher. A task past every remembered finish adds at most what is
    /// measured: its plan's rate rises as it gets later, which says little about when it ends.
    fn refresh_tick(&mut self) {
        if !self.listing() {
            return;
        }
        self.observe(0, 0);
        let targets = self.targets();
        let ids: Vec<String> = self.tracked.keys().cloned().collect();
        let (mut planned, mut overdue) = (0.0, 0.0);
        for id in ids {
            if self.queued_until(&id, &targets).is_some() {
                continue; // cannot finish yet
            }
            if let Some((plan, age)) = self.plan_of(&id, &targets)
                && let Some(r) = plan.finish_rate(age, &targets)
            {
                if plan.overdue(age) {
                    overdue += r;
                } else {
                    planned += r;
                }
            }
        }
        let measured = self
            .observed
            .rate(self.tracked.len(), self.cfg.interval.as_secs_f64());
        let rate = (planned + overdue.min(measured)).max(measured);
        self.tick = self.tick_for(rate);
    }

    /// The wait between list ticks for finishes expected at `rate` per second: a tick costs one
    /// request and the delay is paid per task, so the cheapest pace is ∝ 1 / √rate, here
    /// √(`TICK_PACE` × interval / rate), between a quarter interval and the interval.
    fn tick_for(&self, rate: f64) -> Duration {
        let i = self.cfg.interval.as_secs_f64();
        let gap = if rate > 0.0 {
            (TICK_PACE * i / rate).sqrt()
        } else {
            i
        };
        let least = self.targets().min_gap.max(0.01);
        Duration::from_secs_f64(gap.clamp(least, i.max(least)))
    }

    fn backoff(&self, errors: u32) -> Duration {
        crate::backoff::Backoff::new(self.cfg.interval, self.cfg.max_backoff).delay(errors)
    }

    fn finished(&mut self, local_id: &str, result: PollResult, now: Instant) -> PollerEvent {
        self.in_flight = self.in_flight.saturating_sub(1);
        self.task_result(local_id, result, now)
    }

    /// Apply one task's poll result (its request is already counted as finished).
    fn task_result(&mut self, local_id: &str, result: PollResult, now: Instant) -> PollerEvent {
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
                let speculative = t.speculative.take();
                t.record = record.clone();
                let (origin, last) = (t.origin, t.last_answer);
                t.last_answer = Some(unix_now());
                let answer = record.task();
                let told = answer.as_ref().and_then(|a| {
                    let running = a.status == crate::api::TaskStatus::Running;
                    Some(ServerTimes {
                        created: a.created_at?,
                        run_start: t
                            .server
                            .and_then(|s| s.run_start)
                            .or(a.updated_at.filter(|_| running)),
                    })
                });
                let server = told.or(t.server);
                // A server time seen change between two answers bounds the server's clock
                // rate (before any finish: a fresh store's plans rest on it).
                let by = unix_now() - origin;
                let after = last.map_or(0.0, |l| l - origin);
                let finished_at = answer.as_ref().and_then(|a| a.updated_at).filter(|_| {
                    !record.phase.needs_polling()
                        && matches!(record.phase, crate::store::Phase::Remote(_))
                });
                let started_at = server
                    .and_then(|s| s.run_start)
                    .filter(|_| t.server.is_none_or(|old| old.run_start.is_none()));
                let changed_at = finished_at
                    .or(started_at)
                    .zip(server)
                    .map(|(at, s)| (at - s.created) as f64);
                t.server = server;
                if let Some(secs) = changed_at {
                    self.eta.saw_server_time(secs, after, by);
                }
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
                        self.next_gap(local_id)
                    };
                    self.schedule(local_id, now + gap);
                } else {
                    self.tracked.remove(local_id);
                    self.observe(1, 0);
                    // The server's own verdict (not `lost`) counts toward the throughput.
                    if matches!(record.phase, crate::store::Phase::Remote(_)) {
                        self.eta.saw_finish(unix_now());
                        self.eta_changed = true;
                    }
                    // It finished between its last unfinished answer and this one: the middle
                    // is the best guess, and finer than the stored whole seconds.
                    let seen = unix_now();
                    let since = last.unwrap_or(origin).max(origin);
                    let total = (since + seen) / 2.0 - origin;
                    let finished = answer.as_ref().and_then(|a| a.updated_at);
                    self.eta_changed |= match (server, finished) {
                        (Some(server), Some(finished)) => {
                            self.eta.learn_observed(&record, total, server, finished)
                        }
                        _ => self.eta.learn_secs(&record, total),
                    };
                }
                if let Some(kind) = speculative.filter(|_| !self.listing()) {
                    self.speculative_answered(kind, !record.phase.needs_polling(), now);
                }
                PollerEvent::Updated {
                    record: Box::new(record),
                    changed,
                }
            }
            Err(err) => {
                let (transient, message) = self.note_error(&err, now);
                self.back_off(local_id, now);
                PollerEvent::Failed {
                    local_id: local_id.to_string(),
                    message,
                    transient,
                }
            }
        }
    }

    /// Back one task off after an error of its request.
    fn back_off(&mut self, local_id: &str, now: Instant) {
        let Some(t) = self.tracked.get_mut(local_id) else {
            return;
        };
        t.in_flight = false;
        t.errors += 1;
        t.chance = 1.0;
        let errors = t.errors;
        let next = now + self.backoff(errors);
        self.schedule(local_id, next);
    }

    /// What a failed request means for everyone (auth pause, 429 hold, unreachable server), once
    /// per request; returns (transient, message).
    fn note_error(&mut self, err: &PollError, now: Instant) -> (bool, String) {
        self.health.consecutive_errors += 1;
        let (transient, message) = match err {
            PollError::Api(api) => (api.is_transient(), format!("{api} — {}", api.hint())),
            other => (false, other.to_string()),
        };
        match err {
            PollError::Api(ApiError::Auth { .. }) => {
                self.paused = true;
                self.health.banner = Some(
                    "auth failed: polling paused — fix the key, then press p to resume".into(),
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
            PollError::Api(ApiError::Server { status, .. })
                if self.health.consecutive_errors >= 3 =>
            {
                // An outage is said where it is seen, not only counted.
                self.health.banner = Some(format!(
                    "server failing: {} errors in a row (HTTP {status}); polling goes on",
                    self.health.consecutive_errors
                ));
            }
            _ => {}
        }
        (transient, message)
    }

    /// Apply a list request's outcome: each listed task's result; the tasks it could not settle
    /// are asked by id at once; an answer that is not a task list turns listing off (for good
    /// when it was the probe). Returns the events to report and, when the probe settled, the
    /// mode to remember.
    fn list_finished(
        &mut self,
        ids: Vec<String>,
        outcome: ListPoll,
        now: Instant,
    ) -> (Vec<PollerEvent>, Option<ListMode>) {
        self.in_flight = self.in_flight.saturating_sub(1);
        // The pace for the listed tasks' next polls, and again below for what stays tracked.
        self.refresh_tick();
        let mut events = Vec::new();
        let mut settled = None;
        match outcome {
            ListPoll::Answered { polled, need_get } => {
                if self.list == ListMode::Probe {
                    self.list = ListMode::Use;
                    settled = Some(ListMode::Use);
                }
                self.list_surprises = 0;
                for (id, result) in polled {
                    events.push(self.task_result(&id, result, now));
                }
                for id in need_get {
                    if let Some(t) = self.tracked.get_mut(&id) {
                        t.in_flight = false;
                        t.get_next = true;
                    }
                    self.schedule(&id, now);
                }
            }
            ListPoll::NoList(err) => {
                tracing::info!(error = %err, "the task list is not usable here; polling by id");
                self.list_surprises += 1;
                if self.list == ListMode::Probe {
                    self.list = ListMode::Never;
                    settled = Some(ListMode::Never);
                } else if self.list_surprises >= LIST_SURPRISES {
                    self.list = ListMode::Never;
                }
                for id in &ids {
                    if let Some(t) = self.tracked.get_mut(id) {
                        t.in_flight = false;
                        t.get_next = true;
                    }
                    self.schedule(id, now);
                }
            }
            ListPoll::Failed(err) => {
                let err = PollError::Api(err);
                let (transient, message) = self.note_error(&err, now);
                for id in ids {
                    self.back_off(&id, now);
                    events.push(PollerEvent::Failed {
                        local_id: id,
                        message: message.clone(),
                        transient,
                    });
                }
            }
        }
        self.refresh_tick();
        (events, settled)
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

    fn command(&mut self, cmd: PollerCmd) {
        let now = Instant::now();
        match cmd {
            PollerCmd::Track(r) => self.track(*r, now),
            PollerCmd::Untrack(id) => {
                if self.tracked.remove(&id).is_some() {
                    self.observe(0, 0);
                }
            }
            PollerCmd::Pause(p) => {
                self.paused = p;
                if !p {
                    self.health.banner = None;
                    self.hold_until = None;
                }
            }
            PollerCmd::Role(role) => self.set_role(role, now),
            PollerCmd::RefreshNow => {
                let ids: Vec<String> = self.tracked.keys().cloned().collect();
                self.hold_until = None;
                for id in ids {
                    self.schedule(&id, now);
                }
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
                s.eta_changed |= s.eta.learn(r);
            }
        }
        // What the store remembers about this base URL's list settles a probe.
        if s.list == ListMode::Probe {
            let key = list_meta_key(engine.client.base_url());
            if let Ok(Some(v)) = engine.with_store(move |st| st.meta_get(&key)).await {
                match v.as_str() {
                    "list" => s.list = ListMode::Use,
                    "get" => s.list = ListMode::Never,
                    _ => {}
                }
            }
        }
        let mut jobs: JoinSet<Done> = JoinSet::new();
        let mut last_health = Health::default();
        let abandon_after = s.cfg.abandon_after;
        let mut housekeeping = tokio::time::interval(HOUSEKEEPING.min(abandon_after));
        housekeeping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // Rows that reconciliation found on the server come back here to be polled.
        let (adopted_tx, mut adopted) = mpsc::unbounded_channel::<TaskRecord>();
        loop {
            let now = Instant::now();
            while let Some(request) = s.next_request(now) {
                let engine = engine.clone();
                match request {
                    Request::Get(record) => jobs.spawn(async move {
                        let id = record.local_id.clone();
                        Done::Get(id, Box::new(engine.poll_followed(&record).await))
                    }),
                    Request::List(records) => jobs.spawn(async move {
                        let ids = records.iter().map(|r| r.local_id.clone()).collect();
                        Done::List(ids, engine.poll_listed(&records).await)
                    }),
                };
            }
            if std::mem::take(&mut s.eta_changed)
                && events
                    .send(PollerEvent::Eta(Arc::new(s.eta.clone())))
                    .is_err()
            {
                return;
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
                cmd = rx.recv() => {
                    let Some(cmd) = cmd else { return };
                    s.command(cmd);
                    // Take every command already queued before deciding what to send, so tasks
                    // tracked together go out together.
                    while let Ok(cmd) = rx.try_recv() {
                        s.command(cmd);
                    }
                }
                Some(done) = jobs.join_next(), if !jobs.is_empty() => {
                    let out = match done {
                        Ok(Done::Get(id, result)) => vec![s.finished(&id, *result, Instant::now())],
                        Ok(Done::List(ids, outcome)) => {
                            let (out, settled) = s.list_finished(ids, outcome, Instant::now());
                            if let Some(mode) = settled {
                                // Remembered before the answers are reported: whoever reads
                                // them may look at the store next.
                                let key = list_meta_key(engine.client.base_url());
                                let value = if mode == ListMode::Use { "list" } else { "get" };
                                let _ = engine.with_store(move |st| st.meta_set(&key, value)).await;
                            }
                            out
                        }
                        Err(e) => {
                            s.in_flight = s.in_flight.saturating_sub(1);
                            vec![PollerEvent::Failed { local_id: String::new(), message: format!("poll task failed: {e}"), transient: true }]
                        }
                    };
                    for event in out {
                        if let PollerEvent::Updated { record, .. } = &event
                            && !record.phase.needs_polling()
                        {
                            engine.slot_freed.notify_one();
                        }
                        if events.send(event).is_err() {
                            return;
                        }
                    }
                }
                Some(record) = adopted.recv() => {
                    let record = record.into_followed();
                    s.track(record.clone(), Instant::now());
                    if events.send(PollerEvent::Updated { record: Box::new(record), changed: true }).is_err() {
                        return;
                    }
                }
                _ = housekeeping.tick(), if s.leader && s.may_send() => {
                    let engine = engine.clone();
                    let reconcile = s.list == ListMode::Use;
                    let adopted_tx = adopted_tx.clone();
                    tokio::spawn(async move {
                        let _ = abandon_stale_submissions(&engine, abandon_after).await;
                        if reconcile {
                            match engine.reconcile_unknown(ReconcileWindow::default()).await {
                                Ok(report) => {
                                    for r in report.adopted {
                                        let _ = adopted_tx.send(r);
                                    }
                                }
                                Err(e) => tracing::info!(error = %e, "reconciling uncertain creates failed"),
                            }
                        }
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
