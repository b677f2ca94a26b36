//! The Ark client against the golden JSON of the API docs and against the simulator over real
//! loopback HTTP: every seed example accepted, create -> poll -> succeeded -> download for each
//! scenario, get's raw JSON, list and delete.

use seedance_tui::api::types::{CreateRequest, CreateResponse, ErrorBody, ListQuery, ListResponse};
use seedance_tui::api::validate::validate;
use seedance_tui::api::{ApiKey, ArkClient, ClientConfig, RetryPolicy, Task, TaskStatus};
use seedance_tui::file_download;
use seedance_tui::sim::{self, SimConfig, SimHandle};
use std::path::Path;
use std::time::Duration;

const KEY: &str = "sk-api-client-DISTINCTIVE-7f3a9c";

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

const REQUESTS: [&str; 3] = [
    "seed_request_text_to_video.json",
    "seed_request_first_last_frame.json",
    "seed_request_references.json",
];

async fn start_sim() -> SimHandle {
    let cfg = SimConfig {
        speed: 1000.0,
        fail_rate: 0.0,
        api_key: Some(KEY.to_string()),
        ..SimConfig::default()
    };
    sim::start("127.0.0.1:0".parse().unwrap(), cfg)
        .await
        .expect("the simulator starts")
}

fn client(base_url: String) -> ArkClient {
    let mut cfg = ClientConfig::new(base_url, Some(ApiKey::new(KEY)));
    cfg.timeout = Duration::from_secs(10);
    cfg.retry = RetryPolicy {
        max_retries: 2,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(100),
    };
    ArkClient::new(cfg).expect("client")
}

