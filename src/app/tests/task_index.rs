//! The table's sorted, filtered index kept up to date incrementally (a changed task moves by
//! binary search, a narrowing filter keystroke filters the rows shown) must always equal the
//! index rebuilt from scratch.

use crate::api::TaskStatus;
use crate::app::state::SortKey;
use crate::app::test_support::{NOW, record, state};
use crate::app::{Msg, State, update};
use crate::config::{BudgetConfig, Price, PricingConfig};
use crate::engine::budget::{self, SpendingCap};
use crate::engine::eta::{self, QueuePlace};
use crate::store::{Phase, Spec, TaskRow};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

const PHASES: [Phase; 5] = [
    Phase::Remote(TaskStatus::Queued),
    Phase::Remote(TaskStatus::Running),
    Phase::Remote(TaskStatus::Succeeded),
    Phase::Remote(TaskStatus::Failed),
    Phase::Submitting,
];

fn many(n: usize) -> Vec<TaskRow> {
    (0..n)
        .map(|i| {
            let model = if i % 3 == 0 {
                "doubao-seedance-2-0-fast-260128"
            } else {
                "doubao-seedance-2-0-260128"
            };
            let mut r = record(
                i,
                PHASES[i % 5].clone(),
                &format!("scene {i} by the sea"),
                model,
            );
            // Ties on the sort keys, so the tie-breakers are exercised.
            r.created_at = NOW - (i as i64 % 40) * 60;
            r.updated_at = NOW - (i as i64 % 7) * 60;
            TaskRow::from(r)
        })
        .collect()
}

/// Each task's place in the account's queue as the state answers it.
fn queue_places(s: &State) -> Vec<Option<QueuePlace>> {
    s.tasks.iter().map(|t| s.queue_place(t)).collect()
}

/// The order, counts, tokens, queue places and today's spend, as the incremental path left
/// them and as a rebuild makes them.
fn assert_same_as_rebuilt(s: &mut State, what: &str) {
    let (order, counts, tokens) = (s.order.clone(), s.counts.clone(), s.tokens_today);
    let (places, running, spent) = (queue_places(s), s.running_now, s.spent_today);
    let selected = s.selected.clone();
    s.recompute();
    assert_eq!(order, s.order, "order after {what}");
    assert_eq!(counts, s.counts, "counts after {what}");
    assert_eq!(tokens, s.tokens_today, "tokens after {what}");
    assert_eq!(places, queue_places(s), "queue places after {what}");
    assert_eq!(running, s.running_now, "running after {what}");
    assert_eq!(spent, s.spent_today, "spend after {what}");
    assert_eq!(selected, s.selected, "selection after {what}");
}

/// The queue places, running count and spend counted the plain way, every task once, against
/// what the state kept up to date change by change.
fn assert_same_as_counted(s: &State, what: &str) {
    let (ahead, running) = eta::queue_positions(&s.tasks);
    for t in &s.tasks {
        let want = ahead
            .get(&*t.local_id)
            .map(|&ahead| QueuePlace { ahead, running });
        assert_eq!(s.queue_place(t), want, "{} after {what}", t.local_id);
    }
    assert_eq!(s.running_now, running, "running after {what}");
    // Tokens summed task by task, money priced task by task (so only rounding may differ).
    let today: Vec<&TaskRow> = s
        .tasks
        .iter()
        .filter(|t| t.created_at >= s.today_start)
        .collect();
    let tokens: u64 = today.iter().map(|t| budget::counted_tokens(*t)).sum();
    assert_eq!(s.spent_today.tokens, tokens, "tokens spent after {what}");
    let money: f64 = today
        .iter()
        .filter_map(|t| {
            s.cap
                .money(&budget::PriceKey::of_task(*t), budget::counted_tokens(*t))
        })
        .sum();
    let got = s.spent_today.money.expect("every model has a price");
    assert!(
        (got - money).abs() <= 1e-9 * money.max(1.0),
        "money spent after {what}: {got} vs {money}"
    );
    assert_eq!(
        s.spent_today,
        budget::spend_of_tasks(&s.cap, &s.tasks, s.today_start),
        "spend after {what}"
    );
}

