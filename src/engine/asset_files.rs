//! The local file names of a request's inlined assets: a local file sent as a `data:` URL keeps
//! its base name with the task (`tasks.asset_files`), so an edit shows `first.png`, not 137k
//! characters of base64. Keyed by a short hash of the URL, so a retry or an edit that sends the
//! same data keeps the name whatever the assets' order. File names are the user's filesystem's
//! text: kept as given (bounded), sanitized by whoever shows them.

use crate::api::types::CreateRequest;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The most names a task keeps (a request has at most a dozen assets).
pub(crate) const MAX_NAMES: usize = 64;
/// The most bytes of a name kept (a file name's limit on common filesystems).
pub(crate) const MAX_NAME_BYTES: usize = 255;
/// Hex digits of a URL's hash used as its key.
const KEY_HEX: usize = 16;

/// Short hash of a `data:` URL -> the base name of the file it was made from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssetFiles(BTreeMap<String, String>);

/// The key of `url`: the first [`KEY_HEX`] hex digits of its SHA-256.
fn key(url: &str) -> String {
    Sha256::digest(url.as_bytes())
        .iter()
        .take(KEY_HEX / 2)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `name` cut to at most [`MAX_NAME_BYTES`] at a character boundary.
fn bounded(name: &str) -> &str {
    let mut end = name.len().min(MAX_NAME_BYTES);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    &name[..end]
}

fn is_key(k: &str) -> bool {
    k.len() == KEY_HEX
        && k.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl AssetFiles {
    /// Remember that `url` (a `data:` URL) was made from the local file `path`: its base name,
    /// never the folders. Anything else (a link, a path with no name, the table full) is not
    /// kept.
    pub fn insert(&mut self, url: &str, path: &str) {
        if !url.starts_with("data:") || self.0.len() >= MAX_NAMES {
            return;
        }
        let Some(name) = std::path::Path::new(path.trim()).file_name() else {
            return;
        };
        let name = name.to_string_lossy();
        let name = bounded(&name);
        if !name.is_empty() {
            self.0.insert(key(url), name.to_string());
        }
    }

    /// The file name `url` was made from, if known.
    pub fn name(&self, url: &str) -> Option<&str> {
        if self.0.is_empty() || !url.starts_with("data:") {
            return None;
        }
        self.0.get(&key(url)).map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Add every name of `other` this map has not got (within the bound).
    pub fn extend(&mut self, other: &AssetFiles) {
        for (k, v) in &other.0 {
            if self.0.len() >= MAX_NAMES {
                break;
            }
            self.0.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }

    /// Only the names of the `data:` URLs `req` sends.
    pub fn of_request(&self, req: &CreateRequest) -> AssetFiles {
        if self.0.is_empty() {
            return AssetFiles::default();
        }
        let mut out = AssetFiles::default();
        for item in &req.content {
            if let Some((_, url, _)) = item.as_media()
                && url.starts_with("data:")
            {
                let k = key(url);
                if let Some(name) = self.0.get(&k) {
                    out.0.insert(k, name.clone());
                }
            }
        }
        out
    }

    /// The JSON kept in the store (`None` when there is no name).
    pub fn to_json(&self) -> Option<String> {
        (!self.0.is_empty()).then(|| self.to_value().to_string())
    }

    /// As a JSON object (drafts keep it too).
    pub(crate) fn to_value(&self) -> serde_json::Value {
        serde_json::Value::Object(
            self.0
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                .collect(),
        )
    }

    /// Read what [`AssetFiles::to_value`] wrote; anything else in it (written by another tool:
    /// not a key, not a string, a path, too long, too many) is left out.
    pub(crate) fn from_value(v: &serde_json::Value) -> AssetFiles {
        let mut out = AssetFiles::default();
        let Some(map) = v.as_object() else {
            return out;
        };
        for (k, v) in map {
            if out.0.len() >= MAX_NAMES {
                break;
            }
            let Some(name) = v.as_str() else { continue };
            if is_key(k)
                && !name.is_empty()
                && name.len() <= MAX_NAME_BYTES
                && !name.contains(['/', '\0'])
            {
                out.0.insert(k.clone(), name.to_string());
            }
        }
        out
    }

    /// [`AssetFiles::from_value`] of the store's text (none when it is not JSON).
    pub fn from_json(text: &str) -> AssetFiles {
        serde_json::from_str(text)
            .map(|v| AssetFiles::from_value(&v))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &str = "data:image/png;base64,iVBORw0KGgo=";
    const JPG: &str = "data:image/jpeg;base64,/9j/4AAQ";

    #[test]
    fn base_names_by_url_round_trip_through_json() {
        let mut f = AssetFiles::default();
        f.insert(PNG, "/home/ann/shots/first.png");
        f.insert(JPG, "  ref dir/second.jpg ");
        f.insert("https://example.com/a.png", "a.png");
        assert_eq!(f.name(PNG), Some("first.png"));
        assert_eq!(f.name(JPG), Some("second.jpg"));
        assert_eq!(f.name("https://example.com/a.png"), None);
        assert_eq!(f.name("data:image/png;base64,AAAA"), None);
        let json = f.to_json().expect("names");
        assert!(!json.contains("/home"), "{json}");
        assert_eq!(AssetFiles::from_json(&json), f);
        assert_eq!(AssetFiles::default().to_json(), None);
    }

    #[test]
    fn names_are_bounded_in_length_and_number() {
        let mut f = AssetFiles::default();
        let long = format!("{}.png", "é".repeat(200));
        f.insert(PNG, &long);
        let kept = f.name(PNG).expect("kept");
        assert!(kept.len() <= MAX_NAME_BYTES && long.starts_with(kept));
        for i in 0..100 {
            f.insert(&format!("data:image/png;base64,{i}"), "x.png");
        }
        assert_eq!(f.0.len(), MAX_NAMES);
        let back = AssetFiles::from_json(&f.to_json().expect("json"));
        assert_eq!(back, f);
    }

    #[test]
    fn hostile_stored_values_are_left_out() {
        let mut m = serde_json::Map::new();
        m.insert(key(PNG), "ok.png".into());
        m.insert("not-a-key".into(), "x.png".into());
        m.insert(key(JPG), "../../etc/passwd".into());
        m.insert(key("data:a"), 7.into());
        m.insert(key("data:b"), "y".repeat(MAX_NAME_BYTES + 1).into());
        m.insert(key("data:c"), "".into());
        let text = serde_json::Value::Object(m).to_string();
        let f = AssetFiles::from_json(&text);
        assert_eq!(f.0.len(), 1, "{f:?}");
        assert_eq!(f.name(PNG), Some("ok.png"));
        assert!(AssetFiles::from_json("[1,2]").is_empty());
        assert!(AssetFiles::from_json("not json").is_empty());
    }

    #[test]
    fn only_the_urls_a_request_sends_are_kept() {
        let mut f = AssetFiles::default();
        f.insert(PNG, "first.png");
        f.insert(JPG, "second.jpg");
        let req = CreateRequest::from_json(&format!(
            r#"{{"model":"m","content":[{{"type":"text","text":"t"}},{{"type":"image_url","image_url":{{"url":"{JPG}"}}}}]}}"#
        ))
        .expect("request");
        let kept = f.of_request(&req);
        assert_eq!(kept.name(JPG), Some("second.jpg"));
        assert_eq!(kept.name(PNG), None);
        let mut more = AssetFiles::default();
        more.insert(PNG, "other.png");
        more.extend(&f);
        assert_eq!(more.name(PNG), Some("other.png"), "a name it has is kept");
        assert_eq!(more.name(JPG), Some("second.jpg"));
    }
}
