//! End to end in a PTY against the simulator: the composer drafts a request with a local image,
//! submits it and sees it succeed; an invalid request is refused with the error beside the
//! field; a SIGKILL mid-draft loses nothing that was saved, and `n` restores it; a task sent
//! with a local image is edited (`e`) showing the image by its file name.

use crate::support::process::{arm_fault, bin_on, run};
use crate::support::pty::Pty;
use crate::support::sim::SimProcess;
use std::path::Path;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(60);
const KEY: &str = "sk-composer-pty-test";

/// A small real PNG (400x300, grey).
fn write_png(path: &Path) {
    let file = std::fs::File::create(path).expect("create png");
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), 400, 300);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut w = enc.write_header().expect("png header");
    w.write_image_data(&vec![128u8; 400 * 300 * 3])
        .expect("png data");
}

fn dashboard(store: &Path, base: &str, dir: &Path) -> Pty {
    dashboard_sized(store, base, dir, 120, 36)
}

/// The dashboard on `store` in a `cols`x`rows` terminal.
fn dashboard_sized(store: &Path, base: &str, dir: &Path, cols: u16, rows: u16) -> Pty {
    Pty::spawn(
        &["--store", store.to_str().expect("utf8"), "--base-url", base],
        cols,
        rows,
        &[("SEEDANCE_API_KEY", KEY)],
        dir,
    )
}

/// The dashboard on an empty store, with `n` pressed.
fn dashboard_n(store: &Path, base: &str, dir: &Path) -> Pty {
    let mut pty = dashboard(store, base, dir);
    pty.wait_text("Tasks 0/0", WAIT);
    pty.send(b"n");
    pty
}

/// The dashboard on an empty store, with the composer open on a fresh draft.
fn composer(store: &Path, base: &str, dir: &Path) -> Pty {
    let pty = dashboard_n(store, base, dir);
    pty.wait_text("Composer", WAIT);
    pty
}

/// `q` quits the dashboard cleanly.
fn quit(mut pty: Pty) {
    pty.send(b"q");
    assert_eq!(pty.wait_exit(WAIT), Some(0));
}

/// Esc closes the composer (a lone Esc, not Alt-q), keeping the draft; then `q` quits.
fn close_and_quit(mut pty: Pty) {
    pty.send(b"\x1b");
    pty.wait_text("n reopens it", WAIT);
    quit(pty);
}

#[test]
fn a_prompt_and_a_local_image_are_submitted_and_succeed() {
    let sim = SimProcess::builder().speed(2000.0).start();
    let dir = tempfile::tempdir().expect("tempdir");
    write_png(&dir.path().join("first.png"));
    write_png(&dir.path().join("last.png"));
    let store = dir.path().join("s.sqlite3");
    let mut pty = composer(&store, &sim.base, dir.path());
    pty.send(b"A paper boat drifts into the sunset");
    pty.wait_text("A paper boat drifts into the sunset", WAIT);
    pty.send(b"\x1b[Z"); // Shift-Tab: from the prompt back round to the assets
    pty.send(b"i");
    pty.wait_text("URL or file path:", WAIT);
    // Complete the file name with Tab.
    let partial = format!("{}/fir", dir.path().display());
    pty.send(partial.as_bytes());
    pty.send(b"\t");
    pty.wait_text("first.png█", WAIT);
    pty.send(b"\r");
    pty.wait_text("first.png  [local", WAIT);
    // A second image becomes the last frame: a first/last-frame request from the keyboard.
    pty.send(b"i");
    pty.wait_text("URL or file path:", WAIT);
    pty.send(format!("{}/last.png\r", dir.path().display()).as_bytes());
    let screen = pty.wait_text("last.png  [local", WAIT);
    assert!(screen.contains("first_frame"), "{screen}");
    assert!(screen.contains("last_frame"), "{screen}");
    pty.wait_text("ready to submit", WAIT);
    pty.send(b"\x13"); // Ctrl-S
    pty.wait_for("the composer closes on acceptance", WAIT, |s| {
        s.contains("submitted") && !s.contains("Composer")
    });
    pty.wait_for("the task succeeds", WAIT, |s| {
        s.contains("Tasks 1/1") && s.contains("✓ succeeded")
    });
    quit(pty);
    // The stored request carries the image inline, as the API wants it.
    let out = crate::support::process::bin(dir.path())
        .args(["--store", store.to_str().expect("utf8"), "ls", "--json"])
        .output()
        .expect("list runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text.matches("data:image/png;base64,").count(),
        2,
        "both images inlined: {text}"
    );
}

