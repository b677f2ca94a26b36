//! A task record as one line of JSON for scripts (`ls --json`, `ls --jsonl`), written straight
//! from the row's borrowed fields: the same bytes as [`record_json`] serialised and
//! sanitised, without building a `serde_json::Value` tree for every row.
//!
//! The stored request and response are JSON text. When a text is already exactly what
//! serde_json would write for it ([`is_canonical`]), it is copied as is; anything else (spaces,
//! floats, other escapes, duplicate keys, invalid JSON) goes through a parse and a write, as
//! before. Either way the whole line then passes the sanitizer, so server strings never reach a
//! terminal raw.

use crate::store::TaskRecord;
use serde::Serialize;
use serde_json::{Value, json};
use std::io::Write;

/// A task record as JSON for scripts: local fields plus the server's last response.
pub fn record_json(r: &TaskRecord) -> Value {
    record_value(
        r,
        serde_json::from_str(&r.request_json).unwrap_or(Value::Null),
    )
}

/// [`record_json`] with `request` as its request.
fn record_value(r: &TaskRecord, request: Value) -> Value {
    let response: Value = r
        .response_json
        .as_deref()
        .and_then(|j| serde_json::from_str(j).ok())
        .unwrap_or(Value::Null);
    json!({
        "id": r.task_id,
        "local_id": r.local_id,
        "status": r.phase.as_str(),
        "model": r.model,
        "prompt": r.prompt,
        "profile": r.profile,
        "label": r.label,
        "retry_of": r.retry_of,
        "retry_depth": r.retry_depth,
        "created_at": r.created_at,
        "updated_at": r.updated_at,
        "tokens": r.tokens,
        "error": r.error_code.as_ref().map(|c| json!({"code": c, "message": r.error_message})),
        "video_url": r.video_url,
        "last_frame_url": r.last_frame_url,
        "video_path": r.video_path,
        "last_frame_path": r.last_frame_path,
        "request": request,
        "response": response,
    })
}

/// The record's own fields, in the order of [`record_json`] (serde_json keeps
/// insertion order here: the `preserve_order` feature).
#[derive(Serialize)]
struct Head<'a> {
    id: Option<&'a str>,
    local_id: &'a str,
    status: &'a str,
    model: &'a str,
    prompt: &'a str,
    profile: &'a str,
    label: Option<&'a str>,
    retry_of: Option<&'a str>,
    retry_depth: u32,
    created_at: i64,
    updated_at: i64,
    tokens: Option<u64>,
    error: Option<ErrorJson<'a>>,
    video_url: Option<&'a str>,
    last_frame_url: Option<&'a str>,
    video_path: Option<&'a str>,
    last_frame_path: Option<&'a str>,
}

#[derive(Serialize)]
struct ErrorJson<'a> {
    code: &'a str,
    message: Option<&'a str>,
}

/// Append `r` as one line of safe JSON text (no newline) to `out`. `scratch` is a buffer reused
/// between rows.
pub fn write_record(out: &mut Vec<u8>, scratch: &mut Vec<u8>, r: &TaskRecord) {
    // Writing into a Vec cannot fail.
    let _ = write_record_to(out, scratch, r, &r.request_json);
}

/// [`write_record`] with `request` as the stored request (`r.request_json` is not read), to
/// any writer: a canonical request goes out in pieces straight from `request`, so a 20 MB one
/// is held once, never copied into a line.
pub fn write_record_to(
    out: &mut impl Write,
    scratch: &mut Vec<u8>,
    r: &TaskRecord,
    request: &str,
) -> std::io::Result<()> {
    scratch.clear();
    let head = Head {
        id: r.task_id.as_deref(),
        local_id: &r.local_id,
        status: r.phase.as_str(),
        model: &r.model,
        prompt: &r.prompt,
        profile: &r.profile,
        label: r.label.as_deref(),
        retry_of: r.retry_of.as_deref(),
        retry_depth: r.retry_depth,
        created_at: r.created_at,
        updated_at: r.updated_at,
        tokens: r.tokens,
        error: r.error_code.as_deref().map(|code| ErrorJson {
            code,
            message: r.error_message.as_deref(),
        }),
        video_url: r.video_url.as_deref(),
        last_frame_url: r.last_frame_url.as_deref(),
        video_path: r.video_path.as_deref(),
        last_frame_path: r.last_frame_path.as_deref(),
    };
    // Writing these plain fields into a Vec cannot fail; should it ever, the Value path is the
    // reference.
    if serde_json::to_writer(&mut *scratch, &head).is_err() || scratch.pop() != Some(b'}') {
        let request = serde_json::from_str(request).unwrap_or(Value::Null);
        let text = crate::sanitize::json(&record_value(r, request));
        return out.write_all(text.as_bytes());
    }
    scratch.extend_from_slice(b",\"request\":");
    if is_canonical(request) {
        safe_json_to(out, scratch)?;
        safe_json_to(out, request.as_bytes())?;
        scratch.clear();
    } else {
        stored_json(scratch, Some(request));
    }
    scratch.extend_from_slice(b",\"response\":");
    stored_json(scratch, r.response_json.as_deref());
    scratch.push(b'}');
    safe_json_to(out, scratch)
}

