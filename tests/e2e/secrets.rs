//! Secrets: the API key never reaches the terminal (stdout, stderr, the dashboard's screen),
//! even when the server refuses it; it is read in one place only; and a config file other users
//! can read gets a warning with the fix.

use crate::support::process::{bin, bin_on};
use crate::support::pty::Pty;
use crate::support::sim::SimProcess;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

const WRONG: &str = "sk-wrong-SECRETMARK-2f9";

fn assert_clean(what: &str, bytes: &[u8]) {
    assert!(
        !bytes.windows(10).any(|w| w == b"SECRETMARK"),
        "{what} shows the key: {}",
        String::from_utf8_lossy(bytes)
    );
}

#[test]
fn a_refused_key_is_never_printed() {
    let sim = SimProcess::builder()
        .speed(1000.0)
        .api_key("sk-the-right-one")
        .fail_rate(0.1)
        .start();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("s.sqlite3");
    let store = store.to_str().expect("utf8");
    let base = sim.base.as_str();
    for args in [
        vec!["submit", "--prompt", "a fox"],
        vec!["get", "cgt-nope"],
        vec!["ls"],
    ] {
        let out = bin_on(dir.path(), std::path::Path::new(store), base, WRONG)
            .args(&args)
            .output()
            .expect("runs");
        assert_clean(&format!("{args:?} stdout"), &out.stdout);
        assert_clean(&format!("{args:?} stderr"), &out.stderr);
    }
    // The dashboard: the refused submit's row is on screen, nothing shows the key.
    let tui = Pty::spawn(
        &["--store", store, "--base-url", base],
        120,
        30,
        &[("SEEDANCE_API_KEY", WRONG)],
        dir.path(),
    );
    tui.wait_text("a fox", Duration::from_secs(30));
    assert_clean("the dashboard", &tui.raw());
    let bytes = std::fs::read(store).expect("store");
    assert_clean("the store", &bytes);
}

#[test]
fn the_key_is_read_in_one_place() {
    // `ApiKey::expose` is the only way to the key's text; only the HTTP client may call it.
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut users = Vec::new();
    let mut stack = vec![src];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).expect("src").filter_map(Result::ok) {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p).expect("source");
                // Unit tests of the key lookup itself may look at it.
                let code = text.split("#[cfg(test)]").next().unwrap_or("");
                if code.contains(".expose()") {
                    users.push(
                        p.strip_prefix(env!("CARGO_MANIFEST_DIR"))
                            .expect("rel")
                            .display()
                            .to_string(),
                    );
                }
            }
        }
    }
    assert_eq!(users, ["src/api/client.rs"]);
}

#[test]
fn a_config_readable_by_others_gets_a_warning() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[poll]\ninterval_secs = 5\n").expect("write");
    let run = || {
        bin(dir.path())
            .args(["--config", config.to_str().expect("utf8")])
            .args([
                "--store",
                dir.path().join("s.db").to_str().expect("utf8"),
                "ls",
            ])
            .output()
            .expect("runs")
    };
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let out = run();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("mode 644") && stderr.contains("chmod 600"),
        "{stderr}"
    );
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let out = run();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("chmod"));
    // A folder others may write to lets them replace the file: warned about too.
    let folder = config.parent().expect("folder");
    std::fs::set_permissions(folder, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let out = run();
    std::fs::set_permissions(folder, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("the config folder")
            && stderr.contains("mode 777")
            && stderr.contains(&format!("chmod 700 {}", folder.display())),
        "{stderr}"
    );
}
