//! Unit tests of the client's pure parts: ids, URLs, backoff, the re-send rule, key handling.

use super::*;

#[test]
fn request_ids_are_unique_hex() {
    let a = new_client_request_id();
    let b = new_client_request_id();
    assert_ne!(a, b);
    assert!(a.chars().all(|c| c.is_ascii_hexdigit()), "{a}");
}

#[test]
fn urls_join_and_encode() {
    let c = ArkClient::new(ClientConfig::new("http://h/api/v3//", None)).unwrap();
    assert_eq!(
        c.tasks_url(None),
        "http://h/api/v3/contents/generations/tasks"
    );
    assert_eq!(
        c.tasks_url(Some("cgt-1/../x y")),
        "http://h/api/v3/contents/generations/tasks/cgt-1%2F..%2Fx%20y"
    );
    // Escapes in an id are data; dots alone never climb out of the tasks path.
    assert_eq!(
        c.tasks_url(Some("a%2Fb?c#d")),
        "http://h/api/v3/contents/generations/tasks/a%252Fb%3Fc%23d"
    );
    for dots in [".", ".."] {
        let url = c.tasks_url(Some(dots));
        assert!(
            url.starts_with("http://h/api/v3/contents/generations/tasks/%252E"),
            "{url}"
        );
    }
}

#[test]
fn backoff_is_capped_and_honours_retry_after() {
    let p = RetryPolicy {
        max_retries: 5,
        base_delay: Duration::from_millis(100),
        max_delay: Duration::from_secs(1),
    };
    for attempt in 0..30 {
        let d = p.delay(attempt, None);
        assert!(d <= Duration::from_secs(1));
        assert!(d <= Duration::from_millis(100 << attempt.min(10)));
    }
    assert_eq!(
        p.delay(0, Some(Duration::from_millis(300))),
        Duration::from_millis(300)
    );
    assert_eq!(
        p.delay(0, Some(Duration::from_secs(60))),
        Duration::from_secs(1)
    );
}

#[test]
fn a_create_is_sent_again_only_when_it_certainly_was_not_processed() {
    let refused = ApiError::Connection {
        message: "refused".into(),
        reached_server: false,
    };
    let cut = ApiError::Connection {
        message: "reset".into(),
        reached_server: true,
    };
    let limited = ApiError::RateLimited {
        code: String::new(),
        message: String::new(),
        retry_after: None,
        request_id: None,
    };
    let server = ApiError::Server {
        status: 500,
        code: String::new(),
        message: String::new(),
        request_id: None,
    };
    let timeout = ApiError::Timeout {
        after: Duration::from_secs(1),
        create: false,
    };
    assert!(may_send_again(Endpoint::Create, &refused));
    assert!(may_send_again(Endpoint::Create, &limited));
    for e in [&cut, &server, &timeout] {
        assert!(!may_send_again(Endpoint::Create, e), "{e:?}");
        assert!(may_send_again(Endpoint::Get, e), "{e:?}");
        assert!(may_send_again(Endpoint::Delete, e), "{e:?}");
    }
}

#[test]
fn a_key_with_a_line_break_is_refused_without_echoing_it() {
    let cfg = ClientConfig::new("http://h/api/v3", Some(ApiKey::new("sk-SECRET\nX")));
    let e = ArkClient::new(cfg).unwrap_err();
    assert!(!format!("{e} {e:?}").contains("SECRET"));
    let cfg = ClientConfig::new("http://h/api/v3", Some(ApiKey::new(" sk-ok\n")));
    assert!(
        ArkClient::new(cfg).is_ok(),
        "surrounding whitespace is trimmed"
    );
}

#[test]
fn debug_never_shows_the_key() {
    let cfg = ClientConfig::new(
        "http://h/api/v3",
        Some(ApiKey::new("sk-DEBUG-DISTINCTIVE-1234")),
    );
    let c = ArkClient::new(cfg).unwrap();
    let shown = format!("{c:?}");
    assert!(!shown.contains("DISTINCTIVE"), "{shown}");
    assert!(shown.contains("redacted") || shown.contains("Sensitive"));
}
