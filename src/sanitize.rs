//! The one sanitizer for text that reaches a terminal. Server strings (ids, statuses, error codes
//! and messages, models), file names and anything else from outside go through here before the
//! dashboard draws them or a headless command prints them.
//!
//! Control characters (C0, DEL, C1) and the Unicode bidi and line-separator controls are replaced
//! by a visible escape (`\x1b`, `\n`, `\u009b`, `\u202e`), so a string can neither drive the
//! terminal (titles, clipboard writes, screen clears) nor fake extra lines or reorder the text
//! around it: one record stays one line. `--json` output goes through [`json`], which keeps it
//! valid JSON and also escapes the C1, DEL and bidi characters that JSON allows raw.
//!
//! An error's text goes through [`error_chain`], which cuts every link in it to its host: a
//! presigned result link carries its signature and credential in the query.

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

/// An error and its sources as one message, `outer: inner: …` (a source whose text the message
/// already holds is not repeated), every link in it cut to its host ([`without_links`]): a link
/// inside a nested error (the URL a `reqwest` error names) is as secret as one on top.
pub(crate) fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut message = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = s.source();
    }
    without_links(&message)
}

/// `text` with each link cut to its host (`https://u:p@h:9000/k?X-Amz-Signature=…` shows as
/// `h:9000`), any other query string dropped (`/k?token=…` shows as `/k`), and a lone
/// signature, credential or token parameter replaced: none of them may reach a message.
pub(crate) fn without_links(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for piece in text.split_inclusive(char::is_whitespace) {
        let word = piece.trim_end_matches(char::is_whitespace);
        out.push_str(&word_without_link(word));
        out.push_str(&piece[word.len()..]);
    }
    out
}

fn word_without_link(word: &str) -> Cow<'_, str> {
    // Punctuation around a link in prose stays: "(…)", "'…'", "…,".
    let body = word.trim_end_matches([')', ']', '}', '>', '"', '\'', ',', '.', ';', ':']);
    let tail = &word[body.len()..];
    if let Some(sep) = body.find("://") {
        let scheme = body[..sep]
            .bytes()
            .rev()
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
            .count();
        let after = &body[sep + 3..];
        let before_query = &after[..after.find(['?', '#']).unwrap_or(after.len())];
        let host_on = &before_query[before_query.rfind('@').map_or(0, |i| i + 1)..];
        let host = &host_on[..host_on.find('/').unwrap_or(host_on.len())];
        return Cow::Owned(format!("{}{host}{tail}", &body[..sep - scheme]));
    }
    if let Some(q) = body.find('?').filter(|&q| body[q..].contains('=')) {
        return Cow::Owned(format!("{}{tail}", &body[..q]));
    }
    let lower = body.to_ascii_lowercase();
    if ["signature=", "credential=", "token="]
        .iter()
        .any(|p| lower.contains(p))
    {
        return Cow::Owned(format!("<redacted>{tail}"));
    }
    Cow::Borrowed(word)
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

    /// An error whose text and source are given.
    #[derive(Debug)]
    struct Layer(
        String,
        Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
    );

    impl std::fmt::Display for Layer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(&self.0)
        }
    }

    impl std::error::Error for Layer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|e| e as _)
        }
    }

    const PRESIGNED: &str = "https://bucket.s3.example.com:9000/out/v.mp4?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLEKEY%2F20261207%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261207T120000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Security-Token=SESSIONTOKEN&X-Amz-Signature=deadbeefcafe";

    fn assert_no_secret(message: &str) {
        for secret in [
            "deadbeefcafe",
            "AKIAEXAMPLEKEY",
            "SESSIONTOKEN",
            "X-Amz",
            "aws4_request",
            "/out/v.mp4",
        ] {
            assert!(!message.contains(secret), "{secret} in {message}");
        }
    }

    #[test]
    fn a_presigned_link_in_a_nested_source_keeps_only_its_host() {
        let inner = Layer("connection reset by peer".into(), None);
        let middle = Layer(
            format!("error sending request for url ({PRESIGNED})"),
            Some(Box::new(inner)),
        );
        let outer = Layer("copy into the bucket".into(), Some(Box::new(middle)));
        let message = error_chain(&outer);
        assert_eq!(
            message,
            "copy into the bucket: error sending request for url (bucket.s3.example.com:9000): connection reset by peer"
        );
        assert_no_secret(&message);
    }

    #[test]
    fn a_source_already_said_is_not_repeated() {
        let inner = Layer("timed out".into(), None);
        let outer = Layer("request failed: timed out".into(), Some(Box::new(inner)));
        assert_eq!(error_chain(&outer), "request failed: timed out");
    }

    #[test]
    fn links_lose_credentials_paths_and_queries() {
        assert_eq!(
            without_links("GET http://user:pa/ss@h.test/k?token=abc failed."),
            "GET h.test failed."
        );
        assert_eq!(
            without_links("bad uri '/v.mp4?X-Tos-Signature=s3cr3t', giving up"),
            "bad uri '/v.mp4', giving up"
        );
        assert_eq!(
            without_links("header X-Amz-Signature=abc\trejected"),
            "header <redacted>\trejected"
        );
        assert_eq!(
            without_links("plain words: no link, 50% done?"),
            "plain words: no link, 50% done?"
        );
        assert_no_secret(&without_links(&format!("<{PRESIGNED}>")));
    }

    /// A real `reqwest` error (a refused connection on loopback) names the URL it was sent to;
    /// nested under another error, its link still loses the signature.
    #[tokio::test]
    async fn a_reqwest_error_nested_in_another_keeps_only_the_host() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("addr")
            .port();
        let url = PRESIGNED.replace(
            "https://bucket.s3.example.com:9000",
            &format!("http://127.0.0.1:{port}"),
        );
        let err = reqwest::Client::new()
            .get(&url)
            .send()
            .await
            .expect_err("nothing listens on the port");
        assert!(err.to_string().contains("X-Amz-Signature"), "{err}");
        let outer = Layer("saving the video".into(), Some(Box::new(err)));
        let message = error_chain(&outer);
        assert!(
            message.starts_with(&format!(
                "saving the video: error sending request for url (127.0.0.1:{port})"
            )),
            "{message}"
        );
        assert_no_secret(&message);
    }
}
