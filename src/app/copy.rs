//! The copy menu (`y`): what each entry copies from the selected task, and the `curl` command
//! that re-sends a request (also offered by the composer's preview).

use super::effect::Effect;
use super::msg::Level;
use super::state::{BodiesUse, State};
pub use super::types::copy::{CopyRoute, CopyWhat};

/// A `curl` command that re-sends a request body, with the key left in the environment
/// variable `key_var` (the one it was read from).
pub(crate) fn curl_command(base_url: &str, key_var: &str, request_json: &str) -> String {
    let body = request_json.replace('\'', "'\\''");
    format!(
        "curl -sS -X POST '{}/contents/generations/tasks' \\\n  -H 'Content-Type: application/json' \\\n  -H \"Authorization: Bearer ${key_var}\" \\\n  --data-raw '{body}'",
        base_url.trim_end_matches('/')
    )
}

/// `json` pretty-printed, or as it is when it does not parse.
pub(crate) fn pretty_json(json: &str) -> String {
    serde_json::from_str::<serde_json::Value>(json)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| json.to_string())
}

/// Copy `what` of the selected task; with marked rows, their ids (one a line, in table
/// order).
pub(crate) fn copy(state: &mut State, what: CopyWhat) -> Vec<Effect> {
    if !state.marks.is_empty() {
        if what != CopyWhat::Id {
            state.notice(
                Level::Warn,
                "with marked rows only their ids are copied (i); Esc clears the marks",
            );
            return Vec::new();
        }
        let ids: Vec<String> = state
            .targets()
            .iter()
            .map(|t| t.display_id().to_string())
            .collect();
        let label = format!("{} task ids", ids.len());
        return copy_text(state, Some(ids.join("\n")), &label);
    }
    let Some(t) = state.selected_task() else {
        return Vec::new();
    };
    if what == CopyWhat::Id {
        let id = t.display_id().to_string();
        return copy_text(state, Some(id), "task id");
    }
    // The rows in memory carry no request, links or paths: they are read from the store
    // first, and this copy is done again when they arrive.
    let Some(b) = state.bodies_of(&t.local_id) else {
        let local_id = t.local_id.to_string();
        state.bodies_wanted_for = Some(BodiesUse::Copy(local_id.clone(), what));
        return vec![Effect::LoadBodies(local_id)];
    };
    let (text, label) = match what {
        CopyWhat::Id => (Some(t.display_id().to_string()), "task id"),
        CopyWhat::VideoUrl => (b.video_url.clone(), "video URL"),
        CopyWhat::FrameUrl => (b.last_frame_url.clone(), "last-frame URL"),
        CopyWhat::Paths => {
            let paths: Vec<&str> = [&b.video_path, &b.last_frame_path]
                .into_iter()
                .filter_map(|p| p.as_deref())
                .collect();
            ((!paths.is_empty()).then(|| paths.join("\n")), "local path")
        }
        CopyWhat::ObjectUrl => (object_url(b.video_path.as_deref()), "object URL"),
        CopyWhat::PresignedLink => match object_url(b.video_path.as_deref()) {
            // Signing needs the credentials and the clock: the runtime does it.
            Some(url) => {
                state.copy_label = Some("presigned link (valid 1 hour)".to_string());
                return vec![Effect::CopyPresigned(url)];
            }
            None => (None, "object in a bucket"),
        },
        CopyWhat::Request | CopyWhat::Curl => {
            if what == CopyWhat::Request {
                (Some(pretty_json(&b.request_json)), "request JSON")
            } else {
                let curl = curl_command(&state.base_url, &state.key_var, &b.request_json);
                (Some(curl), "curl command")
            }
        }
    };
    copy_text(state, text, label)
}

/// The saved location when it is an object in a bucket.
fn object_url(saved: Option<&str>) -> Option<String> {
    saved
        .filter(|p| crate::s3::parse_object_url(p).is_some())
        .map(str::to_string)
}

/// Copy `text` to the clipboard (the runtime's answer, [`copied`], says whether it arrived), or
/// warn that the task has no `label` yet.
pub(crate) fn copy_text(state: &mut State, text: Option<String>, label: &str) -> Vec<Effect> {
    match text {
        Some(text) => {
            state.copy_label = Some(label.to_string());
            vec![Effect::Copy(text)]
        }
        None => {
            state.notice(Level::Warn, format!("this task has no {label} yet"));
            Vec::new()
        }
    }
}

/// The runtime's answer to a copy: "copied" when a route is known to have carried it, else the
/// text in a popup to select by hand.
/// The longest copied text repeated in the answer.
const SHOWN_WITH_ANSWER: usize = 400;

pub(crate) fn copied(state: &mut State, text: String, route: Option<CopyRoute>) {
    let label = state
        .copy_label
        .take()
        .unwrap_or_else(|| "text".to_string());
    match route {
        // A one-line text (an id, a link, an scp command) is shown with the answer, so it can
        // be read where the clipboard does not reach (a long one wraps above the footer).
        Some(r) if !text.contains('\n') && text.chars().count() <= SHOWN_WITH_ANSWER => state
            .notice(
                Level::Info,
                format!("copied the {label} {}: {text}", r.label()),
            ),
        Some(r) => state.notice(Level::Info, format!("copied the {label} {}", r.label())),
        None => {
            state.notice(
                Level::Warn,
                format!("no known clipboard here: select the {label} by hand"),
            );
            state.overlay = super::state::Overlay::CopyText {
                label,
                text,
                scroll: 0,
            };
        }
    }
}