/// Poll until the task is terminal (a bounded poll loop, not a sleep-as-synchronisation).
async fn wait_terminal(client: &ArkClient, id: &str) -> (Task, String) {
    for _ in 0..1000 {
        let (task, raw) = client.get(id).await.expect("get task");
        if task.status.is_terminal() {
            return (task, raw);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("task {id} did not reach a terminal status");
}

#[test]
fn every_golden_response_parses() {
    let created: CreateResponse =
        serde_json::from_str(&fixture("seed_response_create.json")).unwrap();
    assert_eq!(created.id, "cgt-example-task-id");

    let t = Task::from_json(&fixture("seed_response_query_succeeded.json")).unwrap();
    assert_eq!(t.status, TaskStatus::Succeeded);
    assert_eq!(
        t.video_url(),
        Some("https://example.com/generated-video.mp4")
    );
    assert_eq!(
        t.last_frame_url(),
        Some("https://example.com/last-frame.jpeg")
    );
    assert_eq!(t.tokens(), Some(87300));

    let t = Task::from_json(&fixture("doc_task_succeeded.json")).unwrap();
    assert_eq!(t.framespersecond, Some(24));
    assert_eq!(t.tokens(), Some(108_900));
    assert!(t.video_url().unwrap().contains("X-Tos-Expires=86400"));

    let t = Task::from_json(&fixture("doc_task_failed.json")).unwrap();
    assert_eq!(t.status, TaskStatus::Failed);
    let (code, message) = t.failure().unwrap();
    assert_eq!(code, "OutputVideoSensitiveContentDetected.PolicyViolation");
    assert!(message.contains("Request id:"));
    assert!(t.content.is_none() && t.usage.is_none());

    let mut v: serde_json::Value =
        serde_json::from_str(&fixture("doc_list_response.json")).unwrap();
    seedance_tui::api::types::strip_nulls(&mut v);
    let list: ListResponse = serde_json::from_value(v).unwrap();
    assert_eq!(list.total, 2);
    assert_eq!(
        list.items[0].failure().unwrap().0,
        "OutputAudioSensitiveContentDetected"
    );
    assert_eq!(list.items[1].status, TaskStatus::Queued);

    let e: ErrorBody = serde_json::from_str(&fixture("doc_error_invalid_parameter.json")).unwrap();
    assert_eq!(e.error.param.as_deref(), Some("execution_expires_after"));
}

#[test]
fn every_seed_request_parses_validates_and_round_trips() {
    for name in REQUESTS {
        let text = fixture(name);
        let req = CreateRequest::from_json(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(validate(&req).is_empty(), "{name}: {:?}", validate(&req));
        let original: serde_json::Value = serde_json::from_str(&text).unwrap();
        let again: serde_json::Value = serde_json::from_str(&req.to_json()).unwrap();
        assert_eq!(original, again, "{name} round trip");
    }
}

#[tokio::test]
async fn the_simulator_accepts_every_seed_request_on_both_paths() {
    let sim = start_sim().await;
    for base in [sim.relay_base_url(), sim.base_url()] {
        let c = client(base);
        for name in REQUESTS {
            let created = c
                .create_raw(
                    &fixture(name),
                    &seedance_tui::api::client::new_client_request_id(),
                )
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(!created.id.is_empty());
        }
    }
    assert_eq!(sim.stats().creates, 6);
    sim.shutdown().await;
}

/// Create from a seed fixture with a forced success, poll to the end, download the video (and
/// the last frame when asked), and compare with the bytes the simulator serves.
async fn run_to_download(sim: &SimHandle, fixture_name: &str) {
    let c = client(sim.relay_base_url());
    let mut req = CreateRequest::from_json(&fixture(fixture_name)).unwrap();
    if let Some(seedance_tui::api::ContentItem::Text { text }) = req.content.first_mut() {
        text.push_str(" [[sim:succeed]]");
    }
    let created = c
        .create(&req, "test-client-request-id")
        .await
        .expect("create");
    let (task, raw) = wait_terminal(&c, &created.id).await;
    assert_eq!(task.status, TaskStatus::Succeeded, "{raw}");
    assert_eq!(task.id, created.id);
    assert_eq!(
        Task::from_json(&raw).unwrap(),
        task,
        "raw JSON is the answer as received"
    );
    let video = task
        .video_url()
        .expect("a succeeded task has content.video_url");

    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("out.mp4");
    let http = file_download::http_client();
    let mut calls = 0u32;
    let outcome = file_download::download(&http, video, &dest, |_, _| calls += 1)
        .await
        .expect("download");
    assert!(calls > 0, "progress was reported");
    let served = http.get(video).send().await.unwrap().bytes().await.unwrap();
    let saved = std::fs::read(&dest).unwrap();
    assert!(!saved.is_empty());
    assert_eq!(
        saved,
        served.to_vec(),
        "{fixture_name}: file identical to what the sim serves"
    );
    assert_eq!(outcome.bytes, saved.len() as u64);
    assert!(!file_download::part_path(&dest).exists());

    if req.return_last_frame == Some(true) {
        let frame = task
            .last_frame_url()
            .expect("return_last_frame gives last_frame_url");
        let png = dir.path().join("last.png");
        file_download::download(&http, frame, &png, |_, _| {})
            .await
            .expect("last frame");
        let served = http.get(frame).send().await.unwrap().bytes().await.unwrap();
        assert_eq!(std::fs::read(&png).unwrap(), served.to_vec());
    }
}

#[tokio::test]
async fn text_to_video_runs_to_a_downloaded_file() {
    let sim = start_sim().await;
    run_to_download(&sim, "seed_request_text_to_video.json").await;
    sim.shutdown().await;
}

#[tokio::test]
async fn first_and_last_frame_runs_to_a_downloaded_file() {
    let sim = start_sim().await;
    run_to_download(&sim, "seed_request_first_last_frame.json").await;
    sim.shutdown().await;
}

#[tokio::test]
async fn multimodal_references_run_to_a_downloaded_file() {
    let sim = start_sim().await;
    run_to_download(&sim, "seed_request_references.json").await;
    sim.shutdown().await;
}

#[tokio::test]
async fn a_forced_failure_is_reported_with_its_code() {
    let sim = start_sim().await;
    let c = client(sim.base_url());
    let mut req = CreateRequest::from_json(&fixture(REQUESTS[0])).unwrap();
    req.content[0] = seedance_tui::api::ContentItem::text("a cat [[sim:fail]]");
    let created = c.create(&req, "fail-1").await.expect("create");
    let (task, _) = wait_terminal(&c, &created.id).await;
    assert_eq!(task.status, TaskStatus::Failed);
    let (code, _) = task.failure().expect("a failed task says why");
    assert!(!code.is_empty());
    sim.shutdown().await;
}

#[tokio::test]
async fn list_filters_by_task_ids_on_the_official_path() {
    let sim = start_sim().await;
    let c = client(sim.base_url());
    let req = CreateRequest::from_json(&fixture(REQUESTS[0])).unwrap();
    let a = c.create(&req, "list-a").await.unwrap().id;
    let b = c.create(&req, "list-b").await.unwrap().id;
    let _other = c.create(&req, "list-c").await.unwrap().id;
    let query = ListQuery {
        task_ids: vec![a.clone(), b.clone()],
        page_size: Some(50),
        ..ListQuery::default()
    };
    let list = c.list_items(&query).await.expect("list");
    let mut ids: Vec<String> = list.items.iter().map(|(t, _)| t.id.clone()).collect();
    ids.sort();
    let mut want = vec![a, b];
    want.sort();
    assert_eq!(
        ids, want,
        "repeated filter.task_ids select exactly those tasks"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn delete_cancels_a_queued_task() {
    let sim = start_sim().await;
    let c = client(sim.base_url());
    let mut req = CreateRequest::from_json(&fixture(REQUESTS[0])).unwrap();
    req.content[0] = seedance_tui::api::ContentItem::text("hold me [[sim:hold]]");
    let id = c.create(&req, "del-1").await.unwrap().id;
    c.delete(&id).await.expect("delete a queued task");
    let (task, _) = c.get(&id).await.expect("get after cancel");
    assert_eq!(task.status, TaskStatus::Cancelled);
    assert_eq!(sim.stats().deletes, 1);
    sim.shutdown().await;
}
