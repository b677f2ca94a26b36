//! The composer's fields for the parameters the API added: web search (`tools`), `priority`
//! and `safety_identifier`, each checked by the same rules as `submit` and the simulator.

use crate::app::composer::Field;
use crate::app::test_support::composer::*;
use crossterm::event::KeyCode;
use serde_json::json;

#[test]
fn web_search_toggles_the_tool_and_is_refused_where_the_model_has_none() {
    let mut s = open();
    focus(&mut s, Field::WebSearch);
    press(&mut s, KeyCode::Right);
    assert_eq!(request(&s).tools, Some(vec![json!({"type": "web_search"})]));
    assert!(ed(&s).problems_at(Field::WebSearch, None).is_empty());
    // The mini model is not in the page's list of models with tools.
    focus(&mut s, Field::Model);
    while request(&s).model != "doubao-seedance-2-0-mini-260615" {
        press(&mut s, KeyCode::Right);
    }
    let problems = ed(&s).problems_at(Field::WebSearch, None);
    assert_eq!(problems.len(), 1, "shown beside the tools row");
    focus(&mut s, Field::WebSearch);
    press(&mut s, KeyCode::Right);
    assert_eq!(
        request(&s).tools,
        None,
        "off again: no empty tools array is sent"
    );
    assert!(ed(&s).problems_at(Field::WebSearch, None).is_empty());
}

#[test]
fn priority_steps_within_0_to_9_and_a_typed_10_is_a_problem() {
    let mut s = open();
    focus(&mut s, Field::Priority);
    press(&mut s, KeyCode::Right);
    press(&mut s, KeyCode::Right);
    assert_eq!(request(&s).priority, Some(2));
    for _ in 0..20 {
        press(&mut s, KeyCode::Right);
    }
    assert_eq!(request(&s).priority, Some(9), "clamped at 9");
    typ(&mut s, "10");
    assert_eq!(request(&s).priority, Some(10));
    assert_eq!(ed(&s).problems_at(Field::Priority, None).len(), 1);
    focus(&mut s, Field::Priority);
    for _ in 0..20 {
        press(&mut s, KeyCode::Left);
    }
    assert_eq!(request(&s).priority, None, "0 is the default: not sent");
}

#[test]
fn safety_identifier_is_typed_as_ascii_and_checked_for_length() {
    let mut s = open();
    focus(&mut s, Field::SafetyIdentifier);
    typ(&mut s, "user 42é");
    assert_eq!(
        request(&s).safety_identifier.as_deref(),
        Some("user42"),
        "spaces and non-ASCII cannot be typed"
    );
    assert!(ed(&s).problems_at(Field::SafetyIdentifier, None).is_empty());
    typ(&mut s, &"x".repeat(60));
    assert_eq!(request(&s).safety_identifier.map(|v| v.len()), Some(66));
    assert_eq!(ed(&s).problems_at(Field::SafetyIdentifier, None).len(), 1);
}
