//! The composer's part of the reducer: opening it (`n`, `e`), its intents, and the debounced
//! draft save on the clock.

use super::build::{draft_json, editor_from_json};
use super::fields::{self, Field};
pub use super::keys::ComposerIntent;
use super::{
    Asset, ComposerEffect, Editor, InputPurpose, Mode, PickerKind, SAVE_IDLE_SECS, SAVE_MAX_SECS,
};
use crate::api::types::{MediaKind, Role};
use crate::app::effect::Effect;
use crate::app::msg::Level;
use crate::app::state::State;

pub(super) fn fx(e: ComposerEffect) -> Effect {
    Effect::Composer(e)
}

/// The clock carried by messages, as draft names show it.
fn stamp(now: i64) -> String {
    chrono::DateTime::from_timestamp(now, 0)
        .map(|t| t.format("%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| now.to_string())
}

/// A fresh draft name from the clock carried by messages.
pub(super) fn draft_name(now: i64) -> String {
    format!("draft {}", stamp(now))
}

/// A draft name from the clock that is not `current` (the open draft), the draft being
/// submitted, nor one given out before in the same second: two drafts started within a second
/// must not overwrite each other in the store.
pub(super) fn fresh_name(state: &mut State, now: i64, current: Option<&str>) -> String {
    unique_name(state, now, draft_name(now), current)
}

/// `base` (which holds the clock), or `base (2)`, `base (3)`, ... when it is taken.
fn unique_name(state: &mut State, now: i64, base: String, current: Option<&str>) -> String {
    let c = &mut state.composer;
    let clock = stamp(now);
    c.issued.retain(|n| n.contains(&clock));
    let sending = c.submitting.as_ref().map(|e| e.name.as_str());
    let mut name = base.clone();
    for n in 2.. {
        let taken = Some(name.as_str()) == current
            || Some(name.as_str()) == sending
            || c.issued.contains(&name);
        if !taken {
            break;
        }
        name = format!("{base} ({n})");
    }
    c.issued.push(name.clone());
    name
}

/// `n`: open the most recent draft (restored after a crash or an Esc), else a new one.
pub fn new_draft(state: &mut State) -> Vec<Effect> {
    if state.composer.is_open() || state.composer.opening {
        return Vec::new();
    }
    state.composer.opening = true;
    vec![fx(ComposerEffect::LoadDrafts { then_open: true })]
}

/// `e`: a composer prefilled from the selected task's stored request, linked to it.
pub fn edit_task(state: &mut State) -> Vec<Effect> {
    let Some(t) = state.selected_task() else {
        state.notice(Level::Warn, "nothing to edit: select a task first");
        return Vec::new();
    };
    let (local_id, shown, json) = (
        t.local_id.clone(),
        t.display_id().to_string(),
        t.request_json.clone(),
    );
    // With the clock: editing the same task again must not overwrite a kept earlier edit.
    let base = format!(
        "edit of {} {}",
        crate::text::truncate(&shown, 24),
        stamp(state.now)
    );
    let now = state.now;
    let name = unique_name(state, now, base, None);
    match editor_from_json(name, &json) {
        Ok(mut e) => {
            e.retry_of = Some(local_id);
            e.unsaved_since = Some(state.now);
            e.edited_at = state.now;
            let checks = e.request_file_checks();
            state.composer.editor = Some(Box::new(e));
            state.notice(
                Level::Info,
                format!("editing a copy of {shown}; Ctrl-S submits it as a new task"),
            );
            state.dirty = true;
            return checks.into_iter().map(fx).collect();
        }
        Err(err) => state.notice(
            Level::Error,
            format!("cannot edit {shown}: its stored request is {err}"),
        ),
    }
    state.dirty = true;
    Vec::new()
}

/// Run `f` on the open editor (taken out of the state meanwhile); `f` returns false to close it.
pub(super) fn with_editor(
    state: &mut State,
    f: impl FnOnce(&mut State, &mut Box<Editor>) -> (Vec<Effect>, bool),
) -> Vec<Effect> {
    let Some(mut e) = state.composer.editor.take() else {
        return Vec::new();
    };
    let (mut effects, keep) = f(state, &mut e);
    if keep {
        effects.extend(e.request_file_checks().into_iter().map(fx));
        state.composer.editor = Some(e);
    }
    state.dirty = true;
    effects
}

/// Mark an edit: revalidate and schedule the draft save.
pub(super) fn touched(now: i64, e: &mut Editor) -> Vec<Effect> {
    e.edited_at = now;
    e.unsaved_since.get_or_insert(now);
    e.server_error = None;
    e.revalidate();
    save_if_due(now, e, false)
}

/// The debounced save: after a quiet second, or every few seconds while typing on.
fn save_if_due(now: i64, e: &mut Editor, force: bool) -> Vec<Effect> {
    let Some(since) = e.unsaved_since else {
        return Vec::new();
    };
    if force || now - e.edited_at >= SAVE_IDLE_SECS || now - since >= SAVE_MAX_SECS {
        e.unsaved_since = None;
        vec![fx(ComposerEffect::SaveDraft {
            name: e.name.clone(),
            json: draft_json(e),
            at: now,
        })]
    } else {
        Vec::new()
    }
}

/// The clock: write a draft that has been quiet long enough.
pub fn on_tick(state: &mut State) -> Vec<Effect> {
    let now = state.now;
    match state.composer.editor.as_deref_mut() {
        Some(e) => save_if_due(now, e, false),
        None => Vec::new(),
    }
}

/// Earlier prompts, newest first, without repeats.
fn history(state: &State) -> Vec<String> {
    let mut tasks: Vec<&crate::store::TaskRecord> = state.tasks.iter().collect();
    tasks.sort_by_key(|t| std::cmp::Reverse(t.created_at));
    let mut out: Vec<String> = Vec::new();
    for t in tasks {
        if !t.prompt.trim().is_empty() && !out.contains(&t.prompt) {
            out.push(t.prompt.clone());
        }
    }
    out
}

fn set_prompt(e: &mut Editor, text: &str) {
    e.prompt.select_all();
    e.prompt.insert_str(text);
}

pub(super) fn default_role(e: &Editor, kind: MediaKind) -> Role {
    match kind {
        MediaKind::Image => {
            let images: Vec<&Role> = e
                .assets
                .iter()
                .filter(|a| a.kind == MediaKind::Image)
                .map(|a| &a.role)
                .collect();
            let refs = e.assets.iter().any(|a| a.role.is_reference());
            match (images.as_slice(), refs) {
                ([], false) => Role::FirstFrame,
                ([Role::FirstFrame], false) => Role::LastFrame,
                _ => Role::ReferenceImage,
            }
        }
        MediaKind::Video => Role::ReferenceVideo,
        MediaKind::Audio => Role::ReferenceAudio,
    }
}

fn input(purpose: InputPurpose, text: String) -> Mode {
    Mode::Input {
        purpose,
        text,
        candidates: Vec::new(),
    }
}

/// Apply a composer intent.
pub fn apply(state: &mut State, intent: ComposerIntent) -> Vec<Effect> {
    use ComposerIntent as I;
    let now = state.now;
    let past = history(state);
    let base_url = state.base_url.clone();
    let key_var = state.key_var.clone();
    let defaults = state.composer.defaults.clone();
    let mut notices: Vec<(Level, String)> = Vec::new();
    let effects = with_editor(state, |st, e| {
        let mut out = Vec::new();
        match intent {
            I::Close => {
                let effects = save_if_due(now, e, true);
                notices.push((
                    Level::Info,
                    format!("draft “{}” kept; n reopens it", e.name),
                ));
                return (effects, false);
            }
            I::Submit => {
                e.typing = None;
                e.revalidate();
                if let Some(sending) = &st.composer.submitting {
                    // Its answer names no draft: one submission at a time keeps it with its own.
                    notices.push((
                        Level::Warn,
                        format!(
                            "not sent: draft “{}” is still being submitted; try again once it is queued",
                            sending.name
                        ),
                    ));
                } else if let Some(p) = e.first_problem().cloned() {
                    e.focus = p.field;
                    if let Some(i) = p.asset {
                        e.asset_sel = i;
                    }
                    notices.push((Level::Warn, format!("not sent: {}", p.problem)));
                } else {
                    out.extend(save_if_due(now, e, true));
                    e.mode = Mode::Submitting;
                    out.push(fx(ComposerEffect::Submit {
                        request_json: e.request().to_json(),
                        retry_of: e.retry_of.clone(),
                        draft: e.name.clone(),
                    }));
                    // The composer steps aside so the task shows in the table at once
                    // (`submitting`, then `queued`); a refusal brings it back with the error.
                    notices.push((Level::Info, "submitting…".into()));
                    st.composer.submitting = Some(e.clone());
                    return (out, false);
                }
            }
            I::NextField | I::PrevField => {
                e.typing = None;
                e.focus = e.focus.next(if intent == I::NextField { 1 } else { -1 });
            }
            I::Preview => {
                e.mode = Mode::Preview {
                    body: None,
                    scroll: 0,
                };
                out.push(fx(ComposerEffect::Preview {
                    request_json: e.request().to_json(),
                }));
            }
            I::HistoryPrev | I::HistoryNext if e.focus == Field::Prompt => {
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
                        out.extend(touched(now, e));
                        e.history_pos = Some(i);
                    }
                    Some(_) => notices.push((Level::Info, "no earlier prompts".into())),
                    None => {
                        if let Some(s) = e.history_stash.take() {
                            set_prompt(e, &s);
                            out.extend(touched(now, e));
                        }
                        e.history_pos = None;
                    }
                }
            }
            I::HistoryPrev | I::HistoryNext => {}
            I::Undo | I::Redo if e.focus == Field::Prompt => {
                let changed = if intent == I::Undo {
                    e.prompt.undo()
                } else {
                    e.prompt.redo()
                };
                if changed {
                    out.extend(touched(now, e));
                }
            }
            I::Undo | I::Redo => {}
            I::Drafts => {
                out.extend(save_if_due(now, e, true));
                out.push(fx(ComposerEffect::LoadDrafts { then_open: false }));
            }
            I::Templates => out.push(fx(ComposerEffect::LoadTemplates)),
            I::NewBlank => {
                out.extend(save_if_due(now, e, true));
                notices.push((
                    Level::Info,
                    format!("draft “{}” kept (F3 lists drafts)", e.name),
                ));
                let name = fresh_name(st, now, Some(&e.name));
                let mut fresh = Editor::from_defaults(name, &defaults);
                fresh.edited_at = now;
                **e = fresh;
            }
            I::RenameDraft => e.mode = input(InputPurpose::RenameDraft, e.name.clone()),
            I::SaveTemplate => e.mode = input(InputPurpose::SaveTemplate, String::new()),
            I::LoadJson => e.mode = input(InputPurpose::LoadJson, String::new()),
            I::ExportJson => e.mode = input(InputPurpose::ExportJson, "request.json".into()),
            I::Decrease | I::Increase => {
                e.typing = None;
                let f = e.focus;
                if fields::step(e, f, if intent == I::Increase { 1 } else { -1 }) {
                    out.extend(touched(now, e));
                }
            }
            I::AddImage | I::AddVideo | I::AddAudio => {
                let kind = match intent {
                    I::AddImage => MediaKind::Image,
                    I::AddVideo => MediaKind::Video,
                    _ => MediaKind::Audio,
                };
                let role = default_role(e, kind);
                e.assets.push(Asset {
                    kind,
                    target: String::new(),
                    role,
                });
                e.asset_sel = e.assets.len() - 1;
                e.focus = Field::Assets;
                e.mode = input(
                    InputPurpose::AssetTarget {
                        index: e.asset_sel,
                        fresh: true,
                    },
                    String::new(),
                );
            }
            I::EditAsset => {
                if let Some(a) = e.assets.get(e.asset_sel) {
                    e.mode = input(
                        InputPurpose::AssetTarget {
                            index: e.asset_sel,
                            fresh: false,
                        },
                        a.target.clone(),
                    );
                }
            }
            I::RemoveAsset if e.asset_sel < e.assets.len() => {
                e.assets.remove(e.asset_sel);
                e.asset_sel = e.asset_sel.min(e.assets.len().saturating_sub(1));
                out.extend(touched(now, e));
            }
            I::NextRole => {
                if let Some(a) = e.assets.get_mut(e.asset_sel) {
                    let roles = a.kind.roles();
                    let i = roles.iter().position(|r| *r == a.role).map_or(0, |i| i + 1);
                    a.role = roles[i % roles.len()].clone();
                    out.extend(touched(now, e));
                }
            }
            I::MoveAssetUp | I::MoveAssetDown => {
                let i = e.asset_sel;
                let j = if intent == I::MoveAssetUp {
                    i.checked_sub(1)
                } else {
                    Some(i + 1).filter(|j| *j < e.assets.len())
                };
                if let Some(j) = j.filter(|_| i < e.assets.len()) {
                    e.assets.swap(i, j);
                    e.asset_sel = j;
                    out.extend(touched(now, e));
                }
            }
            I::SelectUp | I::SelectDown => {
                let down = intent == I::SelectDown;
                match &mut e.mode {
                    Mode::Picker {
                        selected, items, ..
                    } => {
                        *selected = if down {
                            (*selected + 1).min(items.len().saturating_sub(1))
                        } else {
                            selected.saturating_sub(1)
                        }
                    }
                    Mode::Preview { scroll, .. } => {
                        *scroll = if down {
                            scroll.saturating_add(1)
                        } else {
                            scroll.saturating_sub(1)
                        }
                    }
                    _ if down => {
                        e.asset_sel = (e.asset_sel + 1).min(e.assets.len().saturating_sub(1))
                    }
                    _ => e.asset_sel = e.asset_sel.saturating_sub(1),
                }
            }
            I::RemoveAsset => {}
            I::InputAccept => out.extend(accept_input(now, e, &mut notices)),
            I::InputCancel | I::Back => {
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
            }
            I::InputComplete => {
                if let Mode::Input { purpose, text, .. } = &e.mode
                    && purpose.completes_paths()
                {
                    out.push(fx(ComposerEffect::Complete(text.clone())));
                }
            }
            I::PickerOpen => {
                if let Mode::Picker {
                    kind,
                    items,
                    selected,
                } = &e.mode
                    && let Some((name, json)) = items.get(*selected).cloned()
                {
                    let kind = *kind;
                    if kind == PickerKind::Drafts && name == e.name {
                        // Already open: the list may hold it as it was before F3 wrote it.
                        e.mode = Mode::Edit;
                        return (out, true);
                    }
                    let new_name = match kind {
                        PickerKind::Drafts => name.clone(),
                        PickerKind::Templates => fresh_name(st, now, Some(&e.name)),
                    };
                    match editor_from_json(new_name, &json) {
                        Ok(mut fresh) => {
                            out.extend(save_if_due(now, e, true));
                            fresh.edited_at = now;
                            if kind == PickerKind::Templates {
                                fresh.unsaved_since = Some(now);
                            }
                            fresh.saved_at = (kind == PickerKind::Drafts).then_some(now);
                            notices.push((Level::Info, format!("opened “{name}”")));
                            **e = fresh;
                        }
                        Err(err) => notices.push((Level::Error, format!("“{name}” is {err}"))),
                    }
                }
            }
            I::PickerDelete => {
                if let Mode::Picker {
                    kind,
                    items,
                    selected,
                } = &mut e.mode
                    && *selected < items.len()
                {
                    if *kind == PickerKind::Drafts && items[*selected].0 == e.name {
                        // The editor would keep showing it, and Esc say it is kept.
                        notices.push((
                            Level::Warn,
                            format!(
                                "“{}” is the open draft: Alt-N starts another, then it can be deleted",
                                e.name
                            ),
                        ));
                        return (out, true);
                    }
                    let (name, _) = items.remove(*selected);
                    *selected = (*selected).min(items.len().saturating_sub(1));
                    let (what, effect) = match kind {
                        PickerKind::Drafts => ("draft", ComposerEffect::DeleteDraft(name.clone())),
                        PickerKind::Templates => {
                            ("template", ComposerEffect::DeleteTemplate(name.clone()))
                        }
                    };
                    notices.push((Level::Info, format!("deleted {what} “{name}”")));
                    out.push(fx(effect));
                }
            }
            I::CopyJson | I::CopyCurl => {
                if let Mode::Preview {
                    body: Some(Ok(body)),
                    ..
                } = &e.mode
                {
                    let text = if intent == I::CopyJson {
                        crate::app::copy::pretty_json(body)
                    } else {
                        crate::app::copy::curl_command(&base_url, &key_var, body)
                    };
                    let what = if intent == I::CopyJson {
                        "request JSON"
                    } else {
                        "curl command"
                    };
                    notices.push((Level::Info, format!("copied the {what}")));
                    out.push(Effect::Copy(text));
                }
            }
        }
        (out, true)
    });
    for (level, text) in notices {
        state.notice(level, text);
    }
    effects
}

