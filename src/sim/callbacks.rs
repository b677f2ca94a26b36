//! Callbacks as the service sends them: a task created with `callback_url` gets its task object
//! (the GET body) POSTed there on each status change — queued, running, succeeded, failed,
//! expired. An answer other than 2xx within 5 s is "not acknowledged"; succeeded and failed are
//! then sent again, up to 3 more times. The simulator posts only to loopback addresses (the create
//! refuses any other host), one delivery at a time, in order.
//!
//! Task state advances lazily (when a request looks at it), so a ticker looks every
//! [`TICK`] for status changes that still have to be posted.

use super::Shared;
use super::state::SimStatus;
use std::time::Duration;

/// How often the ticker looks for status changes to post.
pub(crate) const TICK: Duration = Duration::from_millis(50);
/// An answer must come within this long to count as acknowledged.
pub(crate) const ACK_TIMEOUT: Duration = Duration::from_secs(5);
/// Further attempts after an unacknowledged succeeded/failed callback.
pub(crate) const RETRIES: u32 = 3;
/// Pause between attempts.
const RETRY_PAUSE: Duration = Duration::from_millis(200);

/// One POST to make.
#[derive(Debug, Clone)]
pub(super) struct Delivery {
    pub(crate) url: String,
    pub(crate) body: String,
    /// Resent when not acknowledged.
    pub(crate) retried: bool,
}

/// The statuses the service posts.
fn posted(status: SimStatus) -> bool {
    !matches!(status, SimStatus::Cancelled)
}

impl Shared {
    /// Advance the tasks and take every status change not yet posted, oldest first.
    pub(super) fn due_callbacks(&self) -> Vec<Delivery> {
        let mut s = self.lock();
        if !s.tasks.by_id.values().any(|t| t.req.callback_url.is_some()) {
            return Vec::new();
        }
        let now = s.sim_now();
        let cfg = s.cfg.clone();
        s.tasks.advance(now, &cfg);
        let mut changes = Vec::new();
        for t in s.tasks.by_id.values_mut() {
            let Some(url) = t.req.callback_url.clone() else {
                t.unposted.clear();
                continue;
            };
            let unposted = std::mem::take(&mut t.unposted);
            for (status, at) in unposted {
                if posted(status) {
                    let mut snapshot = t.clone();
                    snapshot.status = status;
                    snapshot.updated = at;
                    changes.push((at, snapshot.seq, url.clone(), snapshot));
                }
            }
        }
        changes.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let mut out = Vec::new();
        for (_, _, url, task) in changes {
            let request_id = s.request_id();
            let urls = (task.status == SimStatus::Succeeded).then(|| {
                let video = s.file_url(&task.id, "video.mp4");
                let frame = task
                    .req
                    .return_last_frame
                    .unwrap_or(false)
                    .then(|| s.file_url(&task.id, "last_frame.png"));
                (video, frame)
            });
            let body = task.to_json(urls, &request_id).to_string();
            out.push(Delivery {
                url,
                body,
                retried: matches!(task.status, SimStatus::Succeeded | SimStatus::Failed),
            });
        }
        out
    }

    fn count_callback(&self, acknowledged: bool) {
        let mut s = self.lock();
        s.stats.callbacks += 1;
        if !acknowledged {
            s.stats.callbacks_unacknowledged += 1;
        }
    }
}

/// Post every status change until the simulator stops.
pub(super) async fn run(shared: Shared) {
    let client = match reqwest::Client::builder()
        .timeout(ACK_TIMEOUT)
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "the simulator cannot send callbacks");
            return;
        }
    };
    loop {
        tokio::time::sleep(TICK).await;
        for d in shared.due_callbacks() {
            deliver(&shared, &client, &d).await;
        }
    }
}

async fn deliver(shared: &Shared, client: &reqwest::Client, d: &Delivery) {
    let attempts = if d.retried { 1 + RETRIES } else { 1 };
    for attempt in 0..attempts {
        if attempt > 0 {
            tokio::time::sleep(RETRY_PAUSE).await;
        }
        let ok = client
            .post(&d.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(d.body.clone())
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        shared.count_callback(ok);
        if ok {
            return;
        }
    }
}
