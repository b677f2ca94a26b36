//! The queue's feeder: sends `pending` rows of this profile, in queue order, while the profile
//! has fewer than `max_in_flight` tasks being sent, queued or running (or fewer than the cap the
//! front row was queued under, when that is smaller), and while the budget allows. It runs in
//! every dashboard, `watch` and `submit --batch`, but only the poller-lease holder feeds
//! (switched by `lease::gate`), so one process per store sends queued requests. The in-flight
//! count is the whole store's (every host sharing a PostgreSQL store), and both it and the
//! budget are checked again inside the transaction that claims the row (`Engine::send_pending`):
//! even two feeders at once (a lease handed over while a send was under way) cannot pass them.
//!
//! A 429, a rate-limit or quota code (the account's queued-task cap), or a refused connection
//! holds the whole queue (the server's `Retry-After`, else a growing backoff) and it resumes by
//! itself; the hold and a user's pause live in the store, so every process shows them. A refused
//! request (400) is marked `rejected` and the queue goes on. Sending is one create per line:
//! `pending` rows are never polled. A finish the poller of this process sees wakes the feeder
//! at once (`Engine::slot_freed`), so the queue refills in the same tick.

use super::lease::Role;
use crate::backoff::Backoff;
use crate::engine::queue::SendOutcome;
use crate::engine::{Engine, now};
use crate::store::TaskRecord;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Feeder settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FeederConfig {
    /// Send only while this profile has fewer tasks in flight.
    pub max_in_flight: usize,
    /// How often to look again while rows wait (a finished task frees a slot; the store watcher
    /// usually wakes the feeder sooner).
    pub check_every: Duration,
    /// The wait of a hold without `Retry-After`, doubling with each hold in a row; its `max` also
    /// caps a server's `Retry-After`.
    pub backoff: Backoff,
    /// Start feeding at once (true) or wait for `FeederCmd::Role(Leader)` from the lease gate.
    pub leader: bool,
}

impl FeederConfig {
    pub fn new(max_in_flight: usize) -> FeederConfig {
        FeederConfig {
            max_in_flight: max_in_flight.max(1),
            check_every: Duration::from_secs(1),
            backoff: Backoff::new(Duration::from_secs(2), Duration::from_secs(120)),
            leader: false,
        }
    }
}

/// Commands to the feeder.
#[derive(Debug)]
pub enum FeederCmd {
    /// The lease role changed: only the leader feeds.
    Role(Role),
    /// Something changed in the store (a task finished, rows were queued, the queue was
    /// resumed): look again now.
    Wake,
    /// Stop feeding; answered once no send of this feeder is between its claim and its
    /// recorded answer (a create cut off there would become `submit_unknown`).
    Stop(tokio::sync::oneshot::Sender<()>),
}

/// How long a process ending waits for the feeder's send in progress: a create's timeout and
/// the minute an accepted one keeps trying to be recorded.
pub(crate) const STOP_WITHIN: Duration = Duration::from_secs(150);

/// Stop the feeder behind `tx` and wait (at most `within`) until its send in progress, if any,
/// is recorded.
pub(crate) async fn stop(tx: &mpsc::UnboundedSender<FeederCmd>, within: Duration) {
    let (ack, done) = tokio::sync::oneshot::channel();
    if tx.send(FeederCmd::Stop(ack)).is_ok() {
        let _ = tokio::time::timeout(within, done).await;
    }
}

/// What the feeder did.
#[derive(Debug, Clone)]
pub enum FeederEvent {
    /// A queued row was sent and accepted.
    Sent(Box<TaskRecord>),
    /// The server refused a queued row (400): it is `rejected`; the queue goes on.
    Rejected(Box<TaskRecord>),
    /// A queued row's outcome is unknown: `submit_unknown`, never re-sent.
    Unknown(Box<TaskRecord>),
    /// The queue holds until `until` (Unix seconds): the server is busy, or the budget says so.
    Held { until: i64, reason: String },
    /// The hold is over.
    Resumed,
    /// Rows a dead feeder left `submitting` were marked `submit_unknown` at takeover.
    Abandoned(usize),
    /// The store failed; the feeder tries again at its next check.
    StoreFailed(String),
}

