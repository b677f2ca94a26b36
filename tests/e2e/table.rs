//! End to end at 80x24: the table's title shows the row position, `s` then a column's letter
//! sorts by it and marks its header, and the footer's key hints fit the line whole.

use crate::support::pty::Pty;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(60);

#[test]
fn at_80_columns_the_table_shows_position_sort_marker_and_whole_hints() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut pty = Pty::spawn(&["--demo"], 80, 24, &[], dir.path());
    let screen = pty.wait_text("· row 1/", WAIT);
    assert!(screen.contains("AGE▼"), "sorted by age at start:\n{screen}");
    pty.send(b"s");
    pty.wait_text("Sort by", WAIT);
    pty.send(b"s");
    let screen = pty.wait_text("STATUS▼", WAIT);
    assert!(!screen.contains("AGE▼"), "{screen}");
    let footer = screen
        .lines()
        .last()
        .unwrap_or_default()
        .trim_end()
        .to_string();
    assert!(footer.contains("Enter detail"), "{footer}");
    assert!(
        [
            "detail", "filter", "sort", "mark", "copy", "pause", "retry", "help", "quit", "(L)"
        ]
        .iter()
        .any(|label| footer.ends_with(label)),
        "the last hint is whole: {footer:?}"
    );
    pty.send(b"\x03");
    assert!(pty.wait_exit(WAIT).is_some());
}

#[test]
fn esc_pops_one_level_at_a_time_at_80x24() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut pty = Pty::spawn(&["--demo"], 80, 24, &[], dir.path());
    pty.wait_text("· row 1/", WAIT);
    // A filter, a mark, then the detail pane.
    pty.send(b"/fox");
    pty.wait_text("/fox", WAIT);
    pty.send(b"\r");
    // The demo submits its tasks one by one: the fox row may arrive after the filter is kept.
    // Space marks the selected row, so wait until the filter shows it selected.
    pty.wait_for("the fox row selected", WAIT, |s| {
        s.contains("filter “fox”") && s.contains("· row 1/1 ")
    });
    pty.send(b" ");
    pty.wait_text("1 marked", WAIT);
    pty.send(b"\r");
    pty.wait_text("Detail", WAIT);
    // Esc: the pane closes; marks and filter stay.
    pty.send(b"\x1b");
    let screen = pty.wait_for("the pane closed", WAIT, |s| !s.contains("Detail"));
    assert!(
        screen.contains("1 marked") && screen.contains("filter “fox”"),
        "{screen}"
    );
    // Esc: the marks go; the filter stays.
    pty.send(b"\x1b");
    let screen = pty.wait_for("the marks cleared", WAIT, |s| !s.contains("marked"));
    assert!(screen.contains("filter “fox”"), "{screen}");
    // Esc: the filter goes.
    pty.send(b"\x1b");
    pty.wait_for("the filter cleared", WAIT, |s| !s.contains("filter “"));
    pty.send(b"\x03");
    assert!(pty.wait_exit(WAIT).is_some());
}
