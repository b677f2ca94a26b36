//! Results into a bucket and local references through it, against a real S3-compatible server
//! on loopback (moto) and the simulator, driving the real binary: results land in the bucket
//! byte-identical and are never uploaded twice; a cut mid-upload leaves no object and a retry
//! completes it; storage faults are one clear line with exit 3 and leave the result unsaved; a
//! local video goes up once and the simulator fetches its presigned link.

use crate::support::moto::{self as moto_server, Moto};
use crate::support::process::{self, arm_fault};
use crate::support::sim::SimProcess;
use std::process::Command;

const KEY: &str = "sk-object-storage-test";

/// A store, config and home folder for one test.
struct Env {
    dir: tempfile::TempDir,
    base: String,
}

impl Env {
    fn new(sim: &SimProcess) -> Env {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("config.toml"),
            "[poll]\ninterval_secs = 1\n[download]\ntemplate = \"{id}_{prompt_slug}.mp4\"\n",
        )
        .expect("config");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            dir.path().join("config.toml"),
            std::fs::Permissions::from_mode(0o600),
        )
        .expect("chmod");
        Env {
            dir,
            base: sim.base.clone(),
        }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    /// The binary on this env's store and config, against the simulator, with `moto`'s AWS
    /// variables when given.
    fn cli(&self, args: &[&str], moto: Option<&Moto>) -> (i32, String, String) {
        let store = self.dir.path().join("s.sqlite3");
        let mut cmd = process::bin_on(self.dir.path(), &store, &self.base, KEY);
        cmd.args(args).args(["--config", &self.path("config.toml")]);
        if let Some(m) = moto {
            m.env(&mut cmd, self.dir.path());
        }
        process::run(&mut cmd)
    }

    fn record(&self, id: &str) -> serde_json::Value {
        let (code, out, err) = self.cli(&["get", id], None);
        assert_eq!(code, 0, "{err}");
        serde_json::from_str(&out).expect("task JSON")
    }

    /// Submit `prompt` and wait until it settles (nothing saved).
    fn finished_task(&self, prompt: &str) -> String {
        let (code, out, err) = self.cli(&["submit", "--prompt", prompt], None);
        assert_eq!(code, 0, "{err}");
        let id = out.trim().to_string();
        let (code, _, err) = self.cli(&["watch", &id], None);
        assert_eq!(code, 0, "{err}");
        id
    }
}

fn curl_bytes(url: &str) -> Vec<u8> {
    let out = Command::new("curl")
        .args(["-sf", url])
        .output()
        .expect("curl runs");
    assert!(out.status.success(), "curl {url}");
    out.stdout
}

#[test]
fn results_go_into_the_bucket_byte_identical_and_a_rerun_uploads_nothing() {
    let Some(moto) = Moto::start(false) else {
        return;
    };
    moto.create_bucket("videos");
    let sim = SimProcess::builder().speed(2000.0).start();
    let env = Env::new(&sim);
    let (code, out, err) = env.cli(
        &[
            "submit",
            "--prompt",
            "apple tea",
            "--last-frame",
            "--wait",
            "--out",
            "s3://videos/demo",
        ],
        Some(&moto),
    );
    assert_eq!(code, 0, "{err}");
    let id = out.trim().to_string();
    let objects = moto.list("videos", "demo/");
    assert_eq!(objects.len(), 2, "{objects:?}");
    let video_key = format!("demo/{id}_apple-tea.mp4");
    let frame_key = format!("demo/{id}_apple-tea.last.png");
    assert!(objects.iter().any(|(k, _)| *k == video_key), "{objects:?}");
    assert!(objects.iter().any(|(k, _)| *k == frame_key), "{objects:?}");
    assert!(
        err.contains(&format!("saved s3://videos/{video_key}")),
        "{err}"
    );

    // Byte-identical to what the service serves.
    let rec = env.record(&id);
    assert_eq!(rec["video_path"], format!("s3://videos/{video_key}"));
    assert_eq!(rec["last_frame_path"], format!("s3://videos/{frame_key}"));
    let served = curl_bytes(rec["video_url"].as_str().expect("video url"));
    assert!(!served.is_empty());
    assert_eq!(moto.get("videos", &video_key), served);
    let frame = curl_bytes(rec["last_frame_url"].as_str().expect("frame url"));
    assert_eq!(moto.get("videos", &frame_key), frame);
    let info = moto_server::block_on(moto.client("videos").head(&video_key))
        .expect("head")
        .expect("object");
    assert_eq!(
        info.task_id.as_deref(),
        Some(id.as_str()),
        "metadata names the task"
    );
    assert_eq!(
        info.model.as_deref(),
        rec["model"].as_str(),
        "and the model"
    );
    assert_eq!(info.content_type.as_deref(), Some("video/mp4"));

    // A rerun finds them saved: no second object, nothing fetched.
    let fetched = sim.stat("downloads");
    let (code, out, err) = env.cli(&["download", &id, "--out", "s3://videos/demo"], Some(&moto));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&format!("s3://videos/{video_key}")), "{out}");
    assert_eq!(moto.list("videos", "demo/"), objects);
    assert_eq!(sim.stat("downloads"), fetched, "nothing fetched again");
}