/// `get`'s text of `r` (no final newline) with `request` as its stored request: the same as
/// `sanitize::json_pretty(&record_json(r))`, but a canonical request (what this client stores)
/// is indented as it is copied out in pieces instead of parsed into a tree and printed whole.
pub fn write_pretty(out: &mut impl Write, r: &TaskRecord, request: &str) -> std::io::Result<()> {
    if !is_canonical(request) {
        let request = serde_json::from_str(request).unwrap_or(Value::Null);
        let text = crate::sanitize::json_pretty(&record_value(r, request));
        return out.write_all(text.as_bytes());
    }
    // The record with a stand-in request, cut where the stand-in stands: a top-level key
    // follows a real newline and two spaces, which no string value can hold.
    const STAND_IN: &str = "\u{0}request\u{0}";
    let text = serde_json::to_string_pretty(&record_value(r, Value::from(STAND_IN)))
        .map_err(std::io::Error::other)?;
    let key = "\n  \"request\": ";
    let value = serde_json::to_string(STAND_IN).map_err(std::io::Error::other)?;
    let at = text
        .find(&format!("{key}{value}"))
        .ok_or_else(|| std::io::Error::other("no request in the record"))?;
    let (before, after) = (
        &text[..at + key.len()],
        &text[at + key.len() + value.len()..],
    );
    safe_json_to(out, before.as_bytes())?;
    write_indented(out, request, 1)?;
    safe_json_to(out, after.as_bytes())
}

/// How much text is sanitized and written at a time.
const PIECE: usize = 64 << 10;

/// Canonical JSON text ([`is_canonical`]) as serde_json's pretty printer writes the same value
/// nested `depth` levels deep (two spaces a level), through the sanitizer, in pieces. No
/// whitespace and one spelling per value make this a re-indent: strings, numbers and literals
/// are copied, and only the structure gets newlines and indents.
fn write_indented(out: &mut impl Write, text: &str, mut depth: usize) -> std::io::Result<()> {
    let b = text.as_bytes();
    let mut piece: Vec<u8> = Vec::with_capacity(PIECE + 256);
    let newline = |piece: &mut Vec<u8>, depth: usize| {
        piece.push(b'\n');
        for _ in 0..depth {
            piece.extend_from_slice(b"  ");
        }
    };
    let mut i = 0;
    while i < b.len() {
        if piece.len() >= PIECE {
            safe_json_to(out, &piece)?;
            piece.clear();
        }
        match b[i] {
            b'"' => {
                // The string, to its closing quote, copied at most a piece at a time: cuts
                // fall at character boundaries (quotes, backslashes and escapes are ASCII).
                piece.push(b'"');
                i += 1;
                loop {
                    if piece.len() >= PIECE {
                        safe_json_to(out, &piece)?;
                        piece.clear();
                    }
                    let window = &b[i..b.len().min(i + PIECE)];
                    let Some(k) = memchr::memchr2(b'"', b'\\', window) else {
                        let mut stop = i + window.len();
                        while !text.is_char_boundary(stop) {
                            stop += 1;
                        }
                        piece.extend_from_slice(&b[i..stop]);
                        i = stop;
                        if i >= b.len() {
                            break;
                        }
                        continue;
                    };
                    piece.extend_from_slice(&window[..k]);
                    i += k;
                    match b.get(i) {
                        Some(b'\\') => {
                            piece.extend_from_slice(&b[i..(i + 2).min(b.len())]);
                            i += 2;
                        }
                        Some(_) => {
                            piece.push(b'"');
                            i += 1;
                            break;
                        }
                        None => break,
                    }
                }
                continue;
            }
            open @ (b'{' | b'[') => {
                let close = if open == b'{' { b'}' } else { b']' };
                piece.push(open);
                if b.get(i + 1) == Some(&close) {
                    piece.push(close);
                    i += 1;
                } else {
                    depth += 1;
                    newline(&mut piece, depth);
                }
            }
            close @ (b'}' | b']') => {
                depth = depth.saturating_sub(1);
                newline(&mut piece, depth);
                piece.push(close);
            }
            b',' => {
                piece.push(b',');
                newline(&mut piece, depth);
            }
            b':' => piece.extend_from_slice(b": "),
            c => piece.push(c),
        }
        i += 1;
    }
    safe_json_to(out, &piece)
}

