//! End to end: the real binary with `--demo` in a pseudo-terminal. Wait for a task to succeed on
//! screen, filter, open the detail pane, quit — and find the terminal restored.

use crate::support::pty::Pty;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(60);

#[test]
fn demo_dashboard_watch_filter_detail_quit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut pty = Pty::spawn(&["--demo"], 100, 30, &[], dir.path());
    // The demo fills the table; one of its tasks succeeds within seconds.
    pty.wait_text("Tasks ", WAIT);
    assert!(
        pty.alternate_screen(),
        "the dashboard uses the alternate screen"
    );
    pty.wait_text("✓ succeeded", WAIT);
    pty.wait_text("✗ failed", WAIT);

    // Filter to failed tasks: every table row shows the failed status.
    pty.send(b"/status:failed\r");
    let screen = pty.wait_text("filter “status:failed”", WAIT);
    let rows: Vec<&str> = screen
        .lines()
        .skip(4)
        .filter(|l| l.starts_with("  ") && l.contains('-'))
        .take_while(|l| !l.starts_with(" Enter"))
        .collect();
    assert!(!rows.is_empty(), "a failed task is listed:\n{screen}");
    for r in &rows {
        assert!(
            r.contains("failed"),
            "only failed rows after filtering: {r}\n{screen}"
        );
    }

    // The detail pane explains the failure.
    pty.send(b"\r");
    let screen = pty.wait_text("Detail", WAIT);
    assert!(
        screen.contains("what to do"),
        "the error comes with a hint:\n{screen}"
    );

    // Help is one key away and is generated from the keymap.
    pty.send(b"?");
    pty.wait_text("Help", WAIT);
    pty.send(b"\x1b");
    pty.wait_for("help closed", WAIT, |s| !s.contains("Help — keys"));

    // Quit (the demo may have a submission in flight: answer the question if asked).
    pty.send(b"q");
    let code = loop {
        if let Some(code) = pty.wait_exit(Duration::from_millis(500)) {
            break code;
        }
        if pty.screen().contains("Quit anyway?") {
            pty.send(b"y");
        }
    };
    assert_eq!(code, 0, "clean exit");
    assert!(!pty.alternate_screen(), "the alternate screen was left");
    let raw = pty.raw();
    let tail = &raw[raw.len().saturating_sub(200)..];
    assert!(
        tail.windows(6).any(|w| w == b"\x1b[?25h"),
        "the cursor is shown again"
    );
}

#[test]
fn the_detail_pane_reads_the_request_from_the_store() {
    // The rows in memory are trimmed: the request JSON reaches the pane from the store.
    let dir = tempfile::tempdir().expect("tempdir");
    let mut pty = Pty::spawn(&["--demo"], 120, 100, &[], dir.path());
    pty.wait_text("Tasks ", WAIT);
    pty.send(b"\r");
    pty.send(b"f");
    let screen = pty.wait_for("the request JSON", WAIT, |s| {
        s.contains("Request JSON") && s.contains("\"content\": [")
    });
    assert!(screen.contains("\"type\": \"text\""), "{screen}");
    pty.send(b"q");
    let deadline = std::time::Instant::now() + WAIT;
    let mut code = None;
    while code.is_none() && std::time::Instant::now() < deadline {
        code = pty.wait_exit(Duration::from_millis(500));
        if code.is_none() && pty.screen().contains("Quit anyway?") {
            pty.send(b"y");
        }
    }
    assert_eq!(code, Some(0), "clean exit");
}

#[test]
fn sigterm_restores_the_terminal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut pty = Pty::spawn(&["--demo"], 80, 24, &[], dir.path());
    pty.wait_text("Tasks ", WAIT);
    let pid = pty.pid().expect("pid") as i32;
    // SAFETY: sending a signal to our own child process.
    unsafe {
        libc::kill(pid, libc::SIGTERM);
    }
    let code = pty.wait_exit(WAIT);
    assert_eq!(code, Some(0), "SIGTERM ends it cleanly");
    assert!(!pty.alternate_screen());
}

#[test]
fn sigint_restores_the_terminal() {
    // In raw mode Ctrl-C is a key: a SIGINT comes from outside (`kill -INT`).
    let dir = tempfile::tempdir().expect("tempdir");
    let mut pty = Pty::spawn(&["--demo", "--mouse"], 80, 24, &[], dir.path());
    pty.wait_text("Tasks ", WAIT);
    assert!(pty.alternate_screen());
    let pid = pty.pid().expect("pid") as i32;
    // SAFETY: sending a signal to our own child process.
    unsafe {
        libc::kill(pid, libc::SIGINT);
    }
    let code = pty.wait_exit(WAIT);
    assert_eq!(code, Some(0), "SIGINT ends it cleanly");
    assert!(!pty.alternate_screen(), "the alternate screen was left");
    let raw = pty.raw();
    let tail = &raw[raw.len().saturating_sub(400)..];
    let has = |seq: &[u8]| tail.windows(seq.len()).any(|w| w == seq);
    assert!(has(b"\x1b[?25h"), "the cursor is shown again");
    assert!(has(b"\x1b[?1000l"), "mouse reporting is switched off");
}
