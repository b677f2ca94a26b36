//! Retries never pay twice, and the daily spending cap. A retry chain is retried only at its
//! head: the store refuses a second retry of a task in the transaction that would write it (two
//! connections cannot both win: `src/store/tasks/tests.rs`) and the engine sends nothing then. The cap (`[budget]`)
//! is counted from the store; the engine's `may_spend` is the one check every caller uses. (The
//! dashboard's side, the retry question and the cap on screen: `src/ui/tests/retry_question.rs`.)

use crate::support::backend::{Backend, on_both_backends};
use crate::support::engine::{engine_on, fast, start_sim};
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
        asset_files: None,
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

fn a_task_is_retried_only_at_the_head_of_its_chain(b: &Backend) {
    let s = b.open();
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

async fn the_engine_sends_one_retry_and_again_only_when_asked(b: &Backend) {
    let sim = start_sim(fast()).await;
    let engine = engine_on(&sim, b.open());
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

fn cap(tokens: u64) -> SpendingCap {
    SpendingCap {
        budget: BudgetConfig {
            daily_tokens: Some(tokens),
            daily_money: None,
        },
        pricing: PricingConfig::default(),
    }
}

async fn may_spend_counts_todays_tasks_from_the_store(b: &Backend) {
    let sim = start_sim(fast()).await;
    let engine = engine_on(&sim, b.open());
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

on_both_backends!(a_task_is_retried_only_at_the_head_of_its_chain);

on_both_backends!(
    async the_engine_sends_one_retry_and_again_only_when_asked,
    async may_spend_counts_todays_tasks_from_the_store,
);
