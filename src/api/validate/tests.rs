//! Unit tests of the validation rules: each rule accepted when valid and refused when not.

use super::url::base64_decoded_len;
use super::*;
use crate::api::types::{ContentItem, CreateRequest, DraftRef, MediaKind, Role};
use serde_json::json;

const STD: &str = "doubao-seedance-2-0-260128";
const FAST: &str = "doubao-seedance-2-0-fast-260128";
const PRO15: &str = "doubao-seedance-1-5-pro-251215";
const PRO10: &str = "doubao-seedance-1-0-pro-250528";
const IMG: &str = "https://example.com/a.png";
const VID: &str = "https://example.com/a.mp4";
const AUD: &str = "https://example.com/a.mp3";

fn text_req(model: &str) -> CreateRequest {
    CreateRequest {
        model: model.to_string(),
        content: vec![ContentItem::text("a red apple on a table")],
        ..Default::default()
    }
}

fn with(model: &str, items: Vec<ContentItem>) -> CreateRequest {
    let mut r = text_req(model);
    r.content.extend(items);
    r
}

fn img(role: Option<Role>) -> ContentItem {
    ContentItem::media(MediaKind::Image, IMG, role)
}
fn vid(role: Option<Role>) -> ContentItem {
    ContentItem::media(MediaKind::Video, VID, role)
}
fn aud(role: Option<Role>) -> ContentItem {
    ContentItem::media(MediaKind::Audio, AUD, role)
}

fn relay_problems(r: &CreateRequest) -> Vec<Problem> {
    validate_for(r, &Target::with_relay(true))
}

fn fields(r: &CreateRequest) -> Vec<String> {
    validate(r).into_iter().map(|p| p.field).collect()
}

#[track_caller]
fn ok(r: &CreateRequest) {
    let p = validate(r);
    assert!(p.is_empty(), "expected no problems, got {p:?}");
}

#[track_caller]
fn bad(r: &CreateRequest, field: &str) -> Problem {
    let p = validate(r);
    let found = p.iter().find(|p| p.field == field).cloned();
    found.unwrap_or_else(|| panic!("expected a problem on {field}, got {p:?}"))
}

#[test]
fn seed_page_examples_are_valid() {
    let t2v = json!({"model": FAST, "content": [{"type": "text", "text": "apple tea ad"}],
        "ratio": "16:9", "duration": 4, "resolution": "720p", "watermark": false,
        "generate_audio": false, "return_last_frame": true});
    let flf = json!({"model": STD, "content": [{"type": "text", "text": "x"},
        {"type": "image_url", "image_url": {"url": IMG}, "role": "first_frame"},
        {"type": "image_url", "image_url": {"url": IMG}, "role": "last_frame"}],
        "ratio": "adaptive", "duration": 4, "resolution": "720p"});
    let refs = json!({"model": FAST, "content": [{"type": "text", "text": "x"},
        {"type": "image_url", "image_url": {"url": IMG}, "role": "reference_image"},
        {"type": "video_url", "video_url": {"url": VID}, "role": "reference_video"},
        {"type": "audio_url", "audio_url": {"url": AUD}, "role": "reference_audio"}],
        "ratio": "16:9", "duration": 4, "resolution": "720p", "generate_audio": true});
    for v in [t2v, flf, refs] {
        ok(&CreateRequest::from_value(v).unwrap());
    }
}

