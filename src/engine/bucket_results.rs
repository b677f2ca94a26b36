//! Saving a succeeded task's results into a bucket: each file streams from its result link
//! straight into an object named by the `[download] template` under the prefix, with the task id
//! and model as object metadata. The store records `s3://BUCKET/KEY` as the saved location, so a
//! rerun (or a restart) uploads nothing again; an object found under a candidate name that
//! already carries this task's id (uploaded, then the process died before recording it) is
//! recorded without a second upload. Failed copies are retried with backoff, and an expired link
//! is refreshed once, as for local files.

use super::saved::{Progress, SaveError, Saved, record_file, with_retries};
use super::{Engine, naming};
use crate::file_download;
use crate::s3::transfer::copy_url;
use crate::s3::{S3Client, S3Location, parse_object_url};
use crate::store::{FileKind, TaskRecord};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// How many numbered names are tried when the template's name is taken by other objects.
const MAX_NAMES: u32 = 1000;

/// Object URLs being written by this process: two tasks whose names collide must not pick the
/// same key while neither has finished.
static CLAIMED: Mutex<Option<HashSet<String>>> = Mutex::new(None);

struct Claim(String);

impl Claim {
    /// Claim `url` unless another save in this process holds it.
    fn try_new(url: &str) -> Option<Claim> {
        let mut guard = CLAIMED.lock().unwrap_or_else(|p| p.into_inner());
        guard
            .get_or_insert_with(HashSet::new)
            .insert(url.to_string())
            .then(|| Claim(url.to_string()))
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        let mut guard = CLAIMED.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(set) = guard.as_mut() {
            set.remove(&self.0);
        }
    }
}

/// Where a file will go.
enum Slot {
    /// A free key, claimed for this process.
    Free(String, Claim),
    /// An object written earlier for this very task: record it, upload nothing.
    Ours(String),
}

/// The recorded location when it is an object URL.
fn recorded_object(path: Option<&String>) -> Option<(S3Location, String)> {
    path.and_then(|p| parse_object_url(p))
}

/// The id written into the object's metadata (and checked when a name is taken).
fn task_tag(record: &TaskRecord) -> String {
    record.display_id().to_string()
}

async fn choose_key(client: &S3Client, name: &str, tag: &str) -> Result<Slot, SaveError> {
    for n in 1..=MAX_NAMES {
        let key = client.location().key(&naming::numbered(name, n));
        let url = client.location().object_url(&key);
        let Some(claim) = Claim::try_new(&url) else {
            continue;
        };
        match client.head(&key).await? {
            None => return Ok(Slot::Free(key, claim)),
            Some(info) if info.task_id.as_deref() == Some(tag) => return Ok(Slot::Ours(key)),
            Some(_) => continue,
        }
    }
    Err(SaveError::Refresh(format!(
        "no free object name for {name} under {}",
        client.location()
    )))
}

/// Save `record`'s results into the bucket of `location`. `record` has its links (the caller
/// refreshed it when needed).
pub(super) async fn save(
    engine: &Engine,
    mut record: TaskRecord,
    location: &S3Location,
    template: &str,
    force: bool,
    progress: &mut Progress<'_>,
) -> Result<Saved, SaveError> {
    let client = engine.s3_client(location)?;
    let http = file_download::http_client_with(&engine.download_limits);
    let mut files = Vec::new();

    let video_name = naming::render(template, &record);
    let video_url = save_one(
        engine,
        &client,
        &http,
        &mut record,
        FileKind::Video,
        &video_name,
        force,
        progress,
    )
    .await?;
    files.push(PathBuf::from(&video_url));

    if record.last_frame_url.is_some() {
        // Beside the video: `x.mp4` -> `x.last.png`, whatever number the video's name got.
        let saved_name = video_url
            .rsplit('/')
            .next()
            .unwrap_or(&video_name)
            .to_string();
        let frame_name = naming::last_frame_name(&saved_name);
        let url = save_one(
            engine,
            &client,
            &http,
            &mut record,
            FileKind::LastFrame,
            &frame_name,
            force,
            progress,
        )
        .await?;
        files.push(PathBuf::from(url));
    }
    let lid = record.local_id.clone();
    let record = engine.with_store(move |s| s.find(&lid)).await?;
    Ok(Saved { record, files })
}

/// Save one file; returns its object URL.
#[allow(clippy::too_many_arguments)]
async fn save_one(
    engine: &Engine,
    client: &S3Client,
    http: &reqwest::Client,
    record: &mut TaskRecord,
    kind: FileKind,
    name: &str,
    force: bool,
    progress: &mut Progress<'_>,
) -> Result<String, SaveError> {
    let recorded = match kind {
        FileKind::Video => record.video_path.as_ref(),
        FileKind::LastFrame => record.last_frame_path.as_ref(),
    };
    let recorded = recorded_object(recorded);
    if let Some((loc, key)) = &recorded
        && !force
    {
        // Saved already (in this bucket or another): never a second object.
        return Ok(loc.object_url(key));
    }
    let tag = task_tag(record);
    let (key, _claim) = match recorded {
        // Again into the same object when it is in this bucket.
        Some((loc, key)) if loc.bucket == client.location().bucket => {
            let claim = Claim::try_new(&loc.object_url(&key));
            (key, claim)
        }
        _ => match choose_key(client, name, &tag).await? {
            Slot::Free(key, claim) => (key, Some(claim)),
            Slot::Ours(key) if !force => {
                let url = client.location().object_url(&key);
                record_file(engine, record, kind, Path::new(&url)).await?;
                return Ok(url);
            }
            Slot::Ours(key) => (key, None),
        },
    };
    copy_with_retries(engine, client, http, record, kind, &key, &tag, progress).await?;
    let url = client.location().object_url(&key);
    record_file(engine, record, kind, Path::new(&url)).await?;
    Ok(url)
}

/// Copy one file with backoff, and one link refresh on expiry.
#[allow(clippy::too_many_arguments)]
async fn copy_with_retries(
    engine: &Engine,
    client: &S3Client,
    http: &reqwest::Client,
    record: &mut TaskRecord,
    kind: FileKind,
    key: &str,
    tag: &str,
    progress: &mut Progress<'_>,
) -> Result<(), SaveError> {
    let (content_type, kind_name) = match kind {
        FileKind::Video => ("video/mp4", "video"),
        FileKind::LastFrame => ("image/png", "last_frame"),
    };
    with_retries!(engine, record, kind, |url| {
        let metadata = [
            ("task-id", tag),
            ("local-id", record.local_id.as_str()),
            ("model", record.model.as_str()),
            ("file", kind_name),
        ];
        let mut report = |done: u64, total: Option<u64>| progress(kind, done, total);
        copy_url(
            http,
            engine.download_limits.max_bytes,
            &url,
            client,
            key,
            content_type,
            &metadata,
            &mut report,
        )
        .await
    })
    .map(drop)
}
