//! A table for hundreds of tasks: the submitted task selected and in view, events kept out of
//! the footer, hints that fit at 80 columns, the ERROR column, the row position, the sort
//! marker, retried originals and `retried:no`, removing rows that never reached the server,
//! and `Tab` in the full-screen detail pane.

use crate::api::TaskStatus;
use crate::app::composer::{ComposerMsg, SubmitOutcome};
use crate::app::state::{DetailMode, Focus, Overlay, Question};
use crate::app::test_support::composer::{ctrl, open, typ};
use crate::app::test_support::{NOW, record, state};
use crate::app::{Effect, Msg, State, update};
use crate::store::Phase;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::{Terminal, backend::TestBackend};

fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn code(k: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(k, KeyModifiers::NONE))
}

fn screen(s: &State) -> String {
    let (w, h) = s.size;
    let mut term = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    term.draw(|f| crate::ui::view(s, f)).expect("draw");
    let text = crate::ui::buffer_text(term.backend().buffer());
    text.strip_suffix('\n').unwrap_or(&text).to_string()
}

/// Many old tasks, so the new one would start far off screen.
fn many(s: &mut State, n: usize) {
    let rows = (100..100 + n)
        .map(|i| {
            let mut r = record(i, Phase::Remote(TaskStatus::Succeeded), "old", "m");
            r.created_at = NOW - 10_000 - i as i64;
            r.into()
        })
        .collect();
    update(s, Msg::TasksChanged(rows));
}

#[test]
fn after_ctrl_s_the_new_task_is_selected_and_scrolled_into_view_when_its_row_arrives() {
    let mut s = open();
    many(&mut s, 300);
    // Sorted oldest first with a filter on: the new task would be off screen and hidden.
    s.sort_desc = false;
    s.quick = Some(3);
    s.recompute();
    typ(&mut s, "a fox");
    ctrl(&mut s, 's');
    update(
        &mut s,
        Msg::Composer(ComposerMsg::Submitted(SubmitOutcome::Accepted {
            local_id: "new-1".into(),
        })),
    );
    assert_ne!(
        s.selected.as_deref(),
        Some("new-1"),
        "its row is not here yet"
    );
    let mut row = record(500, Phase::Remote(TaskStatus::Queued), "a fox", "m");
    row.local_id = "new-1".into();
    row.created_at = NOW;
    update(&mut s, Msg::TasksChanged(vec![row.into()]));
    assert_eq!(s.selected.as_deref(), Some("new-1"));
    let r = s
        .selected_row()
        .expect("visible: the filter that hid it is gone");
    let h = s.table_height();
    assert!(
        r >= s.offset && r < s.offset + h,
        "row {r} on screen ({} + {h})",
        s.offset
    );
    assert_eq!(s.quick, None);
}

#[test]
fn the_title_shows_the_row_position_and_the_header_the_sort_marker() {
    let mut s = state(80, 24);
    update(&mut s, key('j'));
    update(&mut s, key('j'));
    let text = screen(&s);
    assert!(text.contains("Tasks 10/10 · row 3/10"), "{text}");
    assert!(
        text.contains("AGE▼"),
        "the sorted column is marked:\n{text}"
    );
    update(&mut s, key('s'));
    update(&mut s, key('s'));
    let text = screen(&s);
    assert!(text.contains("STATUS▼") && !text.contains("AGE▼"), "{text}");
}

#[test]
fn failed_rows_show_a_short_error_code_and_retried_originals_are_marked() {
    let mut s = state(80, 24);
    let text = screen(&s);
    let failed = text
        .lines()
        .find(|l| l.contains("✗ failed"))
        .expect("a failed row");
    assert!(failed.contains("out-vid"), "{failed}");
    assert!(
        failed.contains("→1"),
        "l0003 has one retry (l0007):\n{failed}"
    );
    let retry = text.lines().find(|l| l.contains("↻1")).expect("the retry");
    assert!(!retry.contains("→"), "{retry}");
    // `retried:no` hides the original whose retry exists.
    update(&mut s, key('/'));
    for c in "retried:no".chars() {
        update(&mut s, key(c));
    }
    update(&mut s, code(KeyCode::Enter));
    assert!(s.order.iter().all(|&i| &*s.tasks[i].local_id != "l0003"));
    assert_eq!(s.order.len(), 9);
}

#[test]
fn hints_fit_at_80_columns_and_events_do_not_take_the_footer() {
    let mut s = state(80, 24);
    // Many finishes in one batch: one summary line in the log, a ticker in the footer.
    let rows: Vec<_> = ["l0000", "l0001"]
        .iter()
        .map(|id| {
            let mut r = s.task(id).cloned().expect("task");
            r.phase = Phase::Remote(TaskStatus::Succeeded);
            r
        })
        .chain(["l0004", "l0005"].iter().map(|id| {
            let mut r = s.task(id).cloned().expect("task");
            r.phase = Phase::Remote(TaskStatus::Failed);
            r
        }))
        .collect();
    let before = s.messages.len();
    update(&mut s, Msg::TasksChanged(rows));
    assert_eq!(s.messages.len(), before + 1, "batched");
    let line = &s.messages.last().expect("logged").text;
    assert!(
        line.contains("2 succeeded") && line.contains("2 failed"),
        "{line}"
    );
    let text = screen(&s);
    let footer = text.lines().last().expect("footer");
    assert!(footer.contains("1 new in log (L)"), "{footer}");
    assert!(footer.contains("Enter detail"), "{footer}");
    // The user's own action: its answer shows, with whole hints beside it.
    update(&mut s, key('p'));
    let text = screen(&s);
    let footer = text.lines().last().expect("footer");
    assert!(footer.contains("polling paused"), "{footer}");
    assert!(footer.contains("Enter detail"), "{footer}");
    assert!(
        !footer.trim_end().ends_with(" q"),
        "no hint cut in half: {footer}"
    );
}

