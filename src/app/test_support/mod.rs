//! Deterministic task fixtures in every phase, and a dashboard state loaded with them, for the
//! reducer and view tests; `composer`: keys into the composer, its effects out.

pub(crate) mod composer;

use crate::api::TaskStatus;
use crate::app::keymap::Keymap;
use crate::app::{Msg, State, update};
use crate::store::{HistoryEntry, Phase, TaskBodies, TaskRecord, TaskRow};
use crate::theme::{self, Theme};

/// The fixed "now" of every fixture (2026-11-23 12:00:00 UTC).
pub(crate) const NOW: i64 = 1_795_435_200;

pub(crate) fn record(n: usize, phase: Phase, prompt: &str, model: &str) -> TaskRecord {
    let created = NOW - 60 * (n as i64 + 1) * 7;
    let ratio = ["16:9", "9:16", "1:1"][n % 3];
    let duration = [5, 10, -1][n % 3];
    let resolution = ["720p", "480p", "1080p"][n % 3];
    let request = serde_json::json!({
        "model": model,
        "content": [
            {"type": "text", "text": prompt},
            {"type": "image_url", "image_url": {"url": "https://example.com/first.png"}, "role": "first_frame"}
        ],
        "ratio": ratio,
        "duration": duration,
        "resolution": resolution,
        "generate_audio": false
    });
    let done = matches!(phase, Phase::Remote(ref s) if s.is_terminal());
    let succeeded = phase == Phase::Remote(TaskStatus::Succeeded);
    let failed = phase == Phase::Remote(TaskStatus::Failed);
    TaskRecord {
        task_id: match phase {
            Phase::Submitting | Phase::Rejected | Phase::SubmitUnknown => None,
            _ => Some(format!("cgt-20261123{:06}-a{n:04}", 100000 + n)),
        },
        profile: "laozhang".into(),
        model: model.into(),
        prompt: prompt.into(),
        request_json: request.to_string(),
        response_json: succeeded.then(|| format!(r#"{{"id":"cgt-x{n}","status":"succeeded","usage":{{"total_tokens":108000}}}}"#)),
        error_code: failed.then(|| "OutputVideoSensitiveContentDetected.PolicyViolation".to_string()),
        error_message: failed.then(|| "The request failed because the output video may be related to copyright restrictions. Request id: 0217".to_string()),
        retry_of: (n == 7).then(|| "l0003".to_string()),
        retry_depth: if n == 7 { 1 } else { 0 },
        updated_at: created + 30,
        started_at: Some(created + 20),
        finished_at: done.then_some(created + 200),
        tokens: succeeded.then_some(108_000),
        video_url: succeeded.then(|| format!("https://sim.example/sim-files/cgt-x{n}/video.mp4?X-Tos-Expires=86400")),
        urls_seen_at: succeeded.then_some(created + 200),
        video_path: (succeeded && n.is_multiple_of(2)).then(|| format!("/videos/cgt-x{n}.mp4")),
        ..TaskRecord::factory(&format!("l{n:04}"), phase, created)
    }
}

/// One task in every phase, and a retry.
pub(crate) fn tasks() -> Vec<TaskRecord> {
    let fast = "doubao-seedance-2-0-fast-260128";
    let std = "doubao-seedance-2-0-260128";
    vec![
        record(
            0,
            Phase::Remote(TaskStatus::Running),
            "A red fox running through fresh snow at dawn, cinematic slow motion",
            std,
        ),
        record(
            1,
            Phase::Remote(TaskStatus::Queued),
            "Product close-up of a ceramic mug rotating on a turntable",
            fast,
        ),
        record(
            2,
            Phase::Remote(TaskStatus::Succeeded),
            "First-person apple fruit tea ad, fast-paced edit, fresh bright style",
            fast,
        ),
        record(
            3,
            Phase::Remote(TaskStatus::Failed),
            "Neon city street in the rain, camera dolly forward, reflections",
            std,
        ),
        record(
            4,
            Phase::Remote(TaskStatus::Expired),
            "Time-lapse of clouds over mountains, golden hour",
            fast,
        ),
        record(
            5,
            Phase::Remote(TaskStatus::Cancelled),
            "A lighthouse in a storm, waves crashing",
            std,
        ),
        record(
            6,
            Phase::Submitting,
            "Paper boats drifting down a gutter stream, macro lens",
            fast,
        ),
        record(
            7,
            Phase::Remote(TaskStatus::Succeeded),
            "Neon city street in the rain, camera dolly forward, reflections",
            std,
        ),
        record(
            8,
            Phase::SubmitUnknown,
            "Drone shot over a turquoise lagoon with coral reefs",
            fast,
        ),
        record(
            9,
            Phase::Rejected,
            "Origami crane unfolding into a real bird",
            std,
        ),
    ]
}

/// The fixture task with this local id, as stored.
pub(crate) fn task_record(local_id: &str) -> TaskRecord {
    tasks()
        .into_iter()
        .find(|t| t.local_id == local_id)
        .expect("a fixture task")
}

/// [`tasks`] as the dashboard keeps them.
pub(crate) fn rows() -> Vec<TaskRow> {
    tasks().into_iter().map(TaskRow::from).collect()
}

/// A state loaded with the fixtures at `NOW`, sized `w`x`h`.
pub(crate) fn state(w: u16, h: u16) -> State {
    state_with(w, h, Theme::default())
}

pub(crate) fn state_with(w: u16, h: u16, theme: Theme) -> State {
    let (mut themes, _) = theme::load_all(None);
    themes.retain(|t| t.name != theme.name);
    themes.insert(0, theme);
    let mut s = State::new(
        "laozhang",
        "https://api.laozhang.ai/seedance/api/v3",
        Keymap::default(),
        themes,
    );
    s.today_start = NOW - 12 * 3600;
    update(&mut s, Msg::Tick { now: NOW });
    update(&mut s, Msg::Resize(w, h));
    update(&mut s, Msg::TasksLoaded(rows()));
    s
}

/// The runtime's answer to `Effect::LoadBodies` for a fixture task: its full request and
/// response, links and paths (the fixture records carry them; the dashboard's rows do not).
pub(crate) fn bodies(local_id: &str) -> Msg {
    let t = tasks()
        .into_iter()
        .find(|t| t.local_id == local_id)
        .expect("a fixture task");
    Msg::Bodies {
        local_id: local_id.into(),
        result: Ok(TaskBodies::of(&t)),
    }
}

/// The store's answer to the dashboard's read of `t`'s bodies (links, paths), as `t` is now.
pub(crate) fn bodies_of(t: &TaskRecord) -> Msg {
    Msg::Bodies {
        local_id: t.local_id.clone(),
        result: Ok(TaskBodies::of(t)),
    }
}

/// Put the selection on the task `local_id` (the fixtures' order is not the test's subject).
pub(crate) fn select(s: &mut State, local_id: &str) {
    s.selected = Some(local_id.to_string());
}

/// Answer every `Effect::LoadBodies` in `fx` as the runtime would; the effects of the answers.
pub(crate) fn answer_bodies(s: &mut State, fx: Vec<crate::app::Effect>) -> Vec<crate::app::Effect> {
    let mut out = Vec::new();
    for e in fx {
        match e {
            crate::app::Effect::LoadBodies(id) => out.extend(update(s, bodies(&id))),
            other => out.push(other),
        }
    }
    out
}

pub(crate) fn history(local_id: &str, created: i64) -> Msg {
    Msg::History {
        local_id: local_id.into(),
        entries: vec![
            HistoryEntry {
                status: "submitting".into(),
                at: created,
                note: None,
            },
            HistoryEntry {
                status: "queued".into(),
                at: created + 1,
                note: Some("cgt-1".into()),
            },
            HistoryEntry {
                status: "running".into(),
                at: created + 20,
                note: None,
            },
            HistoryEntry {
                status: "failed".into(),
                at: created + 200,
                note: Some("OutputVideoSensitiveContentDetected.PolicyViolation".into()),
            },
        ],
    }
}
