//! The simulator's tasks and their life cycle on a virtual clock.
//!
//! Each task draws a queue delay, a run time and an outcome from a seeded generator when it is
//! created, so a run is repeatable. A scheduler with `max_running` slots moves tasks from
//! `queued` to `running` in priority-then-creation order as slots free up; state is advanced
//! lazily, up to "now", whenever a request looks at it — nothing runs while nobody asks.

use super::SimConfig;
use crate::api::models;
use crate::api::types::CreateRequest;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// A small, fast, seedable generator (splitmix64).
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9e37_79b9_7f4a_7c15)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A float in [0, 1).
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A float in [lo, hi).
    pub(crate) fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
}

/// Where a simulated task is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SimStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
    Expired,
    Cancelled,
}

impl SimStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            SimStatus::Queued => "queued",
            SimStatus::Running => "running",
            SimStatus::Succeeded => "succeeded",
            SimStatus::Failed => "failed",
            SimStatus::Expired => "expired",
            SimStatus::Cancelled => "cancelled",
        }
    }
}

/// How a task is steered by prompt directives.
#[derive(Debug, Clone, PartialEq)]
enum Steer {
    Natural,
    Succeed,
    Fail(Option<String>),
    Expire,
    Hold,
}

fn steer_of(prompt: &str) -> Steer {
    let Some(start) = prompt.find("[[sim:") else {
        return Steer::Natural;
    };
    let rest = &prompt[start + 6..];
    let Some(end) = rest.find("]]") else {
        return Steer::Natural;
    };
    let d = &rest[..end];
    match d.split_once(':') {
        Some(("fail", code)) => Steer::Fail(Some(code.to_string())),
        _ => match d {
            "fail" => Steer::Fail(None),
            "succeed" => Steer::Succeed,
            "expire" => Steer::Expire,
            "hold" => Steer::Hold,
            _ => Steer::Natural,
        },
    }
}

/// One simulated task.
#[derive(Debug, Clone)]
pub(crate) struct SimTask {
    pub(crate) id: String,
    pub(crate) seq: u64,
    pub(crate) req: CreateRequest,
    pub(crate) status: SimStatus,
    /// Sim-time seconds.
    pub(crate) created: f64,
    pub(crate) updated: f64,
    /// When it may start (infinite for held tasks).
    ready_at: f64,
    run_for: f64,
    finish_at: f64,
    expires_at: f64,
    fail_code: Option<String>,
    /// The failure's message when it is not the code's usual one.
    fail_message: Option<String>,
    /// While references are being fetched: when the task could have started (`ready_at` is
    /// infinite meanwhile).
    held_ready_at: Option<f64>,
    pub(crate) seed: i64,
    pub(crate) duration: i64,
    pub(crate) ratio: String,
    pub(crate) resolution: String,
    /// Statuses reached but not yet posted to `callback_url`, oldest first, with their time.
    pub(crate) unposted: Vec<(SimStatus, f64)>,
    /// The create's `X-Client-Request-Id`, echoed in the task (only with
    /// `SimConfig::echo_client_request_id`).
    pub(crate) client_request_id: Option<String>,
}

/// Records leave GET and list this long after `created_at` (7 days).
pub(crate) const RECORD_TTL_SECS: f64 = 7.0 * 86_400.0;
/// Cancelled records leave this long after they were cancelled (24 hours).
pub(crate) const CANCELLED_TTL_SECS: f64 = 86_400.0;

const FAILURES: &[(&str, &str, f64)] = &[
    (
        "OutputVideoSensitiveContentDetected.PolicyViolation",
        "The request failed because the output video may be related to copyright restrictions.",
        0.7,
    ),
    (
        "OutputAudioSensitiveContentDetected",
        "The request failed because the output audio may contain sensitive information.",
        0.2,
    ),
    (
        "InternalServiceError",
        "The service encountered an unexpected internal error.",
        0.1,
    ),
];

fn failure_message(code: &str) -> &'static str {
    FAILURES
        .iter()
        .find(|f| f.0 == code)
        .map(|f| f.1)
        .unwrap_or("The task failed.")
}

/// All tasks, the generator and the clock position the scheduler has reached.
pub(crate) struct Tasks {
    pub(crate) by_id: BTreeMap<String, SimTask>,
    rng: Rng,
    seq: u64,
    /// The scheduler has applied every event up to here (sim seconds).
    reached: f64,
}

impl Tasks {
    pub(crate) fn new(seed: u64) -> Tasks {
        Tasks {
            by_id: BTreeMap::new(),
            rng: Rng::new(seed),
            seq: 0,
            reached: 0.0,
        }
    }

    /// Draw from the shared generator (ids, request ids).
    pub(crate) fn rng(&mut self) -> &mut Rng {
        &mut self.rng
    }

