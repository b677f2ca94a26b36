//! The copy menu's answer: "copied" only when the runtime reports a route known to work; else
//! the text in a popup to select by hand.

use crate::app::copy::CopyRoute;
use crate::app::state::Overlay;
use crate::app::test_support::state;
use crate::app::{Effect, Msg, update};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use insta::assert_snapshot;
use ratatui::{Terminal, backend::TestBackend};

fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn copy_id(s: &mut crate::app::State) -> String {
    update(s, key('y'));
    let fx = update(s, key('i'));
    let [Effect::Copy(text)] = &fx[..] else {
        panic!("{fx:?}")
    };
    assert!(
        s.current_message()
            .is_none_or(|m| !m.text.contains("copied")),
        "nothing is said to be copied before the runtime answers"
    );
    text.clone()
}

#[test]
fn a_known_route_says_copied_and_where() {
    let mut s = state(100, 30);
    let text = copy_id(&mut s);
    let id = text.clone();
    update(
        &mut s,
        Msg::Copied {
            text,
            route: Some(CopyRoute::TmuxBuffer),
        },
    );
    let m = s.current_message().expect("a message");
    // What was copied is shown too, so it can be read where the clipboard does not reach.
    assert_eq!(m.text, format!("copied the task id to tmux's buffer: {id}"));
    assert_eq!(s.overlay, Overlay::None);
}

#[test]
fn no_known_route_shows_the_text_to_select_by_hand() {
    let mut s = state(100, 30);
    let text = copy_id(&mut s);
    update(
        &mut s,
        Msg::Copied {
            text: text.clone(),
            route: None,
        },
    );
    assert!(matches!(&s.overlay, Overlay::CopyText { text: t, .. } if *t == text));
    assert!(
        s.current_message()
            .is_some_and(|m| !m.text.starts_with("copied"))
    );
    let mut term = Terminal::new(TestBackend::new(80, 24)).expect("terminal");
    term.draw(|f| crate::ui::view(&s, f)).expect("draw");
    let screen = crate::ui::test_support::trimmed_text(term.backend().buffer());
    // The text starts at the first column, with no border to select along with it.
    assert!(
        screen.lines().any(|l| l == text),
        "the id on a line of its own:\n{screen}"
    );
    assert_snapshot!("copy_text_popup_80x24", screen);
    update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)),
    );
    assert_eq!(s.overlay, Overlay::None);
}

#[test]
fn with_marked_rows_y_i_copies_every_marked_id_in_table_order() {
    let mut s = state(100, 30);
    update(&mut s, key(' ')); // marks the first row and moves on
    update(&mut s, key(' ')); // and the second
    let want: Vec<String> = s.order[..2]
        .iter()
        .map(|&i| s.tasks[i].display_id().to_string())
        .collect();
    let text = copy_id(&mut s);
    assert_eq!(text, want.join("\n"));
    // Other copies need one task: they say so instead of copying one of them.
    update(&mut s, key('y'));
    let fx = update(&mut s, key('j'));
    assert!(fx.is_empty(), "{fx:?}");
    let m = s.current_message().expect("a message");
    assert!(m.text.contains("only their ids"), "{}", m.text);
}