/// Stored JSON text as serde_json writes the value it holds; `null` for none or invalid JSON.
fn stored_json(out: &mut Vec<u8>, text: Option<&str>) {
    let Some(text) = text else {
        out.extend_from_slice(b"null");
        return;
    };
    if is_canonical(text) {
        out.extend_from_slice(text.as_bytes());
        return;
    }
    match serde_json::from_str::<Value>(text) {
        Ok(v) if serde_json::to_writer(&mut *out, &v).is_ok() => {}
        _ => out.extend_from_slice(b"null"),
    }
}

/// Write the JSON text in `json` (UTF-8) to `out` through the sanitizer
/// ([`crate::sanitize::json_text`]), [`PIECE`] bytes at a time (it works a character at a
/// time, so pieces cut at character boundaries give the same text). Printable ASCII needs no
/// escape and is copied without decoding.
fn safe_json_to(out: &mut impl Write, json: &[u8]) -> std::io::Result<()> {
    let mut rest = json;
    while !rest.is_empty() {
        let mut end = rest.len().min(PIECE);
        while end < rest.len() && rest[end] & 0xC0 == 0x80 {
            end += 1;
        }
        let (piece, tail) = rest.split_at(end);
        if piece.iter().all(|&b| (0x20..0x7f).contains(&b)) {
            out.write_all(piece)?;
        } else {
            // serde_json writes UTF-8 and so do the stored texts (Rust strings); lossy only in
            // theory.
            let text = String::from_utf8_lossy(piece);
            out.write_all(crate::sanitize::json_text(&text).as_bytes())?;
        }
        rest = tail;
    }
    Ok(())
}

/// Nesting deeper than this takes the parse-and-write path (serde_json's own limit is 128).
const MAX_DEPTH: usize = 64;

/// True when `text` is byte for byte what serde_json writes (compact) for the value it parses
/// `text` to: no whitespace, object keys unique, integers only (within i64/u64, no `-0`) and
/// strings with exactly serde_json's escapes (`\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, and
/// `\u00xx` in lower case for the other C0 characters). Then copying `text` is the same as
/// parsing and writing it.
pub(crate) fn is_canonical(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = 0;
    let mut keys = Vec::new();
    value(b, &mut i, 0, &mut keys) && i == b.len()
}

fn value<'a>(b: &'a [u8], i: &mut usize, depth: usize, keys: &mut Vec<&'a [u8]>) -> bool {
    match b.get(*i) {
        Some(b'{') => object(b, i, depth + 1, keys),
        Some(b'[') => array(b, i, depth + 1, keys),
        Some(b'"') => string(b, i),
        Some(b't') => literal(b, i, b"true"),
        Some(b'f') => literal(b, i, b"false"),
        Some(b'n') => literal(b, i, b"null"),
        Some(b'-' | b'0'..=b'9') => integer(b, i),
        _ => false,
    }
}

fn literal(b: &[u8], i: &mut usize, word: &[u8]) -> bool {
    if b[*i..].starts_with(word) {
        *i += word.len();
        true
    } else {
        false
    }
}

