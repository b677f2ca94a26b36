//! ETA from history: how long tasks took, learned from finished tasks, per shape (model,
//! resolution, ratio, duration, the kinds of media it carries), falling back to the model, then
//! to every task, then to the model table's typical durations (a fresh store). Pure: times come
//! in as arguments. One model: the poller learns and plans with it, and the dashboard shows what
//! it predicts (`runtime::poller` sends it a copy whenever it has learned something).
//!
//! A task is measured from its creation against the total times (queue + run) of its kind: the
//! creation time is exact, while the start of a run is only known as when a poll first saw it
//! running. The samples still possible at the task's age give its remaining time (their median)
//! and its progress.
//!
//! **When to poll** ([`EtaModel::next_poll`]): the samples, smoothed, are the distribution of
//! finish times of the kind; a dynamic programme over it finds the poll times that need the
//! fewest polls for a mean finish-to-seen delay of [`PollTargets::delay`] (a poll costs one, a
//! second of delay costs `c`, and `c` is bisected until the plan's mean delay meets the target).
//! So a task is asked rarely before its kind's window (at least every [`PollTargets::sparse`]
//! seconds, which catches an early failure), densely where finishes are likely, and gently less
//! often past the last remembered finish. A plan is computed once per bucket and reused until
//! the bucket has learned an eighth more samples.

use crate::api::TaskStatus;
use crate::store::{Phase, TaskFacts};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

/// Samples kept per bucket (the newest win).
const KEEP: usize = 64;
/// Fewer samples than this in a bucket: use a wider one.
const MIN_SAMPLES: usize = 3;
/// Cells of a plan's time grid.
const CELLS: usize = 256;
/// Pseudo-samples spread over the model table's typical range for a fresh store.
const PRIOR_SAMPLES: usize = 16;

/// What polling should achieve, in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct PollTargets {
    /// The mean delay from a finish to the poll that sees it.
    pub(crate) delay: f64,
    /// The shortest wait between two polls of one task.
    pub(crate) min_gap: f64,
    /// The longest wait between two polls of one task (an early failure is seen within it).
    pub(crate) sparse: f64,
}

#[derive(Debug, Clone, Default)]
struct Samples {
    /// Seconds from creation to finish.
    total: VecDeque<f32>,
    /// Samples added since `plan` was made.
    fresh: usize,
    plan: Option<(PollTargets, Arc<Plan>)>,
    /// When each of `total`'s tasks was created (Unix seconds, ascending): what is kept.
    total_born: VecDeque<i64>,
    /// Seconds from the start of the run to the finish (our clock), for tasks whose run start
    /// the server told, with their plan.
    run: VecDeque<f32>,
    run_born: VecDeque<i64>,
    run_fresh: usize,
    run_plan: Option<(PollTargets, Arc<Plan>)>,
}

/// Keep `v` of a task created at `born`, in creation order, and drop the earliest created past
/// `KEEP`. Samples arrive in the order tasks finish: dropping the earliest *learned* would
/// leave, after a batch larger than `KEEP`, only its slowest tasks (the plans would then expect
/// every task late).
fn push(q: &mut VecDeque<f32>, born_q: &mut VecDeque<i64>, born: i64, v: f32) {
    let at = born_q.partition_point(|b| *b <= born);
    born_q.insert(at, born);
    q.insert(at, v);
    if q.len() > KEEP {
        q.pop_front();
        born_q.pop_front();
    }
}

impl Samples {
    fn push(&mut self, born: i64, total: f32) {
        push(&mut self.total, &mut self.total_born, born, total);
        self.fresh += 1;
    }

    fn enough(&self) -> bool {
        self.total.len() >= MIN_SAMPLES
    }

    /// The plan for `t`, made again when the samples moved on by an eighth since.
    fn plan(&mut self, t: &PollTargets) -> Arc<Plan> {
        cached_plan(&self.total, &mut self.fresh, &mut self.plan, t)
    }

    fn run_plan(&mut self, t: &PollTargets) -> Arc<Plan> {
        cached_plan(&self.run, &mut self.run_fresh, &mut self.run_plan, t)
    }
}

fn cached_plan(
    samples: &VecDeque<f32>,
    fresh: &mut usize,
    cache: &mut Option<(PollTargets, Arc<Plan>)>,
    t: &PollTargets,
) -> Arc<Plan> {
    if let Some((for_t, plan)) = cache
        && for_t == t
        && *fresh * 8 < samples.len().max(1)
    {
        return plan.clone();
    }
    let mut xs: Vec<f64> = samples.iter().map(|v| f64::from(*v)).collect();
    xs.sort_by(f64::total_cmp);
    let plan = Arc::new(Plan::new(&xs, t));
    *cache = Some((*t, plan.clone()));
    *fresh = 0;
    plan
}

/// A task as its last answer told it: when the server created it and, once it runs, when its
/// run started (the server's clock, whole seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ServerTimes {
    pub(crate) created: i64,
    pub(crate) run_start: Option<i64>,
}

/// Finished tasks whose server duration is compared with ours, for the clock rate.
const RATE_SAMPLES: usize = 64;
/// Fewer comparisons than this: the server's clock is not read.
const RATE_MIN: usize = 5;

/// 1 when `rate` is within a fifth of it: a real service's clock runs at ours, and the
/// difference is when we saw the event.
fn snap_rate(rate: f64) -> f64 {
    if (0.8..1.25).contains(&rate) {
        1.0
    } else {
        rate
    }
}

/// A task's shape: model, resolution, ratio, duration, media kinds.
type Key = (String, String, String, i64, u8);

/// What the history says about one unfinished task.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// Seconds until the likely finish (the median of what history still allows); 0 if overdue.
    pub remaining: i64,
    /// 0.0..=1.0 of the expected time from creation to finish.
    pub(crate) progress: f64,
    /// It has already taken longer than every remembered task of its kind.
    pub(crate) overdue: bool,
    /// Some remembered task of this kind finished at this age already: a finish is plausible
    /// any moment now.
    pub(crate) finish_plausible: bool,
}

