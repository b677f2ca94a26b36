//! The dashboard's real event loop (`runtime::run_dashboard_on`) on ratatui's `TestBackend`:
//! the real workers against the simulator over loopback, keys sent as the input thread sends
//! them, the screen read as text while the loop draws, each step awaited with a deadline.

use crate::support::engine::*;
use crate::support::screen::SharedBackend;
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use seedance_tui::config::Config;
use seedance_tui::context::Context;
use seedance_tui::destination::Destination;
use seedance_tui::runtime::{DashboardOptions, Input, run_dashboard_on};
use seedance_tui::store::StoreLocation;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Wait (bounded) until the screen shows `text`. (The bound is for failing, not a wait: a
/// busy machine's fsync of the config can take many seconds.)
async fn shows(screen: &SharedBackend, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !screen.text().contains(text) {
        assert!(
            Instant::now() < deadline,
            "the screen never showed {text:?}:\n{}",
            screen.text()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Wait (bounded, as [`shows`]) until the table's line holding `row` also shows `status`.
async fn row_shows(screen: &SharedBackend, row: &str, status: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let text = screen.text();
        if text.lines().any(|l| l.contains(row) && l.contains(status)) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the row {row:?} never showed {status:?}:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn key(c: char) -> Input {
    Input::Event(Event::Key(KeyEvent::new(
        KeyCode::Char(c),
        KeyModifiers::NONE,
    )))
}

fn enter() -> Input {
    Input::Event(Event::Key(KeyEvent::new(
        KeyCode::Enter,
        KeyModifiers::NONE,
    )))
}

/// Send `Esc` and wait (bounded, as [`shows`]) until the overlay titled `title` is gone.
async fn esc_closes(keys: &mpsc::UnboundedSender<Input>, screen: &SharedBackend, title: &str) {
    keys.send(Input::Event(Event::Key(KeyEvent::new(
        KeyCode::Esc,
        KeyModifiers::NONE,
    ))))
    .expect("send");
    let deadline = Instant::now() + Duration::from_secs(60);
    while screen.text().contains(title) {
        assert!(Instant::now() < deadline, "{title:?} never closed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_loop_draws_the_store_follows_its_changes_answers_keys_and_quits() {
    let (sim, dir, engine) = sim_and_engine(fast()).await;
    succeeded_task(&engine, "gulls").await;
    let mut config = Config::default();
    config.download.auto = false;
    // A fresh store's first poll of a new task waits for the sparse check (6 intervals).
    config.poll.interval_secs = 0.5;
    let ctx = Context {
        config,
        engine: engine.clone(),
        profile_name: "loop-test".into(),
        base_url: sim.base_url(),
        store: StoreLocation::Sqlite(dir.path().join("store.sqlite3")),
        output_dir: Destination::Folder(dir.path().join("out")),
        demo: false,
        sim: None,
        key_var: Some("SEEDANCE_API_KEY".into()),
        demo_dir: None,
        config_path: dir.path().join("config.toml"),
    };
    let screen = SharedBackend::new(120, 30);
    let mut terminal = ratatui::Terminal::new(screen.clone()).expect("terminal");
    let (keys, mut events) = mpsc::unbounded_channel();
    let opts = DashboardOptions::default();
    // The loop's state is not `Sync` (the composer's text area): the loop and the test's
    // driver run side by side in this task.
    let dashboard = run_dashboard_on(&ctx, &opts, &mut terminal, &mut events);
    let driver = async {
        // The first page of the store is drawn.
        shows(&screen, "gulls").await;
        // A task submitted by someone else sharing the store reaches the table through the store
        // watcher, and this process's poller follows it to the end.
        let other = engine
            .submit(
                serde_json::json!({
                    "model": "doubao-seedance-2-0-fast-260128",
                    "content": [{"type": "text", "text": "[[sim:succeed]] harbour"}],
                    "ratio": "16:9", "duration": 4, "resolution": "720p"
                })
                .to_string(),
                None,
            )
            .await
            .expect("submit");
        shows(&screen, "harbour").await;
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let row = engine.find(&other.local_id).await.expect("row");
            if row.phase.is_settled() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the dashboard's poller never settled the task"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // The store holding the settled row is not yet the table showing it: the row reaches
        // the loop later, as a worker's message (the poller's report, the watcher's rows), and
        // the loop handles keys before queued messages, so a `q` sent now can quit with the
        // row unsettled. Wait for the table's ✓ (succeeded).
        row_shows(&screen, "harbour", "✓").await;
        // A key is answered with a frame: `?` opens the help, `esc` closes it.
        keys.send(key('?')).expect("send");
        shows(&screen, "Help — keys").await;
        esc_closes(&keys, &screen, "Help — keys").await;
        // `q` with nothing in flight quits; the loop returns its last state.
        keys.send(key('q')).expect("send");
    };
    let (state, ()) = tokio::time::timeout(Duration::from_secs(60), async {
        tokio::join!(dashboard, driver)
    })
    .await
    .expect("the loop ends after q");
    let state = state.expect("the dashboard ran");
    assert_eq!(state.tasks.len(), 2, "both tasks are in the table");
    assert!(
        state.tasks.iter().all(|t| t.phase.is_settled()),
        "the table has both tasks settled"
    );
    sim.shutdown().await;
}

/// The dashboard on `sim` with `config_path` as its config file, its store in `dir`.
fn context_with_config(
    sim: &seedance_tui::sim::SimHandle,
    dir: &std::path::Path,
    engine: &seedance_tui::engine::Engine,
    config_path: std::path::PathBuf,
) -> Context {
    Context {
        config: Config::default(),
        engine: engine.clone(),
        profile_name: "loop-test".into(),
        base_url: sim.base_url(),
        store: StoreLocation::Sqlite(dir.join("store.sqlite3")),
        output_dir: Destination::Folder(dir.join("out")),
        demo: false,
        sim: None,
        key_var: Some("SEEDANCE_API_KEY".into()),
        demo_dir: None,
        config_path,
    }
}

/// Closing the column chooser with `c`, `Enter` saves the columns; the notice saying so comes
/// once the file holds them, and when the file cannot be written only the failure is said.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_column_chooser_says_saved_only_once_the_config_holds_the_columns() {
    let (sim, dir, engine) = sim_and_engine(fast()).await;
    let written = dir.path().join("config.toml");
    // A config under a regular file: its folder cannot be made, so the save fails.
    std::fs::write(dir.path().join("not-a-folder"), "").expect("file");
    let unwritable = dir.path().join("not-a-folder").join("config.toml");
    for (config_path, saves) in [(written.clone(), true), (unwritable, false)] {
        let ctx = context_with_config(&sim, dir.path(), &engine, config_path);
        // Wide enough for each notice whole on one line (a longer one is wrapped).
        let screen = SharedBackend::new(220, 30);
        let mut terminal = ratatui::Terminal::new(screen.clone()).expect("terminal");
        let (keys, mut events) = mpsc::unbounded_channel();
        let opts = DashboardOptions::default();
        let dashboard = run_dashboard_on(&ctx, &opts, &mut terminal, &mut events);
        let driver = async {
            keys.send(key('c')).expect("send");
            shows(&screen, "[x] status").await;
            keys.send(enter()).expect("send");
            if saves {
                shows(&screen, "(saved in the config)").await;
                let text = std::fs::read_to_string(&written).expect("the config is written");
                assert!(text.contains("columns = [\"status\""), "{text}");
            } else {
                shows(&screen, "the columns were not saved").await;
                // The log has every notice: none claimed the columns saved.
                keys.send(key('L')).expect("send");
                shows(&screen, "Messages (newest first").await;
                assert!(
                    !screen.text().contains("saved in the config"),
                    "{}",
                    screen.text()
                );
                esc_closes(&keys, &screen, "Messages (newest first").await;
            }
            keys.send(key('q')).expect("send");
        };
        let (state, ()) = tokio::time::timeout(Duration::from_secs(180), async {
            tokio::join!(dashboard, driver)
        })
        .await
        .expect("the loop ends after q");
        state.expect("the dashboard ran");
    }
    sim.shutdown().await;
}