#[test]
fn model_rules() {
    let p = bad(&text_req(""), "model");
    assert_eq!(p.code, CODE_MISSING);
    assert!(p.fix.contains(FAST));
    // Endpoint ids: fine on the official API, refused through the relay.
    ok(&text_req("ep-20250101-abc"));
    let p = relay_problems(&text_req("ep-20250101-abc"))
        .into_iter()
        .find(|p| p.field == "model")
        .expect("refused through the relay");
    assert!(
        p.fix.contains("plain model id") && p.fix.contains("--profile ark"),
        "{p}"
    );
    // A model the relay does not serve is named, with the fix.
    let p = relay_problems(&text_req(PRO15))
        .into_iter()
        .find(|p| p.field == "model")
        .expect("1.5 pro is not on the relay");
    assert!(p.message.contains("does not serve"), "{p}");
    assert!(relay_problems(&text_req("doubao-seedance-2-0-mini-260615")).is_empty());
    let p = bad(
        &text_req("doubao-seedance-2-0-260128 (2.0-audio-video)"),
        "model",
    );
    assert!(
        p.fix.contains("drop the label") && p.fix.contains("`doubao-seedance-2-0-260128`"),
        "{p}"
    );
    bad(&text_req("doubao/seedance"), "model");
    // Unknown but well-formed: allowed, and no capability checks.
    let mut r = text_req("doubao-seedance-3-0-999999");
    r.resolution = Some("8k".into());
    r.camera_fixed = Some(true);
    ok(&r);
    let w = warnings(&r, &Target::official());
    assert!(w.len() == 1 && w[0].contains("[models."), "{w:?}");
    assert!(warnings(&text_req(STD), &Target::official()).is_empty());
    assert!(is_plain_model_id(STD));
    assert!(is_plain_model_id("ep-x"));
    assert!(!is_plain_model_id("a b"));
    assert_eq!(strip_model_label("m-1 (label)"), "m-1");
}

#[test]
fn content_must_have_input() {
    let mut r = text_req(STD);
    r.content.clear();
    assert_eq!(bad(&r, "content").code, CODE_MISSING);
    r.content = vec![ContentItem::text("   ")];
    bad(&r, "content");
    // An image alone is enough (image to video without a prompt).
    ok(&CreateRequest {
        model: STD.into(),
        content: vec![img(Some(Role::FirstFrame))],
        ..Default::default()
    });
    // An empty text beside a real input is its own problem.
    let r = with(STD, vec![ContentItem::text("")]);
    bad(&r, "content[1].text");
}

#[test]
fn roles_must_fit_the_item_type() {
    ok(&with(STD, vec![img(None)]));
    ok(&with(STD, vec![img(Some(Role::ReferenceImage))]));
    ok(&with(STD, vec![vid(Some(Role::ReferenceVideo))]));
    bad(
        &with(STD, vec![vid(Some(Role::FirstFrame))]),
        "content[1].role",
    );
    bad(
        &with(STD, vec![img(Some(Role::ReferenceVideo))]),
        "content[1].role",
    );
    bad(
        &with(
            STD,
            vec![
                img(Some(Role::ReferenceImage)),
                aud(Some(Role::ReferenceImage)),
            ],
        ),
        "content[2].role",
    );
    let p = bad(&with(STD, vec![vid(None)]), "content[1].role");
    assert!(p.fix.contains("reference_video"));
    let p = bad(
        &with(STD, vec![img(Some(Role::Other("hero".into())))]),
        "content[1].role",
    );
    assert!(p.message.contains("hero"));
}

#[test]
fn scenarios_never_mix() {
    let r = with(
        STD,
        vec![img(Some(Role::FirstFrame)), img(Some(Role::ReferenceImage))],
    );
    let p = bad(&r, "content[2].role");
    assert!(p.message.contains("cannot be mixed"));
    // A role-less image is a first frame, so it mixes too.
    bad(
        &with(STD, vec![vid(Some(Role::ReferenceVideo)), img(None)]),
        "content[2].role",
    );
    // Each scenario alone passes: text only, a first frame, first and last frames, references.
    ok(&text_req(STD));
    ok(&with(STD, vec![img(None)]));
    ok(&with(
        STD,
        vec![img(Some(Role::FirstFrame)), img(Some(Role::LastFrame))],
    ));
    ok(&with(STD, vec![vid(Some(Role::ReferenceVideo))]));
}

