//! The engine shared by the dashboard and the headless commands: submit (store first, then POST,
//! never re-sent when the outcome is unknown), poll, cancel and save results. Store calls run on
//! the blocking pool so they never stall an event loop.

pub mod asset_files;
pub mod assets;
pub mod batch;
pub(crate) mod bucket_results;
pub mod budget;
pub mod eta;
pub mod ids;
pub mod input_video;
pub(crate) mod list_poll;
pub(crate) mod media_probe;
pub mod naming;
pub(crate) mod queue;
pub mod reconcile;
pub(crate) mod saved;
pub mod sheet;
pub mod task_results;

use crate::api::types::CreateRequest;
use crate::api::validate::{Problem, Target, validate_for};
use crate::api::{ApiError, ArkClient};
use crate::store::{Store, StoreError, TaskRecord};
use std::sync::{Arc, Mutex};

/// Whether a task may be resubmitted: it failed, expired or was cancelled, or its submission's
/// outcome is unknown (the user decides), or it was rejected (it will be again, unless edited),
/// or the server no longer knows it (`lost`).
/// Whether it is the head of its retry chain is the store's check (`Store::retried_by`).
pub(crate) fn retryable(t: &impl crate::store::TaskFacts) -> bool {
    use crate::store::Phase;
    match t.phase() {
        Phase::Remote(s) => s.is_retryable(),
        Phase::SubmitUnknown | Phase::Rejected | Phase::Lost => true,
        Phase::Pending | Phase::Submitting => false,
    }
}

/// True when an answer to a task's GET says the task does not exist: the API's JSON 404 (a web
/// page's 404 is a wrong base URL, classified apart; a model's 404 is about a create).
pub(crate) fn is_task_gone(e: &ApiError) -> bool {
    match e {
        ApiError::NotFound { code, .. } => {
            !code.starts_with("InvalidEndpointOrModel") && !code.starts_with("ModelNotOpen")
        }
        _ => false,
    }
}

/// Unix seconds now.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Why a submission did not produce an accepted task.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// Refused before sending: nothing was stored or sent.
    #[error("the request is not valid:\n{}", problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
    Invalid { problems: Vec<Problem> },
    /// The body is not a create request at all.
    #[error("the request JSON cannot be read: {0}")]
    BadJson(String),
    /// The server refused it (stored as `rejected`), or the outcome is unknown (stored as
    /// `submit_unknown`, never re-sent automatically).
    #[error("{error}")]
    Api {
        record: Box<TaskRecord>,
        error: ApiError,
    },
    #[error("{0}")]
    Store(#[from] StoreError),
    /// It would pass today's spending cap (checked in the transaction that would have written
    /// its row): nothing was stored or sent.
    #[error("{0}")]
    OverBudget(budget::OverBudget),
    /// The server accepted the task, but the store could not record it (it stays `submitting`,
    /// and becomes `submit_unknown`). The task exists: it must not be sent again.
    #[error(
        "the server accepted the task as {task_id}, but the store could not record it: {error}; do not submit it again (its results are on the server under that id)"
    )]
    Unrecorded {
        task_id: String,
        local_id: String,
        error: StoreError,
    },
}

/// How long an accepted create keeps trying to record its task id in a busy store.
const RECORD_ACCEPTED_FOR: std::time::Duration = std::time::Duration::from_secs(60);

impl SubmitError {
    /// True when the create may have reached the server (so it must not be re-sent blindly).
    pub fn outcome_unknown(&self) -> bool {
        matches!(self, SubmitError::Api { error, .. } if error.create_outcome_unknown())
            || matches!(self, SubmitError::Unrecorded { .. })
    }
}

