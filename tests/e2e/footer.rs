//! The footer at 80x24: `?` help and `q` quit are always there, and an answer longer than the
//! line (the scp command `o` gives over SSH, copied) is shown whole, wrapped above the footer,
//! not cut.

use crate::support::pty::Pty;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(60);

#[test]
fn a_long_answer_is_shown_whole_and_help_and_quit_stay_in_the_footer_at_80x24() {
    let dir = tempfile::tempdir().expect("tempdir");
    let env = [
        ("SSH_CONNECTION", "10.0.0.2 50000 10.0.0.1 22"),
        ("DISPLAY", ""),
        ("WAYLAND_DISPLAY", ""),
        ("USER", "ann"),
    ];
    // A terminal that takes OSC 52: the scp command is copied, and the answer says so.
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[ui]\nclipboard = \"osc52\"\n").expect("config");
    let config = config.to_str().expect("utf8").to_string();
    let mut pty = Pty::spawn(&["--demo", "--config", &config], 80, 24, &env, dir.path());
    let screen = pty.wait_text("· row 1/", WAIT);
    let footer = screen
        .lines()
        .last()
        .unwrap_or_default()
        .trim_end()
        .to_string();
    assert!(footer.ends_with("? help q quit"), "{footer:?}");
    // The fox task succeeds in the demo and its video is saved; `o` then answers with the
    // scp command, longer than the line.
    pty.send(b"/fox\r");
    pty.wait_text("filter “fox”", WAIT);
    let deadline = Instant::now() + WAIT;
    // Until the video is saved `o` says so; ask again every two seconds.
    let screen = 'asked: loop {
        pty.send(b"o");
        let again = Instant::now() + Duration::from_secs(2);
        while Instant::now() < again {
            let s = pty.screen();
            if s.contains("copied the scp command") {
                break 'asked s;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(
            Instant::now() < deadline,
            "no scp answer:\n{}",
            pty.screen()
        );
    };
    // Wrapped over several lines (a long path is split inside): read without the breaks.
    let joined: String = screen.chars().filter(|c| !c.is_whitespace()).collect();
    let scp = joined
        .split("terminal'sclipboard:")
        .nth(1)
        .and_then(|r| r.split(".mp4.").next())
        .unwrap_or_else(|| panic!("the answer names the command:\n{screen}"));
    assert!(
        scp.starts_with("scp") && scp.contains(":/") && joined.contains(&format!("{scp}.mp4.")),
        "the whole command, to its ` .`, is on screen:\n{screen}"
    );
    let footer = screen
        .lines()
        .last()
        .unwrap_or_default()
        .trim_end()
        .to_string();
    assert!(footer.contains("? help q quit"), "{footer:?}");
    pty.send(b"\x03");
    assert!(pty.wait_exit(WAIT).is_some());
}