/// Learned durations.
#[derive(Debug, Clone, Default)]
pub struct EtaModel {
    by_key: HashMap<Key, Samples>,
    by_model: HashMap<String, Samples>,
    all: Samples,
    /// The model table's typical durations (the same for every model today), on our clock at
    /// the server's clock rate it was made for.
    prior: Option<(f64, Samples)>,
    learned: usize,
    /// (server seconds, our seconds) from creation to finish of tasks this process saw finish:
    /// how fast the server's clock runs against ours (1 for a real service; a simulator may run
    /// faster).
    clocks: VecDeque<(f32, f32)>,
    /// When the account's last tasks finished (Unix seconds, ours), succeeded or not: its
    /// observed throughput.
    finishes: VecDeque<f64>,
    /// Bounds on the server's clock rate from tasks not finished yet: a server time seen change
    /// (a run's start) happened between two of our answers. Read before five finishes compare.
    rate_bounds: RateBounds,
    /// Times the clock rate read from those bounds changed (plans made before are stale).
    rate_changes: usize,
}

/// Bounds on server seconds per second of ours: an event `S` server seconds after a task's
/// creation, seen happen between our ages `a1` and `a2`, puts the rate in `S / a2 ..= S / a1`.
#[derive(Debug, Clone, Copy)]
struct RateBounds {
    lo: f64,
    hi: f64,
}

impl Default for RateBounds {
    fn default() -> Self {
        RateBounds {
            lo: 0.0,
            hi: f64::INFINITY,
        }
    }
}

impl RateBounds {
    /// The rate when the bounds agree within a fifth either way (when the noise of whole
    /// server seconds crossed them, their middle).
    fn rate(&self) -> Option<f64> {
        if self.lo <= 0.0 || !self.hi.is_finite() {
            return None;
        }
        let (lo, hi) = (self.lo.min(self.hi), self.lo.max(self.hi));
        // In steps of 5 %: plans are made again only when it moved that much.
        (hi / lo <= 1.5)
            .then(|| ((lo * hi).sqrt().ln() / 0.05).round() * 0.05)
            .map(f64::exp)
    }
}

/// Finishes kept for the throughput.
const THROUGHPUT_SAMPLES: usize = 32;
/// Fewer finishes than this: the throughput is not known.
const THROUGHPUT_MIN: usize = 4;

fn key_of(r: &impl TaskFacts) -> Key {
    let spec = r.spec();
    let text = |v: &Option<Arc<str>>| v.as_deref().unwrap_or_default().to_string();
    (
        r.model().to_string(),
        text(&spec.resolution),
        text(&spec.ratio),
        spec.duration.unwrap_or(0),
        spec.media,
    )
}

/// The `q` quantile of a sorted, non-empty slice, interpolated.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = (sorted.len() - 1) as f64 * q.clamp(0.0, 1.0);
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// Which bucket answers for a task.
enum Bucket {
    Key(Key),
    Model(String),
    All,
    Prior,
}

impl EtaModel {
    /// How many finished tasks it has learned from.
    pub fn learned(&self) -> usize {
        self.learned
    }

    /// Learn from a task that succeeded (failures end early and would skew the estimate), by
    /// its stored creation and finish times. Returns false when the record teaches nothing.
    pub(crate) fn learn(&mut self, r: &impl TaskFacts) -> bool {
        match Self::stored_total(r) {
            Some(total) => self.add(r, total),
            None => false,
        }
    }

    /// Learn that `r` succeeded `total` seconds after its creation (a poller that saw the
    /// finish knows it better than the stored whole seconds).
    pub(crate) fn learn_secs(&mut self, r: &impl TaskFacts, total: f64) -> bool {
        if !matches!(*r.phase(), Phase::Remote(TaskStatus::Succeeded)) || !total.is_finite() {
            return false;
        }
        self.add(r, total.max(0.0))
    }

    /// [`EtaModel::learn_secs`] for a task whose answers told its server times: its run time
    /// is learned too (on our clock), and how fast the server's clock runs against ours.
    /// `finished` is the server's time of the finish.
    pub(crate) fn learn_observed(
        &mut self,
        r: &impl TaskFacts,
        total: f64,
        server: ServerTimes,
        finished: i64,
    ) -> bool {
        if !self.learn_secs(r, total) {
            return false;
        }
        let server_total = (finished - server.created) as f64;
        if server_total > 0.0 && total > 0.0 {
            self.clocks.push_back((server_total as f32, total as f32));
            if self.clocks.len() > RATE_SAMPLES {
                self.clocks.pop_front();
            }
        }
        if let (Some(rate), Some(start)) = (self.clock_rate(), server.run_start) {
            let run = (finished - start) as f64 / rate;
            if run >= 0.0 {
                let key = key_of(r);
                for s in [
                    self.by_key.entry(key.clone()).or_default(),
                    self.by_model.entry(key.0).or_default(),
                    &mut self.all,
                ] {
                    push(&mut s.run, &mut s.run_born, r.created_at(), run as f32);
                    s.run_fresh += 1;
                }
            }
        }
        true
    }

    /// One of the account's tasks finished at `at` (Unix seconds): the throughput counts it.
    pub fn saw_finish(&mut self, at: f64) {
        if !at.is_finite() {
            return;
        }
        self.finishes.push_back(at);
        if self.finishes.len() > THROUGHPUT_SAMPLES {
            self.finishes.pop_front();
        }
    }

    /// The account's observed throughput at `now` (tasks finishing per second), over its last
    /// finishes; a pause since the last one counts as if a finish were due now, so an idle
    /// account's old burst does not promise a fast queue.
    pub fn throughput(&self, now: f64) -> Option<f64> {
        if self.finishes.len() < THROUGHPUT_MIN {
            return None;
        }
        let first = self.finishes.iter().copied().fold(f64::INFINITY, f64::min);
        let last = self
            .finishes
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        let span = (last - first).max(now - first).max(1e-3);
        Some((self.finishes.len() - 1) as f64 / span)
    }

    /// How much longer than its kind's history says a queued task of kind `r` with `ahead`
    /// of the account's tasks before it waits: those finish first, at the observed throughput
    /// `λ`, in `ahead / λ` seconds; the history's median total `W` already holds the queueing
    /// it saw (`λ × W` tasks in progress at once, by Little's law), so the wait is the rest,
    /// `ahead / λ − W`. `None` when nothing is left or the throughput is unknown.
    pub fn queue_wait(&self, r: &impl TaskFacts, ahead: usize, now: f64) -> Option<f64> {
        let rate = self.throughput(now)?;
        let samples = self.bucket(r).map(|b| &b.total);
        let mut xs: Vec<f64> = samples
            .into_iter()
            .flatten()
            .map(|v| f64::from(*v))
            .collect();
        xs.sort_by(f64::total_cmp);
        let typical = if xs.is_empty() {
            0.0
        } else {
            quantile(&xs, 0.5)
        };
        let wait = ahead as f64 / rate - typical;
        (wait > 0.0).then_some(wait)
    }

