//! End to end: the real dashboard in a PTY against a simulator process. Succeeded tasks are
//! auto-downloaded (the saved column turns ✓), each file exactly once — also after the
//! dashboard restarts — and a task finishing while it runs rings the bell and sends an OSC 777
//! desktop notification (asserted on the raw bytes the program wrote).

use crate::support::pty::Pty;
use crate::support::sim::SimProcess;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(60);
const KEY: &str = "sk-results-pty-test";

fn cli(args: &[&str], store: &str, config: &str, base: &str) -> std::process::Output {
    crate::support::process::cli_with(args, store, config, base, KEY)
}

/// Rows of succeeded tasks whose saved column shows ✓.
fn saved_rows(screen: &str) -> usize {
    screen
        .lines()
        .filter(|l| l.contains("✓ succeeded") && l.trim_end().ends_with('✓'))
        .count()
}

#[test]
fn the_dashboard_saves_every_succeeded_result_exactly_once_and_notifies() {
    let sim = SimProcess::builder().speed(2000.0).start();
    let dir = tempfile::tempdir().expect("tempdir");
    let out_dir = dir.path().join("out");
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[download]\noutput_dir = {:?}\ntemplate = \"{{id}}.mp4\"\n[notify]\nbatch_secs = 1\n",
            out_dir.display().to_string()
        ),
    )
    .expect("config");
    let (store, config) = (
        dir.path().join("s.sqlite3").display().to_string(),
        config.display().to_string(),
    );
    for p in ["fox in snow", "paper boats"] {
        let out = cli(&["submit", "--prompt", p], &store, &config, &sim.base);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = cli(&["watch"], &store, &config, &sim.base);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        sim.stat("downloads"),
        0,
        "watch without --download saves nothing"
    );

    let args = [
        "--store",
        &store,
        "--config",
        &config,
        "--base-url",
        &sim.base,
    ];
    let env = [("SEEDANCE_API_KEY", KEY)];
    let mut pty = Pty::spawn(&args, 120, 30, &env, dir.path());
    pty.wait_for("both results saved", WAIT, |s| saved_rows(s) == 2);
    assert_eq!(
        sim.stat("downloads"),
        4,
        "one video and one last frame each"
    );
    pty.send(b"q");
    assert_eq!(pty.wait_exit(WAIT), Some(0));

    // Restart: nothing is fetched again; a new task finishing meanwhile is saved and announced.
    // The terminal is one known to take OSC 52, so a copy is reported as done.
    let env = [("SEEDANCE_API_KEY", KEY), ("TERM_PROGRAM", "WezTerm")];
    let mut pty = Pty::spawn(&args, 120, 30, &env, dir.path());
    pty.wait_text("Tasks 2/2", WAIT);
    let out = cli(
        &["submit", "--prompt", "neon street"],
        &store,
        &config,
        &sim.base,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    pty.wait_for("the new result saved", WAIT, |s| saved_rows(s) == 3);
    assert_eq!(sim.stat("downloads"), 6, "only the new task's two files");
    let files = std::fs::read_dir(&out_dir).expect("out dir").count();
    assert_eq!(files, 6, "no duplicates, no .part left");
    // The batch closes on the first clock tick a second after the finish.
    let osc = b"\x1b]777;notify;seedance-tui;";
    let find = |raw: &[u8]| raw.windows(osc.len()).position(|w| w == osc);
    let deadline = std::time::Instant::now() + WAIT;
    let (raw, at) = loop {
        let raw = pty.raw();
        if let Some(at) = find(&raw) {
            break (raw, at);
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no OSC 777 notification was written"
        );
        std::thread::sleep(Duration::from_millis(50)); // polling an observable condition
    };
    assert!(raw[at..].windows(9).any(|w| w == b"succeeded"));
    assert!(raw[..at].ends_with(b"\x07"), "the bell rings first");

    // Copy the newest task's local paths: an OSC 52 sequence carries them.
    pty.send(b"g");
    pty.send(b"y");
    pty.wait_text("local file path(s)", WAIT);
    pty.send(b"p");
    pty.wait_text("copied the local path", WAIT);
    let raw = pty.raw();
    let osc52 = b"\x1b]52;c;";
    let start = raw
        .windows(osc52.len())
        .rposition(|w| w == osc52)
        .expect("an OSC 52 sequence was written")
        + osc52.len();
    let len = raw[start..]
        .iter()
        .position(|&b| b == 0x07)
        .expect("terminated by BEL");
    use base64::Engine as _;
    let copied = base64::engine::general_purpose::STANDARD
        .decode(&raw[start..start + len])
        .expect("base64");
    let copied = String::from_utf8(copied).expect("utf8");
    let paths: Vec<&str> = copied.lines().collect();
    assert_eq!(paths.len(), 2, "{copied}");
    assert!(paths[0].starts_with(&out_dir.display().to_string()) && paths[0].ends_with(".mp4"));
    assert!(paths[1].ends_with(".last.png"), "{copied}");
    pty.send(b"q");
    assert_eq!(pty.wait_exit(WAIT), Some(0));
}
