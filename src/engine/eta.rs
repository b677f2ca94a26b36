//! ETA from history: how long tasks took, learned from finished tasks in the store, per
//! (model, resolution, duration), falling back to the model and then to every task. Pure: times
//! come in as arguments.
//!
//! A task is measured from its creation against the total times (queue + run) of its kind: the
//! creation time is exact, while the start of a run is only known as when a poll first saw it
//! running. The samples still possible at the task's age
//! (longer than it has already taken) give its remaining time (their median), its progress, and
//! when to poll next: a low quantile of the remaining time, so polls are sparse while the task is
//! young and dense where finishes are likely.

use crate::api::TaskStatus;
use crate::store::{Phase, TaskFacts};
use std::collections::{HashMap, VecDeque};

/// Samples kept per bucket (the newest win).
const KEEP: usize = 64;
/// Fewer samples than this in a bucket: use a wider one.
const MIN_SAMPLES: usize = 3;
/// Once finishes are plausible, the quantile of the remaining time to wait before the next poll.
const NEXT_POLL_QUANTILE: f64 = 0.15;

#[derive(Debug, Clone, Default)]
struct Samples {
    /// Seconds from creation to finish.
    total: VecDeque<u32>,
}

fn push(q: &mut VecDeque<u32>, v: u32, older: bool) {
    if older {
        // History older than everything kept: only fills free room.
        if q.len() < KEEP {
            q.push_front(v);
        }
    } else {
        q.push_back(v);
        if q.len() > KEEP {
            q.pop_front();
        }
    }
}

impl Samples {
    fn push(&mut self, total: u32, older: bool) {
        push(&mut self.total, total, older);
    }
}

type Key = (String, String, i64);

/// What the history says about one unfinished task.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// Seconds until the likely finish (the median of what history still allows); 0 if overdue.
    pub remaining: i64,
    /// 0.0..=1.0 of the expected time from creation to finish.
    pub progress: f64,
    /// It has already taken longer than every remembered task of its kind.
    pub overdue: bool,
    /// Seconds to wait before the next poll, before clamping to the poller's limits.
    pub next_poll: f64,
    /// Some remembered task of this kind finished at this age already: a finish is plausible
    /// any moment now.
    pub finish_plausible: bool,
}

/// Learned durations.
#[derive(Debug, Clone, Default)]
pub struct EtaModel {
    by_key: HashMap<Key, Samples>,
    by_model: HashMap<String, Samples>,
    all: Samples,
    learned: usize,
}

fn key_of(r: &impl TaskFacts) -> Key {
    let spec = r.spec();
    let resolution = spec.resolution.as_deref().unwrap_or_default().to_string();
    (
        r.model().to_string(),
        resolution,
        spec.duration.unwrap_or(0),
    )
}

/// The `q` quantile of a sorted, non-empty slice, interpolated.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = (sorted.len() - 1) as f64 * q.clamp(0.0, 1.0);
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

impl EtaModel {
    /// How many finished tasks it has learned from.
    pub fn learned(&self) -> usize {
        self.learned
    }

    /// Learn from a task that succeeded (failures end early and would skew the estimate).
    /// Returns false when the record teaches nothing.
    pub fn learn(&mut self, r: &impl TaskFacts) -> bool {
        self.add(r, false)
    }

    /// Learn from a task older than everything learned so far (loading history newest first):
    /// it only fills buckets that have room.
    pub fn learn_older(&mut self, r: &impl TaskFacts) -> bool {
        self.add(r, true)
    }

    fn add(&mut self, r: &impl TaskFacts, older: bool) -> bool {
        if !matches!(*r.phase(), Phase::Remote(TaskStatus::Succeeded)) {
            return false;
        }
        let Some(finished) = r.finished_at() else {
            return false;
        };
        let secs = |from: i64| u32::try_from(finished - from).ok();
        let Some(total) = secs(r.created_at()) else {
            return false;
        };
        let key = key_of(r);
        self.by_model
            .entry(key.0.clone())
            .or_default()
            .push(total, older);
        self.by_key.entry(key).or_default().push(total, older);
        self.all.push(total, older);
        self.learned += 1;
        true
    }

    /// The narrowest bucket with enough samples.
    fn bucket(&self, r: &impl TaskFacts) -> Option<&Samples> {
        let enough = |s: &&Samples| s.total.len() >= MIN_SAMPLES;
        let key = key_of(r);
        self.by_key
            .get(&key)
            .filter(enough)
            .or_else(|| self.by_model.get(&key.0).filter(enough))
            .or_else(|| Some(&self.all).filter(enough))
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
        let (samples, since) = (&self.bucket(r)?.total, r.created_at());
        let elapsed = (now - since).max(0) as f64;
        let mut left: Vec<f64> = samples
            .iter()
            .map(|s| *s as f64 - elapsed)
            .filter(|l| *l > 0.0)
            .collect();
        let age = (now - r.created_at()).max(0) as f64;
        if left.is_empty() {
            return Some(Estimate {
                remaining: 0,
                progress: 1.0,
                overdue: true,
                next_poll: f64::INFINITY,
                finish_plausible: true,
            });
        }
        left.sort_by(f64::total_cmp);
        let median = quantile(&left, 0.5);
        let finish_plausible = left.len() < samples.len();
        Some(Estimate {
            remaining: median.round() as i64,
            progress: (age / (age + median)).clamp(0.0, 1.0),
            overdue: false,
            // Before any remembered finish: wait for the earliest one. After: poll often
            // enough to catch the next slice of likely finishes.
            next_poll: if finish_plausible {
                quantile(&left, NEXT_POLL_QUANTILE)
            } else {
                left[0]
            },
            finish_plausible,
        })
    }

