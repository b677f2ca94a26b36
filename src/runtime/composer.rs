//! The composer's effects, carried out off the loop: drafts and templates in the store, JSON
//! files in and out, path completion, the preview body and the submission. Local asset files
//! become `data:` URLs here (`engine::assets`, size checked before reading), on the blocking pool.

use crate::api::types::{ContentItem, CreateRequest, MediaKind, MediaUrl};
use crate::app::Msg;
use crate::app::composer::{ComposerEffect, ComposerMsg, SubmitOutcome};
use crate::engine::asset_files::AssetFiles;
use crate::engine::{Engine, SubmitError, assets};
use tokio::sync::mpsc::UnboundedSender;

/// Expand a leading `~/` to the home directory.
pub(crate) fn expand_home(path: &str) -> String {
    match (path.strip_prefix("~/"), std::env::var("HOME")) {
        (Some(rest), Ok(home)) => format!("{}/{rest}", home.trim_end_matches('/')),
        _ => path.to_string(),
    }
}

/// Replace every local file in `request_json` by a `data:` URL. `Err((field, message))` names the
/// content item that could not be inlined.
pub(crate) fn resolve_request(request_json: &str) -> Result<String, (String, String)> {
    resolve_request_with(request_json, None, &AssetFiles::default()).map(|(body, _, _)| body)
}

/// [`resolve_request`] with local references going through the bucket of `engine`'s
/// `[assets] upload_to` when set: the body carries their presigned links, and the files to
/// upload before sending are returned. So are the names of the body's inlined files: those
/// inlined now, and those `known` has of `data:` URLs it already carried (an edited task's).
pub(crate) fn resolve_request_with(
    request_json: &str,
    engine: Option<&Engine>,
    known: &AssetFiles,
) -> Result<(String, Vec<assets::PlannedUpload>, AssetFiles), (String, String)> {
    let mut req = CreateRequest::from_json(request_json)
        .map_err(|e| ("request".to_string(), format!("not a create request: {e}")))?;
    let bucket = engine.and_then(|e| {
        e.reference_bucket
            .as_ref()
            .map(|l| e.reference_bucket_for(l, req.execution_expires_after))
    });
    let mut uploads = Vec::new();
    let mut names = AssetFiles::default();
    for (i, item) in req.content.iter_mut().enumerate() {
        let (kind, media) = match item {
            ContentItem::ImageUrl { image_url, .. } => (MediaKind::Image, image_url),
            ContentItem::VideoUrl { video_url, .. } => (MediaKind::Video, video_url),
            ContentItem::AudioUrl { audio_url, .. } => (MediaKind::Audio, audio_url),
            _ => continue,
        };
        if assets::is_url(&media.url) || media.url.trim().is_empty() {
            continue;
        }
        let path = expand_home(media.url.trim());
        let url =
            assets::resolve_reference(&path, kind, bucket.as_ref(), &mut uploads).map_err(|e| {
                (
                    format!("content[{i}].{}.url", kind.item_type()),
                    e.to_string(),
                )
            })?;
        names.insert(&url, &path);
        *media = MediaUrl {
            url,
            extra: std::mem::take(&mut media.extra),
        };
    }
    names.extend(&known.of_request(&req));
    Ok((req.to_json(), uploads, names))
}

/// A local asset file's size, or why it cannot be used (missing, not a regular file, too
/// large, content not of its type): the same check as `submit`'s.
pub fn check_file(path: &str, kind: MediaKind) -> Result<u64, String> {
    assets::check_file(std::path::Path::new(&expand_home(path)), kind).map_err(|e| e.to_string())
}

/// File names completing `input`: directories end with `/`; hidden files only when asked for.
pub(crate) fn complete_path(input: &str) -> Vec<String> {
    let (dir_text, prefix) = match input.rfind('/') {
        Some(i) => (&input[..=i], &input[i + 1..]),
        None => ("", input),
    };
    let dir = if dir_text.is_empty() {
        ".".to_string()
    } else {
        expand_home(dir_text)
    };
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut out: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_string();
            if !name.starts_with(prefix) || (name.starts_with('.') && !prefix.starts_with('.')) {
                return None;
            }
            let is_dir = e.file_type().map(|t| t.is_dir()).unwrap_or(false)
                || std::fs::metadata(e.path()).is_ok_and(|m| m.is_dir());
            Some(format!("{dir_text}{name}{}", if is_dir { "/" } else { "" }))
        })
        .collect();
    out.sort();
    out.truncate(200);
    out
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    tokio::task::spawn_blocking(f).await.ok()
}

