//! An object-storage server that is not what it should be, on loopback (`support::hostile`),
//! driving the real binary through `submit --upload-to`: a server echoing the session token in
//! its error code gets it printed nowhere; an error body trickled one byte at a time ends within
//! `[storage] timeout_secs` with one clear line; a location with `..` is refused before any
//! request (it would have named another bucket).

use crate::object_storage::mp4;
use crate::support::hostile::{HostileServer, Reply};
use crate::support::process::{bin_on, finish};
use crate::support::sim::SimProcess;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const KEY: &str = "sk-hostile-storage-key";
const KEY_ID: &str = "AKIAHOSTILESTORAGE01";
const SECRET: &str = "hostileSecretAccessKey0123456789abcdefgh";
const TOKEN: &str = "FwoGZXIvYXdzEBYaDHostileSessionToken0123456789";

/// `submit --video clip.mp4 --upload-to LOCATION` against `sim` for the API and `server` for
/// the bucket, with a session token, and `config`.
fn upload(
    dir: &Path,
    sim: &SimProcess,
    server: &HostileServer,
    location: &str,
    config: &str,
) -> Command {
    let clip = dir.join("clip.mp4");
    std::fs::write(&clip, mp4(5, 20_000)).expect("clip");
    let cfg = dir.join("config.toml");
    std::fs::write(&cfg, config).expect("config");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let mut c = bin_on(dir, &dir.join("s.sqlite3"), &sim.base, KEY);
    c.args(["--config", cfg.to_str().expect("utf8")])
        .args(["submit", "--prompt", "extend it", "--video"])
        .arg(&clip)
        .args(["--upload-to", location])
        .env("HOME", dir)
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL_S3")
        .env_remove("AWS_SHARED_CREDENTIALS_FILE")
        .env_remove("AWS_CONFIG_FILE")
        .env("AWS_ACCESS_KEY_ID", KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_SESSION_TOKEN", TOKEN)
        .env("AWS_ENDPOINT_URL", format!("http://{}", server.addr))
        .env("AWS_ALLOW_HTTP", "true")
        .env("AWS_REGION", "us-east-1");
    c
}

#[test]
fn a_server_echoing_the_session_token_gets_it_printed_nowhere() {
    let server = HostileServer::start(|req| match req.method.as_str() {
        "HEAD" => Reply::Json(404, String::new()),
        _ => {
            let echoed = req.header("x-amz-security-token").unwrap_or("none");
            Reply::Xml(
                400,
                format!(
                    "<Error><Code>{echoed}</Code><Message>token {echoed} key {KEY_ID}</Message></Error>"
                ),
            )
        }
    });
    let sim = SimProcess::builder().speed(1000.0).start();
    let dir = tempfile::tempdir().expect("tempdir");
    let cmd = upload(dir.path(), &sim, &server, "s3://videos/refs", "");
    let (code, out, err) = finish(cmd, Duration::from_secs(60));
    assert!(
        server
            .requests()
            .iter()
            .any(|r| r.header("x-amz-security-token") == Some(TOKEN)),
        "the token was sent to the server (so it could echo it)"
    );
    assert_eq!(code, 3, "{err}");
    for secret in [TOKEN, SECRET, KEY_ID] {
        assert!(!err.contains(secret), "{secret} printed: {err}");
        assert!(!out.contains(secret), "{secret} printed: {out}");
    }
    assert!(err.contains("redacted"), "{err}");
    assert_eq!(sim.stat("creates"), 0, "nothing was sent");
}

#[test]
fn an_error_body_trickled_forever_ends_within_the_storage_timeout() {
    let server = HostileServer::start(|req| match req.method.as_str() {
        "HEAD" => Reply::Json(404, String::new()),
        _ => Reply::TrickleError(500, Duration::from_millis(500)),
    });
    let sim = SimProcess::builder().speed(1000.0).start();
    let dir = tempfile::tempdir().expect("tempdir");
    let cmd = upload(
        dir.path(),
        &sim,
        &server,
        "s3://videos/refs",
        "[storage]\ntimeout_secs = 2\n",
    );
    // Without a deadline this never ends: the test's own deadline is the failure.
    let (code, _, err) = finish(cmd, Duration::from_secs(90));
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("did not finish answering within") && err.contains("timeout_secs"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert_eq!(sim.stat("creates"), 0, "nothing was sent");
}

#[test]
fn a_location_with_dot_dot_is_refused_before_any_request() {
    let server = HostileServer::start(|req| match req.method.as_str() {
        "HEAD" => Reply::Json(404, String::new()),
        _ => Reply::Xml(200, String::new()),
    });
    let sim = SimProcess::builder().speed(1000.0).start();
    for location in [
        "s3://videos/../other/",
        "s3://videos/a/../../other/x",
        "s3://videos//x",
        "s3://videos/./x",
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let cmd = upload(dir.path(), &sim, &server, location, "");
        let (code, _, err) = finish(cmd, Duration::from_secs(60));
        assert_eq!(code, 2, "{location}: {err}");
        assert!(
            err.contains("`..`, `.` or empty segment") || err.contains("empty path segment"),
            "{location}: {err}"
        );
    }
    assert!(server.requests().is_empty(), "{:#?}", server.requests());
    assert_eq!(sim.stat("creates"), 0);
}
