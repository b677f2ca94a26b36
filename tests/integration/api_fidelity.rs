//! The official API's rules over loopback HTTP: the simulator behaves like the service (defaults,
//! tokens by the official formula, record retention, error codes and params, callbacks), and
//! endpoint ids run on the official path but not through the relay. The CLI side (`submit
//! --dry-run` with `ep-` ids and the full seed range) is in `tests/e2e/cli.rs`.

use axum::http::StatusCode;
use seedance_tui::api::models;
use seedance_tui::api::{ApiError, ApiKey, ArkClient, ClientConfig, RetryPolicy};
use seedance_tui::sim::{self, Fault, FaultKind, FaultRoute, SimConfig, SimHandle};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const FAST: &str = "doubao-seedance-2-0-fast-260128";
const MINI: &str = "doubao-seedance-2-0-mini-260615";

async fn start(speed: f64) -> SimHandle {
    let cfg = SimConfig {
        speed,
        fail_rate: 0.0,
        ..SimConfig::default()
    };
    sim::start("127.0.0.1:0".parse().unwrap(), cfg)
        .await
        .expect("sim starts")
}

fn client(base: String) -> ArkClient {
    let mut c = ClientConfig::new(base, Some(ApiKey::new("sk-fidelity-test")));
    c.timeout = Duration::from_secs(10);
    c.retry = RetryPolicy {
        max_retries: 0,
        ..RetryPolicy::default()
    };
    ArkClient::new(c).expect("client")
}

async fn create(c: &ArkClient, body: Value) -> Result<String, ApiError> {
    c.create_raw(&body.to_string(), "fidelity")
        .await
        .map(|r| r.id)
}

async fn get(c: &ArkClient, id: &str) -> Result<Value, ApiError> {
    c.get(id)
        .await
        .map(|(_, raw)| serde_json::from_str(&raw).expect("task JSON"))
}