/// A handle on the client and the store, cheap to clone.
#[derive(Clone)]
pub struct Engine {
    pub client: ArkClient,
    store: Arc<Mutex<Store>>,
    /// The profile name recorded with each task.
    pub profile: String,
    /// The daily spending cap `may_spend` checks (none by default).
    cap: Arc<budget::SpendingCap>,
    /// `[storage]`: how buckets are reached (with the AWS variables and files).
    pub(crate) storage: Arc<crate::config::StorageConfig>,
    /// A fixed S3 setup instead of the environment's (tests and benchmarks).
    pub s3_setup: Option<Arc<crate::s3::S3Setup>>,
    /// `[assets] upload_to`: the bucket local references go through (the composer's; `submit`
    /// may name another with `--upload-to`).
    pub(crate) reference_bucket: Option<crate::s3::S3Location>,
    /// The profile is a relay: requests are checked by the relay's rules (no endpoint ids).
    pub(crate) relay: bool,
    /// Size and speed limits of result downloads (`[download]` in the config).
    pub download_limits: crate::file_download::Limits,
    /// Signalled when this process's poller sees a task finish: a slot of the queue is free,
    /// and the feeder sends the next line at once instead of at its next look.
    pub(crate) slot_freed: Arc<tokio::sync::Notify>,
    /// `[submit] unknown_slot_secs`: how long a create of unknown outcome holds its in-flight
    /// slot from when it was sent (see [`Engine::unknown_since`]).
    pub(crate) unknown_slot_secs: u64,
}

impl Engine {
    pub fn new(client: ArkClient, store: Store, profile: impl Into<String>) -> Engine {
        Engine {
            client,
            store: Arc::new(Mutex::new(store)),
            profile: profile.into(),
            cap: Arc::new(budget::SpendingCap::default()),
            storage: Arc::default(),
            s3_setup: None,
            reference_bucket: None,
            relay: false,
            download_limits: crate::file_download::Limits::default(),
            slot_freed: Arc::default(),
            unknown_slot_secs: crate::config::DEFAULT_UNKNOWN_SLOT_SECS,
        }
    }

    /// The bucket for a task's local references (`location`), its links living as long as a
    /// task with `execution_expires_after` can.
    pub(crate) fn reference_bucket_for(
        &self,
        location: &crate::s3::S3Location,
        execution_expires_after: Option<i64>,
    ) -> assets::ReferenceBucket {
        assets::ReferenceBucket {
            client: self.s3_client(location).map_err(|e| e.to_string()),
            location: location.clone(),
            link_ttl: assets::link_ttl(execution_expires_after),
        }
    }

    /// Upload the planned reference files (each once: an object already under its content
    /// address is kept). Returns, per file, whether it was uploaded now.
    pub(crate) async fn upload_references(
        &self,
        uploads: &[assets::PlannedUpload],
    ) -> Result<Vec<bool>, String> {
        let mut out = Vec::new();
        for u in uploads {
            let (location, _) = crate::s3::parse_object_url(&u.object_url)
                .ok_or_else(|| format!("bad object URL {}", u.object_url))?;
            let client = self.s3_client(&location).map_err(|e| e.to_string())?;
            let uploaded = crate::s3::transfer::upload_file(&client, &u.file)
                .await
                .map_err(|e| {
                    format!(
                        "{}: the upload failed, nothing was sent: {e}",
                        u.file.path.display()
                    )
                })?;
            out.push(uploaded);
        }
        Ok(out)
    }

    /// A client for the bucket of `location`, from the fixed setup or `[storage]` and the
    /// process's AWS variables and files.
    pub(crate) fn s3_client(
        &self,
        location: &crate::s3::S3Location,
    ) -> Result<crate::s3::S3Client, crate::s3::S3Error> {
        match &self.s3_setup {
            Some(setup) => crate::s3::S3Client::new(location, setup),
            None => crate::s3::S3Client::from_config(location, &self.storage),
        }
    }

    /// The same engine checking requests by a relay's rules when `relay`.
    pub(crate) fn with_relay(mut self, relay: bool) -> Engine {
        self.relay = relay;
        self
    }

    /// Creates of unknown outcome sent at or after this Unix second still count as in flight
    /// (`Store::in_flight_count`): the cap is counted as if each may have started a task.
    pub(crate) fn unknown_since(&self) -> i64 {
        now().saturating_sub(self.unknown_slot_secs.min(i64::MAX as u64) as i64)
    }

