//! Batch files: JSON lines (one create request per line, in the `submit --json` format, with an
//! optional `"key"` and `"label"`) or a prompt list (one prompt per line over a template
//! request). They are read as a stream ([`each_line`]: a line is at most [`MAX_LINE_BYTES`], a
//! UTF-8 byte order mark is dropped, a line that is not UTF-8 is named) and turned into
//! requests one line at a time ([`LineParser`]), so memory does not grow with the number of
//! lines. Every line gets an idempotency key: its own `"key"`, else a hash of the normalized
//! request and the line number, so running the same file again queues nothing new and an
//! edited line is new. One key on two lines is an error when the requests differ and a
//! duplicate (queued once) when they are the same. Local references may not leave the file's
//! folder unless allowed.

use super::asset_files::AssetFiles;
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
    pub(crate) line: usize,
    /// 0 for the line itself, 1.. for the `--repeat` variants.
    pub(crate) variant: u32,
    pub(crate) key: String,
    pub(crate) label: Option<String>,
    /// The body to send: normalized, local files inlined as `data:` URLs.
    pub request_json: String,
    /// The names of the inlined local files (`AssetFiles` JSON), when there are any.
    pub(crate) asset_files: Option<String>,
}

/// A problem with one line, shown as `FILE:LINE: field: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LineProblem {
    pub(crate) line: usize,
    pub(crate) field: String,
    pub(crate) message: String,
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
    pub(crate) fn render(&self, file: &str) -> String {
        format!("{file}:{}: {}: {}", self.line, self.field, self.message)
    }
}

/// The lines that can be queued and the problems of the others (the whole file in memory:
/// tests and benchmarks; `submit --batch` streams through [`LineParser`] and [`each_line`]).
#[derive(Debug, Default)]
pub struct Parsed {
    pub lines: Vec<BatchLine>,
    pub(crate) problems: Vec<LineProblem>,
    /// Lines that held a request (blank lines and `#` comments excluded).
    pub(crate) requests: usize,
    /// `(line, first)`: a line with the key and the request of line `first`, queued once.
    pub(crate) duplicates: Vec<(usize, usize)>,
}

