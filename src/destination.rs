//! Where results go: a local folder or an S3-compatible bucket (`s3://BUCKET/PREFIX`). Every
//! option that takes a results folder (`--out`, `[download] output_dir`) takes either; parse the
//! text with [`Destination::parse`] (or let clap do it: `Destination` implements `FromStr`).

use crate::s3::S3Location;
use std::path::{Path, PathBuf};

/// The scheme of a URL-looking text (`http` for `http://host/x`), if it is one.
fn url_scheme(s: &str) -> Option<&str> {
    let (scheme, _) = s.split_once("://")?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
    .then_some(scheme)
}

/// A results destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    Folder(PathBuf),
    Bucket(S3Location),
}

impl Destination {
    /// `s3://...` is a bucket (checked); any other URL (`http://…`, `gs://…`) is refused, never
    /// made a folder named after its scheme; anything else is a folder.
    pub(crate) fn parse(s: &str) -> Result<Destination, String> {
        if S3Location::looks_like(s) {
            S3Location::parse(s).map(Destination::Bucket)
        } else if let Some(scheme) = url_scheme(s) {
            Err(format!(
                "`{s}` is a {scheme}:// URL, not a folder: results go to a local folder or an s3:// bucket (nothing was created)"
            ))
        } else {
            Ok(Destination::Folder(PathBuf::from(s)))
        }
    }

    /// A path from the config (already checked when the config was parsed): an `s3://` text
    /// is a bucket.
    pub(crate) fn from_path(p: PathBuf) -> Destination {
        match p.to_str().map(Destination::parse) {
            Some(Ok(d)) => d,
            _ => Destination::Folder(p),
        }
    }

    /// The folder, when this is one.
    pub(crate) fn folder(&self) -> Option<&Path> {
        match self {
            Destination::Folder(p) => Some(p),
            Destination::Bucket(_) => None,
        }
    }
}

/// Why results cannot be saved at a destination, found before anything was paid for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("results cannot be saved to {place}: {message}")]
pub(crate) struct Unwritable {
    pub(crate) place: String,
    pub(crate) message: String,
    /// A bucket (the network, the service, credentials) rather than a local folder.
    pub(crate) remote: bool,
}

impl Destination {
    /// Check that results can be saved here, before the first create: a folder is created if
    /// needed and takes (and gives back) a small file; a bucket answers, accepts the
    /// credentials and allows a write (a tiny object put under the prefix and deleted).
    pub(crate) async fn check_writable(
        &self,
        storage: &crate::s3::StorageConfig,
    ) -> Result<(), Unwritable> {
        let place = self.to_string();
        match self {
            Destination::Folder(dir) => {
                let dir = dir.clone();
                let done = tokio::task::spawn_blocking(move || folder_writable(&dir)).await;
                let message = match done {
                    Ok(Ok(())) => return Ok(()),
                    Ok(Err(e)) => e,
                    Err(e) => e.to_string(),
                };
                Err(Unwritable {
                    place,
                    message,
                    remote: false,
                })
            }
            Destination::Bucket(location) => {
                let checked = match crate::s3::S3Client::from_config(location, storage) {
                    Ok(client) => client.check_writable().await,
                    Err(e) => Err(e),
                };
                checked.map_err(|e| Unwritable {
                    place,
                    message: e.to_string(),
                    remote: true,
                })
            }
        }
    }
}

/// Create `dir` if needed and write, then remove, a small file in it.
fn folder_writable(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create the folder: {e}"))?;
    let probe = dir.join(format!(".seedance-tui-check-{}", std::process::id()));
    std::fs::write(&probe, b"ok").map_err(|e| format!("the folder is not writable: {e}"))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

impl std::str::FromStr for Destination {
    type Err = String;
    fn from_str(s: &str) -> Result<Destination, String> {
        Destination::parse(s)
    }
}

impl std::fmt::Display for Destination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Destination::Folder(p) => write!(f, "{}", p.display()),
            Destination::Bucket(l) => write!(f, "{l}"),
        }
    }
}

impl From<PathBuf> for Destination {
    fn from(p: PathBuf) -> Destination {
        Destination::Folder(p)
    }
}

impl From<&PathBuf> for Destination {
    fn from(p: &PathBuf) -> Destination {
        Destination::Folder(p.clone())
    }
}

impl From<&Destination> for Destination {
    fn from(d: &Destination) -> Destination {
        d.clone()
    }
}

impl From<&Path> for Destination {
    fn from(p: &Path) -> Destination {
        Destination::Folder(p.to_path_buf())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_and_buckets() {
        assert_eq!(
            Destination::parse("./out").expect("folder"),
            Destination::Folder(PathBuf::from("./out"))
        );
        let Destination::Bucket(b) = Destination::parse("s3://videos/demo").expect("bucket") else {
            panic!("a bucket");
        };
        assert_eq!((b.bucket.as_str(), b.prefix.as_str()), ("videos", "demo/"));
        assert!(Destination::parse("s3://").is_err());
        for url in ["http://host/x", "gs://bucket/x", "https://h/"] {
            assert!(Destination::parse(url).is_err(), "{url}");
        }
        assert!(matches!(
            Destination::parse("./a://b"),
            Ok(Destination::Folder(_))
        ));
        assert!(Destination::parse("S3://Bad Bucket/x").is_err());
        assert_eq!(
            Destination::from_path(PathBuf::from("s3://videos")),
            Destination::Bucket(S3Location::parse("s3://videos/").expect("bucket"))
        );
    }
}
