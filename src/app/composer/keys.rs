//! Text in the composer: keys no command claimed (`app::router` decides) and pastes go to the
//! focused widget — the prompt editor, a typed field, or the input line.

use super::fields;
use super::reduce::{default_role, touched, with_editor};
use super::{Asset, Field, Mode};
use crate::api::types::MediaKind;
use crate::app::effect::Effect;
use crate::app::state::State;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// A key no command claimed: it goes to the focused widget.
pub(crate) fn typing(state: &mut State, key: &KeyEvent) -> Vec<Effect> {
    let now = state.now;
    with_editor(state, |_, e| {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if let Mode::Input {
            text, candidates, ..
        } = &mut e.mode
        {
            match key.code {
                KeyCode::Char(c) if !ctrl => text.push(c),
                KeyCode::Backspace => {
                    text.pop();
                }
                _ => {}
            }
            candidates.clear();
            return (Vec::new(), true);
        }
        if e.mode != Mode::Edit {
            return (Vec::new(), true);
        }
        match e.focus {
            Field::Prompt if e.prompt.input(*key) => {
                e.history_pos = None;
                return (touched(now, e), true);
            }
            Field::Prompt => {}
            // A key the field does not take (a letter in a number) leaves it as it is.
            f if f.typed()
                && !matches!(key.code, KeyCode::Backspace)
                && !matches!(key.code, KeyCode::Char(c) if !ctrl && fields::accepts(f, c)) => {}
            f if f.typed() => {
                // A number typed afresh replaces the value; Backspace (and a URL) edit it.
                let mut text = e.typing.take().unwrap_or_else(|| {
                    if key.code == KeyCode::Backspace || f.edited_as_text() {
                        fields::typing_start(e, f)
                    } else {
                        String::new()
                    }
                });
                let changed = match key.code {
                    KeyCode::Char(c) if !ctrl && fields::accepts(f, c) => {
                        text.push(c);
                        true
                    }
                    KeyCode::Backspace => text.pop().is_some(),
                    _ => false,
                };
                if changed {
                    fields::set_typed(e, f, &text);
                }
                e.typing = Some(text);
                if changed {
                    return (touched(now, e), true);
                }
            }
            _ => {}
        }
        (Vec::new(), true)
    })
}

/// Pasted text goes where typing would.
pub(crate) fn paste(state: &mut State, text: &str) -> Vec<Effect> {
    let now = state.now;
    // Some terminals send a paste's line breaks as a lone CR (as typing Enter would).
    let text = &text.replace("\r\n", "\n").replace('\r', "\n");
    with_editor(state, |_, e| {
        if let Mode::Input { text: t, .. } = &mut e.mode {
            t.push_str(&text.replace(['\n', '\r'], ""));
            return (Vec::new(), true);
        }
        if e.mode != Mode::Edit {
            return (Vec::new(), true);
        }
        match e.focus {
            Field::Prompt => {
                e.prompt.insert_str(text);
                (touched(now, e), true)
            }
            f if f.typed() => {
                let mut t = e
                    .typing
                    .take()
                    .unwrap_or_else(|| fields::typing_start(e, f));
                t.extend(text.chars().filter(|c| fields::accepts(f, *c)));
                fields::set_typed(e, f, &t);
                e.typing = Some(t);
                (touched(now, e), true)
            }
            Field::Assets => {
                // Terminals paste dropped files as their paths: one asset per line.
                for line in text.lines() {
                    let target = line.trim().trim_matches(['\'', '"']).to_string();
                    if target.is_empty() {
                        continue;
                    }
                    let kind = kind_of(&target);
                    let role = default_role(e, kind);
                    e.assets.push(Asset {
                        kind,
                        target,
                        role,
                        name: None,
                    });
                }
                e.asset_sel = e.assets.len().saturating_sub(1);
                (touched(now, e), true)
            }
            _ => (Vec::new(), true),
        }
    })
}

/// The media kind a path or URL most likely is, by its extension (images by default).
fn kind_of(target: &str) -> MediaKind {
    let path = target.split(['?', '#']).next().unwrap_or(target);
    let ext = path
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "mp4" | "mov" | "webm" | "mkv" | "avi" => MediaKind::Video,
        "mp3" | "wav" | "m4a" | "aac" | "flac" | "ogg" => MediaKind::Audio,
        _ => MediaKind::Image,
    }
}
