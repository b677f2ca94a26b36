//! The runtime's answers to the composer: drafts and templates read, files loaded, exported and
//! checked, path completions, the preview body, and how a submission ended.

use super::build::{editor_from_json, locate};
use super::reduce::{fresh_name, fx};
use super::{ComposerMsg, Editor, Field, Mode, PickerKind, ProblemAt, SubmitOutcome};
use crate::api::validate::Problem;
use crate::app::effect::Effect;
use crate::app::msg::Level;
use crate::app::state::State;

/// The runtime's answers.
pub(crate) fn on_msg(state: &mut State, msg: ComposerMsg) -> Vec<Effect> {
    let mut effects = answer(state, msg);
    if let Some(e) = state.composer.editor.as_deref_mut() {
        effects.extend(e.request_file_checks().into_iter().map(fx));
    }
    effects
}

fn answer(state: &mut State, msg: ComposerMsg) -> Vec<Effect> {
    state.dirty = true;
    let now = state.now;
    match msg {
        ComposerMsg::Drafts {
            items,
            then_open: true,
        } => {
            state.composer.opening = false;
            if state.composer.is_open() {
                return Vec::new();
            }
            // The draft being submitted is not reopened behind its own back.
            let sending = state.composer.submitting.as_ref().map(|e| e.name.clone());
            let items: Vec<_> = items
                .into_iter()
                .filter(|(name, _, _)| Some(name) != sending.as_ref())
                .collect();
            let restored = items.first().and_then(|(name, json, at)| {
                Some((editor_from_json(name.clone(), json).ok()?, *at))
            });
            let editor = match restored {
                Some((mut e, at)) => {
                    e.saved_at = Some(at);
                    let others = items.len() - 1;
                    let more = if others > 0 {
                        format!("; F3 lists {others} more")
                    } else {
                        String::new()
                    };
                    state.notice(Level::Info, format!("restored draft “{}”{more}", e.name));
                    e
                }
                None => {
                    let name = fresh_name(state, now, None);
                    Editor::from_defaults(name, &state.composer.defaults)
                }
            };
            state.composer.install(Box::new(editor));
            Vec::new()
        }
        ComposerMsg::Drafts { items, .. } => {
            picker(
                state,
                PickerKind::Drafts,
                items.into_iter().map(|(n, j, _)| (n, j)).collect(),
            );
            Vec::new()
        }
        ComposerMsg::Templates(items) => {
            picker(state, PickerKind::Templates, items);
            Vec::new()
        }
        ComposerMsg::Saved { name, at } => {
            if let Some(e) = state.composer.editor.as_deref_mut()
                && e.name == name
            {
                e.saved_at = Some(at);
            }
            Vec::new()
        }
        ComposerMsg::SaveFailed(err) => {
            // Still unsaved: the clock tries again, and Esc and quitting write it.
            if let Some(e) = state.composer.editor.as_deref_mut() {
                e.unsaved_since.get_or_insert(now);
            }
            let text = format!("the draft was not saved: {err}");
            if state.messages.last().is_none_or(|m| m.text != text) {
                state.notice(Level::Error, text);
            }
            Vec::new()
        }
        ComposerMsg::Loaded(result) => {
            let name = state
                .composer
                .editor
                .as_ref()
                .map(|e| e.name.clone())
                .unwrap_or_else(|| fresh_name(state, now, None));
            match result.and_then(|json| editor_from_json(name, &json)) {
                Ok(mut e) => {
                    e.unsaved_since = Some(now);
                    e.edited_at = now;
                    state.composer.install(Box::new(e));
                    state.notice(Level::Info, "loaded the request");
                }
                Err(err) => state.notice(Level::Error, format!("not loaded: {err}")),
            }
            Vec::new()
        }
        ComposerMsg::Exported(result) => {
            match result {
                Ok(path) => state.notice(
                    Level::Info,
                    format!("exported to {path} (submit --json reads it)"),
                ),
                Err(err) => state.notice(Level::Error, format!("not exported: {err}")),
            }
            Vec::new()
        }
        ComposerMsg::Preview(result) => {
            if let Some(e) = state.composer.editor.as_deref_mut()
                && let Mode::Preview { body, .. } = &mut e.mode
            {
                *body = Some(result);
            }
            Vec::new()
        }
        ComposerMsg::Completions { input, matches } => {
            completions(state, &input, matches);
            Vec::new()
        }
        ComposerMsg::Submitted(outcome) => submitted(state, outcome),
        ComposerMsg::FileChecked { path, result } => {
            if let Some(e) = state.composer.editor.as_deref_mut() {
                e.files.insert(path, Some(result));
                e.revalidate();
            }
            Vec::new()
        }
    }
}

