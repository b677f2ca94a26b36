//! S3-compatible object storage (AWS S3, Volcengine TOS, Cloudflare R2, MinIO, Aliyun OSS):
//! `s3://BUCKET/PREFIX` locations, streamed uploads (one PUT below [`PART_SIZE`], multipart
//! above, so memory stays at most two parts whatever the size), object metadata, presigned links.
//!
//! Requests are signed with SigV4 by `rusty-s3` (signing only, no IO of its own) and sent with
//! the project's own reqwest client, so there is one HTTP/TLS stack. An object appears under its
//! name only when complete: a single PUT is atomic, and a multipart upload is invisible until it
//! is completed (a failed one is aborted). Errors name the endpoint's host and the service's
//! error code — never a signature, a key or a server-written message.

pub(crate) mod credentials;
mod sign;
pub(crate) mod transfer;

pub use credentials::{AwsCredentials, S3Setup};

use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt};
use reqwest::StatusCode;
use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};
use std::time::Duration;

/// The S3-compatible object storage (`[storage]`): overrides of what the standard AWS variables
/// and `~/.aws` files say. Never a secret: credentials come from the environment or `~/.aws`.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct StorageConfig {
    /// e.g. `https://tos-s3-cn-beijing.volces.com`, `http://127.0.0.1:9000` (default:
    /// AWS_ENDPOINT_URL, else AWS S3 in the region).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) endpoint: Option<String>,
    /// Default: AWS_REGION, the profile's region, else us-east-1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) region: Option<String>,
    /// Path-style URLs (ENDPOINT/BUCKET/KEY); default: only for IP-address and localhost endpoints.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) path_style: Option<bool>,
    /// The AWS profile in ~/.aws to use when AWS_PROFILE is not set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) profile: Option<String>,
    /// Allow a plain-http endpoint (as AWS_ALLOW_HTTP=true does).
    pub(crate) allow_http: bool,
    /// Seconds one exchange with the service may take in all (answer and its body included;
    /// one sending a body gets a second more per 16 KiB); default 60.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) timeout_secs: Option<u64>,
}

/// Parts of a multipart upload are this big (S3 wants ≥ 5 MiB for all but the last); a body
/// that fits in one part goes up as a single PUT.
pub(crate) const PART_SIZE: usize = 8 << 20;
/// How long a signed request URL is valid (each request is signed just before it is sent).
const REQUEST_TTL: Duration = Duration::from_secs(3600);
/// The longest validity of a presigned link (SigV4's limit).
pub(crate) const MAX_PRESIGN: Duration = Duration::from_secs(7 * 86_400);
/// Error bodies are read up to this size.
const MAX_ERROR_BODY: usize = 64 << 10;

/// `s3://BUCKET/PREFIX`: a bucket and a key prefix (empty, or ending in `/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    pub(crate) bucket: String,
    pub(crate) prefix: String,
}

impl S3Location {
    /// True when `s` is meant as an S3 URL (so a typo in one is an error, not a folder name).
    pub(crate) fn looks_like(s: &str) -> bool {
        s.get(..5).is_some_and(|p| p.eq_ignore_ascii_case("s3://"))
    }

    /// Parse `s3://BUCKET[/PREFIX]`.
    pub fn parse(s: &str) -> Result<S3Location, String> {
        let rest = s
            .get(5..)
            .filter(|_| Self::looks_like(s))
            .ok_or_else(|| format!("`{s}` is not an s3:// URL; use s3://BUCKET/PREFIX"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let valid_bucket = (3..=63).contains(&bucket.len())
            && bucket
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-'))
            && !bucket.starts_with(['.', '-'])
            && !bucket.ends_with(['.', '-']);
        if !valid_bucket {
            return Err(format!(
                "`{bucket}` is not a bucket name (3-63 lowercase letters, digits, dots and hyphens); use s3://BUCKET/PREFIX"
            ));
        }
        if prefix.chars().any(|c| c.is_control()) || prefix.contains("//") {
            return Err(format!(
                "the key prefix `{}` has control characters or an empty path segment",
                prefix.escape_debug()
            ));
        }
        // A `..` would leave the bucket once the URL is normalized (`videos/../other/` is the
        // bucket `other`), and an empty first segment is not a prefix anyone means.
        if prefix.starts_with('/') || prefix.split('/').any(|seg| seg == ".." || seg == ".") {
            return Err(format!(
                "the key prefix `{}` has a `..`, `.` or empty segment; write the path inside the bucket plainly (s3://BUCKET/a/b/)",
                prefix.escape_debug()
            ));
        }
        let mut prefix = prefix.to_string();
        if !prefix.is_empty() && !prefix.ends_with('/') {
            prefix.push('/');
        }
        Ok(S3Location {
            bucket: bucket.to_string(),
            prefix,
        })
    }

    /// The key of `name` under the prefix.
    pub(crate) fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// `s3://BUCKET/KEY` for a key of this bucket.
    pub(crate) fn object_url(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }
}

impl std::str::FromStr for S3Location {
    type Err = String;
    fn from_str(s: &str) -> Result<S3Location, String> {
        S3Location::parse(s)
    }
}

impl std::fmt::Display for S3Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.prefix)
    }
}

