//! The parameter form: its fields in order, how each shows its value, and how ←/→ and typing
//! change it. Choices come from the model capability table (`api::models`).

use super::Editor;
pub(crate) use super::Field;
use crate::api::models;

fn on_off(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "on",
        Some(false) => "off",
        None => "default",
    }
}

/// The value of `field` as the form shows it.
pub(crate) fn display(e: &Editor, field: Field) -> String {
    let b = &e.base;
    match field {
        Field::Prompt | Field::Assets => String::new(),
        Field::Model => match models::find(&b.model) {
            Some(m) => format!("{} · {}", m.label, m.id),
            None => b.model.clone(),
        },
        Field::Ratio => match (&b.ratio, &e.default_ratio) {
            (Some(r), _) => r.clone(),
            (None, Some(d)) => {
                let req = super::build::request(e, |a| a.target.clone());
                if req.has_frame_image() {
                    "adaptive (follows the first frame)".into()
                } else {
                    format!("{d} (default)")
                }
            }
            (None, None) => "default".into(),
        },
        Field::Duration if b.frames.is_some() => "(frames override it)".into(),
        Field::Duration => match e.duration {
            Some(-1) => "adaptive (-1)".into(),
            Some(d) => format!("{d} s"),
            None => "default".into(),
        },
        Field::Frames => match b.frames {
            Some(f) => format!("{f} frames ({:.1} s)", f as f64 / models::FPS as f64),
            None => "off (duration is used)".into(),
        },
        Field::Resolution => b.resolution.clone().unwrap_or_else(|| "default".into()),
        Field::Seed => match b.seed {
            Some(-1) | None => "random".into(),
            Some(s) => s.to_string(),
        },
        Field::CameraFixed => on_off(b.camera_fixed).into(),
        Field::Watermark => on_off(b.watermark).into(),
        Field::GenerateAudio => on_off(b.generate_audio).into(),
        Field::ReturnLastFrame => on_off(b.return_last_frame).into(),
        Field::ServiceTier => b.service_tier.clone().unwrap_or_else(|| "default".into()),
        Field::ExpiresAfter => match b.execution_expires_after {
            Some(s) => format!("{s} s ({:.0} h)", s as f64 / 3600.0),
            None => format!("default ({} h)", models::DEFAULT_EXPIRES_AFTER / 3600),
        },
        Field::CallbackUrl => b.callback_url.clone().unwrap_or_else(|| "none".into()),
        Field::Priority => match b.priority {
            Some(p) => format!("{p} (0-9, higher runs sooner)"),
            None => "default (0)".into(),
        },
        Field::WebSearch => if web_search(b) { "on" } else { "off" }.into(),
        Field::SafetyIdentifier => b.safety_identifier.clone().unwrap_or_else(|| "none".into()),
    }
}

/// True when the request asks for the web search tool.
fn web_search(b: &crate::api::types::CreateRequest) -> bool {
    b.tools.as_ref().is_some_and(|t| {
        t.iter()
            .any(|x| x.get("type").and_then(|v| v.as_str()) == Some("web_search"))
    })
}

fn cycle<T: PartialEq + Clone>(options: &[T], current: &T, delta: isize) -> T {
    let n = options.len() as isize;
    if n == 0 {
        return current.clone();
    }
    let i = options
        .iter()
        .position(|o| o == current)
        .map(|i| i as isize + delta)
        .unwrap_or(if delta > 0 { 0 } else { n - 1 });
    options[((i % n + n) % n) as usize].clone()
}

