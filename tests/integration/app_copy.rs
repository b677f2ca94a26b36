//! The copy menu's answer: "copied" only when the runtime reports a route known to work; else
//! the text in a popup to select by hand.

use crate::support::fixtures::state;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use insta::assert_snapshot;
use ratatui::{Terminal, backend::TestBackend};
use seedance_tui::app::copy::CopyRoute;
use seedance_tui::app::state::Overlay;
use seedance_tui::app::{Effect, Msg, update};

fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn copy_id(s: &mut seedance_tui::app::State) -> String {
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
    term.draw(|f| seedance_tui::ui::view(&s, f)).expect("draw");
    let buf = term.backend().buffer().clone();
    let screen: String = (0..buf.area.height)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect::<String>()
                .trim_end()
                .to_string()
                + "\n"
        })
        .collect();
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
