//! Uncertain creates reconciled with the server's list: a create whose answer was lost (the
//! server made the task, then answered 500) is found: adopted when the task echoes our request
//! id, else shown as "probable, not confirmed" until the user says `y`; one the server never made
//! is marked "not created" only once its window has passed over a complete, unfiltered scan of
//! both tiers; one that matches several server tasks is left to the user with the candidates
//! (in the detail pane, `get` and `ls --json`). The simulator follows the documented list
//! semantics (`filter.model` is the exact id the task was created with; no tier filter lists
//! `default` only). Never a second create. On SQLite and on PostgreSQL stores.

use crate::support::backend::{Backend, on_both_backends};
use crate::support::engine::{KEY, start_sim};
use seedance_tui::api::{ApiKey, ArkClient, ClientConfig, RetryPolicy};
use seedance_tui::engine::Engine;
use seedance_tui::engine::reconcile::{AMBIGUOUS, NOT_CREATED, PROBABLE, ReconcileWindow};
use seedance_tui::sim::{Fault, FaultKind, FaultRoute, SimConfig, SimHandle};
use seedance_tui::store::{Phase, TaskRecord};
use std::time::{Duration, Instant};

const BODY: &str = r#"{"model":"doubao-seedance-2-0-fast-260128","content":[{"type":"text","text":"reconcile me [[sim:hold]]"}],"duration":5,"resolution":"720p"}"#;

/// A simulator on real time (so its `created_at` is this machine's clock) and an engine on `b`.
async fn setup(b: &Backend) -> (SimHandle, Engine) {
    setup_with(b, SimConfig::default()).await
}

/// [`setup`] with more of the simulator's settings.
async fn setup_with(b: &Backend, cfg: SimConfig) -> (SimHandle, Engine) {
    let sim = start_sim(SimConfig {
        speed: 1.0,
        fail_rate: 0.0,
        ..cfg
    })
    .await;
    let mut cfg = ClientConfig::new(sim.base_url(), Some(ApiKey::new(KEY)));
    cfg.retry = RetryPolicy {
        max_retries: 0,
        ..RetryPolicy::default()
    };
    let engine = Engine::new(ArkClient::new(cfg).expect("client"), b.open(), "test");
    (sim, engine)
}

/// Submit `BODY` with the create answered by `fault`: the row ends `submit_unknown`.
async fn uncertain_submit(sim: &SimHandle, engine: &Engine, fault: FaultKind) -> TaskRecord {
    uncertain_submit_of(sim, engine, fault, BODY).await
}

/// Submit `body` with the create answered by `fault`: the row ends `submit_unknown`.
async fn uncertain_submit_of(
    sim: &SimHandle,
    engine: &Engine,
    fault: FaultKind,
    body: &str,
) -> TaskRecord {
    sim.inject(Fault {
        route: FaultRoute::Create,
        kind: fault,
        times: 1,
    });
    let err = engine
        .submit(body.to_string(), None)
        .await
        .expect_err("the create fails");
    assert!(err.outcome_unknown(), "{err}");
    let row = engine.find(&err_local_id(&err)).await.expect("row");
    assert_eq!(row.phase, Phase::SubmitUnknown);
    row
}

fn err_local_id(err: &seedance_tui::engine::SubmitError) -> String {
    match err {
        seedance_tui::engine::SubmitError::Api { record, .. } => record.local_id.clone(),
        other => panic!("unexpected error {other}"),
    }
}

on_both_backends!(
    async a_lost_answer_is_found_and_the_row_adopts_the_task_that_echoes_its_request_id,
    async a_create_the_server_never_made_is_marked_not_created_once_the_window_passed,
    async several_matching_tasks_are_left_to_the_user_with_the_candidates,
    async a_flex_task_is_found_whichever_id_it_was_created_with,
    async a_server_clock_five_minutes_off_does_not_hide_the_task,
    async items_without_created_at_never_conclude_not_created,
    async another_clients_task_is_never_adopted_without_the_users_yes,
    async a_line_left_by_a_killed_sender_is_reconciled_like_any_uncertain_create,
);

fn window() -> ReconcileWindow {
    ReconcileWindow {
        skew: Duration::from_secs(5),
        settle: Duration::ZERO,
    }
}