/// Split `s3://BUCKET/KEY` (a recorded saved location) into the bucket's location and the key.
pub(crate) fn parse_object_url(url: &str) -> Option<(S3Location, String)> {
    let rest = url.get(5..).filter(|_| S3Location::looks_like(url))?;
    let (bucket, key) = rest.split_once('/')?;
    let loc = S3Location::parse(&format!("s3://{bucket}/")).ok()?;
    (!key.is_empty()).then(|| (loc, key.to_string()))
}

/// What went wrong talking to the object storage; each message is one line that says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum S3Error {
    #[error("{0}")]
    Setup(String),
    #[error(
        "no credentials for the object storage: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE with ~/.aws/credentials"
    )]
    NoCredentials,
    #[error("the bucket `{bucket}` does not exist at {endpoint}: create it, or fix the s3:// URL")]
    NoSuchBucket { bucket: String, endpoint: String },
    #[error(
        "{endpoint} refused the credentials from {from} ({code}): check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_PROFILE and the bucket's permissions"
    )]
    Credentials {
        code: String,
        endpoint: String,
        from: String,
    },
    #[error(
        "cannot reach the object storage at {endpoint} ({message}): check AWS_ENDPOINT_URL or [storage] endpoint"
    )]
    Unreachable { endpoint: String, message: String },
    #[error(
        "{endpoint} does not answer like an S3 service (HTTP {status}): check AWS_ENDPOINT_URL or [storage] endpoint"
    )]
    NotS3 { endpoint: String, status: u16 },
    #[error("the upload to {endpoint} was interrupted: {message}")]
    Interrupted { endpoint: String, message: String },
    #[error("the object storage at {endpoint} answered HTTP {status} ({code})")]
    Http {
        endpoint: String,
        status: u16,
        code: String,
    },
    #[error(
        "the object storage at {endpoint} did not finish answering within {secs} s (stalled or far too slow); try again later, or raise [storage] timeout_secs"
    )]
    TimedOut { endpoint: String, secs: u64 },
    #[error("the object {url} holds {got} bytes where {expected} were sent")]
    SizeMismatch {
        url: String,
        expected: u64,
        got: u64,
    },
    #[error("reading the data to upload failed after {received} bytes: {message}")]
    Source { received: u64, message: String },
}

impl S3Error {
    /// True when trying again may succeed (a cut, a 5xx, throttling).
    pub(crate) fn is_retryable(&self) -> bool {
        match self {
            S3Error::Unreachable { .. }
            | S3Error::Interrupted { .. }
            | S3Error::TimedOut { .. }
            | S3Error::SizeMismatch { .. }
            | S3Error::Source { .. } => true,
            S3Error::Http { status, .. } => *status == 408 || *status == 429 || *status >= 500,
            _ => false,
        }
    }
}

/// An object's size and our metadata, from HEAD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub(crate) size: u64,
    /// `x-amz-meta-task-id`, when the object was written by us for a task.
    pub task_id: Option<String>,
    /// `x-amz-meta-model`.
    pub model: Option<String>,
    pub content_type: Option<String>,
}

/// A bucket on an S3-compatible service, ready to sign requests for.
#[derive(Clone)]
pub struct S3Client {
    location: S3Location,
    bucket: Bucket,
    credentials: Option<Credentials>,
    aws: Option<AwsCredentials>,
    region: String,
    credentials_from: String,
    /// `host[:port]` of the endpoint, for messages.
    endpoint: String,
    http: reqwest::Client,
    part_size: usize,
    /// The deadline of one exchange without a body to send (request, answer and its body).
    timeout: Duration,
}

/// The default of `[storage] timeout_secs`.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// The slow-body floor: an exchange sending a body gets one more second per this many bytes
/// (an 8 MiB part: 8.5 minutes more), so a link slower than this fails instead of hanging.
pub(crate) const MIN_BYTES_PER_SEC: u64 = 16 << 10;

