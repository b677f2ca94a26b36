//! The composer's reducer: every composer intent, message in, state and effects out.

mod fixtures_ui;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use fixtures_ui::{NOW, state};
use seedance_tui::api::types::{CreateRequest, MediaKind, Role};
use seedance_tui::app::composer::{
    ComposerEffect, ComposerMsg, Editor, Field, InputPurpose, Mode, PickerKind, SubmitOutcome,
};
use seedance_tui::app::keymap::Context;
use seedance_tui::app::state::Overlay;
use seedance_tui::app::{Effect, Msg, State, update};

fn k(s: &mut State, code: KeyCode, m: KeyModifiers) -> Vec<Effect> {
    update(s, Msg::Key(KeyEvent::new(code, m)))
}
fn press(s: &mut State, code: KeyCode) -> Vec<Effect> {
    k(s, code, KeyModifiers::NONE)
}
fn ch(s: &mut State, c: char) -> Vec<Effect> {
    press(s, KeyCode::Char(c))
}
fn ctrl(s: &mut State, c: char) -> Vec<Effect> {
    k(s, KeyCode::Char(c), KeyModifiers::CONTROL)
}
fn alt(s: &mut State, c: char) -> Vec<Effect> {
    k(s, KeyCode::Char(c), KeyModifiers::ALT)
}
fn typ(s: &mut State, text: &str) -> Vec<Effect> {
    let mut out = Vec::new();
    for c in text.chars() {
        out.extend(ch(s, c));
    }
    out
}
fn ed(s: &State) -> &Editor {
    s.composer.editor.as_deref().expect("composer open")
}
fn msg(s: &mut State, m: ComposerMsg) -> Vec<Effect> {
    update(s, Msg::Composer(m))
}
fn composer_fx(fx: &[Effect]) -> Vec<ComposerEffect> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Composer(c) => Some(c.clone()),
            _ => None,
        })
        .collect()
}
fn focus(s: &mut State, f: Field) {
    for _ in 0..Field::ALL.len() {
        if ed(s).focus == f {
            return;
        }
        press(s, KeyCode::Tab);
    }
    panic!("cannot reach {f:?}");
}

/// `n` on an empty drafts table: a fresh draft from the config defaults.
fn open() -> State {
    let mut s = state(120, 40);
    let fx = ch(&mut s, 'n');
    assert_eq!(
        composer_fx(&fx),
        vec![ComposerEffect::LoadDrafts { then_open: true }]
    );
    assert!(!s.composer.is_open(), "opens once the drafts are read");
    msg(
        &mut s,
        ComposerMsg::Drafts {
            items: Vec::new(),
            then_open: true,
        },
    );
    s
}

fn request(s: &State) -> CreateRequest {
    ed(s).request()
}

#[test]
fn n_opens_a_new_draft_from_the_config_defaults() {
    let s = open();
    let r = request(&s);
    assert_eq!(r.model, "doubao-seedance-2-0-fast-260128");
    assert_eq!(r.duration, Some(5));
    assert_eq!(r.ratio.as_deref(), Some("16:9"));
    assert_eq!(r.resolution.as_deref(), Some("720p"));
    assert_eq!(r.return_last_frame, Some(true));
    assert_eq!(s.context(), Context::Composer);
    assert_eq!(ed(&s).focus, Field::Prompt);
}

#[test]
fn n_restores_the_most_recent_draft() {
    let mut s = state(120, 40);
    ch(&mut s, 'n');
    let draft = r#"{"composer_draft":1,"retry_of":null,"request":{"model":"doubao-seedance-2-0-260128","content":[{"type":"text","text":"half typed"}],"duration":7}}"#;
    msg(
        &mut s,
        ComposerMsg::Drafts {
            items: vec![
                ("draft a".into(), draft.into(), NOW - 5),
                ("draft b".into(), "{}".into(), NOW - 50),
            ],
            then_open: true,
        },
    );
    assert_eq!(ed(&s).name, "draft a");
    assert_eq!(ed(&s).prompt_text(), "half typed");
    assert_eq!(request(&s).duration, Some(7));
    assert!(
        s.current_message()
            .is_some_and(|m| m.text.contains("restored") && m.text.contains("1 more"))
    );
}

#[test]
fn typing_goes_to_the_prompt_not_the_dashboard() {
    let mut s = open();
    let fx = typ(&mut s, "quiet jq");
    assert!(!fx.contains(&Effect::Quit), "q is typed, not quit");
    assert_eq!(ed(&s).prompt_text(), "quiet jq");
    press(&mut s, KeyCode::Enter);
    typ(&mut s, "line two");
    assert_eq!(ed(&s).prompt_text(), "quiet jq\nline two");
    assert_eq!(ed(&s).prompt_chars(), 17);
    assert_eq!(
        s.selected.as_deref(),
        Some("l0000"),
        "the table did not move"
    );
}

