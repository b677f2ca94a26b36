//! Last-frame previews, decoded off the UI task: read the saved PNG/JPEG (or fetch the
//! last-frame URL), decode and fit it to the detail pane's box on the blocking pool, encode it for
//! the chosen graphics protocol, and hand the result to the loop as a message.
//!
//! Halfblocks (coloured `▀` cells) work in every terminal, over SSH and in tmux, and are the
//! default. kitty / sixel / iTerm2 are used only with `[ui] images = "auto"` on a local terminal
//! (no SSH, no tmux/screen) that answers the capability query.

use crate::app::Msg;
use crate::app::results::{PreviewImage, ResultsMsg};
use ratatui::layout::Size;
use ratatui_image::Resize;
use ratatui_image::picker::Picker;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// Largest last frame fetched or read, bytes.
const MAX_BYTES: u64 = 32 * 1024 * 1024;
/// The longest a last-frame fetch for a preview may take.
const FETCH_DEADLINE: std::time::Duration = std::time::Duration::from_secs(120);
/// Decoded frames kept for quick re-selection.
const CACHE: usize = 16;

/// Whether a richer protocol than halfblocks may be queried for.
pub(crate) fn may_query(mode: &str, env: impl Fn(&str) -> Option<String>) -> bool {
    let set = |k: &str| env(k).is_some_and(|v| !v.is_empty());
    mode == "auto"
        && !set("SSH_CONNECTION")
        && !set("SSH_TTY")
        && !set("TMUX")
        && !set("STY")
        && env("TERM").is_none_or(|t| t != "dumb" && !t.starts_with("screen"))
}

/// The picker for this terminal: halfblocks unless [`may_query`] and the terminal answers.
/// Call after entering raw mode and before reading terminal events.
pub(crate) fn picker(mode: &str) -> Picker {
    if may_query(mode, |k| std::env::var(k).ok()) {
        Picker::from_query_stdio().unwrap_or_else(|_| Picker::halfblocks())
    } else {
        Picker::halfblocks()
    }
}

/// Decodes previews; cheap to clone.
#[derive(Clone)]
pub struct Previewer {
    picker: Picker,
    /// Contact sheets, drawn with the same picker.
    pub(crate) sheets: super::sheet::Sheets,
    http: reqwest::Client,
    cache: Arc<Mutex<HashMap<String, Arc<image::DynamicImage>>>>,
}

impl Previewer {
    pub fn new(picker: Picker) -> Previewer {
        Previewer {
            sheets: super::sheet::Sheets::new(picker.clone()),
            picker,
            http: crate::file_download::http_client(),
            cache: Arc::default(),
        }
    }

    /// Load, decode and encode `local_id`'s last frame; the answer goes to `tx`.
    pub(crate) fn request(
        &self,
        local_id: String,
        path: Option<String>,
        url: Option<String>,
        size: (u16, u16),
        tx: mpsc::UnboundedSender<Msg>,
    ) {
        let me = self.clone();
        tokio::spawn(async move {
            let msg = match me.load(&local_id, path, url, size).await {
                Ok(image) => ResultsMsg::Preview {
                    local_id,
                    size,
                    image,
                },
                Err(error) => ResultsMsg::PreviewFailed { local_id, error },
            };
            let _ = tx.send(Msg::Results(msg));
        });
    }

    async fn bytes(&self, path: Option<String>, url: Option<String>) -> Result<Vec<u8>, String> {
        if let Some(p) = path.filter(|p| std::path::Path::new(p).is_file()) {
            let len = tokio::fs::metadata(&p)
                .await
                .map_err(|e| e.to_string())?
                .len();
            if len > MAX_BYTES {
                return Err(format!("the saved frame is too large ({len} bytes)"));
            }
            return tokio::fs::read(&p).await.map_err(|e| e.to_string());
        }
        let url = url.ok_or("no last frame (request return_last_frame)")?;
        // A trickling server must not hold the preview for ever: one deadline for the whole.
        tokio::time::timeout(FETCH_DEADLINE, self.fetch(&url))
            .await
            .map_err(|_| "the last-frame download was too slow".to_string())?
    }

    async fn fetch(&self, url: &str) -> Result<Vec<u8>, String> {
        let resp = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|_| "could not fetch the last frame".to_string())?;
        if !resp.status().is_success() {
            return Err(format!(
                "the last-frame link answered HTTP {} (expired? d saves it)",
                resp.status().as_u16()
            ));
        }
        if resp.content_length().is_some_and(|n| n > MAX_BYTES) {
            return Err("the last frame is too large".into());
        }
        // Without a Content-Length (chunked) the cap is enforced while reading.
        let mut resp = resp;
        let mut body = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|_| "the last-frame download was cut".to_string())?
        {
            if body.len() as u64 + chunk.len() as u64 > MAX_BYTES {
                return Err("the last frame is too large".into());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    /// Decode (or reuse) and encode for a `cols`x`rows` box.
    pub async fn load(
        &self,
        local_id: &str,
        path: Option<String>,
        url: Option<String>,
        (cols, rows): (u16, u16),
    ) -> Result<PreviewImage, String> {
        let cached = self
            .cache
            .lock()
            .ok()
            .and_then(|c| c.get(local_id).cloned());
        let img = match cached {
            Some(img) => img,
            None => {
                let data = self.bytes(path, url).await?;
                let img = tokio::task::spawn_blocking(move || image::load_from_memory(&data))
                    .await
                    .map_err(|e| e.to_string())?
                    .map_err(|e| format!("cannot decode the last frame: {e}"))?;
                let img = Arc::new(img);
                if let Ok(mut c) = self.cache.lock() {
                    if c.len() >= CACHE {
                        c.clear();
                    }
                    c.insert(local_id.to_string(), img.clone());
                }
                img
            }
        };
        let picker = self.picker.clone();
        tokio::task::spawn_blocking(move || {
            picker
                .new_protocol((*img).clone(), Size::new(cols, rows), Resize::Fit(None))
                .map(|p| PreviewImage(Arc::new(p)))
                .map_err(|e| format!("cannot draw the last frame: {e}"))
        })
        .await
        .map_err(|e| e.to_string())?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rich_protocols_only_on_local_terminals() {
        let none = |_: &str| None;
        assert!(may_query("auto", none));
        assert!(!may_query("halfblocks", none));
        assert!(!may_query("auto", |k: &str| (k == "TMUX").then(|| "x".into())));
        assert!(!may_query("auto", |k: &str| {
            (k == "SSH_CONNECTION").then(|| "a b c d".into())
        }));
    }
}
