//! The one sanitizer for text that reaches a terminal. Server strings (ids, statuses, error codes
//! and messages, models), file names and anything else from outside go through here before the
//! dashboard draws them or a headless command prints them.
//!
//! Control characters (C0, DEL, C1) and the Unicode bidi and line-separator controls are replaced
//! by a visible escape (`\x1b`, `\n`, `\u009b`, `\u202e`), so a string can neither drive the
//! terminal (titles, clipboard writes, screen clears) nor fake extra lines or reorder the text
//! around it: one record stays one line. `--json` output goes through [`json`], which keeps it
//! valid JSON and also escapes the C1, DEL and bidi characters that JSON allows raw.

use serde_json::Value;
use std::borrow::Cow;
use std::fmt::Write;

/// Bidi embedding/override/isolate marks, the Arabic letter mark, and the Unicode line and
/// paragraph separators: not control characters to Rust, but they reorder or break a line.
pub(crate) fn is_bidi_or_separator(c: char) -> bool {
    matches!(c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        | '\u{2028}' | '\u{2029}')
}

/// True when `c` must not reach a terminal raw.
pub fn is_unsafe(c: char) -> bool {
    c.is_control() || is_bidi_or_separator(c)
}

fn escape_into(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if (c as u32) < 0x80 => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c => {
            let _ = write!(out, "\\u{:04x}", c as u32);
        }
    }
}

/// `s` as one safe line: every control and bidi character replaced by its visible escape.
/// Borrows when there is nothing to replace (the common case).
pub(crate) fn line(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe(c) {
            escape_into(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// [`line`] for text shown flowing in a narrow column (the dashboard's table cells): tabs and
/// line breaks become spaces, every other control and bidi character its escape.
pub(crate) fn flat(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' | '\r' | '\t' => out.push(' '),
            c if is_unsafe(c) => escape_into(&mut out, c),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// `println!` through [`line`]: one safe line on stdout. The headless commands print with this
/// (or [`json`] for JSON), since nearly every line they print may quote the server.
#[macro_export]
macro_rules! outln {
    ($($arg:tt)*) => {
        println!("{}", $crate::sanitize::line(&format!($($arg)*)))
    };
}

/// `eprintln!` through [`line`]: one safe line on stderr.
#[macro_export]
macro_rules! errln {
    ($($arg:tt)*) => {
        eprintln!("{}", $crate::sanitize::line(&format!($($arg)*)))
    };
}

/// Serialised JSON text with the characters JSON leaves raw but a terminal obeys (DEL, C1,
/// bidi, line separators) written as `\uXXXX` escapes. Outside strings JSON text holds none of
/// them, so the result is the same JSON value. (Inside strings the serialiser already escapes
/// C0; outside them only the layout whitespace of pretty output is left.)
pub(crate) fn json_text(text: &str) -> Cow<'_, str> {
    let raw = |c: char| is_unsafe(c) && !matches!(c, '\n' | '\r' | '\t');
    if !text.chars().any(raw) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if raw(c) {
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A JSON value as one line of safe JSON text.
pub fn json(v: &Value) -> String {
    json_text(&v.to_string()).into_owned()
}

/// A JSON value as indented, safe JSON text.
pub(crate) fn json_pretty(v: &Value) -> String {
    let text = serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string());
    json_text(&text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_are_visible_and_one_line() {
        assert_eq!(line("X\u{1b}]0;pwned\u{7}"), "X\\x1b]0;pwned\\x07");
        assert_eq!(line("a\nb\r\0"), "a\\nb\\r\\x00");
        assert_eq!(line("\u{9b}2J"), "\\u009b2J");
        assert_eq!(line("abc\u{202e}fdp.exe"), "abc\\u202efdp.exe");
        assert_eq!(line("\u{7f}"), "\\x7f");
        assert!(matches!(line("plain — ünïcode ✓"), Cow::Borrowed(_)));
        assert_eq!(flat("a\nb\u{1b}[2J\u{202e}"), "a b\\x1b[2J\\u202e");
    }

    #[test]
    fn json_stays_json_and_escapes_c1_and_bidi() {
        let v =
            serde_json::json!({"code": "X\u{1b}]52;c;AAAA\u{7}", "m": "\u{9b}\u{202e}\u{2028}"});
        let text = json(&v);
        assert!(!text.chars().any(is_unsafe), "{text}");
        assert!(
            text.contains("\\u009b") && text.contains("\\u202e"),
            "{text}"
        );
        let back: Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(back, v);
        let pretty = json_pretty(&v);
        assert!(pretty.contains("\\u009b"), "{pretty}");
        assert_eq!(serde_json::from_str::<Value>(&pretty).expect("valid"), v);
    }
}