#[test]
fn last_frame_needs_first_and_frames_are_unique() {
    let p = bad(
        &with(STD, vec![img(Some(Role::LastFrame))]),
        "content[1].role",
    );
    assert!(p.message.contains("needs a first_frame"));
    ok(&with(STD, vec![img(Some(Role::LastFrame)), img(None)]));
    bad(
        &with(STD, vec![img(None), img(Some(Role::FirstFrame))]),
        "content[2].role",
    );
    bad(
        &with(
            STD,
            vec![
                img(None),
                img(Some(Role::LastFrame)),
                img(Some(Role::LastFrame)),
            ],
        ),
        "content[3].role",
    );
}

#[test]
fn reference_limits_on_2_0() {
    let imgs = |n| {
        (0..n)
            .map(|_| img(Some(Role::ReferenceImage)))
            .collect::<Vec<_>>()
    };
    ok(&with(FAST, imgs(9)));
    let p = bad(&with(FAST, imgs(10)), "content");
    assert!(p.message.contains("at most 9"));
    let vids = |n| {
        (0..n)
            .map(|_| vid(Some(Role::ReferenceVideo)))
            .collect::<Vec<_>>()
    };
    ok(&with(FAST, vids(3)));
    bad(&with(FAST, vids(4)), "content");
    let mut items = vids(1);
    items.extend((0..4).map(|_| aud(Some(Role::ReferenceAudio))));
    bad(&with(FAST, items), "content");
}

/// A model in no table (a newer generation, say with 30 s and audio-only references) is
/// checked only for what every model shares; a configured one by its own entry.
#[test]
fn unknown_models_get_only_the_shared_rules_and_configured_ones_their_own() {
    let newer = "doubao-seedance-2-5-260628";
    let mut items: Vec<ContentItem> = (0..30).map(|_| img(Some(Role::ReferenceImage))).collect();
    items.extend((0..10).map(|_| vid(Some(Role::ReferenceVideo))));
    let mut r = with(newer, items);
    r.duration = Some(30);
    ok(&r);
    ok(&with(newer, vec![aud(Some(Role::ReferenceAudio))]));
    // The shared rules still hold: roles never mix, a last frame needs a first.
    bad(
        &with(
            newer,
            vec![img(Some(Role::FirstFrame)), img(Some(Role::ReferenceImage))],
        ),
        "content[2].role",
    );
    // Described in the config, the same id is checked by its entry.
    let mut table = crate::api::models::ModelTable::shipped();
    let overrides = toml::from_str(&format!(
        "[\"{newer}\"]\nlike = \"{STD}\"\nmax_duration = 30\nmax_reference_images = 30\naudio_only_references = true\n"
    ))
    .expect("parses");
    table.apply(&overrides).expect("applies");
    let target = Target {
        models: &table,
        relay: false,
    };
    assert!(
        validate_for(&r, &target)
            .iter()
            .any(|p| p.field == "content" && p.message.contains("at most 3")),
        "10 videos over the copied limit of 3"
    );
    r.duration = Some(31);
    assert!(
        validate_for(&r, &target)
            .iter()
            .any(|p| p.field == "duration")
    );
    let audio_only = with(newer, vec![aud(Some(Role::ReferenceAudio))]);
    assert!(validate_for(&audio_only, &target).is_empty());
}

#[test]
fn heic_only_where_the_model_takes_it() {
    // 1.5 pro and later, the 2.0 series included (the current create page); not 1.0.
    let heic = ContentItem::media(MediaKind::Image, "data:image/heic;base64,AAAA", None);
    bad(&with(PRO10, vec![heic.clone()]), "content[1].image_url.url");
    ok(&with(PRO15, vec![heic.clone()]));
    ok(&with(STD, vec![heic.clone()]));
    ok(&with(FAST, vec![heic]));
    bad(
        &with(
            PRO10,
            vec![ContentItem::media(
                MediaKind::Image,
                "https://x.example/a.HEIC?sig=1",
                None,
            )],
        ),
        "content[1].image_url.url",
    );
}

#[test]
fn references_only_for_models_that_take_them() {
    let p = bad(
        &with(PRO15, vec![img(Some(Role::ReferenceImage))]),
        "content[1].role",
    );
    assert!(p.message.contains("reference"));
    ok(&with(
        PRO15,
        vec![img(Some(Role::FirstFrame)), img(Some(Role::LastFrame))],
    ));
}