#[test]
fn undo_redo_word_movement_and_paste() {
    let mut s = open();
    typ(&mut s, "hello world");
    alt(&mut s, 'b'); // back one word
    typ(&mut s, "big ");
    assert_eq!(ed(&s).prompt_text(), "hello big world");
    ctrl(&mut s, 'z');
    assert_ne!(ed(&s).prompt_text(), "hello big world", "undo");
    while ed(&s).prompt_text() != "hello world" {
        assert!(ed(&s).prompt_text().len() > "hello world".len());
        ctrl(&mut s, 'z');
    }
    ctrl(&mut s, 'y');
    assert_ne!(ed(&s).prompt_text(), "hello world", "redo");
    let mut s = open();
    update(&mut s, Msg::Paste("a long\r\npasted text".into()));
    assert_eq!(ed(&s).prompt_text(), "a long\npasted text");
}

#[test]
fn ctrl_p_and_ctrl_n_recall_earlier_prompts() {
    let mut s = open();
    typ(&mut s, "mine");
    ctrl(&mut s, 'p');
    let newest = "A red fox running through fresh snow at dawn, cinematic slow motion";
    assert_eq!(ed(&s).prompt_text(), newest);
    ctrl(&mut s, 'p');
    assert_eq!(
        ed(&s).prompt_text(),
        "Product close-up of a ceramic mug rotating on a turntable"
    );
    ctrl(&mut s, 'n');
    assert_eq!(ed(&s).prompt_text(), newest);
    ctrl(&mut s, 'n');
    assert_eq!(ed(&s).prompt_text(), "mine", "back to what was typed");
}

#[test]
fn tab_moves_through_the_form_and_arrows_change_values() {
    let mut s = open();
    press(&mut s, KeyCode::Tab);
    assert_eq!(ed(&s).focus, Field::Model);
    assert_eq!(s.context(), Context::ComposerField);
    k(&mut s, KeyCode::BackTab, KeyModifiers::SHIFT);
    assert_eq!(ed(&s).focus, Field::Prompt);
    // Model: → goes to the next model in the table.
    focus(&mut s, Field::Resolution);
    press(&mut s, KeyCode::Left);
    assert_eq!(request(&s).resolution.as_deref(), Some("480p"));
    press(&mut s, KeyCode::Right);
    press(&mut s, KeyCode::Right);
    assert_eq!(
        request(&s).resolution.as_deref(),
        Some("480p"),
        "the fast model offers only 480p and 720p"
    );
    focus(&mut s, Field::Model);
    press(&mut s, KeyCode::Left); // to the standard 2.0 model
    assert_eq!(request(&s).model, "doubao-seedance-2-0-260128");
    focus(&mut s, Field::Resolution);
    press(&mut s, KeyCode::Right);
    press(&mut s, KeyCode::Right);
    assert_eq!(request(&s).resolution.as_deref(), Some("1080p"));
    focus(&mut s, Field::Model);
    press(&mut s, KeyCode::Right); // back to fast: 1080p is not offered there
    assert_eq!(request(&s).resolution.as_deref(), Some("720p"));
    focus(&mut s, Field::Ratio);
    press(&mut s, KeyCode::Right);
    assert_eq!(request(&s).ratio.as_deref(), Some("4:3"));
    focus(&mut s, Field::Duration);
    press(&mut s, KeyCode::Right);
    assert_eq!(request(&s).duration, Some(6));
    focus(&mut s, Field::Watermark);
    ch(&mut s, ' ');
    assert_eq!(request(&s).watermark, Some(true));
    focus(&mut s, Field::CameraFixed);
    press(&mut s, KeyCode::Right);
    assert_eq!(request(&s).camera_fixed, Some(true));
    focus(&mut s, Field::GenerateAudio);
    press(&mut s, KeyCode::Right);
    assert_eq!(request(&s).generate_audio, Some(true));
    focus(&mut s, Field::ReturnLastFrame);
    press(&mut s, KeyCode::Right);
    assert_eq!(request(&s).return_last_frame, Some(false));
    focus(&mut s, Field::ServiceTier);
    press(&mut s, KeyCode::Left);
    assert_eq!(request(&s).service_tier.as_deref(), Some("flex"));
    focus(&mut s, Field::ExpiresAfter);
    press(&mut s, KeyCode::Left);
    assert_eq!(request(&s).execution_expires_after, Some(172_800 - 3600));
}

