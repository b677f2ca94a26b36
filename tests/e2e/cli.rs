//! The headless commands, run as the real binary: `submit --demo --wait` end to end, validation
//! exit codes, `ls`/`retry` on a shared store, and `sim` answering the seed's curl examples.

use crate::support::process::{bin, bin_on, run};
use crate::support::sim::SimProcess;
use serde_json::{Value, json};
use std::process::Command;

#[test]
fn submit_demo_wait_saves_a_playable_mp4_and_its_last_frame() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let (code, stdout, stderr) = run(bin(dir.path()).args([
        "submit",
        "--demo",
        "--prompt",
        "apple tea [[sim:succeed]]",
        "--last-frame",
        "--wait",
        "--out",
        out.to_str().expect("utf8"),
    ]));
    assert_eq!(code, 0, "stdout: {stdout}\nstderr: {stderr}");
    assert!(
        stdout.trim().starts_with("cgt-"),
        "prints the task id: {stdout}"
    );
    let files: Vec<_> = std::fs::read_dir(&out)
        .expect("output dir exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    let mp4 = files
        .iter()
        .find(|p| p.extension().is_some_and(|e| e == "mp4"))
        .unwrap_or_else(|| panic!("an mp4 in {files:?}"));
    let bytes = std::fs::read(mp4).expect("read mp4");
    assert!(bytes.len() > 1000, "a real video, not a stub");
    assert_eq!(&bytes[4..8], b"ftyp", "an MP4 file starts with an ftyp box");
    let png = files
        .iter()
        .find(|p| p.to_string_lossy().ends_with(".last.png"))
        .unwrap_or_else(|| panic!("a last frame in {files:?}"));
    let png_bytes = std::fs::read(png).expect("read png");
    assert_eq!(&png_bytes[..8], b"\x89PNG\r\n\x1a\n");
    assert!(
        !files.iter().any(|p| p.to_string_lossy().ends_with(".part")),
        "no partial files left: {files:?}"
    );
}

#[test]
fn invalid_request_exits_2_and_names_the_field_without_sending() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, _, stderr) = run(bin(dir.path()).args([
        "submit",
        "--demo",
        "--prompt",
        "x",
        "--model",
        "doubao-seedance-2-0-fast-260128",
        "--resolution",
        "1080p",
    ]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("resolution"), "{stderr}");
    assert!(stderr.contains("nothing was sent"), "{stderr}");
}

#[test]
fn no_key_is_a_usage_error_with_the_fix() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("s.sqlite3");
    let (code, _, stderr) = run(bin(dir.path()).args([
        "submit",
        "--store",
        store.to_str().expect("utf8"),
        "--prompt",
        "apple tea",
    ]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("SEEDANCE_API_KEY"), "{stderr}");
}

