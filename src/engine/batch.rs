//! Batch files: JSON lines (one create request per line, in the `submit --json` format, with an
//! optional `"key"` and `"label"`) or a prompt list (one prompt per line over a template
//! request), read and validated whole before anything is queued. Every line gets an
//! idempotency key: its own `"key"`, else a hash of the normalized request and the line number,
//! so running the same file again queues nothing new and an edited line is new.

use super::assets;
use crate::api::types::{ContentItem, CreateRequest};
use crate::api::validate::validate;
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// One request of a batch, ready to queue.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchLine {
    /// 1-based line number in the file.
    pub line: usize,
    /// 0 for the line itself, 1.. for the `--repeat` variants.
    pub variant: u32,
    pub key: String,
    pub label: Option<String>,
    /// The body to send: normalized, local files inlined as `data:` URLs.
    pub request_json: String,
}

/// A problem with one line, shown as `FILE:LINE: field: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineProblem {
    pub line: usize,
    pub field: String,
    pub message: String,
}

impl LineProblem {
    fn new(line: usize, field: &str, message: impl Into<String>) -> LineProblem {
        LineProblem {
            line,
            field: field.to_string(),
            message: message.into(),
        }
    }

    /// `FILE:LINE: field: message`.
    pub fn render(&self, file: &str) -> String {
        format!("{file}:{}: {}: {}", self.line, self.field, self.message)
    }
}

/// The lines that can be queued and the problems of the others.
#[derive(Debug, Default)]
pub struct Parsed {
    pub lines: Vec<BatchLine>,
    pub problems: Vec<LineProblem>,
    /// Lines that held a request (blank lines and `#` comments excluded).
    pub requests: usize,
}

/// The longest key or label accepted.
const MAX_TEXT: usize = 256;

/// A stable 64-bit FNV-1a hash (the same in every build, unlike `std`'s hasher): keys are
/// compared across runs and versions.
fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in *part {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h ^= 0xff;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The key of a line without an explicit one: its number and a hash of the normalized request.
pub fn line_key(line: usize, normalized_json: &str) -> String {
    let h = fnv1a(&[line.to_string().as_bytes(), normalized_json.as_bytes()]);
    format!("line{line}-{h:016x}")
}

/// A key or label as given: bounded, printable.
fn check_text(v: &Value, line: usize, field: &str) -> Result<Option<String>, LineProblem> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) if s.trim().is_empty() => Err(LineProblem::new(
            line,
            field,
            "is empty; leave it out or give a value",
        )),
        Value::String(s) if s.chars().count() > MAX_TEXT => Err(LineProblem::new(
            line,
            field,
            format!("is longer than {MAX_TEXT} characters"),
        )),
        Value::String(s) if s.chars().any(char::is_control) => {
            Err(LineProblem::new(line, field, "contains control characters"))
        }
        Value::String(s) => Ok(Some(s.clone())),
        _ => Err(LineProblem::new(line, field, "must be a string")),
    }
}

