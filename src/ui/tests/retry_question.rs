//! The retry question and the daily spending cap on the dashboard: a retry chain is retried only
//! at its head (the question skips and names what was already retried, a retry in flight holds
//! Ctrl-R too); the cap shows in the header and in the retry question, and a composer
//! submission over it is sent only on a second Ctrl-S. (The store's and the engine's side:
//! `tests/integration/retry_chain.rs`.)

use crate::app::composer::{ComposerEffect, ComposerMsg, SubmitOutcome};
use crate::app::state::{Overlay, Question};
use crate::app::test_support::composer::{composer_fx, ctrl, msg, open, typ};
use crate::app::test_support::{state, task_record};
use crate::app::{Effect, Msg, State, update};
use crate::config::{BudgetConfig, PricingConfig};
use crate::engine::budget::SpendingCap;
use crate::ui::test_support::rendered;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn select(s: &mut State, local_id: &str) {
    update(s, key('g'));
    while s.selected.as_deref() != Some(local_id) {
        update(s, key('j'));
    }
}

#[test]
fn the_question_skips_and_names_tasks_already_retried() {
    // The fixtures' l0007 is a succeeded retry of the failed l0003.
    let mut s = state(100, 30);
    select(&mut s, "l0003");
    assert!(update(&mut s, key('r')).is_empty());
    assert_eq!(s.overlay, Overlay::None, "nothing left to ask about");
    let text = s
        .current_message()
        .map(|m| m.text.clone())
        .unwrap_or_default();
    assert!(
        text.contains(
            "already retried cgt-20261123100003-a0003 → cgt-20261123100007-a0007 (succeeded)"
        ),
        "{text}"
    );
    // Marked with another failed task: that one is asked about, l0003 is listed as skipped.
    update(&mut s, key(' '));
    select(&mut s, "l0004");
    update(&mut s, key(' '));
    update(&mut s, key('r'));
    let Overlay::Confirm(Question::Retry(plan)) = &s.overlay else {
        panic!("a retry question: {:?}", s.overlay);
    };
    assert_eq!(plan.local_ids, ["l0004"]);
    assert_eq!(plan.already.len(), 1);
    assert!(
        plan.already[0].contains("(succeeded)"),
        "{:?}",
        plan.already
    );
    let screen = rendered(&s);
    assert!(
        screen.contains("Skipped,") && screen.contains("already retried:"),
        "{screen}"
    );
}

#[test]
fn a_retry_in_flight_holds_ctrl_r_too() {
    let mut s = state(100, 30);
    // l0003 (failed) was just retried: its retry (here l0001) is queued.
    let mut t = task_record("l0001");
    t.retry_of = Some("l0003".into());
    let mut l7 = task_record("l0007");
    l7.retry_of = None;
    update(&mut s, Msg::TasksChanged(vec![t.into(), l7.into()]));
    update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::Char('r'), KeyModifiers::CONTROL)),
    );
    assert_eq!(s.overlay, Overlay::None);
    let text = s
        .current_message()
        .map(|m| m.text.clone())
        .unwrap_or_default();
    assert!(text.contains("(queued)"), "{text}");
}

#[test]
fn the_header_and_the_retry_question_show_the_cap() {
    let mut s = state(120, 30);
    s.cap = SpendingCap {
        budget: BudgetConfig {
            daily_tokens: Some(300_000),
            daily_money: None,
        },
        pricing: PricingConfig::default(),
    };
    let mut l7 = task_record("l0007");
    l7.retry_of = None;
    update(&mut s, Msg::TasksChanged(vec![l7.into()]));
    // Created today: l0000 running (std 720p 16:9 5 s estimated), l0001 queued, l0002 and
    // l0007 succeeded (108k each), l0006 submitting, l0008 unknown — well over 300k.
    assert!(s.spent_today.tokens > 300_000, "{:?}", s.spent_today);
    let screen = rendered(&s);
    assert!(screen.contains(" / 300k tok"), "{screen}");
    select(&mut s, "l0003");
    update(&mut s, key('r'));
    let Overlay::Confirm(Question::Retry(plan)) = &s.overlay else {
        panic!("a retry question: {:?}", s.overlay);
    };
    let over = plan.over_budget.clone().expect("over the cap");
    assert!(over.contains("> the cap of 300000"), "{over}");
    assert!(rendered(&s).contains("y sends it anyway"));
    // Confirming is the explicit let-through: the engine is told to pass the cap.
    assert_eq!(
        update(&mut s, key('y')),
        vec![Effect::RetryOverBudget(vec!["l0003".into()])]
    );
}

#[test]
fn a_composer_submission_over_the_cap_is_sent_only_on_a_second_ctrl_s() {
    let mut s = open();
    typ(&mut s, "a fox");
    let fx = ctrl(&mut s, 's');
    assert!(matches!(
        composer_fx(&fx).last(),
        Some(ComposerEffect::Submit {
            over_budget: false,
            ..
        })
    ));
    msg(
        &mut s,
        ComposerMsg::Submitted(SubmitOutcome::OverBudget(
            "over today's spending cap: 400000 tokens today + 108000 for this = 508000 > the cap of 500000 ([budget] daily_tokens); nothing was sent".into(),
        )),
    );
    assert!(s.composer.is_open(), "the draft comes back");
    let text = s
        .current_message()
        .map(|m| m.text.clone())
        .unwrap_or_default();
    assert!(text.contains("Ctrl-S again sends it anyway"), "{text}");
    let fx = ctrl(&mut s, 's');
    assert!(
        matches!(
            composer_fx(&fx).last(),
            Some(ComposerEffect::Submit {
                over_budget: true,
                ..
            })
        ),
        "{fx:?}"
    );
}
