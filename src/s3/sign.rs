//! SigV4 in the `Authorization` header for the requests we send ourselves (presigned links use
//! the query-string form from `rusty-s3`). Some S3-compatible servers check credentials only in
//! the header form, and a header-signed request keeps the signature out of every URL. The payload
//! is not signed (`UNSIGNED-PAYLOAD`), so a body can stream.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// The credentials and region to sign with.
pub(crate) struct Signer<'a> {
    pub(crate) key: &'a str,
    pub(crate) secret: &'a str,
    pub(crate) token: Option<&'a str>,
    pub(crate) region: &'a str,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    // HMAC takes a key of any length.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap_or_else(|_| {
        <Hmac<Sha256> as KeyInit>::new_from_slice(&[]).expect("an empty HMAC key is valid")
    });
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// RFC 3986 encoding as SigV4 wants it: everything but unreserved characters.
fn uri_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Signer<'_> {
    /// The headers to add to a `method` request to `url` that also sends `headers` (lowercase
    /// names; they are signed too), at time `now`.
    pub(crate) fn headers(
        &self,
        method: &str,
        url: &reqwest::Url,
        headers: &[(String, String)],
        now: chrono::DateTime<chrono::Utc>,
    ) -> Vec<(String, String)> {
        self.headers_for_payload(method, url, headers, now, "UNSIGNED-PAYLOAD")
    }

    fn headers_for_payload(
        &self,
        method: &str,
        url: &reqwest::Url,
        headers: &[(String, String)],
        now: chrono::DateTime<chrono::Utc>,
        payload: &str,
    ) -> Vec<(String, String)> {
        let amz_date = now.format("%Y%m%dT%H%M%SZ").to_string();
        let date = now.format("%Y%m%d").to_string();
        let host = match url.port() {
            Some(p) => format!("{}:{p}", url.host_str().unwrap_or("")),
            None => url.host_str().unwrap_or("").to_string(),
        };
        let mut added = vec![
            ("x-amz-content-sha256".to_string(), payload.to_string()),
            ("x-amz-date".to_string(), amz_date.clone()),
        ];
        if let Some(t) = self.token {
            added.push(("x-amz-security-token".to_string(), t.to_string()));
        }
        let mut signed: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.trim().to_string()))
            .chain(added.iter().cloned())
            .chain(std::iter::once(("host".to_string(), host)))
            .collect();
        signed.sort();
        let mut query: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| (uri_encode(&k), uri_encode(&v)))
            .collect();
        query.sort();
        let canonical_query = query
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        let canonical_headers: String = signed.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
        let signed_names = signed
            .iter()
            .map(|(k, _)| k.as_str())
            .collect::<Vec<_>>()
            .join(";");
        let canonical = format!(
            "{method}\n{}\n{canonical_query}\n{canonical_headers}\n{signed_names}\n{payload}",
            url.path()
        );
        let scope = format!("{date}/{}/s3/aws4_request", self.region);
        let to_sign = format!(
            "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
            hex(&Sha256::digest(canonical.as_bytes()))
        );
        let mut k = hmac(format!("AWS4{}", self.secret).as_bytes(), &date);
        for part in [self.region, "s3", "aws4_request"] {
            k = hmac(&k, part);
        }
        let signature = hex(&hmac(&k, &to_sign));
        added.push((
            "authorization".to_string(),
            format!(
                "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_names}, Signature={signature}",
                self.key
            ),
        ));
        added
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's documented example "GET Object" (Signature Version 4, header form).
    #[test]
    fn aws_get_object_example() {
        let s = Signer {
            key: "AKIAIOSFODNN7EXAMPLE",
            secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            token: None,
            region: "us-east-1",
        };
        let url =
            reqwest::Url::parse("https://examplebucket.s3.amazonaws.com/test.txt").expect("url");
        let when = chrono::DateTime::from_timestamp(1_369_353_600, 0).expect("time");
        let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let h = s.headers_for_payload(
            "GET",
            &url,
            &[("range".into(), "bytes=0-9".into())],
            when,
            empty,
        );
        let auth = &h
            .iter()
            .find(|(k, _)| k == "authorization")
            .expect("auth")
            .1;
        assert_eq!(
            auth,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        );
    }

    #[test]
    fn authorization_header_shape() {
        let s = Signer {
            key: "AKIAIOSFODNN7EXAMPLE",
            secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            token: None,
            region: "us-east-1",
        };
        let url = reqwest::Url::parse(
            "https://examplebucket.s3.amazonaws.com/test.txt?partNumber=1&uploadId=a%2Bb",
        )
        .expect("url");
        let when = chrono::DateTime::from_timestamp(1_369_353_600, 0).expect("time");
        let h = s.headers(
            "PUT",
            &url,
            &[("content-type".into(), "video/mp4".into())],
            when,
        );
        let auth = &h
            .iter()
            .find(|(k, _)| k == "authorization")
            .expect("auth")
            .1;
        assert!(auth.starts_with(
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date, Signature="
        ), "{auth}");
        assert!(!auth.contains("wJalr"));
        assert_eq!(uri_encode("a+b/c d"), "a%2Bb%2Fc%20d");
    }
}