/// Local files named by the requests, inlined once each (a batch often reuses one image).
struct Files {
    base: PathBuf,
    cache: HashMap<(PathBuf, &'static str), Result<String, String>>,
}

impl Files {
    fn inline(&mut self, req: &mut CreateRequest, line: usize) -> Vec<LineProblem> {
        let mut problems = Vec::new();
        for (i, item) in req.content.iter_mut().enumerate() {
            let (kind, media, field) = match item {
                ContentItem::ImageUrl { image_url, .. } => {
                    (crate::api::MediaKind::Image, image_url, "image_url")
                }
                ContentItem::VideoUrl { video_url, .. } => {
                    (crate::api::MediaKind::Video, video_url, "video_url")
                }
                ContentItem::AudioUrl { audio_url, .. } => {
                    (crate::api::MediaKind::Audio, audio_url, "audio_url")
                }
                _ => continue,
            };
            if assets::is_url(&media.url) {
                continue;
            }
            let path = self.base.join(media.url.trim());
            let resolved = self
                .cache
                .entry((path.clone(), kind.as_str()))
                .or_insert_with(|| {
                    assets::file_to_data_url(&path, kind).map_err(|e| e.to_string())
                });
            match resolved {
                Ok(url) => media.url = url.clone(),
                Err(e) => problems.push(LineProblem::new(
                    line,
                    &format!("content[{i}].{field}"),
                    e.clone(),
                )),
            }
        }
        problems
    }
}

/// Validation problems of a request, as line problems.
fn check(req: &CreateRequest, line: usize) -> Vec<LineProblem> {
    validate(req)
        .into_iter()
        .map(|p| LineProblem::new(line, &p.field, format!("{} ({})", p.message, p.fix)))
        .collect()
}

/// Read JSON lines. Relative local paths are resolved against `base_dir` (the file's folder).
pub fn parse_json_lines(text: &str, base_dir: &Path) -> Parsed {
    let mut out = Parsed::default();
    let mut files = Files {
        base: base_dir.to_path_buf(),
        cache: HashMap::new(),
    };
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        out.requests += 1;
        let mut v: Value = match serde_json::from_str(trimmed) {
            Ok(v) => v,
            Err(e) => {
                out.problems
                    .push(LineProblem::new(line, "json", format!("not JSON: {e}")));
                continue;
            }
        };
        let Some(obj) = v.as_object_mut() else {
            out.problems.push(LineProblem::new(
                line,
                "json",
                "a line must be one JSON object (a create request)",
            ));
            continue;
        };
        let key_v = obj.remove("key").unwrap_or(Value::Null);
        let label_v = obj.remove("label").unwrap_or(Value::Null);
        let mut problems = Vec::new();
        let key = check_text(&key_v, line, "key").unwrap_or_else(|p| {
            problems.push(p);
            None
        });
        let label = check_text(&label_v, line, "label").unwrap_or_else(|p| {
            problems.push(p);
            None
        });
        let req = match CreateRequest::from_value(v) {
            Ok(r) => r,
            Err(e) => {
                let msg = e.to_string();
                let field = msg.split('`').nth(1).unwrap_or("json").to_string();
                problems.push(LineProblem::new(line, &field, msg));
                out.problems.extend(problems);
                continue;
            }
        };
        let normalized = req.to_json();
        let mut sent = req;
        problems.extend(files.inline(&mut sent, line));
        problems.extend(check(&sent, line));
        if !problems.is_empty() {
            out.problems.extend(problems);
            continue;
        }
        out.lines.push(BatchLine {
            line,
            variant: 0,
            key: key.unwrap_or_else(|| line_key(line, &normalized)),
            label,
            request_json: sent.to_json(),
        });
    }
    out
}

/// Read a prompt list: every non-blank line that does not start with `#` is a prompt, set as
/// the text of `template` (the flags and `[defaults]`; its assets are already inlined).
pub fn parse_prompts(text: &str, template: &CreateRequest) -> Parsed {
    let mut out = Parsed::default();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let prompt = raw.trim();
        if prompt.is_empty() || prompt.starts_with('#') {
            continue;
        }
        out.requests += 1;
        let mut req = template.clone();
        match req
            .content
            .iter_mut()
            .find(|c| matches!(c, ContentItem::Text { .. }))
        {
            Some(ContentItem::Text { text }) => *text = prompt.to_string(),
            _ => req.content.insert(0, ContentItem::text(prompt)),
        }
        let problems = check(&req, line);
        if !problems.is_empty() {
            out.problems.extend(problems);
            continue;
        }
        let json = req.to_json();
        out.lines.push(BatchLine {
            line,
            variant: 0,
            key: line_key(line, &json),
            label: None,
            request_json: json,
        });
    }
    out
}

/// The largest seed the API takes that every service accepts (2^31 - 1).
const SEED_SPAN: u64 = 2_147_483_647;

