//! Shared helpers for the composer reducer tests: keys in, effects out, and a composer opened
//! on a fresh draft from the config defaults.

use super::fixtures::state;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use seedance_tui::app::composer::{ComposerEffect, ComposerMsg};
use seedance_tui::app::{Effect, Msg, State, update};

pub fn k(s: &mut State, code: KeyCode, m: KeyModifiers) -> Vec<Effect> {
    update(s, Msg::Key(KeyEvent::new(code, m)))
}
pub fn press(s: &mut State, code: KeyCode) -> Vec<Effect> {
    k(s, code, KeyModifiers::NONE)
}
pub fn ch(s: &mut State, c: char) -> Vec<Effect> {
    press(s, KeyCode::Char(c))
}
pub fn ctrl(s: &mut State, c: char) -> Vec<Effect> {
    k(s, KeyCode::Char(c), KeyModifiers::CONTROL)
}
pub fn typ(s: &mut State, text: &str) -> Vec<Effect> {
    let mut out = Vec::new();
    for c in text.chars() {
        out.extend(ch(s, c));
    }
    out
}
pub fn msg(s: &mut State, m: ComposerMsg) -> Vec<Effect> {
    update(s, Msg::Composer(m))
}
pub fn composer_fx(fx: &[Effect]) -> Vec<ComposerEffect> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Composer(c) => Some(c.clone()),
            _ => None,
        })
        .collect()
}

/// `n` on an empty drafts table: a fresh draft from the config defaults.
pub fn open() -> State {
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