    /// Create a task at sim time `now`; returns its id.
    pub(crate) fn create(&mut self, req: CreateRequest, now: f64, cfg: &SimConfig) -> String {
        self.advance(now, cfg);
        self.seq += 1;
        let id = new_id(now, &mut self.rng);
        let steer = steer_of(req.prompt().unwrap_or(""));
        let queue_delay = self.rng.range(5.0, 90.0);
        let run_for = self.rng.range(60.0, 200.0);
        let roll = self.rng.unit();
        let pick = self.rng.unit();
        let seed = match req.seed {
            Some(s) if s >= 0 => s,
            _ => (self.rng.next_u64() % (models::MAX_SEED as u64 + 1)) as i64,
        };
        // No duration means 5 s, as on the service; -1 lets the model pick within its range.
        let duration = match req.duration {
            Some(d) if d > 0 => d,
            Some(_) => {
                let spec = models::find(&req.model);
                let lo = spec.and_then(|m| m.min_duration).unwrap_or(4).max(1);
                let hi = spec.and_then(|m| m.max_duration).unwrap_or(15).max(lo);
                lo + (self.rng.next_u64() % (hi - lo + 1) as u64) as i64
            }
            None => models::DEFAULT_DURATION,
        };
        let fail_code = match &steer {
            Steer::Fail(Some(code)) => Some(code.clone()),
            Steer::Fail(None) => Some(FAILURES[0].0.to_string()),
            Steer::Natural if roll < cfg.fail_rate => {
                let mut acc = 0.0;
                let code = FAILURES
                    .iter()
                    .find(|f| {
                        acc += f.2;
                        pick < acc
                    })
                    .unwrap_or(&FAILURES[0])
                    .0;
                Some(code.to_string())
            }
            _ => None,
        };
        let expires_after = req
            .execution_expires_after
            .unwrap_or(models::DEFAULT_EXPIRES_AFTER) as f64;
        let (ready_at, expires_at) = match steer {
            Steer::Hold => (f64::INFINITY, now + expires_after),
            Steer::Expire => (f64::INFINITY, now + 30.0),
            _ => (now + queue_delay, now + expires_after),
        };
        let ratio = match req.ratio.as_deref() {
            None | Some("adaptive") => "16:9".to_string(),
            Some(r) => r.to_string(),
        };
        let resolution = req
            .resolution
            .clone()
            .or_else(|| models::find(&req.model).map(|m| m.default_resolution.to_string()))
            .unwrap_or_else(|| "720p".to_string());
        let task = SimTask {
            id: id.clone(),
            seq: self.seq,
            req,
            status: SimStatus::Queued,
            created: now,
            updated: now,
            ready_at,
            run_for,
            finish_at: f64::INFINITY,
            expires_at,
            fail_code,
            fail_message: None,
            held_ready_at: None,
            seed,
            duration,
            ratio,
            resolution,
            unposted: vec![(SimStatus::Queued, now)],
            client_request_id: None,
        };
        self.by_id.insert(id.clone(), task);
        id
    }

    /// Forget records past their retention: 7 days after creation, 24 h after a cancellation.
    fn purge(&mut self, now: f64) {
        self.by_id.retain(|_, t| {
            let gone = now - t.created >= RECORD_TTL_SECS
                || (t.status == SimStatus::Cancelled && now - t.updated >= CANCELLED_TTL_SECS);
            !gone
        });
    }

