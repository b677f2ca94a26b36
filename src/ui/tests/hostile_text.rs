//! The dashboard draws hostile server strings (an error code that sets the window title, bidi
//! overrides, C1 controls, fake log lines, an unknown status) escaped through the same
//! sanitizer as the headless commands: nothing raw reaches the rendered buffer.

use crate::api::TaskStatus;
use crate::app::test_support::{NOW, record, state};
use crate::app::{Msg, update};
use crate::store::{HistoryEntry, Phase, TaskBodies};
use crate::ui::test_support::rendered;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[test]
fn hostile_server_strings_are_escaped_in_the_table_and_the_detail_pane() {
    let mut s = state(160, 60);
    let mut bad = record(
        20,
        Phase::Remote(TaskStatus::Failed),
        "a cat\u{1b}[2J\u{202e}",
        "doubao-seedance-2-0-260128",
    );
    bad.created_at = NOW; // the newest: the first row
    bad.error_code = Some("X\u{1b}]0;pwned\u{7}".into());
    bad.error_message = Some("\u{9b}31m\u{202e}gnp.exe\nINFO 12:00:00 all tasks succeeded".into());
    bad.response_json = Some(
        serde_json::json!({"id": "cgt-x", "status": "failed", "error": {"code": "\u{9b}\u{202e}"}})
            .to_string(),
    );
    let mut odd = record(21, Phase::parse("SUCC\u{1b}[5mEEDED\u{2067}"), "odd", "m");
    odd.created_at = NOW - 1;
    // The detail pane's JSON comes from the store on demand (the rows are trimmed).
    let bodies = TaskBodies::of(&bad);
    update(&mut s, Msg::TasksLoaded(vec![bad.into(), odd.into()]));
    update(
        &mut s,
        Msg::History {
            local_id: "l0020".into(),
            entries: vec![HistoryEntry {
                status: "failed".into(),
                at: NOW,
                note: Some("note\u{1b}]52;c;AAAA\u{7}".into()),
            }],
        },
    );
    let table = rendered(&s);
    update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
    );
    update(
        &mut s,
        Msg::Bodies {
            local_id: "l0020".into(),
            result: Ok(bodies),
        },
    );
    let detail = rendered(&s);
    for screen in [&table, &detail] {
        let raw: Vec<char> = screen
            .chars()
            .filter(|&c| c != '\n' && crate::sanitize::is_unsafe(c))
            .collect();
        assert!(raw.is_empty(), "raw characters {raw:?} in:\n{screen}");
    }
    assert!(table.contains("a cat\\x1b[2J\\u202e"), "{table}");
    assert!(
        table.contains("SUCC\\x1b"),
        "the raw unknown status, escaped:\n{table}"
    );
    assert!(detail.contains("X\\x1b]0;pwned\\x07"), "{detail}");
    assert!(
        detail.contains("\\u009b31m\\u202egnp.exe\\nINFO"),
        "one line:\n{detail}"
    );
    assert!(detail.contains("note\\x1b]52;c;AAAA\\x07"), "{detail}");
    assert!(
        detail.contains("\\u009b\\u202e"),
        "the raw answer:\n{detail}"
    );
}

/// A follower's header names the poller on another host as `KIND pid N@HOST`; what that host
/// wrote into the shared store reaches the terminal escaped.
#[test]
fn the_poller_on_another_host_is_named_and_escaped_in_the_header() {
    let mut s = state(160, 20);
    s.health.leader = false;
    s.health.follows = Some("watch --daemon pid 4242@host-b".into());
    let screen = rendered(&s);
    assert!(
        screen.contains("following the poller: watch --daemon pid 4242@host-b"),
        "{screen}"
    );
    s.health.follows = Some("watch pid 1@evil\u{1b}]0;pwned\u{7}\u{202e}".into());
    let screen = rendered(&s);
    assert!(
        !screen
            .chars()
            .any(|c| c != '\n' && crate::sanitize::is_unsafe(c)),
        "{screen:?}"
    );
    assert!(
        screen.contains("following the poller: watch pid 1@evil"),
        "{screen}"
    );
}
