//! The submission queue in the reducer: pending rows, the header's words, pause/resume, moving a
//! pending row, removing pending rows (asks first; only pending ones), and the store's picture of
//! the queue replacing the local one.

use crate::app::keymap::Keymap;
use crate::app::queue::{QueueEffect, QueueInfo, header};
use crate::app::state::{Overlay, Question};
use crate::app::{Effect, Msg, State, update};
use crate::store::{Phase, TaskRecord};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

fn record(id: &str, phase: &str, created: i64) -> TaskRecord {
    TaskRecord {
        task_id: (phase != "pending").then(|| format!("cgt-{id}")),
        model: "doubao-seedance-2-0-fast-260128".into(),
        prompt: format!("prompt {id}"),
        request_json: "{}".into(),
        ..TaskRecord::factory(id, Phase::parse(phase), created)
    }
}

fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn state() -> State {
    let mut s = State::new(
        "p",
        "http://127.0.0.1:9/api/v3",
        Keymap::default(),
        Vec::new(),
    );
    s.now = 1_000;
    update(
        &mut s,
        Msg::TasksLoaded(vec![
            record("a", "queued", 10).into(),
            record("b", "pending", 20).into(),
            record("c", "pending", 30).into(),
        ]),
    );
    update(
        &mut s,
        Msg::Queue(QueueInfo {
            order: vec!["b".into(), "c".into()],
            ..QueueInfo::default()
        }),
    );
    s
}

#[test]
fn the_header_counts_the_queue_and_says_why_it_waits() {
    let mut s = state();
    assert_eq!(header(&s).as_deref(), Some("queue 2"));
    update(
        &mut s,
        Msg::Queue(QueueInfo {
            order: vec!["b".into(), "c".into()],
            held_until: Some(1_030),
            held_reason: Some("server busy: rate limited".into()),
            ..QueueInfo::default()
        }),
    );
    assert_eq!(header(&s).as_deref(), Some("queue 2 held: server busy"));
    s.now = 1_031;
    assert_eq!(header(&s).as_deref(), Some("queue 2"), "the hold is over");
    update(&mut s, Msg::Queue(QueueInfo::default()));
    assert_eq!(header(&s), None, "no queue, no words");
}

#[test]
fn p_pauses_and_resumes_the_queue_through_the_store() {
    let mut s = state();
    let fx = update(&mut s, key('P'));
    assert_eq!(fx, vec![Effect::Queue(QueueEffect::SetPaused(true))]);
    assert_eq!(header(&s).as_deref(), Some("queue 2 paused"));
    let fx = update(&mut s, key('P'));
    assert_eq!(fx, vec![Effect::Queue(QueueEffect::SetPaused(false))]);
}

#[test]
fn k_and_j_move_only_pending_rows() {
    let mut s = state();
    // Newest first: c is selected.
    assert_eq!(s.selected.as_deref(), Some("c"));
    let fx = update(&mut s, key('K'));
    assert_eq!(
        fx,
        vec![Effect::Queue(QueueEffect::Move {
            local_id: "c".into(),
            up: true
        })]
    );
    assert_eq!(s.queue.position("c"), Some(1), "shown at once");
    assert_eq!(s.queue.position("b"), Some(2));
    // A row already sent cannot move.
    s.selected = Some("a".into());
    assert!(update(&mut s, key('J')).is_empty());
    assert!(
        s.messages
            .last()
            .is_some_and(|m| m.text.contains("only pending rows"))
    );
}

#[test]
fn x_removes_the_marked_pending_rows_after_asking() {
    let mut s = state();
    for id in ["a", "b", "c"] {
        s.marks.insert(id.into());
    }
    assert!(update(&mut s, key('X')).is_empty());
    let Overlay::Confirm(Question::RemovePending(ids)) = &s.overlay else {
        panic!("asks first: {:?}", s.overlay);
    };
    let mut ids = ids.clone();
    ids.sort();
    assert_eq!(ids, ["b", "c"], "the queued task is not removable");
    let fx = update(&mut s, key('y'));
    let Some(Effect::Queue(QueueEffect::Remove(removed))) = fx.first() else {
        panic!("{fx:?}");
    };
    assert_eq!(removed.len(), 2);
    assert_eq!(s.tasks.len(), 1);
    assert!(s.task("b").is_none() && s.task("c").is_none());
    assert!(s.queue.order.is_empty());
    assert!(s.marks.is_empty() || s.marks.iter().all(|m| m == "a"));
}

#[test]
fn a_pending_row_another_process_removed_leaves_the_table() {
    let mut s = state();
    update(
        &mut s,
        Msg::Queue(QueueInfo {
            order: vec!["c".into()],
            ..QueueInfo::default()
        }),
    );
    assert!(s.task("b").is_none(), "b left the queue without being sent");
    assert!(s.task("a").is_some() && s.task("c").is_some());
}

#[test]
fn the_help_lists_the_queue_keys() {
    let help = Keymap::default().help();
    let all: Vec<&str> = help
        .iter()
        .flat_map(|(_, rows)| rows.iter().map(|(_, d)| *d))
        .collect();
    for want in [
        "pause or resume the submission queue (pending ○ rows)",
        "move the pending row up the queue (sent sooner)",
        "move the pending row down the queue",
        "remove marked, else selected, pending rows (asks first)",
    ] {
        assert!(all.contains(&want), "{want} missing from ?");
    }
}
