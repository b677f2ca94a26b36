//! Templates in the composer: `d` in the template list forgets the selected one.

use crate::app::composer::{ComposerEffect, ComposerMsg, Mode};
use crate::app::test_support::state;
use crate::app::{Effect, Msg, update};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

#[test]
fn d_in_the_template_list_deletes_the_selected_template() {
    let mut s = state(120, 40);
    update(&mut s, key('n'));
    update(
        &mut s,
        Msg::Composer(ComposerMsg::Drafts {
            items: Vec::new(),
            then_open: true,
        }),
    );
    let body = r#"{"model":"doubao-seedance-2-0-260128","content":[{"type":"text","text":"x"}]}"#;
    update(
        &mut s,
        Msg::Composer(ComposerMsg::Templates(vec![
            ("ads".into(), body.into()),
            ("teasers".into(), body.into()),
        ])),
    );
    let fx = update(&mut s, key('d'));
    let deleted: Vec<&ComposerEffect> = fx
        .iter()
        .filter_map(|e| match e {
            Effect::Composer(c) => Some(c),
            _ => None,
        })
        .collect();
    assert_eq!(
        deleted,
        [&ComposerEffect::DeleteTemplate("ads".into())],
        "{fx:?}"
    );
    let editor = s.composer.editor.as_deref().expect("open");
    match &editor.mode {
        Mode::Picker { items, .. } => {
            let names: Vec<&str> = items.iter().map(|(n, _)| n.as_str()).collect();
            assert_eq!(names, ["teasers"]);
        }
        other => panic!("still in the list: {other:?}"),
    }
    assert!(
        s.current_message()
            .is_some_and(|m| m.text.contains("deleted template"))
    );
}
