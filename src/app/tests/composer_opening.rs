//! What is typed between `n` and the draft arriving from the store goes into the composer, in
//! order, and never reaches the dashboard's keys (`d` would download, `q` would quit).

use crate::app::composer::ComposerMsg;
use crate::app::state::Overlay;
use crate::app::test_support::{NOW, state};
use crate::app::{Effect, Msg, update};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

#[test]
fn keys_typed_while_the_composer_opens_are_replayed_into_it() {
    let mut s = state(120, 40);
    update(&mut s, key('n'));
    assert!(!s.composer.is_open(), "the drafts are still being read");
    // A fast typist (or a burst over SSH): none of these may act on the dashboard.
    let mut early = Vec::new();
    for c in "dq quiet".chars() {
        early.extend(update(&mut s, key(c)));
    }
    early.extend(update(&mut s, Msg::Paste(" dawn".into())));
    assert!(
        early.is_empty(),
        "nothing acted before the composer opened: {early:?}"
    );
    assert_eq!(s.overlay, Overlay::None, "q did not ask to quit");

    let draft = r#"{"composer_draft":1,"retry_of":null,"request":{"model":"doubao-seedance-2-0-260128","content":[{"type":"text","text":"a "}],"duration":5}}"#;
    let fx = update(
        &mut s,
        Msg::Composer(ComposerMsg::Drafts {
            items: vec![("draft a".into(), draft.into(), NOW - 5)],
            then_open: true,
        }),
    );
    let editor = s.composer.editor.as_deref().expect("open");
    assert!(
        editor.prompt_text().ends_with("dq quiet dawn"),
        "typed text kept in order: {:?}",
        editor.prompt_text()
    );
    assert!(s.pending_input.is_empty());
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::Quit)),
        "the replayed q was text, not quit: {fx:?}"
    );
    // Once open, keys go straight to the composer.
    update(&mut s, key('!'));
    let editor = s.composer.editor.as_deref().expect("open");
    assert!(editor.prompt_text().ends_with("dawn!"));
}
