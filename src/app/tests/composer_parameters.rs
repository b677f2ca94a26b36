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
    // 1.5 pro is not in the page's list of models with tools.
    focus(&mut s, Field::Model);
    while request(&s).model != "doubao-seedance-1-5-pro-251215" {
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

/// With a first-frame image and no ratio chosen, the composer sends `adaptive` (a fixed ratio
/// would crop the image) and says so; `[defaults] ratio` is for text; a chosen ratio is kept.
#[test]
fn a_first_frame_image_gets_the_adaptive_ratio_unless_one_is_chosen() {
    use crate::app::composer::fields::display;
    use crate::app::{Msg, update};
    let mut s = open();
    assert_eq!(
        request(&s).ratio.as_deref(),
        Some("16:9"),
        "text: the default"
    );
    assert_eq!(display(ed(&s), Field::Ratio), "16:9 (default)");
    focus(&mut s, Field::Assets);
    update(&mut s, Msg::Paste("https://example.com/first.png".into()));
    assert_eq!(ed(&s).assets.len(), 1);
    assert_eq!(request(&s).ratio.as_deref(), Some("adaptive"));
    assert_eq!(
        display(ed(&s), Field::Ratio),
        "adaptive (follows the first frame)"
    );
    // The draft keeps the ratio unchosen: reopened, it still follows the image.
    let json = crate::app::composer::draft_json(ed(&s));
    let back = crate::app::composer::editor_from_json("d".into(), &json).expect("draft");
    assert_eq!(back.request().ratio.as_deref(), Some("adaptive"));
    // A ratio the user chooses is what is sent.
    focus(&mut s, Field::Ratio);
    press(&mut s, KeyCode::Right);
    let chosen = request(&s).ratio.expect("a ratio");
    assert_ne!(chosen, "adaptive");
    assert_eq!(display(ed(&s), Field::Ratio), chosen);
}
