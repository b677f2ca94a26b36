//! The table's sorted, filtered index kept up to date incrementally (a changed task moves by
//! binary search, a narrowing filter keystroke filters the rows shown) must always equal the
//! index rebuilt from scratch.

use crate::support::fixtures::{NOW, record, state};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use seedance_tui::api::TaskStatus;
use seedance_tui::app::state::SortKey;
use seedance_tui::app::{Msg, State, update};
use seedance_tui::store::{Phase, TaskRecord};

const PHASES: [Phase; 5] = [
    Phase::Remote(TaskStatus::Queued),
    Phase::Remote(TaskStatus::Running),
    Phase::Remote(TaskStatus::Succeeded),
    Phase::Remote(TaskStatus::Failed),
    Phase::Submitting,
];

fn many(n: usize) -> Vec<TaskRecord> {
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
            r
        })
        .collect()
}

/// The order, counts and tokens, as the incremental path left them and as a rebuild makes them.
fn assert_same_as_rebuilt(s: &mut State, what: &str) {
    let (order, counts, tokens) = (s.order.clone(), s.counts.clone(), s.tokens_today);
    let selected = s.selected.clone();
    s.recompute();
    assert_eq!(order, s.order, "order after {what}");
    assert_eq!(counts, s.counts, "counts after {what}");
    assert_eq!(tokens, s.tokens_today, "tokens after {what}");
    assert_eq!(selected, s.selected, "selection after {what}");
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
                    a.request_json = a.request_json.replace("\"duration\":5", "\"duration\":12");
                    let mut rows = vec![a];
                    if step % 4 == 0 {
                        // And a new task, which is inserted in its place.
                        rows.push(record(1000 + n, PHASES[n % 5].clone(), "new", "m"));
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
