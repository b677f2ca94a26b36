//! Every validation rule is refused both client-side and by the simulator, naming the same field
//! (`problem.field == error.param()`), and a valid variant of each is accepted by both.

use seedance_tui::api::types::CreateRequest;
use seedance_tui::api::validate::{Target, validate, validate_for};
use seedance_tui::api::{ApiError, ApiKey, ArkClient, ClientConfig, RetryPolicy};
use seedance_tui::sim::{self, SimConfig};
use serde_json::{Value, json};
use std::time::Duration;

const STD: &str = "doubao-seedance-2-0-260128";
const FAST: &str = "doubao-seedance-2-0-fast-260128";
const PRO15: &str = "doubao-seedance-1-5-pro-251215";
const PRO10: &str = "doubao-seedance-1-0-pro-250528";
const IMG: &str = "https://example.com/a.png";

fn text(t: &str) -> Value {
    json!({"type": "text", "text": t})
}
fn image(url: &str, role: Option<&str>) -> Value {
    let mut v = json!({"type": "image_url", "image_url": {"url": url}});
    if let Some(r) = role {
        v["role"] = json!(r);
    }
    v
}
fn video(role: &str) -> Value {
    json!({"type": "video_url", "video_url": {"url": "https://example.com/v.mp4"}, "role": role})
}
fn audio(url: &str) -> Value {
    json!({"type": "audio_url", "audio_url": {"url": url}, "role": "reference_audio"})
}

/// A valid text-to-video body for `model` with `extra` fields merged in.
fn body(model: &str, extra: Value) -> Value {
    let mut v = json!({"model": model, "content": [text("a paper boat on a river")]});
    if let (Some(map), Value::Object(more)) = (v.as_object_mut(), extra) {
        map.extend(more);
    }
    v
}

fn with_content(model: &str, items: Vec<Value>) -> Value {
    json!({"model": model, "content": items})
}