    /// Server seconds per second of ours, once enough finished tasks compared them: 1 when
    /// within a fifth of it (a real service's clock runs at ours; the difference is when we
    /// saw the finish).
    pub(crate) fn clock_rate(&self) -> Option<f64> {
        if self.clocks.len() < RATE_MIN {
            return None;
        }
        let server: f64 = self.clocks.iter().map(|c| f64::from(c.0)).sum();
        let ours: f64 = self.clocks.iter().map(|c| f64::from(c.1)).sum();
        Some(snap_rate(server / ours.max(1e-9)))
    }

    /// A server time of an unfinished task seen change: it lies `server` seconds after the
    /// task's creation and happened between our ages `after` (its last answer before; 0 when
    /// none) and `by` (the answer that told it). Bounds the clock rate before any finish.
    pub(crate) fn saw_server_time(&mut self, server: f64, after: f64, by: f64) {
        if !(server >= 1.0 && by > 0.0 && server.is_finite() && by.is_finite()) {
            return;
        }
        let before = self.early_clock_rate();
        self.rate_bounds.lo = self.rate_bounds.lo.max(server / by);
        if after > 0.0 {
            self.rate_bounds.hi = self.rate_bounds.hi.min(server / after);
        }
        if self.early_clock_rate() != before {
            self.rate_changes += 1;
        }
    }

    /// Changes whenever a plan made before may differ now (it learned, or the clock rate a
    /// fresh store's plans rest on moved).
    pub(crate) fn version(&self) -> usize {
        self.learned + self.rate_changes
    }

    /// The clock rate from finished tasks, else from the bounds unfinished ones set.
    pub(crate) fn early_clock_rate(&self) -> Option<f64> {
        self.clock_rate()
            .or_else(|| self.rate_bounds.rate().map(snap_rate))
    }

    /// The plan for the rest of `r`'s run and how long it has run (our seconds), when the
    /// server told when the run started and history knows runs of its kind; `age` is ours
    /// since its creation.
    pub(crate) fn run_plan(
        &mut self,
        r: &impl TaskFacts,
        server: ServerTimes,
        age: f64,
        t: &PollTargets,
    ) -> Option<(Arc<Plan>, f64)> {
        let start = server.run_start?;
        let rate = self.clock_rate()?;
        let ran = age - (start - server.created) as f64 / rate;
        Some((self.run_kind_plan(r, t)?, ran.max(0.0)))
    }

    /// The plan over the run times of `r`'s kind (our seconds from the start of a run), when
    /// history knows enough runs and the server's clock rate.
    pub(crate) fn run_kind_plan(
        &mut self,
        r: &impl TaskFacts,
        t: &PollTargets,
    ) -> Option<Arc<Plan>> {
        self.clock_rate()?;
        let key = key_of(r);
        let enough = |s: &Samples| s.run.len() >= MIN_SAMPLES;
        let samples = if self.by_key.get(&key).is_some_and(enough) {
            self.by_key.get_mut(&key)?
        } else if self.by_model.get(&key.0).is_some_and(enough) {
            self.by_model.get_mut(&key.0)?
        } else if enough(&self.all) {
            &mut self.all
        } else {
            return None;
        };
        Some(samples.run_plan(t))
    }

    fn stored_total(r: &impl TaskFacts) -> Option<f64> {
        if !matches!(*r.phase(), Phase::Remote(TaskStatus::Succeeded)) {
            return None;
        }
        let total = r.finished_at()?.checked_sub(r.created_at())?;
        (0..=u32::MAX as i64)
            .contains(&total)
            .then_some(total as f64)
    }

    fn add(&mut self, r: &impl TaskFacts, total: f64) -> bool {
        let total = total as f32;
        let key = key_of(r);
        let born = r.created_at();
        self.by_model
            .entry(key.0.clone())
            .or_default()
            .push(born, total);
        self.by_key.entry(key).or_default().push(born, total);
        self.all.push(born, total);
        self.learned += 1;
        true
    }

    /// The narrowest bucket with enough samples; the model table's typical durations when
    /// there is none.
    fn which(&self, r: &impl TaskFacts) -> Bucket {
        let key = key_of(r);
        if self.by_key.get(&key).is_some_and(Samples::enough) {
            Bucket::Key(key)
        } else if self.by_model.get(&key.0).is_some_and(Samples::enough) {
            Bucket::Model(key.0)
        } else if self.all.enough() {
            Bucket::All
        } else {
            Bucket::Prior
        }
    }

    /// The model table's typical durations (server seconds) on our clock at `rate`.
    fn prior(rate: f64) -> Samples {
        let (lo, hi) = crate::api::models::table().typical_secs();
        let mut s = Samples::default();
        for i in 0..PRIOR_SAMPLES {
            let at = lo + (hi - lo) * (i as f64 + 0.5) / PRIOR_SAMPLES as f64;
            s.push(i as i64, (at / rate) as f32);
        }
        s
    }

    fn bucket(&self, r: &impl TaskFacts) -> Option<&Samples> {
        match self.which(r) {
            Bucket::Key(k) => self.by_key.get(&k),
            Bucket::Model(m) => self.by_model.get(&m),
            Bucket::All => Some(&self.all),
            Bucket::Prior => None,
        }
    }

    fn bucket_mut(&mut self, r: &impl TaskFacts) -> &mut Samples {
        match self.which(r) {
            Bucket::Key(k) => self.by_key.entry(k).or_default(),
            Bucket::Model(m) => self.by_model.entry(m).or_default(),
            Bucket::All => &mut self.all,
            Bucket::Prior => {
                let rate = self.early_clock_rate().unwrap_or(1.0);
                if self.prior.as_ref().is_some_and(|(r, _)| *r != rate) {
                    self.prior = None;
                }
                &mut self
                    .prior
                    .get_or_insert_with(|| (rate, Self::prior(rate)))
                    .1
            }
        }
    }

    /// The polling plan for `r`'s kind (a caller may keep it while [`EtaModel::learned`] stays
    /// the same).
    pub(crate) fn plan(&mut self, r: &impl TaskFacts, t: &PollTargets) -> Arc<Plan> {
        self.bucket_mut(r).plan(t)
    }