async fn a_lost_answer_is_found_and_the_row_adopts_the_task_that_echoes_its_request_id(
    b: &Backend,
) {
    let (sim, engine) = setup_with(
        b,
        SimConfig {
            echo_client_request_id: true,
            ..SimConfig::default()
        },
    )
    .await;
    let row = uncertain_submit(&sim, &engine, FaultKind::StatusAfterProcessing(500)).await;
    let server = engine
        .client
        .list_items(&Default::default())
        .await
        .expect("list");
    assert_eq!(server.items.len(), 1, "the server did create it");
    let creates = sim.stats().creates;

    let report = engine.reconcile_unknown(window()).await.expect("reconcile");
    assert_eq!(report.adopted.len(), 1, "{report:?}");
    let adopted = engine.find(&row.local_id).await.expect("row");
    assert_eq!(
        adopted.task_id.as_deref(),
        Some(server.items[0].0.id.as_str())
    );
    assert!(adopted.phase.needs_polling(), "{:?}", adopted.phase);
    assert!(adopted.error_message.is_none());
    assert_eq!(sim.stats().creates, creates, "nothing was created again");

    // A second pass finds nothing left to do.
    let again = engine.reconcile_unknown(window()).await.expect("reconcile");
    assert!(again.adopted.is_empty() && again.not_created.is_empty());
}

