//! From the editor to a create request and back, and live validation: the request is checked by
//! `api::validate::validate` (the one implementation), with each local file stood in for by a
//! `data:` URL of its type, so the only extra checks here are the ones about local files.

use super::{Asset, Editor, Field, ProblemAt};
use crate::api::types::{ContentItem, CreateRequest, MediaKind};
use crate::api::validate::{Problem, validate};
use crate::engine::asset_files::AssetFiles;
use crate::engine::assets::{AssetError, mime_for};
use std::path::Path;

/// The request with each asset's URL given by `url_of`.
pub(crate) fn request(e: &Editor, url_of: impl Fn(&Asset) -> String) -> CreateRequest {
    let mut req = e.base.clone();
    let prompt = e.prompt_text();
    let mut content = Vec::new();
    if !prompt.trim().is_empty() || e.assets.is_empty() {
        content.push(ContentItem::text(prompt));
    }
    for a in &e.assets {
        content.push(ContentItem::media(a.kind, url_of(a), Some(a.role.clone())));
    }
    content.extend(e.other_content.iter().cloned());
    req.content = content;
    if req.ratio.is_none()
        && let Some(configured) = &e.default_ratio
    {
        req.ratio = Some(req.ratio_when_unset(configured));
    }
    req.duration = if req.frames.is_some() {
        None
    } else {
        e.duration
    };
    req
}

/// The index in `content[]` of the first asset (after the prompt's text item, when there is one).
fn asset_offset(e: &Editor) -> usize {
    usize::from(!e.prompt_text().trim().is_empty() || e.assets.is_empty())
}

/// Where the form shows a problem about the API field `field` (`content[2].role`, `seed`, ...).
pub(crate) fn locate(e: &Editor, field: &str) -> (Field, Option<usize>) {
    if let Some(rest) = field.strip_prefix("content[") {
        let index = rest.split(']').next().and_then(|n| n.parse::<usize>().ok());
        let offset = asset_offset(e);
        return match index {
            Some(i) if i >= offset && i - offset < e.assets.len() => {
                (Field::Assets, Some(i - offset))
            }
            Some(_) => (Field::Prompt, None),
            None => (Field::Prompt, None),
        };
    }
    if field == "content" {
        return if e.assets.is_empty() || e.prompt_text().trim().is_empty() {
            (Field::Prompt, None)
        } else {
            (Field::Assets, None)
        };
    }
    (Field::from_api(field).unwrap_or(Field::Model), None)
}

/// A `data:` URL standing in for a local file of `mime` during validation.
fn stand_in(mime: &str) -> String {
    format!("data:{mime};base64,AAAA")
}

/// Every problem with the editor's request, in form order.
pub(crate) fn problems(e: &Editor) -> Vec<ProblemAt> {
    let offset = asset_offset(e);
    let mut local: Vec<ProblemAt> = Vec::new();
    let req = request(e, |a| {
        if !a.is_local() {
            return a.target.trim().to_string();
        }
        let path = Path::new(a.target.trim());
        if a.kind == MediaKind::Video && e.uploads {
            // Sent as a presigned link to the bucket.
            return "https://bucket.invalid/reference.mp4".to_string();
        }
        let err = if a.kind == MediaKind::Video {
            Err(AssetError::VideoNotInline {
                path: a.target.clone(),
            })
        } else {
            mime_for(path, a.kind)
        };
        match err {
            Ok(mime) => stand_in(mime),
            Err(_) => stand_in(match a.kind {
                MediaKind::Audio => "audio/mp3",
                _ => "image/png",
            }),
        }
    });
    for (i, a) in e.assets.iter().enumerate() {
        if !a.is_local() {
            continue;
        }
        let path = Path::new(a.target.trim());
        let err = if a.kind == MediaKind::Video && e.uploads {
            match e.files.get(a.target.trim()) {
                Some(Some(Err(why))) => Some(why.clone()),
                _ => None,
            }
        } else if a.kind == MediaKind::Video {
            Some(
                AssetError::VideoNotInline {
                    path: a.target.clone(),
                }
                .to_string(),
            )
        } else {
            mime_for(path, a.kind)
                .err()
                .map(|e| e.to_string())
                .or_else(|| match e.files.get(a.target.trim()) {
                    Some(Some(Err(why))) => Some(why.clone()),
                    _ => None,
                })
        };
        if let Some(err) = err {
            local.push(ProblemAt {
                field: Field::Assets,
                asset: Some(i),
                problem: Problem::invalid(
                    format!("content[{}].{}.url", i + offset, a.kind.item_type()),
                    err,
                    "pick a readable file of an accepted type and size, or give an https:// URL",
                ),
            });
        }
    }
    let mut out: Vec<ProblemAt> = validate(&req)
        .into_iter()
        .map(|p| {
            let (field, asset) = locate(e, &p.field);
            ProblemAt {
                field,
                asset,
                problem: p,
            }
        })
        .chain(local)
        .collect();
    let rank = |f: Field| Field::ALL.iter().position(|x| *x == f).unwrap_or(0);
    out.sort_by_key(|p| (rank(p.field), p.asset));
    out
}

/// The draft as stored: the request (local files as paths) and the lineage.
pub(crate) fn draft_json(e: &Editor) -> String {
    let mut req = request(e, |a| a.target.clone());
    // Keep the duration even while frames override it, so turning frames off restores it.
    req.duration = e.duration;
    // A ratio the user did not choose stays unchosen (it follows the images when reopened).
    req.ratio.clone_from(&e.base.ratio);
    let mut draft = serde_json::json!({
        "composer_draft": 1,
        "retry_of": e.retry_of,
        "default_ratio": e.default_ratio,
        "request": serde_json::to_value(&req).unwrap_or_default(),
    });
    if !e.asset_files.is_empty() {
        draft["asset_files"] = e.asset_files.to_value();
    }
    draft.to_string()
}

/// An editor from a stored draft, a template, or a plain request body.
pub(crate) fn editor_from_json(name: String, json: &str) -> Result<Editor, String> {
    let v: serde_json::Value = serde_json::from_str(json).map_err(|e| format!("not JSON: {e}"))?;
    let default_ratio = v
        .get("default_ratio")
        .and_then(|r| r.as_str())
        .map(str::to_string);
    // A draft's names of its inlined files (a plain request has none).
    let files = v
        .get("composer_draft")
        .and(v.get("asset_files"))
        .map(AssetFiles::from_value);
    let (req_value, retry_of) = match v.get("request") {
        Some(r) if v.get("composer_draft").is_some() => (
            r.clone(),
            v.get("retry_of")
                .and_then(|x| x.as_str())
                .map(str::to_string),
        ),
        _ => (v, None),
    };
    let req =
        CreateRequest::from_value(req_value).map_err(|e| format!("not a create request: {e}"))?;
    let mut e = Editor::from_request(name, req, retry_of);
    if let Some(files) = files {
        e.name_files(files);
    }
    e.default_ratio = default_ratio;
    if e.default_ratio.is_some() {
        e.revalidate();
    }
    Ok(e)
}

impl Editor {
    /// Run validation again (after any change).
    pub(crate) fn revalidate(&mut self) {
        self.problems = problems(self);
    }

    /// The request as it would be sent, with local files left as paths.
    pub(crate) fn request(&self) -> CreateRequest {
        request(self, |a| a.target.trim().to_string())
    }
}
