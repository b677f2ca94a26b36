//! A hostile server on loopback answers each case of issue 11, and both faces hold up: the
//! engine and API client in process, and the real binary's headless commands. Every command
//! ends (bounded waits, never sleeps as synchronisation) with exit 2 or 3 and a clear message,
//! prints no raw control or bidi character, and stays under 100 MB of memory.

use crate::support::hostile::*;
use crate::support::process::bin_on;
use seedance_tui::api::{ApiError, ApiKey, ArkClient, ClientConfig, RetryPolicy, Task};
use seedance_tui::engine::Engine;
use seedance_tui::engine::task_results::{SaveError, save_results};
use seedance_tui::file_download::{self, DownloadError, Limits};
use seedance_tui::store::{Phase, Store};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::Duration;

const KEY: &str = "sk-hostile-secret-8d1f";
const LIMIT: Duration = Duration::from_secs(60);
const MP4_HEAD: &[u8] = b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom";

/// A temp dir with a config (fast polls, small download windows) and a store path.
struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new(extra_config: &str) -> Env {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("config.toml"),
            format!("[poll]\ninterval_secs = 1\n{extra_config}"),
        )
        .expect("config");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            dir.path().join("config.toml"),
            std::fs::Permissions::from_mode(0o600),
        )
        .expect("chmod");
        Env { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn store(&self) -> PathBuf {
        self.path("store.sqlite3")
    }

    /// The binary against `server` with this env's store and config and the test key.
    fn cmd(&self, server: &HostileServer, args: &[&str]) -> std::process::Command {
        let mut c = bin_on(self.dir.path(), &self.store(), &server.base(), KEY);
        c.args(args)
            .arg("--config")
            .arg(self.path("config.toml"))
            .current_dir(self.dir.path());
        c
    }

    /// Run `args` to the end, checking what every hostile case must hold: bounded memory,
    /// no raw control character, and the key nowhere in the output.
    fn run(&self, server: &HostileServer, args: &[&str]) -> Ran {
        let ran = run_measured(&mut self.cmd(server, args), LIMIT);
        check_ran(args, &ran);
        ran
    }
}

fn check_ran(args: &[&str], ran: &Ran) {
    assert!(
        ran.max_rss_kib < MAX_RSS_KIB,
        "{args:?} used {} KiB",
        ran.max_rss_kib
    );
    assert!(
        !has_raw_controls(&ran.all_bytes()),
        "{args:?} printed a raw control character:\n{:?}\n{:?}",
        ran.out(),
        ran.err()
    );
    assert!(
        !ran.out().contains(KEY) && !ran.err().contains(KEY),
        "{args:?} printed the key"
    );
}

const ESC_CODE: &str = "X\u{1b}]0;pwned\u{7}";
const ESC_MESSAGE: &str =
    "\u{1b}[2J\u{9b}31m\u{202e}gnp.exe\u{0}\nINFO 12:00:00 all tasks succeeded";
const ESC_MODEL: &str = "m\u{1b}]52;c;cHduZWQ=\u{7}";