    /// The estimate for an unfinished task at `now` (Unix seconds); `None` when history knows
    /// nothing that applies, or the task is not in the server's hands.
    pub fn estimate(&self, r: &impl TaskFacts, now: i64) -> Option<Estimate> {
        if !r.phase().needs_polling() {
            return None;
        }
        // Measured from creation (a local, exact time). The start of a run is only known as
        // "first seen running", late by up to a poll gap that sparse polling makes long, so
        // run times would mislead.
        let samples = &self.bucket(r)?.total;
        let elapsed = (now - r.created_at()).max(0) as f64;
        let mut left: Vec<f64> = samples
            .iter()
            .map(|s| f64::from(*s) - elapsed)
            .filter(|l| *l > 0.0)
            .collect();
        if left.is_empty() {
            return Some(Estimate {
                remaining: 0,
                progress: 1.0,
                overdue: true,
                finish_plausible: true,
            });
        }
        left.sort_by(f64::total_cmp);
        let median = quantile(&left, 0.5);
        Some(Estimate {
            remaining: median.round() as i64,
            progress: (elapsed / (elapsed + median)).clamp(0.0, 1.0),
            overdue: false,
            finish_plausible: left.len() < samples.len(),
        })
    }
}

/// The poll plan of one bucket: on a grid of ages, where the next poll goes from each cell, and
/// how fast tasks still running at that age finish.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// Seconds per cell.
    step: f64,
    /// From a poll in cell `i`, the next poll at the start of cell `next[i]` (`CELLS`: the end).
    next: Vec<u16>,
    /// Per cell, the finish rate (per second) of a task still running at its start.
    rate: Vec<f32>,
    /// Per cell boundary, the share of the kind still running there.
    alive: Vec<f32>,
    /// The age where the first finishes become likely (the window's start).
    start: f64,
    /// The age past which no remembered task was still running.
    end: f64,
}

impl Plan {
    /// The plan for the sorted samples `xs` (seconds from creation to finish).
    fn new(xs: &[f64], t: &PollTargets) -> Plan {
        let n = xs.len().max(1) as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let sd = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
        let last = xs.last().copied().unwrap_or(0.0);
        // Half of Silverman's bandwidth: samples of one kind are close; a wide kernel would
        // blur the window's edges.
        let width = (0.45 * sd * n.powf(-0.2)).max(0.02 * last).max(0.05);
        let end = last + width;
        let step = (end / CELLS as f64).max(0.005);
        // Triangular kernels, mass per cell (what falls below age 0 counts in the first cell).
        let cdf = |x: f64, at: f64| {
            let u = (at - x) / width;
            if u <= -1.0 {
                0.0
            } else if u <= 0.0 {
                (u + 1.0).powi(2) / 2.0
            } else if u < 1.0 {
                1.0 - (1.0 - u).powi(2) / 2.0
            } else {
                1.0
            }
        };
        let mut mass = vec![0.0f64; CELLS];
        for &x in xs {
            let mut below = 0.0;
            for (k, m) in mass.iter_mut().enumerate() {
                let upper = if k + 1 == CELLS {
                    1.0
                } else {
                    cdf(x, (k + 1) as f64 * step)
                };
                *m += upper - below;
                below = upper;
            }
        }
        let sum: f64 = mass.iter().sum::<f64>().max(1e-12);
        mass.iter_mut().for_each(|m| *m /= sum);
        // alive[k]: the share still running at the start of cell k.
        let mut alive = vec![0.0f64; CELLS + 1];
        for k in (0..CELLS).rev() {
            alive[k] = alive[k + 1] + mass[k];
        }
        let rate = (0..CELLS)
            .map(|k| (mass[k] / (alive[k].max(1e-12) * step)) as f32)
            .collect();
        let first = mass.iter().position(|m| *m > 1e-4).unwrap_or(0);
        let least = ((t.min_gap / step).ceil() as usize).max(1);
        let most = ((t.sparse / step).floor() as usize).max(least);
        // The cheapest plan whose mean delay meets the target: bisect the price of a second.
        let (mut lo, mut hi) = ((1e-6f64).ln(), (1e4f64).ln());
        let mut next = solve(&mass, &alive, step, least, most, hi.exp()).0;
        for _ in 0..20 {
            let mid = (lo + hi) / 2.0;
            let (plan, smoothed) = solve(&mass, &alive, step, least, most, mid.exp());
            // The delay the remembered tasks themselves would have seen: smoothing blurs
            // the window's edges, where a plan judged on the smoothed finishes comes out late.
            let delay = smoothed.max(path_delay(&plan, xs, step));
            if delay > t.delay {
                lo = mid;
            } else {
                hi = mid;
                next = plan;
            }
        }
        Plan {
            step,
            next,
            rate,
            alive: alive.iter().map(|a| *a as f32).collect(),
            start: first as f64 * step,
            end,
        }
    }

    /// Seconds to wait before the next poll of a task `age` seconds after its creation, at
    /// least `min_gap` and at most `sparse`.
    pub(crate) fn next_gap(&self, age: f64, t: &PollTargets) -> f64 {
        let gap = self.planned_gap(age.max(0.0), t);
        gap.clamp(t.min_gap.max(0.01), t.sparse.max(t.min_gap).max(0.01))
    }

    /// The share of the kind still running at `age` (0 past the last remembered finish).
    fn survival(&self, age: f64) -> f64 {
        if age >= self.end {
            return 0.0;
        }
        let x = (age.max(0.0) / self.step).min(CELLS as f64);
        let k = (x as usize).min(CELLS - 1);
        let (a, b) = (f64::from(self.alive[k]), f64::from(self.alive[k + 1]));
        a + (b - a) * (x - k as f64)
    }

    /// The chance that a task of the kind still running at age `from` has finished by `to`.
    pub(crate) fn finish_chance(&self, from: f64, to: f64) -> f64 {
        let alive = self.survival(from);
        if alive <= 1e-9 {
            return 1.0;
        }
        (1.0 - self.survival(to) / alive).clamp(0.0, 1.0)
    }

    /// Whether a task of the kind at `age` has run past every remembered finish.
    pub(crate) fn overdue(&self, age: f64) -> bool {
        age >= self.end
    }

    /// The age where the first finishes of the kind become likely.
    pub(crate) fn start(&self) -> f64 {
        self.start
    }

    fn planned_gap(&self, age: f64, t: &PollTargets) -> f64 {
        if age >= self.end {
            // Past every remembered finish: back off gently.
            return t.delay + (age - self.end) / 4.0;
        }
        let cell = ((age / self.step) as usize).min(CELLS - 1);
        let to = usize::from(self.next[cell]);
        if to >= CELLS {
            // The plan's last poll: at the end of the window.
            return (self.end - age).max(t.min_gap);
        }
        to as f64 * self.step - age
    }

