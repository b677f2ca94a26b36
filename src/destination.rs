//! Where results go: a local folder or an S3-compatible bucket (`s3://BUCKET/PREFIX`). Every
//! option that takes a results folder (`--out`, `[download] output_dir`) takes either; parse the
//! text with [`Destination::parse`] (or let clap do it: `Destination` implements `FromStr`).

use crate::s3::S3Location;
use std::path::{Path, PathBuf};

/// A results destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    Folder(PathBuf),
    Bucket(S3Location),
}

impl Destination {
    /// `s3://...` is a bucket (checked); anything else is a folder.
    pub fn parse(s: &str) -> Result<Destination, String> {
        if S3Location::looks_like(s) {
            S3Location::parse(s).map(Destination::Bucket)
        } else {
            Ok(Destination::Folder(PathBuf::from(s)))
        }
    }

    /// A path from the config (already checked when the config was parsed): an `s3://` text
    /// is a bucket.
    pub fn from_path(p: PathBuf) -> Destination {
        match p.to_str().map(Destination::parse) {
            Some(Ok(d)) => d,
            _ => Destination::Folder(p),
        }
    }

    /// The folder, when this is one.
    pub fn folder(&self) -> Option<&Path> {
        match self {
            Destination::Folder(p) => Some(p),
            Destination::Bucket(_) => None,
        }
    }
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
        assert!(Destination::parse("S3://Bad Bucket/x").is_err());
        assert_eq!(
            Destination::from_path(PathBuf::from("s3://videos")),
            Destination::Bucket(S3Location::parse("s3://videos/").expect("bucket"))
        );
    }
}
