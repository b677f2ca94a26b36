//! The reducer, message in, state and effects out: every intent of the dashboard.

use crate::api::TaskStatus;
use crate::app::state::{DetailMode, Focus, Overlay, Question, RetryPlan, SortKey};
use crate::app::test_support::{NOW, answer_bodies, record, state, task_record};
use crate::app::{Effect, Intent, Msg, update};
use crate::store::{Phase, TaskBodies};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn code(k: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(k, KeyModifiers::NONE))
}

fn ctrl(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

fn selected(s: &crate::app::State) -> String {
    s.selected.clone().unwrap_or_default()
}

#[test]
fn navigation_moves_and_clamps() {
    let mut s = state(100, 30);
    let first = selected(&s);
    assert_eq!(first, "l0000", "newest first");
    update(&mut s, key('j'));
    assert_eq!(selected(&s), "l0001");
    update(&mut s, code(KeyCode::Down));
    assert_eq!(selected(&s), "l0002");
    update(&mut s, key('k'));
    assert_eq!(selected(&s), "l0001");
    update(&mut s, key('G'));
    assert_eq!(selected(&s), "l0009");
    update(&mut s, key('j'));
    assert_eq!(selected(&s), "l0009", "clamped at the end");
    update(&mut s, key('g'));
    assert_eq!(selected(&s), "l0000");
    update(&mut s, code(KeyCode::PageDown));
    assert_eq!(selected(&s), "l0009", "a page is taller than ten rows here");
    update(&mut s, code(KeyCode::Home));
    assert_eq!(selected(&s), "l0000");
}

#[test]
fn selection_follows_the_task_across_resorts_and_updates() {
    let mut s = state(100, 30);
    update(&mut s, key('j'));
    update(&mut s, key('j'));
    assert_eq!(selected(&s), "l0002");
    update(&mut s, key('S')); // oldest first now
    assert_eq!(selected(&s), "l0002", "the same task stays selected");
    assert_ne!(s.selected_row(), Some(2));
    // A new task arriving does not move the selection either.
    let mut fresh = record(
        42,
        Phase::Remote(TaskStatus::Queued),
        "new",
        "doubao-seedance-2-0-260128",
    );
    fresh.created_at = NOW;
    update(&mut s, Msg::TasksChanged(vec![fresh.into()]));
    assert_eq!(selected(&s), "l0002");
    assert_eq!(s.tasks.len(), 11);
}

#[test]
fn filter_typing_terms_and_escape() {
    let mut s = state(100, 30);
    update(&mut s, key('/'));
    assert!(s.filter_input.is_some());
    for c in "status:failed".chars() {
        update(&mut s, key(c));
    }
    assert_eq!(s.order.len(), 1);
    assert_eq!(selected(&s), "l0003", "selection moves onto a visible task");
    update(&mut s, code(KeyCode::Enter));
    assert!(s.filter_input.is_none(), "Enter keeps the filter");
    assert_eq!(s.order.len(), 1);
    update(&mut s, key('/'));
    for _ in 0.."status:failed".len() {
        update(&mut s, code(KeyCode::Backspace));
    }
    for c in "model:fast lagoon".chars() {
        update(&mut s, key(c));
    }
    assert_eq!(s.order.len(), 1, "model and free text combine");
    assert_eq!(selected(&s), "l0008");
    update(&mut s, code(KeyCode::Esc));
    assert!(s.filter.is_empty(), "Esc on the filter line drops it");
    assert_eq!(s.order.len(), 10);
    // Free text matches ids too.
    update(&mut s, key('/'));
    for c in "a0005".chars() {
        update(&mut s, key(c));
    }
    assert_eq!(s.order.len(), 1);
    update(&mut s, Msg::Paste(" extra\nline".into()));
    assert_eq!(s.filter_input.as_deref(), Some("a0005 extra line"));
}

#[test]
fn quick_filters_toggle() {
    let mut s = state(100, 30);
    update(&mut s, key('4'));
    assert!(
        s.order
            .iter()
            .all(|&i| s.tasks[i].phase == Phase::Remote(TaskStatus::Failed))
    );
    assert_eq!(s.order.len(), 1);
    update(&mut s, key('3'));
    assert_eq!(s.order.len(), 2, "two succeeded");
    update(&mut s, key('3'));
    assert_eq!(s.order.len(), 10, "again clears");
}

#[test]
fn s_then_a_letter_sorts_by_that_column_and_status_puts_active_first() {
    let mut s = state(100, 30);
    assert_eq!(s.sort, SortKey::Created);
    update(&mut s, key('s'));
    assert_eq!(s.overlay, Overlay::SortMenu, "s asks which column");
    update(&mut s, key('s'));
    assert_eq!(s.overlay, Overlay::None);
    assert_eq!(s.sort, SortKey::Status);
    assert_eq!(
        s.tasks[s.order[0]].phase,
        Phase::Submitting,
        "status sort puts active tasks first"
    );
    assert_eq!(
        s.tasks[s.order[1]].phase,
        Phase::Remote(TaskStatus::Running)
    );
    update(&mut s, key('S'));
    assert_eq!(
        s.tasks[s.order[0]].phase,
        Phase::Remote(TaskStatus::Succeeded),
        "reversed: done first"
    );
    // The same column again flips the direction too.
    update(&mut s, key('s'));
    update(&mut s, key('s'));
    assert_eq!(s.tasks[s.order[0]].phase, Phase::Submitting);
    update(&mut s, key('s'));
    update(&mut s, key('t'));
    assert_eq!(s.sort, SortKey::Tokens);
    update(&mut s, key('s'));
    update(&mut s, key('a'));
    assert_eq!(s.sort, SortKey::Created);
    // Esc leaves the sort as it is.
    update(&mut s, key('s'));
    update(&mut s, code(KeyCode::Esc));
    assert_eq!(
        (s.sort, s.overlay.clone()),
        (SortKey::Created, Overlay::None)
    );
}

#[test]
fn marks_and_mark_all() {
    let mut s = state(100, 30);
    update(&mut s, key(' '));
    assert!(s.marks.contains("l0000"));
    assert_eq!(selected(&s), "l0001", "space moves on");
    update(&mut s, key(' '));
    assert_eq!(s.marks.len(), 2);
    update(&mut s, key('k'));
    update(&mut s, key(' '));
    assert!(!s.marks.contains("l0001"), "space again unmarks");
    assert_eq!(s.targets().len(), 1);
    update(&mut s, ctrl('a'));
    assert_eq!(s.marks.len(), 10);
    update(&mut s, ctrl('a'));
    assert!(s.marks.is_empty(), "again clears");
    update(&mut s, key(' '));
    update(&mut s, code(KeyCode::Esc));
    assert!(s.marks.is_empty(), "Esc clears marks");
}

#[test]
fn pause_refresh_and_theme() {
    let mut s = state(100, 30);
    assert_eq!(update(&mut s, key('p')), vec![Effect::SetPaused(true)]);
    assert!(s.health.paused);
    assert_eq!(update(&mut s, key('p')), vec![Effect::SetPaused(false)]);
    assert_eq!(update(&mut s, key('R')), vec![Effect::RefreshNow]);
    let before = s.theme().name.clone();
    update(&mut s, key('t'));
    assert_ne!(s.theme().name, before);
}

#[test]
fn detail_pane_focus_scroll_and_history() {
    let mut s = state(100, 30);
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(s.detail, DetailMode::Split);
    assert_eq!(
        fx,
        vec![
            Effect::LoadHistory("l0000".into()),
            Effect::LoadBodies("l0000".into())
        ]
    );
    let fx = update(&mut s, key('j'));
    assert_eq!(
        fx,
        vec![
            Effect::LoadHistory("l0001".into()),
            Effect::LoadBodies("l0001".into())
        ],
        "history and the full request follow the selection"
    );
    update(&mut s, code(KeyCode::Tab));
    assert_eq!(s.focus, Focus::Detail);
    update(&mut s, key('j'));
    update(&mut s, key('j'));
    assert_eq!(s.detail_scroll, 2, "j scrolls the focused detail");
    assert_eq!(selected(&s), "l0001");
    update(&mut s, key('f'));
    assert_eq!(s.detail, DetailMode::Full);
    update(&mut s, code(KeyCode::Enter));
    assert_eq!(s.detail, DetailMode::Hidden);
    assert_eq!(s.focus, Focus::Table);
    update(&mut s, crate::app::test_support::history("l0001", NOW));
    assert_eq!(s.histories["l0001"].len(), 4);
}

#[test]
fn help_and_log_overlays() {
    let mut s = state(100, 30);
    update(&mut s, key('?'));
    assert_eq!(s.overlay, Overlay::Help { scroll: 0 });
    update(&mut s, key('j'));
    assert_eq!(s.overlay, Overlay::Help { scroll: 1 });
    assert_eq!(selected(&s), "l0000", "keys scroll help, not the table");
    update(&mut s, code(KeyCode::Esc));
    assert_eq!(s.overlay, Overlay::None);
    update(&mut s, key('L'));
    assert!(matches!(s.overlay, Overlay::Log { .. }));
    update(&mut s, key('q'));
    assert_eq!(
        s.overlay,
        Overlay::None,
        "q closes the overlay, does not quit"
    );
}

#[test]
fn copy_menu_offers_the_object_url_and_a_presigned_link_for_results_in_a_bucket() {
    let mut s = state(100, 30);
    update(&mut s, key('j'));
    update(&mut s, key('j')); // the succeeded task l0002
    let mut t = task_record("l0002");
    // Saved locally: no object URL, no link (once the saved path is read from the store).
    update(&mut s, key('y'));
    let fx = update(&mut s, key('l'));
    assert_eq!(fx, vec![Effect::LoadBodies("l0002".into())]);
    assert!(answer_bodies(&mut s, fx).is_empty());
    assert!(
        s.current_message()
            .is_some_and(|m| m.text.contains("no object in a bucket"))
    );
    t.video_path = Some("s3://videos/demo/cgt-x2.mp4".into());
    t.updated_at += 1;
    update(&mut s, Msg::TasksChanged(vec![(&t).into()]));
    update(
        &mut s,
        Msg::Bodies {
            local_id: "l0002".into(),
            result: Ok(TaskBodies::of(&t)),
        },
    );
    update(&mut s, key('y'));
    assert_eq!(
        update(&mut s, key('o')),
        vec![Effect::Copy("s3://videos/demo/cgt-x2.mp4".into())]
    );
    update(&mut s, key('y'));
    assert_eq!(
        update(&mut s, key('l')),
        vec![Effect::CopyPresigned("s3://videos/demo/cgt-x2.mp4".into())],
        "the runtime signs the link (credentials, clock)"
    );
}

#[test]
fn copy_menu_payloads() {
    let mut s = state(100, 30);
    update(&mut s, key('j'));
    update(&mut s, key('j')); // the succeeded task l0002
    update(&mut s, key('y'));
    assert_eq!(s.overlay, Overlay::CopyMenu);
    assert_eq!(
        update(&mut s, key('i')),
        vec![Effect::Copy("cgt-20261123100002-a0002".into())]
    );
    update(&mut s, key('y'));
    let fx = update(&mut s, key('v'));
    assert_eq!(
        fx,
        vec![Effect::LoadBodies("l0002".into())],
        "the link is read from the store first"
    );
    let fx = answer_bodies(&mut s, fx);
    assert!(matches!(&fx[..], [Effect::Copy(u)] if u.contains("video.mp4")));
    update(&mut s, key('y'));
    let fx = update(&mut s, key('j'));
    let fx = answer_bodies(&mut s, fx);
    let [Effect::Copy(json)] = &fx[..] else {
        panic!("{fx:?}")
    };
    let v: serde_json::Value = serde_json::from_str(json).expect("request JSON");
    assert_eq!(v["model"], "doubao-seedance-2-0-fast-260128");
    update(&mut s, key('y'));
    let fx = update(&mut s, key('c'));
    let [Effect::Copy(curl)] = &fx[..] else {
        panic!("{fx:?}")
    };
    assert!(curl.contains("$SEEDANCE_API_KEY"));
    assert!(curl.contains("https://api.laozhang.ai/seedance/api/v3/contents/generations/tasks"));
    // A task without a video URL says so instead of copying nothing.
    update(&mut s, key('g'));
    update(&mut s, key('y'));
    let fx = update(&mut s, key('v'));
    assert!(answer_bodies(&mut s, fx).is_empty());
    assert!(
        s.current_message()
            .is_some_and(|m| m.text.contains("no video URL"))
    );
}

#[test]
fn quit_asks_only_with_submissions_in_flight() {
    let mut s = state(100, 30);
    assert_eq!(s.in_flight(), 1, "the fixtures have one submitting task");
    assert!(update(&mut s, key('q')).is_empty());
    assert_eq!(s.overlay, Overlay::Confirm(Question::Quit { in_flight: 1 }));
    assert!(update(&mut s, key('n')).is_empty());
    assert_eq!(s.overlay, Overlay::None);
    update(&mut s, key('q'));
    assert_eq!(update(&mut s, key('y')), vec![Effect::Quit]);
    assert_eq!(
        update(&mut s, ctrl('c')),
        vec![Effect::Quit],
        "Ctrl-C never asks"
    );
    let mut calm = state(100, 30);
    calm.tasks.retain(|t| t.phase != Phase::Submitting);
    calm.recompute();
    assert_eq!(update(&mut calm, key('q')), vec![Effect::Quit]);
    assert_eq!(update(&mut calm, ctrl('z')), vec![Effect::Suspend]);
}

#[test]
fn cancel_asks_and_only_for_queued_tasks() {
    let mut s = state(100, 30);
    update(&mut s, key('x'));
    assert_eq!(
        s.overlay,
        Overlay::None,
        "running tasks cannot be cancelled"
    );
    assert!(
        s.current_message()
            .is_some_and(|m| m.text.contains("only queued"))
    );
    update(&mut s, key('j')); // l0001 is queued
    update(&mut s, key('x'));
    assert_eq!(
        s.overlay,
        Overlay::Confirm(Question::Cancel {
            local_id: "l0001".into()
        })
    );
    assert_eq!(
        update(&mut s, code(KeyCode::Enter)),
        vec![Effect::CancelTask("l0001".into())]
    );
}

#[test]
fn n_and_e_open_the_composer() {
    use crate::app::composer::ComposerEffect;
    let mut s = state(100, 30);
    assert_eq!(
        update(&mut s, key('n')),
        vec![Effect::Composer(ComposerEffect::LoadDrafts {
            then_open: true
        })],
        "n reads the drafts first (the most recent one is restored)"
    );
    let mut s = state(100, 30);
    let id = s.selected.clone().expect("a selected task");
    assert_eq!(
        update(&mut s, key('e')),
        vec![Effect::LoadBodies(id.clone())],
        "e reads the full request from the store first"
    );
    assert!(!s.composer.is_open());
    update(&mut s, crate::app::test_support::bodies(&id));
    assert!(s.composer.is_open(), "e opens a copy of the selected task");
}

#[test]
fn messages_fade_and_status_changes_are_announced() {
    let mut s = state(100, 30);
    let mut failed = task_record("l0001");
    failed.phase = Phase::Remote(TaskStatus::Failed);
    failed.error_code = Some("OutputAudioSensitiveContentDetected".into());
    update(&mut s, Msg::TasksChanged(vec![failed.into()]));
    // A finish is an event: the log and the ticker, never the footer's feedback line.
    let m = s.messages.last().expect("announced");
    assert!(
        m.text
            .contains("failed OutputAudioSensitiveContentDetected"),
        "{}",
        m.text
    );
    assert!(s.current_message().is_none(), "not in the footer");
    assert_eq!(s.unseen_events, 1);
    update(&mut s, key('p'));
    assert!(
        s.current_message().is_some(),
        "the user's own action is answered"
    );
    update(&mut s, Msg::Tick { now: NOW + 60 });
    assert!(s.current_message().is_none(), "faded");
    assert!(!s.messages.is_empty(), "kept in the log");
    update(&mut s, key('L'));
    assert_eq!(s.unseen_events, 0, "the log has been seen");
    s.dirty = false;
    update(&mut s, Msg::Tick { now: NOW + 61 });
    assert!(
        s.dirty,
        "relative times on screen need a redraw each second"
    );
}

#[test]
fn resize_keeps_the_selection_on_screen() {
    let mut s = state(100, 30);
    update(&mut s, key('G'));
    update(&mut s, Msg::Resize(80, 12));
    let h = s.table_height();
    let row = s.selected_row().expect("row");
    assert!(
        row >= s.offset && row < s.offset + h,
        "row {row} offset {} height {h}",
        s.offset
    );
}

#[test]
fn intents_apply_directly_too() {
    let mut s = state(100, 30);
    assert_eq!(
        crate::app::update::apply(&mut s, Intent::ForceQuit),
        vec![Effect::Quit]
    );
}

fn plan(s: &crate::app::State) -> RetryPlan {
    match &s.overlay {
        Overlay::Confirm(Question::Retry(p)) => p.clone(),
        other => panic!("expected a retry question, got {other:?}"),
    }
}

/// The fixtures' l0007 is a (succeeded) retry of l0003, so l0003 is not the head of its chain
/// and is never retried again; the tests of the retry question itself use l0003 as if it had
/// never been retried (the chain rule has its own tests in `retry_chain`).
fn unlink_retry(s: &mut crate::app::State) {
    let mut t = task_record("l0007");
    t.retry_of = None;
    update(s, Msg::TasksChanged(vec![t.into()]));
}

fn select(s: &mut crate::app::State, local_id: &str) {
    update(s, key('g'));
    while selected(s) != local_id {
        update(s, key('j'));
    }
}

#[test]
fn retry_single_asks_once_then_resubmits() {
    let mut s = state(100, 30);
    unlink_retry(&mut s);
    select(&mut s, "l0003"); // failed: output moderation, a retry can help
    update(&mut s, key('r'));
    let p = plan(&s);
    assert_eq!(p.local_ids, ["l0003"]);
    assert!(p.unfixable.is_empty());
    assert_eq!(
        p.tokens, 108_900,
        "720p 16:9 5 s: 1280x720, 121 frames / 1024"
    );
    assert_eq!(
        update(&mut s, key('y')),
        vec![Effect::Retry(vec!["l0003".into()])]
    );
    assert_eq!(s.overlay, Overlay::None);
}

#[test]
fn retry_question_says_the_estimate_excludes_an_unread_input_video() {
    let mut s = state(100, 30);
    unlink_retry(&mut s);
    let mut t = task_record("l0003");
    let mut req: serde_json::Value = serde_json::from_str(&t.request_json).expect("request");
    req["content"]
        .as_array_mut()
        .expect("content")
        .push(serde_json::json!({"type": "video_url", "video_url": {"url": "asset://asset-unread-1"}, "role": "reference_video"}));
    t.request_json = req.to_string();
    update(&mut s, Msg::TasksChanged(vec![t.into()]));
    select(&mut s, "l0003");
    update(&mut s, key('r'));
    let p = plan(&s);
    assert_eq!(
        p.input_video_unread, 1,
        "the view says so (ui::tests::snapshots)"
    );
    // Without a video there is nothing to say.
    update(&mut s, key('n'));
    let mut s = state(100, 30);
    unlink_retry(&mut s);
    select(&mut s, "l0003");
    update(&mut s, key('r'));
    assert_eq!(plan(&s).input_video_unread, 0);
}

#[test]
fn retry_is_refused_for_tasks_that_did_not_fail() {
    let mut s = state(100, 30);
    select(&mut s, "l0000"); // running
    assert!(update(&mut s, key('r')).is_empty());
    assert_eq!(s.overlay, Overlay::None);
    assert!(
        s.current_message()
            .is_some_and(|m| m.text.contains("nothing to retry"))
    );
    // Saying no does nothing.
    select(&mut s, "l0004");
    update(&mut s, key('r'));
    assert!(update(&mut s, key('n')).is_empty());
}

#[test]
fn bulk_retry_of_marked_tasks_skips_the_rest_and_warns() {
    let mut s = state(100, 30);
    unlink_retry(&mut s);
    for id in ["l0000", "l0003", "l0004", "l0005", "l0008", "l0009"] {
        select(&mut s, id);
        update(&mut s, key(' '));
    }
    update(&mut s, key('r'));
    let p = plan(&s);
    assert_eq!(p.local_ids, ["l0003", "l0004", "l0005", "l0008", "l0009"]);
    assert_eq!(p.skipped, 1, "the running task");
    assert_eq!(p.unknown, 1, "the submit_unknown task may already exist");
    assert_eq!(
        p.unfixable.len(),
        1,
        "the rejected task will be rejected again"
    );
    let fx = update(&mut s, code(KeyCode::Enter));
    assert!(matches!(&fx[..], [Effect::Retry(ids)] if ids.len() == 5));
}

#[test]
fn retry_all_failed_in_the_filter() {
    let mut s = state(100, 30);
    unlink_retry(&mut s);
    update(&mut s, ctrl('r'));
    assert_eq!(plan(&s).local_ids, ["l0003"]);
    update(&mut s, code(KeyCode::Esc));
    update(&mut s, key('4'));
    update(&mut s, key('4')); // back to all
    update(&mut s, key('/'));
    for c in "rain".chars() {
        update(&mut s, key(c));
    }
    update(&mut s, code(KeyCode::Enter));
    update(&mut s, ctrl('r'));
    assert_eq!(
        plan(&s).local_ids,
        ["l0003"],
        "only failed tasks in the filter"
    );
}

#[test]
fn input_moderation_failures_warn_that_retry_cannot_fix_them() {
    let mut s = state(100, 30);
    unlink_retry(&mut s);
    let mut t = task_record("l0003");
    t.error_code = Some("InputTextSensitiveContentDetected".into());
    update(&mut s, Msg::TasksChanged(vec![t.into()]));
    select(&mut s, "l0003");
    update(&mut s, key('r'));
    assert_eq!(plan(&s).unfixable, ["InputTextSensitiveContentDetected"]);
}

/// `A` on an uncertain create with a probable match asks first; `y` adopts it (the effect names
/// the row and the task); on any other row it says there is nothing to adopt.
#[test]
fn a_probable_match_is_adopted_only_after_the_users_yes() {
    use crate::engine::reconcile::{PROBABLE, probable_candidate};
    let mut s = state(100, 30);
    let mut row = record(
        40,
        Phase::SubmitUnknown,
        "an uncertain create",
        "doubao-seedance-2-0-fast-260128",
    );
    row.created_at = NOW;
    row.error_code = Some(PROBABLE.into());
    row.error_message = Some(format!(
        "probable, not confirmed: ... If it is yours: A in the dashboard, or seedance-tui adopt {} cgt-20261201000000-prob1 (asks y/N)",
        row.local_id
    ));
    assert_eq!(
        probable_candidate(row.error_message.as_deref().unwrap_or_default()),
        Some("cgt-20261201000000-prob1")
    );
    let local_id = row.local_id.clone();
    update(&mut s, Msg::TasksChanged(vec![row.into()]));
    update(&mut s, key('g'));
    assert_eq!(selected(&s), local_id);
    assert!(
        update(&mut s, key('A')).is_empty(),
        "nothing happens before the answer"
    );
    assert_eq!(
        s.overlay,
        Overlay::Confirm(Question::Adopt {
            local_id: local_id.clone(),
            task_id: "cgt-20261201000000-prob1".into()
        })
    );
    assert!(update(&mut s, key('n')).is_empty(), "n: not adopted");
    assert_eq!(s.overlay, Overlay::None);
    update(&mut s, key('A'));
    let fx = update(&mut s, key('y'));
    assert_eq!(
        fx,
        vec![Effect::Adopt {
            local_id,
            task_id: "cgt-20261201000000-prob1".into()
        }]
    );
    // Any other row: nothing to adopt, no question.
    update(&mut s, key('j'));
    assert!(update(&mut s, key('A')).is_empty());
    assert_eq!(s.overlay, Overlay::None);
}

#[test]
fn enter_in_the_log_goes_to_the_task_a_line_names_and_opens_nothing_under_the_help() {
    let mut s = state(100, 30);
    // Enter over the help does not open the detail pane beneath it.
    update(&mut s, key('?'));
    update(&mut s, code(KeyCode::Enter));
    assert_eq!(s.detail, DetailMode::Hidden);
    update(&mut s, code(KeyCode::Esc));
    // A log line naming a task: Enter selects it and opens the pane.
    let target = s.tasks[3].display_id().to_string();
    let local = s.tasks[3].local_id.to_string();
    s.event(crate::app::Level::Info, format!("{target} succeeded"));
    update(&mut s, key('L'));
    update(&mut s, code(KeyCode::Enter));
    assert_eq!(s.overlay, Overlay::None);
    assert_eq!(s.selected.as_deref(), Some(local.as_str()));
    assert_ne!(s.detail, DetailMode::Hidden);
}
