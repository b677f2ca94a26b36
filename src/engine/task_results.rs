//! Saving a succeeded task's results (video, and last frame when there is one) into a folder or
//! a bucket (see `bucket_results`), named by the configured template. An expired link is refreshed by fetching the task again; an
//! interrupted transfer is resumed from its `.part` file; a file already saved is not fetched again.

pub use super::saved::{Progress, SaveError, Saved};
use super::saved::{record_file, with_retries};
use super::{Engine, naming};
use crate::destination::Destination;
use crate::file_download;
use crate::store::{FileKind, TaskRecord};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Destinations being written by this process: two tasks whose names collide must not pick the
/// same file while neither has finished.
static CLAIMED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// A claimed destination, released when dropped.
struct Claim(PathBuf);

impl Claim {
    fn new(dir: &Path, name: &str) -> Claim {
        let mut claimed = CLAIMED.lock().unwrap_or_else(|p| p.into_inner());
        let path = naming::unique_path_with(dir, name, |p| claimed.iter().any(|c| c == p));
        claimed.push(path.clone());
        Claim(path)
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        let mut claimed = CLAIMED.lock().unwrap_or_else(|p| p.into_inner());
        claimed.retain(|c| c != &self.0);
    }
}

/// A file already saved for `path`, if it still exists.
fn existing(path: Option<&String>) -> Option<PathBuf> {
    path.map(PathBuf::from).filter(|p| p.is_file())
}

/// Save `record`'s results into `dest` (a folder or a bucket), naming the video by `template`.
pub async fn save_results(
    engine: &Engine,
    record: &TaskRecord,
    dest: impl Into<Destination>,
    template: &str,
) -> Result<Saved, SaveError> {
    save_results_with(engine, record, dest, template, false, &mut |_, _, _| {}).await
}

/// [`save_results`] with progress reports; `force` fetches files again even when they are saved
/// (into the recorded path, replaced atomically, or a new name when none is recorded).
pub async fn save_results_with(
    engine: &Engine,
    record: &TaskRecord,
    dest: impl Into<Destination>,
    template: &str,
    force: bool,
    progress: &mut Progress<'_>,
) -> Result<Saved, SaveError> {
    let mut record = record.clone();
    if record.video_url.is_none() && record.task_id.is_some() {
        record = engine
            .poll(&record)
            .await
            .map_err(|e| SaveError::Refresh(e.to_string()))?
            .0;
    }
    if record.video_url.is_none() {
        return Err(SaveError::NoUrl(record.display_id().to_string()));
    }
    let dest = dest.into();
    let dir = match &dest {
        Destination::Folder(dir) => dir.as_path(),
        Destination::Bucket(location) => {
            return super::bucket_results::save(
                engine, record, location, template, force, progress,
            )
            .await;
        }
    };
    let http = file_download::http_client_with(&engine.download_limits);
    let mut files = Vec::new();

    let video_path = match existing(record.video_path.as_ref()) {
        Some(p) if force => {
            fetch(engine, &http, &mut record, FileKind::Video, &p, progress).await?;
            p
        }
        Some(p) => p,
        None => {
            let name = naming::render(template, &record);
            let claim = Claim::new(dir, &name);
            let dest = claim.0.clone();
            fetch(engine, &http, &mut record, FileKind::Video, &dest, progress).await?;
            record_file(engine, &record, FileKind::Video, &dest).await?;
            dest
        }
    };
    files.push(video_path.clone());

    if record.last_frame_url.is_some() {
        let frame = match existing(record.last_frame_path.as_ref()) {
            Some(p) if force => {
                fetch(
                    engine,
                    &http,
                    &mut record,
                    FileKind::LastFrame,
                    &p,
                    progress,
                )
                .await?;
                p
            }
            Some(p) => p,
            None => {
                let video_name = video_path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "video.mp4".into());
                let claim = Claim::new(dir, &naming::last_frame_name(&video_name));
                let dest = claim.0.clone();
                fetch(
                    engine,
                    &http,
                    &mut record,
                    FileKind::LastFrame,
                    &dest,
                    progress,
                )
                .await?;
                record_file(engine, &record, FileKind::LastFrame, &dest).await?;
                dest
            }
        };
        files.push(frame);
    }
    let lid = record.local_id.clone();
    let record = engine.with_store(move |s| s.find(&lid)).await?;
    Ok(Saved { record, files })
}

/// Download one file with resume, backoff, and one link refresh on expiry.
async fn fetch(
    engine: &Engine,
    http: &reqwest::Client,
    record: &mut TaskRecord,
    kind: FileKind,
    dest: &Path,
    progress: &mut Progress<'_>,
) -> Result<(), SaveError> {
    let limits = engine.download_limits;
    with_retries!(engine, record, kind, |url| {
        file_download::download_with(http, &url, dest, &limits, |done, total| {
            progress(kind, done, total)
        })
        .await
    })
    .map(drop)
}
