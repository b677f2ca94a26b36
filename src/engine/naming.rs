//! File names for saved results, from a template such as
//! `{created:%Y%m%d-%H%M%S}_{id}_{prompt_slug}.mp4`.
//!
//! Placeholders: `{created[:FMT]}` (local time, chrono format), `{id}`, `{local_id}`,
//! `{prompt_slug}`, `{model}`, `{status}`, `{resolution}`, `{ratio}`, `{duration}`. Unknown
//! placeholders are kept verbatim, so a typo shows in the name instead of failing.

use crate::store::TaskRecord;
use std::path::{Path, PathBuf};

/// At most this many characters of the prompt go into `{prompt_slug}`.
const SLUG_LEN: usize = 40;

/// The longest generated file name, in bytes: a file name may have 255, and the saved name
/// still gets a `-N` suffix, `.part` while downloading, and `.last.png` for the last frame.
pub(crate) const MAX_NAME_BYTES: usize = 255 - 32;

/// Lowercase letters and digits (any script: a Chinese prompt keeps its characters) joined by
/// `-`, from the first words of `text`; at most `max` characters.
fn slug_of(text: &str, max: usize) -> String {
    let mut out = String::new();
    let mut len = 0;
    let mut dash = false;
    for ch in text.chars() {
        if ch.is_alphanumeric() {
            if dash && !out.is_empty() {
                out.push('-');
                len += 1;
            }
            dash = false;
            for lower in ch.to_lowercase() {
                out.push(lower);
                len += 1;
            }
            if len >= max {
                break;
            }
        } else {
            dash = true;
        }
    }
    if out.is_empty() {
        "video".to_string()
    } else {
        out
    }
}

/// Keep a name safe as one path component.
fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '/' | '\\' | ':' | '\0' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .collect()
}

/// Render `template` for `record`, within [`MAX_NAME_BYTES`]: the prompt slug is shortened
/// first, then the rest of the name, keeping the extension.
pub fn render(template: &str, record: &TaskRecord) -> String {
    let mut slug_len = SLUG_LEN;
    loop {
        let name = render_with(template, record, slug_len);
        if name.len() <= MAX_NAME_BYTES || slug_len <= 8 {
            return fit(&name, MAX_NAME_BYTES);
        }
        slug_len -= 8;
    }
}

/// `name` cut to `max` bytes (on a character boundary), keeping a short extension.
pub(crate) fn fit(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_string();
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() && e.len() < 16 => (s, format!(".{e}")),
        _ => (name, String::new()),
    };
    let mut end = max.saturating_sub(ext.len());
    while !stem.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{ext}", &stem[..end])
}

fn render_with(template: &str, record: &TaskRecord, slug_len: usize) -> String {
    // The request's facts: a followed record has no body (and a body may be megabytes).
    let spec = crate::store::TaskFacts::spec(record);
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let token = &after[..end];
        let (name, arg) = match token.split_once(':') {
            Some((n, a)) => (n, Some(a)),
            None => (token, None),
        };
        let value = match name {
            "created" => {
                let fmt = arg.unwrap_or("%Y%m%d-%H%M%S");
                chrono::DateTime::from_timestamp(record.created_at, 0).map(|t| {
                    let local = t.with_timezone(&chrono::Local);
                    let mut s = String::new();
                    // An invalid format must not panic: write through fmt::Write and check.
                    use std::fmt::Write;
                    match write!(s, "{}", local.format(fmt)) {
                        Ok(()) => s,
                        Err(_) => local.format("%Y%m%d-%H%M%S").to_string(),
                    }
                })
            }
            "id" => Some(record.display_id().to_string()),
            "local_id" => Some(record.local_id.clone()),
            "prompt_slug" => Some(slug_of(&record.prompt, slug_len)),
            "model" => Some(record.model.clone()),
            "status" => Some(record.phase.as_str().to_string()),
            "resolution" => spec.resolution.as_deref().map(str::to_string),
            "ratio" => spec.ratio.as_deref().map(|r| r.replace(':', "x")),
            "duration" => spec.duration.map(|d| d.to_string()),
            _ => None,
        };
        match value {
            Some(v) => out.push_str(&sanitize(&v)),
            None if matches!(name, "created" | "resolution" | "ratio" | "duration") => {
                out.push('x')
            }
            None => {
                out.push('{');
                out.push_str(token);
                out.push('}');
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    sanitize(&out)
}

/// A path in `dir` for `name` that does not exist yet: `name`, then `name-2`, `name-3`, ...
/// (before the extension).
pub(crate) fn unique_path(dir: &Path, name: &str) -> PathBuf {
    unique_path_with(dir, name, |_| false)
}

/// [`unique_path`], also skipping paths for which `taken` is true (claimed by a download in
/// progress in this process).
pub(crate) fn unique_path_with(dir: &Path, name: &str, taken: impl Fn(&Path) -> bool) -> PathBuf {
    let free = |p: &Path| !p.exists() && !taken(p);
    let first = dir.join(name);
    if free(&first) {
        return first;
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s.to_string(), format!(".{e}")),
        _ => (name.to_string(), String::new()),
    };
    (2..)
        .map(|n| dir.join(format!("{stem}-{n}{ext}")))
        .find(|p| free(p))
        .unwrap_or(first)
}

/// `name` for n = 1, then `stem-N.ext`: the n-th choice when earlier names are taken.
pub(crate) fn numbered(name: &str, n: u32) -> String {
    if n <= 1 {
        return name.to_string();
    }
    match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => format!("{s}-{n}.{e}"),
        _ => format!("{name}-{n}"),
    }
}