fn send(tx: &UnboundedSender<Msg>, m: ComposerMsg) {
    let _ = tx.send(Msg::Composer(m));
}

fn notice(tx: &UnboundedSender<Msg>, level: crate::app::Level, text: String) {
    let _ = tx.send(Msg::Notice { level, text });
}

/// Write the open draft if it has changes not yet saved (the loop ended: quit, SIGTERM, SIGHUP).
pub(crate) async fn save_on_exit(engine: &Engine, state: &crate::app::State) {
    let Some(e) = state.composer.editor.as_deref() else {
        return;
    };
    if e.unsaved_since.is_none() {
        return;
    }
    let (name, json, at) = (
        e.name.clone(),
        crate::app::composer::draft_json(e),
        crate::engine::now(),
    );
    if let Err(err) = engine
        .with_store(move |s| s.save_draft(&name, &json, at))
        .await
    {
        eprintln!("seedance-tui: the open draft was not saved: {err}");
    }
}

/// Carry out one composer effect on a task of its own.
pub(crate) fn spawn(
    effect: ComposerEffect,
    engine: Engine,
    tx: UnboundedSender<Msg>,
    max_in_flight: usize,
) {
    tokio::spawn(run(effect, engine, tx, max_in_flight));
}

async fn run(
    effect: ComposerEffect,
    engine: Engine,
    tx: UnboundedSender<Msg>,
    max_in_flight: usize,
) {
    use crate::app::Level;
    match effect {
        ComposerEffect::LoadDrafts { then_open } => {
            let items = match engine.with_store(|s| s.drafts()).await {
                Ok(items) => items,
                Err(e) => {
                    notice(&tx, Level::Error, format!("cannot read drafts: {e}"));
                    Vec::new()
                }
            };
            send(&tx, ComposerMsg::Drafts { items, then_open });
        }
        ComposerEffect::SaveDraft { name, json, at } => {
            let n = name.clone();
            match engine
                .with_store(move |s| s.save_draft(&n, &json, at))
                .await
            {
                Ok(()) => send(&tx, ComposerMsg::Saved { name, at }),
                Err(e) => send(&tx, ComposerMsg::SaveFailed(e.to_string())),
            }
        }
        ComposerEffect::DeleteDraft(name) => {
            if let Err(e) = engine.with_store(move |s| s.delete_draft(&name)).await {
                notice(&tx, Level::Error, format!("cannot delete the draft: {e}"));
            }
        }
        ComposerEffect::DeleteTemplate(name) => {
            if let Err(e) = engine.with_store(move |s| s.delete_template(&name)).await {
                notice(
                    &tx,
                    Level::Error,
                    format!("cannot delete the template: {e}"),
                );
            }
        }
        ComposerEffect::SaveTemplate { name, json } => {
            let now = crate::engine::now();
            if let Err(e) = engine
                .with_store(move |s| s.save_template(&name, &json, now))
                .await
            {
                notice(
                    &tx,
                    Level::Error,
                    format!("the template was not saved: {e}"),
                );
            }
        }
        ComposerEffect::LoadTemplates => match engine.with_store(|s| s.templates()).await {
            Ok(items) => send(&tx, ComposerMsg::Templates(items)),
            Err(e) => notice(&tx, Level::Error, format!("cannot read templates: {e}")),
        },
        ComposerEffect::LoadJson(path) => {
            let result = blocking(move || {
                std::fs::read_to_string(expand_home(&path))
                    .map_err(|e| format!("cannot read {path}: {e}"))
            })
            .await
            .unwrap_or_else(|| Err("the file read was interrupted".into()));
            send(&tx, ComposerMsg::Loaded(result));
        }
        ComposerEffect::ExportJson { path, request_json } => {
            let result = blocking(move || {
                let body = resolve_request(&request_json).map_err(|(_, m)| m)?;
                let pretty = serde_json::from_str::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|v| serde_json::to_string_pretty(&v).ok())
                    .unwrap_or(body);
                std::fs::write(expand_home(&path), pretty + "\n")
                    .map_err(|e| format!("cannot write {path}: {e}"))?;
                Ok(path)
            })
            .await
            .unwrap_or_else(|| Err("the export was interrupted".into()));
            send(&tx, ComposerMsg::Exported(result));
        }
        ComposerEffect::Preview { request_json } => {
            // Links are signed locally; nothing is uploaded for a preview.
            let eng = engine.clone();
            let result = blocking(move || {
                resolve_request_with(&request_json, Some(&eng), &AssetFiles::default())
                    .map(|(body, _, _)| body)
                    .map_err(|(_, m)| m)
            })
            .await
            .unwrap_or_else(|| Err("the preview was interrupted".into()));
            send(&tx, ComposerMsg::Preview(result));
        }
        ComposerEffect::Complete(input) => {
            let i = input.clone();
            let matches = blocking(move || complete_path(&i))
                .await
                .unwrap_or_default();
            send(&tx, ComposerMsg::Completions { input, matches });
        }
        ComposerEffect::CheckFile { path, kind } => {
            let p = path.clone();
            let result = blocking(move || check_file(&p, kind))
                .await
                .unwrap_or_else(|| Err("the check was interrupted".into()));
            send(&tx, ComposerMsg::FileChecked { path, result });
        }
        ComposerEffect::Submit {
            request_json,
            retry_of,
            draft,
            over_budget,
            asset_files,
        } => {
            let outcome = submit(
                &engine,
                Sending {
                    request_json,
                    retry_of,
                    draft,
                    asset_files,
                },
                max_in_flight,
                over_budget,
            )
            .await;
            send(&tx, ComposerMsg::Submitted(outcome));
        }
    }
}

