//! The dashboard keeps its rows trimmed (no full request, no response) and reads a task's full
//! request and response from the store when a view or an action needs them: the detail pane
//! shows "loading…" until they arrive, and copying the request and editing a task use the full
//! stored request, never the trimmed one.

use crate::api::types::CreateRequest;
use crate::app::keymap::Keymap;
use crate::app::test_support::composer::request;
use crate::app::{Effect, Msg, State, update};
use crate::engine::budget::estimate_record;
use crate::store::{NewSubmission, Store, TaskQuery};
use crate::ui::test_support::rendered;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

const PROMPT: &str = "a paper lantern drifting over a night river";
const IMAGE: &str = "https://assets.example/lantern-first-frame.png";
const RESPONSE_MARK: &str = "https://results.example/v/cgt-lantern.mp4";

fn original_request() -> String {
    serde_json::json!({
        "model": "doubao-seedance-2-0-260128",
        "content": [
            {"type": "text", "text": PROMPT},
            {"type": "image_url", "image_url": {"url": IMAGE}, "role": "first_frame"}
        ],
        "ratio": "9:16",
        "duration": 10,
        "resolution": "1080p",
        "generate_audio": true
    })
    .to_string()
}

/// A store with one succeeded task (full request and response) and the dashboard's state
/// loaded from it the way the runtime loads it.
fn store_and_state() -> (tempfile::TempDir, Store, State) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("s.sqlite3")).expect("store");
    let req = original_request();
    store
        .begin_submission(&NewSubmission {
            local_id: "lantern",
            profile: "p",
            request_json: &req,
            retry_of: None,
            now: 1_000,
            asset_files: None,
        })
        .expect("begin");
    store
        .submission_accepted("lantern", "cgt-lantern", 1_001)
        .expect("accepted");
    let raw = format!(
        r#"{{"id":"cgt-lantern","status":"succeeded","content":{{"video_url":"{RESPONSE_MARK}"}},"usage":{{"completion_tokens":5}}}}"#
    );
    let task = crate::api::Task::from_json(&raw).expect("task");
    store
        .record_poll("lantern", &task, &raw, 1_100)
        .expect("poll");
    let s = state_of(&store);
    (dir, store, s)
}

/// The dashboard's state loaded from `store` the way the runtime loads it.
fn state_of(store: &Store) -> State {
    let mut s = State::new(
        "p",
        "http://127.0.0.1:9/api/v3",
        Keymap::default(),
        Vec::new(),
    );
    update(&mut s, Msg::Tick { now: 1_200 });
    update(&mut s, Msg::Resize(120, 60));
    let rows = store.list_rows(&TaskQuery::default()).expect("rows");
    update(&mut s, Msg::TasksLoaded(rows));
    s
}

fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

/// What the runtime answers to `Effect::LoadBodies`.
fn bodies_from(store: &Store, local_id: &str) -> Msg {
    Msg::Bodies {
        local_id: local_id.into(),
        result: Ok(store.bodies(local_id).expect("read").expect("row")),
    }
}

#[test]
fn the_dashboards_rows_keep_what_the_table_needs_and_no_bodies() {
    let (_dir, store, s) = store_and_state();
    let full = store.find("lantern").expect("full row");
    let row = s.task("lantern").expect("row");
    let debug = format!("{row:?}");
    assert!(
        !debug.contains(IMAGE) && !debug.contains("generate_audio"),
        "no request, response or URL in memory: {debug}"
    );
    let original = full.request().expect("full");
    assert_eq!(&*row.model, original.model);
    assert_eq!(
        (
            row.spec.ratio.as_deref(),
            row.spec.duration,
            row.spec.resolution.as_deref()
        ),
        (
            original.ratio.as_deref(),
            original.duration,
            original.resolution.as_deref()
        )
    );
    // The estimate counts the inputs (a reference video bills its minimum).
    assert_eq!(
        row.spec.estimate,
        crate::engine::budget::estimate(&original)
    );
    assert_eq!(
        estimate_record(row),
        estimate_record(&full),
        "the budget estimate is the same"
    );
    assert_eq!(
        &*row.prompt, PROMPT,
        "the table's prompt column is its own field"
    );
    let b = store.bodies("lantern").expect("read").expect("row");
    assert_eq!(b.request_json, original_request(), "the exact stored body");
    assert_eq!(b.response_json, full.response_json);
    assert!(store.bodies("nope").expect("read").is_none());
}

#[test]
fn the_detail_pane_shows_the_request_once_loaded() {
    let (_dir, store, mut s) = store_and_state();
    let fx = update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
    );
    assert!(
        fx.contains(&Effect::LoadBodies("lantern".into())),
        "opening the pane reads the bodies: {fx:?}"
    );
    update(&mut s, key('f'));
    let before = rendered(&s);
    assert!(before.contains("Request JSON"), "{before}");
    assert!(before.contains("loading…"), "{before}");
    assert!(!before.contains(IMAGE), "{before}");
    assert!(
        before.contains("1080p"),
        "parameters from the trimmed row:\n{before}"
    );
    update(&mut s, bodies_from(&store, "lantern"));
    let after = rendered(&s);
    assert!(!after.contains("loading…"), "{after}");
    assert!(after.contains(IMAGE), "the asset's URL:\n{after}");
    assert!(
        after.contains(&format!("\"text\": \"{PROMPT}\"")),
        "the request JSON:\n{after}"
    );
    assert!(after.contains("Response JSON"), "{after}");
    assert!(after.contains(RESPONSE_MARK), "{after}");
}