    /// Where a task stands at `age`: before its kind's window (`None`: no finish expected
    /// yet), or inside or past it with the rate (per second) at which a task of its kind still
    /// running at that age finishes. A list tick is as frequent as the sum of these rates asks.
    pub(crate) fn finish_rate(&self, age: f64, t: &PollTargets) -> Option<f64> {
        let age = age.max(0.0);
        if age >= self.end {
            return Some(1.0 / (t.delay + (age - self.end) / 4.0).max(t.min_gap).max(0.01));
        }
        if age < self.start {
            return None;
        }
        let cell = ((age / self.step) as usize).min(CELLS - 1);
        Some(f64::from(self.rate[cell]))
    }
}

/// The mean delay from each of the sorted samples `xs` to the first poll at or after it, along
/// the plan `next` from age 0.
fn path_delay(next: &[u16], xs: &[f64], step: f64) -> f64 {
    if xs.is_empty() {
        return 0.0;
    }
    let mut polls = Vec::new();
    let mut i = 0usize;
    while i < next.len() {
        i = usize::from(next[i]).max(i + 1);
        polls.push(i as f64 * step);
    }
    let last = polls.last().copied().unwrap_or(0.0);
    let total: f64 = xs
        .iter()
        .map(|&x| {
            let k = polls.partition_point(|&p| p < x);
            polls.get(k).copied().unwrap_or(last.max(x)) - x
        })
        .sum();
    total / xs.len() as f64
}

/// The cheapest next-poll table when a poll costs one and a second of delay `price`, with gaps
/// of `least..=most` cells; returns it and its mean delay (seconds).
fn solve(
    mass: &[f64],
    alive: &[f64],
    step: f64,
    least: usize,
    most: usize,
    price: f64,
) -> (Vec<u16>, f64) {
    let n = mass.len();
    let mut cost = vec![0.0f64; n + 1];
    let mut next = vec![n as u16; n];
    for i in (0..n).rev() {
        let (mut best, mut best_j) = (f64::INFINITY, n);
        let (mut seen, mut delay) = (0.0, 0.0);
        for j in i + 1..=(i + most).min(n) {
            // The finishes in cells i..j, each seen at the start of cell j.
            delay += step * seen + mass[j - 1] * 0.5 * step;
            seen += mass[j - 1];
            if j - i < least && j < n {
                continue;
            }
            // On a tie the later poll wins: before the window polls cost the same anywhere.
            let c = alive[i] + price * delay + cost[j];
            if c <= best {
                best = c;
                best_j = j;
            }
        }
        cost[i] = best;
        next[i] = best_j as u16;
    }
    // The mean delay along the plan from creation.
    let (mut i, mut delay) = (0, 0.0);
    while i < n {
        let j = usize::from(next[i]).max(i + 1);
        for (k, m) in mass.iter().enumerate().take(j.min(n)).skip(i) {
            delay += m * ((j - k) as f64 - 0.5) * step;
        }
        i = j;
    }
    (next, delay)
}

/// A queued task's place in the account's queue: unfinished tasks created before it, and how
/// many run at once now (the service works through the queue that many at a time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueuePlace {
    pub(crate) ahead: usize,
    pub(crate) running: usize,
}

impl EtaModel {
    /// [`EtaModel::estimate`] for a task waiting behind others, so a task queued behind 50
    /// others is not "late" after a minute: the history's times plus the wait for the tasks
    /// ahead of it at the account's observed throughput ([`EtaModel::queue_wait`]); until a
    /// throughput is known, stretched by the waves of tasks ahead (`ahead / running` more runs
    /// of a typical task).
    pub fn estimate_in_queue(
        &self,
        r: &impl TaskFacts,
        now: i64,
        place: Option<QueuePlace>,
    ) -> Option<Estimate> {
        let base = self.estimate(r, now)?;
        let Some(p) = place.filter(|p| p.ahead > 0 && r.started_at().is_none()) else {
            return Some(base);
        };
        let samples = &self.bucket(r)?.total;
        let age = (now - r.created_at()).max(0) as f64;
        let wait = self
            .throughput(now as f64)
            .map(|_| self.queue_wait(r, p.ahead, now as f64).unwrap_or(0.0));
        let factor = 1.0 + p.ahead as f64 / p.running.max(1) as f64;
        let mut left: Vec<f64> = samples
            .iter()
            .map(|s| match wait {
                Some(w) => f64::from(*s) + w - age,
                None => f64::from(*s) * factor - age,
            })
            .filter(|l| *l > 0.0)
            .collect();
        if left.is_empty() {
            return Some(base);
        }
        left.sort_by(f64::total_cmp);
        let median = quantile(&left, 0.5);
        Some(Estimate {
            remaining: median.round() as i64,
            progress: (age / (age + median)).clamp(0.0, 1.0),
            overdue: false,
            ..base
        })
    }
}

/// Every queued task's place in the queue (by local id) and how many tasks run now. Tasks
/// ahead are the unfinished ones (queued or running) created before it, of the same profile.
/// The from-scratch rule [`QueueIndex`] is tested against.
#[cfg(test)]
pub(crate) fn queue_positions<T: TaskFacts>(tasks: &[T]) -> (HashMap<String, usize>, usize) {
    let active = |t: &&T| {
        matches!(
            t.phase(),
            Phase::Remote(TaskStatus::Queued) | Phase::Remote(TaskStatus::Running)
        )
    };
    let running = tasks
        .iter()
        .filter(|t| t.phase() == &Phase::Remote(TaskStatus::Running))
        .count();
    let mut unfinished: Vec<&T> = tasks.iter().filter(active).collect();
    unfinished.sort_by(|a, b| {
        (a.profile(), a.created_at(), a.local_id()).cmp(&(
            b.profile(),
            b.created_at(),
            b.local_id(),
        ))
    });
    let mut out = HashMap::new();
    let mut profile = "";
    let mut before = 0usize;
    for t in unfinished {
        if t.profile() != profile {
            profile = t.profile();
            before = 0;
        }
        if t.phase() == &Phase::Remote(TaskStatus::Queued) {
            out.insert(t.local_id().to_string(), before);
        }
        before += 1;
    }
    (out, running)
}

/// Whether `t` holds a place in the account's queue (queued or running).
fn in_queue(t: &impl TaskFacts) -> bool {
    matches!(
        *t.phase(),
        Phase::Remote(TaskStatus::Queued) | Phase::Remote(TaskStatus::Running)
    )
}

