//! Review: composer reducer bugs found in review — each test failed before its fix.

mod composer_common;
mod fixtures_ui;

use composer_common::*;
use crossterm::event::KeyCode;
use fixtures_ui::NOW;
use seedance_tui::app::composer::{ComposerEffect, ComposerMsg, Field, SubmitOutcome};
use seedance_tui::app::{Msg, update};

/// A typed number at the edge of `i64` and then ←/→: no overflow (a panic in debug builds, a
/// wrapped value in release ones); the value is clamped to the field's range.
#[test]
fn stepping_a_huge_typed_number_does_not_overflow() {
    let mut s = open();
    focus(&mut s, Field::Seed);
    typ(&mut s, "9223372036854775807");
    assert_eq!(request(&s).seed, Some(i64::MAX));
    press(&mut s, KeyCode::Right);
    assert_eq!(request(&s).seed, Some(4_294_967_295));
    typ(&mut s, "-9223372036854775808");
    assert_eq!(request(&s).seed, Some(i64::MIN));
    press(&mut s, KeyCode::Left);
    assert_eq!(request(&s).seed, None, "random");

    focus(&mut s, Field::ExpiresAfter);
    typ(&mut s, "9223372036854775807");
    press(&mut s, KeyCode::Right);
    let max = request(&s).execution_expires_after.expect("set");
    assert!(max > 0 && max < i64::MAX, "clamped, not wrapped: {max}");
}

/// Ctrl-S, `n` onto another draft, Ctrl-S again before the first answer: the second draft is
/// not sent (one submission in flight at a time), so the first answer cannot be taken for the
/// second draft's.
#[test]
fn a_second_draft_is_not_submitted_while_the_first_is_in_flight() {
    let mut s = open();
    typ(&mut s, "first fox");
    let first = ed(&s).name.clone();
    let fx = ctrl(&mut s, 's');
    assert!(matches!(
        composer_fx(&fx).last(),
        Some(ComposerEffect::Submit { .. })
    ));
    ch(&mut s, 'n');
    let other = r#"{"composer_draft":1,"retry_of":null,"request":{"model":"doubao-seedance-2-0-260128","content":[{"type":"text","text":"second owl"}],"duration":5}}"#;
    msg(
        &mut s,
        ComposerMsg::Drafts {
            items: vec![("other".into(), other.into(), NOW - 5)],
            then_open: true,
        },
    );
    assert_eq!(ed(&s).prompt_text(), "second owl");
    let fx = ctrl(&mut s, 's');
    assert!(
        !composer_fx(&fx)
            .iter()
            .any(|e| matches!(e, ComposerEffect::Submit { .. })),
        "not sent while another submission is in flight: {fx:?}"
    );
    assert!(s.composer.is_open(), "the second draft stays open");
    assert_eq!(ed(&s).prompt_text(), "second owl");
    // The first draft's refusal is about the first draft, not the open one.
    msg(
        &mut s,
        ComposerMsg::Submitted(SubmitOutcome::Rejected {
            local_id: Some("lx".into()),
            param: Some("resolution".into()),
            message: "InvalidParameter: resolution".into(),
        }),
    );
    assert_eq!(ed(&s).name, "other");
    assert!(ed(&s).server_error.is_none(), "not the open draft's error");
    assert!(
        s.messages.iter().any(|m| m.text.contains(&first)),
        "the refused draft is named"
    );
    // Once the first has its answer, the second can go.
    let fx = ctrl(&mut s, 's');
    assert!(matches!(
        composer_fx(&fx).last(),
        Some(ComposerEffect::Submit { draft, .. }) if draft == "other"
    ));
}

/// Alt-N twice within one clock second: the second new draft gets a name of its own, so its
/// saves do not overwrite the first one's text in the store.
#[test]
fn new_drafts_within_one_second_do_not_share_a_name() {
    let mut s = open();
    update(&mut s, Msg::Paste("a fox in the snow".into()));
    let first = ed(&s).name.clone();
    let fx = alt(&mut s, 'n');
    assert!(composer_fx(&fx).iter().any(|e| matches!(
        e,
        ComposerEffect::SaveDraft { name, json, .. } if *name == first && json.contains("fox")
    )));
    let second = ed(&s).name.clone();
    assert_ne!(second, first, "the new draft would overwrite the first");
    update(&mut s, Msg::Paste("an owl at night".into()));
    let fx = alt(&mut s, 'n');
    let third = ed(&s).name.clone();
    assert!(composer_fx(&fx).iter().any(|e| matches!(
        e,
        ComposerEffect::SaveDraft { name, .. } if *name == second
    )));
    assert!(
        third != first && third != second,
        "{first} / {second} / {third}"
    );
}