#[test]
fn audio_is_never_the_only_reference() {
    let p = bad(
        &with(FAST, vec![aud(Some(Role::ReferenceAudio))]),
        "content",
    );
    assert!(p.fix.contains("image or video"));
    ok(&with(
        FAST,
        vec![
            aud(Some(Role::ReferenceAudio)),
            vid(Some(Role::ReferenceVideo)),
        ],
    ));
    ok(&with(
        FAST,
        vec![
            img(Some(Role::ReferenceImage)),
            aud(Some(Role::ReferenceAudio)),
        ],
    ));
}

fn with_url(kind: MediaKind, url: &str) -> CreateRequest {
    let role = Some(match kind {
        MediaKind::Image => Role::ReferenceImage,
        MediaKind::Video => Role::ReferenceVideo,
        MediaKind::Audio => Role::ReferenceAudio,
    });
    let mut items = vec![ContentItem::media(kind, url, role)];
    if kind == MediaKind::Audio {
        items.push(img(Some(Role::ReferenceImage)));
    }
    with(STD, items)
}

#[test]
fn url_forms() {
    let f = "content[1].image_url.url";
    ok(&with_url(MediaKind::Image, "https://x.example/a.png?sig=1"));
    ok(&with_url(MediaKind::Image, "http://127.0.0.1:8080/a.png"));
    ok(&with_url(MediaKind::Image, "asset://asset-123"));
    ok(&with_url(
        MediaKind::Image,
        "data:image/png;base64,iVBORw0KGgo=",
    ));
    ok(&with_url(MediaKind::Audio, "data:audio/mp3;base64,SUQz"));
    assert_eq!(bad(&with_url(MediaKind::Image, ""), f).code, CODE_MISSING);
    bad(&with_url(MediaKind::Image, "https:///a.png"), f);
    bad(&with_url(MediaKind::Image, "https://x.example/a b.png"), f);
    bad(&with_url(MediaKind::Image, "asset://"), f);
    bad(&with_url(MediaKind::Image, "/home/me/a.png"), f);
    bad(&with_url(MediaKind::Image, "ftp://x.example/a.png"), f);
    let p = bad(
        &with_url(MediaKind::Image, "data:image/PNG;base64,iVBORw0KGgo="),
        f,
    );
    assert!(
        p.message.contains("lowercase") && p.fix.contains("data:image/png"),
        "{p}"
    );
    bad(&with_url(MediaKind::Image, "data:audio/mp3;base64,SUQz"), f);
    bad(&with_url(MediaKind::Image, "data:image/svg;base64,SUQz"), f);
    bad(&with_url(MediaKind::Image, "data:image/png,rawbytes"), f);
    bad(
        &with_url(MediaKind::Image, "data:image/png;base64,not*base64!"),
        f,
    );
    bad(&with_url(MediaKind::Image, "data:image/png;base64,abc"), f);
    bad(&with_url(MediaKind::Image, "data:image/png;base64,"), f);
    let p = bad(
        &with_url(MediaKind::Video, "data:video/mp4;base64,AAAA"),
        "content[1].video_url.url",
    );
    assert!(p.message.contains("video"));
    bad(
        &with_url(MediaKind::Audio, "data:image/png;base64,AAAA"),
        "content[1].audio_url.url",
    );
}

#[test]
fn base64_length_is_computed_without_decoding() {
    assert_eq!(base64_decoded_len("SUQz"), Some(3));
    assert_eq!(base64_decoded_len("SUQ="), Some(2));
    assert_eq!(base64_decoded_len("SU=="), Some(1));
    assert_eq!(base64_decoded_len("S==="), None);
    assert_eq!(base64_decoded_len("SU=z"), None);
    assert_eq!(base64_decoded_len(""), None);
}

