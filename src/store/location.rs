//! Where the store lives, from `--store`, `SEEDANCE_STORE` or `[store] url`: a file path or
//! `sqlite:PATH` names the SQLite store, a `postgres://` URL the PostgreSQL one. Anything else
//! written as a URL (`scheme://…`) is refused, so a database address can never become a file path
//! (`postgres://u@h/db` used to create `./postgres:/u@h/db`).

use super::pg::target::{PgTarget, TargetError, is_postgres_url};
use std::path::{Path, PathBuf};

/// Where a store lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    Sqlite(PathBuf),
    Postgres(PgTarget),
}

/// A file path is a SQLite store.
impl From<std::path::PathBuf> for StoreLocation {
    fn from(path: PathBuf) -> StoreLocation {
        StoreLocation::Sqlite(path)
    }
}

/// What a config file's `[store] url` carrying a password is told.
const NO_PASSWORD_IN_CONFIG: &str = "a password never goes in the config file's [store] url: \
     remove it and set PGPASSWORD or put it in ~/.pgpass (host:port:database:user:password, \
     chmod 600)";

/// Why a store location was refused. The message never repeats the location: a database URL
/// can carry a password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum LocationError {
    #[error("the store location is empty: give a file path or sqlite:PATH")]
    Empty,
    #[error("{0}")]
    BadPostgres(#[from] TargetError),
    #[error("{NO_PASSWORD_IN_CONFIG}")]
    PasswordInConfig,
    #[error(
        "`{scheme}://…` is not a store location: give a SQLite file path or sqlite:PATH \
         (a URL is never taken for a file name)"
    )]
    Unsupported { scheme: String },
}

/// The store a location names: a file path or `sqlite:PATH`, or a `postgres://` /
/// `postgresql://` URL (its missing parts from the `PG…` variables).
pub(crate) fn parse(text: &str) -> Result<StoreLocation, LocationError> {
    if text.trim().is_empty() {
        return Err(LocationError::Empty);
    }
    if let Some(rest) = text.strip_prefix("sqlite:") {
        // `sqlite:PATH`, and the URL spelling `sqlite:///abs/path` or `sqlite://rel/path`.
        let path = rest.strip_prefix("//").unwrap_or(rest);
        if path.is_empty() {
            return Err(LocationError::Empty);
        }
        return Ok(StoreLocation::Sqlite(PathBuf::from(path)));
    }
    if is_postgres_url(text) {
        return Ok(StoreLocation::Postgres(PgTarget::parse(text)?));
    }
    if let Some(scheme) = url_scheme(text) {
        return Err(LocationError::Unsupported {
            scheme: scheme.to_ascii_lowercase(),
        });
    }
    Ok(StoreLocation::Sqlite(PathBuf::from(text)))
}

/// `--store` / `SEEDANCE_STORE` as given: a name that is not UTF-8 can only be a file path.
pub(crate) fn parse_path(path: &Path) -> Result<StoreLocation, LocationError> {
    match path.to_str() {
        Some(text) => parse(text),
        None => Ok(StoreLocation::Sqlite(path.to_path_buf())),
    }
}

/// The config file's `[store] url`: as [`parse`], but a password in it is refused (it belongs
/// in `PGPASSWORD` or `~/.pgpass`, not in a file that is copied around and shown).
pub(crate) fn parse_config_url(text: &str) -> Result<StoreLocation, LocationError> {
    match parse(text)? {
        StoreLocation::Postgres(t) if t.has_url_password() => Err(LocationError::PasswordInConfig),
        loc => Ok(loc),
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

    /// The file a location names (a PostgreSQL one is not a file: a failed test).
    fn file(text: &str) -> Result<PathBuf, LocationError> {
        match parse(text)? {
            StoreLocation::Sqlite(path) => Ok(path),
            StoreLocation::Postgres(t) => panic!("{text} names a PostgreSQL store: {t}"),
        }
    }

    #[test]
    fn paths_and_sqlite_urls_name_a_file() {
        assert_eq!(file("tasks.db"), Ok(PathBuf::from("tasks.db")));
        assert_eq!(file("/var/x/s.db"), Ok(PathBuf::from("/var/x/s.db")));
        assert_eq!(file("sqlite:team.db"), Ok(PathBuf::from("team.db")));
        assert_eq!(file("sqlite:///abs/s.db"), Ok(PathBuf::from("/abs/s.db")));
        assert_eq!(file("sqlite://rel/s.db"), Ok(PathBuf::from("rel/s.db")));
        // A colon inside a file name is still a file name.
        assert_eq!(file("runs:2026.db"), Ok(PathBuf::from("runs:2026.db")));
        assert_eq!(file("./a/b://c"), Ok(PathBuf::from("./a/b://c")));
    }

    #[test]
    fn a_database_url_is_never_a_file_and_a_bad_one_is_refused_without_repeating_it() {
        let Ok(StoreLocation::Postgres(t)) =
            parse("postgres://alice:hunter2@db.example:5432/video")
        else {
            panic!("a PostgreSQL location");
        };
        let shown = t.to_string();
        assert_eq!(shown, "postgres://alice@db.example:5432/video");
        assert!(!format!("{t:?}").contains("hunter2"));
        assert!(matches!(
            parse("PostgreSQL://h/db"),
            Ok(StoreLocation::Postgres(_))
        ));
        // A URL libpq would refuse is refused, not taken for a path, and not repeated.
        let err = parse("postgres://u:hunter2@h:notaport/db").unwrap_err();
        assert!(matches!(err, LocationError::BadPostgres(_)), "{err:?}");
        let msg = err.to_string();
        assert!(!msg.contains("hunter2"), "{msg}");
    }

    #[test]
    fn a_database_url_names_a_postgres_target() {
        let Ok(StoreLocation::Postgres(t)) = parse("postgresql://alice:pw@db:6000/video") else {
            panic!("a PostgreSQL location");
        };
        assert_eq!(t.to_string(), "postgres://alice@db:6000/video");
        assert!(t.has_url_password());
    }

    #[test]
    fn a_password_in_the_config_file_is_refused() {
        let err = parse_config_url("postgres://alice:hunter2@db/video").unwrap_err();
        assert_eq!(err, LocationError::PasswordInConfig);
        let msg = err.to_string();
        assert!(
            msg.contains("PGPASSWORD") && msg.contains("~/.pgpass"),
            "{msg}"
        );
        assert!(!msg.contains("hunter2"), "{msg}");
        assert!(matches!(
            parse_config_url("postgres://alice@db/video"),
            Ok(StoreLocation::Postgres(_))
        ));
        assert!(matches!(
            parse_config_url("postgres://alice@db/video?password=x"),
            Err(LocationError::PasswordInConfig)
        ));
        assert_eq!(
            parse_config_url("sqlite:a.db"),
            Ok(StoreLocation::Sqlite(PathBuf::from("a.db")))
        );
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
        assert_eq!(file(""), Err(LocationError::Empty));
        assert_eq!(file("  "), Err(LocationError::Empty));
        assert_eq!(file("sqlite:"), Err(LocationError::Empty));
    }
}