#[test]
fn an_unknown_outcome_is_marked_and_never_resent() {
    let sim = SimProcess::builder().speed(2000.0).start();
    arm_fault(
        &sim,
        r#"{"route":"create","kind":{"status_after_processing":500},"times":1}"#,
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("s.sqlite3");
    let mut pty = composer(&store, &sim.base, dir.path());
    pty.send(b"lost in the network");
    pty.wait_text("ready to submit", WAIT);
    pty.send(b"\x13");
    let screen = pty.wait_for("the unknown outcome in the table", WAIT, |s| {
        s.contains("Tasks 1/1") && s.contains("unknown?")
    });
    assert!(!screen.contains("Composer"), "{screen}");
    // Give a would-be automatic re-send every chance, then count creates on the server.
    pty.send(b"R");
    pty.wait_text("refreshing", WAIT);
    assert_eq!(sim.stat("creates"), 1, "one create only");
    // The draft is kept: n brings it back.
    pty.send(b"n");
    let screen = pty.wait_text("Composer", WAIT);
    assert!(
        screen.contains("│lost in the network"),
        "the draft's text: {screen}"
    );
    close_and_quit(pty);
}

#[test]
fn an_invalid_request_is_refused_with_the_error_beside_the_field() {
    let sim = SimProcess::builder().speed(2000.0).start();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("s.sqlite3");
    let mut pty = composer(&store, &sim.base, dir.path());
    pty.send(b"too long a video");
    pty.send(b"\t\x1b[B\x1b[B"); // Tab to the parameters (model), down to ratio, duration
    pty.send(b"50"); // typing replaces the 5 s
    pty.wait_text("50 s", WAIT);
    pty.send(b"\t\t"); // away from the field
    pty.send(b"\x13"); // Ctrl-S
    let screen = pty.wait_text("not sent", WAIT);
    let line = screen
        .lines()
        .find(|l| l.contains("50 s is out of range"))
        .unwrap_or_else(|| panic!("the problem is shown:\n{screen}"));
    assert!(line.contains('✗'), "{line}");
    let lines: Vec<&str> = screen.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains("50 s is out of range"))
        .unwrap_or(0);
    assert!(
        lines[at - 1].contains("duration"),
        "the error sits under the duration field:\n{screen}"
    );
    assert!(screen.contains("Tasks 0/0") || !screen.contains("Tasks 1"));
    pty.send(b"\x1b");
    pty.wait_text("Tasks 0/0", WAIT);
    quit(pty);
}

#[test]
fn a_draft_survives_sigkill_and_is_restored_by_n() {
    let sim = SimProcess::builder().speed(2000.0).start();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("s.sqlite3");
    let mut pty = composer(&store, &sim.base, dir.path());
    pty.send(b"Words typed before the crash");
    pty.wait_text("draft saved", WAIT);
    let pid = pty.pid().expect("pid");
    // SAFETY: plain kill(2) on our own child's pid.
    let rc = unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    assert_eq!(rc, 0);
    assert!(pty.wait_exit(WAIT).is_some(), "killed");
    drop(pty);

    let pty = dashboard_n(&store, &sim.base, dir.path());
    let screen = pty.wait_text("Words typed before the crash", WAIT);
    assert!(screen.contains("restored draft"), "{screen}");
    close_and_quit(pty);
}

#[test]
fn a_request_loaded_from_json_and_rejected_by_the_server_keeps_the_composer_open() {
    let sim = SimProcess::builder().speed(2000.0).start();
    let dir = tempfile::tempdir().expect("tempdir");
    let json = dir.path().join("req.json");
    std::fs::write(
        &json,
        r#"{"model":"doubao-seedance-9-9-999999","content":[{"type":"text","text":"from a file"}],"duration":5}"#,
    )
    .expect("write json");
    let store = dir.path().join("s.sqlite3");
    let mut pty = composer(&store, &sim.base, dir.path());
    pty.send(b"\x1bl"); // Alt-L
    pty.wait_text("load request from JSON file:", WAIT);
    pty.send(format!("{}\r", json.display()).as_bytes());
    pty.wait_text("from a file", WAIT);
    pty.wait_text("ready to submit", WAIT); // an unknown model is the server's to judge
    pty.send(b"\x13");
    let screen = pty.wait_text("rejected by the server", WAIT);
    assert!(
        screen.contains("Composer"),
        "the composer stays open:\n{screen}"
    );
    let lines: Vec<&str> = screen.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains("✗ model"))
        .unwrap_or_else(|| panic!("the model field is marked:\n{screen}"));
    assert!(
        lines[at + 1].contains("✗ not found (HTTP 404"),
        "the server's error sits under the model field:\n{screen}"
    );
    close_and_quit(pty);
}

