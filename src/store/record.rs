//! The rows the store hands out: a task as this client knows it, and its status history.

use crate::api::types::{CreateRequest, Task, TaskStatus};

/// Where a task stands from this client's point of view: the local submission phases, then the
/// server's own status once the server has given the task an id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Phase {
    /// In the local submission queue: written, not sent. The queue's feeder sends it when this
    /// profile's tasks in flight are under the cap (see `engine::queue`).
    Pending,
    /// Written before the create POST; no answer yet.
    Submitting,
    /// The create may or may not have reached the server (timeout, 5xx, cut connection).
    /// Never re-sent without the user saying so.
    SubmitUnknown,
    /// The server (or validation) refused the create; nothing was started or billed.
    Rejected,
    /// The server answers that this accepted task does not exist (its records are kept 7 days,
    /// the simulator restarted, another account): nothing more will be learned about it. Not
    /// in flight; retryable from its stored request.
    Lost,
    /// The server's status of an accepted task.
    Remote(TaskStatus),
}

/// [`Phase::ALL`] as a static, so its names are `&'static str`.
static ALL_PHASES: [Phase; 11] = Phase::ALL;

impl Phase {
    /// Every phase a row can have without the server inventing a status: the server's statuses
    /// in life-cycle order, then the local ones. The one list of status names (`ls --status`
    /// and its completion, the filter's slots).
    pub(crate) const ALL: [Phase; 11] = [
        Phase::Remote(TaskStatus::Queued),
        Phase::Remote(TaskStatus::Running),
        Phase::Remote(TaskStatus::Succeeded),
        Phase::Remote(TaskStatus::Failed),
        Phase::Remote(TaskStatus::Expired),
        Phase::Remote(TaskStatus::Cancelled),
        Phase::Pending,
        Phase::Submitting,
        Phase::SubmitUnknown,
        Phase::Rejected,
        Phase::Lost,
    ];

    /// The names of [`Phase::ALL`], in its order.
    pub(crate) fn names() -> impl Iterator<Item = &'static str> {
        ALL_PHASES.iter().map(Phase::as_str)
    }

    /// The name of `Phase::ALL[i]`.
    pub(crate) fn name_at(i: usize) -> Option<&'static str> {
        ALL_PHASES.get(i).map(Phase::as_str)
    }

    /// The text stored in the `status` column.
    pub fn as_str(&self) -> &str {
        match self {
            Phase::Pending => "pending",
            Phase::Submitting => "submitting",
            Phase::SubmitUnknown => "submit_unknown",
            Phase::Rejected => "rejected",
            Phase::Lost => "lost",
            Phase::Remote(s) => s.as_str(),
        }
    }

    pub(crate) fn parse(s: &str) -> Phase {
        match s {
            "pending" => Phase::Pending,
            "submitting" => Phase::Submitting,
            "submit_unknown" => Phase::SubmitUnknown,
            "rejected" => Phase::Rejected,
            "lost" => Phase::Lost,
            other => Phase::Remote(TaskStatus::parse(other)),
        }
    }

    /// True when nothing will change without the user acting (terminal remote status, rejected,
    /// or an unknown submission outcome).
    pub fn is_settled(&self) -> bool {
        match self {
            Phase::Pending | Phase::Submitting => false,
            Phase::SubmitUnknown | Phase::Rejected | Phase::Lost => true,
            Phase::Remote(s) => s.is_terminal(),
        }
    }

    /// True for an accepted task the poller should keep asking about.
    pub fn needs_polling(&self) -> bool {
        matches!(self, Phase::Remote(s) if !s.is_terminal())
    }
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which local file of a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Video,
    LastFrame,
}

/// One task as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRecord {
    /// Client-made id, unique; also sent as `X-Client-Request-Id` on the create.
    pub local_id: String,
    /// The server's task id, once accepted.
    pub task_id: Option<String>,
    pub phase: Phase,
    /// Name of the profile (base URL) the task was sent to.
    pub profile: String,
    pub model: String,
    /// The prompt (first text item), for display and filtering.
    pub prompt: String,
    /// The exact JSON body of the create request (empty in a record to follow: see
    /// `request_facts`).
    pub request_json: String,
    /// In a record to follow (the poller's, the store watcher's, the headless loop's), the
    /// facts of its request in place of its body (`request_json` empty): a record to follow
    /// never carries a request that may be megabytes long, and is never sent. `None` in a
    /// record read whole.
    pub request_facts: Option<std::sync::Arc<super::Spec>>,
    /// The last task JSON the server sent, verbatim.
    pub response_json: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    /// `local_id` of the task this one retries.
    pub retry_of: Option<String>,
    /// 0 for an original, 1 for its first retry, and so on.
    pub retry_depth: u32,
    /// Unix seconds: when the row was written (before the POST).
    pub created_at: i64,
    /// Unix seconds of the last change to the row.
    pub updated_at: i64,
    /// Unix seconds when the task was first seen running.
    pub started_at: Option<i64>,
    /// Unix seconds when the task was first seen in a terminal status.
    pub finished_at: Option<i64>,
    pub tokens: Option<u64>,
    pub video_url: Option<String>,
    pub last_frame_url: Option<String>,
    /// Unix seconds when the result URLs were first seen (they die ~24 h later).
    pub urls_seen_at: Option<i64>,
    pub video_path: Option<String>,
    pub last_frame_path: Option<String>,
    /// The user's name for the batch line it came from (`"label"`), kept by its retries.
    pub label: Option<String>,
}