/// Change `field` by one step (`delta` is -1 for ←, +1 for →); returns whether it changed.
pub(crate) fn step(e: &mut Editor, field: Field, delta: isize) -> bool {
    let spec = models::find(&e.base.model);
    let before = (e.base.clone(), e.duration);
    let b = &mut e.base;
    match field {
        Field::Prompt | Field::Assets => {}
        Field::Model => {
            let ids: Vec<&str> = models::table().iter().map(|m| m.id.as_str()).collect();
            let next = cycle(&ids, &b.model.as_str(), delta).to_string();
            b.model = next;
            // Only offer what the new model allows: move the resolution onto one it makes.
            if let Some(m) = models::find(&b.model)
                && b.resolution.as_deref().is_some_and(|r| {
                    !m.resolutions.is_empty() && !m.resolutions.iter().any(|x| x == r)
                })
            {
                b.resolution = Some(m.default_resolution.clone());
            }
        }
        Field::Ratio => {
            let ratios: Vec<&str> = match spec {
                Some(s) => s.ratios.iter().map(String::as_str).collect(),
                None => models::RATIOS.to_vec(),
            };
            let cur = match &b.ratio {
                Some(r) => r.clone(),
                None => super::build::request(e, |a| a.target.clone())
                    .ratio
                    .unwrap_or_else(|| "16:9".into()),
            };
            let b = &mut e.base;
            b.ratio = Some(cycle(&ratios, &cur.as_str(), delta).to_string());
        }
        Field::Duration => {
            let (min, max, adaptive) = spec.map_or((4, 15, true), |s| {
                (
                    s.min_duration.unwrap_or(1),
                    s.max_duration.unwrap_or(60),
                    s.adaptive_duration,
                )
            });
            let mut options: Vec<i64> = Vec::new();
            if adaptive {
                options.push(-1);
            }
            options.extend(min..=max);
            let cur = e.duration.unwrap_or(5);
            e.duration = Some(cycle(&options, &cur, delta));
        }
        Field::Frames => {
            // off, then 29, 33, ... 289 (25 + 4n).
            let mut options: Vec<Option<i64>> = vec![None];
            options.extend((29..=289).step_by(4).map(Some));
            b.frames = cycle(&options, &b.frames, delta);
        }
        Field::Resolution => {
            let res: Vec<&str> = match spec {
                Some(s) if !s.resolutions.is_empty() => {
                    s.resolutions.iter().map(String::as_str).collect()
                }
                _ => vec!["480p", "720p", "1080p"],
            };
            let cur = b.resolution.clone().unwrap_or_else(|| "720p".into());
            b.resolution = Some(cycle(&res, &cur.as_str(), delta).to_string());
        }
        Field::Seed => {
            let cur = b.seed.unwrap_or(-1);
            // Saturating: a typed value may be at the edge of i64.
            let next = cur
                .saturating_add(delta as i64)
                .clamp(models::MIN_SEED, models::MAX_SEED);
            b.seed = (next >= 0).then_some(next);
        }
        Field::CameraFixed => b.camera_fixed = (b.camera_fixed != Some(true)).then_some(true),
        Field::Watermark => b.watermark = Some(b.watermark != Some(true)),
        Field::GenerateAudio => b.generate_audio = Some(b.generate_audio != Some(true)),
        Field::ReturnLastFrame => b.return_last_frame = Some(b.return_last_frame != Some(true)),
        Field::ServiceTier => {
            b.service_tier = cycle(
                &[None, Some("default".to_string()), Some("flex".to_string())],
                &b.service_tier,
                delta,
            )
        }
        Field::ExpiresAfter => {
            let cur = b
                .execution_expires_after
                .unwrap_or(models::DEFAULT_EXPIRES_AFTER);
            let next = cur
                .saturating_add(3600 * delta as i64)
                .clamp(models::MIN_EXPIRES_AFTER, models::MAX_EXPIRES_AFTER);
            b.execution_expires_after = Some(next);
        }
        Field::Priority => {
            let cur = b.priority.unwrap_or(0);
            let next = cur
                .saturating_add(delta as i64)
                .clamp(0, models::MAX_PRIORITY);
            b.priority = (next != 0).then_some(next);
        }
        Field::WebSearch => {
            if web_search(b) {
                // Other tools (from a loaded request) stay.
                if let Some(t) = b.tools.as_mut() {
                    t.retain(|x| x.get("type").and_then(|v| v.as_str()) != Some("web_search"));
                }
                if b.tools.as_ref().is_some_and(|t| t.is_empty()) {
                    b.tools = None;
                }
            } else {
                b.tools
                    .get_or_insert_with(Vec::new)
                    .push(serde_json::json!({"type": "web_search"}));
            }
        }
        Field::CallbackUrl | Field::SafetyIdentifier => {}
    }
    (e.base.clone(), e.duration) != before
}

/// The text a typed field starts from when the user begins typing into it.
pub(crate) fn typing_start(e: &Editor, field: Field) -> String {
    match field {
        Field::Seed => e.base.seed.filter(|s| *s >= 0).map(|s| s.to_string()),
        Field::ExpiresAfter => e.base.execution_expires_after.map(|s| s.to_string()),
        Field::CallbackUrl => e.base.callback_url.clone(),
        Field::Duration => e.duration.map(|s| s.to_string()),
        Field::Frames => e.base.frames.map(|s| s.to_string()),
        Field::Priority => e.base.priority.map(|s| s.to_string()),
        Field::SafetyIdentifier => e.base.safety_identifier.clone(),
        _ => None,
    }
    .unwrap_or_default()
}

/// Whether `c` may be typed into `field`.
pub(crate) fn accepts(field: Field, c: char) -> bool {
    match field {
        Field::CallbackUrl => !c.is_whitespace() && !c.is_control(),
        Field::Seed | Field::Duration => c.is_ascii_digit() || c == '-',
        Field::ExpiresAfter | Field::Frames | Field::Priority => c.is_ascii_digit(),
        // The API takes ASCII only: anything else could not be sent anyway.
        Field::SafetyIdentifier => c.is_ascii_graphic(),
        _ => false,
    }
}

/// Store typed `text` into `field` (an empty or unreadable number clears it).
pub(crate) fn set_typed(e: &mut Editor, field: Field, text: &str) {
    let num = text.trim().parse::<i64>().ok();
    match field {
        Field::Seed => e.base.seed = num,
        Field::ExpiresAfter => e.base.execution_expires_after = num,
        Field::Duration => e.duration = num,
        Field::Frames => e.base.frames = num,
        Field::Priority => e.base.priority = num,
        Field::CallbackUrl => {
            e.base.callback_url = (!text.trim().is_empty()).then(|| text.trim().to_string())
        }
        Field::SafetyIdentifier => {
            e.base.safety_identifier = (!text.trim().is_empty()).then(|| text.trim().to_string())
        }
        _ => {}
    }
}