/// The words of a hold by the daily cap: why, and until when.
pub(crate) fn budget_hold_reason(over: &crate::engine::budget::OverBudget, now: i64) -> String {
    let (until, whose) = match &over.day {
        Some(day) => (
            day.end,
            format!(
                "midnight in {}, the store's day",
                crate::sanitize::line(&day.zone)
            ),
        ),
        None => (
            crate::engine::budget::next_day_start(now),
            "local midnight".to_string(),
        ),
    };
    let at = chrono::DateTime::from_timestamp(until, 0)
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_else(|| "midnight".into());
    format!("{BUDGET_HELD}: {over}; held until {at} ({whose}) or until [budget] is raised")
}

/// The first words of a hold by the daily cap.
const BUDGET_HELD: &str = "budget";

/// True for a hold's reason given by the daily cap (not by the server).
pub(crate) fn is_budget_hold(reason: &str) -> bool {
    reason.starts_with(BUDGET_HELD)
}

/// The header's words for a hold by the server.
pub(crate) const SERVER_BUSY: &str = "server busy";

/// What a hold's reason is about (`budget`, `server busy`, ...), without its numbers: a hold of
/// the same kind is not announced again.
fn hold_kind(reason: &str) -> &str {
    reason.split(':').next().unwrap_or(reason)
}

/// Start the feeder on the current runtime.
pub fn spawn(
    engine: Engine,
    cfg: FeederConfig,
    events: mpsc::UnboundedSender<FeederEvent>,
) -> mpsc::UnboundedSender<FeederCmd> {
    let (tx, mut rx) = mpsc::unbounded_channel::<FeederCmd>();
    tokio::spawn(async move {
        let mut f = Feeder {
            engine,
            cfg,
            events,
            leader: false,
            held_until: None,
            announced: None,
            attempt: 0,
        };
        if cfg.leader {
            f.become_leader().await;
        }
        let mut next = Instant::now();
        let slot_freed = f.engine.slot_freed.clone();
        loop {
            // Commands first: a stop is seen between two sends, never in the middle of one.
            tokio::select! {
                biased;
                cmd = rx.recv() => match cmd {
                    None => return,
                    Some(FeederCmd::Stop(ack)) => {
                        let _ = ack.send(());
                        return;
                    }
                    Some(FeederCmd::Role(role)) => {
                        if role.is_leader() && !f.leader {
                            f.become_leader().await;
                        }
                        f.leader = role.is_leader();
                        next = Instant::now();
                    }
                    Some(FeederCmd::Wake) => next = next.min(Instant::now()),
                },
                // The poller saw a task finish: the next line goes in the same tick.
                _ = slot_freed.notified() => next = next.min(Instant::now()),
                _ = tokio::time::sleep_until(next) => {
                    next = Instant::now() + f.feed().await;
                }
            }
        }
    });
    tx
}

/// How long a hold lasts: the server's `Retry-After` (at least 200 ms, at most `backoff.max`),
/// else the backoff after `attempt` holds in a row.
fn hold_wait(backoff: Backoff, attempt: u32, retry_after: Option<Duration>) -> Duration {
    match retry_after {
        Some(d) => d.clamp(Duration::from_millis(200).min(backoff.max), backoff.max),
        None => backoff.delay(attempt),
    }
}

struct Feeder {
    engine: Engine,
    cfg: FeederConfig,
    events: mpsc::UnboundedSender<FeederEvent>,
    leader: bool,
    held_until: Option<Instant>,
    /// The hold last announced (`Held`), until the queue moves again (`Resumed`): a hold that
    /// keeps its cause (the budget, a busy server) is said once, not at every look.
    announced: Option<String>,
    /// Holds in a row without an accepted create (the backoff exponent).
    attempt: u32,
}