fn object<'a>(b: &'a [u8], i: &mut usize, depth: usize, keys: &mut Vec<&'a [u8]>) -> bool {
    if depth > MAX_DEPTH {
        return false;
    }
    *i += 1;
    if b.get(*i) == Some(&b'}') {
        *i += 1;
        return true;
    }
    // This object's keys sit on top of the shared stack while it is read.
    let base = keys.len();
    let ok = loop {
        let start = *i;
        if !string(b, i) {
            break false;
        }
        // Canonical strings have one spelling each, so equal bytes are equal keys.
        let key = &b[start..*i];
        if keys[base..].contains(&key) {
            break false;
        }
        keys.push(key);
        if b.get(*i) != Some(&b':') {
            break false;
        }
        *i += 1;
        if !value(b, i, depth, keys) {
            break false;
        }
        match b.get(*i) {
            Some(b',') => *i += 1,
            Some(b'}') => {
                *i += 1;
                break true;
            }
            _ => break false,
        }
    };
    keys.truncate(base);
    ok
}

fn array<'a>(b: &'a [u8], i: &mut usize, depth: usize, keys: &mut Vec<&'a [u8]>) -> bool {
    if depth > MAX_DEPTH {
        return false;
    }
    *i += 1;
    if b.get(*i) == Some(&b']') {
        *i += 1;
        return true;
    }
    loop {
        if !value(b, i, depth, keys) {
            return false;
        }
        match b.get(*i) {
            Some(b',') => *i += 1,
            Some(b']') => {
                *i += 1;
                return true;
            }
            _ => return false,
        }
    }
}

fn string(b: &[u8], i: &mut usize) -> bool {
    if b.get(*i) != Some(&b'"') {
        return false;
    }
    *i += 1;
    loop {
        match b.get(*i) {
            Some(b'"') => {
                *i += 1;
                return true;
            }
            Some(b'\\') => match b.get(*i + 1) {
                Some(b'"' | b'\\' | b'b' | b'f' | b'n' | b'r' | b't') => *i += 2,
                Some(b'u') => {
                    // serde_json writes `\u00xx` only for C0 characters without a short escape.
                    let Some(&[b'0', b'0', hi, lo]) = b.get(*i + 2..*i + 6) else {
                        return false;
                    };
                    let (Some(hi), Some(lo)) = (lower_hex(hi), lower_hex(lo)) else {
                        return false;
                    };
                    let c = hi * 16 + lo;
                    if c >= 0x20 || matches!(c, 0x08 | 0x09 | 0x0a | 0x0c | 0x0d) {
                        return false;
                    }
                    *i += 6;
                }
                _ => return false,
            },
            // Raw C0 is invalid JSON; the parse path decides what it becomes.
            Some(&c) if c < 0x20 => return false,
            Some(_) => *i += 1,
            None => return false,
        }
    }
}

fn lower_hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

