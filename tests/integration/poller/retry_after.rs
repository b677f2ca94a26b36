//! The poll scheduler survives a hostile `Retry-After` (a huge number of seconds, from a proxy or
//! a broken server): it neither panics (an `Instant` overflow would kill the poller, and every
//! task would stop being polled) nor holds everyone for longer than its longest backoff.

use crate::support::http;
use seedance_tui::api::{ApiKey, ArkClient, ClientConfig};
use seedance_tui::engine::Engine;
use seedance_tui::runtime::poller::{self, PollerCmd, PollerConfig, PollerEvent};
use seedance_tui::store::{NewSubmission, Store};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;

/// Answers every request with 429 and `Retry-After: <retry_after>`; counts the requests.
async fn rate_limiting_server(retry_after: &'static str, hits: Arc<AtomicUsize>) -> String {
    let addr = http::serve(move |_, mut sock| {
        let hits = hits.clone();
        async move {
            hits.fetch_add(1, Ordering::SeqCst);
            let body = r#"{"error":{"code":"RateLimitExceeded","message":"slow down"}}"#;
            let answer = format!(
                "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\n\
                 Retry-After: {retry_after}\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            sock.write_all(answer.as_bytes()).await.ok()?;
            Some(sock)
        }
    })
    .await;
    format!("http://{addr}/api/v3")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_retry_after_neither_kills_nor_freezes_the_poller() {
    let hits = Arc::new(AtomicUsize::new(0));
    let base = rate_limiting_server("18446744073709551615", hits.clone()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("store.sqlite3")).expect("store");
    let body =
        r#"{"model":"doubao-seedance-2-0-fast-260128","content":[{"type":"text","text":"x"}]}"#;
    store
        .begin_submission(&NewSubmission {
            local_id: "l-poll-1",
            profile: "test",
            request_json: body,
            retry_of: None,
            now: seedance_tui::engine::now(),
            asset_files: None,
        })
        .expect("row");
    store
        .submission_accepted("l-poll-1", "cgt-poll-1", seedance_tui::engine::now())
        .expect("accepted");
    let record = store.find("l-poll-1").expect("find");
    let client = ArkClient::new(ClientConfig::new(base, Some(ApiKey::new("sk-poller-test"))))
        .expect("client");
    let engine = Engine::new(client, store, "test");

    let cfg = PollerConfig {
        interval: Duration::from_millis(50),
        max_backoff: Duration::from_millis(300),
        leader: true,
        ..PollerConfig::default()
    };
    let (etx, mut events) = mpsc::unbounded_channel();
    let tx = poller::spawn(engine, cfg, etx);
    tx.send(PollerCmd::Track(Box::new(record))).expect("send");

    // Two rate-limited polls: the second proves the hold was bounded and the poller alive.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let mut failures = 0;
    while failures < 2 {
        let ev = tokio::time::timeout_at(deadline, events.recv())
            .await
            .unwrap_or_else(|_| panic!("only {failures} poll(s) in time; hits {hits:?}"));
        match ev {
            Some(PollerEvent::Failed { .. }) => failures += 1,
            Some(_) => {}
            None => panic!("the poller stopped (it panicked) after {failures} poll(s)"),
        }
    }
    assert!(hits.load(Ordering::SeqCst) >= 2);
}