fn accept_input(now: i64, e: &mut Editor, notices: &mut Vec<(Level, String)>) -> Vec<Effect> {
    let Mode::Input { purpose, text, .. } = std::mem::replace(&mut e.mode, Mode::Edit) else {
        return Vec::new();
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
                return Vec::new();
            }
            if let Some(a) = e.assets.get_mut(index) {
                a.target = text;
            }
            touched(now, e)
        }
        InputPurpose::RenameDraft if !text.is_empty() && text != e.name => {
            let old = std::mem::replace(&mut e.name, text);
            e.unsaved_since = Some(now);
            let mut out = vec![fx(ComposerEffect::DeleteDraft(old))];
            out.extend(save_if_due(now, e, true));
            out
        }
        InputPurpose::RenameDraft => Vec::new(),
        InputPurpose::SaveTemplate if text.is_empty() => {
            notices.push((Level::Warn, "a template needs a name".into()));
            Vec::new()
        }
        InputPurpose::SaveTemplate => {
            notices.push((Level::Info, format!("saved template “{text}”")));
            vec![fx(ComposerEffect::SaveTemplate {
                name: text,
                json: draft_json(e),
            })]
        }
        InputPurpose::LoadJson if !text.is_empty() => vec![fx(ComposerEffect::LoadJson(text))],
        InputPurpose::ExportJson if !text.is_empty() => vec![fx(ComposerEffect::ExportJson {
            path: text,
            request_json: e.request().to_json(),
        })],
        InputPurpose::LoadJson | InputPurpose::ExportJson => Vec::new(),
    }
}