/// Ctrl-S and then `n` within the same second: the new draft is not named like the one being
/// sent (whose draft the runtime deletes once it is accepted).
#[test]
fn a_new_draft_is_not_named_like_the_one_being_submitted() {
    let mut s = open();
    update(&mut s, Msg::Paste("a fox in the snow".into()));
    let sent = ed(&s).name.clone();
    ctrl(&mut s, 's');
    assert!(s.composer.submitting.is_some());
    ch(&mut s, 'n');
    msg(
        &mut s,
        ComposerMsg::Drafts {
            items: vec![(sent.clone(), "{}".into(), NOW)],
            then_open: true,
        },
    );
    assert_ne!(ed(&s).name, sent);
}

/// Terminals that send a paste's line breaks as a lone CR (as typing Enter would): the prompt
/// keeps its lines and each dropped file becomes its own asset.
#[test]
fn a_paste_with_carriage_return_line_breaks_keeps_its_lines() {
    let mut s = open();
    update(
        &mut s,
        Msg::Paste("line one\rline two\r\nline three".into()),
    );
    assert_eq!(ed(&s).prompt_text(), "line one\nline two\nline three");
    focus(&mut s, Field::Assets);
    update(&mut s, Msg::Paste("/pics/a.png\r/pics/b.png\r".into()));
    let targets: Vec<&str> = ed(&s).assets.iter().map(|a| a.target.as_str()).collect();
    assert_eq!(targets, ["/pics/a.png", "/pics/b.png"]);
}

/// `e` on a task, an edit, Esc (the draft is kept), then `e` on the same task again later: the
/// second copy is a draft of its own; before, it had the same name and its first save overwrote
/// the kept edit.
#[test]
fn editing_the_same_task_twice_keeps_the_first_edit() {
    let mut s = fixtures_ui::state(120, 40);
    while s.selected.as_deref() != Some("l0003") {
        ch(&mut s, 'j');
    }
    ch(&mut s, 'e');
    typ(&mut s, " with a cat");
    let fx = press(&mut s, KeyCode::Esc);
    let first = match composer_fx(&fx).as_slice() {
        [ComposerEffect::SaveDraft { name, json, .. }] if json.contains("with a cat") => {
            name.clone()
        }
        other => panic!("{other:?}"),
    };
    update(&mut s, Msg::Tick { now: NOW + 60 });
    ch(&mut s, 'e');
    assert_eq!(ed(&s).retry_of.as_deref(), Some("l0003"));
    let fx = update(&mut s, Msg::Tick { now: NOW + 62 });
    let saves: Vec<String> = composer_fx(&fx)
        .into_iter()
        .filter_map(|e| match e {
            ComposerEffect::SaveDraft { name, .. } => Some(name),
            _ => None,
        })
        .collect();
    assert!(!saves.is_empty(), "the new copy is saved");
    assert!(
        !saves.contains(&first),
        "the kept edit “{first}” would be overwritten"
    );
}

/// F3 writes the open draft and reads the list on two runtime tasks, so the list may hold the
/// open draft as it was before the write. Opening the open draft from the list keeps what is
/// in the editor instead of replacing it with that older copy.
#[test]
fn opening_the_open_draft_from_the_list_keeps_its_latest_text() {
    let mut s = open();
    typ(&mut s, "a fox");
    let name = ed(&s).name.clone();
    let fx = k(&mut s, KeyCode::F(3), crossterm::event::KeyModifiers::NONE);
    assert!(composer_fx(&fx).iter().any(|e| matches!(
        e,
        ComposerEffect::SaveDraft { json, .. } if json.contains("a fox")
    )));
    let stale = r#"{"composer_draft":1,"retry_of":null,"request":{"model":"doubao-seedance-2-0-260128","content":[{"type":"text","text":"a f"}],"duration":5}}"#;
    msg(
        &mut s,
        ComposerMsg::Drafts {
            items: vec![(name.clone(), stale.into(), NOW)],
            then_open: false,
        },
    );
    press(&mut s, KeyCode::Enter);
    assert_eq!(ed(&s).name, name);
    assert_eq!(ed(&s).prompt_text(), "a fox");
    assert_eq!(ed(&s).mode, seedance_tui::app::composer::Mode::Edit);
}