fn escaping_server() -> HostileServer {
    HostileServer::start(|req| match (req.method.as_str(), req.path.as_str()) {
        ("POST", p) if p.ends_with("/tasks") && req.body.contains("reject me") => {
            Reply::Json(400, error_json(ESC_CODE, ESC_MESSAGE))
        }
        ("POST", p) if p.ends_with("/tasks") => Reply::Json(200, r#"{"id":"cgt-esc"}"#.into()),
        ("GET", p) if p.ends_with("/tasks/cgt-esc") => Reply::Json(
            200,
            task_json(
                "cgt-esc",
                "failed",
                json!({"model": ESC_MODEL, "error": {"code": ESC_CODE, "message": ESC_MESSAGE}}),
            ),
        ),
        ("GET", p) if p.ends_with("/tasks/cgt-odd") => Reply::Json(
            200,
            task_json("cgt-odd", "queued\u{1b}[2J\u{202e}", json!({})),
        ),
        _ => Reply::Json(404, error_json("NotFound", "no such thing")),
    })
}

#[test]
fn server_strings_never_reach_the_terminal_raw() {
    let server = escaping_server();
    let env = Env::new("");
    let ran = env.run(&server, &["submit", "--prompt", "a cat"]);
    assert_eq!(ran.code, 0, "{}", ran.err());
    assert_eq!(ran.out().trim(), "cgt-esc");

    // `watch` follows it to its failure: one line per record, the escapes visible.
    let ran = env.run(&server, &["watch", "cgt-esc"]);
    assert_eq!(ran.code, 1, "a failed task: {}", ran.err());
    assert!(ran.out().contains("X\\x1b]0;pwned\\x07"), "{}", ran.out());
    for line in ran.out().lines() {
        assert!(
            line.as_bytes().get(2) == Some(&b':') && line.contains(" cgt-esc "),
            "every line is one record of ours, none faked: {line:?}"
        );
    }

    for args in [
        &["ls"][..],
        &["get", "cgt-esc"],
        &["watch", "cgt-esc"],
        &["submit", "--prompt", "a dog", "--wait"],
    ] {
        let ran = env.run(&server, args);
        assert!(
            !ran.out().contains("INFO 12:00:00") || ran.out().contains("\\nINFO 12:00:00"),
            "{args:?}: a fake log line: {}",
            ran.out()
        );
    }

    // JSON output stays JSON, with C1 and bidi characters escaped too.
    for args in [&["ls", "--jsonl"][..], &["get", "cgt-esc"]] {
        let ran = env.run(&server, args);
        assert_eq!(ran.code, 0, "{args:?}: {}", ran.err());
        let out = ran.out();
        assert!(out.contains("\\u009b") && out.contains("\\u202e"), "{out}");
        if args[0] == "ls" {
            for line in out.lines() {
                let v: Value = serde_json::from_str(line).expect("one JSON object per line");
                assert!(v.is_object());
            }
        } else {
            let v: Value = serde_json::from_str(&out).expect("valid JSON");
            assert_eq!(v["error"]["code"], ESC_CODE, "the value itself is kept");
        }
    }

    // An API error's code and message are escaped in the error line.
    let ran = env.run(&server, &["submit", "--prompt", "reject me"]);
    assert_eq!(ran.code, 2, "{}", ran.err());
    assert!(ran.err().contains("X\\x1b]0;pwned"), "{}", ran.err());

    // An unknown status is shown with its raw value, escaped.
    let ran = Env::new("").run(&server, &["get", "cgt-odd"]);
    assert_eq!(ran.code, 0, "{}", ran.err());
    assert!(
        ran.out().contains("queued\\u001b[2J\\u202e"),
        "{}",
        ran.out()
    );
}

#[test]
fn ids_that_are_not_ids_are_refused_on_the_command_line() {
    let server = HostileServer::start(|_| Reply::Json(200, "{}".into()));
    let env = Env::new("");
    let long = "x".repeat(5000);
    for args in [
        &["cancel", ".."][..],
        &["get", "."],
        &["get", "a/b"],
        &["get", "id?x=1"],
        &["cancel", "a#b"],
        &["watch", ".."],
        &["download", "a b"],
        &["get", "cgt\u{1b}[2J"],
        &["get", long.as_str()],
    ] {
        let ran = env.run(&server, args);
        assert_eq!(ran.code, 2, "{args:?}: {}", ran.err());
        assert!(
            ran.err().contains("is not a task id"),
            "{args:?}: {}",
            ran.err()
        );
        assert!(ran.err().trim().lines().count() <= 2, "{}", ran.err());
    }
    assert!(
        server.requests().is_empty(),
        "nothing was sent: {:#?}",
        server.requests()
    );
}

#[test]
fn a_create_answer_whose_id_is_not_an_id_is_outcome_unknown() {
    let long = "y".repeat(5000);
    for bad in ["..", "../../etc/passwd", "", "a b", long.as_str()] {
        let answer = json!({ "id": bad }).to_string();
        let server = HostileServer::start(move |_| Reply::Json(200, answer.clone()));
        let env = Env::new("");
        let ran = env.run(&server, &["submit", "--prompt", "a cat"]);
        assert_eq!(ran.code, 3, "{bad:?}: {}", ran.err());
        assert!(ran.err().contains("not a task id"), "{}", ran.err());
        assert!(ran.err().contains("submit_unknown"), "{}", ran.err());
        let store = Store::open(&env.store()).expect("store");
        let rows = store.list(&Default::default()).expect("rows");
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].phase, Phase::SubmitUnknown);
        assert_eq!(rows[0].task_id, None, "the bad id is not stored");
        assert_eq!(server.count("POST", "/api/v3"), 1, "sent once");
    }
}