async fn a_create_the_server_never_made_is_marked_not_created_once_the_window_passed(b: &Backend) {
    let (sim, engine) = setup(b).await;
    let row = uncertain_submit(&sim, &engine, FaultKind::Status(500)).await;
    let creates = sim.stats().creates;
    // Within its window, absence proves nothing yet.
    let wide = ReconcileWindow {
        skew: Duration::from_secs(600),
        settle: Duration::ZERO,
    };
    let early = engine.reconcile_unknown(wide).await.expect("reconcile");
    assert!(early.not_created.is_empty(), "{early:?}");
    assert_eq!(
        engine.find(&row.local_id).await.expect("row").phase,
        Phase::SubmitUnknown
    );
    // Once the (narrow) window has passed: not created, safe to retry.
    let deadline = Instant::now() + Duration::from_secs(20);
    let report = loop {
        let r = engine.reconcile_unknown(window()).await.expect("reconcile");
        if !r.not_created.is_empty() || Instant::now() > deadline {
            break r;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(report.not_created, vec![row.local_id.clone()]);
    let marked = engine.find(&row.local_id).await.expect("row");
    assert_eq!(marked.phase, Phase::Rejected);
    assert_eq!(marked.error_code.as_deref(), Some(NOT_CREATED));
    assert!(
        marked
            .error_message
            .as_deref()
            .is_some_and(|m| m.contains("not created on the server")),
        "{marked:?}"
    );
    assert_eq!(sim.stats().creates, creates, "nothing was created again");
}

async fn several_matching_tasks_are_left_to_the_user_with_the_candidates(b: &Backend) {
    let (sim, engine) = setup(b).await;
    let row = uncertain_submit(&sim, &engine, FaultKind::StatusAfterProcessing(500)).await;
    // The same request created again outside this store (another machine, a script).
    let other = engine
        .client
        .create_raw(BODY, "elsewhere-1")
        .await
        .expect("create");
    let creates = sim.stats().creates;

    let report = engine.reconcile_unknown(window()).await.expect("reconcile");
    assert_eq!(report.ambiguous, vec![row.local_id.clone()], "{report:?}");
    assert!(report.adopted.is_empty());
    let left = engine.find(&row.local_id).await.expect("row");
    assert_eq!(left.phase, Phase::SubmitUnknown, "still the user's call");
    assert!(left.task_id.is_none());
    let note = left
        .error_message
        .clone()
        .expect("the candidates are shown");
    assert!(note.contains(&other.id), "{note}");
    let server = engine
        .client
        .list_items(&Default::default())
        .await
        .expect("list");
    for (t, _) in &server.items {
        assert!(note.contains(&t.id), "{note} lacks {}", t.id);
    }
    assert_eq!(sim.stats().creates, creates, "nothing was created again");
    // Not only in the dashboard: `get` and `ls --json` show the candidates too.
    assert_eq!(left.error_code.as_deref(), Some(AMBIGUOUS));
    let get = seedance_tui::cli::task_json::record_json(&left).to_string();
    let mut ls = Vec::new();
    seedance_tui::cli::task_json::write_record(&mut ls, &mut Vec::new(), &left);
    let ls = String::from_utf8(ls).expect("utf8");
    for (t, _) in &server.items {
        assert!(get.contains(&t.id), "get lacks {}: {get}", t.id);
        assert!(ls.contains(&t.id), "ls --json lacks {}: {ls}", t.id);
    }
}

/// Reconcile with `window` until a pass concludes something about a row (or `limit` passes).
async fn reconcile_until_verdict(
    engine: &Engine,
    window: ReconcileWindow,
    limit: Duration,
) -> seedance_tui::engine::reconcile::ReconcileReport {
    let deadline = Instant::now() + limit;
    loop {
        let r = engine.reconcile_unknown(window).await.expect("reconcile");
        let decided = !(r.adopted.is_empty()
            && r.not_created.is_empty()
            && r.ambiguous.is_empty()
            && r.probable.is_empty());
        if decided || Instant::now() > deadline {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The row was found (as a probable match naming `task_id`), never called "not created".
async fn assert_found_never_not_created(
    engine: &Engine,
    row: &TaskRecord,
    report: &seedance_tui::engine::reconcile::ReconcileReport,
    task_id: &str,
) {
    assert!(report.not_created.is_empty(), "{report:?}");
    assert_eq!(report.probable, vec![row.local_id.clone()], "{report:?}");
    let left = engine.find(&row.local_id).await.expect("row");
    assert_eq!(left.phase, Phase::SubmitUnknown, "{left:?}");
    assert_ne!(left.error_code.as_deref(), Some(NOT_CREATED));
    assert_eq!(left.error_code.as_deref(), Some(PROBABLE));
    let note = left.error_message.unwrap_or_default();
    assert!(note.contains(task_id), "{note}");
    assert!(!note.contains("safe to retry"), "{note}");
}

/// The official list: `filter.model` is the endpoint id a task used and an unset tier lists
/// `default` only. A flex task created with an `ep-` id, and one created with a model id, are
/// both found by the scan of every tier without a model filter.
async fn a_flex_task_is_found_whichever_id_it_was_created_with(b: &Backend) {
    for model in ["ep-20261201000000-abcde", "doubao-seedance-1-0-pro-250528"] {
        // A store of its own per model (kept until the end of the round).
        let store = b.fresh(model);
        let (sim, engine) = setup(&store).await;
        let body = format!(
            r#"{{"model":"{model}","content":[{{"type":"text","text":"offline [[sim:hold]]"}}],"duration":5,"resolution":"720p","service_tier":"flex"}}"#
        );
        let row =
            uncertain_submit_of(&sim, &engine, FaultKind::StatusAfterProcessing(500), &body).await;
        // The documented semantics: a list without a tier does not show it.
        let unfiltered = engine
            .client
            .list_items(&Default::default())
            .await
            .expect("list");
        assert!(unfiltered.items.is_empty(), "{model}: {unfiltered:?}");
        let flex = engine
            .client
            .list_items(&seedance_tui::api::types::ListQuery {
                service_tier: Some("flex".into()),
                ..Default::default()
            })
            .await
            .expect("list");
        assert_eq!(flex.items.len(), 1, "{model}");
        let creates = sim.stats().creates;
        let report = reconcile_until_verdict(&engine, window(), Duration::from_secs(20)).await;
        assert_found_never_not_created(&engine, &row, &report, &flex.items[0].0.id).await;
        assert_eq!(sim.stats().creates, creates, "nothing was created again");
    }
}

/// The server's clock is 5 minutes ahead of ours: the skew measured from its `Date` widens the
/// window, so the task is found instead of called "not created".
async fn a_server_clock_five_minutes_off_does_not_hide_the_task(b: &Backend) {
    let (sim, engine) = setup(b).await;
    sim.advance(Duration::from_secs(300));
    let row = uncertain_submit(&sim, &engine, FaultKind::StatusAfterProcessing(500)).await;
    let server = engine
        .client
        .list_items(&Default::default())
        .await
        .expect("list");
    assert_eq!(server.items.len(), 1);
    let report = reconcile_until_verdict(&engine, window(), Duration::from_secs(20)).await;
    assert_found_never_not_created(&engine, &row, &report, &server.items[0].0.id).await;
    let skew = report.measured_skew.expect("the Date header was read");
    assert!((295..=305).contains(&skew), "{skew}");
}

/// List items without `created_at` could be in the window: never "not created" over them.
async fn items_without_created_at_never_conclude_not_created(b: &Backend) {
    use seedance_tui::api::trace::Exchange;
    let base = "/api/v3/contents/generations/tasks";
    let answer = |method: &str, status: u16, body: &str| Exchange {
        time: String::new(),
        method: method.into(),
        path: base.into(),
        status,
        request_headers: vec![],
        request_body: None,
        response_headers: vec![("content-type".into(), "application/json".into())],
        response_body: Some(body.into()),
        truncated: false,
        elapsed_ms: 0,
        error: None,
    };
    let listed = r#"{"total":1,"items":[{"id":"cgt-20261201000000-nodat","model":"doubao-seedance-2-0-fast-260128","status":"queued","resolution":"720p","duration":5}]}"#;
    let server = seedance_tui::sim::replay::start(
        "127.0.0.1:0".parse().expect("addr"),
        vec![
            answer(
                "POST",
                500,
                r#"{"error":{"code":"InternalServiceError","message":"try later","type":"InternalServerError"}}"#,
            ),
            answer("GET", 200, listed),
        ],
    )
    .await
    .expect("replay");
    let mut cfg = ClientConfig::new(server.base_url(), Some(ApiKey::new(KEY)));
    cfg.retry = RetryPolicy {
        max_retries: 0,
        ..RetryPolicy::default()
    };
    let engine = Engine::new(ArkClient::new(cfg).expect("client"), b.open(), "test");
    let err = engine
        .submit(BODY.to_string(), None)
        .await
        .expect_err("the create fails");
    assert!(err.outcome_unknown(), "{err}");
    let row = engine.find(&err_local_id(&err)).await.expect("row");
    let report = reconcile_until_verdict(&engine, window(), Duration::from_secs(20)).await;
    assert_found_never_not_created(&engine, &row, &report, "cgt-20261201000000-nodat").await;
    server.shutdown().await;
}

/// A create that never reached the service (a proxy's 502) while another client made a task
/// with the same parameters: that task is only "probable, not confirmed" and is adopted only on
/// the user's `y`; with a server that echoes request ids, it is not a candidate at all.
async fn another_clients_task_is_never_adopted_without_the_users_yes(b: &Backend) {
    let (sim, engine) = setup(b).await;
    let row = uncertain_submit(&sim, &engine, FaultKind::Status(502)).await;
    let other = engine
        .client
        .create_raw(BODY, "another-client-1")
        .await
        .expect("create");
    let report = reconcile_until_verdict(&engine, window(), Duration::from_secs(20)).await;
    assert!(report.adopted.is_empty(), "{report:?}");
    assert_found_never_not_created(&engine, &row, &report, &other.id).await;
    let left = engine.find(&row.local_id).await.expect("row");
    assert!(left.task_id.is_none(), "not adopted without the user's y");
    assert!(
        left.error_message
            .as_deref()
            .is_some_and(|m| m.contains("probable, not confirmed")),
        "{left:?}"
    );
    // The user's `y` (`seedance-tui adopt`): then it is the row's.
    let adopted = engine
        .adopt_confirmed(&row.local_id, &other.id)
        .await
        .expect("adopt");
    assert_eq!(adopted.task_id.as_deref(), Some(other.id.as_str()));
    assert!(adopted.phase.needs_polling(), "{:?}", adopted.phase);
    assert!(
        engine
            .adopt_confirmed(&row.local_id, &other.id)
            .await
            .is_err(),
        "a row adopts once"
    );

    // A server that echoes the request id: the other client's task is not ours at all.
    let (sim, engine) = setup_with(
        b,
        SimConfig {
            echo_client_request_id: true,
            ..SimConfig::default()
        },
    )
    .await;
    let row = uncertain_submit(&sim, &engine, FaultKind::Status(502)).await;
    engine
        .client
        .create_raw(BODY, "another-client-2")
        .await
        .expect("create");
    let report = reconcile_until_verdict(&engine, window(), Duration::from_secs(20)).await;
    assert!(
        report.adopted.is_empty() && report.probable.is_empty(),
        "{report:?}"
    );
    assert_eq!(report.not_created, vec![row.local_id.clone()], "{report:?}");
}

/// A batch line whose sender was killed after the POST (a `submitting` row, then marked
/// `submit_unknown` as the poller does with stale ones) goes through the same reconciliation: its
/// local id went out as `X-Client-Request-Id`, so the task that echoes it is adopted.
async fn a_line_left_by_a_killed_sender_is_reconciled_like_any_uncertain_create(b: &Backend) {
    let (sim, engine) = setup_with(
        b,
        SimConfig {
            echo_client_request_id: true,
            ..SimConfig::default()
        },
    )
    .await;
    let store = b.open();
    let now = chrono::Utc::now().timestamp();
    store
        .begin_submission(&seedance_tui::store::NewSubmission {
            local_id: "batch-line-7",
            profile: "test",
            request_json: BODY,
            retry_of: None,
            now,
            asset_files: None,
        })
        .expect("the row is written before the POST");
    // The killed sender's POST reached the server; its answer was never read.
    let made = engine
        .client
        .create_raw(BODY, "batch-line-7")
        .await
        .expect("create");
    store
        .submission_unknown("batch-line-7", "the sender stopped", now)
        .expect("marked");
    let creates = sim.stats().creates;
    let report = engine.reconcile_unknown(window()).await.expect("reconcile");
    assert_eq!(report.adopted.len(), 1, "{report:?}");
    let row = engine.find("batch-line-7").await.expect("row");
    assert_eq!(row.task_id.as_deref(), Some(made.id.as_str()));
    assert!(row.phase.needs_polling(), "{:?}", row.phase);
    assert_eq!(sim.stats().creates, creates, "nothing was created again");
}
