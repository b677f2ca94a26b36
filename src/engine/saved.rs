//! What saving a task's results hands back, shared by saving into a folder (`task_results`)
//! and into a bucket (`bucket_results`): what was saved, why not, the progress callback, and
//! recording a saved file in the store.

use super::{Engine, now};
use crate::file_download::DownloadError;
use crate::store::{FileKind, TaskRecord};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What was saved.
#[derive(Debug)]
pub struct Saved {
    /// The record after the store learned the file paths.
    pub record: TaskRecord,
    /// Files written now or found already saved.
    pub files: Vec<PathBuf>,
}

/// Why results could not be saved.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("task {0} has no video URL (it has not succeeded, or the server did not send one)")]
    NoUrl(String),
    #[error("{0}")]
    Download(#[from] DownloadError),
    #[error("could not refresh the task for a new link: {0}")]
    Refresh(String),
    #[error("{0}")]
    Store(#[from] crate::store::StoreError),
    #[error("{0}")]
    Storage(#[from] crate::s3::S3Error),
}

/// Reports `(file, bytes so far, total when known)` as a download progresses.
pub type Progress<'a> = dyn FnMut(FileKind, u64, Option<u64>) + Send + 'a;

pub(super) async fn record_file(
    engine: &Engine,
    record: &TaskRecord,
    kind: FileKind,
    dest: &Path,
) -> Result<(), SaveError> {
    // The file is complete: a busy store must not make it look unsaved (the next try would
    // fetch it again into a second file).
    let started = std::time::Instant::now();
    loop {
        let (lid, path) = (record.local_id.clone(), dest.to_path_buf());
        match engine
            .with_store(move |s| s.set_file(&lid, kind, &path, now()))
            .await
        {
            Ok(()) => return Ok(()),
            Err(e) if started.elapsed() < RECORD_FOR => {
                tracing::warn!(error = %e, "recording a saved file failed; trying again");
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// How long a saved file's path keeps trying to reach a busy store.
const RECORD_FOR: Duration = Duration::from_secs(60);