/// Poll until the task is finished (deadline 30 s).
async fn finished(c: &ArkClient, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let t = get(c, id).await.expect("get");
        if ["succeeded", "failed", "expired"].contains(&t["status"].as_str().unwrap_or("")) {
            return t;
        }
        assert!(Instant::now() < deadline, "task {id} never finished: {t}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn the_mini_model_runs_and_its_tokens_follow_the_official_formula() {
    let sim = start(2000.0).await;
    let c = client(sim.base_url());
    // No duration: the service's default, 5 s.
    let id = create(
        &c,
        json!({"model": MINI, "content": [{"type": "text", "text": "tea [[sim:succeed]]"}],
               "ratio": "1:1", "resolution": "720p"}),
    )
    .await
    .expect("the mini model is accepted");
    let t = finished(&c, &id).await;
    assert_eq!(t["status"], "succeeded", "{t}");
    assert_eq!(t["duration"], 5, "no duration means 5 s");
    // 720p 1:1 on 2.0 is 960x960 (the official table), 5 s is 121 frames.
    let expected = 960 * 960 * 121 / 1024;
    assert_eq!(t["usage"]["completion_tokens"], expected, "{t}");
    assert_eq!(t["usage"]["total_tokens"], expected);
    // The client's estimate for the same request is the same number.
    let req = seedance_tui::api::CreateRequest::from_value(json!({"model": MINI,
        "content": [{"type": "text", "text": "tea"}], "ratio": "1:1", "resolution": "720p"}))
    .unwrap();
    assert_eq!(models::estimate_request_tokens(&req), expected as u64);
    sim.shutdown().await;
}

#[tokio::test]
async fn records_leave_after_seven_days_and_cancelled_ones_after_a_day() {
    let sim = start(1.0).await;
    let c = client(sim.base_url());
    let done = create(
        &c,
        json!({"model": FAST, "content": [{"type": "text", "text": "x [[sim:succeed]]"}]}),
    )
    .await
    .unwrap();
    let held = create(
        &c,
        json!({"model": FAST, "content": [{"type": "text", "text": "y [[sim:hold]]"}]}),
    )
    .await
    .unwrap();
    c.delete(&held).await.expect("a queued task is cancelled");
    sim.advance(Duration::from_secs(23 * 3600));
    assert_eq!(get(&c, &held).await.unwrap()["status"], "cancelled");
    sim.advance(Duration::from_secs(3600));
    assert!(
        matches!(get(&c, &held).await, Err(ApiError::NotFound { .. })),
        "a cancelled record is gone after 24 h"
    );
    assert_eq!(get(&c, &done).await.unwrap()["status"], "succeeded");
    sim.advance(Duration::from_secs(6 * 86_400));
    assert!(
        matches!(get(&c, &done).await, Err(ApiError::NotFound { .. })),
        "every record is gone after 7 days"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn error_codes_are_spelled_as_the_service_spells_them() {
    let sim = start(1.0).await;
    let c = client(sim.base_url());
    let text = json!([{"type": "text", "text": "x"}]);

    // A type error names the field; what is missing is MissingParameter, what is wrong
    // InvalidParameter.
    let err = create(&c, json!({"model": FAST, "content": text, "duration": "5"}))
        .await
        .expect_err("a string duration");
    assert_eq!(
        (err.code(), err.param()),
        (Some("InvalidParameter"), Some("duration"))
    );
    let err = create(
        &c,
        json!({"model": FAST, "content": [{"type": "image_url", "role": "first_frame"}]}),
    )
    .await
    .expect_err("no image_url payload");
    assert_eq!(
        (err.code(), err.param()),
        (Some("MissingParameter"), Some("content[0].image_url"))
    );
    let err = create(&c, json!({"model": FAST}))
        .await
        .expect_err("no content");
    assert_eq!(
        (err.code(), err.param()),
        (Some("MissingParameter"), Some("content"))
    );
    let err = create(
        &c,
        json!({"model": FAST, "content": text, "seed": 2_147_483_648i64}),
    )
    .await
    .expect_err("seed over 2^31-1");
    assert_eq!(
        (err.code(), err.param()),
        (Some("InvalidParameter"), Some("seed"))
    );
    create(
        &c,
        json!({"model": FAST, "content": text, "seed": 2_147_483_647i64}),
    )
    .await
    .expect("the largest seed is accepted");

    // An injected 403 is AccessDenied.
    sim.inject(Fault {
        route: FaultRoute::Get,
        kind: FaultKind::Status(403),
        times: 1,
    });
    let err = get(&c, "cgt-x").await.expect_err("403");
    assert!(matches!(err, ApiError::Auth { status: 403, .. }), "{err:?}");
    assert_eq!(err.code(), Some("AccessDenied"));
    sim.shutdown().await;

    // The rate limit: RateLimitExceeded.EndpointRPMExceeded.
    let limited = sim::start(
        "127.0.0.1:0".parse().unwrap(),
        SimConfig {
            rate_limit: Some(1),
            ..SimConfig::default()
        },
    )
    .await
    .unwrap();
    let c = client(limited.base_url());
    let mut seen = None;
    for _ in 0..5 {
        if let Err(e) = get(&c, "cgt-none").await
            && let ApiError::RateLimited { code, .. } = e
        {
            seen = Some(code);
            break;
        }
    }
    assert_eq!(
        seen.as_deref(),
        Some("RateLimitExceeded.EndpointRPMExceeded")
    );
    limited.shutdown().await;
}

#[tokio::test]
async fn endpoint_ids_run_on_the_official_path_and_not_through_the_relay() {
    let sim = start(2000.0).await;
    let body = json!({"model": "ep-20260101000000-abcde",
        "content": [{"type": "text", "text": "x [[sim:succeed]]"}]});
    let official = client(sim.base_url());
    let id = create(&official, body.clone())
        .await
        .expect("official: accepted");
    assert_eq!(finished(&official, &id).await["status"], "succeeded");
    let relay = client(sim.relay_base_url());
    let err = create(&relay, body).await.expect_err("relay: refused");
    assert_eq!(err.param(), Some("model"), "{err:?}");
    sim.shutdown().await;
}

/// The official SDK sends `{}` with a DELETE, and its body may arrive after the head. The answer
/// waits for it, so the connection stays open for the SDK's next request: answered before the
/// body, the server closes the connection and the next request on it finds it gone.
#[tokio::test]
async fn a_delete_s_late_body_is_read_and_the_connection_serves_the_next_request() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let sim = start(1.0).await;
    let c = client(sim.base_url());
    let id = create(
        &c,
        json!({"model": FAST, "content": [{"type": "text", "text": "z [[sim:hold]]"}]}),
    )
    .await
    .expect("created");
    let mut sock = tokio::net::TcpStream::connect(sim.addr)
        .await
        .expect("connect");
    let path = format!("/api/v3/contents/generations/tasks/{id}");
    let head = format!(
        "DELETE {path} HTTP/1.1\r\nHost: sim\r\nAuthorization: Bearer k\r\n\
         Content-Type: application/json\r\nContent-Length: 2\r\n\r\n"
    );
    sock.write_all(head.as_bytes()).await.expect("head");
    let mut early = [0u8; 64];
    let answered_early =
        tokio::time::timeout(Duration::from_millis(300), sock.read(&mut early)).await;
    assert!(
        answered_early.is_err(),
        "the DELETE was answered before its body arrived: {:?}",
        answered_early.map(|r| r.map(|n| String::from_utf8_lossy(&early[..n]).into_owned()))
    );
    let next = format!(
        "{{}}GET {path} HTTP/1.1\r\nHost: sim\r\nAuthorization: Bearer k\r\n\
         Connection: close\r\n\r\n"
    );
    sock.write_all(next.as_bytes())
        .await
        .expect("body and the next request");
    let mut answers = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), sock.read_to_end(&mut answers))
        .await
        .expect("both answers within 10 s")
        .expect("read");
    let answers = String::from_utf8_lossy(&answers);
    assert_eq!(
        answers.matches("HTTP/1.1 200 OK").count(),
        2,
        "the DELETE and the GET on one connection: {answers}"
    );
    assert!(answers.contains("\"cancelled\""), "{answers}");
    sim.shutdown().await;
}

