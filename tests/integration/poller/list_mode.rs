//! Polling through the official task list: due tasks go out together (one list request carries
//! many ids, no GET needed when the items say everything); a relay profile never lists; a base
//! URL whose list answers a web page falls back to GETs, and the store remembers that so the
//! next poller does not ask again; a surprise on a listing server is answered with GETs.

use crate::support::backend::{Backend, on_both_backends};
use crate::support::engine::{KEY, engine, engine_on, start_sim};
use seedance_tui::api::{ApiKey, ArkClient, ClientConfig};
use seedance_tui::engine::Engine;
use seedance_tui::runtime::poller::{self, ListMode, PollerCmd, PollerConfig, PollerEvent};
use seedance_tui::sim::{Fault, FaultKind, FaultRoute, SimConfig, SimHandle};
use seedance_tui::store::{Store, TaskRecord};
use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, Instant};

fn sim_cfg() -> SimConfig {
    SimConfig {
        speed: 1000.0,
        fail_rate: 0.0,
        max_running: 100_000,
        ..SimConfig::default()
    }
}

fn cfg(list: ListMode) -> PollerConfig {
    PollerConfig {
        interval: Duration::from_millis(200),
        concurrency: 4,
        requests_per_second: 50.0,
        leader: true,
        list,
        ..PollerConfig::default()
    }
}

async fn submit(engine: &Engine, n: usize) -> Vec<TaskRecord> {
    let mut out = Vec::new();
    for i in 0..n {
        let body = format!(
            r#"{{"model":"doubao-seedance-2-0-fast-260128","content":[{{"type":"text","text":"list {i}"}}]}}"#
        );
        out.push(engine.submit(body, None).await.expect("submit"));
    }
    out
}

/// Track `tasks` with a poller in `mode` and wait (with a deadline) until every one settled.
async fn poll_to_the_end(engine: &Engine, tasks: &[TaskRecord], mode: ListMode) {
    let (tx, mut events) = tokio::sync::mpsc::unbounded_channel();
    let p = poller::spawn(engine.clone(), cfg(mode), tx);
    for t in tasks {
        p.send(PollerCmd::Track(Box::new(t.clone())))
            .expect("track");
    }
    let mut done = HashSet::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while done.len() < tasks.len() {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, events.recv()).await {
            Ok(Some(PollerEvent::Updated { record, .. })) if record.phase.is_settled() => {
                done.insert(record.local_id.clone());
            }
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => panic!("only {} of {} settled", done.len(), tasks.len()),
        }
    }
}

/// An engine on the relay prefix of `sim` (whose list answers the relay's web page).
fn relay_engine(sim: &SimHandle, store: &Path) -> Engine {
    relay_engine_on(sim, Store::open(store).expect("store"))
}