impl Parsed {
    fn add(&mut self, line: Line) {
        match line {
            Line::Blank => {}
            Line::Request(l) => {
                self.requests += 1;
                self.lines.push(l);
            }
            Line::Duplicate { line, first } => {
                self.requests += 1;
                self.duplicates.push((line, first));
            }
            Line::Invalid(p) => {
                self.requests += 1;
                self.problems.extend(p);
            }
        }
    }
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
pub(crate) fn line_key(line: usize, normalized_json: &str) -> String {
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

/// The longest line read: the API's limit on a whole request body. A longer line is refused by
/// its number, and its bytes are skipped without being kept.
pub(crate) const MAX_LINE_BYTES: usize = 64 << 20;

/// Lines longer than this are handed over as [`RawLine::Long`].
const LONG_LINE_BYTES: usize = 1 << 20;

/// One line of a batch file as read (see [`each_line`]).
#[derive(Debug)]
pub(crate) enum RawLine<'a> {
    Text(&'a str),
    /// A line of more than [`LONG_LINE_BYTES`], handed over whole: its parse lets go of the
    /// text once it is read, so the line and the request made from it are not both held.
    Long(String),
    /// Longer than the line limit: `bytes` were skipped.
    TooLong {
        bytes: u64,
    },
    /// Not UTF-8: the first bad byte's offset in the line.
    NotUtf8 {
        at: usize,
    },
}

impl RawLine<'_> {
    /// The problem of a line that could not be read as text, if it is one.
    pub(crate) fn problem(&self, line: usize) -> Option<LineProblem> {
        match self {
            RawLine::Text(_) | RawLine::Long(_) => None,
            RawLine::TooLong { bytes } => Some(LineProblem::new(
                line,
                "line",
                format!(
                    "is {bytes} bytes, longer than {} MiB (the API's limit on a request); split the request or send its files as links",
                    MAX_LINE_BYTES >> 20
                ),
            )),
            RawLine::NotUtf8 { at } => Some(LineProblem::new(
                line,
                "line",
                format!("is not UTF-8 text (a bad byte at offset {at}); save the file as UTF-8"),
            )),
        }
    }
}

/// Read `r` one line at a time — never more than `max_line` bytes of one line in memory, so
/// memory stays flat however many lines there are — calling `visit(number, line)` (1-based)
/// until it returns false. A UTF-8 byte order mark before the first line is dropped. Returns
/// the bytes read.
pub(crate) fn each_line(
    mut r: impl std::io::BufRead,
    max_line: usize,
    mut visit: impl FnMut(usize, RawLine<'_>) -> bool,
) -> std::io::Result<u64> {
    use std::io::{BufRead, Read};
    let mut buf: Vec<u8> = Vec::new();
    let mut total = 0u64;
    let mut number = 0usize;
    loop {
        buf.clear();
        let n = (&mut r)
            .take(max_line as u64 + 1)
            .read_until(b'\n', &mut buf)?;
        if n == 0 {
            return Ok(total);
        }
        total += n as u64;
        number += 1;
        let ended = buf.last() == Some(&b'\n');
        if !ended && buf.len() > max_line {
            // Skip the rest of the line without keeping it.
            let mut skipped = buf.len() as u64;
            buf = Vec::new();
            loop {
                let chunk = r.fill_buf()?;
                if chunk.is_empty() {
                    break;
                }
                match chunk.iter().position(|b| *b == b'\n') {
                    Some(i) => {
                        r.consume(i + 1);
                        skipped += i as u64 + 1;
                        break;
                    }
                    None => {
                        let len = chunk.len();
                        r.consume(len);
                        skipped += len as u64;
                    }
                }
            }
            total += skipped - n as u64;
            if !visit(number, RawLine::TooLong { bytes: skipped }) {
                return Ok(total);
            }
            continue;
        }
        // `read_until` doubles its buffer: a 20 MB line can leave 32 MB reserved. Big buffers
        // are mapped from the OS (`main.rs`), so giving back the rest moves nothing.
        if buf.capacity() > 1 << 20 && buf.capacity() > buf.len() + (buf.len() >> 3) {
            buf.shrink_to_fit();
        }
        let mut text: &[u8] = &buf;
        if let Some(t) = text.strip_suffix(b"\n") {
            text = t.strip_suffix(b"\r").unwrap_or(t);
        }
        let end = text.len();
        let bom = number == 1 && text.starts_with(b"\xEF\xBB\xBF");
        if bom {
            text = &text[3..];
        }
        let go_on = if end > LONG_LINE_BYTES {
            // The buffer itself becomes the line's text (nothing is copied).
            let mut owned = std::mem::take(&mut buf);
            owned.truncate(end);
            if bom {
                owned.drain(..3);
            }
            match String::from_utf8(owned) {
                Ok(t) => visit(number, RawLine::Long(t)),
                Err(e) => visit(
                    number,
                    RawLine::NotUtf8 {
                        at: e.utf8_error().valid_up_to(),
                    },
                ),
            }
        } else {
            match std::str::from_utf8(text) {
                Ok(t) => visit(number, RawLine::Text(t)),
                Err(e) => visit(
                    number,
                    RawLine::NotUtf8 {
                        at: e.valid_up_to(),
                    },
                ),
            }
        };
        if !go_on {
            return Ok(total);
        }
        // A very long line's buffer is not kept for the next, short ones.
        if buf.capacity() > 1 << 20 {
            buf = Vec::new();
        }
    }
}

/// What one line of a batch file is.
#[derive(Debug)]
pub(crate) enum Line {
    /// Blank, or a `#` comment.
    Blank,
    Request(BatchLine),
    /// The same key and request as line `first`: queued once.
    Duplicate {
        line: usize,
        first: usize,
    },
    Invalid(Vec<LineProblem>),
}

/// The explicit keys seen so far in a file: a key's hash → the first line and its request's
/// hash (hashes, so a million keys stay small).
#[derive(Default)]
struct Keys(HashMap<u64, (usize, u64)>);

impl Keys {
    /// `Ok(None)` for a new key, `Ok(Some(first))` for the same key with the same request as
    /// line `first` (a duplicate), `Err` for the same key with another request.
    fn see(&mut self, key: &str, line: usize, request: u64) -> Result<Option<usize>, LineProblem> {
        match self.0.entry(fnv1a(&[key.as_bytes()])) {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert((line, request));
                Ok(None)
            }
            std::collections::hash_map::Entry::Occupied(o) => {
                let (first, first_request) = *o.get();
                if first_request == request {
                    Ok(Some(first))
                } else {
                    Err(LineProblem::new(
                        line,
                        "key",
                        format!(
                            "`{}` is also the key of line {first}, with another request; give each request its own key",
                            crate::sanitize::line(key)
                        ),
                    ))
                }
            }
        }
    }
}

/// [`fnv1a`] of parts, fed as they are written: a request's normalized JSON is hashed as
/// serde writes it, never held whole (a line may carry a 20 MB prompt).
struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    /// The end of one part (as `fnv1a` marks it).
    fn part(&mut self) {
        self.0 ^= 0xff;
        self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
    }
}

