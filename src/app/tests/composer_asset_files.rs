//! An edited task's inlined files show the local file names they were sent from (`e`): the
//! editor knows them from the task's `asset_files`, a submission carries them on, a draft keeps
//! them, and another target drops the old name.

use crate::app::composer::{ComposerEffect, Field, draft_json, editor_from_json};
use crate::app::test_support::composer::*;
use crate::app::test_support::state;
use crossterm::event::KeyCode;

/// A small PNG's data URL, as `submit --image` sends it.
const PNG: &str = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB";

#[test]
fn e_names_an_inlined_image_and_the_submission_carries_the_name_on() {
    let mut s = edit_with(120, 40, PNG, "harbour-ref.png");
    let e = ed(&s);
    assert_eq!(e.assets[0].target, PNG);
    assert_eq!(e.assets[0].name.as_deref(), Some("harbour-ref.png"));
    let fx = ctrl(&mut s, 's');
    let sent = composer_fx(&fx)
        .into_iter()
        .find_map(|c| match c {
            ComposerEffect::Submit {
                request_json,
                asset_files,
                retry_of,
                ..
            } => Some((request_json, asset_files, retry_of)),
            _ => None,
        })
        .expect("submitted");
    assert!(sent.0.contains(PNG));
    assert_eq!(sent.1.name(PNG), Some("harbour-ref.png"));
    assert_eq!(sent.2.as_deref(), Some("l0003"));
}

#[test]
fn a_task_without_names_shows_none_and_sends_none() {
    let mut s = state(120, 40);
    for _ in 0..3 {
        ch(&mut s, 'j');
    }
    let fx = ch(&mut s, 'e');
    crate::app::test_support::answer_bodies(&mut s, fx);
    assert_eq!(ed(&s).assets[0].name, None);
    let fx = ctrl(&mut s, 's');
    assert!(composer_fx(&fx).iter().any(|c| matches!(
        c,
        ComposerEffect::Submit { asset_files, .. } if asset_files.is_empty()
    )));
}

#[test]
fn a_draft_of_the_edit_keeps_the_names() {
    let s = edit_with(120, 40, PNG, "harbour-ref.png");
    let json = draft_json(ed(&s));
    let back = editor_from_json("again".into(), &json).expect("a draft");
    assert_eq!(back.assets[0].name.as_deref(), Some("harbour-ref.png"));
    assert_eq!(back.asset_files.name(PNG), Some("harbour-ref.png"));
    // A draft with no inlined file writes no names.
    let plain = open();
    assert!(!draft_json(ed(&plain)).contains("asset_files"));
}

#[test]
fn another_target_drops_the_old_name() {
    let mut s = edit_with(120, 40, PNG, "harbour-ref.png");
    focus(&mut s, Field::Assets);
    press(&mut s, KeyCode::Enter);
    for _ in 0..PNG.len() {
        press(&mut s, KeyCode::Backspace);
    }
    typ(&mut s, "https://example.com/other.png");
    press(&mut s, KeyCode::Enter);
    let a = &ed(&s).assets[0];
    assert_eq!(a.target, "https://example.com/other.png");
    assert_eq!(a.name, None);
}
