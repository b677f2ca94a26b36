//! Scheduler tests: the lease gate, ETA-driven spacing, 429s holding everyone, list batching.

use super::*;
use crate::runtime::lease::Role;

fn record(id: &str, phase: &str, created: i64) -> TaskRecord {
    TaskRecord::factory(id, crate::store::Phase::parse(phase), created)
}

fn cfg(leader: bool) -> PollerConfig {
    PollerConfig {
        interval: Duration::from_secs(10),
        concurrency: 8,
        requests_per_second: 1000.0,
        leader,
        ..PollerConfig::default()
    }
}

#[test]
fn a_follower_never_polls_until_it_leads() {
    let t0 = Instant::now();
    let mut s = Scheduler::new(cfg(false), t0);
    s.track(record("a", "queued", now_secs()), t0);
    assert!(s.next_due(t0).is_none());
    assert!(s.wake_at().is_none(), "a follower does not even wake up");
    assert!(!s.health().leader);
    s.set_role(
        Role::Follower {
            holder: "watch pid 1@h".into(),
            note: None,
        },
        t0,
    );
    assert_eq!(s.health().follows.as_deref(), Some("watch pid 1@h"));
    assert!(s.next_due(t0).is_none());
    s.set_role(Role::Leader, t0);
    assert_eq!(s.next_due(t0).map(|r| r.local_id), Some("a".into()));
    assert!(s.health().leader && s.health().follows.is_none());
}

/// When the poll after `finished` is due, relative to `now`.
fn next_due_after_success(s: &mut Scheduler, mut r: TaskRecord, now: Instant) -> Duration {
    r.updated_at = 0; // stale: polled at once
    let id = r.local_id.clone();
    s.track(r.clone(), now);
    assert!(s.next_due(now).is_some());
    s.finished(&id, Ok((r, false)), now);
    s.tracked.get(&id).expect("still tracked").due - now
}

#[test]
fn history_spaces_polls_out_early_and_a_fresh_store_waits_for_the_typical_window() {
    let t0 = Instant::now();
    let now = now_secs();
    // No history: the model table's typical durations (60-300 s), at most 6 intervals away.
    let mut plain = Scheduler::new(cfg(true), t0);
    let gap = next_due_after_success(&mut plain, record("a", "queued", now), t0);
    assert!(
        gap >= Duration::from_secs(45) && gap <= Duration::from_secs(60),
        "{gap:?}"
    );

    // Tasks like this one took 300-345 s: a just-created one need not be asked for a minute.
    let mut learned = Scheduler::new(cfg(true), t0);
    for i in 0..10 {
        let mut done = record(&format!("d{i}"), "succeeded", now - 10_000);
        done.finished_at = Some(now - 10_000 + 300 + 5 * i);
        assert!(learned.eta.learn(&done));
    }
    let t1 = t0 + Duration::from_secs(1);
    let gap = next_due_after_success(&mut learned, record("b", "queued", now), t1);
    // The poll's age: the gap from the answer plus how old the task was then (at most its
    // age now; a loaded machine takes a while between the two).
    let age = Duration::from_secs_f64(unix_now() - learned.tracked["b"].origin);
    assert!(
        gap + age >= Duration::from_secs(59),
        "sparse early: {gap:?}"
    );
    // Near the likely finish it polls densely: by id the plan aims at a mean delay of 0.7
    // intervals (7 s), so gaps of about twice that at most.
    let old = record("c", "queued", now - 330);
    let gap = next_due_after_success(&mut learned, old, t1 + Duration::from_secs(1));
    assert!(
        gap <= Duration::from_secs(14),
        "dense near the finish: {gap:?}"
    );
}

#[test]
fn a_queued_line_is_planned_from_when_it_was_sent_not_when_it_was_queued() {
    let t0 = Instant::now();
    let now = now_secs();
    let mut s = Scheduler::new(cfg(true), t0);
    // Tasks like it take 30 s.
    for i in 0..10 {
        let mut done = record(&format!("d{i}"), "succeeded", now - 10_000);
        done.finished_at = Some(now - 10_000 + 30);
        s.eta.learn(&done);
    }
    // Queued ten minutes ago, sent (accepted, never answered) just now: not ten minutes old,
    // so neither past its window nor learned as a ten-minute task.
    let mut line = record("line", "queued", now - 600);
    line.updated_at = now;
    s.track(line, t0);
    let due = s.tracked["line"].due - t0;
    assert!(
        due >= Duration::from_secs(15) && due <= Duration::from_secs(35),
        "planned from its send: {due:?}"
    );
}