/// An integer serde_json keeps as one (u64, or i64 when negative) and writes back the same.
fn integer(b: &[u8], i: &mut usize) -> bool {
    let negative = b.get(*i) == Some(&b'-');
    let start = *i + usize::from(negative);
    let mut end = start;
    while b.get(end).is_some_and(u8::is_ascii_digit) {
        end += 1;
    }
    let digits = &b[start..end];
    if digits.is_empty() || (digits[0] == b'0' && digits.len() > 1) {
        return false;
    }
    // A fraction or exponent makes it a float: written back in serde_json's own float form.
    if matches!(b.get(end), Some(b'.' | b'e' | b'E')) {
        return false;
    }
    let mut magnitude: u64 = 0;
    for &d in digits {
        match magnitude
            .checked_mul(10)
            .and_then(|m| m.checked_add(u64::from(d - b'0')))
        {
            Some(m) => magnitude = m,
            None => return false,
        }
    }
    // `-0` and negatives beyond i64 come back as floats.
    if negative && (magnitude == 0 || magnitude > 1 << 63) {
        return false;
    }
    *i = end;
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference: parse and write, as `record_json` does.
    fn reparsed(text: &str) -> String {
        serde_json::from_str::<Value>(text)
            .map(|v| v.to_string())
            .unwrap_or_else(|_| "null".into())
    }

    fn fast(text: &str) -> String {
        let mut out = Vec::new();
        stored_json(&mut out, Some(text));
        String::from_utf8(out).expect("utf8")
    }

    #[test]
    fn canonical_texts_are_copied_and_the_rest_reparsed() {
        for text in [
            r#"{"a":1,"b":[true,false,null],"c":{"d":"x\"y\\z\n\u0001"},"e":-9223372036854775808}"#,
            "{\"u\":18446744073709551615,\"s\":\"ünï 中文 \\u001f\u{7f}\u{9b}\"}",
            "[]",
            "{}",
            "\"\"",
            "0",
        ] {
            assert!(is_canonical(text), "{text}");
            assert_eq!(fast(text), reparsed(text), "{text}");
        }
        for text in [
            r#"{"a": 1}"#,
            r#"{"a":1.0}"#,
            r#"{"a":1e3}"#,
            r#"{"a":-0}"#,
            r#"{"a":18446744073709551616}"#,
            r#"{"a":-9223372036854775809}"#,
            r#"{"a":"\/"}"#,
            r#"{"a":"\u0041"}"#,
            r#"{"a":"\u000A"}"#,
            r#"{"a":"\u000a"}"#,
            r#"{"a":"\u001B"}"#,
            r#"{"a":"\u007f"}"#,
            r#"{"a":1,"a":2}"#,
            r#"{"a":01}"#,
            "{\"a\":\"\u{1}\"}",
            " {}",
            "{} ",
            "{",
            "nul",
            "",
            "not json",
        ] {
            assert!(!is_canonical(text), "{text}");
            assert_eq!(fast(text), reparsed(text), "{text}");
        }
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert!(!is_canonical(&deep));
        assert_eq!(fast(&deep), reparsed(&deep));
    }

    fn line(r: &TaskRecord) -> String {
        let (mut out, mut scratch) = (Vec::new(), Vec::new());
        write_record(&mut out, &mut scratch, r);
        String::from_utf8(out).expect("utf8")
    }

    #[test]
    fn records_come_out_as_the_value_path_writes_them() {
        use crate::api::TaskStatus;
        use crate::store::Phase;
        let plain = TaskRecord {
            request_json: r#"{"model":"m","content":[{"type":"text","text":"tea"}]}"#.into(),
            response_json: Some(
                r#"{"id":"cgt-1","status":"succeeded","usage":{"total_tokens":9}}"#.into(),
            ),
            tokens: Some(9),
            video_url: Some("https://v/1.mp4".into()),
            ..TaskRecord::factory("l1", Phase::Remote(TaskStatus::Succeeded), 1_700_000_000)
        };
        let hostile = TaskRecord {
            prompt: "a\u{1b}]52;c;AAAA\u{7}\n\u{9b}2J\u{202e}txt.exe 中文 \u{7f}".into(),
            // Non-canonical (spaces, a float, `\/`) and hostile bytes inside the stored JSON.
            request_json: "{ \"text\": \"x\\u001b[2J\\/\u{2028}\", \"n\": 1.50 }".into(),
            response_json: Some(
                "{\"error\":{\"code\":\"X\u{9b}\",\"message\":\"\\u202e\"}}".into(),
            ),
            error_code: Some("Bad\u{1b}[31m".into()),
            error_message: Some("line\nbreak\u{2029}".into()),
            retry_of: Some("l0".into()),
            retry_depth: 2,
            ..TaskRecord::factory("l2", Phase::Remote(TaskStatus::Failed), 1_700_000_001)
        };
        let broken = TaskRecord {
            request_json: "not json".into(),
            response_json: Some("{\"a\":1,\"a\":2}".into()),
            ..TaskRecord::factory("l3", Phase::SubmitUnknown, 1_700_000_002)
        };
        for r in [plain, hostile, broken] {
            let got = line(&r);
            assert_eq!(got, crate::sanitize::json(&super::record_json(&r)));
            assert!(!got.chars().any(crate::sanitize::is_unsafe), "{got}");
        }
    }

    fn pretty(r: &TaskRecord) -> String {
        let mut out = Vec::new();
        write_pretty(&mut out, r, &r.request_json).expect("write");
        String::from_utf8(out).expect("utf8")
    }

    #[test]
    fn get_text_is_the_value_paths_pretty_text() {
        use crate::api::TaskStatus;
        use crate::store::Phase;
        let nested = TaskRecord {
            request_json: serde_json::json!({
                "model": "m",
                "content": [
                    {"type": "text", "text": "a \"quoted\" \\ fox\n\u{1b}[2J \u{202e} 中文 {[,:]}"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}, "role": "first_frame"}
                ],
                "empty": {}, "none": [], "deep": [[1, -2], {"a": [true, null, {}]}],
                "tools": [{"type": "web_search"}]
            })
            .to_string(),
            response_json: Some(r#"{"id":"cgt-1","status":"running"}"#.into()),
            prompt: "a fox\u{9b}".into(),
            error_code: Some("E\u{1b}".into()),
            ..TaskRecord::factory("l1", Phase::Remote(TaskStatus::Running), 1_700_000_000)
        };
        let noncanonical = TaskRecord {
            request_json: "{ \"a\": 1.50, \"b\": \"\\/\" }".into(),
            ..TaskRecord::factory("l2", Phase::Pending, 1)
        };
        let broken = TaskRecord {
            request_json: String::new(),
            ..TaskRecord::factory("l3", Phase::Lost, 2)
        };
        for r in [nested, noncanonical, broken] {
            let expected = crate::sanitize::json_pretty(&record_json(&r));
            assert_eq!(pretty(&r), expected);
        }
    }

    #[test]
    fn a_big_request_comes_out_the_same_in_pieces() {
        // Strings longer than a piece, cut inside multi-byte characters and next to escapes.
        let long = format!(
            "{}\u{1b}é\\\"{}",
            "é".repeat(PIECE / 2 + 7),
            "x中".repeat(PIECE)
        );
        let r = TaskRecord {
            request_json: serde_json::json!({"content": [{"type": "text", "text": long}], "n": [long.clone()]})
                .to_string(),
            ..TaskRecord::factory("l1", crate::store::Phase::Pending, 1)
        };
        assert!(is_canonical(&r.request_json));
        assert_eq!(pretty(&r), crate::sanitize::json_pretty(&record_json(&r)));
        assert_eq!(line(&r), crate::sanitize::json(&record_json(&r)));
    }

    proptest::proptest! {
        /// Any request serde_json writes: `get`'s re-indent is serde_json's pretty printer.
        #[test]
        fn indenting_canonical_text_is_pretty_printing(
            keys in proptest::collection::vec("[a-c\u{1}\"\\\\é]{0,3}", 0..5),
            n in proptest::num::i64::ANY,
            s in "[\u{0}-\u{7f}é中\u{9b}\u{202e}]{0,8}",
            nest in 0usize..4,
        ) {
            let mut map = serde_json::Map::new();
            for (k, key) in keys.iter().enumerate() {
                let mut v = match k % 3 {
                    0 => Value::from(n),
                    1 => Value::from(s.clone()),
                    _ => serde_json::json!([null, [], {}, {"x": [s.clone(), true]}]),
                };
                for _ in 0..nest {
                    v = serde_json::json!([v, {"k": []}]);
                }
                map.insert(key.clone(), v);
            }
            let r = TaskRecord {
                request_json: Value::Object(map).to_string(),
                ..TaskRecord::factory("l1", crate::store::Phase::Pending, 1)
            };
            proptest::prop_assert_eq!(pretty(&r), crate::sanitize::json_pretty(&record_json(&r)));
        }

        /// Any text made of JSON's pieces: copied or reparsed, the bytes are serde_json's.
        #[test]
        fn stored_json_matches_parse_and_write(
            text in r#"(\{|\}|\[|\]|,|:| |"a"|"b"|"\\u00[0-9a-fA-F]{2}"|"\\[nrtbf/"\\]"|"é"|-?[0-9]{1,21}|1\.5|1e2|true|null|"\u{1b}"|"\u{9b}")*"#
        ) {
            proptest::prop_assert_eq!(fast(&text), reparsed(&text));
        }

        /// Whatever serde_json writes (without floats) is recognised as canonical.
        #[test]
        fn serde_json_output_is_canonical(
            keys in proptest::collection::vec("[a-c\u{1}\u{8}\"\\\\é]{0,3}", 0..6),
            n in proptest::num::i64::ANY,
            u in proptest::num::u64::ANY,
            s in "[\u{0}-\u{7f}é中\u{9b}\u{202e}]{0,8}",
        ) {
            let mut map = serde_json::Map::new();
            for (k, key) in keys.iter().enumerate() {
                let v = match k % 4 {
                    0 => Value::from(n),
                    1 => Value::from(u),
                    2 => Value::from(s.clone()),
                    _ => serde_json::json!([null, true, {"x": [s.clone()]}]),
                };
                map.insert(key.clone(), v);
            }
            let text = Value::Object(map).to_string();
            proptest::prop_assert!(is_canonical(&text), "{}", text);
        }
    }
}
