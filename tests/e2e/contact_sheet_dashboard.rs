//! End to end: the real dashboard in a PTY shows a saved video's contact sheet in the detail
//! pane — frames side by side, decoded off the loop and cached next to the video — at 80x24 and
//! at 160x48, and `v` shows it full screen with each frame's time.

use crate::support::pty::Pty;
use crate::support::sim::SimProcess;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(90);
const KEY: &str = "sk-sheet-pty-test";

/// Runs of at least 6 `▀` cells (the halfblock pictures) on one screen line.
fn runs(line: &str) -> usize {
    let mut n = 0;
    let mut len = 0;
    for c in line.chars().chain(std::iter::once(' ')) {
        if c == '▀' {
            len += 1;
        } else {
            if len >= 6 {
                n += 1;
            }
            len = 0;
        }
    }
    n
}

/// The most pictures side by side on any line of the screen.
fn side_by_side(screen: &str) -> usize {
    screen.lines().map(runs).max().unwrap_or(0)
}

#[test]
fn the_detail_pane_shows_the_contact_sheet_at_80x24_and_160x48() {
    let sim = SimProcess::start(&["--speed", "2000", "--fail-rate", "0"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let out_dir = dir.path().join("out");
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[download]\noutput_dir = {:?}\ntemplate = \"{{id}}.mp4\"\n",
            out_dir.display().to_string()
        ),
    )
    .expect("config");
    let (store, config) = (
        dir.path().join("s.sqlite3").display().to_string(),
        config.display().to_string(),
    );
    let cli = |args: &[&str]| {
        let out = crate::support::process::cli_with(args, &store, &config, &sim.base, KEY);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    cli(&["submit", "--prompt", "fox in snow"]);
    cli(&["watch", "--download"]);
    let args = [
        "--store",
        &store,
        "--config",
        &config,
        "--base-url",
        &sim.base,
    ];
    let env = [("SEEDANCE_API_KEY", KEY)];
    // (size, frames side by side the pane's box allows: one line of six below the table at
    // 80x24, two columns of three lines beside it at 160x48)
    for ((cols, rows), across) in [((80u16, 24u16), 6usize), ((160, 48), 2)] {
        let mut pty = Pty::spawn(&args, cols, rows, &env, dir.path());
        pty.wait_text("Tasks 1/1", WAIT);
        pty.send(b"\r");
        let screen = pty.wait_for(&format!("{across} frames side by side"), WAIT, |s| {
            side_by_side(s) == across && !s.contains("contact sheet: decoding")
        });
        assert!(!screen.contains("no contact sheet"), "{screen}");
        let cached = std::fs::read_dir(&out_dir)
            .expect("out dir")
            .filter_map(Result::ok)
            .any(|e| e.file_name().to_string_lossy().ends_with(".sheet.png"));
        assert!(cached, "the strip is cached next to the video");
        // Full screen, each frame with its time (the sample is 4 s: six frames 0:00.3 … 0:03.7).
        pty.send(b"v");
        let screen = pty.wait_for("the full-screen sheet", WAIT, |s| {
            s.contains("Contact sheet ·") && s.contains("#6 0:03.")
        });
        for i in 1..=6 {
            assert!(screen.contains(&format!("#{i} 0:0")), "{screen}");
        }
        pty.send(b"v");
        pty.wait_for("back to the pane", WAIT, |s| !s.contains("Contact sheet ·"));
        pty.send(b"q");
        assert_eq!(pty.wait_exit(WAIT), Some(0));
    }
}