impl std::fmt::Debug for S3Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "S3Client({} at {})", self.location, self.endpoint)
    }
}

/// The HTTP client for the object storage: timeouts for connecting and for each read, no
/// whole-transfer limit (a part may take long on a slow link), no redirects (a wrong region
/// answers 301, which must show as an error, not be followed unsigned).
pub(crate) fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .read_timeout(Duration::from_secs(60))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("seedance-tui/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

/// Only characters that are safe in a header value and in a terminal.
fn header_safe(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
        .take(128)
        .collect()
}

impl S3Client {
    /// A client for `location` as `setup` describes.
    pub fn new(location: &S3Location, setup: &S3Setup) -> Result<S3Client, S3Error> {
        let endpoint_url = reqwest::Url::parse(&setup.endpoint)
            .map_err(|e| S3Error::Setup(format!("the storage endpoint is not a URL: {e}")))?;
        let endpoint = match (endpoint_url.host_str(), endpoint_url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            _ => return Err(S3Error::Setup("the storage endpoint has no host".into())),
        };
        let style = if setup.path_style {
            UrlStyle::Path
        } else {
            UrlStyle::VirtualHost
        };
        let bucket = Bucket::new(
            endpoint_url,
            style,
            location.bucket.clone(),
            setup.region.clone(),
        )
        .map_err(|e| {
            S3Error::Setup(format!(
                "cannot address the bucket `{}` at {endpoint} ({e:?}); try [storage] path_style = true",
                location.bucket
            ))
        })?;
        let credentials = setup.credentials.as_ref().map(|c| match &c.token {
            Some(t) => Credentials::new_with_token(c.key.clone(), c.secret.clone(), t.clone()),
            None => Credentials::new(c.key.clone(), c.secret.clone()),
        });
        Ok(S3Client {
            location: location.clone(),
            bucket,
            credentials,
            aws: setup.credentials.clone(),
            region: setup.region.clone(),
            credentials_from: setup.credentials_from.clone(),
            endpoint,
            http: http_client(),
            part_size: PART_SIZE,
            timeout: DEFAULT_TIMEOUT,
        })
    }

    /// A client for `location` from `[storage]` and the process's AWS variables and files.
    pub(crate) fn from_config(
        location: &S3Location,
        storage: &StorageConfig,
    ) -> Result<S3Client, S3Error> {
        let setup = credentials::resolve_from_env(storage).map_err(S3Error::Setup)?;
        let client = Self::new(location, &setup)?;
        Ok(match storage.timeout_secs {
            Some(secs) => client.with_timeout(Duration::from_secs(secs.max(1))),
            None => client,
        })
    }

    /// The deadline of one exchange (see [`DEFAULT_TIMEOUT`]).
    pub(crate) fn with_timeout(mut self, timeout: Duration) -> S3Client {
        self.timeout = timeout;
        self
    }

    /// The whole of one exchange sending `body_bytes` — request, answer, answer body — within
    /// the timeout plus the slow-body floor's time for the body; a server that stalls or
    /// trickles (an error body one byte at a time) ends with `TimedOut`.
    async fn bounded<T>(
        &self,
        body_bytes: u64,
        exchange: impl std::future::Future<Output = Result<T, S3Error>>,
    ) -> Result<T, S3Error> {
        let limit = self.timeout + Duration::from_secs(body_bytes / MIN_BYTES_PER_SEC);
        match tokio::time::timeout(limit, exchange).await {
            Ok(r) => r,
            Err(_) => Err(S3Error::TimedOut {
                endpoint: self.endpoint.clone(),
                secs: limit.as_secs(),
            }),
        }
    }

    /// `text` without the access key id, the secret or the session token, in the form given
    /// and as reduced to header-safe characters: a server may echo any of them (a token in a
    /// `<Code>`), and every S3 error text goes through here before it can be printed.
    fn redact(&self, text: &str) -> String {
        let Some(aws) = &self.aws else {
            return text.to_string();
        };
        let mut out = text.to_string();
        let secrets = [
            Some(aws.key.as_str()),
            Some(aws.secret.as_str()),
            aws.token.as_deref(),
        ];
        for secret in secrets.into_iter().flatten() {
            let safe: String = secret
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
                .collect();
            for form in [secret, safe.as_str()] {
                if form.len() >= 4 && out.contains(form) {
                    out = out.replace(form, "<redacted>");
                }
            }
        }
        out
    }

    pub(crate) fn location(&self) -> &S3Location {
        &self.location
    }

    fn creds(&self) -> Result<&Credentials, S3Error> {
        self.credentials.as_ref().ok_or(S3Error::NoCredentials)
    }

    /// A `method` request to `url` (built by rusty-s3 without credentials: the action's own
    /// query only) sending `headers`, signed in the `Authorization` header.
    fn signed(
        &self,
        method: reqwest::Method,
        url: reqwest::Url,
        headers: &[(String, String)],
    ) -> Result<reqwest::RequestBuilder, S3Error> {
        let aws = self.aws.as_ref().ok_or(S3Error::NoCredentials)?;
        let signer = sign::Signer {
            key: &aws.key,
            secret: &aws.secret,
            token: aws.token.as_deref(),
            region: &self.region,
        };
        let auth = signer.headers(method.as_str(), &url, headers, chrono::Utc::now());
        let mut req = self.http.request(method, url);
        for (k, v) in headers.iter().chain(auth.iter()) {
            req = req.header(k.as_str(), v.as_str());
        }
        Ok(req)
    }

    /// A presigned GET link to `key`, valid for `ttl` (at most 7 days).
    pub(crate) fn presign_get(&self, key: &str, ttl: Duration) -> Result<String, S3Error> {
        let ttl = ttl.clamp(Duration::from_secs(1), MAX_PRESIGN);
        Ok(self
            .bucket
            .get_object(Some(self.creds()?), key)
            .sign(ttl)
            .to_string())
    }

    fn transport(&self, e: &reqwest::Error, started: bool) -> S3Error {
        let message = self.redact(&crate::sanitize::error_chain(e));
        if e.is_connect() && !started {
            S3Error::Unreachable {
                endpoint: self.endpoint.clone(),
                message,
            }
        } else {
            S3Error::Interrupted {
                endpoint: self.endpoint.clone(),
                message,
            }
        }
    }

    /// The error for a non-success answer to HEAD (which has no body: the status says it).
    async fn failure_of_head(&self, resp: reqwest::Response) -> S3Error {
        self.failure_with(resp, true).await
    }

    /// The error for a non-success answer: the S3 error code of its body; an answer without
    /// one is not from an S3 service.
    async fn failure(&self, resp: reqwest::Response) -> S3Error {
        self.failure_with(resp, false).await
    }

    async fn failure_with(&self, resp: reqwest::Response, head: bool) -> S3Error {
        let status = resp.status().as_u16();
        let is_xml = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_none_or(|t| t.contains("xml"));
        let body = self.redact(&read_bounded(resp, MAX_ERROR_BODY).await.unwrap_or_default());
        let code = xml_field(&body, "Code").map(|c| self.redact(&header_safe(&c)));
        let code = match code {
            Some(c) if !c.is_empty() => c,
            // HEAD answers have no body: the status says it.
            _ if head && status == 403 => "AccessDenied".into(),
            _ if is_xml && status >= 500 => format!("HTTP {status}"),
            _ => {
                return S3Error::NotS3 {
                    endpoint: self.endpoint.clone(),
                    status,
                };
            }
        };
        match code.as_str() {
            "NoSuchBucket" => S3Error::NoSuchBucket {
                bucket: self.location.bucket.clone(),
                endpoint: self.endpoint.clone(),
            },
            "InvalidAccessKeyId"
            | "SignatureDoesNotMatch"
            | "AccessDenied"
            | "ExpiredToken"
            | "InvalidToken"
            | "InvalidSecurity"
            | "AuthorizationHeaderMalformed"
            | "AuthorizationQueryParametersError" => S3Error::Credentials {
                code,
                endpoint: self.endpoint.clone(),
                from: self.credentials_from.clone(),
            },
            _ => S3Error::Http {
                endpoint: self.endpoint.clone(),
                status,
                code,
            },
        }
    }

    /// Size and our metadata of `key`, or `None` when there is no such object.
    pub async fn head(&self, key: &str) -> Result<Option<ObjectInfo>, S3Error> {
        self.bounded(0, self.head_unbounded(key)).await
    }

    async fn head_unbounded(&self, key: &str) -> Result<Option<ObjectInfo>, S3Error> {
        let url = self.bucket.head_object(None, key).sign(REQUEST_TTL);
        let resp = self
            .signed(reqwest::Method::HEAD, url, &[])?
            .send()
            .await
            .map_err(|e| self.transport(&e, false))?;
        if resp.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !resp.status().is_success() {
            return Err(self.failure_of_head(resp).await);
        }
        let h = resp.headers();
        let size = h
            .get(reqwest::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let meta = |name: &str| h.get(name).and_then(|v| v.to_str().ok()).map(header_safe);
        Ok(Some(ObjectInfo {
            size,
            task_id: meta("x-amz-meta-task-id"),
            model: meta("x-amz-meta-model"),
            content_type: h
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.chars().filter(|c| !c.is_control()).take(128).collect()),
        }))
    }

    /// Create the bucket (tests, benchmarks and the README's local example).
    pub async fn create_bucket(&self) -> Result<(), S3Error> {
        self.bounded(0, self.create_bucket_unbounded()).await
    }

    async fn create_bucket_unbounded(&self) -> Result<(), S3Error> {
        let action = self.bucket.create_bucket(self.creds()?);
        let body = action.body();
        let resp = self
            .signed(reqwest::Method::PUT, self.bucket.base_url().clone(), &[])?
            .header(reqwest::header::CONTENT_LENGTH, body.len())
            .body(body)
            .send()
            .await
            .map_err(|e| self.transport(&e, false))?;
        if resp.status().is_success() {
            return Ok(());
        }
        match self.failure(resp).await {
            S3Error::Http { code, .. }
                if code == "BucketAlreadyOwnedByYou" || code == "BucketAlreadyExists" =>
            {
                Ok(())
            }
            e => Err(e),
        }
    }

    /// Keys and sizes of the objects under `prefix` (at most 1000; tests and checks).
    pub async fn list(&self, prefix: &str) -> Result<Vec<(String, u64)>, S3Error> {
        self.bounded(0, self.list_unbounded(prefix)).await
    }

    async fn list_unbounded(&self, prefix: &str) -> Result<Vec<(String, u64)>, S3Error> {
        let mut action = self.bucket.list_objects_v2(None);
        action.with_prefix(prefix);
        let resp = self
            .signed(reqwest::Method::GET, action.sign(REQUEST_TTL), &[])?
            .send()
            .await
            .map_err(|e| self.transport(&e, false))?;
        if !resp.status().is_success() {
            return Err(self.failure(resp).await);
        }
        let text = read_bounded(resp, 16 << 20).await?;
        let parsed = rusty_s3::actions::ListObjectsV2::parse_response(&text).map_err(|_| {
            S3Error::NotS3 {
                endpoint: self.endpoint.clone(),
                status: 200,
            }
        })?;
        Ok(parsed
            .contents
            .into_iter()
            .map(|c| (c.key, c.size.unwrap_or(0)))
            .collect())
    }

    /// Fetch a whole object (small ones: tests and checks), at most `limit` bytes.
    pub async fn get(&self, key: &str, limit: usize) -> Result<Vec<u8>, S3Error> {
        self.bounded(0, self.get_unbounded(key, limit)).await
    }

    async fn get_unbounded(&self, key: &str, limit: usize) -> Result<Vec<u8>, S3Error> {
        let url = self.bucket.get_object(None, key).sign(REQUEST_TTL);
        let resp = self
            .signed(reqwest::Method::GET, url, &[])?
            .send()
            .await
            .map_err(|e| self.transport(&e, false))?;
        if !resp.status().is_success() {
            return Err(self.failure(resp).await);
        }
        let mut out = Vec::new();
        let mut stream = resp.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| self.transport(&e, true))?;
            if out.len() + chunk.len() > limit {
                return Err(S3Error::Setup(format!(
                    "the object {key} exceeds {limit} bytes"
                )));
            }
            out.extend_from_slice(&chunk);
        }
        Ok(out)
    }

    /// Upload `body` to `key` with `metadata` (`x-amz-meta-NAME` headers; values reduced to
    /// safe characters) and `content_type`. `expected` is the size the body should have, when
    /// known; `progress(sent)` follows the bytes read from `body`. Memory: at most two parts.
    /// Returns the object's size, checked with HEAD after the upload.
    pub(crate) async fn put_stream<S>(
        &self,
        key: &str,
        body: S,
        expected: Option<u64>,
        content_type: &str,
        metadata: &[(&str, &str)],
        progress: &mut (dyn FnMut(u64) + Send),
    ) -> Result<u64, S3Error>
    where
        S: Stream<Item = Result<Bytes, S3Error>> + Send,
    {
        let mut headers: Vec<(String, String)> = metadata
            .iter()
            .map(|(k, v)| (format!("x-amz-meta-{}", header_safe(k)), header_safe(v)))
            .collect();
        let content_type: String = content_type
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '+' | '.' | '-'))
            .take(128)
            .collect();
        headers.push(("content-type".into(), content_type));
        headers.sort();
        let mut body = std::pin::pin!(body);
        let mut sent = 0u64;
        let mut upload: Option<Multipart> = None;
        let mut pending: Option<tokio::task::JoinHandle<Result<String, S3Error>>> = None;
        let result: Result<(), S3Error> = async {
            let mut part_number: u16 = 0;
            loop {
                let (part, ended) =
                    fill_part(&mut body, self.part_size, &mut sent, progress).await?;
                if upload.is_none() && ended {
                    // The whole body fits in one part: a single PUT, atomic by itself.
                    check_size(expected, sent)?;
                    let url = self.bucket.put_object(None, key).sign(REQUEST_TTL);
                    let len = part.len();
                    let req = self
                        .signed(reqwest::Method::PUT, url, &headers)?
                        .header(reqwest::header::CONTENT_LENGTH, len)
                        .body(part);
                    return self
                        .bounded(len as u64, async {
                            let resp = req.send().await.map_err(|e| self.transport(&e, false))?;
                            if !resp.status().is_success() {
                                return Err(self.failure(resp).await);
                            }
                            Ok(())
                        })
                        .await;
                }
                if upload.is_none() {
                    upload = Some(self.create_multipart(key, &headers).await?);
                }
                let Some(mp) = upload.as_mut() else {
                    unreachable!("created above")
                };
                if let Some(done) = pending.take() {
                    mp.etags.push(join_part(done).await?);
                }
                if !part.is_empty() || part_number == 0 {
                    part_number = part_number
                        .checked_add(1)
                        .filter(|n| *n <= 10_000)
                        .ok_or_else(|| {
                            S3Error::Setup("the file needs more than 10000 parts".into())
                        })?;
                    let url = self
                        .bucket
                        .upload_part(None, key, part_number, &mp.id)
                        .sign(REQUEST_TTL);
                    let len = part.len() as u64;
                    let req = self
                        .signed(reqwest::Method::PUT, url, &[])?
                        .header(reqwest::header::CONTENT_LENGTH, part.len())
                        .body(part);
                    let me = self.clone();
                    pending = Some(tokio::spawn(async move {
                        let me = &me;
                        me.bounded(len, async move {
                            let resp = req.send().await.map_err(|e| me.transport(&e, true))?;
                            if !resp.status().is_success() {
                                return Err(me.failure(resp).await);
                            }
                            resp.headers()
                                .get(reqwest::header::ETAG)
                                .and_then(|v| v.to_str().ok())
                                .map(str::to_string)
                                .ok_or_else(|| S3Error::NotS3 {
                                    endpoint: me.endpoint.clone(),
                                    status: 200,
                                })
                        })
                        .await
                    }));
                }
                if ended {
                    if let Some(done) = pending.take() {
                        mp.etags.push(join_part(done).await?);
                    }
                    check_size(expected, sent)?;
                    return self.complete_multipart(key, mp).await;
                }
            }
        }
        .await;
        if let Err(e) = result {
            if let Some(p) = pending.take() {
                p.abort();
            }
            if let Some(mp) = upload {
                // Best effort: the parts are invisible anyway, this frees their space.
                self.abort_multipart(key, &mp.id).await;
            }
            return Err(e);
        }
        // The object must hold exactly what was read.
        let size = match self.head(key).await? {
            Some(info) => info.size,
            None => 0,
        };
        if size != sent {
            return Err(S3Error::SizeMismatch {
                url: self.location.object_url(key),
                expected: sent,
                got: size,
            });
        }
        Ok(size)
    }

    async fn create_multipart(
        &self,
        key: &str,
        headers: &[(String, String)],
    ) -> Result<Multipart, S3Error> {
        self.bounded(0, self.create_multipart_unbounded(key, headers))
            .await
    }

    async fn create_multipart_unbounded(
        &self,
        key: &str,
        headers: &[(String, String)],
    ) -> Result<Multipart, S3Error> {
        let url = self
            .bucket
            .create_multipart_upload(None, key)
            .sign(REQUEST_TTL);
        let resp = self
            .signed(reqwest::Method::POST, url, headers)?
            .header(reqwest::header::CONTENT_LENGTH, 0)
            .send()
            .await
            .map_err(|e| self.transport(&e, false))?;
        if !resp.status().is_success() {
            return Err(self.failure(resp).await);
        }
        let text = read_bounded(resp, MAX_ERROR_BODY).await?;
        let id = rusty_s3::actions::CreateMultipartUpload::parse_response(&text)
            .map_err(|_| S3Error::NotS3 {
                endpoint: self.endpoint.clone(),
                status: 200,
            })?
            .upload_id()
            .to_string();
        Ok(Multipart {
            id,
            etags: Vec::new(),
        })
    }

    async fn complete_multipart(&self, key: &str, mp: &Multipart) -> Result<(), S3Error> {
        self.bounded(0, self.complete_multipart_unbounded(key, mp))
            .await
    }

    async fn complete_multipart_unbounded(&self, key: &str, mp: &Multipart) -> Result<(), S3Error> {
        let action = self.bucket.complete_multipart_upload(
            None,
            key,
            &mp.id,
            mp.etags.iter().map(String::as_str),
        );
        let url = action.sign(REQUEST_TTL);
        let body = action.body();
        let resp = self
            .signed(reqwest::Method::POST, url, &[])?
            .header(reqwest::header::CONTENT_LENGTH, body.len())
            .body(body)
            .send()
            .await
            .map_err(|e| self.transport(&e, true))?;
        if !resp.status().is_success() {
            return Err(self.failure(resp).await);
        }
        // S3 may answer 200 with an error in the body after a long completion.
        let text = read_bounded(resp, MAX_ERROR_BODY).await?;
        if text.contains("<Error>") {
            let code = xml_field(&self.redact(&text), "Code")
                .map(|c| self.redact(&header_safe(&c)))
                .unwrap_or_default();
            return Err(S3Error::Http {
                endpoint: self.endpoint.clone(),
                status: 200,
                code,
            });
        }
        Ok(())
    }

    /// Check that results can be saved here before anything is paid for: one tiny object put
    /// under the prefix (the bucket exists and answers, the credentials are accepted, a write is
    /// allowed), then deleted. A delete the policy refuses is left at that: the write worked.
    pub(crate) async fn check_writable(&self) -> Result<(), S3Error> {
        self.creds()?;
        let nonce = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let key = self.location.key(&format!(
            ".seedance-tui-check-{}-{nonce:x}",
            std::process::id()
        ));
        let body = futures::stream::once(async { Ok(Bytes::from_static(b"ok")) });
        self.put_stream(
            &key,
            body,
            Some(2),
            "text/plain",
            &[("purpose", "check")],
            &mut |_| {},
        )
        .await?;
        let url = self.bucket.delete_object(None, &key).sign(REQUEST_TTL);
        match self.signed(reqwest::Method::DELETE, url, &[])?.send().await {
            Ok(r) if !r.status().is_success() => {
                tracing::debug!(status = %r.status(), "deleting the check object was refused")
            }
            Ok(_) => {}
            Err(e) => tracing::debug!(error = %e, "deleting the check object failed"),
        }
        Ok(())
    }

    async fn abort_multipart(&self, key: &str, id: &str) {
        let url = self
            .bucket
            .abort_multipart_upload(None, key, id)
            .sign(REQUEST_TTL);
        match self.signed(reqwest::Method::DELETE, url, &[]) {
            Ok(req) => match tokio::time::timeout(self.timeout, req.send()).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::debug!(error = %e, "aborting a multipart upload failed"),
                Err(_) => tracing::debug!("aborting a multipart upload timed out"),
            },
            Err(e) => tracing::debug!(error = %e, "cannot abort a multipart upload"),
        }
    }
}

