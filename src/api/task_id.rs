//! What a task id may look like. The server's id goes into URLs (`.../tasks/{id}`) and file
//! names, so an id that could change the path (`..`, `/`), end the path (`?`, `#`), break a
//! line or a file name is refused wherever one enters: a create's answer, a task answer, and
//! the command line.

/// The longest id accepted, in bytes (official ids are ~30; file names stop at 255).
pub(crate) const MAX_TASK_ID_BYTES: usize = 256;

/// Why `id` cannot be a task id, or `None` when it can.
pub(crate) fn problem(id: &str) -> Option<&'static str> {
    if id.is_empty() {
        return Some("it is empty");
    }
    if id == "." || id == ".." {
        return Some("it is a path step (`.` or `..`)");
    }
    if id.len() > MAX_TASK_ID_BYTES {
        return Some("it is longer than 256 bytes");
    }
    for c in id.chars() {
        match c {
            '/' | '\\' => return Some("it contains a slash"),
            '?' | '#' => return Some("it contains `?` or `#`"),
            c if c.is_whitespace() => return Some("it contains whitespace"),
            c if crate::sanitize::is_unsafe(c) => return Some("it contains control characters"),
            _ => {}
        }
    }
    None
}

/// `Ok(())` for a usable id, else a one-line reason naming the (sanitised, shortened) id.
pub(crate) fn check(id: &str) -> Result<(), String> {
    match problem(id) {
        None => Ok(()),
        Some(why) => Err(format!("`{}` is not a task id: {why}", shown(id))),
    }
}

/// An id fit for a message: sanitised and cut to 64 characters.
pub(crate) fn shown(id: &str) -> String {
    let safe = crate::sanitize::line(id);
    if safe.chars().count() > 64 {
        let head: String = safe.chars().take(64).collect();
        format!("{head}…")
    } else {
        safe.into_owned()
    }
}

/// A short id for tables and completions: the server id's time and suffix (`105718-mq3yp`),
/// or the tail of a relay id, or `(local)` for a submission without one (not sent yet).
pub fn short_task_id(task_id: Option<&str>) -> String {
    match task_id {
        Some(id) => {
            let parts: Vec<&str> = id.split('-').collect();
            // `get`: the id comes from the server and byte 8 may fall inside a character.
            if parts.len() == 3
                && parts[0] == "cgt"
                && parts[1].len() == 14
                && let Some(time) = parts[1].get(8..)
            {
                format!("{time}-{}", parts[2])
            } else {
                let chars: Vec<char> = id.chars().collect();
                chars[chars.len().saturating_sub(12)..].iter().collect()
            }
        }
        None => "(local)".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_that_are_not_ids() {
        for bad in [
            "",
            ".",
            "..",
            "a/b",
            "a\\b",
            "a?b",
            "a#b",
            "a b",
            "a\tb",
            "a\u{1b}b",
            "a\u{202e}b",
        ] {
            assert!(problem(bad).is_some(), "{bad:?} must be refused");
        }
        assert!(problem(&"x".repeat(257)).is_some());
        for good in ["cgt-20250101-abc", "task_1.2", &"x".repeat(256), "a..b"] {
            assert_eq!(problem(good), None, "{good:?}");
        }
        assert!(check("..").unwrap_err().contains("path step"));
    }
}