#[test]
fn list_ticks_keep_pace_with_the_account_s_throughput() {
    let t0 = Instant::now();
    let now = now_secs();
    let mut s = Scheduler::new(
        PollerConfig {
            list: ListMode::Use,
            ..cfg(true)
        },
        t0,
    );
    // A coarse history (0-30 s): a task just sent is already inside its window, where finishes
    // are not expected often.
    for i in 0..10 {
        let mut done = record(&format!("d{i}"), "succeeded", now - 10_000);
        done.finished_at = Some(now - 10_000 + 3 * i);
        s.eta.learn(&done);
    }
    s.track(record("slow", "queued", now), t0);
    let slow = s.tracked["slow"].due - t0;
    // The account finished three tasks a second lately: ticks at their fastest (a quarter
    // interval) carry the next task sent.
    for i in 0..10 {
        s.eta.saw_finish(unix_now() - 3.0 + f64::from(i) / 3.0);
    }
    s.track(record("fast", "queued", now), t0);
    let fast = s.tracked["fast"].due - t0;
    assert!(fast <= Duration::from_millis(2600), "{fast:?}");
    assert!(slow > fast, "{slow:?} {fast:?}");
}

#[test]
fn stale_rows_are_asked_at_once_fresh_submissions_wait() {
    let t0 = Instant::now();
    let mut s = Scheduler::new(cfg(true), t0);
    let now = now_secs();
    let mut stale = record("stale", "queued", now - 3600);
    stale.updated_at = now - 3600;
    s.track(stale, t0);
    s.track(record("fresh", "queued", now), t0);
    assert_eq!(s.next_due(t0).map(|r| r.local_id), Some("stale".into()));
    // No history: a fresh one waits for the model table's typical window.
    let t1 = t0 + Duration::from_secs(1);
    assert_eq!(s.next_due(t1).map(|r| r.local_id), None);
    let due = s.tracked["fresh"].due - t0;
    assert!(due >= Duration::from_secs(45), "{due:?}");
    // With history (tasks like it took 300 s), a fresh one waits until the sparse check.
    for i in 0..3 {
        let mut done = record(&format!("d{i}"), "succeeded", now - 10_000);
        done.finished_at = Some(now - 10_000 + 300);
        s.eta.learn(&done);
    }
    s.track(record("fresh2", "queued", now), t1);
    let due = s.tracked["fresh2"].due - t1;
    assert!(
        due > Duration::from_secs(55) && due <= Duration::from_secs(60),
        "6 x interval at most: {due:?}"
    );
}

#[test]
fn a_429_holds_every_task() {
    let t0 = Instant::now();
    let mut s = Scheduler::new(cfg(true), t0);
    let now = now_secs();
    for id in ["a", "b"] {
        let mut r = record(id, "queued", now);
        r.updated_at = 0;
        s.track(r, t0);
    }
    let first = s.next_due(t0).expect("due");
    let err = PollError::Api(ApiError::RateLimited {
        code: "TooManyRequests".into(),
        message: "slow down".into(),
        retry_after: Some(Duration::from_secs(30)),
        request_id: None,
    });
    s.finished(&first.local_id, Err(err), t0);
    let later = t0 + Duration::from_secs(1);
    assert!(s.next_due(later).is_none(), "the other task waits too");
    assert!(
        s.health()
            .banner
            .is_some_and(|b| b.contains("rate limited"))
    );
    assert!(s.next_due(t0 + Duration::from_secs(31)).is_some());
}

crate::store::test_backend::on_both_backends!(
    async submissions_abandoned_by_a_dead_process_become_unknown_not_resent
);

