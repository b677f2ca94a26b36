//! Draw only what changed: which messages mark the frame dirty. A frame costs terminal bytes and
//! CPU; under a steady stream of polls the dashboard must stay quiet unless the screen changes.

use crate::app::test_support::{NOW, state};
use crate::app::{Health, Msg, update};

fn health(s: &crate::app::State) -> Health {
    s.health.clone()
}

#[test]
fn a_health_update_with_nothing_visible_changing_does_not_mark_the_frame_dirty() {
    let mut s = state(100, 30);
    let mut h = health(&s);
    h.tracked = 2_000;
    h.last_success = Some(NOW - 1);
    update(&mut s, Msg::Health(h.clone()));
    assert!(
        s.dirty,
        "the first poll and the watched count are on screen"
    );
    s.dirty = false;

    // Requests in flight are not shown; a newer poll time waits for the clock tick.
    h.in_flight = 7;
    h.last_success = Some(NOW);
    update(&mut s, Msg::Health(h.clone()));
    assert!(!s.dirty, "nothing the header shows changed");
    assert_eq!(
        s.health.in_flight, 7,
        "the state still keeps the new counts"
    );
    assert_eq!(s.health.last_success, Some(NOW));

    // The same poll time, again and again: nothing to draw.
    for n in 0..50 {
        h.in_flight = n % 8;
        update(&mut s, Msg::Health(h.clone()));
    }
    assert!(!s.dirty);

    // The clock tick shows the new poll time, once a second.
    update(&mut s, Msg::Tick { now: NOW + 1 });
    assert!(s.dirty, "the tick redraws \"polled N s ago\"");
}

#[test]
fn a_health_update_that_changes_the_header_marks_the_frame_dirty() {
    let mut s = state(100, 30);
    let mut h = health(&s);
    h.tracked = 10;
    update(&mut s, Msg::Health(h.clone()));
    s.dirty = false;
    for change in [
        |h: &mut Health| h.consecutive_errors = 3,
        |h: &mut Health| h.tracked = 11,
        |h: &mut Health| h.banner = Some("rate limited".into()),
        |h: &mut Health| h.paused = true,
        |h: &mut Health| h.leader = false,
    ] {
        change(&mut h);
        update(&mut s, Msg::Health(h.clone()));
        assert!(s.dirty, "{h:?}");
        s.dirty = false;
    }
}

#[test]
fn health_changes_draw_nothing_while_the_header_is_off_screen() {
    let mut s = state(30, 8); // below the minimum size: only a note is shown
    s.dirty = false;
    let mut h = health(&s);
    h.consecutive_errors = 4;
    h.tracked = 99;
    update(&mut s, Msg::Health(h));
    assert!(!s.dirty);
    assert_eq!(s.health.consecutive_errors, 4);
}

#[test]
fn store_rows_the_dashboard_already_has_draw_nothing() {
    let mut s = state(100, 30);
    let rows: Vec<_> = s.tasks.iter().take(3).cloned().collect();
    assert!(!rows.is_empty());
    s.dirty = false;
    update(&mut s, Msg::TasksChanged(rows.clone()));
    assert!(!s.dirty, "unchanged rows");
    let mut changed = rows;
    changed[1].tokens = Some(12_345);
    update(&mut s, Msg::TasksChanged(changed));
    assert!(s.dirty, "a changed row is drawn");
    assert_eq!(
        s.tasks
            .iter()
            .find(|t| t.tokens == Some(12_345))
            .map(|_| ()),
        Some(())
    );
}