#[test]
fn inline_sizes_and_body_limit() {
    let big = |bytes: u64| "A".repeat((bytes.div_ceil(3) * 4) as usize);
    let at_limit = format!("data:image/png;base64,{}", big(models::MAX_IMAGE_BYTES - 2));
    ok(&with_url(MediaKind::Image, &at_limit));
    let over = format!("data:image/png;base64,{}", big(models::MAX_IMAGE_BYTES + 3));
    let p = bad(
        &with_url(MediaKind::Image, &over),
        "content[1].image_url.url",
    );
    assert!(p.message.contains("over the 30.0 MB limit"), "{p}");
    let audio = format!("data:audio/wav;base64,{}", big(models::MAX_AUDIO_BYTES + 3));
    bad(
        &with_url(MediaKind::Audio, &audio),
        "content[1].audio_url.url",
    );
    // Three images under the per-image limit but over 64 MB of body together.
    let one = format!("data:image/png;base64,{}", big(25 * 1024 * 1024));
    let items = (0..3)
        .map(|_| ContentItem::media(MediaKind::Image, one.clone(), Some(Role::ReferenceImage)))
        .collect();
    let r = with(STD, items);
    assert_eq!(fields(&r), vec!["content".to_string()]);
    assert!(validate(&r)[0].message.contains("request body"));
}

#[test]
fn duration_rules() {
    let mut r = text_req(STD);
    for (d, good) in [
        (4, true),
        (15, true),
        (-1, true),
        (3, false),
        (16, false),
        (0, false),
    ] {
        r.duration = Some(d);
        assert_eq!(validate(&r).is_empty(), good, "2.0 duration {d}");
    }
    let mut r = text_req(PRO10);
    r.duration = Some(2);
    ok(&r);
    r.duration = Some(-1);
    assert!(bad(&r, "duration").fix.contains("2..12"));
    // A model in no table: only "a positive number of seconds, or -1".
    let mut r = text_req("some-future-model");
    for (d, good) in [(1, true), (30, true), (-1, true), (0, false), (-2, false)] {
        r.duration = Some(d);
        assert_eq!(validate(&r).is_empty(), good, "unknown model duration {d}");
    }
}

#[test]
fn frames_rules() {
    let mut r = text_req(PRO10);
    for (f, good) in [
        (29, true),
        (289, true),
        (121, true),
        (25, false),
        (30, false),
        (293, false),
    ] {
        r.frames = Some(f);
        assert_eq!(validate(&r).is_empty(), good, "frames {f}");
    }
    let mut r = text_req(STD);
    r.frames = Some(121);
    assert!(bad(&r, "frames").fix.contains("duration"));
}

#[test]
fn ratio_and_resolution_rules() {
    let mut r = text_req(STD);
    r.ratio = Some("21:9".into());
    r.resolution = Some("4k".into());
    ok(&r);
    r.ratio = Some("2:1".into());
    bad(&r, "ratio");
    let mut r = text_req(FAST);
    r.resolution = Some("720p".into());
    ok(&r);
    r.resolution = Some("1080p".into());
    let p = bad(&r, "resolution");
    assert!(
        p.fix.contains("480p, 720p") && !p.fix.contains("1080p"),
        "{p}"
    );
    let mut r = text_req("future-model");
    r.resolution = Some("high".into());
    bad(&r, "resolution");
}

#[test]
fn seed_and_camera_fixed_and_audio() {
    let mut r = text_req(STD);
    r.seed = Some(-1);
    ok(&r);
    // [-1, 2^31-1]: the current create page (an older copy said 2^32-1).
    r.seed = Some(2_147_483_647);
    ok(&r);
    r.seed = Some(2_147_483_648);
    assert!(bad(&r, "seed").fix.contains("2147483647"));
    r.seed = Some(4_294_967_295);
    bad(&r, "seed");
    r.seed = Some(-2);
    bad(&r, "seed");
    let mut r = text_req(STD);
    r.camera_fixed = Some(false);
    ok(&r);
    r.camera_fixed = Some(true);
    bad(&r, "camera_fixed");
    r.model = PRO10.into();
    ok(&r);
    r.generate_audio = Some(true);
    bad(&r, "generate_audio");
}

