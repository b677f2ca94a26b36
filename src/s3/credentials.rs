//! Where the S3 endpoint, region and credentials come from: the standard AWS variables, then the
//! shared `~/.aws/credentials` and `~/.aws/config` files (profile `AWS_PROFILE`, else
//! `[storage] profile`, else `default`), with `[storage]` overriding endpoint, region and URL
//! style. Secrets are never read from our own config file, and never printed.

use super::StorageConfig;
use std::collections::HashMap;
use std::path::PathBuf;

/// Credentials for signing (held only in memory).
#[derive(Clone)]
pub struct AwsCredentials {
    pub key: String,
    pub secret: String,
    pub token: Option<String>,
}

impl std::fmt::Debug for AwsCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret or the token; the key id's first characters help tell keys apart.
        let shown: String = self.key.chars().take(4).collect();
        write!(f, "AwsCredentials({shown}…)")
    }
}

/// Everything needed to talk to one S3-compatible service.
#[derive(Debug, Clone)]
pub struct S3Setup {
    /// `https://...` (or `http://...` when allowed).
    pub endpoint: String,
    pub region: String,
    /// Path-style URLs (`ENDPOINT/BUCKET/KEY`) instead of virtual-hosted ones.
    pub path_style: bool,
    pub credentials: Option<AwsCredentials>,
    /// Where the credentials came from, for messages (`environment`, `profile default`, ...).
    pub credentials_from: String,
}

/// The default region when none is configured anywhere.
pub(crate) const DEFAULT_REGION: &str = "us-east-1";

/// Sections of an INI-style AWS file: section name -> key -> value.
type Ini = HashMap<String, HashMap<String, String>>;

fn parse_ini(text: &str) -> Ini {
    let mut out: Ini = HashMap::new();
    let mut section = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.trim().to_string();
            continue;
        }
        if let Some((k, v)) = line.split_once('=') {
            out.entry(section.clone())
                .or_default()
                .insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    out
}

/// Read a small AWS file (bounded: these files are a few lines).
fn read_ini(path: Option<PathBuf>) -> Ini {
    let Some(path) = path else {
        return Ini::new();
    };
    match std::fs::metadata(&path) {
        Ok(m) if m.is_file() && m.len() <= 1 << 20 => {
            parse_ini(&std::fs::read_to_string(&path).unwrap_or_default())
        }
        _ => Ini::new(),
    }
}

fn truthy(v: &str) -> bool {
    matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes")
}

/// True when `host` is an IP address or `localhost`: virtual-hosted bucket names cannot work there.
fn is_ip_or_localhost(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost") || h.parse::<std::net::IpAddr>().is_ok()
}