/// [`relay_engine`] on the open store `store` (either backend).
fn relay_engine_on(sim: &SimHandle, store: Store) -> Engine {
    let client = ArkClient::new(ClientConfig::new(
        sim.relay_base_url(),
        Some(ApiKey::new(KEY)),
    ))
    .expect("client");
    Engine::new(client, store, "test")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn due_tasks_are_polled_together_in_list_requests() {
    let sim = start_sim(sim_cfg()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = engine(&sim, &dir.path().join("s.db"));
    let tasks = submit(&engine, 40).await;
    poll_to_the_end(&engine, &tasks, ListMode::Use).await;
    let stats = sim.stats();
    assert!(stats.lists >= 1, "{stats:?}");
    // Every item of a finished task carries its result link: no GET was needed.
    assert_eq!(stats.gets, 0, "{stats:?}");
    // Each task needs several polls, so fewer requests than tasks means the ids were batched.
    assert!(
        stats.lists < tasks.len() as u64,
        "{} list requests for {} tasks: {stats:?}",
        stats.lists,
        tasks.len()
    );
    // And every result is stored as a GET would have stored it.
    for t in &tasks {
        let r = engine.find(&t.local_id).await.expect("row");
        assert!(r.video_url.is_some(), "{r:?}");
        assert!(r.response_json.is_some());
    }
}

#[test]
fn a_relay_profile_never_lists_and_official_hosts_do() {
    assert_eq!(
        ListMode::for_profile("https://api.laozhang.ai/seedance/api/v3", true),
        ListMode::Never
    );
    // A relay flag wins even on a host that looks official.
    assert_eq!(
        ListMode::for_profile("https://ark.cn-beijing.volces.com/api/v3", true),
        ListMode::Never
    );
    assert_eq!(
        ListMode::for_profile("https://ark.cn-beijing.volces.com/api/v3", false),
        ListMode::Use
    );
    assert_eq!(
        ListMode::for_profile("https://ark.ap-southeast.bytepluses.com/api/v3", false),
        ListMode::Use
    );
    assert_eq!(
        ListMode::for_profile("http://127.0.0.1:8080/api/v3", false),
        ListMode::Probe
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_poller_never_asks_the_list() {
    let sim = start_sim(sim_cfg()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = relay_engine(&sim, &dir.path().join("s.db"));
    let tasks = submit(&engine, 10).await;
    let mode = ListMode::for_profile(&sim.relay_base_url(), true);
    poll_to_the_end(&engine, &tasks, mode).await;
    let stats = sim.stats();
    assert_eq!(stats.lists, 0, "{stats:?}");
    assert!(stats.gets >= tasks.len() as u64, "{stats:?}");
}

// What the probe found is remembered in the store: on SQLite and on PostgreSQL.
on_both_backends!(
    async an_html_list_falls_back_to_gets_and_the_store_remembers,
    async a_probe_that_answers_a_list_is_remembered_as_listing,
);

async fn an_html_list_falls_back_to_gets_and_the_store_remembers(b: &Backend) {
    let sim = start_sim(sim_cfg()).await;
    let engine = relay_engine_on(&sim, b.open());
    let tasks = submit(&engine, 8).await;
    poll_to_the_end(&engine, &tasks, ListMode::Probe).await;
    let stats = sim.stats();
    assert_eq!(stats.lists, 1, "one probe, then GETs: {stats:?}");
    assert!(stats.gets >= tasks.len() as u64, "{stats:?}");
    let key = poller::list_meta_key(&sim.relay_base_url());
    let remembered = engine
        .with_store(move |s| s.meta_get(&key))
        .await
        .expect("meta");
    assert_eq!(remembered.as_deref(), Some("get"));

    // A later poller on the same store does not probe again.
    let more = submit(&engine, 4).await;
    poll_to_the_end(&engine, &more, ListMode::Probe).await;
    assert_eq!(sim.stats().lists, 1, "{:?}", sim.stats());
}

async fn a_probe_that_answers_a_list_is_remembered_as_listing(b: &Backend) {
    let sim = start_sim(sim_cfg()).await;
    let engine = engine_on(&sim, b.open());
    let tasks = submit(&engine, 8).await;
    poll_to_the_end(&engine, &tasks, ListMode::Probe).await;
    assert!(sim.stats().lists >= 1);
    let key = poller::list_meta_key(&sim.base_url());
    let remembered = engine
        .with_store(move |s| s.meta_get(&key))
        .await
        .expect("meta");
    assert_eq!(remembered.as_deref(), Some("list"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_web_page_from_a_listing_server_is_answered_with_gets() {
    // Tasks of 1.3-5.8 s: some are still running after the first tick, so lists go on.
    let sim = start_sim(SimConfig {
        speed: 50.0,
        ..sim_cfg()
    })
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = engine(&sim, &dir.path().join("s.db"));
    let tasks = submit(&engine, 6).await;
    sim.inject(Fault {
        route: FaultRoute::List,
        kind: FaultKind::Html,
        times: 1,
    });
    poll_to_the_end(&engine, &tasks, ListMode::Use).await;
    let stats = sim.stats();
    // The surprised list's tasks were asked by id; listing went on afterwards.
    assert!(stats.gets >= 1, "{stats:?}");
    assert!(stats.lists >= 2, "{stats:?}");
}