#[test]
fn service_tier_expiry_draft_priority() {
    let mut r = text_req(PRO15);
    r.service_tier = Some("flex".into());
    r.draft = Some(true);
    r.execution_expires_after = Some(3600);
    ok(&r);
    r.service_tier = Some("cheap".into());
    bad(&r, "service_tier");
    let mut r = text_req(STD);
    r.service_tier = Some("flex".into());
    bad(&r, "service_tier");
    r.service_tier = Some("default".into());
    r.execution_expires_after = Some(259_200);
    ok(&r);
    r.execution_expires_after = Some(3599);
    bad(&r, "execution_expires_after");
    r.execution_expires_after = Some(259_201);
    bad(&r, "execution_expires_after");
    let mut r = text_req(STD);
    r.draft = Some(true);
    bad(&r, "draft");
    let mut r = text_req(STD);
    r.priority = Some(9);
    ok(&r);
    r.priority = Some(10);
    bad(&r, "priority");
    r.priority = Some(-1);
    bad(&r, "priority");
    let mut r = text_req(PRO15);
    r.priority = Some(3);
    bad(&r, "priority");
    r.priority = Some(0);
    ok(&r);
    // priority with flex (on a model that has both, if one existed): use an unknown model.
    let mut r = text_req("future-model");
    r.service_tier = Some("flex".into());
    r.priority = Some(2);
    assert!(bad(&r, "priority").message.contains("flex"));
}

#[test]
fn safety_identifier_callback_and_tools() {
    let mut r = text_req(STD);
    r.safety_identifier = Some("u".repeat(64));
    r.callback_url = Some("https://hooks.example.com/seedance".into());
    r.tools = Some(vec![json!({"type": "web_search"})]);
    ok(&r);
    r.safety_identifier = Some("u".repeat(65));
    bad(&r, "safety_identifier");
    r.safety_identifier = Some("usér".into());
    bad(&r, "safety_identifier");
    r.safety_identifier = None;
    r.callback_url = Some("hooks.example.com".into());
    bad(&r, "callback_url");
    r.callback_url = Some("ftp://hooks.example.com".into());
    bad(&r, "callback_url");
    r.safety_identifier = Some("user 1".into());
    bad(&r, "safety_identifier");
    r.safety_identifier = None;
    r.callback_url = None;
    let mut r = text_req(PRO15);
    r.tools = Some(vec![json!({"type": "web_search"})]);
    bad(&r, "tools");
    r.model = PRO10.into();
    bad(&r, "tools");
    // The current create page lists web search for mini too.
    r.model = "doubao-seedance-2-0-mini-260615".into();
    ok(&r);
    r.model = FAST.into();
    ok(&r);
    r.tools = Some(vec![json!({"type": "image_search"})]);
    assert!(bad(&r, "tools[0].type").fix.contains("web_search"));
    r.tools = Some(vec![json!({})]);
    assert_eq!(bad(&r, "tools[0].type").code, CODE_MISSING);
    // priority: 0..9, not with flex.
    r.tools = None;
    r.priority = Some(9);
    ok(&r);
    r.priority = Some(10);
    bad(&r, "priority");
}

#[test]
fn draft_task_items() {
    let draft = |id: &str| ContentItem::DraftTask {
        draft_task: DraftRef { id: id.into() },
    };
    ok(&with(PRO15, vec![draft("cgt-1")]));
    bad(&with(PRO15, vec![draft("")]), "content[1].draft_task.id");
    bad(&with(STD, vec![draft("cgt-1")]), "content[1].type");
}

#[test]
fn problems_name_field_message_and_fix() {
    let mut r = text_req(PRO15);
    r.duration = Some(99);
    let p = relay_problems(&r);
    let names: Vec<&str> = p.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(names, vec!["model", "duration"]);
    for p in p {
        assert!(!p.message.is_empty() && !p.fix.is_empty());
        assert!(p.to_string().starts_with(&p.field));
    }
}
