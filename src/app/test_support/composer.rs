//! Shared helpers for the composer reducer tests: keys in, effects out, a composer opened on a
//! fresh draft from the config defaults, and one opened by `e` on a task with an inlined file.

use super::state;
use crate::api::types::CreateRequest;
use crate::app::composer::{ComposerEffect, ComposerMsg, Editor, Field};
use crate::app::{Effect, Msg, State, update};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

pub(crate) fn k(s: &mut State, code: KeyCode, m: KeyModifiers) -> Vec<Effect> {
    update(s, Msg::Key(KeyEvent::new(code, m)))
}
pub(crate) fn press(s: &mut State, code: KeyCode) -> Vec<Effect> {
    k(s, code, KeyModifiers::NONE)
}
pub(crate) fn ch(s: &mut State, c: char) -> Vec<Effect> {
    press(s, KeyCode::Char(c))
}
pub(crate) fn ctrl(s: &mut State, c: char) -> Vec<Effect> {
    k(s, KeyCode::Char(c), KeyModifiers::CONTROL)
}
pub(crate) fn alt(s: &mut State, c: char) -> Vec<Effect> {
    k(s, KeyCode::Char(c), KeyModifiers::ALT)
}
pub(crate) fn typ(s: &mut State, text: &str) -> Vec<Effect> {
    let mut out = Vec::new();
    for c in text.chars() {
        out.extend(ch(s, c));
    }
    out
}
pub(crate) fn ed(s: &State) -> &Editor {
    s.composer.editor.as_deref().expect("composer open")
}
pub(crate) fn msg(s: &mut State, m: ComposerMsg) -> Vec<Effect> {
    update(s, Msg::Composer(m))
}
pub(crate) fn composer_fx(fx: &[Effect]) -> Vec<ComposerEffect> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Composer(c) => Some(c.clone()),
            _ => None,
        })
        .collect()
}
pub(crate) fn focus(s: &mut State, f: Field) {
    // Tab moves between the sections (prompt, parameters, assets), the arrows inside one.
    for _ in 0..3 {
        if ed(s).focus.section() == f.section() {
            break;
        }
        press(s, KeyCode::Tab);
    }
    if f.section() == 1 {
        for _ in 0..Field::ALL.len() {
            press(s, KeyCode::Up);
        }
        for _ in 0..Field::ALL.len() {
            if ed(s).focus == f {
                return;
            }
            press(s, KeyCode::Down);
        }
    }
    if ed(s).focus != f {
        panic!("cannot reach {f:?}");
    }
}

/// `n` on an empty drafts table: a fresh draft from the config defaults.
pub(crate) fn open() -> State {
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

pub(crate) fn request(s: &State) -> CreateRequest {
    ed(s).request()
}

/// `e` on fixture task l0003 whose stored request sends `url` as its first frame, the store
/// naming it `name`.
pub(crate) fn edit_with(w: u16, h: u16, url: &str, name: &str) -> State {
    let mut s = state(w, h);
    for _ in 0..3 {
        ch(&mut s, 'j');
    }
    let fx = ch(&mut s, 'e');
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::LoadBodies(id) if id == "l0003")),
        "{fx:?}"
    );
    let mut record = super::task_record("l0003");
    record.request_json = record
        .request_json
        .replace("https://example.com/first.png", url);
    let mut files = crate::engine::asset_files::AssetFiles::default();
    files.insert(url, name);
    let mut bodies = crate::store::TaskBodies::of(&record);
    bodies.asset_files = files.to_json();
    update(
        &mut s,
        Msg::Bodies {
            local_id: "l0003".into(),
            result: Ok(bodies),
        },
    );
    assert!(s.composer.is_open(), "the edit opened");
    s
}