impl std::io::Write for Fnv {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        for b in buf {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The hash of a request's normalized JSON (what a repeated key is compared by), and the key
/// of line `line` when it has none (see [`line_key`]): the same values as hashing the JSON
/// text, without writing it out.
fn request_hashes(req: &CreateRequest, line: usize) -> (u64, String) {
    let mut request = Fnv::new();
    let mut keyed = Fnv::new();
    std::io::Write::write_all(&mut keyed, line.to_string().as_bytes()).ok();
    keyed.part();
    let _ = serde_json::to_writer(&mut request, req);
    let _ = serde_json::to_writer(&mut keyed, req);
    request.part();
    keyed.part();
    (request.0, format!("line{line}-{:016x}", keyed.0))
}

/// Local files named by the requests, inlined once each while they are small enough to keep
/// (a batch often reuses one image); the cache is bounded in bytes.
struct Files {
    base: PathBuf,
    /// The folder's real path (symlinks resolved), when it has one.
    real_base: Option<PathBuf>,
    /// References may leave the folder (`--allow-outside-refs`).
    allow_outside: bool,
    cache: HashMap<(PathBuf, &'static str), Result<String, String>>,
    cached_bytes: usize,
}

/// What the file cache keeps at most.
const FILE_CACHE_BYTES: usize = 16 << 20;

impl Files {
    fn new(base: &Path, allow_outside: bool) -> Files {
        Files {
            base: base.to_path_buf(),
            real_base: std::fs::canonicalize(base).ok(),
            allow_outside,
            cache: HashMap::new(),
            cached_bytes: 0,
        }
    }

    /// Refuse a reference that leaves the batch file's folder (`..`, an absolute path, a
    /// symlink out), unless allowed.
    fn check_inside(&self, given: &str, path: &Path) -> Result<(), String> {
        if self.allow_outside {
            return Ok(());
        }
        let outside = || {
            format!(
                "`{}` is outside the batch file's folder; a batch file must not send files from elsewhere (move the file next to it, or pass --allow-outside-refs)",
                crate::sanitize::line(given)
            )
        };
        let (Some(base), Ok(real)) = (&self.real_base, std::fs::canonicalize(path)) else {
            // A missing file is reported by the read; one we cannot resolve is not sent.
            return if path.exists() {
                Err(outside())
            } else {
                Ok(())
            };
        };
        if real.starts_with(base) {
            Ok(())
        } else {
            Err(outside())
        }
    }

