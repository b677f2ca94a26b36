//! The composer's reducer, around the form: saving and listing drafts, templates, loading and
//! exporting JSON, submit and its outcomes, preview, help, and editing a copy of a task.

use crate::api::types::{CreateRequest, Role};
use crate::app::composer::{ComposerEffect, ComposerMsg, Field, Mode, PickerKind, SubmitOutcome};
use crate::app::keymap::Context;
use crate::app::state::Overlay;
use crate::app::test_support::composer::*;
use crate::app::test_support::{NOW, state};
use crate::app::{Effect, Msg, update};
use crossterm::event::{KeyCode, KeyModifiers};

#[test]
fn drafts_are_saved_debounced_by_the_clock() {
    let mut s = open();
    let fx = typ(&mut s, "abc");
    assert!(composer_fx(&fx).is_empty(), "not on every key");
    assert!(ed(&s).unsaved_since.is_some());
    let fx = update(&mut s, Msg::Tick { now: NOW + 1 });
    let saves = composer_fx(&fx);
    let [ComposerEffect::SaveDraft { name, json, at }] = saves.as_slice() else {
        panic!("{saves:?}");
    };
    assert_eq!(*at, NOW + 1);
    assert!(json.contains("abc"));
    assert!(ed(&s).unsaved_since.is_none());
    msg(
        &mut s,
        ComposerMsg::Saved {
            name: name.clone(),
            at: NOW + 1,
        },
    );
    assert_eq!(ed(&s).saved_at, Some(NOW + 1));
    assert!(composer_fx(&update(&mut s, Msg::Tick { now: NOW + 2 })).is_empty());
    // Typing on: at most one write per second, each carrying everything typed so far.
    let mut writes = 0;
    for i in 0..20 {
        let now = NOW + 3 + i / 4; // four keys a second
        let mut fx = update(&mut s, Msg::Tick { now });
        fx.extend(ch(&mut s, 'x'));
        writes += composer_fx(&fx).len();
    }
    assert!(
        (3..=5).contains(&writes),
        "{writes} writes for 20 keys over 5 s"
    );
}

#[test]
fn esc_closes_and_keeps_the_draft() {
    let mut s = open();
    typ(&mut s, "keep me");
    let fx = press(&mut s, KeyCode::Esc);
    assert!(!s.composer.is_open());
    assert!(matches!(
        composer_fx(&fx).as_slice(),
        [ComposerEffect::SaveDraft { json, .. }] if json.contains("keep me")
    ));
    assert!(s.current_message().is_some_and(|m| m.text.contains("kept")));
    assert_eq!(s.context(), Context::Main);
}

#[test]
fn submit_sends_once_and_accepted_closes_the_composer() {
    let mut s = open();
    typ(&mut s, "a fox");
    let fx = ctrl(&mut s, 's');
    let cfx = composer_fx(&fx);
    let Some(ComposerEffect::Submit {
        request_json,
        retry_of,
        ..
    }) = cfx.last()
    else {
        panic!("{cfx:?}");
    };
    assert!(retry_of.is_none());
    let sent = CreateRequest::from_json(request_json).expect("json");
    assert_eq!(sent.prompt(), Some("a fox"));
    assert!(!s.composer.is_open(), "the table shows the task at once");
    assert!(s.composer.submitting.is_some());
    assert!(
        composer_fx(&ctrl(&mut s, 's')).is_empty(),
        "no second send while submitting"
    );
    // `n` meanwhile does not reopen the draft being sent.
    ch(&mut s, 'n');
    let name = s
        .composer
        .submitting
        .as_ref()
        .map(|e| e.name.clone())
        .unwrap_or_default();
    msg(
        &mut s,
        ComposerMsg::Drafts {
            items: vec![(name, "{}".into(), NOW)],
            then_open: true,
        },
    );
    assert_eq!(ed(&s).prompt_text(), "", "a fresh draft");
    press(&mut s, KeyCode::Esc);
    msg(
        &mut s,
        ComposerMsg::Submitted(SubmitOutcome::Accepted {
            local_id: "l0001".into(),
        }),
    );
    assert!(!s.composer.is_open());
    assert_eq!(s.selected.as_deref(), Some("l0001"));
}

