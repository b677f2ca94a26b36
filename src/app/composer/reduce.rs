//! The composer's part of the reducer: opening it (`n`, `e`), the debounced draft save on the
//! clock, and the helpers the commands share (`Outcome`, what a command hands back; a new
//! asset's role; draft names; the save schedule). `dispatch` hands each command to the module
//! of its context (`commands`: the draft and its form; `assets`: the asset list; `modes`: the
//! input line, the picker and the preview).

use super::build::{draft_json, editor_from_json};
use super::{ComposerEffect, Editor, InputPurpose, Mode, SAVE_IDLE_SECS, SAVE_MAX_SECS};
use crate::api::types::{MediaKind, Role, default_roles};
use crate::app::effect::Effect;
use crate::app::msg::Level;
use crate::app::state::{BodiesUse, State};
use crate::engine::asset_files::AssetFiles;

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
pub(crate) fn new_draft(state: &mut State) -> Vec<Effect> {
    if state.composer.is_open() || state.composer.opening {
        return Vec::new();
    }
    state.composer.opening = true;
    vec![fx(ComposerEffect::LoadDrafts { then_open: true })]
}

/// `e`: a composer prefilled from the selected task's stored request, linked to it.
pub(crate) fn edit_task(state: &mut State) -> Vec<Effect> {
    let Some(t) = state.selected_task() else {
        state.notice(Level::Warn, "nothing to edit: select a task first");
        return Vec::new();
    };
    // The row in memory carries a trimmed request: edit the full one, read from the store
    // first (this runs again when it arrives).
    let Some((json, files)) = state
        .bodies_of(&t.local_id)
        .map(|b| (b.request_json.clone(), b.asset_files.clone()))
    else {
        let local_id = t.local_id.to_string();
        state.bodies_wanted_for = Some(BodiesUse::Edit(local_id.clone()));
        return vec![Effect::LoadBodies(local_id)];
    };
    let (local_id, shown) = (t.local_id.to_string(), t.display_id().to_string());
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
            // Its inlined files show the names they were sent from.
            e.name_files(
                files
                    .as_deref()
                    .map(AssetFiles::from_json)
                    .unwrap_or_default(),
            );
            e.retry_of = Some(local_id);
            e.unsaved_since = Some(state.now);
            e.edited_at = state.now;
            let checks = e.request_file_checks();
            state.composer.install(Box::new(e));
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
        state.composer.install(e);
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
pub(super) fn save_if_due(now: i64, e: &mut Editor, force: bool) -> Vec<Effect> {
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
pub(crate) fn on_tick(state: &mut State) -> Vec<Effect> {
    let now = state.now;
    match state.composer.editor.as_deref_mut() {
        Some(e) => save_if_due(now, e, false),
        None => Vec::new(),
    }
}

/// Earlier prompts, newest first, without repeats.
pub(super) fn history(state: &State) -> Vec<String> {
    let mut tasks: Vec<&crate::store::TaskRow> = state.tasks.iter().collect();
    tasks.sort_by_key(|t| std::cmp::Reverse(t.created_at));
    let mut out: Vec<String> = Vec::new();
    for t in tasks {
        if !t.prompt.trim().is_empty() && !out.iter().any(|p| **p == *t.prompt) {
            out.push(t.prompt.to_string());
        }
    }
    out
}

pub(super) fn set_prompt(e: &mut Editor, text: &str) {
    e.prompt.select_all();
    e.prompt.insert_str(text);
}

/// The role of a new asset of `kind` beside the editor's (`api::types::default_roles`).
pub(super) fn default_role(e: &Editor, kind: MediaKind) -> Role {
    let mut items: Vec<(MediaKind, Option<Role>)> = e
        .assets
        .iter()
        .map(|a| (a.kind, Some(a.role.clone())))
        .collect();
    items.push((kind, None));
    default_roles(&items)
        .pop()
        .unwrap_or_else(|| kind.roles()[0].clone())
}

pub(super) fn input(purpose: InputPurpose, text: String) -> Mode {
    Mode::Input {
        purpose,
        text,
        candidates: Vec::new(),
    }
}

/// What a composer command did besides editing the open editor: effects to run, a line for
/// the log, and whether the composer closes.
#[derive(Debug, Default)]
pub(super) struct Outcome {
    pub(crate) effects: Vec<Effect>,
    pub(crate) notice: Option<(Level, String)>,
    pub(crate) close: bool,
    /// What an `Effect::Copy` among the effects copies (the runtime's answer names it).
    pub(crate) copying: Option<&'static str>,
}

impl Outcome {
    pub(crate) fn effects(effects: Vec<Effect>) -> Outcome {
        Outcome {
            effects,
            ..Outcome::default()
        }
    }

    pub(crate) fn notice(mut self, level: Level, text: impl Into<String>) -> Outcome {
        self.notice = Some((level, text.into()));
        self
    }

    pub(crate) fn copying(mut self, what: &'static str) -> Outcome {
        self.copying = Some(what);
        self
    }

    pub(crate) fn closed(mut self) -> Outcome {
        self.close = true;
        self
    }
}

impl From<Vec<Effect>> for Outcome {
    fn from(effects: Vec<Effect>) -> Outcome {
        Outcome::effects(effects)
    }
}