/// Resolve the endpoint, region, URL style and credentials. `env` looks up environment variables
/// (a function, so tests need not touch the process environment); `home` is the user's home
/// directory for `~/.aws`.
pub(crate) fn resolve(
    settings: &StorageConfig,
    env: impl Fn(&str) -> Option<String>,
    home: Option<PathBuf>,
) -> Result<S3Setup, String> {
    let var = |n: &str| {
        env(n)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let aws_dir = home.map(|h| h.join(".aws"));
    let credentials_file = var("AWS_SHARED_CREDENTIALS_FILE")
        .map(PathBuf::from)
        .or_else(|| aws_dir.as_ref().map(|d| d.join("credentials")));
    let config_file = var("AWS_CONFIG_FILE")
        .map(PathBuf::from)
        .or_else(|| aws_dir.as_ref().map(|d| d.join("config")));
    let profile = var("AWS_PROFILE")
        .or_else(|| settings.profile.clone())
        .unwrap_or_else(|| "default".to_string());
    let creds_ini = read_ini(credentials_file);
    let config_ini = read_ini(config_file);
    let empty = HashMap::new();
    let creds_section = creds_ini.get(&profile).unwrap_or(&empty);
    let config_section = config_ini
        .get(&format!("profile {profile}"))
        .or_else(|| {
            (profile == "default")
                .then(|| config_ini.get("default"))
                .flatten()
        })
        .unwrap_or(&empty);
    let from_profile = |k: &str| {
        creds_section
            .get(k)
            .or_else(|| config_section.get(k))
            .filter(|v| !v.is_empty())
            .cloned()
    };

    let (credentials, credentials_from) =
        match (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) {
            (Some(key), Some(secret)) => (
                Some(AwsCredentials {
                    key,
                    secret,
                    token: var("AWS_SESSION_TOKEN"),
                }),
                "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY".to_string(),
            ),
            _ => match (
                from_profile("aws_access_key_id"),
                from_profile("aws_secret_access_key"),
            ) {
                (Some(key), Some(secret)) => (
                    Some(AwsCredentials {
                        key,
                        secret,
                        token: from_profile("aws_session_token"),
                    }),
                    format!("the AWS profile `{profile}`"),
                ),
                _ => (None, "nowhere".to_string()),
            },
        };

    let region = settings
        .region
        .clone()
        .or_else(|| var("AWS_REGION"))
        .or_else(|| var("AWS_DEFAULT_REGION"))
        .or_else(|| config_section.get("region").cloned())
        .unwrap_or_else(|| DEFAULT_REGION.to_string());
    let endpoint = settings
        .endpoint
        .clone()
        .or_else(|| var("AWS_ENDPOINT_URL_S3"))
        .or_else(|| var("AWS_ENDPOINT_URL"))
        .or_else(|| config_section.get("endpoint_url").cloned())
        .unwrap_or_else(|| format!("https://s3.{region}.amazonaws.com"));
    let allow_http = settings.allow_http || var("AWS_ALLOW_HTTP").is_some_and(|v| truthy(&v));
    let url = reqwest::Url::parse(&endpoint).map_err(|e| {
        format!("the storage endpoint `{endpoint}` is not a URL ({e}); set AWS_ENDPOINT_URL or [storage] endpoint")
    })?;
    let host = url.host_str().unwrap_or("").to_string();
    match url.scheme() {
        "https" => {}
        "http" if allow_http => {}
        "http" => {
            return Err(format!(
                "the storage endpoint `{endpoint}` is plain http; set AWS_ALLOW_HTTP=true to allow it (local servers only)"
            ));
        }
        other => {
            return Err(format!(
                "the storage endpoint `{endpoint}` uses `{other}`; use https:// (or http:// with AWS_ALLOW_HTTP=true)"
            ));
        }
    }
    if host.is_empty() {
        return Err(format!("the storage endpoint `{endpoint}` has no host"));
    }
    let path_style = settings
        .path_style
        .or_else(|| var("AWS_S3_FORCE_PATH_STYLE").map(|v| truthy(&v)))
        .unwrap_or_else(|| is_ip_or_localhost(&host));
    Ok(S3Setup {
        endpoint,
        region,
        path_style,
        credentials,
        credentials_from,
    })
}

/// [`resolve`] with the process environment and the user's home directory.
pub(crate) fn resolve_from_env(settings: &StorageConfig) -> Result<S3Setup, String> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    resolve(settings, |n| std::env::var(n).ok(), home)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |n| map.get(n).cloned()
    }

    #[test]
    fn environment_wins_and_loopback_endpoints_use_path_style() {
        let s = resolve(
            &StorageConfig::default(),
            env_of(&[
                ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
                ("AWS_SECRET_ACCESS_KEY", "secret"),
                ("AWS_SESSION_TOKEN", "tok"),
                ("AWS_ENDPOINT_URL", "http://127.0.0.1:9000"),
                ("AWS_ALLOW_HTTP", "true"),
                ("AWS_REGION", "eu-west-1"),
            ]),
            None,
        )
        .expect("resolves");
        assert_eq!(s.endpoint, "http://127.0.0.1:9000");
        assert_eq!(s.region, "eu-west-1");
        assert!(s.path_style);
        let c = s.credentials.expect("credentials");
        assert_eq!(c.token.as_deref(), Some("tok"));
        assert!(!format!("{c:?}").contains("secret"));
    }

    #[test]
    fn plain_http_needs_allow_http() {
        let err = resolve(
            &StorageConfig::default(),
            env_of(&[("AWS_ENDPOINT_URL", "http://127.0.0.1:9000")]),
            None,
        )
        .expect_err("refused");
        assert!(err.contains("AWS_ALLOW_HTTP"), "{err}");
    }

    #[test]
    fn profile_files_and_config_overrides() {
        let home = tempfile::tempdir().expect("tempdir");
        let aws = home.path().join(".aws");
        std::fs::create_dir_all(&aws).expect("mkdir");
        std::fs::write(
            aws.join("credentials"),
            "[default]\naws_access_key_id = A\naws_secret_access_key = B\n[work]\naws_access_key_id = W\naws_secret_access_key = X\n",
        )
        .expect("write");
        std::fs::write(
            aws.join("config"),
            "[profile work]\nregion = ap-southeast-1\nendpoint_url = https://tos-s3-cn-beijing.volces.com\n",
        )
        .expect("write");
        let s = resolve(
            &StorageConfig::default(),
            env_of(&[("AWS_PROFILE", "work")]),
            Some(home.path().to_path_buf()),
        )
        .expect("resolves");
        assert_eq!(s.credentials.expect("creds").key, "W");
        assert_eq!(s.region, "ap-southeast-1");
        assert_eq!(s.endpoint, "https://tos-s3-cn-beijing.volces.com");
        assert!(!s.path_style, "a named host uses virtual-hosted buckets");
        let cfg = StorageConfig {
            endpoint: Some("https://minio.example.com".into()),
            region: Some("local".into()),
            path_style: Some(true),
            ..StorageConfig::default()
        };
        let s = resolve(&cfg, env_of(&[]), Some(home.path().to_path_buf())).expect("resolves");
        assert_eq!(s.credentials.expect("default profile").key, "A");
        assert_eq!(
            (s.endpoint.as_str(), s.region.as_str(), s.path_style),
            ("https://minio.example.com", "local", true)
        );
    }

    #[test]
    fn aws_default_endpoint_from_region() {
        let s = resolve(&StorageConfig::default(), env_of(&[]), None).expect("resolves");
        assert_eq!(s.endpoint, "https://s3.us-east-1.amazonaws.com");
        assert!(s.credentials.is_none());
    }
}