    /// Inline the local files `req` names, remembering their names in `names` when given.
    fn inline(
        &mut self,
        req: &mut CreateRequest,
        line: usize,
        mut names: Option<&mut AssetFiles>,
    ) -> Vec<LineProblem> {
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
            let field = format!("content[{i}].{field}");
            if let Err(e) = self.check_inside(media.url.trim(), &path) {
                problems.push(LineProblem::new(line, &field, e));
                continue;
            }
            let key = (path.clone(), kind.as_str());
            let resolved = match self.cache.get(&key) {
                Some(r) => r.clone(),
                None => {
                    let r = assets::file_to_data_url(&path, kind).map_err(|e| e.to_string());
                    let size = r.as_ref().map_or(0, String::len);
                    if self.cached_bytes + size > FILE_CACHE_BYTES {
                        self.cache.clear();
                        self.cached_bytes = 0;
                    }
                    if size <= FILE_CACHE_BYTES {
                        self.cached_bytes += size;
                        self.cache.insert(key, r.clone());
                    }
                    r
                }
            };
            match resolved {
                Ok(url) => {
                    if let Some(names) = names.as_deref_mut() {
                        names.insert(&url, &media.url);
                    }
                    media.url = url;
                }
                Err(e) => problems.push(LineProblem::new(line, &field, e)),
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

/// Turns the lines of one batch file into requests, one at a time: what it keeps between
/// lines is small (explicit keys as hashes, a bounded file cache), whatever the file's size.
pub(crate) struct LineParser<'a> {
    template: Option<&'a CreateRequest>,
    files: Files,
    keys: Keys,
    /// Only check the lines: a request's body is not written out (`request_json` is empty).
    check_only: bool,
}

impl<'a> LineParser<'a> {
    /// JSON lines; relative local paths resolve against `base_dir` (the file's folder) and may
    /// not leave it unless `allow_outside`.
    pub(crate) fn json_lines(base_dir: &Path, allow_outside: bool) -> LineParser<'static> {
        LineParser {
            template: None,
            files: Files::new(base_dir, allow_outside),
            keys: Keys::default(),
            check_only: false,
        }
    }

    /// A prompt list over `template` (the flags and `[defaults]`; its assets already inlined).
    pub(crate) fn prompts(template: &'a CreateRequest) -> LineParser<'a> {
        LineParser {
            template: Some(template),
            files: Files::new(Path::new("."), false),
            keys: Keys::default(),
            check_only: false,
        }
    }

    /// This parser, only checking the lines (a first reading that keeps nothing).
    pub(crate) fn checking(mut self) -> Self {
        self.check_only = true;
        self
    }

    /// Line `line` of the file.
    pub(crate) fn parse(&mut self, line: usize, raw: &str) -> Line {
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            return Line::Blank;
        }
        match self.template {
            Some(t) => prompt_line(t, line, trimmed.to_string()),
            None => self.json_line(line, trimmed),
        }
    }

    /// [`LineParser::parse`] of a line as [`each_line`] read it.
    pub(crate) fn parse_raw(&mut self, line: usize, raw: RawLine<'_>) -> Line {
        match raw {
            RawLine::Text(t) => self.parse(line, t),
            RawLine::Long(t) => self.parse_long(line, t),
            other => Line::Invalid(other.problem(line).into_iter().collect()),
        }
    }

    /// [`LineParser::parse`] of a long line, let go of as soon as it is read: a JSON line once
    /// its value is parsed, a prompt by becoming the request's text.
    fn parse_long(&mut self, line: usize, raw: String) -> Line {
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            return Line::Blank;
        }
        match self.template {
            Some(t) => prompt_line(t, line, trimmed_in_place(raw)),
            None => {
                let len = trimmed.len();
                let v = match json_value(line, trimmed) {
                    Ok(v) => v,
                    Err(invalid) => return invalid,
                };
                drop(raw);
                self.json_request(line, v, len)
            }
        }
    }

    fn json_line(&mut self, line: usize, trimmed: &str) -> Line {
        match json_value(line, trimmed) {
            Ok(v) => self.json_request(line, v, trimmed.len()),
            Err(invalid) => invalid,
        }
    }

