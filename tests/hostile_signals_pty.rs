//! A SIGINT from outside (`kill -INT`; in raw mode Ctrl-C is a key, not a signal) ends the
//! dashboard and restores the terminal like SIGTERM: raw mode, the alternate screen and mouse
//! reporting all switched off.

mod pty_harness;

use pty_harness::Pty;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(60);

#[test]
fn sigint_restores_the_terminal() {
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