impl Feeder {
    fn emit(&self, e: FeederEvent) {
        let _ = self.events.send(e);
    }

    /// Rows left `submitting` by a feeder that died mid-send may have reached the server: they
    /// become `submit_unknown` (one feeder per store, so none of them is a live send of ours).
    async fn become_leader(&mut self) {
        self.leader = true;
        let profile = self.engine.profile.clone();
        match self
            .engine
            .with_store(move |s| s.abandon_queue_sends(&profile, now()))
            .await
        {
            Ok(0) => {}
            Ok(n) => self.emit(FeederEvent::Abandoned(n)),
            Err(e) => self.emit(FeederEvent::StoreFailed(e.to_string())),
        }
    }

    fn backoff(&self, retry_after: Option<Duration>) -> Duration {
        hold_wait(self.cfg.backoff, self.attempt, retry_after)
    }

    async fn hold(&mut self, wait: Duration, reason: String) {
        self.held_until = Some(Instant::now() + wait);
        let until = now() + wait.as_secs_f64().ceil() as i64;
        let why = reason.clone();
        let _ = self
            .engine
            .with_store(move |s| s.set_queue_held(Some((until, &why))))
            .await;
        if self.announced.as_deref().map(hold_kind) != Some(hold_kind(&reason)) {
            self.announced = Some(reason.clone());
            self.emit(FeederEvent::Held { until, reason });
        }
    }

    /// The queue moves again (or has nothing left to hold): clear the hold, say so once.
    async fn unhold(&mut self) {
        if self.announced.take().is_some() {
            let _ = self.engine.with_store(|s| s.set_queue_held(None)).await;
            self.emit(FeederEvent::Resumed);
        }
    }

    /// Send what the cap allows; returns how long to wait before looking again.
    async fn feed(&mut self) -> Duration {
        let idle = self.cfg.check_every.max(Duration::from_millis(50)) * 5;
        if !self.leader {
            return idle;
        }
        if let Some(until) = self.held_until {
            let left = until.saturating_duration_since(Instant::now());
            if !left.is_zero() {
                return left;
            }
            // Look again; the hold is lifted (and `Resumed` said) only once a line may go.
            self.held_until = None;
        }
        let profile = self.engine.profile.clone();
        loop {
            let (p, since) = (profile.clone(), self.engine.unknown_since());
            // A pause reaches the very next line, whichever process set it.
            let found = self
                .engine
                .with_store(move |s| {
                    if s.queue_state()?.paused {
                        return Ok(None);
                    }
                    let front = s.queue_front(&p)?;
                    let (busy, cap) = match &front {
                        Some(f) => (s.in_flight_count(&p, since)?, s.queue_cap(&f.local_id)?),
                        None => (0, None),
                    };
                    Ok(Some((front, busy, cap)))
                })
                .await;
            let (front, busy, row_cap) = match found {
                Ok(None) => return self.cfg.check_every,
                Ok(Some(x)) => x,
                Err(e) => {
                    self.emit(FeederEvent::StoreFailed(e.to_string()));
                    return self.cfg.check_every;
                }
            };
            let Some(front) = front else {
                self.unhold().await;
                return idle;
            };
            // The smallest cap that applies: this process's, and the one the line was queued
            // under (`submit --batch --max-in-flight`), whoever feeds it.
            let cap = row_cap.map_or(self.cfg.max_in_flight as u64, |c| {
                c.min(self.cfg.max_in_flight as u64)
            });
            if busy >= cap {
                tracing::debug!(busy, cap, "the queue waits for a free slot");
                return self.cfg.check_every;
            }
            match self.engine.send_pending(front, cap).await {
                // The next line goes out at once, after the loop has looked at its commands.
                Ok(SendOutcome::Accepted(r)) => {
                    self.attempt = 0;
                    self.unhold().await;
                    self.emit(FeederEvent::Sent(Box::new(r)));
                    return Duration::ZERO;
                }
                Ok(SendOutcome::Rejected(r)) => {
                    self.unhold().await;
                    self.emit(FeederEvent::Rejected(Box::new(r)));
                    return Duration::ZERO;
                }
                Ok(SendOutcome::Unknown(r)) => {
                    self.unhold().await;
                    self.emit(FeederEvent::Unknown(Box::new(r)));
                    return Duration::ZERO;
                }
                Ok(SendOutcome::Held {
                    retry_after,
                    reason,
                }) => {
                    let wait = self.backoff(retry_after);
                    self.attempt = self.attempt.saturating_add(1);
                    self.hold(wait, format!("{SERVER_BUSY}: {reason}")).await;
                    return wait;
                }
                Ok(SendOutcome::NotPending) => {}
                // Another host's send took the slot since the look above.
                Ok(SendOutcome::Full { busy }) => {
                    tracing::debug!(busy, cap, "the queue waits for a free slot");
                    return self.cfg.check_every;
                }
                // Looked at again every few seconds: the spend can drop (a task fails without
                // a bill, a count comes in under its estimate), else the day turns.
                Ok(SendOutcome::OverBudget(over)) => {
                    self.hold(self.cfg.check_every * 5, budget_hold_reason(&over, now()))
                        .await;
                    return self.cfg.check_every * 5;
                }
                Err(e) => {
                    self.emit(FeederEvent::StoreFailed(e.to_string()));
                    return self.cfg.check_every;
                }
            }
        }
    }
}