#[test]
fn ctrl_c_in_the_composer_quits_and_keeps_every_character() {
    let sim = SimProcess::builder().speed(2000.0).start();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("s.sqlite3");
    let mut pty = composer(&store, &sim.base, dir.path());
    pty.send(b"typed and quit at once");
    pty.wait_text("typed and quit at once", WAIT);
    pty.send(b"\x03"); // Ctrl-C, well inside the save debounce
    assert_eq!(pty.wait_exit(WAIT), Some(0));
    drop(pty);
    let mut pty = dashboard_n(&store, &sim.base, dir.path());
    pty.wait_text("typed and quit at once", WAIT);
    pty.send(b"\x03");
    assert_eq!(pty.wait_exit(WAIT), Some(0));
}

#[test]
fn tab_moves_between_sections_and_i_adds_an_image_from_the_form_at_80x24() {
    let sim = SimProcess::builder().speed(2000.0).start();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("s.sqlite3");
    let mut pty = dashboard_sized(&store, &sim.base, dir.path(), 80, 24);
    pty.wait_text("Tasks 0/0", WAIT);
    pty.send(b"n");
    // At 80x24 the parameters do not all fit: the form says there is more.
    let screen = pty.wait_text("Composer", WAIT);
    let screen = if screen.contains("more ↓") {
        screen
    } else {
        pty.wait_text("more ↓", WAIT)
    };
    assert!(screen.contains("Parameters"), "{screen}");
    // Tab: the parameters (model); down to priority (eleven rows below).
    pty.send(b"\t");
    for _ in 0..11 {
        pty.send(b"\x1b[B");
    }
    pty.wait_text("priority", WAIT);
    // `i` on the priority field adds an image instead of blanking the field.
    pty.send(b"i");
    pty.wait_text("URL or file path:", WAIT);
    pty.send(b"\x1b"); // cancel the input line
    pty.wait_for("the input line closed", WAIT, |s| {
        !s.contains("URL or file path:")
    });
    // Tab from the assets goes round to the prompt, which takes text.
    pty.send(b"\t");
    pty.send(b"a heron");
    pty.wait_text("a heron", WAIT);
    close_and_quit(pty);
}

#[test]
fn a_task_sent_with_a_local_image_is_edited_showing_the_file_name_at_80x24() {
    let sim = SimProcess::builder().speed(2000.0).start();
    let dir = tempfile::tempdir().expect("tempdir");
    write_png(&dir.path().join("harbour-ref.png"));
    let store = dir.path().join("s.sqlite3");
    let (code, out, err) = run(bin_on(dir.path(), &store, &sim.base, KEY)
        .current_dir(dir.path())
        .args([
            "submit",
            "--prompt",
            "boats leave the harbour [[sim:succeed]]",
            "--image",
            "harbour-ref.png",
        ]));
    assert_eq!(code, 0, "{out}{err}");
    let mut pty = dashboard_sized(&store, &sim.base, dir.path(), 80, 24);
    pty.wait_text("Tasks 1/1", WAIT);
    pty.send(b"e");
    let screen = pty.wait_text("harbour-ref.png (inline image/png,", WAIT);
    assert!(screen.contains("editing a copy"), "{screen}");
    assert!(!screen.contains("iVBOR"), "no base64 on screen: {screen}");
    // The edit, sent, keeps the name with its own task.
    pty.send(b"\x13"); // Ctrl-S
    pty.wait_for("the edit is accepted", WAIT, |s| {
        s.contains("Tasks 2/2") && !s.contains("Composer")
    });
    quit(pty);
    let s = seedance_tui::store::Store::open(&store).expect("store");
    let tasks = s
        .list(&seedance_tui::store::TaskQuery::default())
        .expect("tasks");
    assert_eq!(tasks.len(), 2);
    for t in &tasks {
        let req: serde_json::Value = serde_json::from_str(&t.request_json).expect("a request");
        let url = req["content"]
            .as_array()
            .expect("content")
            .iter()
            .find_map(|c| c["image_url"]["url"].as_str())
            .expect("the image");
        assert!(url.starts_with("data:image/png;base64,"), "{url:.40}");
        let names = seedance_tui::engine::asset_files::AssetFiles::from_json(
            &s.asset_files(&t.local_id).expect("read").expect("names"),
        );
        assert_eq!(names.name(url), Some("harbour-ref.png"), "{}", t.local_id);
    }
}
