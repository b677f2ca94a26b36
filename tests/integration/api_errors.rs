//! Error classification and retries of the Ark client against the simulator's faults over real
//! loopback HTTP: each failure becomes the right `ApiError`, no panic, a create that may have
//! reached the server is never sent twice, and the key never appears in an error.

use seedance_tui::api::types::CreateRequest;
use seedance_tui::api::{ApiError, ApiKey, ArkClient, ClientConfig, RetryPolicy};
use seedance_tui::sim::{self, Fault, FaultKind, FaultRoute, SimConfig, SimHandle};
use std::time::{Duration, Instant};

const KEY: &str = "sk-api-errors-DISTINCTIVE-41c0de";

async fn start_sim(cfg: SimConfig) -> SimHandle {
    sim::start("127.0.0.1:0".parse().unwrap(), cfg)
        .await
        .expect("the simulator starts")
}

fn sim_cfg() -> SimConfig {
    SimConfig {
        speed: 1000.0,
        fail_rate: 0.0,
        api_key: Some(KEY.to_string()),
        ..SimConfig::default()
    }
}

fn client_with(base_url: String, key: &str, retries: u32, timeout: Duration) -> ArkClient {
    let mut cfg = ClientConfig::new(base_url, Some(ApiKey::new(key)));
    cfg.timeout = timeout;
    cfg.connect_timeout = Duration::from_secs(2);
    cfg.retry = RetryPolicy {
        max_retries: retries,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(200),
    };
    ArkClient::new(cfg).expect("client")
}

fn client(base_url: String, retries: u32) -> ArkClient {
    client_with(base_url, KEY, retries, Duration::from_secs(10))
}

fn request() -> CreateRequest {
    CreateRequest::from_json(
        r#"{"model": "doubao-seedance-2-0-fast-260128",
            "content": [{"type": "text", "text": "a lighthouse at dusk"}],
            "duration": 5, "resolution": "720p"}"#,
    )
    .unwrap()
}

/// The error has a message and a hint, and neither Display, Debug nor the hint shows the key.
#[track_caller]
fn check_clean(e: &ApiError) {
    let all = format!("{e} | {e:?} | {}", e.hint());
    assert!(!all.contains(KEY), "the key leaked: {all}");
    assert!(
        !all.contains("DISTINCTIVE"),
        "part of the key leaked: {all}"
    );
    assert!(!e.hint().is_empty());
}

fn fault(route: FaultRoute, kind: FaultKind, times: u32) -> Fault {
    Fault { route, kind, times }
}

/// Wait (bounded) until the simulator has counted at least `n` creates.
async fn wait_creates(sim: &SimHandle, n: u64) {
    wait_counted(sim, n, |s| s.creates).await;
}

