//! The submission queue, engine side: send the front `pending` row once (claim it as
//! `submitting`, POST, record the answer), tell what the answer means for the queue (go on,
//! hold, or leave the line for the user); the claim reserves the line's spend under the daily
//! cap (`budget::reserve`).
//!
//! Money rule: a row is `submitting` before its create leaves; only answers that certainly
//! started nothing (a 429, a rate-limit or quota code, a refused connection) put it back in the
//! queue. Anything that may have reached the server is `submit_unknown` and never re-sent.

use super::{Engine, now};
use crate::api::ApiError;
use crate::store::{Store, StoreError, TaskRecord};
use std::time::Duration;

/// What happened to one queued line (each record one to follow: see
/// `TaskRecord::request_facts`).
#[derive(Debug)]
pub(crate) enum SendOutcome {
    /// The server accepted it; the row is `queued` with the server's id.
    Accepted(TaskRecord),
    /// The server refused it (400 and the like): `rejected`, with the server's message.
    Rejected(TaskRecord),
    /// The outcome is unknown (timeout, 5xx, cut connection): `submit_unknown`, never re-sent.
    Unknown(TaskRecord),
    /// The server is busy (429, rate limit, the account's queued-task cap) or unreachable: the
    /// line is back in its place and the queue holds for `retry_after` (the server's
    /// `Retry-After`) or the feeder's own backoff.
    Held {
        retry_after: Option<Duration>,
        reason: String,
    },
    /// The row was no longer pending (removed, or claimed by another process): nothing sent.
    NotPending,
    /// It would pass today's spending cap (checked in the transaction that would have claimed
    /// it): the row stays pending, nothing was sent.
    OverBudget(super::budget::OverBudget),
    /// The profile already has `busy` tasks in flight, the cap or more (counted in the
    /// transaction that would have claimed it, over the whole store: every host's sends): the
    /// row stays pending, nothing was sent.
    Full { busy: u64 },
}

/// Why a claim was refused inside its transaction.
enum Refused {
    Full(u64),
    OverBudget(super::budget::OverBudget),
}

/// True when a refused create means "not now" rather than "not this request": the queue holds
/// and sends the same line again later. Never for an answer that may have started a task.
pub(crate) fn holds_queue(e: &ApiError) -> bool {
    if e.create_outcome_unknown() {
        return false;
    }
    if matches!(
        e,
        ApiError::RateLimited { .. }
            | ApiError::Connection {
                reached_server: false,
                ..
            }
    ) {
        return true;
    }
    let code = e.code().unwrap_or("");
    [
        "RateLimitExceeded",
        "QuotaExceeded",
        "SetLimitExceeded",
        "ServerOverloaded",
    ]
    .iter()
    .any(|c| code.contains(c))
}

impl Engine {
    /// Send the queued row `record` once, while the profile has fewer than `max_in_flight`
    /// tasks in flight: claim it, POST it, record the answer.
    pub(crate) async fn send_pending(
        &self,
        mut record: TaskRecord,
        max_in_flight: u64,
    ) -> Result<SendOutcome, StoreError> {
        let lid = record.local_id.clone();
        let l = lid.clone();
        let cap = self.cap.clone();
        if cap.is_set()
            && let Ok(req) = crate::api::types::CreateRequest::from_json(&record.request_json)
        {
            // Reference videos' seconds count against the cap (read once per process).
            super::input_video::read(&req, &crate::file_download::http_client()).await;
        }
        let adding = cap.spend_of(&[super::budget::Planned::task(&record)]);
        let profile = self.profile.clone();
        let claimed = self
            .with_store(move |s| {
                s.claim_pending_if(&l, now(), |s| {
                    // Counted under the claim's write lock (on PostgreSQL the advisory lock every
                    // writer takes): feeders on several hosts cannot each see the same free slot.
                    let busy = s.in_flight_count(&profile)?;
                    if busy >= max_in_flight.max(1) {
                        return Ok(Err(Refused::Full(busy)));
                    }
                    Ok(super::budget::reserve(&cap, s, adding)?.map_err(Refused::OverBudget))
                })
            })
            .await?;
        match claimed {
            Ok(true) => {}
            Ok(false) => return Ok(SendOutcome::NotPending),
            Err(Refused::Full(busy)) => return Ok(SendOutcome::Full { busy }),
            Err(Refused::OverBudget(over)) => return Ok(SendOutcome::OverBudget(over)),
        }
        // The queue paces and backs off itself: a retry inside the client would hide a 429.
        // The body goes out of the record into the request: held once.
        let body = bytes::Bytes::from(std::mem::take(&mut record.request_json));
        let outcome = self.client.without_retries().create_body(body, &lid).await;
        match outcome {
            Ok(resp) => match self
                .record_accepted(&lid, &resp.id, Store::find_followed)
                .await
            {
                Ok(r) => Ok(SendOutcome::Accepted(r)),
                Err(super::SubmitError::Store(e)) => Err(e),
                Err(e) => {
                    // Accepted but unrecorded: the row stays `submitting` (later
                    // `submit_unknown`), and the caller learns the task id from the message.
                    tracing::warn!(error = %e, "an accepted queued task could not be recorded");
                    let l = lid.clone();
                    Ok(SendOutcome::Unknown(
                        self.with_store(move |s| s.find_followed(&l)).await?,
                    ))
                }
            },
            Err(error) if holds_queue(&error) => {
                let reason = format!("{error}");
                let retry_after = match &error {
                    ApiError::RateLimited { retry_after, .. } => *retry_after,
                    _ => None,
                };
                let (l, note) = (lid.clone(), format!("held: {reason}"));
                self.record_answer(move |s| s.return_to_queue(&l, &note, now()))
                    .await?;
                Ok(SendOutcome::Held {
                    retry_after,
                    reason,
                })
            }
            Err(error) => {
                let unknown = error.create_outcome_unknown();
                let code = error.code().unwrap_or("").to_string();
                let message = format!("{error} — {}", error.hint());
                let l = lid.clone();
                let r = self
                    .record_answer(move |s| {
                        if unknown {
                            s.submission_unknown(&l, &message, now())?;
                        } else {
                            s.submission_rejected(&l, &code, &message, now())?;
                        }
                        s.find_followed(&l)
                    })
                    .await?;
                Ok(if unknown {
                    SendOutcome::Unknown(r)
                } else {
                    SendOutcome::Rejected(r)
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(code: &str) -> ApiError {
        ApiError::RateLimited {
            code: code.into(),
            message: String::new(),
            retry_after: None,
            request_id: None,
        }
    }

    #[test]
    fn only_answers_that_started_nothing_hold_the_queue() {
        assert!(holds_queue(&rate("QuotaExceeded")));
        assert!(holds_queue(&ApiError::Connection {
            message: "refused".into(),
            reached_server: false
        }));
        // A quota code on a 4xx other than 429 still means "not now".
        assert!(holds_queue(&ApiError::BadRequest {
            status: 403,
            code: "SetLimitExceeded".into(),
            message: String::new(),
            param: None,
            request_id: None,
        }));
        assert!(!holds_queue(&ApiError::BadRequest {
            status: 400,
            code: "InvalidParameter".into(),
            message: String::new(),
            param: Some("ratio".into()),
            request_id: None,
        }));
        // A 5xx may have created the task, whatever its code says.
        assert!(!holds_queue(&ApiError::Server {
            status: 500,
            code: "ServerOverloaded".into(),
            message: String::new(),
            request_id: None,
        }));
        assert!(!holds_queue(&ApiError::Timeout {
            after: Duration::from_secs(1),
            create: true,
        }));
    }
}
