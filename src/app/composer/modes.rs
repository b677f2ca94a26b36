//! Commands of the modes shown over the form: the one-line input (`ComposerInput`), the drafts
//! and templates list (`ComposerPicker`) and the preview of the body (`ComposerPreview`).

use super::build::draft_json;
use super::reduce::{Outcome, fx, save_if_due, touched};
use super::{ComposerEffect, ComposerIntent, Editor, InputPurpose, Mode, PickerKind};
use crate::app::effect::Effect;
use crate::app::msg::Level;
use crate::app::state::State;

/// The input line: accept, complete a path, or cancel (Esc also leaves the picker and preview).
pub(super) fn input(st: &State, e: &mut Editor, intent: ComposerIntent) -> Outcome {
    use ComposerIntent as I;
    match intent {
        I::InputAccept => accept(st.now, e),
        I::InputComplete => match &e.mode {
            Mode::Input { purpose, text, .. } if purpose.completes_paths() => {
                Outcome::effects(vec![fx(ComposerEffect::Complete(text.clone()))])
            }
            _ => Outcome::default(),
        },
        _ => {
            // A just-added asset that never got a target goes away with its input line.
            if let Mode::Input {
                purpose: InputPurpose::AssetTarget { index, fresh: true },
                ..
            } = e.mode
                && index < e.assets.len()
            {
                e.assets.remove(index);
                e.asset_sel = e.asset_sel.min(e.assets.len().saturating_sub(1));
                e.revalidate();
            }
            e.mode = Mode::Edit;
            Outcome::default()
        }
    }
}

/// Enter on the input line: do what it was opened for.
fn accept(now: i64, e: &mut Editor) -> Outcome {
    let Mode::Input { purpose, text, .. } = std::mem::replace(&mut e.mode, Mode::Edit) else {
        return Outcome::default();
    };
    let text = text.trim().to_string();
    match purpose {
        InputPurpose::AssetTarget { index, fresh } => {
            if text.is_empty() {
                if fresh && index < e.assets.len() {
                    e.assets.remove(index);
                    e.asset_sel = e.asset_sel.min(e.assets.len().saturating_sub(1));
                }
                e.revalidate();
                return Outcome::default();
            }
            if let Some(a) = e.assets.get_mut(index)
                && a.target != text
            {
                // Another target: the file name known for the old one is not its.
                a.target = text;
                a.name = None;
            }
            touched(now, e).into()
        }
        InputPurpose::RenameDraft if !text.is_empty() && text != e.name => {
            let old = std::mem::replace(&mut e.name, text);
            e.unsaved_since = Some(now);
            let mut out = vec![fx(ComposerEffect::DeleteDraft(old))];
            out.extend(save_if_due(now, e, true));
            out.into()
        }
        InputPurpose::RenameDraft => Outcome::default(),
        InputPurpose::SaveTemplate if text.is_empty() => {
            Outcome::default().notice(Level::Warn, "a template needs a name")
        }
        InputPurpose::SaveTemplate => {
            let saved = format!("saved template “{text}”");
            Outcome::effects(vec![fx(ComposerEffect::SaveTemplate {
                name: text,
                json: draft_json(e),
            })])
            .notice(Level::Info, saved)
        }
        InputPurpose::LoadJson if !text.is_empty() => {
            Outcome::effects(vec![fx(ComposerEffect::LoadJson(text))])
        }
        InputPurpose::ExportJson if !text.is_empty() => {
            Outcome::effects(vec![fx(ComposerEffect::ExportJson {
                path: text,
                request_json: e.request().to_json(),
            })])
        }
        InputPurpose::LoadJson | InputPurpose::ExportJson => Outcome::default(),
    }
}

/// The drafts or templates list: move, open, delete.
pub(super) fn picker(st: &mut State, e: &mut Box<Editor>, intent: ComposerIntent) -> Outcome {
    use ComposerIntent as I;
    let Mode::Picker {
        kind,
        items,
        selected,
    } = &mut e.mode
    else {
        return Outcome::default();
    };
    match intent {
        I::SelectDown => *selected = (*selected + 1).min(items.len().saturating_sub(1)),
        I::SelectUp => *selected = selected.saturating_sub(1),
        I::PickerOpen => {
            if let Some((name, json)) = items.get(*selected).cloned() {
                let kind = *kind;
                return super::commands::open_picked(st, e, kind, name, &json);
            }
        }
        I::PickerDelete if *selected < items.len() => {
            if *kind == PickerKind::Drafts && items[*selected].0 == e.name {
                // The editor would keep showing it, and Esc say it is kept.
                let text = format!(
                    "“{}” is the open draft: Alt-N starts another, then it can be deleted",
                    e.name
                );
                return Outcome::default().notice(Level::Warn, text);
            }
            let (name, _) = items.remove(*selected);
            *selected = (*selected).min(items.len().saturating_sub(1));
            let (what, effect) = match kind {
                PickerKind::Drafts => ("draft", ComposerEffect::DeleteDraft(name.clone())),
                PickerKind::Templates => ("template", ComposerEffect::DeleteTemplate(name.clone())),
            };
            return Outcome::effects(vec![fx(effect)])
                .notice(Level::Info, format!("deleted {what} “{name}”"));
        }
        _ => {}
    }
    Outcome::default()
}

/// The preview: scroll, and copy the exact body or a curl command once it is resolved.
pub(super) fn preview(st: &State, e: &mut Editor, intent: ComposerIntent) -> Outcome {
    use ComposerIntent as I;
    let Mode::Preview { body, scroll } = &mut e.mode else {
        return Outcome::default();
    };
    match intent {
        I::SelectDown => *scroll = scroll.saturating_add(1),
        I::SelectUp => *scroll = scroll.saturating_sub(1),
        I::CopyJson | I::CopyCurl => {
            let Some(Ok(body)) = body else {
                return Outcome::default();
            };
            let (text, what) = if intent == I::CopyJson {
                (crate::app::copy::pretty_json(body), "request JSON")
            } else {
                let curl = crate::app::copy::curl_command(&st.base_url, &st.key_var, body);
                (curl, "curl command")
            };
            return Outcome::effects(vec![Effect::Copy(text)]).copying(what);
        }
        _ => {}
    }
    Outcome::default()
}
