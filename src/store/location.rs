//! Where the store lives, from `--store`, `SEEDANCE_STORE` or `[store] url`: a file path or
//! `sqlite:PATH` names the SQLite store. Anything written as a URL (`scheme://…`) that is not a
//! store this build supports is refused, so a database address can never become a file path
//! (`postgres://u@h/db` used to create `./postgres:/u@h/db`).

use std::path::{Path, PathBuf};

/// Why a store location was refused. The message never repeats the location: a database URL
/// can carry a password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum LocationError {
    #[error("the store location is empty: give a file path or sqlite:PATH")]
    Empty,
    #[error(
        "a PostgreSQL store ({scheme}://…) is not supported by this build: give a SQLite file \
         path or sqlite:PATH"
    )]
    Postgres { scheme: String },
    #[error(
        "`{scheme}://…` is not a store location: give a SQLite file path or sqlite:PATH \
         (a URL is never taken for a file name)"
    )]
    Unsupported { scheme: String },
}

/// The SQLite file a store location names.
pub(crate) fn parse(text: &str) -> Result<PathBuf, LocationError> {
    if text.trim().is_empty() {
        return Err(LocationError::Empty);
    }
    if let Some(rest) = text.strip_prefix("sqlite:") {
        // `sqlite:PATH`, and the URL spelling `sqlite:///abs/path` or `sqlite://rel/path`.
        let path = rest.strip_prefix("//").unwrap_or(rest);
        if path.is_empty() {
            return Err(LocationError::Empty);
        }
        return Ok(PathBuf::from(path));
    }
    if let Some(scheme) = url_scheme(text) {
        let scheme = scheme.to_ascii_lowercase();
        return Err(if scheme == "postgres" || scheme == "postgresql" {
            LocationError::Postgres { scheme }
        } else {
            LocationError::Unsupported { scheme }
        });
    }
    Ok(PathBuf::from(text))
}

/// `--store` / `SEEDANCE_STORE` as given: a name that is not UTF-8 can only be a file path.
pub(crate) fn parse_path(path: &Path) -> Result<PathBuf, LocationError> {
    match path.to_str() {
        Some(text) => parse(text),
        None => Ok(path.to_path_buf()),
    }
}

/// The scheme of `scheme://…` (RFC 3986: a letter, then letters, digits, `+`, `-`, `.`).
fn url_scheme(text: &str) -> Option<&str> {
    let (scheme, _) = text.split_once("://")?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
    .then_some(scheme)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_sqlite_urls_name_a_file() {
        assert_eq!(parse("tasks.db"), Ok(PathBuf::from("tasks.db")));
        assert_eq!(parse("/var/x/s.db"), Ok(PathBuf::from("/var/x/s.db")));
        assert_eq!(parse("sqlite:team.db"), Ok(PathBuf::from("team.db")));
        assert_eq!(parse("sqlite:///abs/s.db"), Ok(PathBuf::from("/abs/s.db")));
        assert_eq!(parse("sqlite://rel/s.db"), Ok(PathBuf::from("rel/s.db")));
        // A colon inside a file name is still a file name.
        assert_eq!(parse("runs:2026.db"), Ok(PathBuf::from("runs:2026.db")));
        assert_eq!(parse("./a/b://c"), Ok(PathBuf::from("./a/b://c")));
    }

    #[test]
    fn a_database_url_is_refused_without_repeating_it() {
        let err = parse("postgres://alice:hunter2@db.example:5432/video").unwrap_err();
        assert_eq!(
            err,
            LocationError::Postgres {
                scheme: "postgres".into()
            }
        );
        let msg = err.to_string();
        assert!(msg.contains("postgres://…"), "{msg}");
        assert!(!msg.contains("hunter2") && !msg.contains("alice"), "{msg}");
        assert!(matches!(
            parse("PostgreSQL://h/db"),
            Err(LocationError::Postgres { .. })
        ));
    }

    #[test]
    fn other_urls_and_empty_locations_are_refused() {
        for url in [
            "mysql://h/db",
            "http://h/x",
            "s3://bucket/store.db",
            "file://x",
        ] {
            assert!(
                matches!(parse(url), Err(LocationError::Unsupported { .. })),
                "{url}"
            );
        }
        assert_eq!(parse(""), Err(LocationError::Empty));
        assert_eq!(parse("  "), Err(LocationError::Empty));
        assert_eq!(parse("sqlite:"), Err(LocationError::Empty));
    }
}
