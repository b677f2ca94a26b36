//! Display-width text helpers shared by the views and the reducer: cutting and wrapping by
//! terminal columns (a CJK character takes two), not by characters.

use unicode_width::UnicodeWidthStr;

/// Cut `s` to `width` display columns, ending with `…` when cut; newlines become spaces and
/// other control and bidi characters visible escapes (`crate::sanitize::flat`).
pub fn truncate(s: &str, width: usize) -> String {
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
pub fn wrap(text: &str, width: usize) -> Vec<String> {
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
            let cut: String = line.chars().take(width).collect();
            let rest: String = line.chars().skip(width).collect();
            out.push(cut);
            line = rest;
        }
    }
    if !line.is_empty() {
        out.push(line);
    }
    out
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
}
