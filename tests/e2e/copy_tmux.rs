//! End to end: the dashboard inside a real tmux server with no config (its own socket), driven
//! with `send-keys`; `y` then `i` puts the task id in tmux's buffer (read back with
//! `show-buffer`) and the footer says where it went.

use std::process::Command;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(60);

struct Server {
    name: String,
}

impl Server {
    fn tmux(&self, args: &[&str]) -> (bool, String) {
        let out = Command::new("tmux")
            .args(["-L", &self.name])
            .args(args)
            .output()
            .expect("run tmux");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    }

    fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p"]).1
    }

    fn wait_text(&self, text: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let s = self.screen();
            if s.contains(text) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {text:?}; screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(50)); // polling the pane's contents
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
    }
}

#[test]
fn copy_inside_tmux_with_no_config_lands_in_its_buffer() {
    if Command::new("tmux").arg("-V").output().is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "tmux is required under CI"
        );
        eprintln!("skipped: tmux is not installed");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server {
        name: format!("seedance-e2e-copy-{}", std::process::id()),
    };
    let bin = env!("CARGO_BIN_EXE_seedance-tui");
    let store = dir.path().join("store.sqlite3");
    let cmd = format!(
        "XDG_CONFIG_HOME={0}/config XDG_DATA_HOME={0}/data {bin} --demo --store {1}",
        dir.path().display(),
        store.display()
    );
    let (ok, _) = server.tmux(&[
        "-f",
        "/dev/null",
        "new-session",
        "-d",
        "-x",
        "120",
        "-y",
        "30",
        &cmd,
    ]);
    assert!(ok, "tmux starts a session");
    // The demo submits tasks; one succeeds within seconds (and stays succeeded).
    let screen = server.wait_text("✓ succeeded");
    assert!(screen.contains("Tasks "), "{screen}");
    server.tmux(&["send-keys", "3", "g", "y"]); // only succeeded tasks: they have server ids
    server.wait_text("curl command");
    server.tmux(&["send-keys", "i"]);
    let screen = server.wait_text("copied the task id to tmux's buffer");
    let (ok, buffer) = server.tmux(&["show-buffer"]);
    assert!(ok, "tmux has a buffer:\n{screen}");
    assert!(
        buffer.starts_with("cgt-") && !buffer.contains('\n'),
        "the task id: {buffer:?}"
    );
    let id_tail = buffer.rsplit('-').next().unwrap_or_default().to_string();
    assert!(
        screen.contains(&id_tail),
        "the copied id is the selected row's ({id_tail}):\n{screen}"
    );
    server.tmux(&["send-keys", "C-c"]);
}
