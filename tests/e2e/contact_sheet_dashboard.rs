//! End to end: the real dashboard in a PTY shows a saved video's contact sheet in the detail
//! pane — frames side by side, decoded off the loop and cached next to the video — at 80x24 and
//! at 160x48, and `v` shows it full screen with each frame's time.

use crate::support::pty::Pty;
use crate::support::sim::SimProcess;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(90);
const KEY: &str = "sk-sheet-pty-test";

/// The most pictures side by side on one screen line: runs of at least 6 picture cells.
fn side_by_side(pty: &Pty) -> usize {
    pty.picture_cells()
        .iter()
        .map(|row| {
            let (mut runs, mut len) = (0, 0);
            for &pic in row.iter().chain(std::iter::once(&false)) {
                if pic {
                    len += 1;
                } else {
                    if len >= 6 {
                        runs += 1;
                    }
                    len = 0;
                }
            }
            runs
        })
        .max()
        .unwrap_or(0)
}

/// How many synchronized updates (DEC mode 2026) `raw` holds; panics unless each is ended
/// before the next begins (the last may still be arriving).
fn synchronized_frames(raw: &[u8]) -> usize {
    let (begin, end) = (b"\x1b[?2026h", b"\x1b[?2026l");
    let (mut frames, mut open) = (0, false);
    for i in 0..raw.len() {
        if raw[i..].starts_with(begin) {
            assert!(!open, "a frame began inside another at byte {i}");
            open = true;
            frames += 1;
        } else if raw[i..].starts_with(end) {
            assert!(open, "a frame ended that never began at byte {i}");
            open = false;
        }
    }
    frames
}

#[test]
fn the_detail_pane_shows_the_contact_sheet_at_80x24_and_160x48() {
    let sim = SimProcess::builder().speed(2000.0).start();
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
        let deadline = std::time::Instant::now() + WAIT;
        while side_by_side(&pty) != across {
            assert!(
                std::time::Instant::now() < deadline,
                "no {across} frames side by side; screen:\n{}",
                pty.screen()
            );
            std::thread::sleep(Duration::from_millis(50)); // polling an observable condition
        }
        let screen = pty.screen();
        assert!(!screen.contains("contact sheet: decoding"), "{screen}");
        assert!(!screen.contains("no contact sheet"), "{screen}");
        let cached = std::fs::read_dir(&out_dir)
            .expect("out dir")
            .filter_map(Result::ok)
            .any(|e| e.file_name().to_string_lossy().ends_with(".sheet.png"));
        assert!(cached, "the strip is cached next to the video");
        // Full screen, each frame with its time (the sample is 4 s: six frames 0:00.3 … 0:03.7).
        pty.send(b"v");
        // (The pane's tiles show with their times until the full-screen layout arrives.)
        let screen = pty.wait_for("the full-screen sheet", WAIT, |s| {
            s.contains("Contact sheet ·") && (1..=6).all(|i| s.contains(&format!("#{i} 0:0")))
        });
        assert!(screen.contains("#6 0:03."), "{screen}");
        pty.send(b"v");
        pty.wait_for("back to the pane", WAIT, |s| !s.contains("Contact sheet ·"));
        // Each frame went out as one synchronized update: begun, then ended before the next.
        let frames = synchronized_frames(&pty.raw());
        assert!(frames > 0, "no frame was a synchronized update");
        pty.send(b"q");
        assert_eq!(pty.wait_exit(WAIT), Some(0));
    }
}
