//! The curl commands the dashboard and the composer copy name the environment variable
//! the key was actually read from (a profile's `key_env`, or ARK_API_KEY), not a fixed
//! SEEDANCE_API_KEY that may be unset.

use crate::app::Effect;
use crate::app::composer::ComposerMsg;
use crate::app::test_support::composer::*;
use crossterm::event::KeyCode;

fn copied(fx: &[Effect]) -> String {
    fx.iter()
        .find_map(|e| match e {
            Effect::Copy(t) => Some(t.clone()),
            _ => None,
        })
        .expect("something copied")
}

#[test]
fn the_copy_menu_curl_uses_the_variable_the_key_came_from() {
    let mut s = crate::app::test_support::state(120, 40);
    s.key_var = "ARK_API_KEY".into();
    ch(&mut s, 'y');
    let fx = ch(&mut s, 'c');
    let text = copied(&crate::app::test_support::answer_bodies(&mut s, fx));
    assert!(text.contains("Bearer $ARK_API_KEY"), "{text}");
    assert!(!text.contains("SEEDANCE_API_KEY"));
}

#[test]
fn the_composer_preview_curl_uses_the_variable_the_key_came_from() {
    let mut s = open();
    s.key_var = "MY_SEEDANCE_KEY".into();
    typ(&mut s, "a fox");
    press(&mut s, KeyCode::F(2));
    let body = ed(&s).request().to_json();
    msg(&mut s, ComposerMsg::Preview(Ok(body)));
    let text = copied(&ch(&mut s, 'c'));
    assert!(text.contains("Bearer $MY_SEEDANCE_KEY"), "{text}");
    assert!(!text.contains("SEEDANCE_API_KEY"));
}
