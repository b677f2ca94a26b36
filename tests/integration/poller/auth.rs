//! An auth failure while polling: the poller asks once, pauses instead of hammering, and the
//! dashboard's header shows why and what to do — without the key.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use seedance_tui::api::{ApiKey, ArkClient, ClientConfig};
use seedance_tui::app::keymap::Keymap;
use seedance_tui::app::{Msg, State, update};
use seedance_tui::engine::Engine;
use seedance_tui::runtime::poller::{self, PollerCmd, PollerConfig, PollerEvent};
use seedance_tui::sim::{self, SimConfig};
use seedance_tui::store::{NewSubmission, Store};
use std::time::Duration;

const WRONG_KEY: &str = "sk-wrong-DISTINCTIVE-9a1";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_failure_pauses_polling_with_a_banner() {
    let sim = sim::start(
        "127.0.0.1:0".parse().expect("addr"),
        SimConfig {
            speed: 1000.0,
            api_key: Some("sk-the-right-one".into()),
            ..SimConfig::default()
        },
    )
    .await
    .expect("sim");
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("s.db")).expect("store");
    for id in ["a", "b", "c"] {
        store
            .begin_submission(&NewSubmission {
                local_id: id,
                profile: "p",
                request_json: "{}",
                retry_of: None,
                now: 1,
                asset_files: None,
            })
            .expect("row");
        store
            .submission_accepted(id, &format!("cgt-{id}"), 1)
            .expect("accepted");
    }
    let rows = store.unfinished().expect("rows");
    let client = ArkClient::new(ClientConfig::new(
        sim.base_url(),
        Some(ApiKey::new(WRONG_KEY)),
    ))
    .expect("client");
    let engine = Engine::new(client, store, "p");
    let (tx, mut events) = tokio::sync::mpsc::unbounded_channel();
    let cfg = PollerConfig {
        interval: Duration::from_millis(50),
        concurrency: 1,
        requests_per_second: 100.0,
        ..PollerConfig::default()
    };
    let p = poller::spawn(engine, cfg, tx);
    for r in rows {
        p.send(PollerCmd::Track(Box::new(r))).expect("track");
    }
    let health = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match events.recv().await {
                Some(PollerEvent::Health(h)) if h.paused => return h,
                Some(_) => {}
                None => panic!("poller stopped"),
            }
        }
    })
    .await
    .expect("polling pauses");
    let banner = health.banner.clone().expect("a banner");
    assert!(
        banner.contains("auth failed") && banner.contains("key"),
        "{banner}"
    );
    // Paused: no more requests, however long we look (the interval is 50 ms).
    let asked = sim.stats().gets;
    assert_eq!(asked, 1, "one request, not one per task");
    let more = tokio::time::timeout(Duration::from_millis(500), async {
        loop {
            if let Some(PollerEvent::Updated { .. } | PollerEvent::Failed { .. }) =
                events.recv().await
            {
                return;
            }
        }
    })
    .await;
    assert!(more.is_err(), "the paused poller still polled");
    assert_eq!(sim.stats().gets, asked);

    // The header shows the banner (not just "paused"), and never the key.
    let (themes, _) = seedance_tui::theme::load_all(None);
    let mut s = State::new("p", &sim.base_url(), Keymap::default(), themes);
    update(&mut s, Msg::Resize(160, 30));
    update(&mut s, Msg::Health(health));
    let mut term = Terminal::new(TestBackend::new(160, 30)).expect("terminal");
    term.draw(|f| seedance_tui::ui::view(&s, f)).expect("draw");
    let b = term.backend().buffer().clone();
    let top: String = (0..160).map(|x| b[(x, 0)].symbol()).collect();
    assert!(top.contains("auth failed"), "{top}");
    assert!(!top.contains("DISTINCTIVE"));
}
