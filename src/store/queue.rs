//! The local submission queue: `pending` rows (written, not sent) in `queue_pos` order, each
//! with an optional idempotency key unique per profile; the claim that turns the front row into
//! `submitting` just before its create is sent; and the queue's shared switches (paused, held)
//! in the `meta` table so every process sharing the store sees them.

use super::requests::FROM_TASKS;
use super::tasks::{COLUMNS, from_row};
use super::{Store, StoreError, TaskRecord};

/// One request to put in the queue.
#[derive(Debug, Clone)]
pub struct NewPending<'a> {
    pub local_id: &'a str,
    pub profile: &'a str,
    /// The exact JSON body that will be sent.
    pub request_json: &'a str,
    /// The idempotency key: a second row with the same key (and profile) is never written.
    pub key: Option<&'a str>,
    pub label: Option<&'a str>,
    /// `local_id` of the task this one retries or edits (the composer's `e`).
    pub retry_of: Option<&'a str>,
    /// The in-flight cap this line was queued under (`--max-in-flight`); the feeder sends it
    /// only while fewer tasks of the profile are in flight (and under `[submit] max_in_flight`).
    pub max_in_flight: Option<u32>,
    /// The local file names of the request's inlined assets (JSON, `engine::assets::AssetFiles`);
    /// `None` keeps those of `retry_of`.
    pub asset_files: Option<&'a str>,
}

/// What [`Store::enqueue`] did with one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Enqueued {
    /// A new `pending` row.
    New { local_id: String },
    /// A row with this key already exists (from an earlier run): nothing was written.
    Existing { local_id: String, status: String },
    /// The user removed this key's pending row from the queue: a decision, so nothing was
    /// written.
    Removed,
}

impl Enqueued {
    /// The row's local id (none for a removed line).
    pub(crate) fn local_id(&self) -> Option<&str> {
        match self {
            Enqueued::New { local_id } | Enqueued::Existing { local_id, .. } => Some(local_id),
            Enqueued::Removed => None,
        }
    }
}

/// Why the queue is not sending, as every process sharing the store sees it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QueueState {
    /// The user paused it (dashboard key).
    pub(crate) paused: bool,
    /// The server asked to wait (429, rate limit, the account's queued-task cap) until this Unix
    /// second, with the reason.
    pub(crate) held_until: Option<i64>,
    pub(crate) held_reason: Option<String>,
}

const META_PAUSED: &str = "queue_paused";
const META_HELD: &str = "queue_held";