/// (name, invalid body, the field both must name)
fn invalid_cases() -> Vec<(&'static str, Value, &'static str)> {
    let refs = |n: usize| {
        let mut items = vec![text("x")];
        items.extend((0..n).map(|_| image(IMG, Some("reference_image"))));
        items
    };
    vec![
        ("empty model", body("", json!({})), "model"),
        (
            "labelled model",
            body("doubao-seedance-2-0-260128 (2.0-audio-video)", json!({})),
            "model",
        ),
        ("empty content", with_content(STD, vec![]), "content"),
        (
            "video with image role",
            with_content(STD, vec![text("x"), video("first_frame")]),
            "content[1].role",
        ),
        (
            "unknown role",
            with_content(STD, vec![text("x"), image(IMG, Some("hero"))]),
            "content[1].role",
        ),
        (
            "mixed scenarios",
            with_content(
                STD,
                vec![
                    text("x"),
                    image(IMG, Some("first_frame")),
                    image(IMG, Some("reference_image")),
                ],
            ),
            "content[2].role",
        ),
        (
            "last without first",
            with_content(STD, vec![text("x"), image(IMG, Some("last_frame"))]),
            "content[1].role",
        ),
        (
            "two first frames",
            with_content(
                STD,
                vec![
                    text("x"),
                    image(IMG, Some("first_frame")),
                    image(IMG, Some("first_frame")),
                ],
            ),
            "content[2].role",
        ),
        (
            "ten reference images",
            with_content(FAST, refs(10)),
            "content",
        ),
        (
            "references on 1.5 pro",
            with_content(PRO15, vec![text("x"), image(IMG, Some("reference_image"))]),
            "content[1].role",
        ),
        (
            "audio only",
            with_content(FAST, vec![text("x"), audio("https://example.com/a.mp3")]),
            "content",
        ),
        (
            "bad url",
            with_content(STD, vec![text("x"), image("ftp://example.com/a.png", None)]),
            "content[1].image_url.url",
        ),
        (
            "uppercase data format",
            with_content(
                STD,
                vec![text("x"), image("data:image/PNG;base64,iVBORw0KGgo=", None)],
            ),
            "content[1].image_url.url",
        ),
        (
            "broken base64",
            with_content(
                STD,
                vec![text("x"), image("data:image/png;base64,@@@@", None)],
            ),
            "content[1].image_url.url",
        ),
        (
            "base64 video",
            with_content(
                FAST,
                vec![
                    text("x"),
                    json!({"type": "video_url", "video_url": {"url": "data:video/mp4;base64,AAAA"}, "role": "reference_video"}),
                ],
            ),
            "content[1].video_url.url",
        ),
        (
            "duration too long",
            body(STD, json!({"duration": 16})),
            "duration",
        ),
        (
            "adaptive on 1.0",
            body(PRO10, json!({"duration": -1})),
            "duration",
        ),
        ("frames on 2.0", body(STD, json!({"frames": 121})), "frames"),
        (
            "frames not 25+4n",
            body(PRO10, json!({"frames": 30})),
            "frames",
        ),
        ("bad ratio", body(STD, json!({"ratio": "2:1"})), "ratio"),
        (
            "1080p on fast",
            body(FAST, json!({"resolution": "1080p"})),
            "resolution",
        ),
        (
            "seed too large",
            body(STD, json!({"seed": 4_294_967_296i64})),
            "seed",
        ),
        (
            "camera_fixed on 2.0",
            body(STD, json!({"camera_fixed": true})),
            "camera_fixed",
        ),
        (
            "unknown tier",
            body(STD, json!({"service_tier": "cheap"})),
            "service_tier",
        ),
        (
            "flex on 2.0",
            body(STD, json!({"service_tier": "flex"})),
            "service_tier",
        ),
        (
            "expiry too short",
            body(STD, json!({"execution_expires_after": 60})),
            "execution_expires_after",
        ),
        ("draft on 2.0", body(STD, json!({"draft": true})), "draft"),
        (
            "priority out of range",
            body(STD, json!({"priority": 10})),
            "priority",
        ),
        (
            "priority on 1.5",
            body(PRO15, json!({"priority": 2})),
            "priority",
        ),
        (
            "long safety id",
            body(STD, json!({"safety_identifier": "x".repeat(65)})),
            "safety_identifier",
        ),
        (
            "callback not http",
            body(STD, json!({"callback_url": "mailto:me@example.com"})),
            "callback_url",
        ),
    ]
}

/// Bodies that each rule's neighbourhood accepts.
fn valid_cases() -> Vec<(&'static str, Value)> {
    vec![
        (
            "unknown well-formed model",
            body("doubao-seedance-9-0-991231", json!({"duration": 10})),
        ),
        (
            "endpoint id on the official API",
            body("ep-20250101000000-abcde", json!({"duration": 10})),
        ),
        (
            "the largest seed",
            body(STD, json!({"seed": 2_147_483_647i64})),
        ),
        (
            "the mini model",
            body(
                "doubao-seedance-2-0-mini-260615",
                json!({"duration": 15, "resolution": "480p"}),
            ),
        ),
        (
            "web search, priority and safety id",
            body(
                FAST,
                json!({"tools": [{"type": "web_search"}], "priority": 3, "safety_identifier": "a1b2c3"}),
            ),
        ),
        (
            "first and last",
            with_content(
                STD,
                vec![
                    text("x"),
                    image(IMG, Some("first_frame")),
                    image(IMG, Some("last_frame")),
                ],
            ),
        ),
        (
            "role-less first frame",
            with_content(STD, vec![text("x"), image(IMG, None)]),
        ),
        ("nine references and audio", {
            let mut items = vec![
                text("x"),
                video("reference_video"),
                audio("data:audio/mp3;base64,SUQz"),
            ];
            items.extend((0..9).map(|_| image("asset://asset-1", Some("reference_image"))));
            with_content(FAST, items)
        }),
        (
            "inline png",
            with_content(
                STD,
                vec![text("x"), image("data:image/png;base64,iVBORw0KGgo=", None)],
            ),
        ),
        (
            "adaptive 2.0",
            body(
                STD,
                json!({"duration": -1, "ratio": "adaptive", "resolution": "4k"}),
            ),
        ),
        (
            "frames on 1.0",
            body(
                PRO10,
                json!({"frames": 121, "camera_fixed": true, "service_tier": "flex"}),
            ),
        ),
        (
            "1.5 draft",
            body(PRO15, json!({"draft": true, "seed": 2_147_483_647i64})),
        ),
        (
            "limits",
            body(
                STD,
                json!({"execution_expires_after": 259_200, "priority": 9, "safety_identifier": "u-1", "callback_url": "http://127.0.0.1:9/cb"}),
            ),
        ),
        (
            "null fields are absent",
            body(
                FAST,
                json!({"frames": null, "seed": null, "service_tier": null}),
            ),
        ),
    ]
}

