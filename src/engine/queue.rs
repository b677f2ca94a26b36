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
        let unknown_since = self.unknown_since();
        let claimed = self
            .with_store(move |s| {
                s.claim_pending_if(&l, now(), |s| {
                    // Counted under the claim's write lock (on PostgreSQL the advisory lock every
                    // writer takes): feeders on several hosts cannot each see the same free slot.
                    let busy = s.in_flight_count(&profile, unknown_since)?;
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
    use crate::store::NewPending;
    use crate::store::test_backend::Backend;

    const KEY: &str = "sk-unknown-slot-5e1a";

    /// The claim's own count (not only the feeder's look before it) holds a slot for a create
    /// of unknown outcome: at a cap of 1 the next line is refused while that create may still
    /// run, and goes out once its bound has passed.
    async fn an_unknown_create_keeps_the_claim_at_the_cap_until_its_bound(b: &Backend) {
        let sim = crate::sim::start(
            "127.0.0.1:0".parse().expect("addr"),
            crate::sim::SimConfig {
                api_key: Some(KEY.into()),
                ..crate::sim::SimConfig::default()
            },
        )
        .await
        .expect("sim");
        let client = crate::api::ArkClient::new(crate::api::ClientConfig::new(
            sim.base_url(),
            Some(crate::api::ApiKey::new(KEY)),
        ))
        .expect("client");
        let mut engine = Engine::new(client, b.open(), "p");
        let body = r#"{"model":"doubao-seedance-2-0-fast-260128","content":[{"type":"text","text":"hi [[sim:succeed]]"}],"duration":5}"#;
        let line = |id, key| NewPending {
            local_id: id,
            profile: "p",
            request_json: body,
            key: Some(key),
            label: None,
            retry_of: None,
            max_in_flight: None,
            asset_files: None,
        };
        // "lost" was claimed 100 s ago by a sender that died before the answer.
        let sent = now() - 100;
        engine
            .with_store(move |s| {
                s.enqueue(&[line("lost", "k1"), line("next", "k2")], sent - 10)?;
                let claimed = s.claim_pending_if("lost", sent, |_| Ok(Ok::<(), ()>(())))?;
                assert_eq!(claimed, Ok(true));
                s.abandon_queue_sends("p", now())
            })
            .await
            .expect("setup");
        async fn front(engine: &Engine) -> TaskRecord {
            engine
                .with_store(|s| s.queue_front("p"))
                .await
                .expect("front")
                .expect("a pending line")
        }
        let outcome = engine
            .send_pending(front(&engine).await, 1)
            .await
            .expect("send");
        assert!(
            matches!(outcome, SendOutcome::Full { busy: 1 }),
            "{outcome:?}"
        );
        assert_eq!(sim.stats().creates, 0, "nothing was sent");
        assert_eq!(
            front(&engine).await.local_id,
            "next",
            "the line is still pending"
        );

        // A bound shorter than its age: the slot is free.
        engine.unknown_slot_secs = 60;
        let outcome = engine
            .send_pending(front(&engine).await, 1)
            .await
            .expect("send");
        assert!(matches!(outcome, SendOutcome::Accepted(_)), "{outcome:?}");
        assert_eq!(sim.stats().creates, 1);
    }

    crate::store::test_backend::on_both_backends!(
        async an_unknown_create_keeps_the_claim_at_the_cap_until_its_bound
    );

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
