//! The composer's reducer, around the form: saving and listing drafts, templates, loading and
//! exporting JSON, submit and its outcomes, preview, help, and editing a copy of a task.

mod composer_common;
mod fixtures_ui;

use composer_common::*;
use crossterm::event::{KeyCode, KeyModifiers};
use fixtures_ui::{NOW, state};
use seedance_tui::api::types::{CreateRequest, Role};
use seedance_tui::app::composer::{
    ComposerEffect, ComposerMsg, Field, Mode, PickerKind, SubmitOutcome,
};
use seedance_tui::app::keymap::Context;
use seedance_tui::app::state::Overlay;
use seedance_tui::app::{Effect, Msg, update};

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
    ch(&mut s, 'e');
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
    assert_eq!(s.focus, seedance_tui::app::state::Focus::Detail);
    ch(&mut s, 'e');
    assert_eq!(ed(&s).retry_of.as_deref(), Some("l0001"));
    let fx = k(&mut s, KeyCode::Enter, KeyModifiers::CONTROL);
    assert!(
        composer_fx(&fx)
            .iter()
            .any(|c| matches!(c, ComposerEffect::Submit { .. }))
    );
}