#[test]
fn a_rejection_keeps_the_composer_open_with_the_error_beside_the_field() {
    let mut s = open();
    typ(&mut s, "a fox");
    ctrl(&mut s, 's');
    msg(
        &mut s,
        ComposerMsg::Submitted(SubmitOutcome::Rejected {
            local_id: Some("lx".into()),
            param: Some("resolution".into()),
            message: "InvalidParameter: resolution not supported".into(),
        }),
    );
    let e = ed(&s);
    assert_eq!(e.mode, Mode::Edit);
    assert_eq!(e.focus, Field::Resolution);
    let at = e.problems_at(Field::Resolution, None);
    assert!(
        at.iter()
            .any(|p| p.problem.message.contains("not supported"))
    );
    // A local file that cannot be read is placed on its asset.
    ctrl(&mut s, 's');
    msg(
        &mut s,
        ComposerMsg::Submitted(SubmitOutcome::AssetError {
            field: "content[0].image_url.url".into(),
            message: "cannot read".into(),
        }),
    );
    assert_eq!(ed(&s).focus, Field::Prompt, "content[0] is the prompt here");
}

#[test]
fn an_unknown_outcome_is_never_resent_and_says_so() {
    let mut s = open();
    typ(&mut s, "a fox");
    ctrl(&mut s, 's');
    let fx = msg(
        &mut s,
        ComposerMsg::Submitted(SubmitOutcome::Unknown {
            local_id: "l0008".into(),
            message: "timed out".into(),
        }),
    );
    assert!(fx.is_empty(), "nothing is sent again");
    assert!(!s.composer.is_open());
    assert_eq!(s.selected.as_deref(), Some("l0008"));
    assert!(
        s.current_message()
            .is_some_and(|m| m.text.contains("will not be re-sent") && m.text.contains("kept"))
    );
}