/// The queue's order: profile, creation, local id (unique, so the order is total).
fn queue_cmp<T: TaskFacts>(a: &T, b: &T) -> std::cmp::Ordering {
    (a.profile(), a.created_at(), a.local_id()).cmp(&(b.profile(), b.created_at(), b.local_id()))
}

/// [`queue_positions`] kept up to date one change at a time: the unfinished tasks (indices
/// into the caller's task list) in queue order, so a task's place is a binary search and a
/// change an insert or removal, instead of a pass over every task.
#[derive(Debug, Clone, Default)]
pub(crate) struct QueueIndex {
    order: Vec<usize>,
    running: usize,
}

impl QueueIndex {
    /// The index of every task in `tasks`.
    pub(crate) fn build<T: TaskFacts>(tasks: &[T]) -> QueueIndex {
        let mut order: Vec<usize> = (0..tasks.len()).filter(|&i| in_queue(&tasks[i])).collect();
        order.sort_by(|&a, &b| queue_cmp(&tasks[a], &tasks[b]));
        let running = tasks
            .iter()
            .filter(|t| t.phase() == &Phase::Remote(TaskStatus::Running))
            .count();
        QueueIndex { order, running }
    }

    /// Where task `i` is or would go.
    fn search<T: TaskFacts>(&self, tasks: &[T], i: usize) -> Result<usize, usize> {
        self.order
            .binary_search_by(|&x| queue_cmp(&tasks[x], &tasks[i]))
    }

    /// Take out task `i` while `tasks[i]` is still the row that was added.
    pub(crate) fn remove<T: TaskFacts>(&mut self, tasks: &[T], i: usize) {
        let t = &tasks[i];
        if t.phase() == &Phase::Remote(TaskStatus::Running) {
            self.running = self.running.saturating_sub(1);
        }
        if !in_queue(t) {
            return;
        }
        match self.search(tasks, i) {
            Ok(p) if self.order[p] == i => {
                self.order.remove(p);
            }
            _ => self.order.retain(|&x| x != i),
        }
    }

    /// Add task `i` (`tasks[i]` is its new row).
    pub(crate) fn insert<T: TaskFacts>(&mut self, tasks: &[T], i: usize) {
        let t = &tasks[i];
        if t.phase() == &Phase::Remote(TaskStatus::Running) {
            self.running += 1;
        }
        if in_queue(t)
            && let Err(p) = self.search(tasks, i)
        {
            self.order.insert(p, i);
        }
    }

    /// How many tasks run now.
    pub(crate) fn running(&self) -> usize {
        self.running
    }

    /// Task `i`'s place, when it is queued: the unfinished tasks of its profile created before
    /// it, and how many run now.
    pub(crate) fn place<T: TaskFacts>(&self, tasks: &[T], i: usize) -> Option<QueuePlace> {
        let t = tasks.get(i)?;
        if t.phase() != &Phase::Remote(TaskStatus::Queued) {
            return None;
        }
        let at = self.search(tasks, i).ok()?;
        let first = self
            .order
            .partition_point(|&x| tasks[x].profile() < t.profile());
        Some(QueuePlace {
            ahead: at - first,
            running: self.running,
        })
    }
}

