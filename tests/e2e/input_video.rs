//! A reference video's seconds in `submit`'s estimate, driving the real binary: the video's
//! first bytes are read with a ranged GET from a loopback server (`assets/sim/sample.mp4`, 4 s);
//! a video whose header cannot be read is named as left out, in `--dry-run` and in the spending
//! cap's refusal, and the cap counts the input seconds.

use crate::support::hostile::{HostileServer, Reply};
use crate::support::process::{bin, bin_on, run};
use std::path::Path;

const SAMPLE: &[u8] = include_bytes!("../../assets/sim/sample.mp4");
const KEY: &str = "sk-input-video-test-72d0";

/// `/ref.mp4` is the 4 s sample; anything else is bytes with no mp4 header.
fn video_server() -> HostileServer {
    HostileServer::start(|r| {
        if r.path.starts_with("/ref.mp4") {
            Reply::Bytes(SAMPLE.to_vec())
        } else {
            Reply::Bytes(vec![0x5a; 40_000])
        }
    })
}

fn submit_args(video: &str) -> Vec<String> {
    [
        "submit",
        "--prompt",
        "a cat walks like the reference",
        "--model",
        "doubao-seedance-2-0-260128",
        "--resolution",
        "720p",
        "--ratio",
        "16:9",
        "--duration",
        "5",
        "--video",
        video,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

#[test]
fn dry_run_counts_the_input_video_read_by_a_ranged_get() {
    let server = video_server();
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, stdout, stderr) = run(bin(dir.path())
        .args(submit_args(&server.url("/ref.mp4?X-Tos-Signature=s3cr3t")))
        .args(["--demo", "--dry-run"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("ref.mp4"), "{stdout}");
    // 5 s out (108,900) + 4 s in (86,400) at 720p 16:9.
    assert!(
        stderr.contains("estimate: about 195300 tokens, 4.0 s of input video included"),
        "{stderr}"
    );
    assert!(!stderr.contains("excludes"), "{stderr}");
    let gets = server.requests();
    assert!(
        gets.iter().any(|r| r.path.starts_with("/ref.mp4")
            && r.header("range").is_some_and(|v| v.starts_with("bytes=0-"))),
        "a ranged GET: {gets:?}"
    );
    assert!(gets.iter().all(|r| r.header("authorization").is_none()));
}

#[test]
fn dry_run_says_when_the_estimate_excludes_the_input_video() {
    let server = video_server();
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, _, stderr) = run(bin(dir.path())
        .args(submit_args(&server.url("/junk.mp4?X-Tos-Signature=s3cr3t")))
        .args(["--demo", "--dry-run"]));
    assert_eq!(code, 0, "{stderr}");
    let want = format!(
        "estimate excludes the input video {}",
        server.url("/junk.mp4")
    );
    assert!(stderr.contains(&want), "{stderr}");
    assert!(!stderr.contains("s3cr3t"), "no signature shown: {stderr}");
    // The minimum for a video input: the output's tokens x 1.643.
    assert!(stderr.contains("estimate: about 178923 tokens"), "{stderr}");
}

fn capped(dir: &Path, tokens: u64) -> String {
    let path = dir.join("cap.toml");
    std::fs::write(&path, format!("[budget]\ndaily_tokens = {tokens}\n")).expect("config");
    path.to_str().expect("utf8").to_string()
}

#[test]
fn the_cap_counts_the_input_seconds_and_names_what_it_left_out() {
    let server = video_server();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("s.sqlite3");
    let store = store.to_str().expect("utf8");
    // Room for the minimum (178,923) but not for 5 s out + 4 s in (195,300).
    let config = capped(dir.path(), 190_000);
    let (code, _, stderr) = run(bin_on(dir.path(), Path::new(store), &server.base(), KEY)
        .args(submit_args(&server.url("/ref.mp4")))
        .args(["--config", &config]));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("0 tokens today + 195300 for this = 195300 > the cap of 190000"),
        "{stderr}"
    );
    // Below the minimum, a video whose seconds are unknown: refused, and the message says so.
    let config = capped(dir.path(), 150_000);
    let (code, _, stderr) = run(bin_on(dir.path(), Path::new(store), &server.base(), KEY)
        .args(submit_args(&server.url("/junk.mp4")))
        .args(["--config", &config]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("178923 for this"), "{stderr}");
    assert!(
        stderr.contains("estimate excludes the input video"),
        "{stderr}"
    );
    assert_eq!(
        server.count("POST", "/api/v3"),
        0,
        "nothing was sent: {:?}",
        server.requests()
    );
}