#[test]
fn an_object_written_before_a_crash_is_recorded_not_uploaded_again() {
    let Some(moto) = Moto::start(false) else {
        return;
    };
    moto.create_bucket("videos");
    let sim = SimProcess::builder().speed(2000.0).start();
    let env = Env::new(&sim);
    let id = env.finished_task("crash test");
    let (code, _, err) = env.cli(&["download", &id, "--out", "s3://videos/c"], Some(&moto));
    assert_eq!(code, 0, "{err}");
    let objects = moto.list("videos", "c/");
    // Forget the recorded locations, as if the process had died before recording them.
    let db = rusqlite::Connection::open(env.path("s.sqlite3")).expect("store");
    db.execute(
        "UPDATE tasks SET video_path = NULL, last_frame_path = NULL",
        [],
    )
    .expect("update");
    drop(db);
    let fetched = sim.stat("downloads");
    let (code, out, err) = env.cli(&["download", &id, "--out", "s3://videos/c"], Some(&moto));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        moto.list("videos", "c/"),
        objects,
        "no second object: {out}"
    );
    assert_eq!(sim.stat("downloads"), fetched);
    assert!(
        env.record(&id)["video_path"]
            .as_str()
            .is_some_and(|p| p.starts_with("s3://videos/c/")),
        "recorded again"
    );
}

