//! At 80x24 in the demo: the command palette (`:`) finds commands fuzzily and runs `:filter`,
//! `:sort` and `:theme`; the column chooser (`c`) hides a column and saves the choice in the
//! config; a saved view (`[views.NAME]`, one key) applies its filter, sort and columns.

use crate::support::pty::Pty;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(60);

/// The table's column header line (the one starting with `STATUS`).
fn header(screen: &str) -> String {
    screen
        .lines()
        .find(|l| l.trim_start().starts_with("STATUS"))
        .unwrap_or_default()
        .to_string()
}

#[test]
fn the_palette_the_column_chooser_and_a_saved_view_at_80x24() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        "# my settings\n[ui]\ntheme = \"default\"\n\n\
         [views.failed]\nkey = \"F\"\nfilter = \"status:failed\"\nsort = \"tokens\"\n\
         columns = [\"status\", \"id\", \"error\", \"prompt\"]\n",
    )
    .expect("config");
    let cfg = config.to_str().expect("utf8").to_string();
    let mut pty = Pty::spawn(&["--demo", "--config", &cfg], 80, 24, &[], dir.path());
    let screen = pty.wait_text("· row 1/", WAIT);
    assert!(header(&screen).contains(" ID "), "{screen}");

    // The palette: a fuzzy match lists the command with its keys and help.
    pty.send(b":");
    pty.wait_text("Command (Enter runs", WAIT);
    pty.send(b"mrkall");
    let screen = pty.wait_text("mark all", WAIT);
    assert!(
        screen.contains("C-a"),
        "the command's keys are shown:\n{screen}"
    );
    pty.send(b"\x1b");
    pty.wait_for("the palette closed", WAIT, |s| {
        !s.contains("Command (Enter runs")
    });
    // `:filter`, `:sort queue`, `:theme dark`.
    pty.send(b":filter fox\r");
    pty.wait_text("filter “fox”", WAIT);
    pty.send(b":sort queue\r");
    pty.wait_text("sort queue▲", WAIT);
    pty.send(b":theme dark\r");
    pty.wait_text("theme: dark", WAIT);

    // The column chooser: hide `id` (the second row) and save.
    pty.send(b"c");
    let screen = pty.wait_text("[x] status", WAIT);
    assert!(screen.contains("[x] id"), "{screen}");
    pty.send(b"j ");
    pty.wait_text("[ ] id", WAIT);
    pty.send(b"\r");
    let screen = pty.wait_text("(saved in the config)", WAIT);
    assert!(!header(&screen).contains(" ID "), "{screen}");
    let saved = std::fs::read_to_string(&config).expect("config");
    assert!(saved.starts_with("# my settings\n[ui]\n"), "{saved}");
    assert!(
        saved.contains(
            "columns = [\"status\", \"model\", \"label\", \"prompt\", \"ratio\", \"resolution\", \"duration\", \"age\", \"time\", \"tokens\", \"error\", \"saved\"]"
        ),
        "{saved}"
    );
    assert!(
        saved.contains("[views.failed]"),
        "the rest is kept: {saved}"
    );

    // The saved view, by its key: its filter, its sort (tokens: not among its columns, so
    // named in the title) and its columns.
    pty.send(b"F");
    let screen = pty.wait_text("view failed", WAIT);
    assert!(screen.contains("filter “status:failed”"), "{screen}");
    assert!(screen.contains("sort tokens▼"), "{screen}");
    let h = header(&screen);
    assert!(h.contains("ERROR") && h.contains(" ID "), "{h}");
    assert!(!h.contains("MODEL"), "{h}");
    pty.send(b"\x03");
    assert!(pty.wait_exit(WAIT).is_some());
}

#[test]
fn slash_searches_the_help_and_the_log_leads_to_its_task_at_80x24() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut pty = Pty::spawn(&["--demo"], 80, 24, &[], dir.path());
    pty.wait_text("· row 1/", WAIT);
    // `/` in the help searches it: the match is scrolled to and counted.
    pty.send(b"?");
    pty.wait_text("Help — keys", WAIT);
    pty.send(b"/");
    pty.wait_text("Enter keeps (n next)", WAIT);
    pty.send(b"palette\r");
    let screen = pty.wait_text("“palette”: match 1/", WAIT);
    assert!(screen.contains("command palette"), "{screen}");
    pty.send(b"n");
    pty.wait_text("“palette”: match 2/", WAIT);
    // Esc drops the search, a second Esc closes the help.
    pty.send(b"\x1b");
    pty.wait_text("Help — keys", WAIT);
    pty.send(b"\x1b");
    pty.wait_for("the help closed", WAIT, |s| !s.contains("Help — keys"));
    // The log: Enter goes to the task a line names, with the detail pane open.
    pty.send(b"L");
    let screen = pty.wait_for("a log line naming a task", WAIT, |s| s.contains("cgt-"));
    assert!(screen.contains("Messages (newest first"), "{screen}");
    pty.send(b"\r");
    let screen = pty.wait_for("the detail pane", WAIT, |s| {
        s.contains("Detail") && !s.contains("Messages (newest first")
    });
    assert!(
        screen.contains("local l"),
        "the pane shows a task:\n{screen}"
    );
    pty.send(b"\x03");
    assert!(pty.wait_exit(WAIT).is_some());
}