/// How often the dashboard re-reads the queue when nothing poked it (a pause or a hold set by
/// another process changes no task row, so the store watcher does not report it).
const QUEUE_READ_EVERY: Duration = Duration::from_secs(2);

/// Keep a picture of the queue (order, pause, hold) current for the dashboard: read it from
/// the store when poked and every couple of seconds, and hand it to `send` when it changed.
/// Stops when `send` returns false.
pub(crate) fn watch_queue(
    engine: Engine,
    mut poke: mpsc::UnboundedReceiver<()>,
    send: impl Fn(crate::app::queue::QueueInfo) -> bool + Send + 'static,
) {
    tokio::spawn(async move {
        let mut last: Option<crate::app::queue::QueueInfo> = None;
        loop {
            let read = engine
                .with_store(|s| Ok((s.queue_ids()?, s.queue_state()?)))
                .await;
            if let Ok((order, st)) = read {
                let info = crate::app::queue::QueueInfo {
                    order,
                    paused: st.paused,
                    held_until: st.held_until,
                    held_reason: st.held_reason,
                };
                if last.as_ref() != Some(&info) {
                    if !send(info.clone()) {
                        return;
                    }
                    last = Some(info);
                }
            }
            tokio::select! {
                p = poke.recv() => if p.is_none() { return },
                _ = tokio::time::sleep(QUEUE_READ_EVERY) => {}
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{ArkClient, ClientConfig};
    use crate::engine::budget::SpendingCap;
    use crate::store::{NewPending, Store};

    #[test]
    fn a_hold_doubles_from_the_first_wait_and_honours_retry_after_within_the_cap() {
        let b = FeederConfig::new(1).backoff;
        assert_eq!(hold_wait(b, 0, None), Duration::from_secs(2));
        assert_eq!(hold_wait(b, 1, None), Duration::from_secs(4));
        assert_eq!(hold_wait(b, 6, None), Duration::from_secs(120));
        assert_eq!(hold_wait(b, u32::MAX, None), Duration::from_secs(120));
        assert_eq!(
            hold_wait(b, 3, Some(Duration::from_secs(7))),
            Duration::from_secs(7),
            "the server's wait, not the backoff"
        );
        assert_eq!(
            hold_wait(b, 0, Some(Duration::from_secs(3600))),
            Duration::from_secs(120)
        );
        assert_eq!(
            hold_wait(b, 0, Some(Duration::ZERO)),
            Duration::from_millis(200)
        );
    }

    #[tokio::test]
    async fn a_budget_hold_is_announced_once_however_often_it_is_checked() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&dir.path().join("s.db")).expect("store");
        let body = r#"{"model":"doubao-seedance-2-0-fast-260128","content":[{"type":"text","text":"hi"}],"duration":5}"#;
        store
            .enqueue(
                &[NewPending {
                    local_id: "a",
                    profile: "p",
                    request_json: body,
                    key: Some("k"),
                    label: None,
                    retry_of: None,
                    max_in_flight: None,
                    asset_files: None,
                }],
                now(),
            )
            .expect("enqueue");
        // Nothing listens there: a budget hold sends nothing.
        let client = ArkClient::new(ClientConfig::new(
            "http://127.0.0.1:9/api/v3".to_string(),
            None::<crate::api::ApiKey>,
        ))
        .expect("client");
        let mut cap = SpendingCap::default();
        cap.budget.daily_tokens = Some(1);
        let engine = Engine::new(client, store, "p").with_spending_cap(cap);
        let (tx, mut rx) = mpsc::unbounded_channel();
        let cfg = FeederConfig {
            check_every: Duration::from_millis(20),
            leader: true,
            ..FeederConfig::new(8)
        };
        let _cmds = spawn(engine.clone(), cfg, tx);
        // Each look holds for 5 x 20 ms and stores the hold's end (whole seconds): wait until
        // three different ends were stored (looks over two seconds), then count what was said.
        let first = match rx.recv().await {
            Some(FeederEvent::Held { reason, .. }) => reason,
            other => panic!("expected a hold, got {other:?}"),
        };
        assert!(first.starts_with("budget"), "{first}");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        let mut ends = std::collections::HashSet::new();
        while ends.len() < 3 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the feeder stopped looking"
            );
            let st = engine.with_store(|s| s.queue_state()).await.expect("state");
            assert!(st.held_reason.is_some_and(|r| r.starts_with("budget")));
            ends.extend(st.held_until);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let mut said = Vec::new();
        while let Ok(e) = rx.try_recv() {
            said.push(format!("{e:?}"));
        }
        assert!(said.is_empty(), "said again: {said:?}");
    }

    const KEY: &str = "sk-feeder-race-3c9d";
    const TEAM_CAP: u64 = 3;

    /// Three "hosts" (engines with a connection each, one profile) send a shared queue at once,
    /// with no lease between them (the worst case: a partition, or a bug): the cap of 3 in
    /// flight and the daily budget hold by the claim's transaction alone, counted at the
    /// simulator. `open` gives each host its own connection to one store.
    async fn racing_senders_never_pass_the_shared_cap_nor_the_budget(
        b: &crate::store::test_backend::Backend,
    ) {
        use super::super::poller::{self, PollerCmd, PollerConfig};
        let sim = crate::sim::start(
            "127.0.0.1:0".parse().expect("addr"),
            crate::sim::SimConfig {
                speed: 1000.0,
                fail_rate: 0.0,
                max_running: 100_000,
                api_key: Some(KEY.into()),
                ..crate::sim::SimConfig::default()
            },
        )
        .await
        .expect("sim");
        let lines = 12;
        let body = |i: usize| {
            format!(
                r#"{{"model":"doubao-seedance-2-0-fast-260128","content":[{{"type":"text","text":"line {i} [[sim:succeed]]"}}],"duration":5}}"#
            )
        };
        let per_line = crate::engine::budget::estimate(
            &crate::api::types::CreateRequest::from_json(&body(0)).expect("request"),
        );
        assert!(per_line > 0);
        // Room for nine and a half lines' estimates: the budget stops the queue, not its end.
        let mut cap = SpendingCap::default();
        cap.budget.daily_tokens = Some(per_line * 19 / 2);
        let hosts: Vec<Engine> = (0..3)
            .map(|_| {
                let client = ArkClient::new(ClientConfig::new(
                    sim.base_url(),
                    Some(crate::api::ApiKey::new(KEY)),
                ))
                .expect("client");
                Engine::new(client, b.open(), "team").with_spending_cap(cap.clone())
            })
            .collect();
        let bodies: Vec<String> = (0..lines).map(body).collect();
        let ids: Vec<String> = (0..lines).map(|i| format!("line-{i}")).collect();
        hosts[0]
            .with_store(move |s| {
                let items: Vec<NewPending<'_>> = bodies
                    .iter()
                    .zip(&ids)
                    .map(|(b, id)| NewPending {
                        local_id: id,
                        profile: "team",
                        request_json: b,
                        key: None,
                        label: None,
                        retry_of: None,
                        max_in_flight: Some(TEAM_CAP as u32),
                        asset_files: None,
                    })
                    .collect();
                s.enqueue(&items, now())
            })
            .await
            .expect("enqueue");
        // One poller finishes what was sent, so slots free up and the race goes on.
        let (ptx, _polled) = mpsc::unbounded_channel();
        let poller = poller::spawn(
            hosts[0].clone(),
            PollerConfig {
                interval: Duration::from_millis(50),
                requests_per_second: 200.0,
                leader: true,
                ..PollerConfig::default()
            },
            ptx,
        );
        let deadline = Instant::now() + Duration::from_secs(90);
        let mut racers = tokio::task::JoinSet::new();
        for engine in hosts.clone() {
            let poller = poller.clone();
            racers.spawn(async move {
                let mut sent = 0u64;
                loop {
                    assert!(Instant::now() < deadline, "the queue never settled");
                    let front = engine
                        .with_store(|s| s.queue_front("team"))
                        .await
                        .expect("front");
                    let Some(front) = front else { return sent };
                    match engine.send_pending(front, TEAM_CAP).await.expect("send") {
                        SendOutcome::Accepted(r) => {
                            sent += 1;
                            let _ = poller.send(PollerCmd::Track(Box::new(r)));
                        }
                        SendOutcome::OverBudget(_) => {
                            // Final once nothing is in flight: every bill is in.
                            let since = engine.unknown_since();
                            let busy = engine
                                .with_store(move |s| s.in_flight_count("team", since))
                                .await
                                .expect("count");
                            if busy == 0 {
                                return sent;
                            }
                        }
                        SendOutcome::Full { .. } | SendOutcome::NotPending => {}
                        other => panic!("{other:?}"),
                    }
                    // Looking again, as the feeder does after a full queue (shortened).
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            });
        }
        let mut sent = Vec::new();
        while let Some(n) = racers.join_next().await {
            sent.push(n.expect("racer"));
        }
        let stats = sim.stats();
        let total: u64 = sent.iter().sum();
        assert_eq!(stats.creates, total, "every create was one line, sent once");
        assert_eq!(stats.repeated_client_ids, 0);
        assert!(
            stats.peak_in_flight <= TEAM_CAP,
            "{} in flight at once at the simulator (cap {TEAM_CAP})",
            stats.peak_in_flight
        );
        let spent = hosts[1].spent_today().await.expect("spend");
        let limit = cap.budget.daily_tokens.expect("cap");
        assert!(spent.tokens <= limit, "spent {} of {limit}", spent.tokens);
        assert!(
            (1..lines as u64).contains(&total),
            "the budget stopped the queue: {total} of {lines} sent ({sent:?})"
        );
        eprintln!(
            "racing senders: {sent:?} sent, peak {} in flight, {} of {limit} tokens",
            stats.peak_in_flight, spent.tokens
        );
    }

    crate::store::test_backend::on_both_backends!(
        async racing_senders_never_pass_the_shared_cap_nor_the_budget
    );
}