#[test]
fn x_removes_rows_that_never_reached_the_server_after_asking() {
    let mut s = state(100, 30);
    let rejected = s
        .order
        .iter()
        .position(|&i| s.tasks[i].phase == Phase::Rejected)
        .expect("a rejected row");
    for _ in 0..rejected {
        update(&mut s, key('j'));
    }
    update(&mut s, key('x'));
    let Overlay::Confirm(Question::RemoveLocal { local_ids }) = s.overlay.clone() else {
        panic!("asks first: {:?}", s.overlay)
    };
    let fx = update(&mut s, key('y'));
    assert_eq!(fx, vec![Effect::RemoveLocal(local_ids.clone())]);
    update(&mut s, Msg::TasksRemoved(local_ids.clone()));
    assert!(s.task(&local_ids[0]).is_none());
    assert_eq!(s.tasks.len(), 9);
    // A queued task is still cancelled (asking first), never removed.
    update(&mut s, key('g'));
    update(&mut s, key('j'));
    update(&mut s, key('x'));
    assert!(matches!(
        s.overlay,
        Overlay::Confirm(Question::Cancel { .. })
    ));
}

#[test]
fn tab_in_full_screen_detail_keeps_the_focus_there() {
    let mut s = state(100, 30);
    update(&mut s, key('f'));
    assert_eq!((s.detail, s.focus), (DetailMode::Full, Focus::Detail));
    update(&mut s, code(KeyCode::Tab));
    assert_eq!(s.focus, Focus::Detail, "the table is hidden");
    update(&mut s, key('f'));
    update(&mut s, code(KeyCode::Tab));
    assert_eq!(s.focus, Focus::Table, "in the split view Tab moves");
}

/// Three batch lines with labels (one with a terminal escape in it), over the ten stock tasks.
fn labelled(s: &mut State) {
    let rows = [
        ("lighthouse-1", "a tower at dusk"),
        ("harbour-1", "boats at dawn"),
        ("evil\u{1b}]52;c;aGk=\u{7}", "a hostile label"),
    ]
    .iter()
    .enumerate()
    .map(|(n, (label, prompt))| {
        let mut r = record(200 + n, Phase::Pending, prompt, "m");
        r.created_at = NOW - n as i64;
        r.label = Some(label.to_string());
        r.into()
    })
    .collect();
    update(s, Msg::TasksChanged(rows));
}

#[test]
fn batch_labels_show_in_their_column_or_before_the_prompt_and_are_filtered() {
    // 160 columns: no empty LABEL column while no task has a label, then one of its own.
    let mut s = state(160, 30);
    assert!(!screen(&s).contains("LABEL"));
    labelled(&mut s);
    let text = screen(&s);
    let header = text.lines().find(|l| l.contains("STATUS")).expect("header");
    assert!(
        header.contains("MODEL LABEL") && header.contains("PROMPT"),
        "{header}"
    );
    let row = text
        .lines()
        .find(|l| l.contains("a tower at dusk"))
        .expect("row");
    assert!(row.contains("lighthouse-1 "), "{row}");
    // The escape is shown escaped, never sent.
    assert!(text.contains("evil\\x1b]52"), "{text}");
    assert!(!text.contains('\u{1b}'), "{text}");

    // 80 columns: no room for the column, the prompt starts with the label.
    let mut s = state(80, 24);
    labelled(&mut s);
    let text = screen(&s);
    assert!(!text.contains("LABEL"), "{text}");
    let row = text
        .lines()
        .find(|l| l.contains("lighthouse-1"))
        .expect("row");
    assert!(row.contains("lighthouse-1 a t…"), "{row}");
    // Hidden in the chooser: no label anywhere in the table.
    s.columns.retain(|c| *c != crate::app::columns::Col::Label);
    assert!(!screen(&s).contains("lighthouse-1"));
    s.columns = crate::app::columns::Col::defaults();

    // `/lighthouse-1` finds it by its label; `label:` looks only at labels.
    let filter = |s: &mut State, q: &str| {
        update(s, key('/'));
        for c in q.chars() {
            update(s, key(c));
        }
        update(s, code(KeyCode::Enter));
        let shown: Vec<String> = s
            .order
            .iter()
            .map(|&i| s.tasks[i].prompt.to_string())
            .collect();
        update(s, code(KeyCode::Esc));
        shown
    };
    assert_eq!(filter(&mut s, "lighthouse-1"), ["a tower at dusk"]);
    assert_eq!(filter(&mut s, "label:harbour"), ["boats at dawn"]);
    assert_eq!(filter(&mut s, "label:dusk"), Vec::<String>::new());
    assert_eq!(filter(&mut s, "label:").len(), 3);

    // The detail pane names it.
    update(&mut s, key('/'));
    for c in "lighthouse-1".chars() {
        update(&mut s, key(c));
    }
    update(&mut s, code(KeyCode::Enter));
    update(&mut s, code(KeyCode::Enter));
    let text = screen(&s);
    assert!(text.contains("label lighthouse-1"), "{text}");
}
