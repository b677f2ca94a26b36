//! Reference-video seconds in the token estimate (the 2.0 series bills input plus output
//! seconds): a remote video's duration is read from its first bytes with a ranged GET, against
//! the simulator's result files over loopback (`assets/sim/sample.mp4`, 4 s); a video whose
//! header cannot be read is named as left out; the spending cap counts the input seconds.

use crate::support::engine::{fast, sim_and_engine, succeeded_task};
use seedance_tui::api::CreateRequest;
use seedance_tui::api::models::{self, TokenInput};
use seedance_tui::config::{BudgetConfig, PricingConfig};
use seedance_tui::engine::budget::{self, SpendingCap};
use seedance_tui::engine::{SubmitError, input_video};
use seedance_tui::file_download::http_client;

const MODEL: &str = "doubao-seedance-2-0-260128";

fn request_with_video(url: &str) -> CreateRequest {
    let body = serde_json::json!({
        "model": MODEL,
        "content": [
            {"type": "text", "text": "[[sim:hold]] a cat walks like the reference"},
            {"type": "video_url", "video_url": {"url": url}, "role": "reference_video"}
        ],
        "resolution": "720p", "ratio": "16:9", "duration": 5
    });
    CreateRequest::from_json(&body.to_string()).expect("request")
}

fn tokens(input_video_seconds: f64) -> u64 {
    models::estimate_tokens(&TokenInput {
        model: MODEL,
        resolution: "720p",
        ratio: "16:9",
        seconds: 5,
        input_video_seconds,
        has_input_video: true,
    })
}

#[tokio::test]
async fn a_remote_video_is_read_by_a_ranged_get_and_counted() {
    let (sim, _dir, engine) = sim_and_engine(fast()).await;
    let done = succeeded_task(&engine, "a reference").await;
    let url = done.video_url.clone().expect("a result link");
    let req = request_with_video(&url);
    let minimum_only = budget::estimate(&req);
    assert_eq!(minimum_only, tokens(0.0), "nothing read yet: the minimum");
    let ranged_before = sim.stats().ranged_downloads;

    let videos = input_video::read(&req, &http_client()).await;

    assert_eq!(videos.seconds, 4.0, "sample.mp4's mvhd says 4 s");
    assert!(videos.unread.is_empty(), "{videos:?}");
    assert_eq!(videos.note(), None);
    assert!(sim.stats().ranged_downloads > ranged_before, "a Range GET");
    // 720p 16:9: 5 s out (108,900) + 4 s in (1280·720·24·4/1024 = 86,400), above the minimum.
    assert_eq!(budget::estimate(&req), 108_900 + 86_400);
    assert!(budget::estimate(&req) > minimum_only);
}

#[tokio::test]
async fn a_large_video_is_read_by_its_first_bytes_only() {
    // A 300 MB video (generated: the sample's header, then filler) is measured from 1 MiB.
    let (sim, _dir, engine) = sim_and_engine(seedance_tui::sim::SimConfig {
        video_size: Some(300_000_000),
        ..fast()
    })
    .await;
    let done = succeeded_task(&engine, "a large reference").await;
    let req = request_with_video(&done.video_url.clone().expect("a result link"));
    let before = sim.stats();
    let videos = input_video::read(&req, &http_client()).await;
    assert_eq!(videos.seconds, 4.0);
    let after = sim.stats();
    assert_eq!(
        after.ranged_downloads - before.ranged_downloads,
        1,
        "one ranged read"
    );
}

#[tokio::test]
async fn a_video_without_a_readable_header_is_named_as_left_out() {
    let (_sim, _dir, engine) = sim_and_engine(fast()).await;
    let done = succeeded_task(&engine, "an unreadable reference").await;
    // A file with no mp4 header (the last frame, a PNG) given as the video.
    let url = done.last_frame_url.clone().expect("a last-frame link");
    let req = request_with_video(&url);

    let videos = input_video::read(&req, &http_client()).await;

    assert_eq!(videos.seconds, 0.0);
    assert_eq!(videos.unread.len(), 1, "{videos:?}");
    assert!(!videos.unread[0].contains('?'), "no signature shown");
    let note = videos.note().expect("a note");
    assert!(note.contains("estimate excludes the input video"), "{note}");
    assert_eq!(budget::estimate(&req), tokens(0.0), "the minimum only");

    let asset = request_with_video("asset://asset-20260101-abc");
    let videos = input_video::read(&asset, &http_client()).await;
    assert_eq!(videos.unread, ["asset://asset-20260101-abc"]);
}

#[tokio::test]
async fn the_cap_counts_the_input_seconds() {
    let (sim, _dir, engine) = sim_and_engine(fast()).await;
    let done = succeeded_task(&engine, "a reference for the cap").await;
    let url = done.video_url.clone().expect("a result link");
    // Room for the minimum (≈178,900) but not for 5 s out + 4 s in (195,300).
    let engine = engine.with_spending_cap(SpendingCap {
        budget: BudgetConfig {
            daily_tokens: Some(190_000 + done.tokens.unwrap_or(0)),
            daily_money: None,
        },
        pricing: PricingConfig::default(),
    });
    let req = request_with_video(&url);
    let creates = sim.stats().creates;
    // The engine reads the video itself when a cap is set.

    match engine.submit(req.to_json(), None).await {
        Err(SubmitError::OverBudget(o)) => {
            assert_eq!(o.adding.tokens, 195_300, "{o}");
        }
        other => panic!("expected the cap to refuse, got {other:?}"),
    }
    assert_eq!(sim.stats().creates, creates, "nothing was sent");
}

#[tokio::test]
async fn a_local_video_sent_through_a_link_counts_its_header_seconds() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("ref.mp4");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/assets/sim/sample.mp4"),
        &path,
    )
    .expect("copy");
    let req = request_with_video(path.to_str().expect("utf8"));
    assert_eq!(budget::estimate(&req), tokens(0.0));
    let videos = input_video::read(&req, &http_client()).await;
    assert_eq!(videos.seconds, 4.0);
    assert_eq!(budget::estimate(&req), 108_900 + 86_400);
}
