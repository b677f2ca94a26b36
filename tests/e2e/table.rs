//! End to end at 80x24: the table's title shows the row position, `s` then a column's letter
//! sorts by it and marks its header, and the footer's key hints fit the line whole; a batch's
//! labels show before the prompt, `/` finds them (plain or `label:`), and `ls` lists them.

use crate::support::process::{bin, run};
use crate::support::pty::Pty;
use crate::support::sim::SimProcess;
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

#[test]
fn batch_labels_are_shown_and_filtered_at_80x24_and_listed_by_ls() {
    const KEY: &str = "sk-table-labels";
    let sim = SimProcess::builder().speed(400.0).start();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("s.sqlite3");
    let store = store.to_str().expect("utf8");
    let common = ["--store", store, "--base-url", &sim.base];
    let line = |label: &str, prompt: &str| {
        format!(
            "{{\"label\":\"{label}\",\"model\":\"doubao-seedance-2-0-fast-260128\",\"content\":[{{\"type\":\"text\",\"text\":\"{prompt} [[sim:hold]]\"}}]}}\n"
        )
    };
    let file = dir.path().join("shots.jsonl");
    std::fs::write(
        &file,
        [
            line("lighthouse-1", "tower at dusk"),
            line("lighthouse-2", "tower at night"),
            line("harbour-1", "boats at dawn"),
        ]
        .concat(),
    )
    .expect("batch");
    let (code, _, stderr) = run(bin(dir.path())
        .args(common)
        .args([
            "submit",
            "--batch",
            file.to_str().expect("utf8"),
            "--detach",
        ])
        .env("SEEDANCE_API_KEY", KEY));
    assert_eq!(code, 0, "{stderr}");

    let mut pty = Pty::spawn(&common, 80, 24, &[("SEEDANCE_API_KEY", KEY)], dir.path());
    // No room for a LABEL column at 80: each prompt starts with its label.
    let screen = pty.wait_text("Tasks 3/3", WAIT);
    assert!(!screen.contains("LABEL"), "{screen}");
    for label in ["lighthouse-1 tow", "lighthouse-2 tow", "harbour-1 boats"] {
        assert!(screen.contains(label), "{label}:\n{screen}");
    }
    // Plain text finds a label.
    pty.send(b"/lighthouse-1\r");
    let screen = pty.wait_for("one row kept", WAIT, |s| {
        s.contains("filter “lighthouse-1”") && s.contains("Tasks 1/3")
    });
    assert!(screen.contains("lighthouse-1 tow"), "{screen}");
    assert!(!screen.contains("harbour-1"), "{screen}");
    // `label:` looks at labels only: `dusk` is in a prompt, in no label.
    pty.send(b"\x1b");
    pty.wait_for("the filter cleared", WAIT, |s| !s.contains("filter “"));
    pty.send(b"/label:dusk\r");
    pty.wait_for("nothing kept", WAIT, |s| s.contains("Tasks 0/3"));
    pty.send(b"\x1b");
    pty.wait_for("the filter cleared", WAIT, |s| !s.contains("filter “"));
    pty.send(b"/label:harbour\r");
    pty.wait_for("the harbour row", WAIT, |s| {
        s.contains("Tasks 1/3") && s.contains("· row 1/1 ")
    });
    // The detail pane names it.
    pty.send(b"\r");
    let screen = pty.wait_text("label harbour-1", WAIT);
    assert!(screen.contains("Detail"), "{screen}");
    pty.send(b"\x1b");
    pty.wait_for("the pane closed", WAIT, |s| !s.contains("Detail"));
    // The column chooser offers it.
    pty.send(b"c");
    pty.wait_text("[x] label", WAIT);
    pty.send(b"\r");
    pty.wait_text("(saved in the config)", WAIT);
    pty.send(b"\x03");
    assert!(pty.wait_exit(WAIT).is_some());

    // `ls` has a LABEL column, `ls --json` a `label` field.
    let (code, stdout, stderr) = run(bin(dir.path()).args(common).arg("ls"));
    assert_eq!(code, 0, "{stderr}");
    let header = stdout.lines().next().expect("header");
    assert!(
        header.contains(" LABEL ") && header.ends_with("PROMPT"),
        "{stdout}"
    );
    let row = stdout
        .lines()
        .find(|l| l.contains("boats at dawn"))
        .expect("the harbour row");
    assert!(row.contains("harbour-1      boats at dawn"), "{stdout}");
    let (code, stdout, stderr) = run(bin(dir.path()).args(common).args(["ls", "--json"]));
    assert_eq!(code, 0, "{stderr}");
    let tasks: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    let mut labels: Vec<&str> = tasks
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|t| t["label"].as_str())
        .collect();
    labels.sort();
    assert_eq!(labels, ["harbour-1", "lighthouse-1", "lighthouse-2"]);
}