async fn submissions_abandoned_by_a_dead_process_become_unknown_not_resent(
    b: &crate::store::test_backend::Backend,
) {
    use crate::api::{ArkClient, ClientConfig};
    use crate::store::NewSubmission;
    let store = b.open();
    for (id, age) in [("old", 700), ("fresh", 5)] {
        store
            .begin_submission(&NewSubmission {
                local_id: id,
                profile: "p",
                request_json: r#"{"model":"m","content":[]}"#,
                retry_of: None,
                now: now_secs() - age,
                asset_files: None,
            })
            .expect("row");
    }
    let client = ArkClient::new(ClientConfig::new(
        "http://127.0.0.1:9/api/v3".to_string(),
        None::<crate::api::ApiKey>,
    ))
    .expect("client");
    let engine = Engine::new(client, store, "p");
    let marked = abandon_stale_submissions(&engine, Duration::from_secs(600))
        .await
        .expect("housekeeping");
    assert_eq!(marked, ["old"]);
    let old = engine.find("old").await.expect("old");
    assert_eq!(old.phase.as_str(), "submit_unknown");
    assert!(
        old.request_json.contains("\"model\""),
        "the request is kept"
    );
    assert!(
        old.error_message
            .is_some_and(|m| m.contains("before retrying"))
    );
    assert_eq!(
        engine.find("fresh").await.expect("fresh").phase.as_str(),
        "submitting"
    );
}

#[test]
fn unknown_statuses_are_polled_with_backoff() {
    let t0 = Instant::now();
    let now = now_secs();
    let mut s = Scheduler::new(cfg(true), t0);
    let mut r = record("u", "SUCCEEDED", now);
    r.updated_at = 0;
    s.track(r.clone(), t0);
    let mut at = t0;
    let mut gaps = Vec::new();
    for _ in 0..4 {
        assert!(s.next_due(at).is_some(), "the task is still polled");
        s.finished("u", Ok((r.clone(), false)), at);
        let due = s.tracked.get("u").expect("still tracked").due;
        gaps.push(due - at);
        at = due;
    }
    assert!(
        gaps[0] >= Duration::from_secs(20),
        "backs off at once: {gaps:?}"
    );
    assert!(gaps.windows(2).all(|w| w[1] > w[0]), "growing: {gaps:?}");
    // A known status again goes back to the plan (the sparse check at most).
    let queued = record("u", "queued", now);
    s.next_due(at);
    s.finished("u", Ok((queued, false)), at);
    let gap = s.tracked.get("u").expect("tracked").due - at;
    assert!(gap <= Duration::from_secs(60) && gap < gaps[3], "{gap:?}");
}

#[test]
fn list_mode_sends_due_tasks_together_and_lets_near_ones_ride_along() {
    let t0 = Instant::now();
    let mut s = Scheduler::new(
        PollerConfig {
            list: ListMode::Use,
            ..cfg(true)
        },
        t0,
    );
    let old = now_secs() - 3600;
    for id in ["a", "b", "c"] {
        s.track(record(id, "queued", old), t0);
    }
    // Due in 2 s: before the next tick (the interval while no task is in its window), so it
    // joins the list going out now.
    s.track(record("near", "queued", old), t0);
    s.schedule("near", t0 + Duration::from_secs(2));
    // Due in 12 s: waits for its own tick.
    s.track(record("far", "queued", old), t0);
    s.schedule("far", t0 + Duration::from_secs(12));
    let Some(Request::List(batch)) = s.next_request(t0) else {
        panic!("a list request");
    };
    let mut ids: Vec<_> = batch.iter().map(|r| r.local_id.as_str()).collect();
    ids.sort();
    assert_eq!(ids, ["a", "b", "c", "near"]);
    assert_eq!(s.in_flight, 1, "one request for the whole list");
    assert!(s.next_request(t0).is_none(), "nothing else is due");

    // A task the list could not settle is asked by id once.
    let (events, settled) = s.list_finished(
        ids.iter().map(|s| s.to_string()).collect(),
        ListPoll::Answered {
            polled: Vec::new(),
            need_get: vec!["a".into()],
        },
        t0,
    );
    assert!(events.is_empty() && settled.is_none());
    let later = t0 + Duration::from_secs(1);
    match s.next_request(later) {
        Some(Request::Get(r)) => assert_eq!(r.local_id, "a"),
        other => panic!("a GET of a, got {other:?}"),
    }
}