struct Multipart {
    id: String,
    etags: Vec<String>,
}

async fn join_part(
    handle: tokio::task::JoinHandle<Result<String, S3Error>>,
) -> Result<String, S3Error> {
    handle.await.map_err(|e| S3Error::Interrupted {
        endpoint: String::new(),
        message: e.to_string(),
    })?
}

fn check_size(expected: Option<u64>, got: u64) -> Result<(), S3Error> {
    match expected {
        Some(e) if e != got => Err(S3Error::Source {
            received: got,
            message: format!("the source ended at {got} of {e} bytes"),
        }),
        _ => Ok(()),
    }
}

/// Read up to `size` bytes from `body` into one buffer; true when the body ended.
async fn fill_part<S>(
    body: &mut std::pin::Pin<&mut S>,
    size: usize,
    sent: &mut u64,
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<(Bytes, bool), S3Error>
where
    S: Stream<Item = Result<Bytes, S3Error>> + Send,
{
    // A part may exceed `size` by the last chunk read (a few KiB): S3 only needs parts ≥ 5 MiB.
    let mut buf = BytesMut::with_capacity(size.min(PART_SIZE));
    loop {
        if buf.len() >= size {
            return Ok((buf.freeze(), false));
        }
        match body.next().await {
            Some(Ok(chunk)) => {
                *sent += chunk.len() as u64;
                progress(*sent);
                buf.extend_from_slice(&chunk);
            }
            Some(Err(e)) => return Err(e),
            None => return Ok((buf.freeze(), true)),
        }
    }
}

/// Read a body of at most `limit` bytes as text.
async fn read_bounded(resp: reqwest::Response, limit: usize) -> Result<String, S3Error> {
    let mut out = Vec::new();
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| S3Error::Interrupted {
            endpoint: String::new(),
            message: crate::sanitize::error_chain(&e),
        })?;
        let room = limit.saturating_sub(out.len());
        out.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if out.len() >= limit {
            break;
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// The text of the first `<NAME>...</NAME>` element.
fn xml_field(body: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let start = body.find(&open)? + open.len();
    let end = body[start..].find(&format!("</{name}>"))? + start;
    Some(body[start..end].trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_parse_and_name_keys() {
        let l = S3Location::parse("s3://videos/demo/run1").expect("parses");
        assert_eq!(l.bucket, "videos");
        assert_eq!(l.prefix, "demo/run1/");
        assert_eq!(l.key("a.mp4"), "demo/run1/a.mp4");
        assert_eq!(
            l.object_url("demo/run1/a.mp4"),
            "s3://videos/demo/run1/a.mp4"
        );
        assert_eq!(S3Location::parse("s3://videos").expect("bare").prefix, "");
        assert!(S3Location::parse("s3://Videos/x").is_err());
        assert!(S3Location::parse("s3://ab").is_err());
        assert!(S3Location::parse("https://videos/x").is_err());
        assert!(S3Location::parse("s3://videos/a//b").is_err());
        // `..` would name another bucket once the URL is normalized.
        for bad in [
            "s3://videos/../other/",
            "s3://videos/a/..",
            "s3://videos/./x",
            "s3://videos//x",
        ] {
            assert!(S3Location::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            S3Location::parse("s3://videos/a..b/")
                .expect("dots in a name")
                .prefix,
            "a..b/"
        );
        let (loc, key) = parse_object_url("s3://videos/demo/a.mp4").expect("object URL");
        assert_eq!(
            (loc.bucket.as_str(), key.as_str()),
            ("videos", "demo/a.mp4")
        );
        assert!(parse_object_url("s3://videos/").is_none());
        assert!(parse_object_url("/tmp/a.mp4").is_none());
    }

    #[test]
    fn error_codes_come_from_xml_and_are_made_safe() {
        let body = "<?xml version=\"1.0\"?><Error><Code>NoSuch\u{1b}[2JBucket</Code><Message>x</Message></Error>";
        let code = xml_field(body, "Code").map(|c| header_safe(&c));
        assert_eq!(code.as_deref(), Some("NoSuch2JBucket"));
        assert_eq!(xml_field("<a>", "Code"), None);
    }

    #[test]
    fn every_secret_is_redacted_from_error_texts() {
        let setup = S3Setup {
            endpoint: "http://127.0.0.1:9".into(),
            region: "us-east-1".into(),
            path_style: true,
            credentials: Some(AwsCredentials {
                key: "AKIDEXAMPLE".into(),
                secret: "se/cr+et=".into(),
                token: Some("to/ken+session".into()),
            }),
            credentials_from: "test".into(),
        };
        let c = S3Client::new(&S3Location::parse("s3://videos/x").expect("loc"), &setup)
            .expect("client");
        let text = c.redact("AKIDEXAMPLE se/cr+et= to/ken+session tokensession");
        assert_eq!(text, "<redacted> <redacted> <redacted> <redacted>");
    }

    #[test]
    fn presigned_links_are_capped_at_seven_days() {
        let setup = S3Setup {
            endpoint: "http://127.0.0.1:9".into(),
            region: "us-east-1".into(),
            path_style: true,
            credentials: Some(AwsCredentials {
                key: "AKID".into(),
                secret: "s".into(),
                token: None,
            }),
            credentials_from: "test".into(),
        };
        let c = S3Client::new(&S3Location::parse("s3://videos/x").expect("loc"), &setup)
            .expect("client");
        let url = c
            .presign_get("x/a.mp4", Duration::from_secs(30 * 86_400))
            .expect("signs");
        assert!(
            url.starts_with("http://127.0.0.1:9/videos/x/a.mp4?"),
            "{url}"
        );
        assert!(url.contains("X-Amz-Expires=604800"), "{url}");
    }
}