    /// Apply every life-cycle event up to sim time `now`, in time order.
    pub(crate) fn advance(&mut self, now: f64, cfg: &SimConfig) {
        loop {
            let running = self
                .by_id
                .values()
                .filter(|t| t.status == SimStatus::Running)
                .count();
            let next_finish = self
                .by_id
                .values()
                .filter(|t| t.status == SimStatus::Running)
                .map(|t| (t.finish_at.min(t.expires_at), t.id.clone()))
                .min_by(|a, b| a.0.total_cmp(&b.0));
            let next_expiry = self
                .by_id
                .values()
                .filter(|t| t.status == SimStatus::Queued)
                .map(|t| (t.expires_at, t.id.clone()))
                .min_by(|a, b| a.0.total_cmp(&b.0));
            // The next start: the best queued task that is ready, at the time it can start.
            let next_start = if running < cfg.max_running.max(1) {
                self.by_id
                    .values()
                    .filter(|t| t.status == SimStatus::Queued && t.ready_at.is_finite())
                    .map(|t| {
                        let at = t.ready_at.max(self.reached);
                        (at, -(t.req.priority.unwrap_or(0)), t.seq, t.id.clone())
                    })
                    .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)))
                    .map(|(at, _, _, id)| (at, id))
            } else {
                None
            };
            let mut events: Vec<(f64, u8, String)> = Vec::new();
            if let Some((at, id)) = next_finish {
                events.push((at, 0, id));
            }
            if let Some((at, id)) = next_expiry {
                events.push((at, 1, id));
            }
            if let Some((at, id)) = next_start {
                events.push((at, 2, id));
            }
            let Some((at, kind, id)) = events
                .into_iter()
                .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)))
            else {
                break;
            };
            if at > now {
                break;
            }
            self.reached = self.reached.max(at);
            let Some(t) = self.by_id.get_mut(&id) else {
                break;
            };
            t.updated = at;
            match kind {
                0 if t.expires_at <= t.finish_at => t.status = SimStatus::Expired,
                0 if t.fail_code.is_some() => t.status = SimStatus::Failed,
                0 => t.status = SimStatus::Succeeded,
                1 => t.status = SimStatus::Expired,
                _ => {
                    t.status = SimStatus::Running;
                    t.finish_at = at + t.run_for;
                }
            }
            t.unposted.push((t.status, at));
        }
        self.reached = self.reached.max(now);
        self.purge(now);
    }

    /// Keep task `id` queued until its references are fetched.
    pub(crate) fn hold_for_references(&mut self, id: &str) {
        if let Some(t) = self.by_id.get_mut(id) {
            t.held_ready_at = Some(t.ready_at);
            t.ready_at = f64::INFINITY;
        }
    }

    /// Task `id`'s references were fetched (it may start), or one could not be (it fails now
    /// with `InvalidParameter` and `message`).
    pub(crate) fn references_fetched(
        &mut self,
        id: &str,
        now: f64,
        cfg: &SimConfig,
        outcome: Result<(), String>,
    ) {
        self.advance(now, cfg);
        let Some(t) = self.by_id.get_mut(id) else {
            return;
        };
        let Some(ready_at) = t.held_ready_at.take() else {
            return;
        };
        if t.status != SimStatus::Queued {
            return;
        }
        match outcome {
            Ok(()) => t.ready_at = ready_at.max(now),
            Err(message) => {
                t.status = SimStatus::Failed;
                t.fail_code = Some("InvalidParameter".into());
                t.fail_message = Some(message);
                t.updated = now;
            }
        }
    }

    /// Cancel (queued) or delete (finished). `Err` carries the status that refused it.
    pub(crate) fn delete(
        &mut self,
        id: &str,
        now: f64,
        cfg: &SimConfig,
    ) -> Result<bool, SimStatus> {
        self.advance(now, cfg);
        let Some(t) = self.by_id.get_mut(id) else {
            return Ok(false);
        };
        match t.status {
            SimStatus::Queued => {
                t.status = SimStatus::Cancelled;
                t.updated = now;
                t.unposted.push((SimStatus::Cancelled, now));
                Ok(true)
            }
            SimStatus::Succeeded | SimStatus::Failed | SimStatus::Expired => {
                self.by_id.remove(id);
                Ok(true)
            }
            other => Err(other),
        }
    }
}

/// An official-looking id: `cgt-` + Beijing time + `-` + 5 lowercase letters/digits.
fn new_id(now: f64, rng: &mut Rng) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let secs = now as i64 + 8 * 3600;
    let stamp = chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| t.format("%Y%m%d%H%M%S").to_string())
        .unwrap_or_else(|| "19700101000000".into());
    let tail: String = (0..5)
        .map(|_| ALPHABET[(rng.next_u64() % ALPHABET.len() as u64) as usize] as char)
        .collect();
    format!("cgt-{stamp}-{tail}")
}

impl SimTask {
    /// The tokens the service bills for this task by the official formula (reference-video
    /// seconds are not known to the simulator, so a request with a video bills the minimum).
    pub(crate) fn tokens(&self) -> u64 {
        let has_input_video = self.req.content.iter().any(|c| {
            matches!(
                c.as_media(),
                Some((crate::api::types::MediaKind::Video, _, _))
            )
        });
        models::estimate_tokens(&models::TokenInput {
            model: &self.req.model,
            resolution: &self.resolution,
            ratio: &self.ratio,
            seconds: self.duration,
            input_video_seconds: 0.0,
            has_input_video,
        })
    }

