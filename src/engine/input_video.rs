//! The seconds of a request's reference videos, for the token estimate: the 2.0 series bills
//! input video seconds plus output seconds. A local file's seconds come from its header (when it
//! is resolved to a link, [`super::assets::resolve_reference`] remembers them under the link); a remote `http(s)` video's from a bounded
//! ranged read of its first bytes (and, when `moov` sits after the media data, of the box where
//! it starts). What cannot be read (an `asset://` id, a server that refuses ranges, a `moov` past
//! the bounds, a deadline) is named, so the estimate says it excludes that video.

use super::media_probe::{Mp4Scan, scan_mp4};
use crate::api::models;
use crate::api::types::CreateRequest;
use futures::StreamExt;
use std::time::Duration;

/// The first read of a remote video: `moov` of a "fast-started" file sits in it.
pub(crate) const HEAD_BYTES: u64 = 1 << 20;
/// Each later read (the box where `moov` starts, found from the box sizes).
const HOP_BYTES: u64 = 256 * 1024;
/// Reads of one video, the first included.
const MAX_READS: usize = 3;
/// How long reading one request's videos may take in all.
pub(crate) const DEADLINE: Duration = Duration::from_secs(10);
/// The most unreadable URLs remembered (so a request is not read again at every step).
const MAX_UNREADABLE: usize = 1024;

static UNREADABLE: std::sync::LazyLock<std::sync::Mutex<std::collections::HashSet<String>>> =
    std::sync::LazyLock::new(Default::default);

fn tried_before(url: &str) -> bool {
    UNREADABLE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .contains(url)
}

fn unreadable(url: &str) {
    let mut set = UNREADABLE.lock().unwrap_or_else(|e| e.into_inner());
    if set.len() >= MAX_UNREADABLE {
        set.clear();
    }
    set.insert(url.to_string());
}

/// The reference videos of a request as far as the estimate goes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InputVideos {
    /// Seconds of the videos whose duration is known.
    pub seconds: f64,
    /// The videos whose duration could not be read, as shown (no query: it may hold a signature).
    pub unread: Vec<String>,
}

impl InputVideos {
    /// What to say next to an estimate that leaves videos out.
    pub fn note(&self) -> Option<String> {
        if self.unread.is_empty() {
            return None;
        }
        Some(format!(
            "estimate excludes the input video {} (its duration could not be read; the model's minimum for a video input is counted)",
            self.unread.join(", ")
        ))
    }
}

/// A video URL as shown in a note: without its query, sanitized.
pub(crate) fn shown_url(url: &str) -> String {
    let bare = url.split(['?', '#']).next().unwrap_or(url);
    let mut s = crate::sanitize::line(bare).into_owned();
    if s.len() > 120 {
        let mut cut = 117;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push_str("...");
    }
    s
}

/// The known state of `req`'s videos, reading nothing.
pub(crate) fn known(req: &CreateRequest) -> InputVideos {
    let (seconds, unknown) = models::input_videos(req);
    InputVideos {
        seconds,
        unread: unknown.into_iter().map(shown_url).collect(),
    }
}

/// Read the seconds of `req`'s remote reference videos not known yet (remembering them for every
/// later estimate of a request naming them), within [`DEADLINE`]; then what is known.
pub async fn read(req: &CreateRequest, client: &reqwest::Client) -> InputVideos {
    let unknown: Vec<String> = models::input_videos(req)
        .1
        .into_iter()
        .filter(|u| !tried_before(u))
        .map(str::to_string)
        .collect();
    // A local path (a draft before its files are resolved): the file's header.
    for path in unknown.iter().filter(|u| !super::assets::is_url(u)) {
        let p = std::path::PathBuf::from(path.trim());
        let read = tokio::task::spawn_blocking(move || super::media_probe::mp4_seconds(&p)).await;
        if let Ok(Ok(Some(s))) = read {
            models::remember_video_seconds(path, s);
        }
    }
    let reads = async {
        for url in unknown.iter().filter(|u| is_http(u)) {
            match remote_seconds(client, url).await {
                Some(s) => models::remember_video_seconds(url, s),
                None => unreadable(url),
            }
        }
    };
    let _ = tokio::time::timeout(DEADLINE, reads).await;
    // Past the deadline too: not read again for every step of the same request.
    for url in &unknown {
        if models::known_video_seconds(url).is_none() {
            unreadable(url);
        }
    }
    known(req)
}

fn is_http(url: &str) -> bool {
    let l = url.trim_start().get(..8).unwrap_or("").to_ascii_lowercase();
    l.starts_with("https://") || l.starts_with("http://")
}

/// The seconds of the mp4 at `url` from at most [`MAX_READS`] ranged reads.
pub(crate) async fn remote_seconds(client: &reqwest::Client, url: &str) -> Option<f64> {
    let mut at = 0u64;
    for n in 0..MAX_READS {
        let len = if n == 0 { HEAD_BYTES } else { HOP_BYTES };
        let buf = ranged(client, url, at, len).await?;
        match scan_mp4(&buf, at, at) {
            Mp4Scan::Seconds(s) => return Some(s),
            Mp4Scan::ReadAt(next) if next > at => at = next,
            _ => return None,
        }
    }
    None
}

/// Up to `len` bytes of `url` from offset `start` (`Range`); a server that ignores the range
/// serves from 0, which is used only when `start` is 0. No more than `len` bytes are read.
async fn ranged(client: &reqwest::Client, url: &str, start: u64, len: u64) -> Option<Vec<u8>> {
    let range = format!("bytes={start}-{}", start + len - 1);
    let resp = client
        .get(url)
        .header(reqwest::header::RANGE, range)
        .send()
        .await
        .ok()?;
    match resp.status().as_u16() {
        206 => {}
        200 if start == 0 => {}
        _ => return None,
    }
    let mut body = resp.bytes_stream();
    let mut buf = Vec::new();
    while (buf.len() as u64) < len {
        match body.next().await {
            Some(Ok(chunk)) => buf.extend_from_slice(&chunk),
            Some(Err(_)) => return None,
            None => break,
        }
    }
    buf.truncate(len as usize);
    Some(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shown_url_has_no_query_and_no_controls() {
        assert_eq!(
            shown_url("https://b.example/v.mp4?X-Tos-Signature=secret"),
            "https://b.example/v.mp4"
        );
        assert!(!shown_url("https://b.example/\u{1b}[2Jv.mp4").contains('\u{1b}'));
    }

    #[test]
    fn the_note_names_what_is_left_out() {
        let none = InputVideos::default();
        assert_eq!(none.note(), None);
        let some = InputVideos {
            seconds: 0.0,
            unread: vec!["asset://a-1".into()],
        };
        let note = some.note().expect("a note");
        assert!(
            note.starts_with("estimate excludes the input video asset://a-1"),
            "{note}"
        );
    }
}
