//! Reference URLs the simulator fetches, as the real service fetches every reference it is given:
//! only those pointing at loopback (the tests' own servers, e.g. a local S3-compatible bucket's
//! presigned links) — the simulator never reaches beyond the machine. A task with such
//! references stays queued until they are fetched (bounded in size, with a deadline); one that
//! cannot be fetched fails the task with `InvalidParameter`, as the service reports a reference
//! it could not download.

use super::Shared;
use crate::api::types::CreateRequest;
use futures::StreamExt;
use std::time::Duration;

/// The most the simulator reads of one reference (the API's largest reference is a 200 MiB video).
const MAX_REFERENCE_BYTES: u64 = 256 << 20;
/// How long one reference may take.
const FETCH_DEADLINE: Duration = Duration::from_secs(60);

/// A reference to fetch: where it sits in the request, and its URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reference {
    /// e.g. `content[1].video_url`.
    pub(crate) field: String,
    pub(crate) url: String,
}

/// True when `url` is http(s) to a loopback address or `localhost`.
pub(crate) fn is_loopback_url(url: &str) -> bool {
    let Ok(u) = reqwest::Url::parse(url) else {
        return false;
    };
    if !matches!(u.scheme(), "http" | "https") {
        return false;
    }
    let host = u.host_str().unwrap_or("");
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The request's reference URLs that point at loopback.
pub(crate) fn loopback_references(req: &CreateRequest) -> Vec<Reference> {
    req.content
        .iter()
        .enumerate()
        .filter_map(|(i, item)| {
            let (kind, url, _) = item.as_media()?;
            is_loopback_url(url).then(|| Reference {
                field: format!("content[{i}].{}", kind.item_type()),
                url: url.to_string(),
            })
        })
        .collect()
}

/// Fetch one reference whole (counting, not keeping, the bytes); `Err` says why not, without
/// the URL's query (a signature).
async fn fetch_one(http: &reqwest::Client, url: &str) -> Result<u64, String> {
    let resp = http
        .get(url)
        .send()
        .await
        .map_err(|e| format!("the request failed ({})", e.without_url()))?;
    let status = resp.status();
    if !status.is_success() {
        return Err(format!("HTTP {}", status.as_u16()));
    }
    let mut got = 0u64;
    let mut body = resp.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| format!("the download broke ({})", e.without_url()))?;
        got += chunk.len() as u64;
        if got > MAX_REFERENCE_BYTES {
            return Err(format!("larger than {MAX_REFERENCE_BYTES} bytes"));
        }
    }
    Ok(got)
}

/// Fetch every reference of task `id`, then let it run, or fail it.
pub(crate) async fn fetch_all(shared: Shared, id: String, refs: Vec<Reference>) {
    let http = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(5))
        .timeout(FETCH_DEADLINE)
        .build()
        .unwrap_or_else(|_| reqwest::Client::new());
    let mut outcome = Ok(());
    for r in &refs {
        let result = fetch_one(&http, &r.url).await;
        let mut s = shared.lock();
        match result {
            Ok(_) => s.stats.reference_fetches += 1,
            Err(why) => {
                s.stats.reference_failures += 1;
                outcome = Err(format!(
                    "Failed to download the resource at {}: {why}.",
                    r.field
                ));
                break;
            }
        }
    }
    shared.references_fetched(&id, outcome);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_is_fetched() {
        assert!(is_loopback_url(
            "http://127.0.0.1:9000/b/k?X-Amz-Signature=x"
        ));
        assert!(is_loopback_url("http://localhost/x.mp4"));
        assert!(is_loopback_url("http://[::1]:8/x.mp4"));
        assert!(!is_loopback_url("https://example.com/x.mp4"));
        assert!(!is_loopback_url("http://10.0.0.1/x.mp4"));
        assert!(!is_loopback_url("asset://abc"));
        assert!(!is_loopback_url("data:image/png;base64,AA=="));
    }
}