impl Store {
    /// Write `items` as `pending` rows at the end of the queue, in order, in one transaction.
    /// A request whose key is already in the store is not written again.
    pub fn enqueue(&self, items: &[NewPending<'_>], now: i64) -> Result<Vec<Enqueued>, StoreError> {
        self.write(|s| {
            let mut pos: i64 = s
                .db
                .query_row(
                    "SELECT COALESCE(MAX(queue_pos), 0) FROM tasks",
                    args![],
                    |r| r.get(0),
                )
                .map_err(|e| s.err(e))?
                .unwrap_or(0);
            let mut out = Vec::with_capacity(items.len());
            for it in items {
                if let Some(key) = it.key {
                    let found: Option<(String, String)> = s
                        .db
                        .query_row(
                            "SELECT local_id, status FROM tasks WHERE profile = ?1 AND queue_key = ?2",
                            args![it.profile, key],
                            |r| Ok((r.get(0)?, r.get(1)?)),
                        )
                        .map_err(|e| s.err(e))?;
                    if let Some((local_id, status)) = found {
                        out.push(Enqueued::Existing { local_id, status });
                        continue;
                    }
                    let removed = s
                        .db
                        .query_row(
                            "SELECT 1 FROM queue_removed WHERE profile = ?1 AND queue_key = ?2",
                            args![it.profile, key],
                            |_| Ok(()),
                        )
                        .map_err(|e| s.err(e))?;
                    if removed.is_some() {
                        out.push(Enqueued::Removed);
                        continue;
                    }
                }
                let (model, prompt) = super::model_and_prompt(it.request_json);
                let shape = super::row::shape_of(it.request_json);
                pos += 1;
                s.db.execute(
                    "INSERT INTO tasks (local_id, status, profile, model, prompt, \
                     created_at, updated_at, queue_key, queue_pos, label, retry_of, retry_depth, \
                     max_in_flight, asset_files, shape) \
                     VALUES (?1, 'pending', ?2, ?3, ?4, ?5, ?5, ?6, ?7, \
                     COALESCE(?8, (SELECT label FROM tasks WHERE local_id = ?9)), ?9, \
                     COALESCE((SELECT retry_depth + 1 FROM tasks WHERE local_id = ?9), \
                     CASE WHEN ?9 IS NULL THEN 0 ELSE 1 END), ?10, \
                     COALESCE(?11, (SELECT asset_files FROM tasks WHERE local_id = ?9)), ?12)",
                    args![
                        it.local_id,
                        it.profile,
                        model,
                        prompt,
                        now,
                        it.key,
                        pos,
                        it.label,
                        it.retry_of,
                        it.max_in_flight,
                        it.asset_files,
                        shape
                    ],
                )
                .map_err(|e| s.err(e))?;
                s.insert_request(it.local_id, it.request_json)?;
                s.db.execute(
                    "INSERT INTO status_history (local_id, status, at, note) \
                     VALUES (?1, 'pending', ?2, ?3)",
                    args![it.local_id, now, it.label],
                )
                .map_err(|e| s.err(e))?;
                out.push(Enqueued::New {
                    local_id: it.local_id.to_string(),
                });
            }
            Ok(out)
        })
    }

    /// The first `pending` row of `profile` in queue order.
    pub(crate) fn queue_front(&self, profile: &str) -> Result<Option<TaskRecord>, StoreError> {
        self.db
            .query_row(
                // The front is picked without its request: a sort would copy every column it
                // carries, a 20 MB request included.
                &format!(
                    "SELECT {COLUMNS} FROM {FROM_TASKS} WHERE local_id = (SELECT local_id FROM \
                     tasks WHERE status = 'pending' AND profile = ?1 \
                     ORDER BY queue_pos, rowid LIMIT 1)"
                ),
                args![profile],
                from_row,
            )
            .map_err(|e| self.err(e))
    }

    /// The in-flight cap a queued row was given (`submit --batch --max-in-flight`), if any.
    pub(crate) fn queue_cap(&self, local_id: &str) -> Result<Option<u64>, StoreError> {
        self.db
            .query_row(
                "SELECT max_in_flight FROM tasks WHERE local_id = ?1",
                args![local_id],
                |r| r.get::<Option<i64>>(0),
            )
            .map(|v| v.flatten().map(|n| n.max(1) as u64))
            .map_err(|e| self.err(e))
    }

    /// The `pending` rows of `profile` (all profiles with `None`), in queue order.
    pub fn queue(&self, profile: Option<&str>) -> Result<Vec<TaskRecord>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM {FROM_TASKS} WHERE status = 'pending' AND (CAST(?1 AS TEXT) IS NULL OR profile = ?1) \
             ORDER BY queue_pos, tasks.rowid"
        );
        self.db
            .query_all(&sql, args![profile], from_row)
            .map_err(|e| self.err(e))
    }

    /// This profile's tasks in flight: being sent, queued or running at the server, and creates
    /// of unknown outcome (`submit_unknown`) last sent at or after `unknown_since` (Unix
    /// seconds). Such a create may have started a task the server still runs, so it keeps its
    /// slot until it is resolved (adopted: `queued`; not created: `rejected`) or that long has
    /// passed, never for ever: a relay has no reconciliation to resolve it.
    pub(crate) fn in_flight_count(
        &self,
        profile: &str,
        unknown_since: i64,
    ) -> Result<u64, StoreError> {
        self.db
            .query_row(
                // Sent: the row's last `submitting` (a queued line is claimed long after it was
                // written; `created_at` is the send only for a create written as it went out).
                "SELECT COUNT(*) FROM tasks WHERE profile = ?1 \
                 AND status IN ('submitting', 'queued', 'running', 'submit_unknown') \
                 AND (status != 'submit_unknown' OR COALESCE((SELECT MAX(h.at) \
                 FROM status_history h WHERE h.local_id = tasks.local_id \
                 AND h.status = 'submitting'), tasks.created_at) >= ?2)",
                args![profile, unknown_since],
                |r| r.get::<i64>(0),
            )
            .map(|n| n.unwrap_or(0).max(0) as u64)
            .map_err(|e| self.err(e))
    }

    /// Turn a `pending` row into `submitting`, just before its create is sent (the money rule:
    /// the row says "sent" before the request leaves), when `allow` says yes, asked inside the
    /// claim's immediate transaction (see [`Store::begin_submission_if`]); `Ok(Err(no))` leaves
    /// the row pending. `Ok(Ok(false))` when it is no longer pending (removed, or claimed by
    /// another process).
    pub(crate) fn claim_pending_if<R>(
        &self,
        local_id: &str,
        now: i64,
        allow: impl FnOnce(&Store) -> Result<Result<(), R>, StoreError>,
    ) -> Result<Result<bool, R>, StoreError> {
        self.write(|s| {
            let pending =
                s.db.query_row(
                    "SELECT 1 FROM tasks WHERE local_id = ?1 AND status = 'pending'",
                    args![local_id],
                    |_| Ok(()),
                )
                .map_err(|e| s.err(e))?
                .is_some();
            if !pending {
                return Ok(Ok(false));
            }
            if let Err(no) = allow(s)? {
                return Ok(Err(no));
            }
            let n =
                s.db.execute(
                    "UPDATE tasks SET status = 'submitting', updated_at = ?2 \
                     WHERE local_id = ?1 AND status = 'pending'",
                    args![local_id, now],
                )
                .map_err(|e| s.err(e))?;
            if n == 1 {
                s.add_history(local_id, "submitting", now, None)?;
            }
            Ok(Ok(n == 1))
        })
    }

    /// Put a claimed row back at its place in the queue: its create certainly started nothing
    /// (a 429, the account's queued-task cap, a refused connection).
    pub(crate) fn return_to_queue(
        &self,
        local_id: &str,
        note: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        self.write(|s| {
            let n =
                s.db.execute(
                    "UPDATE tasks SET status = 'pending', updated_at = ?2 \
                     WHERE local_id = ?1 AND status = 'submitting'",
                    args![local_id, now],
                )
                .map_err(|e| s.err(e))?;
            if n == 1 {
                s.add_history(local_id, "pending", now, Some(note))?;
            }
            Ok(())
        })
    }

    /// Queue rows of `profile` left `submitting` by a feeder that died between the claim and the
    /// answer become `submit_unknown`: the create may have reached the server, so it is never
    /// sent again automatically. Returns how many. Only a process that just became the feeder
    /// calls this (one feeder per store), so no live send is mistaken for a dead one.
    pub(crate) fn abandon_queue_sends(&self, profile: &str, now: i64) -> Result<usize, StoreError> {
        const NOTE: &str = "the process sending this queued request stopped before the answer came; \
             it may or may not have reached the server: check before sending it again";
        self.write(|s| {
            let ids: Vec<String> =
                s.db.query_all(
                    "SELECT local_id FROM tasks WHERE profile = ?1 AND status = 'submitting' \
                     AND queue_key IS NOT NULL AND task_id IS NULL",
                    args![profile],
                    |r| r.get(0),
                )
                .map_err(|e| s.err(e))?;
            for id in &ids {
                s.db.execute(
                    "UPDATE tasks SET status = 'submit_unknown', error_message = ?2, \
                         updated_at = ?3, finished_at = ?3 WHERE local_id = ?1",
                    args![id, NOTE, now],
                )
                .map_err(|e| s.err(e))?;
                s.add_history(id, "submit_unknown", now, Some(NOTE))?;
            }
            Ok(ids.len())
        })
    }

    /// Swap a `pending` row with its neighbour in queue order (`up`: towards the front). False
    /// when it is not pending or already at that end.
    pub(crate) fn queue_move(&self, local_id: &str, up: bool) -> Result<bool, StoreError> {
        self.write(|s| {
            let Some((profile, pos)) = s
                .db
                .query_row(
                    "SELECT profile, queue_pos FROM tasks WHERE local_id = ?1 AND status = 'pending'",
                    args![local_id],
                    |r| Ok((r.get::<String>(0)?, r.get::<Option<i64>>(1)?.unwrap_or(0))),
                )
                .map_err(|e| s.err(e))?
            else {
                return Ok(false);
            };
            let sql = if up {
                "SELECT local_id, queue_pos FROM tasks WHERE status = 'pending' AND profile = ?1 \
                 AND queue_pos < ?2 ORDER BY queue_pos DESC LIMIT 1"
            } else {
                "SELECT local_id, queue_pos FROM tasks WHERE status = 'pending' AND profile = ?1 \
                 AND queue_pos > ?2 ORDER BY queue_pos LIMIT 1"
            };
            let Some((other, other_pos)) = s
                .db
                .query_row(sql, args![profile, pos], |r| {
                    Ok((r.get::<String>(0)?, r.get::<i64>(1)?))
                })
                .map_err(|e| s.err(e))?
            else {
                return Ok(false);
            };
            for (id, p) in [(local_id, other_pos), (other.as_str(), pos)] {
                s.db
                    .execute(
                        "UPDATE tasks SET queue_pos = ?2 WHERE local_id = ?1",
                        args![id, p],
                    )
                    .map_err(|e| s.err(e))?;
            }
            Ok(true)
        })
    }

    /// Delete the rows among `local_ids` that are still `pending` (never sent, so nothing on the
    /// server refers to them), remembering each removed row's key so the same batch line is not
    /// queued again. Returns how many were removed.
    pub fn queue_remove(&self, local_ids: &[String]) -> Result<usize, StoreError> {
        self.write(|s| {
            let mut removed = 0;
            for id in local_ids {
                let keyed: Option<(String, Option<String>)> = s
                    .db
                    .query_row(
                        "SELECT profile, queue_key FROM tasks WHERE local_id = ?1 AND status = 'pending'",
                        args![id],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .map_err(|e| s.err(e))?;
                if let Some((profile, Some(key))) = keyed {
                    s.db
                        .execute(
                            "INSERT INTO queue_removed (profile, queue_key, removed_at) \
                             VALUES (?1, ?2, strftime('%s', 'now')) ON CONFLICT (profile, queue_key) \
                             DO UPDATE SET removed_at = excluded.removed_at",
                            args![profile, key],
                        )
                        .map_err(|e| s.err(e))?;
                }
                let n = s
                    .db
                    .execute(
                        "DELETE FROM tasks WHERE local_id = ?1 AND status = 'pending'",
                        args![id],
                    )
                    .map_err(|e| s.err(e))?;
                if n == 1 {
                    for sql in [
                        "DELETE FROM status_history WHERE local_id = ?1",
                        "DELETE FROM task_requests WHERE local_id = ?1",
                    ] {
                        s.db.execute(sql, args![id]).map_err(|e| s.err(e))?;
                    }
                    removed += 1;
                }
            }
            Ok(removed)
        })
    }

    /// The local ids of every `pending` row, in queue order (what the dashboard numbers).
    pub(crate) fn queue_ids(&self) -> Result<Vec<String>, StoreError> {
        self.db
            .query_all(
                "SELECT local_id FROM tasks WHERE status = 'pending' ORDER BY queue_pos, tasks.rowid",
                args![],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))
    }

    /// The queue's switches as every process sharing the store sees them.
    pub(crate) fn queue_state(&self) -> Result<QueueState, StoreError> {
        let get = |key: &str| -> Result<Option<String>, StoreError> {
            self.db
                .query_row("SELECT value FROM meta WHERE key = ?1", args![key], |r| {
                    r.get(0)
                })
                .map_err(|e| self.err(e))
        };
        let paused = get(META_PAUSED)?.is_some_and(|v| v == "1");
        let (held_until, held_reason) = match get(META_HELD)? {
            Some(v) => match v.split_once(' ') {
                Some((t, reason)) => (t.parse().ok(), Some(reason.to_string())),
                None => (v.parse().ok(), None),
            },
            None => (None, None),
        };
        Ok(QueueState {
            paused,
            held_until,
            held_reason,
        })
    }

    /// Pause or resume the queue (every feeder sharing the store obeys it).
    pub fn set_queue_paused(&self, paused: bool) -> Result<(), StoreError> {
        self.set_meta(META_PAUSED, paused.then_some("1"))
    }

    /// Record that the server asked the queue to wait until `until` (Unix seconds), or clear it.
    pub(crate) fn set_queue_held(&self, held: Option<(i64, &str)>) -> Result<(), StoreError> {
        let value = held.map(|(t, why)| format!("{t} {why}"));
        self.set_meta(META_HELD, value.as_deref())
    }

    fn set_meta(&self, key: &str, value: Option<&str>) -> Result<(), StoreError> {
        self.write(|s| {
            match value {
                Some(v) => s.db.execute(
                    "INSERT INTO meta (key, value) VALUES (?1, ?2) \
                     ON CONFLICT(key) DO UPDATE SET value = ?2",
                    args![key, v],
                ),
                None => s.db.execute("DELETE FROM meta WHERE key = ?1", args![key]),
            }
            .map_err(|e| s.err(e))?;
            Ok(())
        })
    }

    /// The batch label of every task that came through the queue with one (`gallery` shows it).
    pub(crate) fn labels(&self) -> Result<std::collections::HashMap<String, String>, StoreError> {
        let mut labels = std::collections::HashMap::new();
        self.db
            .query_each(
                "SELECT local_id, label FROM tasks WHERE label IS NOT NULL",
                args![],
                |r| {
                    labels.insert(r.get::<String>(0)?, r.get::<String>(1)?);
                    Ok(true)
                },
            )
            .map_err(|e| self.err(e))?;
        Ok(labels)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_backend::Backend;

    /// Claim `local_id` unconditionally.
    fn claim(s: &Store, local_id: &str, now: i64) -> Result<bool, StoreError> {
        s.claim_pending_if(local_id, now, |_| {
            Ok(Ok::<(), std::convert::Infallible>(()))
        })
        .map(|r| r.unwrap_or_else(|never| match never {}))
    }

    fn item<'a>(id: &'a str, key: Option<&'a str>) -> NewPending<'a> {
        NewPending {
            local_id: id,
            profile: "p",
            request_json: r#"{"model":"m","content":[{"type":"text","text":"hi"}]}"#,
            key,
            label: None,
            retry_of: None,
            max_in_flight: None,
            asset_files: None,
        }
    }

    fn keys_make_enqueue_idempotent_and_order_is_kept(b: &Backend) {
        let s = b.open();
        let first = s
            .enqueue(
                &[
                    item("a", Some("k1")),
                    item("b", Some("k2")),
                    item("c", None),
                ],
                1,
            )
            .expect("enqueue");
        assert!(first.iter().all(|e| matches!(e, Enqueued::New { .. })));
        let again = s
            .enqueue(&[item("a2", Some("k1")), item("d", Some("k3"))], 2)
            .expect("enqueue");
        assert_eq!(
            again[0],
            Enqueued::Existing {
                local_id: "a".into(),
                status: "pending".into()
            }
        );
        assert_eq!(
            again[1],
            Enqueued::New {
                local_id: "d".into()
            }
        );
        let order: Vec<String> = s
            .queue(Some("p"))
            .expect("queue")
            .into_iter()
            .map(|r| r.local_id)
            .collect();
        assert_eq!(order, ["a", "b", "c", "d"]);
        assert_eq!(s.queue(None).expect("queue").len(), 4);
        assert!(s.queue(Some("other")).expect("queue").is_empty());
    }

    fn claim_is_once_and_a_held_row_goes_back_to_its_place(b: &Backend) {
        let s = b.open();
        s.enqueue(&[item("a", Some("k1")), item("b", Some("k2"))], 1)
            .expect("enqueue");
        assert!(claim(&s, "a", 2).expect("claim"));
        assert!(!claim(&s, "a", 2).expect("second claim refused"));
        assert_eq!(s.in_flight_count("p", 0).expect("n"), 1);
        assert_eq!(
            s.queue_front("p").expect("front").map(|r| r.local_id),
            Some("b".into())
        );
        s.return_to_queue("a", "held: 429", 3).expect("requeue");
        assert_eq!(
            s.queue_front("p").expect("front").map(|r| r.local_id),
            Some("a".into())
        );
        assert_eq!(s.in_flight_count("p", 0).expect("n"), 0);
    }

    fn abandoned_sends_become_unknown_and_are_never_pending_again(b: &Backend) {
        let s = b.open();
        s.enqueue(&[item("a", Some("k1")), item("b", Some("k2"))], 1)
            .expect("enqueue");
        assert!(claim(&s, "a", 2).expect("claim"));
        assert_eq!(s.abandon_queue_sends("p", 3).expect("abandon"), 1);
        assert_eq!(s.find("a").expect("a").phase.as_str(), "submit_unknown");
        assert_eq!(s.find("b").expect("b").phase.as_str(), "pending");
    }

    /// A create of unknown outcome keeps its slot from when it was sent (its claim, for a queued
    /// line: not when it was queued, nor when it was marked unknown) until `unknown_since`
    /// passes that second.
    fn an_unknown_create_holds_its_slot_for_a_while_from_its_send(b: &Backend) {
        let s = b.open();
        s.enqueue(&[item("a", Some("k1"))], 1).expect("enqueue");
        assert!(claim(&s, "a", 100).expect("claim"));
        assert_eq!(s.abandon_queue_sends("p", 200).expect("abandon"), 1);
        // Written directly, sent at 50, its answer lost at 80.
        s.begin_submission(&crate::store::NewSubmission {
            local_id: "d",
            profile: "p",
            request_json: r#"{"model":"m","content":[{"type":"text","text":"hi"}]}"#,
            retry_of: None,
            now: 50,
            asset_files: None,
        })
        .expect("submit");
        s.submission_unknown("d", "timed out", 80).expect("unknown");
        assert_eq!(s.in_flight_count("p", 50).expect("n"), 2);
        assert_eq!(
            s.in_flight_count("p", 51).expect("n"),
            1,
            "d's bound passed"
        );
        assert_eq!(s.in_flight_count("p", 100).expect("n"), 1);
        assert_eq!(
            s.in_flight_count("p", 101).expect("n"),
            0,
            "a's bound passed"
        );
        assert_eq!(s.in_flight_count("other", 0).expect("n"), 0);
        // A line sent again after a hold counts from its last claim.
        s.enqueue(&[item("c", Some("k3"))], 1).expect("enqueue");
        assert!(claim(&s, "c", 300).expect("claim"));
        s.return_to_queue("c", "held: 429", 301).expect("requeue");
        assert!(claim(&s, "c", 400).expect("claim again"));
        s.submission_unknown("c", "timed out", 460)
            .expect("unknown");
        assert_eq!(s.in_flight_count("p", 400).expect("n"), 1);
        assert_eq!(s.in_flight_count("p", 401).expect("n"), 0);
    }

    /// Resolved, an unknown create counts as what it became: adopted, a task in flight however
    /// old its send; concluded not created (`rejected`), nothing.
    fn a_resolved_unknown_create_counts_as_what_it_became(b: &Backend) {
        let s = b.open();
        s.enqueue(&[item("a", Some("k1")), item("b", Some("k2"))], 1)
            .expect("enqueue");
        assert!(claim(&s, "a", 10).expect("claim"));
        assert!(claim(&s, "b", 10).expect("claim"));
        assert_eq!(s.abandon_queue_sends("p", 20).expect("abandon"), 2);
        assert_eq!(s.in_flight_count("p", 10).expect("n"), 2);
        s.submission_adopted("a", "cgt-a", 30).expect("adopt");
        s.submission_rejected("b", "NotCreatedOnServer", "not on the server", 30)
            .expect("not created");
        assert_eq!(s.in_flight_count("p", 10).expect("n"), 1, "a is queued");
        assert_eq!(
            s.in_flight_count("p", 1_000).expect("n"),
            1,
            "an adopted task counts until it ends, not until the bound"
        );
        let raw = r#"{"id":"cgt-a","status":"succeeded"}"#;
        let task = crate::api::types::Task::from_json(raw).expect("task");
        s.record_poll("a", &task, raw, 40).expect("poll");
        assert_eq!(s.in_flight_count("p", 0).expect("n"), 0);
    }

    fn move_swaps_neighbours_and_remove_only_touches_pending_rows(b: &Backend) {
        let s = b.open();
        s.enqueue(&[item("a", None), item("b", None), item("c", None)], 1)
            .expect("enqueue");
        assert!(s.queue_move("c", true).expect("move"));
        assert!(!s.queue_move("a", true).expect("already first"));
        let order = |s: &Store| -> Vec<String> {
            s.queue(None)
                .expect("queue")
                .into_iter()
                .map(|r| r.local_id)
                .collect()
        };
        assert_eq!(order(&s), ["a", "c", "b"]);
        assert!(claim(&s, "a", 2).expect("claim"));
        let removed = s.queue_remove(&["a".into(), "b".into()]).expect("remove");
        assert_eq!(removed, 1, "a is being sent: it stays");
        assert_eq!(order(&s), ["c"]);
        assert!(s.find("a").is_ok());
    }

    fn a_removed_line_is_remembered_and_not_queued_again(b: &Backend) {
        let s = b.open();
        s.enqueue(&[item("a", Some("k1")), item("b", Some("k2"))], 1)
            .expect("enqueue");
        assert_eq!(s.queue_remove(&["a".into()]).expect("remove"), 1);
        let again = s
            .enqueue(&[item("a2", Some("k1")), item("b2", Some("k2"))], 2)
            .expect("enqueue");
        assert_eq!(again[0], Enqueued::Removed);
        assert!(matches!(&again[1], Enqueued::Existing { local_id, .. } if local_id == "b"));
        assert!(
            s.find("a2").is_err(),
            "the removed line is not written again"
        );
    }

    fn a_lines_cap_travels_with_its_row(b: &Backend) {
        let s = b.open();
        let capped = NewPending {
            max_in_flight: Some(2),
            ..item("a", Some("k1"))
        };
        s.enqueue(&[capped, item("b", Some("k2"))], 1)
            .expect("enqueue");
        assert_eq!(s.queue_cap("a").expect("cap"), Some(2));
        assert_eq!(s.queue_cap("b").expect("cap"), None);
    }

    fn labels_are_kept_per_task_and_retries_keep_their_originals(b: &Backend) {
        let s = b.open();
        let labelled = |id, key, label| NewPending {
            label: Some(label),
            ..item(id, Some(key))
        };
        s.enqueue(
            &[
                labelled("a", "k1", "lighthouse-1"),
                labelled("b", "k2", "harbour-1"),
                item("c", Some("k3")),
            ],
            1,
        )
        .expect("enqueue");
        let labels = s.labels().expect("labels");
        assert_eq!(labels.len(), 2, "{labels:?}");
        assert_eq!(labels.get("a").map(String::as_str), Some("lighthouse-1"));
        assert_eq!(labels.get("b").map(String::as_str), Some("harbour-1"));
        assert!(!labels.contains_key("c"));
        // The record and the dashboard's row carry it.
        assert_eq!(
            s.find("a").expect("a").label.as_deref(),
            Some("lighthouse-1")
        );
        let rows = s
            .list_rows(&crate::store::TaskQuery::default())
            .expect("rows");
        let row = |id: &str| rows.iter().find(|r| &*r.local_id == id).expect("row");
        assert_eq!(row("b").label(), Some("harbour-1"));
        assert_eq!(row("c").label(), None);
        // A retry sent at once and one queued keep the original's label; a queued line's own
        // label wins.
        s.begin_retry(&crate::store::NewSubmission {
            local_id: "a2",
            profile: "p",
            request_json: r#"{"model":"m","content":[{"type":"text","text":"hi"}]}"#,
            retry_of: Some("a"),
            now: 2,
            asset_files: None,
        })
        .expect("retry");
        let queued_retry = NewPending {
            retry_of: Some("b"),
            ..item("b2", None)
        };
        let own = NewPending {
            retry_of: Some("b"),
            label: Some("mine"),
            ..item("b3", None)
        };
        s.enqueue(&[queued_retry, own], 3).expect("enqueue");
        let labels = s.labels().expect("labels");
        assert_eq!(labels.get("a2").map(String::as_str), Some("lighthouse-1"));
        assert_eq!(labels.get("b2").map(String::as_str), Some("harbour-1"));
        assert_eq!(labels.get("b3").map(String::as_str), Some("mine"));
        assert_eq!(labels.len(), 5);
    }

    fn queue_switches_are_shared_through_the_store(b: &Backend) {
        let s = b.open();
        assert_eq!(s.queue_state().expect("state"), QueueState::default());
        s.set_queue_paused(true).expect("pause");
        s.set_queue_held(Some((100, "server busy"))).expect("hold");
        let st = s.queue_state().expect("state");
        assert!(st.paused);
        assert_eq!(st.held_until, Some(100));
        assert_eq!(st.held_reason.as_deref(), Some("server busy"));
        s.set_queue_paused(false).expect("resume");
        s.set_queue_held(None).expect("clear");
        assert_eq!(s.queue_state().expect("state"), QueueState::default());
    }

    on_both_backends!(
        keys_make_enqueue_idempotent_and_order_is_kept,
        claim_is_once_and_a_held_row_goes_back_to_its_place,
        abandoned_sends_become_unknown_and_are_never_pending_again,
        an_unknown_create_holds_its_slot_for_a_while_from_its_send,
        a_resolved_unknown_create_counts_as_what_it_became,
        move_swaps_neighbours_and_remove_only_touches_pending_rows,
        a_removed_line_is_remembered_and_not_queued_again,
        a_lines_cap_travels_with_its_row,
        labels_are_kept_per_task_and_retries_keep_their_originals,
        queue_switches_are_shared_through_the_store,
    );
}