#[test]
fn preview_shows_the_body_and_copies_json_and_curl() {
    let mut s = open();
    typ(&mut s, "a fox");
    let fx = press(&mut s, KeyCode::F(2));
    assert!(matches!(
        composer_fx(&fx).as_slice(),
        [ComposerEffect::Preview { request_json }] if request_json.contains("a fox")
    ));
    assert_eq!(s.context(), Context::ComposerPreview);
    msg(
        &mut s,
        ComposerMsg::Preview(Ok(r#"{"model":"m","content":[]}"#.into())),
    );
    let fx = ch(&mut s, 'j');
    assert!(matches!(fx.as_slice(), [Effect::Copy(t)] if t.contains("\"model\": \"m\"")));
    let fx = ch(&mut s, 'c');
    let [Effect::Copy(curl)] = fx.as_slice() else {
        panic!("{fx:?}")
    };
    assert!(curl.contains("$SEEDANCE_API_KEY") && curl.contains("/contents/generations/tasks"));
    press(&mut s, KeyCode::Esc);
    assert_eq!(ed(&s).mode, Mode::Edit);
}

#[test]
fn drafts_list_opens_and_deletes_drafts() {
    let mut s = open();
    let fx = press(&mut s, KeyCode::F(3));
    assert!(composer_fx(&fx).contains(&ComposerEffect::LoadDrafts { then_open: false }));
    let d = |p: &str| {
        format!(
            r#"{{"composer_draft":1,"request":{{"model":"m","content":[{{"type":"text","text":"{p}"}}]}}}}"#
        )
    };
    msg(
        &mut s,
        ComposerMsg::Drafts {
            items: vec![
                ("one".into(), d("first"), NOW),
                ("two".into(), d("second"), NOW),
            ],
            then_open: false,
        },
    );
    assert_eq!(s.context(), Context::ComposerPicker);
    let fx = ch(&mut s, 'd');
    assert_eq!(
        composer_fx(&fx),
        vec![ComposerEffect::DeleteDraft("one".into())]
    );
    press(&mut s, KeyCode::Enter);
    assert_eq!(ed(&s).name, "two");
    assert_eq!(ed(&s).prompt_text(), "second");
}

#[test]
fn templates_save_and_start_drafts() {
    let mut s = open();
    typ(&mut s, "product shot");
    alt(&mut s, 's');
    typ(&mut s, "ad");
    let fx = press(&mut s, KeyCode::Enter);
    assert!(matches!(
        composer_fx(&fx).as_slice(),
        [ComposerEffect::SaveTemplate { name, json }] if name == "ad" && json.contains("product shot")
    ));
    let fx = press(&mut s, KeyCode::F(4));
    assert_eq!(composer_fx(&fx), vec![ComposerEffect::LoadTemplates]);
    let t = r#"{"composer_draft":1,"request":{"model":"doubao-seedance-2-0-260128","content":[{"type":"text","text":"template text"}],"duration":9}}"#;
    msg(
        &mut s,
        ComposerMsg::Templates(vec![("ad".into(), t.into())]),
    );
    assert!(matches!(
        ed(&s).mode,
        Mode::Picker {
            kind: PickerKind::Templates,
            ..
        }
    ));
    press(&mut s, KeyCode::Enter);
    assert_eq!(ed(&s).prompt_text(), "template text");
    assert_eq!(request(&s).duration, Some(9));
    assert!(ed(&s).unsaved_since.is_some(), "a new draft, saved soon");
}

#[test]
fn new_blank_rename_load_and_export() {
    let mut s = open();
    typ(&mut s, "old");
    let fx = alt(&mut s, 'n');
    assert!(
        composer_fx(&fx)
            .iter()
            .any(|e| matches!(e, ComposerEffect::SaveDraft { json, .. } if json.contains("old")))
    );
    assert_eq!(ed(&s).prompt_text(), "");
    alt(&mut s, 'r');
    for _ in 0..40 {
        press(&mut s, KeyCode::Backspace);
    }
    typ(&mut s, "hero shot");
    typ(&mut s, "");
    ch(&mut s, 'x');
    let fx = press(&mut s, KeyCode::Enter);
    let c = composer_fx(&fx);
    assert!(matches!(c.first(), Some(ComposerEffect::DeleteDraft(_))));
    assert!(
        matches!(c.last(), Some(ComposerEffect::SaveDraft { name, .. }) if name == "hero shotx")
    );
    alt(&mut s, 'l');
    typ(&mut s, "/tmp/r.json");
    let fx = press(&mut s, KeyCode::Enter);
    assert_eq!(
        composer_fx(&fx),
        vec![ComposerEffect::LoadJson("/tmp/r.json".into())]
    );
    msg(
        &mut s,
        ComposerMsg::Loaded(Ok(r#"{"model":"doubao-seedance-2-0-260128","content":[{"type":"text","text":"from file"}],"seed":7}"#.into())),
    );
    assert_eq!(ed(&s).prompt_text(), "from file");
    assert_eq!(request(&s).seed, Some(7));
    msg(&mut s, ComposerMsg::Loaded(Err("cannot read /x".into())));
    assert!(
        s.current_message()
            .is_some_and(|m| m.text.contains("not loaded"))
    );
    alt(&mut s, 'x');
    let fx = press(&mut s, KeyCode::Enter);
    assert!(matches!(
        composer_fx(&fx).as_slice(),
        [ComposerEffect::ExportJson { path, request_json }] if path == "request.json" && request_json.contains("from file")
    ));
}

#[test]
fn e_edits_a_copy_of_the_selected_task_linked_to_it() {
    let mut s = state(120, 40);
    for _ in 0..3 {
        ch(&mut s, 'j');
    }
    assert_eq!(s.selected.as_deref(), Some("l0003"));
    let fx = ch(&mut s, 'e');
    crate::app::test_support::answer_bodies(&mut s, fx);
    let e = ed(&s);
    assert_eq!(e.retry_of.as_deref(), Some("l0003"));
    assert_eq!(
        e.prompt_text(),
        "Neon city street in the rain, camera dolly forward, reflections"
    );
    assert_eq!(e.assets.len(), 1);
    assert_eq!(e.assets[0].role, Role::FirstFrame);
    let fx = ctrl(&mut s, 's');
    assert!(composer_fx(&fx).iter().any(|c| matches!(
        c,
        ComposerEffect::Submit { retry_of: Some(r), .. } if r == "l0003"
    )));
}

#[test]
fn help_opens_over_the_composer_and_closes_back_to_it() {
    let mut s = open();
    press(&mut s, KeyCode::F(1));
    assert!(matches!(s.overlay, Overlay::Help { .. }));
    press(&mut s, KeyCode::Esc);
    assert_eq!(s.overlay, Overlay::None);
    assert!(s.composer.is_open());
    let help = s.keymap.help();
    assert!(
        help.iter()
            .any(|(t, rows)| *t == "Composer" && rows.iter().any(|(k, _)| k.contains("C-s")))
    );
}

#[test]
fn e_works_from_the_detail_pane_and_ctrl_enter_submits() {
    let mut s = state(120, 40);
    ch(&mut s, 'j');
    press(&mut s, KeyCode::Enter); // detail pane
    press(&mut s, KeyCode::Tab); // focus on it
    assert_eq!(s.focus, crate::app::state::Focus::Detail);
    let fx = ch(&mut s, 'e');
    crate::app::test_support::answer_bodies(&mut s, fx);
    assert_eq!(ed(&s).retry_of.as_deref(), Some("l0001"));
    let fx = k(&mut s, KeyCode::Enter, KeyModifiers::CONTROL);
    assert!(
        composer_fx(&fx)
            .iter()
            .any(|c| matches!(c, ComposerEffect::Submit { .. }))
    );
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

/// `e` on a task, an edit, Esc (the draft is kept), then `e` on the same task again later: the
/// second copy is a draft of its own; before, it had the same name and its first save overwrote
/// the kept edit.
#[test]
fn editing_the_same_task_twice_keeps_the_first_edit() {
    let mut s = state(120, 40);
    while s.selected.as_deref() != Some("l0003") {
        ch(&mut s, 'j');
    }
    let fx = ch(&mut s, 'e');
    crate::app::test_support::answer_bodies(&mut s, fx);
    typ(&mut s, " with a cat");
    let fx = press(&mut s, KeyCode::Esc);
    let first = match composer_fx(&fx).as_slice() {
        [ComposerEffect::SaveDraft { name, json, .. }] if json.contains("with a cat") => {
            name.clone()
        }
        other => panic!("{other:?}"),
    };
    update(&mut s, Msg::Tick { now: NOW + 60 });
    let fx = ch(&mut s, 'e');
    crate::app::test_support::answer_bodies(&mut s, fx);
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
    assert_eq!(ed(&s).mode, crate::app::composer::Mode::Edit);
}

/// `q` right after Ctrl-S, before the store has reported the new `submitting` row: the
/// composer's submission is in flight, so quitting asks first (quitting ends the runtime and
/// with it the POST, leaving a create whose outcome is unknown).
#[test]
fn quitting_while_the_composer_submits_asks_first() {
    let mut s = state(120, 40);
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
    assert!(!fx.contains(&crate::app::Effect::Quit), "{fx:?}");
    assert!(matches!(
        s.overlay,
        crate::app::state::Overlay::Confirm(crate::app::state::Question::Quit { in_flight: 1 })
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