    /// Run `f` on the store on the blocking pool.
    pub async fn with_store<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || {
            let guard = store
                .lock()
                .map_err(|_| StoreError::Sql("the store lock was poisoned by a crash".into()))?;
            f(&guard)
        })
        .await
        .map_err(|e| StoreError::Sql(format!("store task failed: {e}")))?
    }

    /// Run a write that records what a create's answer was, on the blocking pool, trying again
    /// while the store is busy (for up to a minute): a busy store must not leave the row
    /// `submitting`, to be taken later for an uncertain create.
    pub(crate) async fn record_answer<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: Fn(&Store) -> Result<T, StoreError> + Send + Sync + 'static,
    {
        let f = Arc::new(f);
        let started = std::time::Instant::now();
        loop {
            let g = f.clone();
            match self.with_store(move |s| g(s)).await {
                Err(StoreError::Busy(e)) if started.elapsed() < RECORD_ACCEPTED_FOR => {
                    tracing::warn!(error = %e, "the store is busy recording a create's answer; trying again");
                    tokio::time::sleep(std::time::Duration::from_millis(250)).await;
                }
                other => return other,
            }
        }
    }

    /// Validate `request_json`, write a `submitting` row, POST it once, and record the outcome.
    pub async fn submit(
        &self,
        request_json: String,
        retry_of: Option<String>,
    ) -> Result<TaskRecord, SubmitError> {
        self.submit_linked(request_json, retry_of, None, false)
            .await
    }

    /// [`Engine::submit`] of a request whose inlined files came from local files: their names
    /// are kept with the task (none given: those of `retry_of`, which sent the same data).
    pub async fn submit_with_files(
        &self,
        request_json: String,
        retry_of: Option<String>,
        files: &asset_files::AssetFiles,
    ) -> Result<TaskRecord, SubmitError> {
        self.submit_linked(request_json, retry_of, files.to_json(), false)
            .await
    }

    /// `submit`, and with `head_only` the new row is written only if `retry_of` is still the
    /// head of its retry chain (checked in the transaction that writes it; see
    /// `Store::begin_retry`), else `SubmitError::Store(StoreError::AlreadyRetried)` and nothing
    /// is sent.
    async fn submit_linked(
        &self,
        request_json: String,
        retry_of: Option<String>,
        files: Option<String>,
        head_only: bool,
    ) -> Result<TaskRecord, SubmitError> {
        let req = CreateRequest::from_json(&request_json)
            .map_err(|e| SubmitError::BadJson(e.to_string()))?;
        let problems = validate_for(&req, &Target::with_relay(self.relay));
        if !problems.is_empty() {
            return Err(SubmitError::Invalid { problems });
        }
        let local_id = ids::new_local_id();
        let profile = self.profile.clone();
        let (lid, body) = (local_id.clone(), request_json.clone());
        if self.cap.is_set() {
            // Reference videos' seconds count against the cap (read once per process).
            input_video::read(&req, &crate::file_download::http_client()).await;
        }
        let cap = self.cap.clone();
        let adding = cap.spend_of(&[budget::Planned::request(&req)]);
        let begun = self
            .with_store(move |s| {
                let sub = crate::store::NewSubmission {
                    local_id: &lid,
                    profile: &profile,
                    request_json: &body,
                    retry_of: retry_of.as_deref(),
                    now: now(),
                    asset_files: files.as_deref(),
                };
                s.begin_submission_if(&sub, head_only, |s| budget::reserve(&cap, s, adding))
            })
            .await?
            .map_err(SubmitError::OverBudget)?;
        let outcome = self
            .client
            .create_body(request_json.into(), &local_id)
            .await;
        let lid = local_id.clone();
        match outcome {
            Ok(resp) => self.record_accepted(&lid, &resp.id, Store::find).await,
            Err(error) => {
                let unknown = error.create_outcome_unknown();
                let code = error.code().unwrap_or("").to_string();
                let message = format!("{error} — {}", error.create_hint());
                let stored = self
                    .record_answer(move |s| {
                        if unknown {
                            s.submission_unknown(&lid, &message, now())?;
                        } else {
                            s.submission_rejected(&lid, &code, &message, now())?;
                        }
                        s.find(&lid)
                    })
                    .await;
                // A store that cannot record the outcome must not hide it: the caller still
                // learns whether the create may have reached the server (the row stays
                // `submitting`, and is later marked `submit_unknown`).
                let record = match stored {
                    Ok(r) => r,
                    Err(e) => {
                        tracing::warn!(error = %e, "could not record a submission's outcome");
                        begun
                    }
                };
                Err(SubmitError::Api {
                    record: Box::new(record),
                    error,
                })
            }
        }
    }

    /// Record that the server accepted `local_id` as `task_id`, and return the row as `read`
    /// reads it. The task exists and is paid for: a busy store must not lose its id (the row
    /// would be abandoned as `submit_unknown`, the task never polled nor saved), so this keeps
    /// trying for a while.
    pub(super) async fn record_accepted(
        &self,
        local_id: &str,
        task_id: &str,
        read: fn(&Store, &str) -> Result<TaskRecord, StoreError>,
    ) -> Result<TaskRecord, SubmitError> {
        let started = std::time::Instant::now();
        loop {
            let (l, id) = (local_id.to_string(), task_id.to_string());
            match self
                .with_store(move |s| s.submission_accepted(&l, &id, now()))
                .await
            {
                Ok(()) => break,
                Err(StoreError::DuplicateTaskId { task_id, other }) => {
                    return Err(self
                        .duplicate_id(local_id.to_string(), &task_id, &other)
                        .await);
                }
                Err(e) if started.elapsed() < RECORD_ACCEPTED_FOR => {
                    tracing::warn!(error = %e, "recording an accepted task failed; trying again");
                    tokio::time::sleep(std::time::Duration::from_millis(250)).await;
                }
                Err(error) => {
                    return Err(SubmitError::Unrecorded {
                        task_id: task_id.to_string(),
                        local_id: local_id.to_string(),
                        error,
                    });
                }
            }
        }
        let l = local_id.to_string();
        self.with_store(move |s| read(s, &l))
            .await
            .map_err(SubmitError::from)
    }

    /// A create answered with an id another stored task has: whether it started a new task is
    /// unknown, so the row becomes `submit_unknown` with a note (never re-sent, never waited on).
    async fn duplicate_id(&self, local_id: String, task_id: &str, other: &str) -> SubmitError {
        let error = ApiError::Protocol {
            status: 200,
            message: format!(
                "the server answered the id `{}`, which task {other} in the store already has; whether a new task was started is unknown",
                crate::api::task_id::shown(task_id)
            ),
        };
        let message = format!("{error} — check on the server before sending it again");
        let lid = local_id.clone();
        let stored = self
            .with_store(move |s| {
                s.submission_unknown(&lid, &message, now())?;
                s.find(&lid)
            })
            .await;
        let record = match stored {
            Ok(r) => r,
            Err(_) => {
                let lid = local_id.clone();
                match self.with_store(move |s| s.find(&lid)).await {
                    Ok(r) => r,
                    Err(e) => return SubmitError::Store(e),
                }
            }
        };
        SubmitError::Api {
            record: Box::new(record),
            error,
        }
    }

    /// Resubmit the stored request of `original` unchanged, as a new task linked to it — only
    /// when `original` is the head of its retry chain: a task whose retry is in flight, unknown,
    /// succeeded or failed in turn is refused with `StoreError::AlreadyRetried` (nothing sent).
    pub async fn retry(&self, original: &TaskRecord) -> Result<TaskRecord, SubmitError> {
        self.submit_linked(
            original.request_json.clone(),
            Some(original.local_id.clone()),
            None,
            true,
        )
        .await
    }

    /// Resubmit `original` even though it was already retried (`retry --again`): the user asked
    /// for one more paid task explicitly.
    pub async fn retry_again(&self, original: &TaskRecord) -> Result<TaskRecord, SubmitError> {
        self.submit(
            original.request_json.clone(),
            Some(original.local_id.clone()),
        )
        .await
    }

    /// Ask the server about an accepted task and record the answer. Returns the updated record
    /// and whether its status changed.
    pub async fn poll(&self, record: &TaskRecord) -> Result<(TaskRecord, bool), PollError> {
        self.poll_reading(record, Store::find).await
    }

    /// [`Engine::poll`] handing back the record without its request (`request_json` empty):
    /// `get` shows it, and reads the request apart.
    pub async fn poll_without_request(
        &self,
        record: &TaskRecord,
    ) -> Result<(TaskRecord, bool), PollError> {
        self.poll_reading(record, Store::find_without_request).await
    }

    /// [`Engine::poll`] handing back the record to follow (see `TaskRecord::request_facts`):
    /// the poller's.
    pub(crate) async fn poll_followed(
        &self,
        record: &TaskRecord,
    ) -> Result<(TaskRecord, bool), PollError> {
        self.poll_reading(record, Store::find_followed).await
    }

    /// [`Engine::poll`], reading the record back with `read`.
    async fn poll_reading(
        &self,
        record: &TaskRecord,
        read: fn(&Store, &str) -> Result<TaskRecord, StoreError>,
    ) -> Result<(TaskRecord, bool), PollError> {
        let Some(task_id) = record.task_id.clone() else {
            return Err(PollError::NotAccepted(record.local_id.clone()));
        };
        let answer = match self.client.get_task(&task_id).await {
            Ok(a) => a,
            Err(e) if is_task_gone(&e) => return self.lost(record, &e, read).await,
            Err(e) => return Err(e.into()),
        };
        let lid = record.local_id.clone();
        let out = self
            .with_store(move |s| {
                let at = now();
                let changed = s.record_poll(&lid, &answer.task, &answer.raw, at)?;
                for note in &answer.notes {
                    s.add_note(&lid, note, at)?;
                }
                Ok((read(s, &lid)?, changed))
            })
            .await?;
        Ok(out)
    }

    /// The server said `record`'s task does not exist: store it as `lost` (when it was
    /// unfinished) and hand back the row as stored, changed or not.
    async fn lost(
        &self,
        record: &TaskRecord,
        error: &ApiError,
        read: fn(&Store, &str) -> Result<TaskRecord, StoreError>,
    ) -> Result<(TaskRecord, bool), PollError> {
        let lid = record.local_id.clone();
        let code = error.code().unwrap_or("").to_string();
        let at = now();
        let date = chrono::DateTime::from_timestamp(at, 0)
            .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_default();
        let message = format!(
            "lost: the server answered on {date} that this task does not exist (it keeps tasks \
             7 days; a restarted server or another account forgets them): {error} — retry it \
             from its stored request (r, or `seedance-tui retry ID`)"
        );
        let out = self
            .with_store(move |s| {
                let changed = s.mark_lost(&lid, &code, &message, at)?;
                Ok((read(s, &lid)?, changed))
            })
            .await?;
        Ok(out)
    }

    /// Cancel (queued) or delete (finished) a task on the server, then refresh it.
    pub(crate) async fn cancel(&self, record: &TaskRecord) -> Result<(), PollError> {
        let Some(task_id) = record.task_id.clone() else {
            return Err(PollError::NotAccepted(record.local_id.clone()));
        };
        self.client.delete(&task_id).await?;
        Ok(())
    }

    /// Find a task in the store by id or prefix.
    pub async fn find(&self, key: &str) -> Result<TaskRecord, StoreError> {
        let key = key.to_string();
        self.with_store(move |s| s.find(&key)).await
    }

    /// [`Engine::find`] without the request ([`Store::find_without_request`]).
    pub async fn find_without_request(&self, key: &str) -> Result<TaskRecord, StoreError> {
        let key = key.to_string();
        self.with_store(move |s| s.find_without_request(&key)).await
    }
}

/// Why a poll (or cancel) failed.
#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error("task {0} has no server id yet (its submission was not accepted)")]
    NotAccepted(String),
    #[error("{0}")]
    Api(#[from] ApiError),
    #[error("{0}")]
    Store(#[from] StoreError),
}
