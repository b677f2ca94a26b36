//! Where a command saves results. The one place that decides whether an `--out` value is a
//! local folder: a URL-looking value (`s3://…`, `http://…`) is never created as a folder named
//! after its scheme.

use super::exit::Failure;
use std::path::{Path, PathBuf};

/// The scheme of a URL-looking destination (`s3` for `s3://bucket/x`), if it is one.
pub fn url_scheme(dest: &Path) -> Option<&str> {
    let s = dest.to_str()?;
    let (scheme, _) = s.split_once("://")?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
    .then_some(scheme)
}

/// The local folder to save into: `out` when given, else `default`. Refuses a URL.
pub fn local_dir(out: Option<&Path>, default: &Path) -> Result<PathBuf, Failure> {
    let dir = out.unwrap_or(default);
    if let Some(scheme) = url_scheme(dir) {
        return Err(Failure::usage(format!(
            "`{}` is a {scheme}:// URL, not a folder: results are saved to a local folder; give a local path with --out (nothing was created)",
            dir.display()
        )));
    }
    Ok(dir.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_told_from_folders() {
        assert_eq!(url_scheme(Path::new("s3://bucket/videos")), Some("s3"));
        assert_eq!(url_scheme(Path::new("http://host/x")), Some("http"));
        assert_eq!(url_scheme(Path::new("/data/videos")), None);
        assert_eq!(url_scheme(Path::new("out")), None);
        assert_eq!(url_scheme(Path::new("./a://b")), None);
        assert!(local_dir(Some(Path::new("gs://b")), Path::new("/x")).is_err());
        assert_eq!(
            local_dir(None, Path::new("/x")).expect("a folder"),
            PathBuf::from("/x")
        );
    }
}