#[test]
fn copying_the_request_uses_the_full_stored_body() {
    let (_dir, store, mut s) = store_and_state();
    update(&mut s, key('y'));
    assert_eq!(
        update(&mut s, key('j')),
        vec![Effect::LoadBodies("lantern".into())],
        "the request is read from the store first"
    );
    let fx = update(&mut s, bodies_from(&store, "lantern"));
    let [Effect::Copy(text)] = &fx[..] else {
        panic!("{fx:?}")
    };
    let copied: serde_json::Value = serde_json::from_str(text).expect("JSON");
    let original: serde_json::Value = serde_json::from_str(&original_request()).expect("JSON");
    assert_eq!(copied, original);
    // Loaded once, the next copy (the curl command) needs no read.
    update(&mut s, key('y'));
    let fx = update(&mut s, key('c'));
    let [Effect::Copy(curl)] = &fx[..] else {
        panic!("{fx:?}")
    };
    assert!(curl.contains(PROMPT) && curl.contains(IMAGE), "{curl}");
}

#[test]
fn editing_a_task_starts_from_its_full_stored_request() {
    let (_dir, store, mut s) = store_and_state();
    assert_eq!(
        update(&mut s, key('e')),
        vec![Effect::LoadBodies("lantern".into())]
    );
    assert!(!s.composer.is_open(), "nothing opens on the trimmed row");
    update(&mut s, bodies_from(&store, "lantern"));
    assert!(s.composer.is_open());
    let edited = request(&s);
    let original = CreateRequest::from_json(&original_request()).expect("parses");
    assert_eq!(edited.content, original.content, "prompt and image kept");
}

#[test]
fn bodies_for_another_task_or_an_error_do_nothing_unasked() {
    let (_dir, store, mut s) = store_and_state();
    update(&mut s, key('e'));
    let fx = update(
        &mut s,
        Msg::Bodies {
            local_id: "lantern".into(),
            result: Err("the task is no longer in the store".into()),
        },
    );
    assert!(fx.is_empty());
    assert!(!s.composer.is_open());
    let said = s
        .current_message()
        .map(|m| m.text.clone())
        .unwrap_or_default();
    assert!(said.contains("no longer in the store"), "{said}");
    // A late answer after the failure opens nothing: the wait ended with the error.
    update(&mut s, bodies_from(&store, "lantern"));
    assert!(!s.composer.is_open());
}

#[test]
fn the_open_pane_loads_the_task_the_selection_moves_to_when_rows_arrive() {
    let (_dir, store, _) = store_and_state();
    let mut s = State::new(
        "p",
        "http://127.0.0.1:9/api/v3",
        Keymap::default(),
        Vec::new(),
    );
    update(&mut s, Msg::Resize(120, 60));
    update(&mut s, Msg::TasksLoaded(Vec::new()));
    update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
    );
    assert_eq!(s.selected, None, "nothing to select yet");
    let rows = store.list_rows(&TaskQuery::default()).expect("rows");
    let fx = update(&mut s, Msg::TasksChanged(rows));
    assert_eq!(s.selected.as_deref(), Some("lantern"));
    assert!(
        fx.contains(&Effect::LoadBodies("lantern".into())),
        "the pane does not stay on loading…: {fx:?}"
    );
}

#[test]
fn an_inlined_file_is_shown_by_the_name_the_store_kept() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("s.sqlite3")).expect("store");
    let png = format!("data:image/png;base64,{}", "A".repeat(4000));
    let req = original_request().replace(IMAGE, &png);
    let mut files = crate::engine::asset_files::AssetFiles::default();
    files.insert(&png, "/home/ann/refs/harbour-ref.png");
    store
        .begin_submission(&NewSubmission {
            local_id: "named",
            profile: "p",
            request_json: &req,
            retry_of: None,
            now: 1_000,
            asset_files: files.to_json().as_deref(),
        })
        .expect("begin");
    let mut s = state_of(&store);
    update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
    );
    update(&mut s, key('f'));
    update(&mut s, bodies_from(&store, "named"));
    let pane = rendered(&s);
    assert!(
        pane.contains("harbour-ref.png (inline image/png, ~2 KB)"),
        "{pane}"
    );
    assert!(!pane.contains("/home/ann"), "the base name only:\n{pane}");
    // `e` from the pane: the composer names it too (beside the parameters at 120 columns, the
    // name before the type).
    update(&mut s, key('e'));
    assert!(s.composer.is_open());
    let composer = rendered(&s);
    assert!(
        composer.contains("harbour-ref.png (inline, 3.0kB)"),
        "{composer}"
    );
}
