//! Commands on the draft as a whole and its form (the `Composer` and `ComposerField` keymap
//! contexts): submit, close, navigate fields, change values, recall prompts, undo, and open
//! the drafts, templates, preview and the input line.

use super::build::editor_from_json;
use super::fields::{self, Field};
use super::reduce::{Outcome, fresh_name, fx, history, input, save_if_due, set_prompt, touched};
use super::{ComposerEffect, ComposerIntent, Editor, InputPurpose, Mode};
use crate::app::msg::Level;
use crate::app::state::State;

/// Apply a draft or form command to the open editor `e`.
pub(super) fn apply(st: &mut State, e: &mut Box<Editor>, intent: ComposerIntent) -> Outcome {
    use ComposerIntent as I;
    let now = st.now;
    match intent {
        I::Close => {
            let effects = save_if_due(now, e, true);
            let kept = format!("draft “{}” kept; n reopens it", e.name);
            Outcome::effects(effects).notice(Level::Info, kept).closed()
        }
        I::Submit => submit(st, e),
        // Arrows move inside the parameters; Tab moves between sections.
        I::NextField | I::PrevField => {
            e.typing = None;
            let delta = if intent == I::NextField { 1 } else { -1 };
            e.focus = if e.focus.section() == 1 {
                e.focus.next_param(delta)
            } else {
                e.focus.next(delta)
            };
            Outcome::default()
        }
        I::NextSection | I::PrevSection => {
            e.typing = None;
            e.focus = e
                .focus
                .next_section(if intent == I::NextSection { 1 } else { -1 });
            Outcome::default()
        }
        I::Preview => {
            e.mode = Mode::Preview {
                body: None,
                scroll: 0,
            };
            Outcome::effects(vec![fx(ComposerEffect::Preview {
                request_json: e.request().to_json(),
            })])
        }
        I::HistoryPrev | I::HistoryNext if e.focus == Field::Prompt => recall(st, e, intent),
        I::Undo | I::Redo if e.focus == Field::Prompt => {
            let changed = if intent == I::Undo {
                e.prompt.undo()
            } else {
                e.prompt.redo()
            };
            if changed {
                touched(now, e).into()
            } else {
                Outcome::default()
            }
        }
        I::Drafts => {
            let mut effects = save_if_due(now, e, true);
            effects.push(fx(ComposerEffect::LoadDrafts { then_open: false }));
            effects.into()
        }
        I::Templates => Outcome::effects(vec![fx(ComposerEffect::LoadTemplates)]),
        I::NewBlank => {
            let effects = save_if_due(now, e, true);
            let kept = format!("draft “{}” kept (F3 lists drafts)", e.name);
            let name = fresh_name(st, now, Some(&e.name));
            let mut fresh = Editor::from_defaults(name, &st.composer.defaults);
            fresh.edited_at = now;
            **e = fresh;
            Outcome::effects(effects).notice(Level::Info, kept)
        }
        I::RenameDraft => {
            e.mode = input(InputPurpose::RenameDraft, e.name.clone());
            Outcome::default()
        }
        I::SaveTemplate => {
            e.mode = input(InputPurpose::SaveTemplate, String::new());
            Outcome::default()
        }
        I::LoadJson => {
            e.mode = input(InputPurpose::LoadJson, String::new());
            Outcome::default()
        }
        I::ExportJson => {
            e.mode = input(InputPurpose::ExportJson, "request.json".into());
            Outcome::default()
        }
        I::Decrease | I::Increase => {
            e.typing = None;
            let f = e.focus;
            if fields::step(e, f, if intent == I::Increase { 1 } else { -1 }) {
                touched(now, e).into()
            } else {
                Outcome::default()
            }
        }
        _ => Outcome::default(),
    }
}

/// Ctrl-S: send the request once, unless a problem stands or another draft is on its way.
fn submit(st: &mut State, e: &mut Box<Editor>) -> Outcome {
    let now = st.now;
    e.typing = None;
    e.revalidate();
    if let Some(sending) = &st.composer.submitting {
        // Its answer names no draft: one submission at a time keeps it with its own.
        let text = format!(
            "not sent: draft “{}” is still being submitted; try again once it is queued",
            sending.name
        );
        return Outcome::default().notice(Level::Warn, text);
    }
    if let Some(p) = e.first_problem().cloned() {
        e.focus = p.field;
        if let Some(i) = p.asset {
            e.asset_sel = i;
        }
        return Outcome::default().notice(Level::Warn, format!("not sent: {}", p.problem));
    }
    let mut effects = save_if_due(now, e, true);
    e.mode = Mode::Submitting;
    effects.push(fx(ComposerEffect::Submit {
        request_json: e.request().to_json(),
        retry_of: e.retry_of.clone(),
        draft: e.name.clone(),
        over_budget: std::mem::take(&mut e.over_budget_ok),
        asset_files: e.asset_files.clone(),
    }));
    // The composer steps aside so the task shows in the table at once (`submitting`, then
    // `queued`); a refusal brings it back with the error.
    st.composer.submitting = Some(e.clone());
    Outcome::effects(effects)
        .notice(Level::Info, "submitting…")
        .closed()
}

/// Ctrl-P / Ctrl-N in the prompt: step through earlier prompts, then back to what was typed.
fn recall(st: &State, e: &mut Editor, intent: ComposerIntent) -> Outcome {
    use ComposerIntent as I;
    let now = st.now;
    let past = history(st);
    let next = match (intent, e.history_pos) {
        (I::HistoryPrev, None) => Some(0),
        (I::HistoryPrev, Some(p)) => Some((p + 1).min(past.len().saturating_sub(1))),
        (_, Some(0)) | (_, None) => None,
        (_, Some(p)) => Some(p - 1),
    };
    match next {
        Some(i) if i < past.len() => {
            if e.history_pos.is_none() {
                e.history_stash = Some(e.prompt_text());
            }
            e.history_pos = Some(i);
            set_prompt(e, &past[i]);
            let effects = touched(now, e);
            e.history_pos = Some(i);
            effects.into()
        }
        Some(_) => Outcome::default().notice(Level::Info, "no earlier prompts"),
        None => {
            let mut effects = Vec::new();
            if let Some(s) = e.history_stash.take() {
                set_prompt(e, &s);
                effects = touched(now, e);
            }
            e.history_pos = None;
            effects.into()
        }
    }
}

/// A picked draft or template replaces the open editor (which is saved first).
pub(super) fn open_picked(
    st: &mut State,
    e: &mut Box<Editor>,
    kind: super::PickerKind,
    name: String,
    json: &str,
) -> Outcome {
    use super::PickerKind;
    let now = st.now;
    if kind == PickerKind::Drafts && name == e.name {
        // Already open: the list may hold it as it was before F3 wrote it.
        e.mode = Mode::Edit;
        return Outcome::default();
    }
    let new_name = match kind {
        PickerKind::Drafts => name.clone(),
        PickerKind::Templates => fresh_name(st, now, Some(&e.name)),
    };
    match editor_from_json(new_name, json) {
        Ok(mut fresh) => {
            let effects = save_if_due(now, e, true);
            fresh.edited_at = now;
            if kind == PickerKind::Templates {
                fresh.unsaved_since = Some(now);
            }
            fresh.saved_at = (kind == PickerKind::Drafts).then_some(now);
            **e = fresh;
            Outcome::effects(effects).notice(Level::Info, format!("opened “{name}”"))
        }
        Err(err) => Outcome::default().notice(Level::Error, format!("“{name}” is {err}")),
    }
}
