//! The demo: a handful of tasks in every state at start, then new tasks flowing in, all against
//! the embedded simulator. Prompt directives (`[[sim:...]]`) make the simulator's outcomes certain.

use crate::api::types::{ContentItem, CreateRequest, MediaKind, Role};
use crate::engine::Engine;
use std::time::Duration;

/// Prompts for demo tasks, with the outcome each is steered to.
const SEEDS: &[(&str, &str)] = &[
    (
        "First-person apple fruit tea ad, fast-paced edit, fresh bright style",
        "[[sim:succeed]]",
    ),
    (
        "A red fox running through fresh snow at dawn, cinematic slow motion",
        "[[sim:succeed]]",
    ),
    (
        "Neon city street in the rain, camera dolly forward, reflections",
        "[[sim:fail:OutputVideoSensitiveContentDetected.PolicyViolation]]",
    ),
    (
        "Product close-up of a ceramic mug rotating on a turntable",
        "[[sim:hold]]",
    ),
    (
        "Time-lapse of clouds over mountains, golden hour",
        "[[sim:expire]]",
    ),
    (
        "A cat chef cooking noodles in a tiny kitchen, warm light",
        "[[sim:fail:OutputAudioSensitiveContentDetected]]",
    ),
    ("Drone shot over a turquoise lagoon with coral reefs", ""),
    ("Paper boats drifting down a gutter stream, macro lens", ""),
];

const MORE: &[&str] = &[
    "Steam rising from a cup of matcha, soft morning light",
    "A skateboarder doing a kickflip in slow motion, sunset",
    "Origami crane unfolding into a real bird, white background",
    "Hot air balloons over Cappadocia, wide establishing shot",
    "Rain drops on a window with city bokeh behind",
    "A robot watering plants on a balcony garden",
];

fn request(prompt: &str, directive: &str, i: usize) -> CreateRequest {
    let text = if directive.is_empty() {
        prompt.to_string()
    } else {
        format!("{prompt} {directive}")
    };
    let mut content = vec![ContentItem::text(text)];
    if i % 3 == 1 {
        content.push(ContentItem::media(
            MediaKind::Image,
            "https://ark-project.tos-cn-beijing.volces.com/doc_image/r2v_tea_pic1.jpg",
            Some(Role::FirstFrame),
        ));
    }
    let (model, res) = if i.is_multiple_of(2) {
        ("doubao-seedance-2-0-fast-260128", "720p")
    } else {
        (
            "doubao-seedance-2-0-260128",
            if i % 4 == 1 { "1080p" } else { "480p" },
        )
    };
    CreateRequest {
        model: model.to_string(),
        content,
        ratio: Some(["16:9", "9:16", "1:1", "4:3"][i % 4].to_string()),
        duration: Some([4, 5, 8, 10, 12][i % 5]),
        resolution: Some(res.to_string()),
        generate_audio: Some(!i.is_multiple_of(2)),
        watermark: Some(false),
        return_last_frame: Some(true),
        ..CreateRequest::default()
    }
}

/// Submit the starting set, then one new task every `every` until `max_more` were added.
/// Runs until done; errors are ignored (the dashboard shows each task's own state).
pub(crate) async fn feed(engine: Engine, every: Duration, max_more: usize) {
    for (i, (prompt, directive)) in SEEDS.iter().enumerate() {
        let _ = engine
            .submit(request(prompt, directive, i).to_json(), None)
            .await;
    }
    // One task cancelled while queued, so that state shows too.
    if let Ok(rec) = engine
        .submit(
            request("A lighthouse in a storm, waves crashing", "[[sim:hold]]", 9).to_json(),
            None,
        )
        .await
    {
        let _ = engine.cancel(&rec).await;
        let _ = engine.poll(&rec).await;
    }
    for n in 0..max_more {
        tokio::time::sleep(every).await;
        let prompt = MORE[n % MORE.len()];
        let _ = engine
            .submit(request(prompt, "", n + SEEDS.len()).to_json(), None)
            .await;
    }
}