#[test]
fn dry_run_prints_the_exact_body() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, stdout, stderr) = run(bin(dir.path()).args([
        "submit",
        "--demo",
        "--dry-run",
        "--prompt",
        "apple tea",
        "--image",
        "https://example.com/a.jpg@first_frame",
        "--duration",
        "-1",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("JSON body");
    assert_eq!(v["content"][0]["text"], "apple tea");
    assert_eq!(v["content"][1]["role"], "first_frame");
    assert_eq!(v["duration"], -1);
    // A first frame and no ratio chosen: `adaptive` (the config's 16:9 would crop the image).
    assert_eq!(v["ratio"], "adaptive", "{stdout}");
}

#[test]
fn dry_run_shows_the_ratio_that_will_be_sent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let body = |extra: &[&str]| {
        let (code, stdout, stderr) = run(bin(dir.path())
            .args(["submit", "--demo", "--dry-run", "--prompt", "apple tea"])
            .args(extra));
        assert_eq!(code, 0, "{stderr}");
        serde_json::from_str::<serde_json::Value>(&stdout).expect("JSON body")
    };
    assert_eq!(body(&[])["ratio"], "16:9", "text: [defaults] ratio");
    assert_eq!(
        body(&["--image", "https://example.com/a.jpg"])["ratio"],
        "adaptive"
    );
    assert_eq!(
        body(&[
            "--image",
            "https://example.com/a.jpg@first_frame",
            "--image",
            "https://example.com/b.jpg@last_frame"
        ])["ratio"],
        "adaptive"
    );
    assert_eq!(
        body(&["--image", "https://example.com/a.jpg", "--ratio", "1:1"])["ratio"],
        "1:1"
    );
}

#[test]
fn standalone_sim_serves_headless_commands_on_a_shared_store() {
    let sim = SimProcess::builder().speed(1000.0).start();
    let base = sim.base.clone();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("shared.sqlite3");
    let cli = || bin_on(dir.path(), &store, &base, "sk-cli-test-key-7f3a");
    // Two processes submit into the same store.
    let mut ids = Vec::new();
    for prompt in ["one [[sim:fail]]", "two [[sim:succeed]]"] {
        let (code, stdout, stderr) = run(cli().args(["submit", "--prompt", prompt]));
        assert_eq!(code, 0, "{stderr}");
        ids.push(stdout.trim().to_string());
    }
    // watch sees both finish; one failed, so the exit code is 1.
    let (code, stdout, stderr) = run(cli().arg("watch"));
    assert_eq!(code, 1, "one task failed: {stdout}\n{stderr}");
    assert!(
        stdout.contains("succeeded") && stdout.contains("failed"),
        "{stdout}"
    );
    // ls from a third process shows both with their final status.
    let (code, stdout, _) = run(cli().args(["ls", "--jsonl"]));
    assert_eq!(code, 0);
    let rows: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(rows.len(), 2);
    // retry --failed resubmits the failed one, linked to it.
    let (code, stdout, stderr) = run(cli().args(["retry", "--failed"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains(&ids[0]), "{stdout}");
    let (_, stdout, _) = run(cli().args(["ls", "--jsonl"]));
    let retried = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["retry_depth"] == 1)
        .expect("a retry row");
    assert!(retried["retry_of"].is_string());
    // The key never reaches the store file.
    let bytes = std::fs::read(&store).expect("store file");
    let wal = std::fs::read(store.with_extension("sqlite3-wal")).unwrap_or_default();
    for b in [&bytes, &wal] {
        assert!(
            !b.windows(b"sk-cli-test-key".len())
                .any(|w| w == b"sk-cli-test-key"),
            "the API key leaked into the store"
        );
    }
}

#[test]
fn sim_answers_the_seed_curl_example() {
    let sim = SimProcess::builder().speed(1000.0).start();
    let base = sim.base.clone();
    let body = r#"{"model":"doubao-seedance-2-0-fast-260128","content":[{"type":"text","text":"First-person apple fruit tea ad"}],"ratio":"16:9","duration":4,"resolution":"720p","watermark":false,"generate_audio":false,"return_last_frame":true}"#;
    let relay = sim.relay_base();
    for url in [&base, &relay] {
        let out = Command::new("curl")
            .args([
                "-s",
                "-X",
                "POST",
                &format!("{url}/contents/generations/tasks"),
            ])
            .args([
                "-H",
                "Content-Type: application/json",
                "-H",
                "Authorization: Bearer k",
            ])
            .args(["--data-raw", body])
            .output()
            .expect("curl is installed (the CI script installs it)");
        let v: serde_json::Value =
            serde_json::from_slice(&out.stdout).expect("the sim answers JSON");
        assert!(
            v["id"].as_str().is_some_and(|id| id.starts_with("cgt-")),
            "{v}"
        );
    }
}

/// The official rules: an endpoint id and the largest seed pass on the official profile (with
/// the new parameters), an endpoint id is refused through the relay before anything is sent.
#[test]
fn submit_dry_run_takes_endpoint_ids_officially_and_refuses_them_through_the_relay() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, stdout, stderr) = run(bin(dir.path()).args([
        "submit",
        "--profile",
        "ark",
        "--model",
        "ep-20260101000000-abcde",
        "--prompt",
        "apple tea",
        "--seed",
        "2147483647",
        "--web-search",
        "--priority",
        "5",
        "--safety-identifier",
        "user-hash-1",
        "--dry-run",
    ]));
    assert_eq!(code, 0, "official profile: valid\n{stderr}");
    let body: Value = serde_json::from_str(&stdout).expect("the body is printed");
    assert_eq!(body["model"], "ep-20260101000000-abcde");
    assert_eq!(body["seed"], 2_147_483_647u64);
    assert_eq!(body["tools"], json!([{"type": "web_search"}]));
    assert_eq!(
        (body["priority"].clone(), body["safety_identifier"].clone()),
        (json!(5), json!("user-hash-1"))
    );
    assert!(
        stderr.contains("warning") && stderr.contains("endpoint id"),
        "an endpoint id is checked only for the shared rules, and says so: {stderr}"
    );

    let (code, _, stderr) = run(bin(dir.path()).args([
        "submit",
        "--profile",
        "laozhang",
        "--model",
        "ep-20260101000000-abcde",
        "--prompt",
        "apple tea",
        "--dry-run",
    ]));
    assert_eq!(code, 2, "relay: refused\n{stderr}");
    assert!(
        stderr.contains("model") && stderr.contains("relay"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("warning"),
        "said once, as the problem: {stderr}"
    );
}

#[test]
fn the_five_character_suffix_the_table_shows_names_a_task_in_every_command() {
    let sim = SimProcess::builder().speed(1000.0).start();
    let base = sim.base.clone();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("short.sqlite3");
    let cmd = || bin_on(dir.path(), &store, &base, "sk-cli-short-ids");
    let (code, stdout, stderr) =
        run(cmd().args(["submit", "--prompt", "owl [[sim:fail]]", "--wait"]));
    assert_eq!(code, 1, "the task fails: {stderr}");
    let id = stdout.trim().to_string();
    // `cgt-20260101105718-mq3yp`: the table shows `105718-mq3yp`.
    let suffix = id.rsplit('-').next().expect("a suffix").to_string();
    assert_eq!(suffix.chars().count(), 5, "{id}");

    // `ls` shows the short id the table shows, in its own column.
    let (code, stdout, _) = run(cmd().arg("ls"));
    assert_eq!(code, 0);
    let mut lines = stdout.lines();
    assert!(
        lines.next().expect("header").starts_with("SHORT "),
        "{stdout}"
    );
    let row = lines.next().expect("a row");
    let short = seedance_tui::api::task_id::short_task_id(Some(&id));
    assert!(row.starts_with(&format!("{short} ")), "{row}");
    assert!(row.contains(&id), "{row}");

    // `get` finds it in the store (no request for `mq3yp` goes to the API).
    let gets_before = sim.stat("gets");
    let (code, stdout, stderr) = run(cmd().args(["get", &suffix]));
    assert_eq!(code, 0, "{stderr}");
    let v: Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(v["id"], id.as_str());
    assert!(sim.stat("gets") <= gets_before + 1, "one refresh at most");

    // An unknown short id is not sent to the API as a task id.
    let (code, _, stderr) = run(cmd().args(["get", "zzzzz"]));
    assert_ne!(code, 0);
    assert!(stderr.contains("no task matches `zzzzz`"), "{stderr}");

    // `retry` takes it too.
    let (code, stdout, stderr) = run(cmd().args(["retry", &suffix]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains(&id), "{stdout}");
}

#[test]
fn a_demo_run_leaves_no_folder_behind() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).expect("tmp");
    // A folder a killed demo run left (its process is gone) is cleared too.
    let stale = tmp.join("seedance-tui-demo-20200101-000000-999999999");
    std::fs::create_dir(&stale).expect("stale");
    let (code, _, stderr) = run(bin(dir.path()).env("TMPDIR", &tmp).args([
        "submit",
        "--demo",
        "--prompt",
        "apple tea [[sim:succeed]]",
        "--wait",
        "--out",
        dir.path().join("out").to_str().expect("utf8"),
    ]));
    assert_eq!(code, 0, "{stderr}");
    let left: Vec<_> = std::fs::read_dir(&tmp)
        .expect("tmp")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("seedance-tui-demo-"))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn an_unknown_role_is_named_as_a_role() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("ref.png"), b"not read").expect("file");
    let (code, _, stderr) = run(bin(dir.path()).current_dir(dir.path()).args([
        "submit",
        "--demo",
        "--prompt",
        "x",
        "--image",
        "ref.png@bogus",
        "--dry-run",
    ]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("`bogus` is not a role"), "{stderr}");
    assert!(!stderr.contains("cannot read"), "{stderr}");
}

#[test]
fn the_install_instructions_name_no_repository_that_does_not_exist() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).expect("Cargo.toml");
    assert!(
        !manifest
            .lines()
            .any(|l| l.trim_start().starts_with("repository")),
        "Cargo.toml names a repository"
    );
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README");
    assert!(!readme.contains("cargo install --locked --git"), "README");
    assert!(readme.contains("cargo install --locked --path ."), "README");
}