#[test]
fn a_list_holds_only_as_many_ids_as_fit_its_url() {
    let t0 = Instant::now();
    let mut s = Scheduler::new(
        PollerConfig {
            list: ListMode::Use,
            ..cfg(true)
        },
        t0,
    );
    let old = now_secs() - 3600;
    for i in 0..600 {
        s.track(record(&format!("task-{i:04}"), "queued", old), t0);
    }
    let Some(Request::List(first)) = s.next_request(t0) else {
        panic!("a list request");
    };
    let url_bytes: usize = first
        .iter()
        .map(|r| crate::api::client::list_id_query_len(r.task_id.as_deref().unwrap_or("")))
        .sum();
    assert!(
        url_bytes <= crate::api::client::MAX_LIST_URL_BYTES,
        "{url_bytes}"
    );
    assert!(first.len() > 50 && first.len() < 600, "{}", first.len());
    // The rest go out in the following lists (as the budget allows: 1 ms apart).
    let mut total = first.len();
    let mut t = t0;
    for _ in 0..10 {
        t += Duration::from_millis(10);
        if let Some(Request::List(more)) = s.next_request(t) {
            total += more.len();
        }
    }
    assert_eq!(total, 600);
}

#[test]
fn a_probe_answered_by_a_web_page_turns_listing_off() {
    let t0 = Instant::now();
    let mut s = Scheduler::new(
        PollerConfig {
            list: ListMode::Probe,
            ..cfg(true)
        },
        t0,
    );
    s.track(record("a", "queued", now_secs() - 3600), t0);
    let Some(Request::List(batch)) = s.next_request(t0) else {
        panic!("the probe is a list request");
    };
    let html = ApiError::NotTheApi {
        status: 200,
        content_type: "text/html".into(),
        hint: String::new(),
        snippet: String::new(),
    };
    let ids = batch.into_iter().map(|r| r.local_id).collect();
    let (_, settled) = s.list_finished(ids, ListPoll::NoList(html), t0);
    assert_eq!(settled, Some(ListMode::Never));
    let later = t0 + Duration::from_millis(10);
    assert!(matches!(s.next_request(later), Some(Request::Get(_))));
}

#[test]
fn a_server_failing_again_and_again_shows_as_a_banner() {
    let t0 = Instant::now();
    let mut s = Scheduler::new(cfg(true), t0);
    let mut r = record("a", "queued", now_secs());
    r.updated_at = 0;
    s.track(r, t0);
    let mut at = t0;
    for n in 1..=3 {
        let due = s.next_due(at + Duration::from_secs(3600)).expect("due");
        at += Duration::from_secs(3600);
        let err = PollError::Api(ApiError::Server {
            status: 503,
            code: String::new(),
            message: "upstream down".into(),
            request_id: None,
        });
        s.finished(&due.local_id, Err(err), at);
        let banner = s.health().banner;
        if n < 3 {
            assert!(banner.is_none(), "one or two errors are noise");
        } else {
            assert!(
                banner.is_some_and(|b| b.contains("server failing: 3 errors in a row (HTTP 503)")),
                "an outage is a banner"
            );
        }
    }
}

#[test]
fn a_tracked_task_keeps_its_requests_facts_not_its_body() {
    use crate::store::TaskFacts;
    let t0 = Instant::now();
    let mut s = Scheduler::new(cfg(true), t0);
    let prompt = "a lighthouse at dusk ".repeat(4096);
    let full = TaskRecord {
        request_json: format!(
            r#"{{"model":"doubao-seedance-2-0-fast-260128","content":[{{"type":"text","text":"{prompt}"}}],"ratio":"9:16","duration":8,"generate_audio":false}}"#
        ),
        ..record("big", "running", 0) // stale: polled at once
    };
    s.track(full.clone(), t0);
    let kept = &s.tracked.get("big").expect("tracked").record;
    assert!(kept.request_json.is_empty(), "the body is not kept");
    assert_eq!(kept.spec(), full.spec());
    assert_eq!(kept.spec().duration, Some(8));
    assert_eq!(kept.spec().audio, Some(false));
    // What the poller hands on is what it keeps.
    let due = s.next_due(t0).expect("due");
    assert!(due.request_json.is_empty());
    assert_eq!(due.spec(), full.spec());
}

