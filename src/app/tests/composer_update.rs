//! The composer's reducer, the form: opening a draft, the prompt editor, form fields, live
//! problems and assets. Drafts, templates, submit and preview are in `composer_drafts.rs`.

use crate::api::types::{MediaKind, Role};
use crate::app::composer::{ComposerEffect, ComposerMsg, Field, InputPurpose, Mode};
use crate::app::keymap::Context;
use crate::app::test_support::composer::*;
use crate::app::test_support::{NOW, state};
use crate::app::{Effect, Msg, State, update};
use crossterm::event::{KeyCode, KeyModifiers};

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
        crate::app::composer::problem_texts(ed(&s))
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

/// A typed number at the edge of `i64` and then ←/→: no overflow (a panic in debug builds, a
/// wrapped value in release ones); the value is clamped to the field's range.
#[test]
fn stepping_a_huge_typed_number_does_not_overflow() {
    let mut s = open();
    focus(&mut s, Field::Seed);
    typ(&mut s, "9223372036854775807");
    assert_eq!(request(&s).seed, Some(i64::MAX));
    press(&mut s, KeyCode::Right);
    assert_eq!(request(&s).seed, Some(2_147_483_647));
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

#[test]
fn with_an_upload_bucket_a_local_video_goes_through_it_instead_of_being_refused() {
    let mut s = open();
    s.composer.uploads = true; // `[assets] upload_to` is set
    typ(&mut s, "extend the clip");
    add_asset(&mut s, 'v', "/tmp/clip.mp4");
    assert_eq!(ed(&s).assets[0].kind, MediaKind::Video);
    assert!(ed(&s).uploads);
    assert!(
        !ed(&s)
            .problems
            .iter()
            .any(|p| p.problem.message.contains("no inline video")),
        "{:?}",
        ed(&s).problems
    );
}
