//! Shared setup for the results tests: a simulator on 127.0.0.1:0, an engine with a fresh store
//! over real loopback HTTP, succeeded tasks, and waiting on the loop's messages with a deadline.

use seedance_tui::api::{ApiKey, ArkClient, ClientConfig, RetryPolicy, TaskStatus};
use seedance_tui::app::Msg;
use seedance_tui::app::results::{ResultsMsg, Transfer};
use seedance_tui::engine::Engine;
use seedance_tui::runtime::download_manager::DownloadSettings;
use seedance_tui::sim::{self, SimConfig, SimHandle};
use seedance_tui::store::{Phase, Store, TaskRecord};
use std::path::Path;
use std::time::Duration;
use tokio::sync::mpsc;

pub const KEY: &str = "sk-results-test-5b1e";

pub async fn start_sim(cfg: SimConfig) -> SimHandle {
    let cfg = SimConfig {
        api_key: Some(KEY.to_string()),
        ..cfg
    };
    sim::start("127.0.0.1:0".parse().expect("addr"), cfg)
        .await
        .expect("the simulator starts")
}

/// A simulator with `cfg`, a temp dir, and an engine on a fresh store (`store.sqlite3`) in it.
pub async fn sim_and_engine(cfg: SimConfig) -> (SimHandle, tempfile::TempDir, Engine) {
    let sim = start_sim(cfg).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = engine(&sim, &dir.path().join("store.sqlite3"));
    (sim, dir, engine)
}

pub fn fast() -> SimConfig {
    SimConfig {
        speed: 2000.0,
        fail_rate: 0.0,
        ..SimConfig::default()
    }
}

pub fn engine(sim: &SimHandle, store: &Path) -> Engine {
    engine_on(sim, Store::open(store).expect("store"))
}

/// An engine talking to `sim` on the open store `store` (either backend).
pub fn engine_on(sim: &SimHandle, store: Store) -> Engine {
    let mut cfg = ClientConfig::new(sim.base_url(), Some(ApiKey::new(KEY)));
    cfg.timeout = Duration::from_secs(10);
    cfg.retry = RetryPolicy {
        max_retries: 2,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
    };
    let client = ArkClient::new(cfg).expect("client");
    Engine::new(client, store, "test")
}

pub fn settings(dir: &Path) -> DownloadSettings {
    let mut s = DownloadSettings::new(dir.to_path_buf(), "{id}.mp4".to_string());
    s.backoff = Duration::from_millis(20);
    s.progress_every = Duration::from_millis(1);
    s.sweep_every = Duration::from_millis(500);
    s
}

/// Submit a task that will succeed and poll it (bounded) until it has.
pub async fn succeeded_task(engine: &Engine, prompt: &str) -> TaskRecord {
    let body = serde_json::json!({
        "model": "doubao-seedance-2-0-fast-260128",
        "content": [{"type": "text", "text": format!("[[sim:succeed]] {prompt}")}],
        "ratio": "16:9", "duration": 4, "resolution": "720p", "return_last_frame": true
    });
    let mut rec = engine.submit(body.to_string(), None).await.expect("submit");
    for _ in 0..2000 {
        rec = engine.poll(&rec).await.expect("poll").0;
        if rec.phase == Phase::Remote(TaskStatus::Succeeded) {
            return rec;
        }
        assert!(!rec.phase.is_settled(), "task ended as {}", rec.phase);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the task did not succeed in time");
}

/// Messages until `n` distinct tasks are saved (panics on a failed download or after 60 s).
pub async fn wait_saved(
    rx: &mut mpsc::UnboundedReceiver<Msg>,
    n: usize,
    seen: &mut Vec<Msg>,
) -> Vec<TaskRecord> {
    let mut saved = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while saved.len() < n {
        let Ok(msg) = tokio::time::timeout_at(deadline, rx.recv()).await else {
            let shown: Vec<String> = seen
                .iter()
                .filter(|m| {
                    !matches!(
                        m,
                        Msg::Results(ResultsMsg::Transfer {
                            transfer: Transfer::Active { .. },
                            ..
                        })
                    )
                })
                .map(|m| format!("{m:?}").chars().take(160).collect())
                .collect();
            panic!(
                "downloads did not finish within 60 s; saved {}; messages: {shown:#?}",
                saved.len()
            );
        };
        let msg = msg.expect("the manager is alive");
        match &msg {
            // Distinct tasks: a late store report may make a second (no-op) save of one.
            Msg::Results(ResultsMsg::Saved(r))
                if !saved.iter().any(|s: &TaskRecord| s.local_id == r.local_id) =>
            {
                saved.push((**r).clone())
            }
            Msg::Results(ResultsMsg::Transfer {
                transfer: Transfer::Failed(e),
                ..
            }) => panic!("download failed: {e}"),
            _ => {}
        }
        seen.push(msg);
    }
    saved
}