    /// The request of JSON line `line` (`len` bytes as written), parsed as `v`.
    fn json_request(&mut self, line: usize, mut v: Value, len: usize) -> Line {
        let Some(obj) = v.as_object_mut() else {
            return Line::Invalid(vec![LineProblem::new(
                line,
                "json",
                "a line must be one JSON object (a create request)",
            )]);
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
                return Line::Invalid(problems);
            }
        };
        let (request, line_key) = request_hashes(&req, line);
        if let Some(k) = &key {
            match self.keys.see(k, line, request) {
                Ok(None) => {}
                Ok(Some(first)) => return Line::Duplicate { line, first },
                Err(p) => {
                    problems.push(p);
                    return Line::Invalid(problems);
                }
            }
        }
        let key = key.unwrap_or(line_key);
        let mut sent = req;
        let mut names = AssetFiles::default();
        // A check keeps no body, so no names either (hashing each inlined file costs time).
        let keep = (!self.check_only).then_some(&mut names);
        problems.extend(self.files.inline(&mut sent, line, keep));
        problems.extend(check(&sent, line));
        if !problems.is_empty() {
            return Line::Invalid(problems);
        }
        Line::Request(BatchLine {
            line,
            variant: 0,
            key,
            label,
            request_json: if self.check_only {
                String::new()
            } else {
                // Inlined files make it longer; room for the line as it was, at least.
                sent.to_json_sized(len + 1024)
            },
            asset_files: names.to_json(),
        })
    }
}

/// A line's JSON value, or the line's problem.
fn json_value(line: usize, trimmed: &str) -> Result<Value, Line> {
    serde_json::from_str(trimmed).map_err(|e| {
        Line::Invalid(vec![LineProblem::new(
            line,
            "json",
            format!("not JSON: {e}"),
        )])
    })
}

/// `s` without its leading and trailing white space, in its own buffer.
fn trimmed_in_place(mut s: String) -> String {
    let end = s.trim_end().len();
    s.truncate(end);
    let start = s.len() - s.trim_start().len();
    s.drain(..start);
    s
}

fn prompt_line(template: &CreateRequest, line: usize, prompt: String) -> Line {
    let mut req = template.clone();
    let len = prompt.len();
    match req
        .content
        .iter_mut()
        .find(|c| matches!(c, ContentItem::Text { .. }))
    {
        Some(ContentItem::Text { text }) => *text = prompt,
        _ => req.content.insert(0, ContentItem::text(prompt)),
    }
    let problems = check(&req, line);
    if !problems.is_empty() {
        return Line::Invalid(problems);
    }
    let json = req.to_json_sized(len + 1024);
    Line::Request(BatchLine {
        line,
        variant: 0,
        key: line_key(line, &json),
        label: None,
        request_json: json,
        // The template's files are named by whoever built it.
        asset_files: None,
    })
}

/// Read JSON lines from text. Relative local paths are resolved against `base_dir` (the file's
/// folder) and may not leave it.
pub fn parse_json_lines(text: &str, base_dir: &Path) -> Parsed {
    parse_all(text, LineParser::json_lines(base_dir, false))
}

/// Read a prompt list from text: every non-blank line that does not start with `#` is a prompt,
/// set as the text of `template` (the flags and `[defaults]`; its assets are already inlined).
pub fn parse_prompts(text: &str, template: &CreateRequest) -> Parsed {
    parse_all(text, LineParser::prompts(template))
}

fn parse_all(text: &str, mut parser: LineParser<'_>) -> Parsed {
    let mut out = Parsed::default();
    let _ = each_line(text.as_bytes(), MAX_LINE_BYTES, |n, raw| {
        out.add(parser.parse_raw(n, raw));
        true
    });
    out
}

/// The largest seed the API takes that every service accepts (2^31 - 1).
const SEED_SPAN: u64 = 2_147_483_647;

/// `n` variants of every line, each with its own seed: the line's seed plus the variant number
/// when it has one, else a seed derived from the line (so a rerun makes the same variants and
/// queues nothing new). Variant keys are the line's key with `#N`.
pub(crate) fn repeat(lines: Vec<BatchLine>, n: u32) -> Vec<BatchLine> {
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
                asset_files: l.asset_files.clone(),
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
    fn lines_are_read_within_their_cap_without_a_bom_and_bad_utf8_is_named() {
        let mut text = b"\xEF\xBB\xBFfirst\r\n".to_vec();
        text.extend(vec![b'x'; 100]);
        text.extend(b"\nbad \xff byte\nlast");
        let mut seen = Vec::new();
        let read = each_line(&text[..], 50, |n, raw| {
            seen.push(match raw {
                RawLine::Text(t) => format!("{n}:{t}"),
                RawLine::Long(t) => format!("{n}:handed over {t}"),
                RawLine::TooLong { bytes } => format!("{n}:long {bytes}"),
                RawLine::NotUtf8 { at } => format!("{n}:bad at {at}"),
            });
            true
        })
        .expect("reads");
        assert_eq!(read, text.len() as u64);
        assert_eq!(seen, ["1:first", "2:long 101", "3:bad at 4", "4:last"]);
        let p = RawLine::TooLong { bytes: 101 }
            .problem(2)
            .expect("a problem");
        assert!(
            p.render("b.jsonl")
                .starts_with("b.jsonl:2: line: is 101 bytes"),
            "{p:?}"
        );
    }

    #[test]
    fn a_long_line_is_handed_over_whole_and_parses_as_the_same_line_would() {
        let prompt = "a lighthouse at dusk ".repeat(LONG_LINE_BYTES / 16);
        let json = format!(r#"  {{"key":"k","label":"l",{}  "#, &line(&prompt)[1..]);
        let mut text = b"\xEF\xBB\xBF".to_vec();
        text.extend(json.as_bytes());
        text.extend(b"\r\nshort\n");
        text.extend(&text.clone()[3..text.len() - 6]); // line 3: the same, without a BOM
        text.extend(b"\xff");
        text.extend(vec![b'x'; LONG_LINE_BYTES]);
        let mut seen = Vec::new();
        each_line(&text[..], MAX_LINE_BYTES, |n, raw| {
            seen.push(match raw {
                RawLine::Text(t) => (n, "text", t.to_string()),
                RawLine::Long(t) => (n, "long", t),
                RawLine::NotUtf8 { at } => (n, "bad", at.to_string()),
                RawLine::TooLong { .. } => (n, "too long", String::new()),
            });
            true
        })
        .expect("reads");
        let expected = [
            (1, "long", json.clone()),
            (2, "text", "short".to_string()),
            (3, "long", json.clone()),
            (4, "bad", "0".to_string()),
        ];
        assert_eq!(seen, expected);
        // Parsed from the handed-over text, a JSON line and a prompt give what the borrowed
        // text gives: the same request, byte for byte, and the same key.
        let template = CreateRequest::from_json(&line("")).expect("template");
        let parser = |prompts: bool| match prompts {
            true => LineParser::prompts(&template),
            false => LineParser::json_lines(Path::new("."), false),
        };
        for prompts in [false, true] {
            let Line::Request(borrowed) = parser(prompts).parse(1, &json) else {
                panic!("a request");
            };
            let Line::Request(long) = parser(prompts).parse_raw(1, RawLine::Long(json.clone()))
            else {
                panic!("a request");
            };
            assert!(borrowed.request_json.len() > LONG_LINE_BYTES);
            assert_eq!(long, borrowed);
        }
        let mut parser = LineParser::json_lines(Path::new("."), false);
        let Line::Invalid(problems) =
            parser.parse_raw(1, RawLine::Long(format!("{{\"model\": {prompt}")))
        else {
            panic!("invalid");
        };
        assert_eq!(problems[0].field, "json");
        assert!(matches!(
            parser.parse_raw(1, RawLine::Long(format!("  # {prompt}"))),
            Line::Blank
        ));
    }

    #[test]
    fn streamed_hashes_are_the_hashes_of_the_text() {
        let req = CreateRequest::from_json(&line("snow \\u2603 and \u{e9}")).expect("request");
        let json = req.to_json();
        let (request, key) = request_hashes(&req, 7);
        assert_eq!(request, fnv1a(&[json.as_bytes()]));
        assert_eq!(key, line_key(7, &json));
    }

    #[test]
    fn one_key_on_two_lines_is_an_error_or_a_duplicate() {
        let keyed = |key: &str, prompt: &str| {
            format!(
                r#"{{"key":"{key}","model":"{MODEL}","content":[{{"type":"text","text":"{prompt}"}}]}}"#
            )
        };
        let text = [
            keyed("a", "x"),
            keyed("a", "x"),
            keyed("b", "y"),
            keyed("b", "z"),
        ]
        .join("\n");
        let p = parse_json_lines(&text, Path::new("."));
        assert_eq!(p.lines.len(), 2, "{:?}", p.lines);
        assert_eq!(p.duplicates, [(2, 1)]);
        assert_eq!(p.problems.len(), 1);
        assert!(
            p.problems[0]
                .render("f")
                .starts_with("f:4: key: `b` is also the key of line 3"),
            "{:?}",
            p.problems
        );
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
        std::fs::write(
            dir.path().join("a.png"),
            crate::engine::media_probe::samples::png(400, 300),
        )
        .expect("write");
        let text = format!(
            r#"{{"model":"{MODEL}","content":[{{"type":"text","text":"x"}},{{"type":"image_url","image_url":{{"url":"a.png"}},"role":"first_frame"}}]}}"#
        );
        let p = parse_json_lines(&text, dir.path());
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        assert!(p.lines[0].request_json.contains("data:image/png;base64,"));
        // The file's name goes with the line (and its variants), by its data URL.
        let req = CreateRequest::from_json(&p.lines[0].request_json).expect("json");
        let url = req.content[1].as_media().expect("image").1;
        let names = AssetFiles::from_json(p.lines[0].asset_files.as_deref().expect("names"));
        assert_eq!(names.name(url), Some("a.png"));
        let variants = repeat(p.lines.clone(), 2);
        assert_eq!(variants[1].asset_files, p.lines[0].asset_files);
        // A line with no local file has no names.
        let plain = parse_json_lines(&line("no-files"), dir.path());
        assert_eq!(plain.lines[0].asset_files, None);
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