#[test]
fn typed_fields_seed_callback_and_frames_override_duration() {
    let mut s = open();
    focus(&mut s, Field::Seed);
    typ(&mut s, "12x3");
    assert_eq!(request(&s).seed, Some(123), "letters are not taken");
    press(&mut s, KeyCode::Backspace);
    assert_eq!(request(&s).seed, Some(12));
    focus(&mut s, Field::Duration);
    press(&mut s, KeyCode::Backspace); // edits the value: 5 -> empty
    assert_eq!(request(&s).duration, None);
    typ(&mut s, "7");
    assert_eq!(request(&s).duration, Some(7));
    focus(&mut s, Field::CallbackUrl);
    typ(&mut s, "https://hook.example/x");
    assert_eq!(
        request(&s).callback_url.as_deref(),
        Some("https://hook.example/x")
    );
    focus(&mut s, Field::Frames);
    press(&mut s, KeyCode::Right);
    let r = request(&s);
    assert_eq!(r.frames, Some(29));
    assert_eq!(r.duration, None, "frames override duration");
    assert!(
        seedance_tui::app::composer::problem_texts(ed(&s))
            .iter()
            .any(|p| p.starts_with("frames:")),
        "the fast model takes no frames: shown at once"
    );
    press(&mut s, KeyCode::Left);
    assert_eq!(request(&s).duration, Some(7), "duration is back");
}

#[test]
fn problems_are_live_and_submit_is_refused_with_the_first_focused() {
    let mut s = open();
    assert_eq!(ed(&s).problems[0].field, Field::Prompt, "empty prompt");
    typ(&mut s, "a fox");
    assert!(ed(&s).problems.is_empty());
    focus(&mut s, Field::Duration);
    typ(&mut s, "50"); // typing replaces the 5
    assert_eq!(request(&s).duration, Some(50));
    assert_eq!(ed(&s).problems.len(), 1);
    assert_eq!(ed(&s).problems[0].field, Field::Duration);
    focus(&mut s, Field::Prompt);
    let fx = ctrl(&mut s, 's');
    assert!(
        composer_fx(&fx)
            .iter()
            .all(|e| !matches!(e, ComposerEffect::Submit { .. }))
    );
    assert_eq!(ed(&s).focus, Field::Duration, "the first problem has focus");
    assert!(
        s.current_message()
            .is_some_and(|m| m.text.contains("not sent") && m.text.contains("duration"))
    );
}

fn add_asset(s: &mut State, key: char, target: &str) {
    focus(s, Field::Assets);
    ch(s, key);
    assert!(matches!(ed(s).mode, Mode::Input { .. }));
    assert_eq!(s.context(), Context::ComposerInput);
    typ(s, target);
    press(s, KeyCode::Enter);
}

#[test]
fn assets_are_added_with_valid_roles_reordered_and_removed() {
    let mut s = open();
    typ(&mut s, "first and last");
    add_asset(&mut s, 'i', "/tmp/a.png");
    add_asset(&mut s, 'i', "https://x.example/b.png");
    let a = &ed(&s).assets;
    assert_eq!(a.len(), 2);
    assert_eq!(
        (a[0].role.clone(), a[1].role.clone()),
        (Role::FirstFrame, Role::LastFrame)
    );
    assert!(a[0].is_local() && !a[1].is_local());
    assert!(ed(&s).problems.is_empty(), "{:?}", ed(&s).problems);
    ch(&mut s, 'r'); // last_frame -> reference_image
    assert_eq!(ed(&s).assets[1].role, Role::ReferenceImage);
    assert!(
        ed(&s)
            .problems
            .iter()
            .any(|p| p.field == Field::Assets && p.asset == Some(1)),
        "mixing frames and references is shown on the asset"
    );
    ch(&mut s, 'r');
    ch(&mut s, 'r');
    assert_eq!(
        ed(&s).assets[1].role,
        Role::LastFrame,
        "roles cycle within image roles"
    );
    ch(&mut s, 'K');
    assert_eq!(ed(&s).assets[0].target, "https://x.example/b.png");
    assert_eq!(ed(&s).asset_sel, 0);
    ch(&mut s, 'J');
    assert_eq!(ed(&s).assets[1].target, "https://x.example/b.png");
    add_asset(&mut s, 'a', "/tmp/voice.mp3");
    assert_eq!(ed(&s).assets[2].role, Role::ReferenceAudio);
    add_asset(&mut s, 'v', "/tmp/clip.mp4");
    assert_eq!(ed(&s).assets[3].kind, MediaKind::Video);
    assert!(
        ed(&s)
            .problems
            .iter()
            .any(|p| p.asset == Some(3) && p.problem.message.contains("no inline video")),
        "a local video cannot be inlined"
    );
    ch(&mut s, 'd');
    assert_eq!(ed(&s).assets.len(), 3);
    // Enter edits the selected asset's target.
    press(&mut s, KeyCode::Enter);
    assert!(matches!(
        ed(&s).mode,
        Mode::Input {
            purpose: InputPurpose::AssetTarget { fresh: false, .. },
            ..
        }
    ));
    press(&mut s, KeyCode::Esc);
    assert_eq!(ed(&s).assets.len(), 3, "Esc on an existing asset keeps it");
    // Esc on a new one drops it.
    ch(&mut s, 'i');
    press(&mut s, KeyCode::Esc);
    assert_eq!(ed(&s).assets.len(), 3);
    assert_eq!(ed(&s).mode, Mode::Edit);
}

