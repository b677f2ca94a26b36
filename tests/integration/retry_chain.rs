//! Retries never pay twice, and the daily spending cap. A retry chain is retried only at its
//! head: the store refuses a second retry of a task in the transaction that would write it (two
//! handles on one file cannot both win), the engine sends nothing then, and the dashboard's
//! question skips and names what was already retried. The cap (`[budget]`) is counted from the
//! store; the engine's `may_spend` is the one check every caller uses; the dashboard shows it
//! in the header, in the retry question, and asks again before a composer submission passes it.

use crate::support::composer::{composer_fx, ctrl, msg, open, typ};
use crate::support::engine::{fast, sim_and_engine};
use crate::support::fixtures::{rendered, state, task_record};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use seedance_tui::app::composer::{ComposerEffect, ComposerMsg, SubmitOutcome};
use seedance_tui::app::state::{Overlay, Question};
use seedance_tui::app::{Effect, Msg, State, update};
use seedance_tui::config::{BudgetConfig, PricingConfig};
use seedance_tui::engine::SubmitError;
use seedance_tui::engine::budget::{BudgetError, Planned, SpendingCap, estimate};
use seedance_tui::store::{NewSubmission, Store, StoreError};

const REQ: &str = r#"{"model":"doubao-seedance-2-0-fast-260128","content":[{"type":"text","text":"apple tea"}],"resolution":"720p","ratio":"16:9","duration":5}"#;

fn sub<'a>(id: &'a str, retry_of: Option<&'a str>) -> NewSubmission<'a> {
    NewSubmission {
        local_id: id,
        profile: "p",
        request_json: REQ,
        retry_of,
        now: 100,
    }
}

fn failed(s: &Store, id: &str) {
    s.begin_submission(&sub(id, None)).expect("begin");
    s.submission_accepted(id, &format!("cgt-{id}"), 100)
        .expect("accepted");
    let raw = format!(r#"{{"id":"cgt-{id}","status":"failed"}}"#);
    let task = seedance_tui::api::Task::from_json(&raw).expect("task");
    s.record_poll(id, &task, &raw, 101).expect("poll");
}

#[test]
fn a_task_is_retried_only_at_the_head_of_its_chain() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = Store::open(&dir.path().join("s.db")).expect("open");
    failed(&s, "l1");
    s.begin_retry(&sub("l2", Some("l1")))
        .expect("the first retry");
    let again = s.begin_retry(&sub("l3", Some("l1")));
    match again {
        Err(StoreError::AlreadyRetried {
            original,
            retry,
            status,
        }) => {
            assert_eq!(original, "cgt-l1");
            assert_eq!(retry, "l2", "no server id yet: the local id");
            assert_eq!(status, "submitting");
        }
        other => panic!("expected AlreadyRetried, got {other:?}"),
    }
    assert!(
        matches!(s.find("l3"), Err(StoreError::NotFound(_))),
        "nothing written"
    );
    // A rejected retry started nothing: the original is the head again.
    s.submission_rejected("l2", "InvalidParameter", "no", 102)
        .expect("rejected");
    s.begin_retry(&sub("l4", Some("l1")))
        .expect("after a rejected retry");
    // The retry fails in turn: it is the head now, not the original.
    s.submission_accepted("l4", "cgt-l4", 103).expect("ok");
    let raw = r#"{"id":"cgt-l4","status":"failed"}"#;
    let task = seedance_tui::api::Task::from_json(raw).expect("task");
    s.record_poll("l4", &task, raw, 104).expect("poll");
    assert!(matches!(
        s.begin_retry(&sub("l5", Some("l1"))),
        Err(StoreError::AlreadyRetried { .. })
    ));
    s.begin_retry(&sub("l5", Some("l4")))
        .expect("the head is retried");
    assert_eq!(s.find("l5").expect("row").retry_depth, 2);
    // An explicit resubmission (retry --again, an edit) is not held by the rule.
    s.begin_submission(&sub("l6", Some("l1")))
        .expect("explicit");
}

#[test]
fn two_stores_on_one_file_cannot_both_retry_a_task() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.db");
    failed(&Store::open(&path).expect("open"), "l1");
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(4));
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let (path, barrier) = (path.clone(), barrier.clone());
            std::thread::spawn(move || {
                let s = Store::open(&path).expect("open");
                let id = format!("r{i}");
                barrier.wait();
                s.begin_retry(&sub(&id, Some("l1"))).is_ok()
            })
        })
        .collect();
    let won = handles
        .into_iter()
        .map(|h| h.join().expect("thread"))
        .filter(|ok| *ok)
        .count();
    assert_eq!(won, 1, "exactly one process writes the retry");
}

#[tokio::test]
async fn the_engine_sends_one_retry_and_again_only_when_asked() {
    let (sim, _dir, engine) = sim_and_engine(fast()).await;
    let original = engine
        .submit(REQ.replace("apple tea", "apple tea [[sim:fail]]"), None)
        .await
        .expect("submitted");
    let first = engine.retry(&original).await.expect("the first retry");
    assert_eq!(sim.stats().creates, 2);
    match engine.retry(&original).await {
        Err(SubmitError::Store(StoreError::AlreadyRetried { retry, .. })) => {
            assert_eq!(retry, first.display_id());
        }
        other => panic!("expected AlreadyRetried, got {other:?}"),
    }
    assert_eq!(sim.stats().creates, 2, "the second retry sent nothing");
    engine
        .retry_again(&original)
        .await
        .expect("an explicit resubmission");
    assert_eq!(sim.stats().creates, 3);
}

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

fn cap(tokens: u64) -> SpendingCap {
    SpendingCap {
        budget: BudgetConfig {
            daily_tokens: Some(tokens),
            daily_money: None,
        },
        pricing: PricingConfig::default(),
    }
}

#[test]
fn the_header_and_the_retry_question_show_the_cap() {
    let mut s = state(120, 30);
    s.cap = cap(300_000);
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

#[tokio::test]
async fn may_spend_counts_todays_tasks_from_the_store() {
    let (sim, _dir, engine) = sim_and_engine(fast()).await;
    let req = seedance_tui::api::CreateRequest::from_json(REQ).expect("request");
    let one = estimate(&req);
    assert!(one > 0);
    // Room for two tasks, not three.
    let limit = one * 5 / 2;
    let engine = engine.with_spending_cap(cap(limit));
    let planned = vec![Planned::request(&req)];
    assert_eq!(planned[0].tokens, one);
    engine.may_spend(&planned).await.expect("an empty day");
    engine
        .submit(REQ.replace("apple tea", "held [[sim:hold]]"), None)
        .await
        .expect("submitted");
    let after = engine.may_spend(&planned).await.expect("two fit");
    assert_eq!(after.tokens, 2 * one);
    engine
        .submit(REQ.replace("apple tea", "held 2 [[sim:hold]]"), None)
        .await
        .expect("submitted");
    match engine.may_spend(&planned).await {
        Err(BudgetError::Over(o)) => {
            assert_eq!(o.today.tokens, 2 * one, "two queued tasks, estimated");
            let text = o.to_string();
            let want = format!(
                "{} tokens today + {one} for this = {} > the cap of {limit}",
                2 * one,
                3 * one
            );
            assert!(text.contains(&want), "{text}");
        }
        other => panic!("expected over the cap, got {other:?}"),
    }
    assert_eq!(sim.stats().creates, 2, "may_spend itself sends nothing");
}
