//! The mouse goes through `update` like every other input: the wheel moves the table and a click
//! selects a row, but neither touches the table while the composer is open or opening.

use crate::app::composer::ComposerMsg;
use crate::app::layout;
use crate::app::state::Focus;
use crate::app::test_support::{NOW, state};
use crate::app::{Effect, Msg, State, update};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

fn row_of_selection(s: &State) -> Option<usize> {
    s.selected_row()
}

fn open_composer(s: &mut State) {
    update(
        s,
        Msg::Key(KeyEvent::new(KeyCode::Char('n'), KeyModifiers::NONE)),
    );
    assert!(s.composer.opening);
}

#[test]
fn the_wheel_moves_the_table_and_a_click_selects_the_row_under_it() {
    let mut s = state(120, 40);
    let start = row_of_selection(&s).expect("a selection");
    update(&mut s, Msg::Scroll { down: true });
    assert_eq!(row_of_selection(&s), Some(start + 1));
    update(&mut s, Msg::Scroll { down: false });
    assert_eq!(row_of_selection(&s), Some(start));

    // The table's rows start under its title and column header.
    let table = layout::areas(s.size, s.detail).table;
    let fx = update(
        &mut s,
        Msg::Click {
            column: 10,
            row: table.y + 2 + 3,
        },
    );
    assert_eq!(row_of_selection(&s), Some(s.offset + 3));
    assert_eq!(s.focus, Focus::Table);
    assert!(fx.is_empty(), "no detail pane, nothing to load: {fx:?}");
    // The column header is not a row.
    update(
        &mut s,
        Msg::Click {
            column: 10,
            row: table.y + 1,
        },
    );
    assert_eq!(row_of_selection(&s), Some(s.offset + 3));
}

#[test]
fn the_mouse_does_not_move_the_table_while_the_composer_opens_or_is_open() {
    let mut s = state(120, 40);
    let start = row_of_selection(&s).expect("a selection");
    let table = layout::areas(s.size, s.detail).table;
    let click = Msg::Click {
        column: 10,
        row: table.y + 2 + 4,
    };

    open_composer(&mut s);
    assert!(update(&mut s, Msg::Scroll { down: true }).is_empty());
    update(&mut s, click.clone());
    assert_eq!(row_of_selection(&s), Some(start), "not while opening");
    assert!(
        s.pending_input.is_empty(),
        "the mouse is not replayed into the composer"
    );

    let draft = r#"{"composer_draft":1,"retry_of":null,"request":{"model":"doubao-seedance-2-0-260128","content":[{"type":"text","text":"a"}],"duration":5}}"#;
    update(
        &mut s,
        Msg::Composer(ComposerMsg::Drafts {
            items: vec![("draft a".into(), draft.into(), NOW - 5)],
            then_open: true,
        }),
    );
    assert!(s.composer.is_open());
    for _ in 0..3 {
        let fx = update(&mut s, Msg::Scroll { down: true });
        assert!(
            !fx.iter().any(|e| matches!(e, Effect::LoadHistory(_))),
            "{fx:?}"
        );
    }
    update(&mut s, click);
    assert_eq!(row_of_selection(&s), Some(start), "not while open");
    assert!(s.composer.is_open(), "the composer stays open");
}