#[test]
fn by_id_the_task_likeliest_to_have_finished_goes_first_when_the_budget_is_short() {
    let t0 = Instant::now();
    let now = now_secs();
    let mut s = Scheduler::new(
        PollerConfig {
            requests_per_second: 1.0,
            ..cfg(true)
        },
        t0,
    );
    // Tasks like these take 100-110 s.
    for i in 0..10 {
        let mut done = record(&format!("d{i}"), "succeeded", now - 10_000);
        done.finished_at = Some(now - 10_000 + 100 + i);
        s.eta.learn(&done);
    }
    // Just sent: its first poll is a check long before its window, where nothing finishes.
    s.track(record("young", "queued", now), t0);
    // Answered before and 104 s old: inside its window, planned a few seconds on.
    let mut ripe = record("ripe", "queued", now - 104);
    ripe.response_json = Some(r#"{"id":"cgt-1","status":"queued"}"#.into());
    ripe.updated_at = now;
    let (young_due, ripe_at) = (s.tracked["young"].due, young_due_minus(&s, t0));
    s.track(ripe, ripe_at);
    let ripe_due = s.tracked["ripe"].due;
    assert!(young_due < ripe_due, "{young_due:?} {ripe_due:?}");
    // Both due, one request allowed: the ripe one goes first although due later.
    let both = ripe_due + Duration::from_millis(1);
    assert_eq!(s.next_due(both).map(|r| r.local_id), Some("ripe".into()));
    assert!(s.next_due(both).is_none(), "one request a second");
    let next = both + Duration::from_secs(1);
    assert_eq!(s.next_due(next).map(|r| r.local_id), Some("young".into()));
}

/// A moment just before `young` falls due, to track another task at.
fn young_due_minus(s: &Scheduler, t0: Instant) -> Instant {
    let due = s.tracked["young"].due;
    assert!(
        due > t0 + Duration::from_secs(20),
        "a check well before the window: {due:?}"
    );
    due - Duration::from_millis(500)
}

#[test]
fn a_task_still_queued_is_not_asked_again_before_it_could_have_run() {
    let t0 = Instant::now();
    let now = now_secs();
    let mut s = Scheduler::new(cfg(true), t0);
    // Tasks like these queued 30 s and ran 100-109 s (the server's clock runs at ours).
    for i in 0..10 {
        let created = now - 10_000;
        let finished = created + 30 + 100 + i;
        let mut done = record(&format!("d{i}"), "succeeded", created);
        done.finished_at = Some(finished);
        let server = ServerTimes {
            created,
            run_start: Some(created + 30),
        };
        let total = (finished - created) as f64;
        assert!(s.eta.learn_observed(&done, total, server, finished));
    }
    // 125 s old: inside its kind's window by the total times.
    let t1 = t0 + Duration::from_secs(1);
    let running = next_due_after_success(&mut s, record("r", "running", now - 125), t1);
    assert!(
        running <= Duration::from_secs(20),
        "dense in the window: {running:?}"
    );
    // The same age, but the server said it is still queued: no finish before a run's length,
    // so the next poll waits for the sparse check.
    let mut queued = record("q", "queued", now - 125);
    queued.response_json = Some(r#"{"id":"cgt-q","status":"queued"}"#.into());
    let queued = next_due_after_success(&mut s, queued, t1 + Duration::from_secs(1));
    assert!(queued >= Duration::from_secs(55), "{queued:?}");
}

#[test]
fn overdue_tasks_pace_list_ticks_only_as_fast_as_tasks_are_seen_to_finish() {
    let t0 = Instant::now();
    let now = now_secs();
    let mut s = Scheduler::new(
        PollerConfig {
            list: ListMode::Use,
            ..cfg(true)
        },
        t0,
    );
    // A thin history, as a fresh store's first finishes of a batch: tasks took 10 s.
    for i in 0..3 {
        let mut done = record(&format!("d{i}"), "succeeded", now - 10_000);
        done.finished_at = Some(now - 10_000 + 10);
        s.eta.learn(&done);
    }
    // Twenty of the batch still running at 100 s: past every remembered finish.
    for i in 0..20 {
        let mut r = record(&format!("t{i}"), "running", now - 100);
        r.updated_at = now - 100;
        s.track(r, t0);
    }
    s.refresh_tick();
    assert_eq!(
        s.tick, s.cfg.interval,
        "nothing seen finishing: the slowest tick"
    );
    // Ten of them seen finishing over the last 20 s: ticks keep pace with that.
    let unix = unix_now();
    s.observed = Observed::default();
    s.observed.update(unix - 20.0, 0, 20, 30.0);
    s.observed.update(unix, 10, 20, 30.0);
    s.refresh_tick();
    assert!(
        s.tick < Duration::from_secs(5) && s.tick > Duration::from_secs_f64(s.targets().min_gap),
        "{:?}",
        s.tick
    );
}

/// A scheduler by id whose history says tasks take 300-345 s: a task just sent is first asked
/// at the sparse check, with little chance of a finish.
fn by_id_with_long_history(t0: Instant) -> Scheduler {
    let now = now_secs();
    let mut s = Scheduler::new(cfg(true), t0);
    for i in 0..10 {
        let mut done = record(&format!("d{i}"), "succeeded", now - 10_000);
        done.finished_at = Some(now - 10_000 + 300 + 5 * i);
        assert!(s.eta.learn(&done));
    }
    // Twenty sent two seconds apart: their first checks fall due over 40 s.
    for i in 0..20 {
        s.track(
            record(&format!("h{i}"), "queued", now),
            t0 + Duration::from_secs(2 * i),
        );
    }
    s
}

#[test]
fn when_most_speculative_checks_find_a_finish_the_other_tasks_are_asked_at_once() {
    let t0 = Instant::now();
    let now = now_secs();
    let mut s = by_id_with_long_history(t0);
    let last_due = s.tracked["h19"].due;
    assert!(last_due > t0 + Duration::from_secs(80), "{last_due:?}");
    // The first eight checks all find their task finished (a backlog drained at once).
    let at = s.tracked["h7"].due;
    for i in 0..8 {
        let mut done = record(&format!("h{i}"), "succeeded", now);
        done.finished_at = Some(now);
        s.finished(&format!("h{i}"), Ok((done, true)), at);
    }
    // (those due within a quarter interval anyway keep their time)
    let soon = at + Duration::from_secs_f64(s.targets().min_gap);
    for i in 8..20 {
        let due = s.tracked[&format!("h{i}")].due;
        assert!(due <= soon, "h{i} asked at once: {due:?} against {at:?}");
    }
    assert_eq!(s.tracked["h19"].due, at);

    // The same checks finding their tasks still queued: the plans stand.
    let mut s = by_id_with_long_history(t0);
    let (at, last_due) = (s.tracked["h7"].due, s.tracked["h19"].due);
    for i in 0..8 {
        let r = record(&format!("h{i}"), "queued", now);
        s.finished(&format!("h{i}"), Ok((r, false)), at);
    }
    assert_eq!(s.tracked["h19"].due, last_due);

    // Tasks past every remembered finish finding theirs do not pull forward the first checks
    // of tasks just sent: the two are counted apart.
    let mut s = by_id_with_long_history(t0);
    let last_due = s.tracked["h19"].due;
    for i in 0..8 {
        let id = format!("old{i}");
        let mut old = record(&id, "queued", now - 1000);
        old.updated_at = now - 1000; // stale: asked at once
        s.track(old.clone(), t0);
        old.updated_at = now;
        s.finished(&id, Ok((old.clone(), false)), t0);
        assert_eq!(s.tracked[&id].speculative, Some(Speculative::Overdue));
        // (failed: a failure teaches no duration, so the next one is as overdue)
        let mut done = record(&id, "failed", now - 1000);
        done.finished_at = Some(now);
        s.finished(&id, Ok((done, true)), t0 + Duration::from_secs(1));
    }
    assert_eq!(s.tracked["h19"].due, last_due);
    assert_eq!(s.tracked["h19"].speculative, Some(Speculative::Early));
}