/// `q` right after Ctrl-S, before the store has reported the new `submitting` row: the
/// composer's submission is in flight, so quitting asks first (quitting ends the runtime and
/// with it the POST, leaving a create whose outcome is unknown).
#[test]
fn quitting_while_the_composer_submits_asks_first() {
    let mut s = fixtures_ui::state(120, 40);
    update(&mut s, Msg::TasksLoaded(Vec::new()));
    assert_eq!(s.in_flight(), 0);
    ch(&mut s, 'n');
    msg(
        &mut s,
        ComposerMsg::Drafts {
            items: Vec::new(),
            then_open: true,
        },
    );
    typ(&mut s, "a fox");
    ctrl(&mut s, 's');
    assert!(!s.composer.is_open() && s.composer.submitting.is_some());
    let fx = ch(&mut s, 'q');
    assert!(!fx.contains(&seedance_tui::app::Effect::Quit), "{fx:?}");
    assert!(matches!(
        s.overlay,
        seedance_tui::app::state::Overlay::Confirm(seedance_tui::app::state::Question::Quit {
            in_flight: 1
        })
    ));
}

/// A draft write that failed (the store busy or full) leaves the draft marked unsaved, so the
/// clock tries again and Esc (and quitting) still write it; before, it counted as saved and the
/// last edits were lost although Esc said the draft was kept.
#[test]
fn a_failed_draft_save_is_tried_again() {
    let mut s = open();
    typ(&mut s, "a fox");
    let fx = update(&mut s, Msg::Tick { now: NOW + 5 });
    assert!(
        composer_fx(&fx)
            .iter()
            .any(|e| matches!(e, ComposerEffect::SaveDraft { .. }))
    );
    assert!(ed(&s).unsaved_since.is_none());
    msg(&mut s, ComposerMsg::SaveFailed("database is locked".into()));
    assert!(ed(&s).unsaved_since.is_some(), "still unsaved");
    // A persistent failure is reported once, not once a second.
    for t in 6..9 {
        let fx = update(&mut s, Msg::Tick { now: NOW + t });
        assert!(composer_fx(&fx).iter().any(
            |e| matches!(e, ComposerEffect::SaveDraft { json, .. } if json.contains("a fox"))
        ));
        msg(&mut s, ComposerMsg::SaveFailed("database is locked".into()));
    }
    let reported = s
        .messages
        .iter()
        .filter(|m| m.text.contains("not saved"))
        .count();
    assert_eq!(reported, 1);
    let fx = press(&mut s, KeyCode::Esc);
    assert!(matches!(
        composer_fx(&fx).as_slice(),
        [ComposerEffect::SaveDraft { json, .. }] if json.contains("a fox")
    ));
}

/// F3 lists the open draft first and selects it, so `d` at once would delete the draft being
/// edited while the editor still shows it and Esc says it is kept. It is refused instead.
#[test]
fn the_open_draft_cannot_be_deleted_from_the_list() {
    let mut s = open();
    typ(&mut s, "a fox");
    let name = ed(&s).name.clone();
    k(&mut s, KeyCode::F(3), crossterm::event::KeyModifiers::NONE);
    msg(
        &mut s,
        ComposerMsg::Drafts {
            items: vec![
                (name.clone(), "{}".into(), NOW),
                ("older".into(), "{}".into(), NOW - 9),
            ],
            then_open: false,
        },
    );
    let fx = ch(&mut s, 'd');
    assert!(
        !composer_fx(&fx)
            .iter()
            .any(|e| matches!(e, ComposerEffect::DeleteDraft(n) if *n == name)),
        "{fx:?}"
    );
    // Other drafts still can be.
    ch(&mut s, 'j');
    let fx = ch(&mut s, 'd');
    assert_eq!(
        composer_fx(&fx),
        vec![ComposerEffect::DeleteDraft("older".into())]
    );
}