fn picker(state: &mut State, kind: PickerKind, items: Vec<(String, String)>) {
    if items.is_empty() {
        let what = match kind {
            PickerKind::Drafts => "no saved drafts",
            PickerKind::Templates => "no templates yet (Alt-S saves this draft as one)",
        };
        state.notice(Level::Info, what);
        return;
    }
    if let Some(e) = state.composer.editor.as_deref_mut() {
        e.mode = Mode::Picker {
            kind,
            items,
            selected: 0,
        };
    }
}

fn common_prefix(items: &[String]) -> String {
    let Some(first) = items.first() else {
        return String::new();
    };
    let mut len = first.len();
    for s in &items[1..] {
        len = first
            .char_indices()
            .zip(s.chars())
            .take_while(|((_, a), b)| a == b)
            .last()
            .map_or(0, |((i, a), _)| i + a.len_utf8())
            .min(len);
    }
    first[..len].to_string()
}

fn completions(state: &mut State, input: &str, matches: Vec<String>) {
    let mut none = false;
    if let Some(e) = state.composer.editor.as_deref_mut()
        && let Mode::Input {
            text, candidates, ..
        } = &mut e.mode
        && text == input
    {
        match matches.len() {
            0 => none = true,
            1 => *text = matches[0].clone(),
            _ => {
                let prefix = common_prefix(&matches);
                if prefix.len() > text.len() {
                    *text = prefix;
                }
                *candidates = matches;
            }
        }
    }
    if none {
        state.notice(Level::Info, format!("no file matches {input}"));
    }
}

/// Select the task just submitted and scroll it into view — now if its row is here, else when
/// the store watcher brings it. A filter that would hide it is cleared, so it is seen.
fn select_new_task(state: &mut State, local_id: String) {
    if state.task(&local_id).is_some() {
        state.show_and_select(local_id);
    } else {
        state.select_when_seen = Some(local_id);
    }
}

fn submitted(state: &mut State, outcome: SubmitOutcome) -> Vec<Effect> {
    let Some(mut e) = state.composer.submitting.take() else {
        return Vec::new();
    };
    e.mode = Mode::Edit;
    let keep = match outcome {
        SubmitOutcome::Accepted { local_id } => {
            select_new_task(state, local_id);
            state.notice(Level::Info, "submitted: the task is queued");
            false
        }
        SubmitOutcome::Queued { local_id } => {
            if state.task(&local_id).is_some() {
                state.selected = Some(local_id);
                state.keep_selection_visible();
            }
            state.notice(
                Level::Info,
                "the cap of tasks in flight is reached: waiting in the submission queue (○), sent when a slot frees",
            );
            false
        }
        SubmitOutcome::AssetError { field, message } => {
            let (f, asset) = locate(&e, &field);
            e.focus = f;
            if let Some(i) = asset {
                e.asset_sel = i;
            }
            e.server_error = Some(ProblemAt {
                field: f,
                asset,
                problem: Problem::invalid(field, message.clone(), "fix the file or use a URL"),
            });
            state.notice(Level::Error, format!("not sent: {message}"));
            true
        }
        SubmitOutcome::Rejected { param, message, .. } => {
            let (field, asset) = param
                .as_deref()
                .map(|p| locate(&e, p))
                .unwrap_or((Field::Prompt, None));
            e.focus = field;
            if let Some(i) = asset {
                e.asset_sel = i;
            }
            e.server_error = Some(ProblemAt {
                field,
                asset,
                problem: Problem::invalid(
                    param.unwrap_or_else(|| "request".into()),
                    message.clone(),
                    "",
                ),
            });
            state.notice(Level::Error, format!("rejected by the server: {message}"));
            true
        }
        SubmitOutcome::Unknown { local_id, message } => {
            select_new_task(state, local_id);
            state.notice(
                Level::Error,
                format!(
                    "outcome unknown ({message}): the task is marked ? and will not be re-sent; check it before sending again. The draft “{}” is kept.",
                    e.name
                ),
            );
            false
        }
        SubmitOutcome::NotSent(message) => {
            state.notice(Level::Error, format!("not sent: {message}"));
            true
        }
        SubmitOutcome::OverBudget(message) => {
            e.over_budget_ok = true;
            state.notice(
                Level::Warn,
                format!("{message}; Ctrl-S again sends it anyway"),
            );
            true
        }
    };
    if keep {
        if state.composer.editor.is_none() {
            state.composer.install(e);
        } else {
            // Another draft is open now: leave it; the refused one stays in the drafts list.
            state.notice(
                Level::Warn,
                format!("draft “{}” was not sent; F3 opens it", e.name),
            );
        }
    }
    state.dirty = true;
    Vec::new()
}