#[tokio::test]
async fn each_rule_is_refused_by_client_and_simulator_on_the_same_field() {
    let cfg = SimConfig {
        speed: 1000.0,
        fail_rate: 0.0,
        ..SimConfig::default()
    };
    let sim = sim::start("127.0.0.1:0".parse().unwrap(), cfg)
        .await
        .expect("sim");
    let mut ccfg = ClientConfig::new(sim.base_url(), Some(ApiKey::new("sk-validation-test")));
    ccfg.timeout = Duration::from_secs(10);
    ccfg.retry = RetryPolicy {
        max_retries: 0,
        ..RetryPolicy::default()
    };
    let client = ArkClient::new(ccfg).unwrap();

    for (name, v, field) in invalid_cases() {
        let req = CreateRequest::from_value(v.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let problems = validate(&req);
        assert_eq!(
            problems.len(),
            1,
            "{name}: exactly one problem expected, got {problems:?}"
        );
        assert_eq!(problems[0].field, field, "{name}: client-side field");
        assert!(!problems[0].fix.is_empty(), "{name}: a fix is given");
        let err = client
            .create_raw(&v.to_string(), name)
            .await
            .expect_err(&format!("{name}: the simulator must refuse it"));
        assert!(
            matches!(err, ApiError::BadRequest { status: 400, .. }),
            "{name}: {err:?}"
        );
        assert_eq!(
            err.param(),
            Some(problems[0].field.as_str()),
            "{name}: same field on both sides"
        );
        assert!(!err.create_outcome_unknown(), "{name}");
    }
    for (name, v) in valid_cases() {
        let req = CreateRequest::from_value(v.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(validate(&req).is_empty(), "{name}: {:?}", validate(&req));
        let created = client.create_raw(&v.to_string(), name).await;
        if name == "unknown well-formed model" {
            // The client lets unknown models through (new ones appear); the service, like the
            // simulator, answers 404 for a model it does not serve.
            assert!(
                matches!(created, Err(ApiError::NotFound { ref code, .. }) if code == "InvalidEndpointOrModel.NotFound"),
                "{name}: {created:?}"
            );
            continue;
        }
        assert!(
            created.is_ok(),
            "{name}: the simulator accepts it: {created:?}"
        );
    }
    // Through the relay an endpoint id is refused, on `model`, by both sides.
    let mut rcfg = ClientConfig::new(
        sim.relay_base_url(),
        Some(ApiKey::new("sk-validation-test")),
    );
    rcfg.retry = RetryPolicy {
        max_retries: 0,
        ..RetryPolicy::default()
    };
    let relay = ArkClient::new(rcfg).unwrap();
    let v = body("ep-20250101000000-abcde", json!({}));
    let req = CreateRequest::from_value(v.clone()).unwrap();
    let problems = validate_for(&req, &Target::with_relay(true));
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].field, "model");
    let err = relay
        .create_raw(&v.to_string(), "relay-ep")
        .await
        .expect_err("the relay refuses endpoint ids");
    assert_eq!(err.param(), Some("model"), "{err:?}");
    sim.shutdown().await;
}