#[test]
fn a_cut_mid_upload_leaves_no_object_and_a_retry_completes_it() {
    let Some(moto) = Moto::start(false) else {
        return;
    };
    moto.create_bucket("videos");
    // Larger than one part: a multipart upload, cut in its second part.
    let size: u64 = 12_000_000;
    let sim = SimProcess::builder().speed(2000.0).video_size(size).start();
    let env = Env::new(&sim);
    let id = env.finished_task("cut me");
    arm_fault(
        &sim,
        r#"{"route":"download","kind":{"cut_after":9000000},"times":4}"#,
    );
    let (code, _, err) = env.cli(&["download", &id, "--out", "s3://videos/cut"], Some(&moto));
    assert_eq!(code, 3, "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(err.contains("interrupted"), "{err}");
    assert!(moto.list("videos", "cut/").is_empty(), "no partial object");
    assert!(env.record(&id)["video_path"].is_null(), "still unsaved");

    let (code, _, err) = env.cli(&["download", &id, "--out", "s3://videos/cut"], Some(&moto));
    assert_eq!(code, 0, "{err}");
    let objects = moto.list("videos", "cut/");
    let video = objects
        .iter()
        .find(|(k, _)| k.ends_with(".mp4"))
        .expect("the video");
    assert_eq!(video.1, size);
    let rec = env.record(&id);
    let served = curl_bytes(rec["video_url"].as_str().expect("url"));
    assert_eq!(moto.get("videos", &video.0), served);
}

#[test]
fn storage_faults_are_one_clear_line_with_exit_3_and_leave_the_result_unsaved() {
    let Some(moto) = Moto::start(false) else {
        return;
    };
    let Some(strict) = Moto::start(true) else {
        return;
    };
    let sim = SimProcess::builder().speed(2000.0).start();
    let env = Env::new(&sim);
    let id = env.finished_task("faults");
    let check = |args: &[&str], moto: &Moto, wants: &str| {
        let (code, _, err) = env.cli(args, Some(moto));
        assert_eq!(code, 3, "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
        assert!(err.contains(wants), "{args:?}: {err}");
        assert!(!err.contains(moto_server::SECRET), "{err}");
        assert!(env.record(&id)["video_path"].is_null(), "still unsaved");
    };
    check(
        &["download", &id, "--out", "s3://missing-bucket/x"],
        &moto,
        "does not exist",
    );
    check(
        &["download", &id, "--out", "s3://videos/x"],
        &strict,
        "refused the credentials",
    );
    // A wrong endpoint: nothing listens there, or it is not an S3 service.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let store = env.dir.path().join("s.sqlite3");
    let mut cmd = process::bin_on(env.dir.path(), &store, &env.base, KEY);
    cmd.args(["download", &id, "--out", "s3://videos/x"])
        .args(["--config", &env.path("config.toml")]);
    moto.env(&mut cmd, env.dir.path());
    cmd.env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{closed}"));
    let (code, _, err) = process::run(&mut cmd);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("cannot reach the object storage"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    cmd.env("AWS_ENDPOINT_URL", env.base.replace("/api/v3", ""));
    let (code, _, err) = process::run(&mut cmd);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("does not answer like an S3 service"), "{err}");
    assert!(env.record(&id)["video_path"].is_null(), "still unsaved");
}

/// A minimal MP4 of `seconds` (ftyp, an `mdat` of `mdat_bytes` pattern bytes, a `moov`/`mvhd`
/// with the duration): enough for the pre-upload checks (content sniffing, 2..15 s).
pub(crate) fn mp4(seconds: u32, mdat_bytes: u32) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend(16u32.to_be_bytes());
    b.extend(b"ftypisom\0\0\0\x01");
    b.extend((8 + mdat_bytes).to_be_bytes());
    b.extend(b"mdat");
    b.extend((0..mdat_bytes).map(|i| (i % 251) as u8));
    let mut mvhd = vec![0u8; 20];
    mvhd[12..16].copy_from_slice(&1000u32.to_be_bytes());
    mvhd[16..20].copy_from_slice(&(seconds * 1000).to_be_bytes());
    mvhd.resize(100, 0);
    b.extend((16 + mvhd.len() as u32).to_be_bytes());
    b.extend(b"moov");
    b.extend((8 + mvhd.len() as u32).to_be_bytes());
    b.extend(b"mvhd");
    b.extend(mvhd);
    b
}

#[test]
fn a_local_video_goes_up_once_and_the_simulator_fetches_its_presigned_link() {
    let sim = SimProcess::builder().speed(2000.0).start();
    let env = Env::new(&sim);
    let clip = env.dir.path().join("clip.mp4");
    let bytes = mp4(5, 300_000);
    std::fs::write(&clip, &bytes).expect("clip");
    let clip_s = clip.display().to_string();

    // Without a bucket: refused before anything is sent, naming --upload-to.
    let (code, _, err) = env.cli(
        &["submit", "--prompt", "extend it", "--video", &clip_s],
        None,
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--upload-to"), "{err}");
    assert_eq!(sim.stat("creates"), 0);

    let Some(moto) = Moto::start(false) else {
        return;
    };
    moto.create_bucket("videos");
    let args = |extra: &[&'static str]| -> Vec<String> {
        let mut v: Vec<String> = ["submit", "--prompt", "extend it", "--video"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        v.push(clip_s.clone());
        v.extend(
            ["--upload-to", "s3://videos/refs"]
                .iter()
                .map(|s| s.to_string()),
        );
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let run = |extra: &[&'static str]| {
        let a = args(extra);
        let refs: Vec<&str> = a.iter().map(String::as_str).collect();
        env.cli(&refs, Some(&moto))
    };

    // --dry-run shows the upload and does none.
    let (code, out, err) = run(&["--dry-run"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("would upload") && err.contains("s3://videos/refs/"),
        "{err}"
    );
    assert!(
        out.contains("X-Amz-Signature"),
        "the request carries a presigned link: {out}"
    );
    assert!(moto.list("videos", "refs/").is_empty());

    let (code, out, err) = run(&["--wait", "--out", "s3://videos/out"]);
    assert_eq!(code, 0, "{err}");
    let objects = moto.list("videos", "refs/");
    assert_eq!(objects.len(), 1, "{objects:?}");
    assert_eq!(objects[0].1, bytes.len() as u64);
    assert!(objects[0].0.ends_with(".mp4"));
    assert_eq!(moto.get("videos", &objects[0].0), bytes);
    assert_eq!(
        sim.stat("reference_fetches"),
        1,
        "the simulator fetched the link"
    );
    let id = out.trim().to_string();
    let rec = env.record(&id);
    assert_eq!(rec["status"], "succeeded", "{rec}");
    let link_expiry = rec.to_string();
    assert!(
        link_expiry.contains("X-Amz-Expires=176400"),
        "48 h + 1 h: {rec}"
    );

    // The same file again: no second upload.
    let (code, _, err) = run(&[]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("already in the bucket"), "{err}");
    assert_eq!(moto.list("videos", "refs/"), objects);
}

#[test]
fn a_reference_the_simulator_cannot_fetch_fails_the_task() {
    let sim = SimProcess::builder().speed(2000.0).start();
    let env = Env::new(&sim);
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let url = format!("http://127.0.0.1:{closed}/clip.mp4");
    let (code, out, err) = env.cli(
        &["submit", "--prompt", "extend it", "--video", &url, "--wait"],
        None,
    );
    assert_eq!(code, 1, "the task failed: {out}{err}");
    let rec = env.record(out.trim());
    assert_eq!(rec["status"], "failed");
    assert_eq!(rec["error"]["code"], "InvalidParameter", "{rec}");
    assert!(
        rec["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("content[1].video_url")),
        "{rec}"
    );
    assert_eq!(sim.stat("reference_failures"), 1);
}

#[test]
fn a_destination_that_cannot_take_results_stops_the_submit_before_anything_is_paid() {
    let Some(moto) = Moto::start(false) else {
        return;
    };
    let Some(strict) = Moto::start(true) else {
        return;
    };
    moto.create_bucket("videos");
    let sim = SimProcess::builder().speed(2000.0).start();
    let env = Env::new(&sim);
    let creates = || sim.stat("creates");

    // A bucket that does not exist: refused before the create (exit 3), nothing paid.
    let (code, _, err) = env.cli(
        &[
            "submit",
            "--prompt",
            "apple tea",
            "--wait",
            "--out",
            "s3://nobucket/demo",
        ],
        Some(&moto),
    );
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("does not exist") && err.contains("nothing was sent"),
        "{err}"
    );
    assert_eq!(creates(), 0, "no task was paid for");

    // Credentials the service refuses, and none at all: the same, for a batch too.
    let (code, _, err) = env.cli(
        &[
            "submit",
            "--prompt",
            "apple tea",
            "--wait",
            "--out",
            "s3://videos/demo",
        ],
        Some(&strict),
    );
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("refused the credentials"), "{err}");
    let file = env.path("b.jsonl");
    std::fs::write(
        &file,
        "{\"model\":\"doubao-seedance-2-0-fast-260128\",\"content\":[{\"type\":\"text\",\"text\":\"a\"}]}\n",
    )
    .expect("batch");
    let (code, _, err) = env.cli(
        &[
            "submit",
            "--batch",
            &file,
            "--wait",
            "--out",
            "s3://nobucket/demo",
        ],
        Some(&moto),
    );
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("does not exist"), "{err}");
    assert_eq!(creates(), 0, "no task was paid for");
    let (code, out, _) = env.cli(&["ls", "--jsonl"], None);
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), 0, "nothing was queued: {out}");

    // `doctor` checks the bucket the same way.
    let doctor = |out: &str, m: &Moto| -> serde_json::Value {
        let (_, stdout, err) = env.cli(&["doctor", "--json", "--out", out], Some(m));
        let doc: serde_json::Value = serde_json::from_str(&stdout).expect(&err);
        doc["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .find(|c| c["name"] == "object storage")
            .cloned()
            .expect("an object storage check")
    };
    let c = doctor("s3://nobucket/demo", &moto);
    assert_eq!(c["status"], "fail", "{c}");
    assert!(
        c["detail"]
            .as_str()
            .is_some_and(|d| d.contains("does not exist")),
        "{c}"
    );
    let c = doctor("s3://videos/demo", &moto);
    assert_eq!(c["status"], "pass", "{c}");
    assert!(
        moto.list("videos", "demo/").is_empty(),
        "the check object is gone"
    );

    // A good bucket: the task runs and lands there.
    let (code, _, err) = env.cli(
        &[
            "submit",
            "--prompt",
            "apple tea",
            "--wait",
            "--out",
            "s3://videos/demo",
        ],
        Some(&moto),
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(creates(), 1);
}

#[test]
fn the_dashboard_says_in_its_header_when_results_cannot_reach_the_bucket_at_80x24() {
    let Some(moto) = Moto::start(false) else {
        return;
    };
    let sim = SimProcess::builder().speed(2000.0).start();
    let env = Env::new(&sim);
    std::fs::write(
        env.path("config.toml"),
        "[poll]\ninterval_secs = 1\n[download]\noutput_dir = \"s3://nobucket/demo\"\n",
    )
    .expect("config");
    let home = env.dir.path().display().to_string();
    let vars = [
        ("SEEDANCE_API_KEY", KEY),
        ("HOME", home.as_str()),
        ("AWS_ACCESS_KEY_ID", moto_server::KEY_ID),
        ("AWS_SECRET_ACCESS_KEY", moto_server::SECRET),
        ("AWS_ENDPOINT_URL", moto.url.as_str()),
        ("AWS_ALLOW_HTTP", "true"),
        ("AWS_REGION", "us-east-1"),
    ];
    let store = env.path("s.sqlite3");
    let config = env.path("config.toml");
    let tui = crate::support::pty::Pty::spawn(
        &[
            "--store",
            &store,
            "--config",
            &config,
            "--base-url",
            &env.base,
        ],
        80,
        24,
        &vars,
        env.dir.path(),
    );
    let screen = tui.wait_text(
        "⬇ results cannot be saved",
        std::time::Duration::from_secs(30),
    );
    let line = screen
        .lines()
        .find(|l| l.contains("⬇ results cannot be saved"))
        .unwrap_or_default();
    assert!(line.contains("s3://nobucket/demo"), "{screen}");
}