/// Wait (bounded) until the simulator has counted at least `n` requests of a kind: a request the
/// client gave up on may still be on its way through the simulator's tasks.
async fn wait_counted(sim: &SimHandle, n: u64, count: impl Fn(&sim::SimStats) -> u64) {
    let start = Instant::now();
    while count(&sim.stats()) < n && start.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_wrong_key_is_auth_and_never_echoed() {
    let sim = start_sim(sim_cfg()).await;
    let wrong = "sk-WRONG-DISTINCTIVE-key-0000";
    let c = client_with(sim.base_url(), wrong, 0, Duration::from_secs(5));
    let e = c.create(&request(), "auth-1").await.unwrap_err();
    assert!(matches!(e, ApiError::Auth { status: 401, .. }), "{e:?}");
    assert!(!format!("{e} {e:?}").contains(wrong));
    assert!(!e.create_outcome_unknown());
    check_clean(&e);
    sim.shutdown().await;
}

#[tokio::test]
async fn an_unknown_task_is_not_found() {
    let sim = start_sim(sim_cfg()).await;
    let c = client(sim.base_url(), 2);
    let e = c.get("cgt-20990101000000-nope1").await.unwrap_err();
    assert!(matches!(e, ApiError::NotFound { .. }), "{e:?}");
    assert_eq!(sim.stats().gets, 1, "a 404 is not retried");
    check_clean(&e);
    sim.shutdown().await;
}

#[tokio::test]
async fn rate_limits_carry_retry_after_and_a_create_is_retried_on_429() {
    let sim = start_sim(SimConfig {
        rate_limit: Some(2),
        ..sim_cfg()
    })
    .await;
    let c = client(sim.base_url(), 0);
    let mut limited = None;
    for _ in 0..20 {
        if let Err(e) = c.get("cgt-x").await
            && matches!(e, ApiError::RateLimited { .. })
        {
            limited = Some(e);
            break;
        }
    }
    let e = limited.expect("a burst of requests is rate limited");
    check_clean(&e);
    match &e {
        ApiError::RateLimited { retry_after, .. } => {
            assert!(retry_after.is_some(), "the sim sends Retry-After: {e:?}")
        }
        other => panic!("{other:?}"),
    }
    assert!(!e.create_outcome_unknown());

    // A create that meets a 429 was not processed, so it is sent again (honouring Retry-After).
    let patient = client_with(sim.base_url(), KEY, 10, Duration::from_secs(10));
    let before = sim.stats().rate_limited;
    let mut created = 0;
    for i in 0..4 {
        patient
            .create(&request(), &format!("rl-{i}"))
            .await
            .expect("retried until accepted");
        created += 1;
    }
    assert_eq!(created, 4);
    assert!(
        sim.stats().rate_limited > before,
        "some creates met a 429 first"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn an_injected_429_on_create_is_retried() {
    let sim = start_sim(sim_cfg()).await;
    sim.inject(fault(FaultRoute::Create, FaultKind::Status(429), 1));
    let c = client(sim.base_url(), 2);
    let created = c
        .create(&request(), "inj-429")
        .await
        .expect("retried after 429");
    assert!(!created.id.is_empty());
    sim.shutdown().await;
}

#[tokio::test]
async fn server_errors_are_retried_for_get_but_never_for_create() {
    let sim = start_sim(sim_cfg()).await;
    let c = client(sim.base_url(), 2);
    let id = c.create(&request(), "srv-0").await.unwrap().id;

    sim.inject(fault(FaultRoute::Get, FaultKind::Status(500), 1));
    let gets = sim.stats().gets;
    c.get(&id).await.expect("a GET recovers from one 500");
    assert_eq!(sim.stats().gets, gets + 2);

    let no_retry = client(sim.base_url(), 0);
    sim.inject(fault(FaultRoute::Get, FaultKind::Status(503), 1));
    let e = no_retry.get(&id).await.unwrap_err();
    assert!(matches!(e, ApiError::Server { status: 503, .. }), "{e:?}");
    check_clean(&e);

    let creates = sim.stats().creates;
    sim.inject(fault(FaultRoute::Create, FaultKind::Status(500), 1));
    let e = c.create(&request(), "srv-1").await.unwrap_err();
    assert!(matches!(e, ApiError::Server { status: 500, .. }), "{e:?}");
    assert!(e.create_outcome_unknown());
    assert_eq!(
        sim.stats().creates,
        creates + 1,
        "a create that got a 500 is not re-sent"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_create_processed_then_answered_500_is_not_sent_twice() {
    let sim = start_sim(sim_cfg()).await;
    sim.inject(fault(
        FaultRoute::Create,
        FaultKind::StatusAfterProcessing(500),
        1,
    ));
    let c = client(sim.base_url(), 5);
    let e = c.create(&request(), "sap-1").await.unwrap_err();
    assert!(matches!(e, ApiError::Server { .. }), "{e:?}");
    assert!(e.create_outcome_unknown());
    check_clean(&e);
    assert_eq!(sim.stats().creates, 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_create_that_times_out_is_not_sent_twice() {
    let sim = start_sim(sim_cfg()).await;
    sim.inject(fault(
        FaultRoute::Create,
        FaultKind::Delay(Duration::from_secs(3)),
        1,
    ));
    let c = client_with(sim.base_url(), KEY, 5, Duration::from_millis(300));
    let e = c.create(&request(), "to-1").await.unwrap_err();
    assert!(matches!(e, ApiError::Timeout { .. }), "{e:?}");
    assert!(e.create_outcome_unknown());
    check_clean(&e);
    wait_creates(&sim, 1).await;
    assert_eq!(sim.stats().creates, 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_get_that_times_out_is_reported_once_as_transient() {
    let sim = start_sim(sim_cfg()).await;
    // The timeout is all the requests below have to reach the simulator: a loaded machine was
    // seen to take over a second for one round trip, and hyper drops a request its caller gave
    // up on before the request was written (nothing would reach the simulator to count).
    let c = client_with(sim.base_url(), KEY, 1, Duration::from_secs(5));
    // A first GET opens the connection the slow one goes out on: no connect in its timeout.
    let e = c.get("cgt-warm").await.unwrap_err();
    assert!(matches!(e, ApiError::NotFound { .. }), "{e:?}");
    assert_eq!(sim.stats().gets, 1);
    // The delay stays far above the timeout, so the client surely gives up first.
    sim.inject(fault(
        FaultRoute::Get,
        FaultKind::Delay(Duration::from_secs(60)),
        5,
    ));
    let e = c.get("cgt-slow").await.unwrap_err();
    assert!(matches!(e, ApiError::Timeout { .. }), "{e:?}");
    assert!(e.is_transient());
    // It used the whole timeout once: not asked again at once (the poller comes back later).
    // (The test and the simulator share one thread: the sent GET is counted once its task runs.)
    wait_counted(&sim, 2, |s| s.gets).await;
    assert_eq!(sim.stats().gets, 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn the_relay_list_page_is_not_the_api_with_a_hint() {
    let sim = start_sim(sim_cfg()).await;
    let c = client(sim.relay_base_url(), 2);
    let e = c.list_items(&Default::default()).await.unwrap_err();
    match &e {
        ApiError::NotTheApi { hint, snippet, .. } => {
            assert!(hint.contains("list"), "{hint}");
            assert!(snippet.len() < 400);
        }
        other => panic!("expected NotTheApi, got {other:?}"),
    }
    check_clean(&e);
    sim.shutdown().await;
}

#[tokio::test]
async fn an_html_answer_is_not_the_api() {
    let sim = start_sim(sim_cfg()).await;
    sim.inject(fault(FaultRoute::Get, FaultKind::Html, 1));
    let c = client(sim.base_url(), 2);
    let e = c.get("cgt-any").await.unwrap_err();
    assert!(
        matches!(e, ApiError::NotTheApi { status: 200, .. }),
        "{e:?}"
    );
    assert_eq!(sim.stats().gets, 1, "a page is not retried");
    check_clean(&e);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_base_url_without_the_api_prefix_is_named_in_the_hint() {
    let sim = start_sim(sim_cfg()).await;
    let bare = format!("http://{}", sim.addr);
    let c = client(bare, 0);
    let e = c.get("cgt-any").await.unwrap_err();
    check_clean(&e);
    // Whatever the sim answers on an unknown path, the client points at the base URL.
    let text = format!("{e} {}", e.hint());
    assert!(
        text.contains("/api/v3") || matches!(e, ApiError::NotFound { .. }),
        "{text}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_truncated_or_empty_answer_is_a_decode_error() {
    let sim = start_sim(sim_cfg()).await;
    let c = client(sim.base_url(), 0);
    sim.inject(fault(FaultRoute::Get, FaultKind::Truncated, 1));
    let e = c.get("cgt-any").await.unwrap_err();
    assert!(matches!(e, ApiError::Decode { status: 200, .. }), "{e:?}");
    assert!(e.is_transient());
    check_clean(&e);

    sim.inject(fault(FaultRoute::Get, FaultKind::Empty, 1));
    let e = c.get("cgt-any").await.unwrap_err();
    assert!(matches!(e, ApiError::Decode { .. }), "{e:?}");
    assert!(e.to_string().contains("empty"), "{e}");

    // With retries, one cut answer to a GET is read again.
    let id = client(sim.base_url(), 0)
        .create(&request(), "trunc-0")
        .await
        .unwrap()
        .id;
    sim.inject(fault(FaultRoute::Get, FaultKind::Truncated, 1));
    client(sim.base_url(), 2)
        .get(&id)
        .await
        .expect("a cut GET answer is retried");

    // A truncated create answer: the task probably exists, so the outcome is unknown.
    sim.inject(fault(FaultRoute::Create, FaultKind::Truncated, 1));
    let creates = sim.stats().creates;
    let e = client(sim.base_url(), 3)
        .create(&request(), "trunc-1")
        .await
        .unwrap_err();
    assert!(e.create_outcome_unknown(), "{e:?}");
    assert_eq!(sim.stats().creates, creates + 1, "never re-sent");
    sim.shutdown().await;
}

#[tokio::test]
async fn megabytes_of_garbage_are_refused_cleanly() {
    let sim = start_sim(sim_cfg()).await;
    sim.inject(fault(
        FaultRoute::Get,
        FaultKind::Garbage(6 * 1024 * 1024),
        1,
    ));
    let c = client(sim.base_url(), 0);
    let e = c.get("cgt-any").await.unwrap_err();
    assert!(
        matches!(e, ApiError::NotTheApi { .. } | ApiError::Decode { .. }),
        "{e:?}"
    );
    let shown = format!("{e:?}");
    assert!(
        shown.len() < 2000,
        "the error stays short: {} bytes",
        shown.len()
    );
    check_clean(&e);
    sim.shutdown().await;
}

/// A base URL with a token in its query (some relays take one there): a transport error names
/// the host, never the link with the token.
#[tokio::test]
async fn a_connection_error_names_the_host_not_the_token_in_the_link() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let c = client(format!("http://{addr}/api/v3?token=relay-pass-77"), 0);
    let e = c.get("cgt-any").await.unwrap_err();
    let ApiError::Connection { message, .. } = &e else {
        panic!("expected a connection error, got {e:?}");
    };
    assert!(message.contains(&addr.to_string()), "{message}");
    let shown = format!("{e} {e:?}");
    assert!(!shown.contains("relay-pass-77"), "{shown}");
    check_clean(&e);
}

#[tokio::test]
async fn connection_refused_never_reached_the_server() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let c = client(format!("http://{addr}/api/v3"), 2);
    let e = c.create(&request(), "refused-1").await.unwrap_err();
    match &e {
        ApiError::Connection { reached_server, .. } => assert!(!reached_server, "{e:?}"),
        other => panic!("expected a connection error, got {other:?}"),
    }
    assert!(
        !e.create_outcome_unknown(),
        "a refused create may be re-sent"
    );
    check_clean(&e);
}