/// A seeded source (splitmix64), so a failure repeats.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn queue_places_and_todays_spend_kept_change_by_change_equal_a_full_count() {
    let models = [
        "doubao-seedance-2-0-fast-260128",
        "doubao-seedance-2-0-260128",
        "m",
    ];
    let phases = [
        Phase::Remote(TaskStatus::Queued),
        Phase::Remote(TaskStatus::Queued),
        Phase::Remote(TaskStatus::Running),
        Phase::Remote(TaskStatus::Succeeded),
        Phase::Remote(TaskStatus::Failed),
        Phase::Remote(TaskStatus::Cancelled),
        Phase::Submitting,
        Phase::SubmitUnknown,
        Phase::Pending,
        Phase::Rejected,
    ];
    for seed in 1..=4u64 {
        let mut rng = Rng(seed);
        let mut s = state(160, 48);
        s.cap = SpendingCap {
            budget: BudgetConfig {
                daily_tokens: Some(u64::MAX / 2),
                daily_money: None,
            },
            pricing: PricingConfig {
                per_million_tokens: Some(Price::Flat(10.0)),
                models: [("m".to_string(), Price::Flat(3.7))].into(),
                currency: "¥".into(),
            },
        };
        let mut tasks = many(300);
        for (i, t) in tasks.iter_mut().enumerate() {
            t.profile = ["a", "b"][i % 2].into();
        }
        update(&mut s, Msg::TasksLoaded(tasks));
        assert_same_as_counted(&s, &format!("seed {seed}: the load"));
        for step in 0..150 {
            let mut rows = Vec::new();
            for _ in 0..1 + rng.below(3) {
                let pick = rng.below(s.tasks.len());
                let mut t = s.tasks[pick].clone();
                t.phase = phases[rng.below(phases.len())].clone();
                t.tokens = (rng.below(3) == 0).then(|| rng.next() % 500_000);
                t.model = models[rng.below(models.len())].into();
                // Around the day's start, and ties on the creation time.
                t.created_at = s.today_start + (rng.below(7) as i64 - 3) * 600;
                t.profile = ["a", "b", "c"][rng.below(3)].into();
                rows.push(t);
            }
            if rng.below(5) == 0 {
                let n = 1000 + step + 10_000 * seed as usize;
                let phase = phases[rng.below(phases.len())].clone();
                let mut t = record(n, phase, "new", models[rng.below(models.len())]);
                t.profile = "a".into();
                rows.push(t.into());
            }
            update(&mut s, Msg::TasksChanged(rows));
            let what = format!("seed {seed}, step {step}");
            assert_same_as_counted(&s, &what);
            if step % 25 == 0 {
                assert_same_as_rebuilt(&mut s, &what);
            }
        }
    }
}

fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

#[test]
fn a_changed_task_moves_to_the_place_a_full_sort_gives_it() {
    let mut s = state(160, 48);
    update(&mut s, Msg::TasksLoaded(many(400)));
    let mut n = 0usize;
    for sort in SortKey::ALL {
        for desc in [true, false] {
            s.sort = sort;
            s.sort_desc = desc;
            s.recompute();
            for quick in [None, Some(2)] {
                s.quick = quick;
                s.recompute();
                for step in 0..12 {
                    n += 1;
                    let pick = (n * 37) % 400;
                    let mut a = s.task(&format!("l{pick:04}")).expect("task").clone();
                    a.phase = PHASES[(n + step) % 5].clone();
                    a.tokens = Some((n as u64 * 7919) % 5 * 1000);
                    a.updated_at = NOW - (n as i64 % 9) * 60;
                    a.finished_at = Some(NOW - (n as i64 % 3) * 3600 * 10);
                    // The request asks for 12 s where it asked for 5.
                    let request = record(pick, Phase::Pending, "", &a.model).request_json;
                    a.spec = Spec::of_json(&request.replace("\"duration\":5", "\"duration\":12"))
                        .shared();
                    let mut rows = vec![a];
                    if step % 4 == 0 {
                        // And a new task, which is inserted in its place.
                        rows.push(record(1000 + n, PHASES[n % 5].clone(), "new", "m").into());
                    }
                    update(&mut s, Msg::TasksChanged(rows));
                    assert_same_as_rebuilt(&mut s, &format!("{sort:?} desc={desc} {quick:?}"));
                }
            }
        }
    }
}

#[test]
fn a_keystroke_that_extends_the_filter_narrows_the_rows_shown() {
    let mut s = state(160, 48);
    update(&mut s, Msg::TasksLoaded(many(300)));
    update(&mut s, key('/'));
    // Each prefix: narrowing where it can, a rebuild where a term widens (a second status).
    for c in "scene 1 status:q status:r model:fast".chars() {
        update(&mut s, key(c));
        let shown = s.order.len();
        let what = format!("typing {:?}", s.filter.text);
        assert_same_as_rebuilt(&mut s, &what);
        assert_eq!(shown, s.order.len());
    }
    assert!(
        !s.order.is_empty(),
        "the query still matches some tasks: {:?}",
        s.filter.text
    );
    for &i in &s.order {
        let t = &s.tasks[i];
        assert!(
            t.prompt.contains("scene") && t.model.contains("fast"),
            "{t:?}"
        );
        assert!(matches!(t.phase.as_str(), "queued" | "running"), "{t:?}");
    }
}

#[test]
fn the_rest_of_the_store_behind_the_first_page_adds_only_rows_not_yet_shown() {
    let mut s = state(160, 48);
    let all = many(300);
    update(&mut s, Msg::TasksLoaded(all[..100].to_vec()));
    // The store watcher delivered a newer version of a row of the first page meanwhile.
    let mut newer = all[5].clone();
    newer.tokens = Some(777);
    update(&mut s, Msg::TasksChanged(vec![newer]));
    assert_eq!(s.tasks.len(), 100);
    update(&mut s, Msg::MoreTasksLoaded(all.clone()));
    assert_eq!(s.tasks.len(), 300, "every row of the store is in");
    assert_eq!(
        s.task(&all[5].local_id).and_then(|t| t.tokens),
        Some(777),
        "the watcher's newer row is kept"
    );
    assert_same_as_rebuilt(&mut s, "the rest loaded");
}
