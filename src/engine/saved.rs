//! What saving a task's results shares between saving into a folder (`task_results`) and into
//! a bucket (`bucket_results`): what was saved, why not, the progress callback, the retry loop
//! around one file's transfer, and recording a saved file in the store.

use super::{Engine, now};
use crate::backoff::Backoff;
use crate::file_download::DownloadError;
use crate::s3::transfer::CopyError;
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

impl From<CopyError> for SaveError {
    fn from(e: CopyError) -> SaveError {
        match e {
            CopyError::Download(e) => e.into(),
            CopyError::Storage(e) => e.into(),
        }
    }
}

/// Reports `(file, bytes so far, total when known)` as a download progresses.
pub type Progress<'a> = dyn FnMut(FileKind, u64, Option<u64>) + Send + 'a;

/// How many times one file is attempted before giving up.
const ATTEMPTS: u32 = 4;
/// The wait between attempts at one file.
const RETRY_WAIT: Backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(4));

/// What a failed transfer of one file says about trying again.
pub(super) trait TransferFailure: Into<SaveError> + std::fmt::Display {
    /// Only a freshly signed link can help (the task is fetched again, once).
    fn needs_fresh_url(&self) -> bool;
    /// The same link may work on another attempt (after a backoff).
    fn is_retryable(&self) -> bool;
}

impl TransferFailure for DownloadError {
    fn needs_fresh_url(&self) -> bool {
        DownloadError::needs_fresh_url(self)
    }
    fn is_retryable(&self) -> bool {
        DownloadError::is_retryable(self)
    }
}

impl TransferFailure for CopyError {
    fn needs_fresh_url(&self) -> bool {
        CopyError::needs_fresh_url(self)
    }
    fn is_retryable(&self) -> bool {
        CopyError::is_retryable(self)
    }
}

/// The result link of `kind` in `record`.
pub(super) fn url_of(record: &TaskRecord, kind: FileKind) -> Result<String, SaveError> {
    match kind {
        FileKind::Video => record.video_url.clone(),
        FileKind::LastFrame => record.last_frame_url.clone(),
    }
    .ok_or_else(|| SaveError::NoUrl(record.display_id().into()))
}

/// One file of `$record` transferred from its result link under [`Retries`]' rule: `$transfer`
/// runs with `$url` bound to the link of `$kind` (a fresh one after a refresh) until it gives
/// `Ok` or the rule gives up; the whole is a `Result<_, SaveError>`. A macro rather than a
/// function taking an async closure: such a closure's future cannot yet be shown `Send` to
/// `tokio::spawn` ("implementation of `Send` is not general enough").
macro_rules! with_retries {
    ($engine:expr, $record:expr, $kind:expr, |$url:ident| $transfer:expr) => {{
        let mut retries = $crate::engine::saved::Retries::default();
        loop {
            let $url = $crate::engine::saved::url_of($record, $kind)?;
            match $transfer {
                Ok(done) => break Ok::<_, $crate::engine::saved::SaveError>(done),
                Err(e) => retries.after($engine, $record, e).await?,
            }
        }
    }};
}
pub(super) use with_retries;

/// The retry rule for one file's transfer from its result link: up to [`ATTEMPTS`] tries with
/// backoff while it fails retryably, and an expired link refreshed once by fetching the task
/// again. Used through [`with_retries!`].
#[derive(Debug, Default)]
pub(super) struct Retries {
    refreshed: bool,
    attempt: u32,
}

impl Retries {
    /// After a failed transfer: `Ok` to try again (the link refreshed into `record`, or the
    /// backoff waited), else the error to give up with.
    pub(super) async fn after<E: TransferFailure>(
        &mut self,
        engine: &Engine,
        record: &mut TaskRecord,
        e: E,
    ) -> Result<(), SaveError> {
        if e.needs_fresh_url() && !self.refreshed {
            self.refreshed = true;
            *record = engine
                .poll(record)
                .await
                .map_err(|e| SaveError::Refresh(e.to_string()))?
                .0;
            Ok(())
        } else if e.is_retryable() && self.attempt + 1 < ATTEMPTS {
            self.attempt += 1;
            let attempt = self.attempt;
            tracing::debug!(error = %e, attempt, "saving a result file failed; trying again");
            tokio::time::sleep(RETRY_WAIT.delay(attempt - 1)).await;
            Ok(())
        } else {
            Err(e.into())
        }
    }
}

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