    /// The task object as the API returns it. `urls` are the signed result URLs, when succeeded.
    pub(crate) fn to_json(
        &self,
        urls: Option<(String, Option<String>)>,
        request_id: &str,
    ) -> Value {
        let mut v = json!({
            "id": self.id,
            "model": self.req.model,
            "status": self.status.as_str(),
            "created_at": self.created as i64,
            "updated_at": self.updated as i64,
            "seed": self.seed,
            "resolution": self.resolution,
            "ratio": self.ratio,
            "duration": self.duration,
            "framespersecond": models::FPS,
            "service_tier": self.req.service_tier.clone().unwrap_or_else(|| "default".into()),
            "execution_expires_after": self.req.execution_expires_after.unwrap_or(models::DEFAULT_EXPIRES_AFTER),
            "generate_audio": self.req.generate_audio.unwrap_or(true),
            "draft": self.req.draft.unwrap_or(false),
            "priority": self.req.priority.unwrap_or(0),
        });
        let Some(obj) = v.as_object_mut() else {
            return v;
        };
        if let Some(s) = &self.req.safety_identifier {
            obj.insert("safety_identifier".into(), json!(s));
        }
        if let Some(c) = &self.client_request_id {
            obj.insert("client_request_id".into(), json!(c));
        }
        match self.status {
            SimStatus::Succeeded => {
                let tokens = self.tokens();
                if let Some((video, frame)) = urls {
                    let mut content = json!({ "video_url": video });
                    if let (Some(f), Some(c)) = (frame, content.as_object_mut()) {
                        c.insert("last_frame_url".into(), json!(f));
                    }
                    obj.insert("content".into(), content);
                }
                obj.insert(
                    "usage".into(),
                    json!({"completion_tokens": tokens, "total_tokens": tokens}),
                );
            }
            SimStatus::Failed => {
                let code = self.fail_code.clone().unwrap_or_default();
                obj.insert(
                    "error".into(),
                    json!({
                        "code": code,
                        "message": format!(
                            "{} Request id: {request_id}",
                            self.fail_message.as_deref().unwrap_or(failure_message(&code))
                        ),
                    }),
                );
            }
            _ => {}
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(prompt: &str) -> CreateRequest {
        CreateRequest {
            model: "doubao-seedance-2-0-fast-260128".into(),
            content: vec![crate::api::ContentItem::text(prompt)],
            ..CreateRequest::default()
        }
    }

    #[test]
    fn directives_steer_outcomes() {
        assert_eq!(
            steer_of("x [[sim:fail:Code.X]] y"),
            Steer::Fail(Some("Code.X".into()))
        );
        assert_eq!(steer_of("[[sim:hold]]"), Steer::Hold);
        assert_eq!(steer_of("plain"), Steer::Natural);
    }

    #[test]
    fn scheduler_respects_max_running_and_finishes_everything() {
        let cfg = SimConfig {
            max_running: 2,
            fail_rate: 0.0,
            ..SimConfig::default()
        };
        let mut t = Tasks::new(7);
        let ids: Vec<String> = (0..5)
            .map(|i| t.create(req(&format!("p{i}")), 0.0, &cfg))
            .collect();
        for step in 0..200 {
            t.advance(step as f64 * 10.0, &cfg);
            let running = t
                .by_id
                .values()
                .filter(|x| x.status == SimStatus::Running)
                .count();
            assert!(running <= 2);
        }
        for id in ids {
            assert_eq!(t.by_id[&id].status, SimStatus::Succeeded);
        }
    }

    #[test]
    fn defaults_like_the_service_and_records_leave_after_their_retention() {
        let cfg = SimConfig {
            fail_rate: 0.0,
            ..SimConfig::default()
        };
        let mut t = Tasks::new(3);
        let kept = t.create(req("kept"), 0.0, &cfg);
        let cancelled = t.create(req("[[sim:hold]] cancelled"), 0.0, &cfg);
        assert_eq!(t.by_id[&kept].duration, 5, "no duration means 5 s");
        t.delete(&cancelled, 10.0, &cfg).expect("queued: cancelled");
        t.advance(10.0 + CANCELLED_TTL_SECS - 1.0, &cfg);
        assert!(t.by_id.contains_key(&cancelled), "kept for 24 h");
        t.advance(10.0 + CANCELLED_TTL_SECS, &cfg);
        assert!(
            !t.by_id.contains_key(&cancelled),
            "cancelled record gone after 24 h"
        );
        assert!(t.by_id.contains_key(&kept));
        t.advance(RECORD_TTL_SECS - 1.0, &cfg);
        assert_eq!(t.by_id[&kept].status, SimStatus::Succeeded);
        t.advance(RECORD_TTL_SECS, &cfg);
        assert!(t.by_id.is_empty(), "every record gone after 7 days");
    }

    #[test]
    fn same_seed_same_ids_and_outcomes() {
        let cfg = SimConfig {
            fail_rate: 0.5,
            ..SimConfig::default()
        };
        let run = || {
            let mut t = Tasks::new(42);
            let ids: Vec<String> = (0..6)
                .map(|i| t.create(req(&format!("p{i}")), 1000.0, &cfg))
                .collect();
            t.advance(1e5, &cfg);
            ids.iter()
                .map(|id| (id.clone(), t.by_id[id].status))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(), run());
    }
}