#[test]
fn local_files_are_checked_for_size_before_submit() {
    let mut s = open();
    typ(&mut s, "a fox");
    focus(&mut s, Field::Assets);
    ch(&mut s, 'i');
    typ(&mut s, "/pics/huge.png");
    let fx = press(&mut s, KeyCode::Enter);
    assert!(composer_fx(&fx).contains(&ComposerEffect::CheckFile {
        path: "/pics/huge.png".into(),
        kind: MediaKind::Image,
    }));
    assert!(ed(&s).problems.is_empty(), "no answer yet");
    msg(
        &mut s,
        ComposerMsg::FileChecked {
            path: "/pics/huge.png".into(),
            result: Err("/pics/huge.png is 40000000 bytes; the API accepts image files up to 31457280 bytes inline".into()),
        },
    );
    assert_eq!(ed(&s).problems.len(), 1);
    assert_eq!(ed(&s).problems[0].asset, Some(0));
    let fx = ctrl(&mut s, 's');
    assert!(
        composer_fx(&fx)
            .iter()
            .all(|e| !matches!(e, ComposerEffect::Submit { .. }))
    );
    // The same file is not asked about twice.
    ch(&mut s, 'r');
    assert!(ed(&s).files.len() == 1);
}

#[test]
fn tab_completes_paths_through_the_runtime() {
    let mut s = open();
    focus(&mut s, Field::Assets);
    ch(&mut s, 'i');
    typ(&mut s, "/tmp/fr");
    let fx = press(&mut s, KeyCode::Tab);
    assert_eq!(
        composer_fx(&fx),
        vec![ComposerEffect::Complete("/tmp/fr".into())]
    );
    msg(
        &mut s,
        ComposerMsg::Completions {
            input: "/tmp/fr".into(),
            matches: vec!["/tmp/frame1.png".into(), "/tmp/frame2.png".into()],
        },
    );
    match &ed(&s).mode {
        Mode::Input {
            text, candidates, ..
        } => {
            assert_eq!(text, "/tmp/frame");
            assert_eq!(candidates.len(), 2);
        }
        m => panic!("{m:?}"),
    }
    ch(&mut s, '2');
    msg(
        &mut s,
        ComposerMsg::Completions {
            input: "/tmp/frame2".into(),
            matches: vec!["/tmp/frame2.png".into()],
        },
    );
    press(&mut s, KeyCode::Enter);
    assert_eq!(ed(&s).assets[0].target, "/tmp/frame2.png");
}

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

#[test]
fn pasted_paths_in_the_asset_list_become_assets() {
    let mut s = open();
    focus(&mut s, Field::Assets);
    update(
        &mut s,
        Msg::Paste(
            "'/pics/a.png'\n/pics/b.JPG\nhttps://x.example/v.mp4?sig=1\n/snd/voice.mp3\n".into(),
        ),
    );
    let a = &ed(&s).assets;
    assert_eq!(a.len(), 4);
    assert_eq!(a[0].target, "/pics/a.png");
    assert_eq!(
        (a[0].kind, a[0].role.clone()),
        (MediaKind::Image, Role::FirstFrame)
    );
    assert_eq!(
        (a[1].kind, a[1].role.clone()),
        (MediaKind::Image, Role::LastFrame)
    );
    assert_eq!(a[2].kind, MediaKind::Video);
    assert_eq!(a[3].kind, MediaKind::Audio);
    assert_eq!(ed(&s).asset_sel, 3);
}