/// The table's text for an estimate: `~40s`, `~5m`, or `late`.
pub(crate) fn label(e: &Estimate) -> String {
    if e.overdue {
        return "late".into();
    }
    let s = e.remaining.max(0);
    match s {
        0..=99 => format!("~{s}s"),
        100..=5999 => format!("~{}m", (s + 30) / 60),
        _ => format!("~{}h", (s + 1800) / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::TaskRecord;

    impl EtaModel {
        /// Seconds to wait before the next poll of `r`, `age` seconds after its creation.
        fn next_poll(&mut self, r: &impl TaskFacts, age: f64, t: &PollTargets) -> f64 {
            self.plan(r, t).next_gap(age, t)
        }

        /// See [`Plan::finish_rate`].
        fn finish_rate(&mut self, r: &impl TaskFacts, age: f64, t: &PollTargets) -> Option<f64> {
            self.plan(r, t).finish_rate(age, t)
        }
    }

    fn rec(phase: &str, created: i64, started: Option<i64>, finished: Option<i64>) -> TaskRecord {
        TaskRecord {
            task_id: Some("cgt".into()),
            started_at: started,
            finished_at: finished,
            ..TaskRecord::factory(&format!("l{created}-{phase}"), Phase::parse(phase), created)
        }
    }

    fn model(totals: &[(i64, i64)]) -> EtaModel {
        let mut m = EtaModel::default();
        for (i, (queue, run)) in totals.iter().enumerate() {
            let c = 1000 * i as i64;
            assert!(m.learn(&rec("succeeded", c, Some(c + queue), Some(c + queue + run))));
        }
        m
    }

    const TARGETS: PollTargets = PollTargets {
        delay: 5.0,
        min_gap: 2.5,
        sparse: 60.0,
    };

    /// The ages at which a task of `m`'s kind finishing at `finish` is polled, to the poll
    /// that sees it.
    fn polls(m: &mut EtaModel, r: &TaskRecord, finish: f64, t: &PollTargets) -> Vec<f64> {
        let mut at = 0.0;
        let mut out = Vec::new();
        while at < finish {
            at += m.next_poll(r, at, t);
            out.push(at);
            assert!(out.len() < 1000, "never sees it: {out:?}");
        }
        out
    }

    #[test]
    fn nothing_known_means_no_estimate_and_the_table_s_typical_durations() {
        let mut m = EtaModel::default();
        let q = rec("queued", 0, None, None);
        assert!(m.estimate(&q, 10).is_none());
        // Failed tasks teach nothing.
        assert!(!m.learn(&rec("failed", 0, Some(1), Some(5))));
        assert_eq!(m.learned(), 0);
        // A fresh store waits for the typical window (60-300 s), checking every `sparse`.
        let (lo, _) = crate::api::models::table().typical_secs();
        let first = m.next_poll(&q, 0.0, &TARGETS);
        assert!(first >= TARGETS.sparse.min(lo) - 1.0, "{first}");
        let seen = polls(&mut m, &q, 200.0, &TARGETS);
        assert!(
            seen.len() < 200 / 10,
            "fewer polls than every 10 s: {seen:?}"
        );
    }

    #[test]
    fn tasks_are_measured_from_creation_against_total_times() {
        let m = model(&[(20, 100), (20, 100), (20, 100), (20, 100)]);
        let q = rec("queued", 0, None, None);
        let e = m.estimate(&q, 60).expect("estimate");
        assert_eq!(e.remaining, 60);
        assert!((e.progress - 0.5).abs() < 1e-9, "{e:?}");
        assert_eq!(label(&e), "~60s");
        // Running (first seen running late): still measured from creation.
        let r = rec("running", 0, Some(50), None);
        assert_eq!(m.estimate(&r, 90).expect("estimate").remaining, 30);
        assert!(m.estimate(&rec("succeeded", 0, None, Some(5)), 9).is_none());
    }

    #[test]
    fn polls_are_sparse_early_dense_in_the_window_and_gentle_when_overdue() {
        // Totals spread from 100 to 190 s.
        let mut m = model(&(0..10).map(|i| (0, 100 + 10 * i)).collect::<Vec<_>>());
        let q = rec("queued", 0, None, None);
        // Before the window (no finish before ~95 s): no more polls than the sparse check asks.
        let seen = polls(&mut m, &q, 95.0, &TARGETS);
        assert!(seen.len() <= 2, "a young task is asked rarely: {seen:?}");
        let near = m.next_poll(&q, 150.0, &TARGETS);
        assert!(near <= 15.0, "dense inside the window: {near}");
        assert!(near >= TARGETS.min_gap);
        let e = m.estimate(&q, 500).expect("estimate");
        assert!(e.overdue && label(&e) == "late");
        let late = m.next_poll(&q, 500.0, &TARGETS);
        let later = m.next_poll(&q, 900.0, &TARGETS);
        assert!(late <= later && later <= TARGETS.sparse, "{late} {later}");
        // Before the window no finish is expected; inside it, one is.
        assert_eq!(m.finish_rate(&q, 10.0, &TARGETS), None);
        assert!(m.finish_rate(&q, 150.0, &TARGETS).is_some_and(|r| r > 0.0));
    }

    #[test]
    fn the_plan_meets_its_delay_with_far_fewer_polls_than_a_fixed_loop() {
        // Finishes spread evenly over 100..=190 s; a fixed 10 s loop needs ~15.5 polls a task
        // for a mean delay of 5 s.
        let mut m = model(
            &(0..40)
                .map(|i| (0, 100 + (90 * i) / 39))
                .collect::<Vec<_>>(),
        );
        let q = rec("queued", 0, None, None);
        let (mut count, mut delay) = (0usize, 0.0);
        let finishes: Vec<f64> = (0..90).map(|i| 100.5 + f64::from(i)).collect();
        for &f in &finishes {
            let seen = polls(&mut m, &q, f, &TARGETS);
            count += seen.len();
            delay += seen.last().expect("seen") - f;
        }
        let n = finishes.len() as f64;
        let (per_task, mean_delay) = (count as f64 / n, delay / n);
        assert!(mean_delay <= TARGETS.delay * 1.2, "{mean_delay}");
        // Judged on the remembered finishes too, the plan keeps its delay on finishes like them.
        assert!(mean_delay <= TARGETS.delay * 1.05, "{mean_delay}");
        assert!(per_task < 9.0, "{per_task} polls a task");
    }

    #[test]
    fn an_early_failure_is_seen_within_the_sparse_interval() {
        let mut m = model(&(0..10).map(|i| (0, 600 + 10 * i)).collect::<Vec<_>>());
        let q = rec("queued", 0, None, None);
        let mut at = 0.0;
        while at < 600.0 {
            let gap = m.next_poll(&q, at, &TARGETS);
            assert!(gap <= TARGETS.sparse, "{gap} at {at}");
            at += gap;
        }
    }

    #[test]
    fn a_task_deep_in_the_queue_is_not_late() {
        // Tasks take 100 s; 5 run at once; 50 are ahead of this one.
        let m = model(&[(20, 80), (20, 80), (20, 80), (20, 80)]);
        let q = rec("queued", 0, None, None);
        let alone = m.estimate(&q, 120).expect("estimate");
        assert!(alone.overdue, "without the queue it looks late");
        let place = QueuePlace {
            ahead: 50,
            running: 5,
        };
        let e = m.estimate_in_queue(&q, 120, Some(place)).expect("estimate");
        assert!(!e.overdue, "{e:?}");
        assert_eq!(e.remaining, 100 * 11 - 120);
        assert_ne!(label(&e), "late");
        // First in line: the plain estimate.
        let first = QueuePlace {
            ahead: 0,
            running: 5,
        };
        assert_eq!(m.estimate_in_queue(&q, 60, Some(first)), m.estimate(&q, 60));
    }

    #[test]
    fn the_account_s_throughput_sets_the_wait_behind_the_tasks_ahead() {
        // Tasks take 100 s (queueing as it was included); 150 are ahead of this one.
        let mut m = model(&[(20, 80), (20, 80), (20, 80), (20, 80)]);
        let q = rec("queued", 0, None, None);
        let place = QueuePlace {
            ahead: 150,
            running: 5,
        };
        assert_eq!(m.throughput(120.0), None, "no finish seen yet");
        // Ten finishes one second apart, the last just now: one task a second.
        for i in 0..10 {
            m.saw_finish(111.0 + f64::from(i));
        }
        let rate = m.throughput(120.0).expect("known");
        assert!((rate - 1.0).abs() < 1e-9, "{rate}");
        // The 150 ahead take 150 s; the history's 100 s held 100 of them: 50 s more.
        assert_eq!(m.queue_wait(&q, 150, 120.0), Some(50.0));
        let e = m.estimate_in_queue(&q, 120, Some(place)).expect("estimate");
        assert_eq!(e.remaining, 100 + 50 - 120);
        // A minute without a finish since: the throughput drops, the wait grows.
        let later = m.queue_wait(&q, 150, 180.0).expect("known");
        assert!(later > 50.0, "{later}");
        // No more ahead than the history's queueing held: no wait, the plain estimate.
        assert_eq!(m.queue_wait(&q, 80, 120.0), None);
        let near = QueuePlace {
            ahead: 80,
            running: 5,
        };
        assert_eq!(m.estimate_in_queue(&q, 60, Some(near)), m.estimate(&q, 60));
    }

    #[test]
    fn queue_places_count_older_unfinished_tasks_of_the_profile() {
        let tasks = vec![
            rec("running", 0, Some(1), None),
            rec("queued", 10, None, None),
            rec("succeeded", 5, Some(6), Some(9)),
            rec("queued", 20, None, None),
        ];
        let (ahead, running) = queue_positions(&tasks);
        assert_eq!(running, 1);
        assert_eq!(ahead.get("l10-queued"), Some(&1));
        assert_eq!(ahead.get("l20-queued"), Some(&2));
        assert_eq!(ahead.len(), 2);
    }

    /// A small seeded generator for the simulator-like timings below.
    struct Lcg(u64);

    impl Lcg {
        fn unit(&mut self) -> f64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }

        /// A queue of 5-90 s and a run of 60-200 s, as the simulator draws them.
        fn task(&mut self) -> (f64, f64) {
            (5.0 + 85.0 * self.unit(), 60.0 + 140.0 * self.unit())
        }
    }

    #[test]
    fn by_id_the_plans_cost_about_half_the_seed_loop_at_its_delay() {
        // What the relay mode's plans give with no request budget: the total times' plan until
        // an answer says the task runs (a task still queued waits the shortest run), then the
        // run times' plan from the run's start. The seed's loop asks every 15 s: a mean delay
        // of 7.5 s.
        let t = PollTargets {
            delay: 6.0,
            min_gap: 2.5,
            sparse: 60.0,
        };
        let mut rng = Lcg(7);
        let mut m = EtaModel::default();
        for k in 0..40 {
            let (q, r) = rng.task();
            let c = 1000 * k;
            let done = rec("succeeded", c, Some(c + q as i64), Some(c + (q + r) as i64));
            let server = ServerTimes {
                created: c,
                run_start: Some(c + q as i64),
            };
            assert!(m.learn_observed(&done, q + r, server, c + (q + r) as i64));
        }
        let kind = rec("queued", 0, None, None);
        let total = m.plan(&kind, &t);
        let run = m.run_kind_plan(&kind, &t).expect("runs known");
        let (mut polls, mut delay, mut fixed) = (0usize, 0.0, 0usize);
        let n = 1000;
        for _ in 0..n {
            let (q, r) = rng.task();
            fixed += ((q + r) / 15.0).ceil() as usize + 1;
            let mut at = total.next_gap(0.0, &t);
            loop {
                polls += 1;
                if at >= q + r {
                    delay += at - (q + r);
                    break;
                }
                at += if at < q {
                    let gap = total.next_gap(at, &t);
                    if run.start() > gap {
                        run.start().min(t.sparse)
                    } else {
                        gap
                    }
                } else {
                    run.next_gap(at - q, &t)
                };
            }
        }
        let (share, mean) = (polls as f64 / fixed as f64, delay / f64::from(n));
        // Measured: 0.55x at 6.4 s; a target of 7 s gives about 0.5x at the seed loop's
        // 7.5 s (docs/performance.md).
        assert!(mean <= t.delay * 1.1, "{mean}");
        assert!(share < 0.6, "{share}");
        eprintln!("plans: {share:.2}x of the seed loop's polls at a mean delay of {mean:.2} s");
    }

    #[test]
    fn a_fresh_store_reads_the_server_s_clock_rate_before_any_finish() {
        let mut m = EtaModel::default();
        let q = rec("queued", 0, None, None);
        let (lo, _) = crate::api::models::table().typical_secs();
        let slow = m.plan(&q, &TARGETS).start();
        assert!(slow >= lo * 0.6, "the table's typical window: {slow}");
        let version = m.version();
        // A simulator at 10x: one task seen running 6 s after its creation had started 55
        // server seconds in; another, queued at 6 s and running at 12 s, started 62 s in.
        m.saw_server_time(55.0, 0.0, 6.0);
        assert_eq!(m.early_clock_rate(), None, "one bound is not a rate");
        m.saw_server_time(62.0, 6.0, 12.0);
        let rate = m.early_clock_rate().expect("bounded both ways");
        assert!((rate - 10.0).abs() < 1.0, "{rate}");
        assert_ne!(m.version(), version, "plans made before are stale");
        let fast = m.plan(&q, &TARGETS).start();
        assert!(
            (fast - slow / rate).abs() < 2.0,
            "the typical window on our clock: {fast} (was {slow})"
        );
        // A real service: events a little off ours read as the same clock.
        let mut real = EtaModel::default();
        real.saw_server_time(50.0, 0.0, 55.0);
        real.saw_server_time(70.0, 60.0, 75.0);
        assert_eq!(real.early_clock_rate(), Some(1.0));
        // Five finishes compared win over the bounds.
        for i in 0..5 {
            let c = 1000 * i;
            let done = rec("succeeded", c, Some(c + 10), Some(c + 100));
            let server = ServerTimes {
                created: c,
                run_start: Some(c + 10),
            };
            assert!(m.learn_observed(&done, 50.0, server, c + 100));
        }
        assert_eq!(m.early_clock_rate(), Some(2.0));
    }

    #[test]
    fn after_a_batch_larger_than_the_keep_the_newest_created_are_kept_not_the_slowest() {
        // 200 tasks sent a second apart, taking 100-299 s in no order, learned as they finish.
        let took = |i: i64| 100 + (i * 53) % 200;
        let mut order: Vec<i64> = (0..200).collect();
        order.sort_by_key(|i| 1000 + i + took(*i));
        let mut m = EtaModel::default();
        for i in order {
            let c = 1000 + i;
            assert!(m.learn(&rec("succeeded", c, Some(c), Some(c + took(i)))));
        }
        let mut kept: Vec<i64> = m.all.total.iter().map(|v| *v as i64).collect();
        kept.sort_unstable();
        let mut newest: Vec<i64> = (200 - KEEP as i64..200).map(took).collect();
        newest.sort_unstable();
        // (Dropping the earliest learned kept the last 64 to finish: mostly the slowest.)
        assert_eq!(kept, newest);
        assert!(kept[0] < 150, "{kept:?}");
    }

    #[test]
    fn narrow_buckets_win_when_they_have_enough_samples() {
        let mut m = model(&[(0, 100), (0, 100), (0, 100)]);
        let mut long = rec("succeeded", 0, Some(0), Some(400));
        long.request_json =
            r#"{"model":"m","content":[],"resolution":"1080p","duration":10}"#.into();
        for _ in 0..3 {
            m.learn(&long);
        }
        let mut q = rec("queued", 0, None, None);
        assert_eq!(m.estimate(&q, 0).expect("e").remaining, 100);
        q.request_json = long.request_json.clone();
        assert_eq!(m.estimate(&q, 0).expect("e").remaining, 400);
        // An unseen combination falls back to the model (all six samples).
        q.request_json = r#"{"model":"m","content":[],"resolution":"480p"}"#.into();
        let mid = m.estimate(&q, 0).expect("e").remaining;
        assert!((100..=400).contains(&mid), "{mid}");
    }
}