/// The last frame's file name beside a video's: `x.mp4` -> `x.last.png`.
pub(crate) fn last_frame_name(video_name: &str) -> String {
    match video_name.rsplit_once('.') {
        Some((stem, _)) => format!("{stem}.last.png"),
        None => format!("{video_name}.last.png"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Phase;

    fn slug(text: &str) -> String {
        slug_of(text, SLUG_LEN)
    }

    fn rec() -> TaskRecord {
        TaskRecord {
            task_id: Some("cgt-20260101-abcde".into()),
            model: "doubao-seedance-2-0-fast-260128".into(),
            prompt: "First-person apple fruit tea ad, 4 seconds!".into(),
            request_json:
                r#"{"model":"m","content":[],"ratio":"16:9","duration":4,"resolution":"720p"}"#
                    .into(),
            updated_at: 0,
            ..TaskRecord::factory(
                "l1",
                Phase::Remote(crate::api::TaskStatus::Succeeded),
                1_700_000_000,
            )
        }
    }

    #[test]
    fn default_template_renders() {
        let name = render("{created:%Y}_{id}_{prompt_slug}.mp4", &rec());
        assert!(
            name.ends_with("_cgt-20260101-abcde_first-person-apple-fruit-tea-ad-4-second.mp4"),
            "{name}"
        );
        assert!(name.starts_with("2023_"), "{name}");
    }

    #[test]
    fn other_placeholders_and_unknown_ones() {
        assert_eq!(
            render("{ratio}-{resolution}-{duration}s", &rec()),
            "16x9-720p-4s"
        );
        // A record to follow names its files from its request's facts alike.
        assert_eq!(
            render("{ratio}-{resolution}-{duration}s", &rec().into_followed()),
            "16x9-720p-4s"
        );
        assert_eq!(render("{nope}.mp4", &rec()), "{nope}.mp4");
        assert_eq!(render("a/b{id", &rec()), "a_b{id");
    }

    #[test]
    fn long_names_are_capped_slug_first_keeping_the_extension() {
        let mut r = rec();
        r.task_id = Some("é".repeat(100)); // 200 bytes
        let name = render("{id}_{prompt_slug}.mp4", &r);
        assert!(name.len() <= MAX_NAME_BYTES, "{}", name.len());
        assert!(
            name.starts_with(&"é".repeat(100)) && name.contains("_first-person"),
            "the slug is shortened first, the id kept: {name}"
        );
        assert!(!name.contains("fruit-tea"), "{name}");
        r.task_id = Some("x".repeat(5000));
        let name = render("{id}_{prompt_slug}.mp4", &r);
        assert!(
            name.len() <= MAX_NAME_BYTES && name.ends_with(".mp4"),
            "{name}"
        );
        let frame = last_frame_name(&name);
        assert!(format!("{frame}.part").len() <= 255);
    }

    #[test]
    fn collisions_get_a_number() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("a.mp4"), b"x").expect("write");
        std::fs::write(dir.path().join("a-2.mp4"), b"x").expect("write");
        assert_eq!(unique_path(dir.path(), "a.mp4"), dir.path().join("a-3.mp4"));
        assert_eq!(unique_path(dir.path(), "b.mp4"), dir.path().join("b.mp4"));
        assert_eq!(last_frame_name("a.mp4"), "a.last.png");
        assert_eq!(numbered("a.mp4", 1), "a.mp4");
        assert_eq!(numbered("a.mp4", 3), "a-3.mp4");
        assert_eq!(numbered("a", 2), "a-2");
    }

    #[test]
    fn slugs_are_safe() {
        assert_eq!(slug("  ..!! "), "video");
        assert_eq!(slug("苹果 tea"), "苹果-tea");
    }

    #[test]
    fn slugs_keep_unicode_letters() {
        assert_eq!(slug("一只红狐狸在雪地里奔跑"), "一只红狐狸在雪地里奔跑");
        assert_eq!(slug("Über den Wolken! Café"), "über-den-wolken-café");
        let long = slug(&"狐".repeat(100));
        assert_eq!(long.chars().count(), SLUG_LEN, "capped in characters");
        assert_eq!(slug("a/b\\c"), "a-b-c", "no path separators");
    }
}