#[test]
fn the_same_id_for_two_creates_never_hangs() {
    let server = HostileServer::start(|req| match req.method.as_str() {
        "POST" => Reply::Json(200, r#"{"id":"cgt-dup"}"#.into()),
        _ => Reply::Json(200, task_json("cgt-dup", "running", json!({}))),
    });
    let env = Env::new("");
    let first = env.run(&server, &["submit", "--prompt", "one"]);
    assert_eq!(first.code, 0, "{}", first.err());
    let second = env.run(&server, &["submit", "--prompt", "two"]);
    assert_eq!(second.code, 3, "{}", second.err());
    assert!(
        second.took < Duration::from_secs(20),
        "took {:?}",
        second.took
    );
    assert!(second.err().contains("already has"), "{}", second.err());
    let store = Store::open(&env.store()).expect("store");
    let rows = store.list(&Default::default()).expect("rows");
    let second_row = rows.iter().find(|r| r.prompt == "two").expect("row");
    assert_eq!(second_row.phase, Phase::SubmitUnknown);
    assert!(
        second_row
            .error_message
            .as_deref()
            .is_some_and(|m| m.contains("cgt-dup")),
        "{second_row:?}"
    );
    let first_row = rows.iter().find(|r| r.prompt == "one").expect("row");
    assert_eq!(first_row.task_id.as_deref(), Some("cgt-dup"));
}

fn client(base: String, timeout: Duration) -> ArkClient {
    let mut cfg = ClientConfig::new(base, Some(ApiKey::new(KEY)));
    cfg.timeout = timeout;
    cfg.retry = RetryPolicy {
        max_retries: 2,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
    };
    ArkClient::new(cfg).expect("client")
}

fn engine(server: &HostileServer, store: &Path) -> Engine {
    Engine::new(
        client(server.base(), Duration::from_secs(10)),
        Store::open(store).expect("store"),
        "test",
    )
}

const REQUEST: &str =
    r#"{"model":"doubao-seedance-2-0-fast-260128","content":[{"type":"text","text":"a cat"}]}"#;

#[test]
fn bad_optional_fields_are_dropped_with_a_note_required_ones_are_strict() {
    let cases = [
        json!({"usage": {"total_tokens": -1}}),
        json!({"usage": {"total_tokens": 1e300}}),
        json!({"usage": {"total_tokens": "many"}, "created_at": 1e20}),
        json!({"usage": "all of it", "seed": "x", "duration": [1]}),
        // No task bills this: once stored it showed as 9223372036854775807.
        json!({"usage": {"total_tokens": u64::MAX}}),
    ];
    for extra in cases {
        let mut merged = json!({"content": {"video_url": "https://x/v.mp4"}});
        if let (Some(m), Value::Object(e)) = (merged.as_object_mut(), extra.clone()) {
            m.extend(e);
        }
        let text = task_json("cgt-1", "succeeded", merged);
        let (task, notes) = Task::from_json_noted(&text).expect("a finished task is read");
        assert_eq!(
            task.status,
            seedance_tui::api::TaskStatus::Succeeded,
            "{extra}"
        );
        assert_eq!(task.video_url(), Some("https://x/v.mp4"));
        assert!(!notes.is_empty(), "{extra}: a note names the dropped field");
        assert!(
            task.tokens()
                .is_none_or(|t| t <= seedance_tui::api::types::MAX_TOKENS),
            "{extra}: {:?}",
            task.tokens()
        );
    }
    // Required fields stay strict.
    for bad in [
        json!({"id": 5, "status": "queued"}),
        json!({"id": "cgt-1", "status": 3}),
        json!({"id": "cgt-1", "status": "succeeded", "content": {"video_url": 7}}),
    ] {
        assert!(Task::from_json_noted(&bad.to_string()).is_err(), "{bad}");
    }
    // null (or no) status is the unknown status `null`, shown as such.
    let (t, _) = Task::from_json_noted(r#"{"id":"a","status":null}"#).expect("reads");
    assert_eq!(t.status.as_str(), "null");
}

#[test]
fn a_finished_task_with_bad_optional_fields_is_seen_and_saved() {
    let server = HostileServer::start(|req| match (req.method.as_str(), req.path.as_str()) {
        ("POST", _) => Reply::Json(200, r#"{"id":"cgt-ok"}"#.into()),
        ("GET", p) if p.starts_with("/files/") => Reply::Bytes(MP4_HEAD.to_vec()),
        ("GET", _) => Reply::Json(
            200,
            task_json(
                "cgt-ok",
                "succeeded",
                json!({
                    "usage": {"total_tokens": -1, "completion_tokens": 1e300},
                    "created_at": 1e20,
                    "content": {"video_url": format!("http://{}/files/v.mp4", req.header("host").unwrap_or_default())},
                }),
            ),
        ),
        _ => Reply::Json(404, "{}".into()),
    });
    let env = Env::new("");
    let out = env.path("out");
    let ran = env.run(
        &server,
        &[
            "submit",
            "--prompt",
            "a cat",
            "--wait",
            "--out",
            out.to_str().expect("utf8"),
        ],
    );
    assert_eq!(ran.code, 0, "{}", ran.err());
    assert!(ran.err().contains("saved"), "{}", ran.err());
    let store = Store::open(&env.store()).expect("store");
    let rec = store.find("cgt-ok").expect("stored");
    assert!(rec.video_path.is_some(), "{rec:?}");
    let history = store.history(&rec.local_id).expect("history");
    assert!(
        history.iter().any(|h| h
            .note
            .as_deref()
            .is_some_and(|n| n.contains("usage.total_tokens"))),
        "{history:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_for_another_task_is_refused_not_stored() {
    let server = HostileServer::start(|req| match req.method.as_str() {
        "POST" => Reply::Json(200, r#"{"id":"cgt-asked"}"#.into()),
        _ => Reply::Json(200, task_json("cgt-other", "succeeded", json!({}))),
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = engine(&server, &dir.path().join("s.sqlite3"));
    let rec = engine.submit(REQUEST.into(), None).await.expect("accepted");
    let err = engine.poll(&rec).await.expect_err("refused");
    assert!(
        matches!(
            err,
            seedance_tui::engine::PollError::Api(ApiError::Protocol { .. })
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("cgt-other"), "{err}");
    let after = engine.find("cgt-asked").await.expect("row");
    assert_eq!(
        after.phase, rec.phase,
        "nothing recorded from the wrong answer"
    );
    assert_eq!(after.response_json, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_echoed_back_is_redacted_before_it_is_stored_or_printed() {
    let server = HostileServer::start(|req| match req.method.as_str() {
        "POST" => Reply::Json(200, r#"{"id":"cgt-echo"}"#.into()),
        _ => Reply::Json(
            200,
            task_json(
                "cgt-echo",
                "failed",
                json!({
                    "model": KEY,
                    "error": {"code": "AuthEcho", "message": format!("the key {KEY} is wrong")},
                    KEY: "as a key too",
                }),
            ),
        ),
    });
    let env = Env::new("");
    let engine = engine(&server, &env.store());
    let rec = engine.submit(REQUEST.into(), None).await.expect("accepted");
    let (polled, _) = engine.poll(&rec).await.expect("polled");
    let message = polled.error_message.clone().unwrap_or_default();
    assert!(
        message.contains("<redacted>") && !message.contains(KEY),
        "{message}"
    );
    let raw = polled.response_json.clone().unwrap_or_default();
    assert!(!raw.contains(KEY) && raw.contains("<redacted>"), "{raw}");
    drop(engine);
    // Nothing in the store's files, nothing printed.
    for name in ["store.sqlite3", "store.sqlite3-wal"] {
        if let Ok(bytes) = std::fs::read(env.path(name)) {
            assert!(
                !bytes.windows(KEY.len()).any(|w| w == KEY.as_bytes()),
                "the key is in {name}"
            );
        }
    }
    let s2 = server;
    let ran = tokio::task::spawn_blocking(move || {
        let r = env.run(&s2, &["get", "cgt-echo"]);
        (r, env)
    })
    .await
    .expect("join")
    .0;
    assert_eq!(ran.code, 0, "{}", ran.err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_get_that_never_answers_fails_once_within_the_timeout() {
    let server = HostileServer::start(|_| Reply::Silent);
    let c = client(server.base(), Duration::from_millis(400));
    let started = std::time::Instant::now();
    let err = c.get("cgt-silent").await.expect_err("times out");
    assert!(matches!(err, ApiError::Timeout { .. }), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(server.count("GET", "/api/v3"), 1, "asked once");
    let hint = err.hint();
    assert!(!hint.contains("create"), "a read's hint: {hint}");
    // A trickling answer is cut by the same timeout.
    let server = HostileServer::start(|_| Reply::Trickle(Duration::from_millis(50)));
    let c = client(server.base(), Duration::from_millis(400));
    let started = std::time::Instant::now();
    let err = c.get("cgt-trickle").await.expect_err("times out");
    assert!(
        matches!(err, ApiError::Timeout { .. } | ApiError::NotTheApi { .. }),
        "{err:?}"
    );
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
}

fn small_limits() -> Limits {
    Limits {
        max_bytes: 1024 * 1024,
        stall: Duration::from_millis(300),
        min_bytes_per_sec: 1000,
        slow_window: Duration::from_millis(600),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_body_stops_at_the_cap_and_leaves_no_part_file() {
    let server = HostileServer::start(|_| Reply::Endless);
    let dir = tempfile::tempdir().expect("tempdir");
    let dest = dir.path().join("v.mp4");
    let err = file_download::download_with(
        &file_download::http_client(),
        &server.url("/files/v.mp4"),
        &dest,
        &small_limits(),
        |_, _| {},
    )
    .await
    .expect_err("refused past the cap");
    assert!(matches!(err, DownloadError::TooLarge { .. }), "{err:?}");
    assert!(err.to_string().contains("max_bytes"), "{err}");
    assert!(
        !file_download::part_path(&dest).exists(),
        "the .part is removed"
    );
    assert!(!dest.exists());
}

/// An engine whose store has one succeeded task whose video is at `/files/v.mp4`.
async fn succeeded(
    server: &HostileServer,
    store: &Path,
) -> (Engine, seedance_tui::store::TaskRecord) {
    let mut engine = engine(server, store);
    engine.download_limits = small_limits();
    let rec = engine.submit(REQUEST.into(), None).await.expect("accepted");
    let (rec, _) = engine.poll(&rec).await.expect("polled");
    assert!(rec.video_url.is_some(), "{rec:?}");
    (engine, rec)
}

fn file_server(file: Reply) -> HostileServer {
    HostileServer::start(move |req| match (req.method.as_str(), req.path.as_str()) {
        ("POST", _) => Reply::Json(200, r#"{"id":"cgt-file"}"#.into()),
        ("GET", p) if p.starts_with("/files/") => file.clone(),
        _ => Reply::Json(
            200,
            task_json(
                "cgt-file",
                "succeeded",
                json!({"content": {"video_url": format!("http://{}/files/v.mp4", req.header("host").unwrap_or_default())}}),
            ),
        ),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_body_is_cut_resumed_with_range_then_fails_clearly() {
    let server = file_server(Reply::StallAfter {
        total: 100_000,
        bytes: 100,
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let (engine, rec) = succeeded(&server, &dir.path().join("s.sqlite3")).await;
    let err = save_results(&engine, &rec, dir.path(), "{id}.mp4")
        .await
        .expect_err("fails");
    assert!(
        matches!(err, SaveError::Download(DownloadError::Stalled { .. })),
        "{err:?}"
    );
    assert!(err.to_string().contains("stalled"), "{err}");
    let files: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/files/"))
        .collect();
    assert!(files.len() >= 2, "retried: {files:#?}");
    assert_eq!(files[0].header("range"), None);
    let starts: Vec<u64> = files[1..]
        .iter()
        .filter_map(|r| {
            r.header("range")?
                .strip_prefix("bytes=")?
                .trim_end_matches('-')
                .parse()
                .ok()
        })
        .collect();
    assert_eq!(
        starts.len(),
        files.len() - 1,
        "every retry resumes with Range: {files:#?}"
    );
    assert_eq!(starts[0], 100, "from what the first attempt kept");
    assert!(starts.windows(2).all(|w| w[1] > w[0]), "{starts:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_slower_than_the_floor_is_cut_and_fails_clearly() {
    let server = file_server(Reply::Trickle(Duration::from_millis(20)));
    let dir = tempfile::tempdir().expect("tempdir");
    let (engine, rec) = succeeded(&server, &dir.path().join("s.sqlite3")).await;
    let err = save_results(&engine, &rec, dir.path(), "{id}.mp4")
        .await
        .expect_err("fails");
    assert!(
        matches!(err, SaveError::Download(DownloadError::TooSlow { .. })),
        "{err:?}"
    );
    assert!(err.to_string().contains("too slow"), "{err}");
    let files = server.count("GET", "/files/");
    assert!(files >= 2, "retried ({files})");
    assert!(
        server
            .requests()
            .iter()
            .filter(|r| r.path.starts_with("/files/"))
            .skip(1)
            .all(|r| r.header("range").is_some()),
        "resumed with Range"
    );
}

#[test]
fn the_download_command_stops_an_endless_body_at_the_configured_cap() {
    let server = file_server(Reply::Endless);
    let env = Env::new("[download]\nmax_bytes = 2000000\n");
    let ran = env.run(&server, &["submit", "--prompt", "a cat"]);
    assert_eq!(ran.code, 0, "{}", ran.err());
    let ran = env.run(&server, &["watch", "cgt-file"]);
    assert_eq!(ran.code, 0, "{}", ran.err());
    let out = env.path("out");
    let ran = env.run(
        &server,
        &["download", "cgt-file", "--out", out.to_str().expect("utf8")],
    );
    assert_eq!(ran.code, 3, "{}", ran.err());
    assert!(ran.err().contains("larger than the limit"), "{}", ran.err());
    let left: Vec<_> = std::fs::read_dir(&out)
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "nothing left behind: {left:?}");
}

#[test]
fn watching_a_task_whose_answers_are_for_another_task_ends_with_an_error() {
    let server = HostileServer::start(|req| match req.method.as_str() {
        "POST" => Reply::Json(200, r#"{"id":"cgt-w"}"#.into()),
        _ => Reply::Json(200, task_json("cgt-other", "succeeded", json!({}))),
    });
    let env = Env::new("");
    let ran = env.run(&server, &["submit", "--prompt", "a cat"]);
    assert_eq!(ran.code, 0, "{}", ran.err());
    let ran = env.run(&server, &["watch", "cgt-w"]);
    assert_eq!(ran.code, 3, "{}", ran.err());
    assert!(
        ran.err().contains("the answer is for task `cgt-other`"),
        "{}",
        ran.err()
    );
    let store = Store::open(&env.store()).expect("store");
    assert_eq!(store.find("cgt-w").expect("row").response_json, None);
}

#[test]
fn unknown_statuses_are_shown_raw_and_polled_with_backoff() {
    let server = HostileServer::start(|req| match req.method.as_str() {
        "POST" => Reply::Json(200, r#"{"id":"cgt-u"}"#.into()),
        _ => Reply::Json(200, task_json("cgt-u", "SUCCEEDED", json!({}))),
    });
    let env = Env::new("");
    let ran = env.run(&server, &["submit", "--prompt", "a cat"]);
    assert_eq!(ran.code, 0, "{}", ran.err());
    let mut child = env
        .cmd(&server, &["watch", "cgt-u"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("watch runs");
    let polls = |rs: &[Request]| {
        rs.iter()
            .filter(|r| r.method == "GET" && r.path.ends_with("/cgt-u"))
            .map(|r| r.at)
            .collect::<Vec<_>>()
    };
    server.wait_requests("three polls", Duration::from_secs(45), |rs| {
        polls(rs).len() >= 3
    });
    let _ = child.kill();
    let out = child.wait_with_output().expect("output");
    let at = polls(&server.requests());
    // The poll interval is 1 s: at full rate the polls would be 1 s apart.
    let gap = at[2] - at[1];
    assert!(gap >= Duration::from_millis(3500), "backed off: {gap:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("cgt-u SUCCEEDED"),
        "the raw status is shown: {stdout}"
    );
}
