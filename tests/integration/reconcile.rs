//! Uncertain creates reconciled with the server's list: a create whose answer was lost (the
//! server made the task, then answered 500) is found and adopted; one the server never made is
//! marked "not created" once its window has passed; one that matches several server tasks is
//! left to the user with the candidates. Never a second create.

use crate::support::engine::{KEY, start_sim};
use seedance_tui::api::{ApiKey, ArkClient, ClientConfig, RetryPolicy};
use seedance_tui::engine::Engine;
use seedance_tui::engine::reconcile::{NOT_CREATED, ReconcileWindow};
use seedance_tui::sim::{Fault, FaultKind, FaultRoute, SimConfig, SimHandle};
use seedance_tui::store::{Phase, Store, TaskRecord};
use std::time::{Duration, Instant};

const BODY: &str = r#"{"model":"doubao-seedance-2-0-fast-260128","content":[{"type":"text","text":"reconcile me [[sim:hold]]"}],"duration":5,"resolution":"720p"}"#;

/// A simulator on real time (so its `created_at` is this machine's clock) and an engine.
async fn setup() -> (SimHandle, tempfile::TempDir, Engine) {
    let sim = start_sim(SimConfig {
        speed: 1.0,
        fail_rate: 0.0,
        ..SimConfig::default()
    })
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cfg = ClientConfig::new(sim.base_url(), Some(ApiKey::new(KEY)));
    cfg.retry = RetryPolicy {
        max_retries: 0,
        ..RetryPolicy::default()
    };
    let engine = Engine::new(
        ArkClient::new(cfg).expect("client"),
        Store::open(&dir.path().join("s.db")).expect("store"),
        "test",
    );
    (sim, dir, engine)
}

/// Submit `BODY` with the create answered by `fault`: the row ends `submit_unknown`.
async fn uncertain_submit(sim: &SimHandle, engine: &Engine, fault: FaultKind) -> TaskRecord {
    sim.inject(Fault {
        route: FaultRoute::Create,
        kind: fault,
        times: 1,
    });
    let err = engine
        .submit(BODY.to_string(), None)
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

fn window() -> ReconcileWindow {
    ReconcileWindow {
        skew: Duration::from_secs(5),
        settle: Duration::ZERO,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_answer_is_found_and_the_row_adopts_the_task() {
    let (sim, _dir, engine) = setup().await;
    let row = uncertain_submit(&sim, &engine, FaultKind::StatusAfterProcessing(500)).await;
    let server = engine.client.list(&Default::default()).await.expect("list");
    assert_eq!(server.items.len(), 1, "the server did create it");
    let creates = sim.stats().creates;

    let report = engine.reconcile_unknown(window()).await.expect("reconcile");
    assert_eq!(report.adopted.len(), 1, "{report:?}");
    let adopted = engine.find(&row.local_id).await.expect("row");
    assert_eq!(
        adopted.task_id.as_deref(),
        Some(server.items[0].id.as_str())
    );
    assert!(adopted.phase.needs_polling(), "{:?}", adopted.phase);
    assert!(adopted.error_message.is_none());
    assert_eq!(sim.stats().creates, creates, "nothing was created again");

    // A second pass finds nothing left to do.
    let again = engine.reconcile_unknown(window()).await.expect("reconcile");
    assert!(again.adopted.is_empty() && again.not_created.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_the_server_never_made_is_marked_not_created_once_the_window_passed() {
    let (sim, _dir, engine) = setup().await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_matching_tasks_are_left_to_the_user_with_the_candidates() {
    let (sim, _dir, engine) = setup().await;
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
    let note = left.error_message.expect("the candidates are shown");
    assert!(note.contains(&other.id), "{note}");
    let server = engine.client.list(&Default::default()).await.expect("list");
    for t in &server.items {
        assert!(note.contains(&t.id), "{note} lacks {}", t.id);
    }
    assert_eq!(sim.stats().creates, creates, "nothing was created again");
}
