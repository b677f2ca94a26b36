//! The base-URL probe and the create against the catalogue of answer shapes in
//! `tests/fixtures/traces/` (each a trace served by the replay server over loopback), and a trace
//! written by the client replayed as the same answers. A create is recorded on SQLite and on
//! PostgreSQL alike.

use crate::support::backend::{Backend, on_both_backends};
use seedance_tui::api::client::ProbeVerdict;
use seedance_tui::api::trace::{self, Trace};
use seedance_tui::api::{ApiKey, ArkClient, ClientConfig, RetryPolicy};
use seedance_tui::engine::Engine;
use seedance_tui::sim::replay;
use std::path::PathBuf;
use std::sync::Arc;

const TASK_ID: &str = "cgt-20261201100000-r3l4y";
const KEY: &str = "sk-shapes-test-77aa1";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/traces")
        .join(format!("{name}.jsonl"))
}

async fn serve(name: &str) -> replay::ReplayHandle {
    let exchanges = trace::read(&fixture(name)).expect("the fixture reads");
    replay::start("127.0.0.1:0".parse().expect("addr"), exchanges)
        .await
        .expect("replay starts")
}

fn client(base: String, trace: Option<Arc<Trace>>) -> ArkClient {
    let mut cfg = ClientConfig::new(base, Some(ApiKey::new(KEY)));
    cfg.retry = RetryPolicy {
        max_retries: 0,
        ..RetryPolicy::default()
    };
    cfg.trace = trace;
    ArkClient::new(cfg).expect("client")
}

/// What the probe concludes of each shape.
#[tokio::test]
async fn the_probe_refuses_only_on_evidence_of_a_wrong_url() {
    for (name, want) in [
        ("ark_error", "ok"),
        ("openai_error", "ok"),
        ("relay_task_error", "unknown 400"),
        ("message_only_500", "unknown 500"),
        ("code_msg_data", "unknown 200"),
        ("html_page", "wrong"),
        ("text_not_found", "wrong"),
        ("redirect", "wrong"),
        ("gateway_502", "trouble"),
    ] {
        let server = serve(name).await;
        let verdict = client(server.base_url(), None).probe().await.verdict;
        let got = match &verdict {
            ProbeVerdict::Ok => "ok".to_string(),
            ProbeVerdict::UnknownShape { status, .. } => format!("unknown {status}"),
            ProbeVerdict::WrongUrl(_) => "wrong".into(),
            ProbeVerdict::ServerTrouble(_) => "trouble".into(),
            other => format!("{other:?}"),
        };
        assert_eq!(got, want, "{name}: {verdict:?}");
        assert_eq!(
            verdict.url_is_right(),
            want == "ok" || want.starts_with("unknown"),
            "{name}"
        );
        if let ProbeVerdict::UnknownShape { first_line, .. } = &verdict {
            assert!(first_line.starts_with('{'), "{name}: {first_line}");
            assert!(
                verdict
                    .shape_warning()
                    .is_some_and(|w| w.contains("answered JSON of a shape we do not know")),
                "{name}"
            );
        }
        server.shutdown().await;
    }
}

on_both_backends!(async a_create_goes_through_every_api_like_shape);

/// Through every API-like shape, a create is sent once and recorded with the server's id (each
/// shape on a fresh store of the backend).
async fn a_create_goes_through_every_api_like_shape(b: &Backend) {
    for name in [
        "ark_error",
        "openai_error",
        "relay_task_error",
        "message_only_500",
        "code_msg_data",
    ] {
        let server = serve(name).await;
        let store = b.fresh(name);
        let engine = Engine::new(client(server.base_url(), None), store.open(), "test");
        assert!(engine.client.probe().await.verdict.url_is_right(), "{name}");
        let body = r#"{"model":"doubao-seedance-2-0-fast-260128","content":[{"type":"text","text":"apple tea"}]}"#;
        let record = engine
            .submit(body.to_string(), None)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(record.task_id.as_deref(), Some(TASK_ID), "{name}");
        let kept = store.open().find(&record.local_id).expect("the row");
        assert_eq!(kept.task_id.as_deref(), Some(TASK_ID), "{name}: stored");
        server.shutdown().await;
    }
}

/// A trace the client writes against the simulator, replayed: the same answers, ids and all,
/// and never the key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trace_of_the_simulator_replays_as_the_same_answers() {
    let sim = seedance_tui::sim::start(
        "127.0.0.1:0".parse().expect("addr"),
        seedance_tui::sim::SimConfig {
            api_key: Some(KEY.into()),
            speed: 2000.0,
            fail_rate: 0.0,
            ..Default::default()
        },
    )
    .await
    .expect("sim");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("trace.jsonl");
    let traced = client(
        sim.relay_base_url(),
        Some(Arc::new(Trace::open(&path).expect("trace"))),
    );
    let probe = traced.probe().await;
    let body =
        r#"{"model":"doubao-seedance-2-0-fast-260128","content":[{"type":"text","text":"a fox"}]}"#;
    let created = traced.create_raw(body, "local-1").await.expect("create");
    let (task, _) = traced.get(&created.id).await.expect("get");
    let missing = traced
        .get("cgt-20990101000000-zzzzz")
        .await
        .expect_err("no such task");
    sim.shutdown().await;

    let text = std::fs::read_to_string(&path).expect("trace");
    assert!(!text.contains(KEY), "the key never reaches the trace");
    assert!(!text.to_ascii_lowercase().contains("authorization"));
    let exchanges = trace::read(&path).expect("it reads back");
    assert_eq!(exchanges.len(), 4, "{text}");
    assert_eq!(exchanges[1].method, "POST");
    assert_eq!(exchanges[1].request_body.as_deref(), Some(body));

    let server = replay::start("127.0.0.1:0".parse().expect("addr"), exchanges)
        .await
        .expect("replay");
    assert!(
        server.base_url().ends_with("/seedance/api/v3"),
        "{}",
        server.base_url()
    );
    let again = client(server.base_url(), None);
    assert_eq!(again.probe().await.verdict, probe.verdict);
    let created_again = again.create_raw(body, "local-2").await.expect("create");
    assert_eq!(created_again.id, created.id);
    let (task_again, _) = again.get(&created.id).await.expect("get");
    assert_eq!(task_again, task);
    // Another id of the same shape answers the recorded task, its id rewritten.
    let (other, _) = again.get("cgt-20990101000000-other").await.expect("get");
    assert_eq!(other.id, "cgt-20990101000000-other");
    assert_eq!(other.status, task.status);
    let missing_again = again
        .get("cgt-20990101000000-zzzzz")
        .await
        .expect_err("no such task");
    assert_eq!(missing_again.to_string(), missing.to_string());
    server.shutdown().await;
}
