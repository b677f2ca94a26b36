//! Headless results: `watch --download --out DIR` saves each succeeded task's video and last
//! frame as it finishes; `download ID` afterwards finds them saved and fetches nothing again.

use crate::support::sim::SimProcess;

const KEY: &str = "sk-results-cli-test";

fn cli(args: &[&str], store: &str, config: &str, base: &str) -> std::process::Output {
    crate::support::process::cli_with(args, store, config, base, KEY)
}

#[test]
fn watch_download_saves_results_and_download_does_not_fetch_them_twice() {
    let sim = SimProcess::builder().speed(2000.0).start();
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        "[poll]\ninterval_secs = 1\n[download]\ntemplate = \"{id}_{prompt_slug}.mp4\"\n",
    )
    .expect("config");
    let store = dir.path().join("s.sqlite3").display().to_string();
    let config = config.display().to_string();
    let out_dir = dir.path().join("out");
    let out_s = out_dir.display().to_string();
    let mut ids = Vec::new();
    for p in ["fox in snow", "paper boats"] {
        let out = cli(&["submit", "--prompt", p], &store, &config, &sim.base);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        ids.push(text.split_whitespace().next().expect("an id").to_string());
    }
    let out = cli(
        &["watch", "--download", "--out", &out_s],
        &store,
        &config,
        &sim.base,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.matches("saved ").count(), 4, "{stdout}");
    let mut names: Vec<String> = std::fs::read_dir(&out_dir)
        .expect("out dir")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    names.sort();
    assert_eq!(names.len(), 4, "{names:?}");
    assert!(
        names.iter().any(|n| n.ends_with("_fox-in-snow.mp4")),
        "{names:?}"
    );
    assert!(
        names.iter().any(|n| n.ends_with("_paper-boats.last.png")),
        "{names:?}"
    );
    let fetched = sim.stat("downloads");
    assert_eq!(fetched, 4);
    // Results are private like the store: the folder made for them is the owner's only.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&out_dir)
        .expect("meta")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o700, "the results folder is {mode:o}");

    let out = cli(&["download", &ids[0]], &store, &config, &sim.base);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        printed.contains(&out_s),
        "the saved files are reported: {printed}"
    );
    assert_eq!(sim.stat("downloads"), fetched, "nothing fetched twice");
}
