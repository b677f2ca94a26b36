//! End to end: the dashboard's terminal input (read on a thread of its own) in a real PTY —
//! Ctrl-Z suspends and the dashboard reads keys again after it is continued, a bracketed paste
//! reaches the filter, a resize redraws at the new size and the next key is read.

use crate::support::pty::Pty;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(60);

/// The process state letter from `/proc/PID/stat` (`T` when stopped).
fn process_state(pid: i32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The name is in parentheses and may hold spaces: the state follows the last `)`.
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

fn wait_until(what: &str, pred: impl Fn() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !pred() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Quit, answering the demo's question if a submission is in flight.
fn quit(pty: &mut Pty) {
    pty.send(b"q");
    let deadline = Instant::now() + WAIT;
    let mut code = None;
    while code.is_none() && Instant::now() < deadline {
        code = pty.wait_exit(Duration::from_millis(500));
        if code.is_none() && pty.screen().contains("Quit anyway?") {
            pty.send(b"y");
        }
    }
    assert_eq!(code, Some(0), "clean exit");
    assert!(!pty.alternate_screen(), "the alternate screen was left");
}

#[test]
fn ctrl_z_suspends_and_keys_are_read_again_after_resume() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut pty = Pty::spawn(&["--demo"], 100, 30, &[], dir.path());
    pty.wait_text("Tasks ", WAIT);
    let pid = pty.pid().expect("pid") as i32;

    pty.send(b"\x1a");
    // The terminal is handed back (alternate screen left) and the process stops.
    wait_until("the alternate screen to be left", || {
        !pty.alternate_screen()
    });
    wait_until("the process to stop", || process_state(pid) == Some('T'));

    // `fg`: continue it. It takes the terminal back and answers keys.
    // SAFETY: sending a signal to our own child process.
    unsafe {
        libc::kill(pid, libc::SIGCONT);
    }
    wait_until("the alternate screen again", || pty.alternate_screen());
    pty.wait_text("Tasks ", WAIT);
    pty.send(b"?");
    pty.wait_text("Help", WAIT);
    pty.send(b"\x1b");
    pty.wait_for("help closed", WAIT, |s| !s.contains("Help — keys"));

    // A second suspend works the same (the input thread was resumed, not replaced).
    pty.send(b"\x1a");
    wait_until("the process to stop again", || {
        process_state(pid) == Some('T')
    });
    // SAFETY: as above.
    unsafe {
        libc::kill(pid, libc::SIGCONT);
    }
    wait_until("the alternate screen again", || pty.alternate_screen());
    quit(&mut pty);
}

#[test]
fn a_bracketed_paste_reaches_the_filter() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut pty = Pty::spawn(&["--demo"], 100, 30, &[], dir.path());
    pty.wait_text("Tasks ", WAIT);
    pty.send(b"/");
    pty.send(b"\x1b[200~status:failed\x1b[201~");
    pty.send(b"\r");
    pty.wait_text("filter “status:failed”", WAIT);
    quit(&mut pty);
}

#[test]
fn a_resize_redraws_at_the_new_size() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut pty = Pty::spawn(&["--demo"], 80, 24, &[], dir.path());
    pty.wait_text("Tasks ", WAIT);
    let widest = |s: &str| {
        s.lines()
            .map(|l| l.trim_end().chars().count())
            .max()
            .unwrap_or(0)
    };
    assert!(widest(&pty.screen()) <= 80);
    pty.resize(130, 40);
    let screen = pty.wait_for("a frame wider than 80 columns", WAIT, |s| widest(s) > 100);
    assert!(screen.contains("Tasks "), "{screen}");
    // The first key after a resize is read (not left behind the resize in the terminal).
    pty.send(b"?");
    pty.wait_text("Help", WAIT);
    pty.send(b"\x1b");
    pty.wait_for("help closed", WAIT, |s| !s.contains("Help — keys"));
    quit(&mut pty);
}