/// A composer request on its way: the body (local files as paths), the task it edits, its
/// draft, and the names the editor knows of the `data:` URLs it carries.
struct Sending {
    request_json: String,
    retry_of: Option<String>,
    draft: String,
    asset_files: AssetFiles,
}

async fn submit(
    engine: &Engine,
    sending: Sending,
    max_in_flight: usize,
    over_budget: bool,
) -> SubmitOutcome {
    let Sending {
        request_json,
        retry_of,
        draft,
        asset_files: known,
    } = sending;
    if !over_budget
        && engine.spending_cap().is_set()
        && let Ok(req) = crate::api::types::CreateRequest::from_json(&request_json)
    {
        // Reference videos' seconds count in the estimate (and so against the cap).
        let videos =
            crate::engine::input_video::read(&req, &crate::file_download::http_client()).await;
        let planned = [crate::engine::budget::Planned::request(&req)];
        match engine.may_spend(&planned).await {
            Ok(_) => {}
            Err(crate::engine::budget::BudgetError::Over(o)) => {
                return SubmitOutcome::OverBudget(match videos.note() {
                    Some(note) => format!("{o}; {note}"),
                    None => o.to_string(),
                });
            }
            Err(e) => return SubmitOutcome::NotSent(e.to_string()),
        }
    }
    let eng = engine.clone();
    let resolved = blocking(move || resolve_request_with(&request_json, Some(&eng), &known)).await;
    let (body, names) = match resolved {
        Some(Ok((body, uploads, names))) => {
            if let Err(e) = engine.upload_references(&uploads).await {
                return SubmitOutcome::NotSent(e);
            }
            (body, names)
        }
        Some(Err((field, message))) => return SubmitOutcome::AssetError { field, message },
        None => return SubmitOutcome::NotSent("reading the asset files was interrupted".into()),
    };
    // At the cap the request waits in the submission queue instead of going out now.
    let (profile, since) = (engine.profile.clone(), engine.unknown_since());
    let in_flight = engine
        .with_store(move |s| s.in_flight_count(&profile, since))
        .await
        .unwrap_or(0);
    if in_flight >= max_in_flight.max(1) as u64 {
        return queue(engine, body, retry_of, draft, names).await;
    }
    let sender = if over_budget {
        engine.without_spending_cap()
    } else {
        engine.clone()
    };
    match sender.submit_with_files(body, retry_of, &names).await {
        Err(SubmitError::OverBudget(o)) => SubmitOutcome::OverBudget(o.to_string()),
        Ok(record) => {
            // The task is stored: the draft has done its job.
            let _ = engine.with_store(move |s| s.delete_draft(&draft)).await;
            SubmitOutcome::Accepted {
                local_id: record.local_id,
            }
        }
        Err(SubmitError::Api { record, error }) if error.create_outcome_unknown() => {
            SubmitOutcome::Unknown {
                local_id: record.local_id.clone(),
                message: error.to_string(),
            }
        }
        Err(e @ SubmitError::Unrecorded { .. }) => SubmitOutcome::Unknown {
            local_id: match &e {
                SubmitError::Unrecorded { local_id, .. } => local_id.clone(),
                _ => String::new(),
            },
            message: e.to_string(),
        },
        Err(SubmitError::Api { record, error }) => SubmitOutcome::Rejected {
            local_id: Some(record.local_id.clone()),
            // An unknown model is a 404 without `param`; its code still names the field.
            param: error.param().map(str::to_string).or_else(|| {
                error
                    .code()
                    .filter(|c| c.starts_with("InvalidEndpointOrModel"))
                    .map(|_| "model".to_string())
            }),
            message: format!("{error} — {}", error.create_hint()),
        },
        Err(e) => SubmitOutcome::NotSent(e.to_string()),
    }
}

