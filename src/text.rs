//! Display-width text helpers shared by the views and the reducer: cutting and wrapping by
//! terminal columns (a CJK character takes two), not by characters.

use unicode_width::UnicodeWidthStr;

/// Cut `s` to `width` display columns, ending with `…` when cut; newlines become spaces and
/// other control and bidi characters visible escapes (`crate::sanitize::flat`).
pub(crate) fn truncate(s: &str, width: usize) -> String {
    let flat = crate::sanitize::flat(s).into_owned();
    if flat.width() <= width {
        return flat;
    }
    let mut out = String::new();
    let mut w = 0;
    for c in flat.chars() {
        let cw = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if w + cw + 1 > width {
            break;
        }
        out.push(c);
        w += cw;
    }
    out.push('…');
    out
}

/// Split `text` into lines of at most `width` columns, at spaces where possible.
pub(crate) fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(8);
    let mut out = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let sep = usize::from(!line.is_empty());
        if line.width() + sep + word.width() > width && !line.is_empty() {
            out.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
        while line.width() > width {
            let at = split_at_width(&line, width);
            let rest = line.split_off(at);
            out.push(line);
            line = rest;
        }
    }
    if !line.is_empty() {
        out.push(line);
    }
    out
}

/// The byte index where the first `width` display columns of `s` end (at least one character,
/// so a character wider than `width` still makes progress).
fn split_at_width(s: &str, width: usize) -> usize {
    let mut w = 0;
    for (i, c) in s.char_indices() {
        let cw = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if w + cw > width && i > 0 {
            return i;
        }
        w += cw;
    }
    s.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_respects_width() {
        assert_eq!(truncate("hello world", 8), "hello w…");
        assert_eq!(truncate("short", 8), "short");
        assert_eq!(truncate("a\nb", 8), "a b");
        assert_eq!(truncate("苹果茶广告", 6), "苹果…");
    }

    #[test]
    fn wrap_measures_display_width() {
        // Twenty CJK characters are forty columns: at most ten fit a 20-column line.
        let lines = wrap(&"苹果茶广告".repeat(4), 20);
        assert_eq!(lines.len(), 2, "{lines:?}");
        for l in &lines {
            assert!(l.width() <= 20, "{l:?} is {} columns", l.width());
        }
        assert_eq!(lines.concat(), "苹果茶广告".repeat(4));
        let lines = wrap("a red fox 在雪地里奔跑的慢镜头 at dawn", 12);
        assert!(lines.iter().all(|l| l.width() <= 12), "{lines:?}");
        assert_eq!(wrap("short words fit", 20), vec!["short words fit"]);
    }
}