/// `n` variants of every line, each with its own seed: the line's seed plus the variant number
/// when it has one, else a seed derived from the line (so a rerun makes the same variants and
/// queues nothing new). Variant keys are the line's key with `#N`.
pub fn repeat(lines: Vec<BatchLine>, n: u32) -> Vec<BatchLine> {
    if n <= 1 {
        return lines;
    }
    let mut out = Vec::with_capacity(lines.len() * n as usize);
    for l in lines {
        let Ok(base) = CreateRequest::from_json(&l.request_json) else {
            out.push(l);
            continue;
        };
        for v in 0..n {
            let mut req = base.clone();
            req.seed = Some(match base.seed {
                Some(s) if s >= 0 => (s as u64 + u64::from(v)) as i64 % SEED_SPAN as i64,
                _ => (fnv1a(&[l.key.as_bytes(), &v.to_le_bytes()]) % SEED_SPAN) as i64,
            });
            out.push(BatchLine {
                line: l.line,
                variant: v,
                key: if v == 0 {
                    l.key.clone()
                } else {
                    format!("{}#{v}", l.key)
                },
                label: l.label.clone(),
                request_json: req.to_json(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODEL: &str = "doubao-seedance-2-0-fast-260128";

    fn line(prompt: &str) -> String {
        format!(r#"{{"model":"{MODEL}","content":[{{"type":"text","text":"{prompt}"}}]}}"#)
    }

    #[test]
    fn keys_are_stable_and_change_with_the_line_or_its_request() {
        let text = format!("{}\n\n# comment\n{}\n", line("a"), line("b"));
        let one = parse_json_lines(&text, Path::new("."));
        let two = parse_json_lines(&text, Path::new("."));
        assert!(one.problems.is_empty(), "{:?}", one.problems);
        assert_eq!(one.requests, 2);
        assert_eq!(one.lines.len(), 2);
        assert_eq!(one.lines[1].line, 4);
        assert_eq!(one.lines, two.lines);
        // The same request on another line is another line; an edit is new.
        let moved = parse_json_lines(&format!("\n{}\n", line("a")), Path::new("."));
        assert_ne!(moved.lines[0].key, one.lines[0].key);
        let edited = parse_json_lines(&line("a!"), Path::new("."));
        assert_ne!(edited.lines[0].key, one.lines[0].key);
        // Formatting does not matter: the request is normalized first.
        let spaced = parse_json_lines(&line("a").replace(',', " , "), Path::new("."));
        assert_eq!(spaced.lines[0].key, one.lines[0].key);
    }

    #[test]
    fn explicit_key_and_label_are_taken_out_of_the_body() {
        let text = format!(
            r#"{{"key":"shot-1","label":"hero","model":"{MODEL}","content":[{{"type":"text","text":"x"}}]}}"#
        );
        let p = parse_json_lines(&text, Path::new("."));
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        assert_eq!(p.lines[0].key, "shot-1");
        assert_eq!(p.lines[0].label.as_deref(), Some("hero"));
        assert!(!p.lines[0].request_json.contains("shot-1"));
    }

    #[test]
    fn bad_lines_name_their_line_and_field() {
        let text = format!(
            "{}\nnot json\n{{\"model\":\"{MODEL}\",\"content\":[{{\"type\":\"text\",\"text\":\"x\"}}],\"ratio\":\"7:5\"}}\n{{\"model\":\"{MODEL}\",\"content\":[{{\"type\":\"image_url\",\"image_url\":{{\"url\":\"missing.png\"}}}}]}}\n[1]\n",
            line("ok")
        );
        let p = parse_json_lines(&text, Path::new("/nonexistent-dir"));
        assert_eq!(p.lines.len(), 1);
        let rendered: Vec<String> = p.problems.iter().map(|x| x.render("b.jsonl")).collect();
        assert!(
            rendered[0].starts_with("b.jsonl:2: json: not JSON"),
            "{rendered:?}"
        );
        assert!(
            rendered.iter().any(|r| r.starts_with("b.jsonl:3: ratio: ")),
            "{rendered:?}"
        );
        assert!(
            rendered
                .iter()
                .any(|r| r.starts_with("b.jsonl:4: content[0].image_url: ")
                    && r.contains("missing.png")),
            "{rendered:?}"
        );
        assert!(
            rendered.iter().any(|r| r.starts_with("b.jsonl:5: json: ")),
            "{rendered:?}"
        );
    }

    #[test]
    fn local_files_are_inlined_relative_to_the_batch_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("a.png"), [0x89, b'P', b'N', b'G']).expect("write");
        let text = format!(
            r#"{{"model":"{MODEL}","content":[{{"type":"text","text":"x"}},{{"type":"image_url","image_url":{{"url":"a.png"}},"role":"first_frame"}}]}}"#
        );
        let p = parse_json_lines(&text, dir.path());
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        assert!(p.lines[0].request_json.contains("data:image/png;base64,"));
    }

    #[test]
    fn prompts_fill_the_template_and_repeats_get_distinct_stable_seeds() {
        let template = CreateRequest {
            model: MODEL.into(),
            ..CreateRequest::default()
        };
        let p = parse_prompts("apple tea\n\n# no\nbanana\n", &template);
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        assert_eq!(p.lines.len(), 2);
        let r = repeat(p.lines.clone(), 3);
        assert_eq!(r.len(), 6);
        let seeds: std::collections::HashSet<i64> = r
            .iter()
            .map(|l| {
                CreateRequest::from_json(&l.request_json)
                    .expect("json")
                    .seed
                    .expect("seed")
            })
            .collect();
        assert_eq!(seeds.len(), 6, "every variant has its own seed");
        let keys: std::collections::HashSet<&str> = r.iter().map(|l| l.key.as_str()).collect();
        assert_eq!(keys.len(), 6);
        assert_eq!(repeat(p.lines, 3), r, "a rerun makes the same variants");
    }

    #[test]
    fn a_given_seed_counts_up_per_variant() {
        let template = CreateRequest {
            model: MODEL.into(),
            seed: Some(10),
            ..CreateRequest::default()
        };
        let p = parse_prompts("x\n", &template);
        let seeds: Vec<i64> = repeat(p.lines, 3)
            .iter()
            .map(|l| {
                CreateRequest::from_json(&l.request_json)
                    .expect("json")
                    .seed
                    .expect("seed")
            })
            .collect();
        assert_eq!(seeds, [10, 11, 12]);
    }
}