/// Store a composer request as a `pending` row (validated first, as `Engine::submit` does).
async fn queue(
    engine: &Engine,
    body: String,
    retry_of: Option<String>,
    draft: String,
    names: AssetFiles,
) -> SubmitOutcome {
    match crate::api::CreateRequest::from_json(&body) {
        Ok(req) => {
            if let Some(p) = crate::api::validate::validate(&req).into_iter().next() {
                return SubmitOutcome::NotSent(p.to_string());
            }
        }
        Err(e) => return SubmitOutcome::NotSent(format!("the request JSON cannot be read: {e}")),
    }
    let local_id = crate::engine::ids::new_local_id();
    let (lid, profile) = (local_id.clone(), engine.profile.clone());
    let stored = engine
        .with_store(move |s| {
            s.enqueue(
                &[crate::store::NewPending {
                    local_id: &lid,
                    profile: &profile,
                    request_json: &body,
                    key: None,
                    label: None,
                    retry_of: retry_of.as_deref(),
                    max_in_flight: None,
                    asset_files: names.to_json().as_deref(),
                }],
                crate::engine::now(),
            )?;
            s.delete_draft(&draft)
        })
        .await;
    match stored {
        Ok(_) => SubmitOutcome::Queued { local_id },
        Err(e) => SubmitOutcome::NotSent(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_files_are_inlined_and_urls_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("a.png");
        std::fs::write(&p, crate::engine::media_probe::samples::png(400, 300)).expect("write");
        let req = serde_json::json!({"model": "m", "content": [
            {"type": "text", "text": "x"},
            {"type": "image_url", "image_url": {"url": p.to_str().expect("utf8")}, "role": "first_frame"},
            {"type": "image_url", "image_url": {"url": "https://h/b.png"}, "role": "last_frame"}
        ]});
        let out = resolve_request(&req.to_string()).expect("resolves");
        assert!(out.contains("data:image/png;base64,iVBORw0KGgo"), "{out}");
        assert!(out.contains("https://h/b.png"));
        // The inlined file is named; an edited task's data URL keeps the name it had.
        let kept = "data:image/png;base64,AAAA";
        let mut known = AssetFiles::default();
        known.insert(kept, "harbour-ref.png");
        known.insert("data:image/png;base64,BBBB", "gone.png");
        let edited = serde_json::json!({"model": "m", "content": [
            {"type": "image_url", "image_url": {"url": p.to_str().expect("utf8")}, "role": "first_frame"},
            {"type": "image_url", "image_url": {"url": kept}, "role": "last_frame"}
        ]});
        let (body, _, names) =
            resolve_request_with(&edited.to_string(), None, &known).expect("resolves");
        let sent = CreateRequest::from_json(&body).expect("json");
        let url = sent.content[0].as_media().expect("image").1;
        assert_eq!(names.name(url), Some("a.png"));
        assert_eq!(names.name(kept), Some("harbour-ref.png"));
        assert_eq!(names.name("data:image/png;base64,BBBB"), None, "not sent");
        let bad = serde_json::json!({"model": "m", "content": [
            {"type": "image_url", "image_url": {"url": "/nonexistent/x.png"}}
        ]});
        let (field, _) = resolve_request(&bad.to_string()).expect_err("missing file");
        assert_eq!(field, "content[0].image_url.url");
    }

    #[test]
    fn paths_complete_with_directories_marked() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("frame1.png"), b"x").expect("write");
        std::fs::write(dir.path().join("frame2.png"), b"x").expect("write");
        std::fs::create_dir(dir.path().join("frames")).expect("mkdir");
        std::fs::write(dir.path().join(".hidden"), b"x").expect("write");
        let base = format!("{}/", dir.path().display());
        let all = complete_path(&format!("{base}fr"));
        assert_eq!(
            all,
            vec![
                format!("{base}frame1.png"),
                format!("{base}frame2.png"),
                format!("{base}frames/")
            ]
        );
        assert!(!complete_path(&base).iter().any(|p| p.contains(".hidden")));
    }
}