impl TaskRecord {
    /// A made-up record for tests, benchmarks and examples (slumber's `Factory`): a 720p 5 s
    /// request for model `m` on profile `p`, created and last updated at `created_at`, a server id
    /// `cgt-<local_id>` once the phase is a server status, nothing else known yet. Set what a test
    /// cares about with struct-update syntax: `TaskRecord { tokens: Some(1), ..TaskRecord::factory(..) }`.
    pub fn factory(local_id: &str, phase: Phase, created_at: i64) -> TaskRecord {
        TaskRecord {
            local_id: local_id.into(),
            task_id: matches!(phase, Phase::Remote(_)).then(|| format!("cgt-{local_id}")),
            phase,
            profile: "p".into(),
            model: "m".into(),
            prompt: String::new(),
            request_json: r#"{"model":"m","content":[],"resolution":"720p","duration":5}"#.into(),
            request_facts: None,
            response_json: None,
            error_code: None,
            error_message: None,
            retry_of: None,
            retry_depth: 0,
            created_at,
            updated_at: created_at,
            started_at: None,
            finished_at: None,
            tokens: None,
            video_url: None,
            last_frame_url: None,
            urls_seen_at: None,
            video_path: None,
            last_frame_path: None,
            label: None,
        }
    }
}

impl TaskRecord {
    /// The server id when known, else the local id: what to show and what to accept as a key.
    pub fn display_id(&self) -> &str {
        self.task_id.as_deref().unwrap_or(&self.local_id)
    }

    /// This record to follow: its request's facts kept, its body dropped (see
    /// `request_facts`).
    pub(crate) fn into_followed(mut self) -> TaskRecord {
        if self.request_facts.is_none() {
            self.request_facts = Some(super::Spec::of_json(&self.request_json).shared());
            self.request_json = String::new();
        }
        self
    }

    /// The stored create request, parsed (`None` in a record to follow).
    pub fn request(&self) -> Option<CreateRequest> {
        CreateRequest::from_json(&self.request_json).ok()
    }

    /// The last server response, parsed.
    pub fn task(&self) -> Option<Task> {
        self.response_json
            .as_deref()
            .and_then(|j| Task::from_json(j).ok())
    }
}

/// What the dashboard's rows ([`TaskRow`](super::TaskRow)) leave out of a task, read from the
/// store for one task at a time when a view or an action needs it: the full request and last
/// response, the result links and the saved files.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TaskBodies {
    pub(crate) local_id: String,
    /// The exact JSON body of the create request.
    pub(crate) request_json: String,
    /// The last task JSON the server sent, verbatim.
    pub(crate) response_json: Option<String>,
    pub(crate) video_url: Option<String>,
    pub(crate) last_frame_url: Option<String>,
    pub(crate) video_path: Option<String>,
    pub(crate) last_frame_path: Option<String>,
    /// The local file names of the request's inlined assets (the `asset_files` JSON; read
    /// with `engine::assets::AssetFiles::from_json`).
    pub(crate) asset_files: Option<String>,
}

impl TaskBodies {
    /// The parts of a full record.
    pub(crate) fn of(r: &TaskRecord) -> TaskBodies {
        TaskBodies {
            local_id: r.local_id.clone(),
            request_json: r.request_json.clone(),
            response_json: r.response_json.clone(),
            video_url: r.video_url.clone(),
            last_frame_url: r.last_frame_url.clone(),
            video_path: r.video_path.clone(),
            last_frame_path: r.last_frame_path.clone(),
            asset_files: None,
        }
    }
}

/// One entry of a task's status history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    pub status: String,
    /// Unix seconds.
    pub(crate) at: i64,
    pub note: Option<String>,
}