    /// Seconds until the next poll of `r`: the history's suggestion clamped to
    /// `[dense, 6 × interval]` while no finish is plausible yet and to `[dense, interval]` once
    /// one is (never sparser than the plain interval where it matters), or `interval` when
    /// history knows nothing or the task is overdue.
    pub fn next_poll_secs(&self, r: &impl TaskFacts, now: i64, interval: f64, dense: f64) -> f64 {
        let dense = dense.clamp(0.05, interval.max(0.05));
        match self.estimate(r, now) {
            Some(e) if e.overdue => interval,
            Some(e) if e.finish_plausible => e.next_poll.clamp(dense, interval.max(dense)),
            Some(e) => e.next_poll.clamp(dense, (6.0 * interval).max(dense)),
            None => interval,
        }
    }
}

/// A queued task's place in the account's queue: unfinished tasks created before it, and how
/// many run at once now (the service works through the queue that many at a time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueuePlace {
    pub ahead: usize,
    pub running: usize,
}

impl EtaModel {
    /// [`EtaModel::estimate`] for a task waiting behind others: the history's times stretched
    /// by the waves of tasks ahead of it (`ahead / running` more runs of a typical task), so a
    /// task queued behind 50 others is not "late" after a minute.
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
        let waves = p.ahead as f64 / p.running.max(1) as f64;
        let factor = 1.0 + waves;
        let age = (now - r.created_at()).max(0) as f64;
        let mut left: Vec<f64> = samples
            .iter()
            .map(|s| *s as f64 * factor - age)
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
pub fn queue_positions<T: TaskFacts>(tasks: &[T]) -> (HashMap<String, usize>, usize) {
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
pub struct QueueIndex {
    order: Vec<usize>,
    running: usize,
}

impl QueueIndex {
    /// The index of every task in `tasks`.
    pub fn build<T: TaskFacts>(tasks: &[T]) -> QueueIndex {
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
    pub fn remove<T: TaskFacts>(&mut self, tasks: &[T], i: usize) {
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
    pub fn insert<T: TaskFacts>(&mut self, tasks: &[T], i: usize) {
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
    pub fn running(&self) -> usize {
        self.running
    }

    /// Task `i`'s place, when it is queued: the unfinished tasks of its profile created before
    /// it, and how many run now.
    pub fn place<T: TaskFacts>(&self, tasks: &[T], i: usize) -> Option<QueuePlace> {
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

/// Finished tasks a dashboard learns from when it loads the store (the newest come first).
pub const LOAD_LIMIT: usize = 2000;

/// Learn from `new` when it just finished (its previous version `old` had not), or when it
/// arrives already finished (a load, newest first) and the model still wants history.
pub fn learn_on_change<T: TaskFacts>(model: &mut EtaModel, old: Option<&T>, new: &T) {
    if new.finished_at().is_none() {
        return;
    }
    match old {
        Some(o) if o.finished_at().is_none() => {
            model.learn(new);
        }
        None if model.learned() < LOAD_LIMIT => {
            model.learn_older(new);
        }
        _ => {}
    }
}

/// The table's text for an estimate: `~40s`, `~5m`, or `late`.
pub fn label(e: &Estimate) -> String {
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

    #[test]
    fn nothing_known_means_no_estimate_and_the_plain_interval() {
        let m = EtaModel::default();
        let q = rec("queued", 0, None, None);
        assert!(m.estimate(&q, 10).is_none());
        assert_eq!(m.next_poll_secs(&q, 10, 10.0, 2.5), 10.0);
        // Failed tasks teach nothing.
        let mut m = EtaModel::default();
        assert!(!m.learn(&rec("failed", 0, Some(1), Some(5))));
        assert_eq!(m.learned(), 0);
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
    fn polls_are_sparse_early_dense_near_the_finish_and_plain_when_overdue() {
        // Totals spread from 100 to 190 s.
        let m = model(&(0..10).map(|i| (0, 100 + 10 * i)).collect::<Vec<_>>());
        let q = rec("queued", 0, None, None);
        let (interval, dense) = (10.0, 2.5);
        let early = m.next_poll_secs(&q, 0, interval, dense);
        assert!(early >= 60.0, "young task waits long: {early}");
        let near = m.next_poll_secs(&q, 175, interval, dense);
        assert!(near < interval, "dense near the likely finish: {near}");
        assert!(near >= dense);
        let e = m.estimate(&q, 500).expect("estimate");
        assert!(e.overdue && label(&e) == "late");
        assert_eq!(m.next_poll_secs(&q, 500, interval, dense), interval);
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