/// A loopback receiver that records every callback body and answers with the statuses in
/// `answers` (then 200).
async fn receiver(answers: Vec<u16>) -> (String, Arc<Mutex<Vec<Value>>>) {
    let seen: Arc<Mutex<Vec<Value>>> = Arc::default();
    let answers = Arc::new(Mutex::new(answers));
    let (s, a) = (seen.clone(), answers.clone());
    let app = axum::Router::new().route(
        "/cb",
        axum::routing::post(move |body: axum::body::Bytes| {
            let (s, a) = (s.clone(), a.clone());
            async move {
                let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                s.lock().unwrap().push(v);
                let mut a = a.lock().unwrap();
                let code = if a.is_empty() { 200 } else { a.remove(0) };
                StatusCode::from_u16(code).unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/cb"), seen)
}

#[tokio::test]
async fn callbacks_post_each_status_change_and_retry_until_acknowledged() {
    let sim = start(2000.0).await;
    let c = client(sim.base_url());
    // queued and running are acknowledged; succeeded is refused twice, then acknowledged.
    let (url, seen) = receiver(vec![200, 200, 500, 503]).await;
    let id = create(
        &c,
        json!({"model": FAST, "content": [{"type": "text", "text": "x [[sim:succeed]]"}],
               "callback_url": url}),
    )
    .await
    .expect("a loopback callback is accepted");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let statuses: Vec<String> = seen
            .lock()
            .unwrap()
            .iter()
            .map(|v| v["status"].as_str().unwrap_or("").to_string())
            .collect();
        if statuses.len() >= 5 {
            assert_eq!(
                statuses,
                ["queued", "running", "succeeded", "succeeded", "succeeded"],
                "each change once, the unacknowledged one again"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "callbacks never all arrived: {statuses:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let last = seen.lock().unwrap().last().cloned().unwrap();
    assert_eq!(last["id"], id.as_str(), "the body is the task object");
    assert!(last["content"]["video_url"].is_string(), "{last}");
    assert!(last["usage"]["total_tokens"].is_u64(), "{last}");
    // The receiver records a body before it answers, and the simulator counts the callback once
    // the answer is back: wait for the count of the fifth.
    let mut stats = sim.stats();
    while stats.callbacks < 5 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
        stats = sim.stats();
    }
    assert_eq!((stats.callbacks, stats.callbacks_unacknowledged), (5, 2));

    // A callback host that is not loopback is refused, saying why.
    let err = create(
        &c,
        json!({"model": FAST, "content": [{"type": "text", "text": "x"}],
               "callback_url": "https://hooks.example.com/seedance"}),
    )
    .await
    .expect_err("not loopback");
    assert_eq!(err.param(), Some("callback_url"));
    assert!(err.to_string().contains("loopback"), "{err}");
    sim.shutdown().await;
}
