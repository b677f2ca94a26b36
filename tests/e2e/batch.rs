//! `submit --batch` / `--prompts` against the simulator in its own process: the in-flight cap
//! holds at the server (its peak-in-flight counter), a rerun sends nothing, the account's
//! queued-task cap and 429s hold the queue and it completes, a refused line is `rejected` and
//! the queue goes on, and whole-file validation (bad line, missing local file, empty file, a
//! 10,000-line file) sends nothing.

use crate::support::process::{arm_fault, bin_on, fast_config, finish};
use crate::support::sim::SimProcess;
use seedance_tui::store::{Store, TaskQuery};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

const KEY: &str = "sk-batch-test-key";
const MODEL: &str = "doubao-seedance-2-0-fast-260128";

struct Setup {
    dir: tempfile::TempDir,
    store: PathBuf,
    config: PathBuf,
}

impl Setup {
    fn new() -> Setup {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = dir.path().join("s.sqlite3");
        let config = fast_config(dir.path(), 2.0);
        Setup { dir, store, config }
    }

    fn cmd(&self, sim: &SimProcess, args: &[&str]) -> Command {
        let mut c = bin_on(self.dir.path(), &self.store, &sim.base, KEY);
        c.args(["--config", self.config.to_str().expect("utf8")])
            .args(args);
        c
    }

    fn file(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).expect("write");
        p
    }

    fn rows(&self) -> Vec<seedance_tui::store::TaskRecord> {
        Store::open(&self.store)
            .expect("open")
            .list(&TaskQuery::default())
            .expect("list")
    }
}

fn line(prompt: &str) -> String {
    format!(r#"{{"model":"{MODEL}","content":[{{"type":"text","text":"{prompt}"}}],"duration":5}}"#)
}

fn lines(n: usize, tag: &str) -> String {
    (1..=n)
        .map(|i| line(&format!("{tag} {i} [[sim:succeed]]")) + "\n")
        .collect()
}

fn stat(sim: &SimProcess, field: &str) -> u64 {
    sim.stat(field)
}

fn creates(sim: &SimProcess) -> u64 {
    sim.stat("creates")
}

#[test]
fn twelve_lines_under_a_cap_of_three_never_exceed_it_and_a_rerun_sends_nothing() {
    let sim = SimProcess::builder().speed(400.0).start();
    let s = Setup::new();
    let file = s.file("b.jsonl", &lines(12, "capped"));
    let f = file.to_str().expect("utf8");
    let out = s.dir.path().join("out");
    let o = out.to_str().expect("utf8");
    let args = [
        "submit",
        "--batch",
        f,
        "--max-in-flight",
        "3",
        "--wait",
        "--out",
        o,
        "--json-out",
    ];
    let (code, stdout, stderr) = finish(s.cmd(&sim, &args), Duration::from_secs(120));
    assert_eq!(code, 0, "{stderr}");
    let objs: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(objs.len(), 12, "{stdout}");
    for (i, v) in objs.iter().enumerate() {
        assert_eq!(v["line"], i + 1);
        assert_eq!(v["status"], "succeeded", "{v}");
        assert!(v["task_id"].as_str().is_some_and(|t| t.starts_with("cgt-")));
        assert!(v["key"].as_str().is_some_and(|k| !k.is_empty()));
    }
    assert!(
        stderr.contains("12 lines: 12 sent, 12 succeeded, 0 failed"),
        "{stderr}"
    );
    let peak = stat(&sim, "peak_in_flight");
    assert!(
        (1..=3).contains(&peak),
        "{peak} tasks were queued or running at the server at once"
    );
    assert_eq!(creates(&sim), 12);
    assert_eq!(stat(&sim, "repeated_client_ids"), 0);
    let saved = std::fs::read_dir(&out)
        .expect("out dir")
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "mp4"))
        .count();
    assert_eq!(saved, 12, "every result saved into --out");

    // The same file again: nothing new is sent.
    let (code, stdout, stderr) = finish(
        s.cmd(&sim, &["submit", "--batch", f]),
        Duration::from_secs(60),
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("12 already submitted"), "{stderr}");
    assert_eq!(stdout.lines().count(), 12);
    assert_eq!(creates(&sim), 12, "a rerun sends 0 creates");
    assert_eq!(s.rows().len(), 12);

    // An edited line is new.
    let edited = lines(12, "capped").replacen("capped 1 ", "capped one ", 1);
    std::fs::write(&file, edited).expect("edit");
    let (code, _, stderr) = finish(
        s.cmd(&sim, &["submit", "--batch", f]),
        Duration::from_secs(60),
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("queued 1 request(s); 11 already submitted"),
        "{stderr}"
    );
    assert_eq!(creates(&sim), 13);
}

#[test]
fn the_accounts_queued_task_cap_holds_the_queue_and_it_completes() {
    let sim = SimProcess::builder()
        .speed(400.0)
        .max_queued(2)
        .max_running(1)
        .start();
    let s = Setup::new();
    let file = s.file("b.jsonl", &lines(6, "quota"));
    let args = [
        "submit",
        "--batch",
        file.to_str().expect("utf8"),
        "--max-in-flight",
        "10",
    ];
    let (code, stdout, stderr) = finish(s.cmd(&sim, &args), Duration::from_secs(120));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("queue held: server busy") && stderr.contains("QuotaExceeded"),
        "{stderr}"
    );
    assert!(stderr.contains("6 lines: 6 sent, 0 rejected"), "{stderr}");
    assert_eq!(stdout.lines().count(), 6);
    let capped = stat(&sim, "queue_capped");
    assert!(capped > 0, "the cap was reached");
    assert_eq!(creates(&sim) - capped, 6, "every line created once");
    assert_eq!(stat(&sim, "repeated_client_ids"), 0);
    assert!(s.rows().iter().all(|r| r.task_id.is_some()));
}

#[test]
fn a_429_holds_the_queue_and_a_refused_line_is_rejected_while_the_rest_go_on() {
    let sim = SimProcess::builder().speed(400.0).start();
    let s = Setup::new();
    arm_fault(
        &sim,
        r#"{"route":"create","kind":{"status":429},"times":2}"#,
    );
    let file = s.file("b.jsonl", &lines(3, "held"));
    let f = file.to_str().expect("utf8");
    let (code, _, stderr) = finish(
        s.cmd(&sim, &["submit", "--batch", f]),
        Duration::from_secs(60),
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("queue held: server busy"), "{stderr}");
    assert!(stderr.contains("queue resumed"), "{stderr}");
    assert_eq!(creates(&sim), 5, "two refused, then each line once");

    arm_fault(
        &sim,
        r#"{"route":"create","kind":{"status":400},"times":1}"#,
    );
    let file = s.file("c.jsonl", &lines(3, "refused"));
    let (code, stdout, stderr) = finish(
        s.cmd(
            &sim,
            &["submit", "--batch", file.to_str().expect("utf8"), "--wait"],
        ),
        Duration::from_secs(60),
    );
    assert_eq!(code, 1, "a rejected line fails the batch: {stderr}");
    assert!(stdout.starts_with("1\t"), "{stdout}");
    assert!(
        stdout.lines().next().expect("line 1").ends_with("rejected"),
        "{stdout}"
    );
    assert!(
        stderr.contains("3 lines: 2 sent, 2 succeeded, 0 failed, 1 rejected"),
        "{stderr}"
    );
}

#[test]
fn an_invalid_file_sends_nothing_and_names_each_bad_line() {
    let sim = SimProcess::builder().speed(400.0).start();
    let s = Setup::new();
    let text = format!(
        "{}\n{{not json\n{}\n{{\"model\":\"{MODEL}\",\"content\":[{{\"type\":\"text\",\"text\":\"x\"}},{{\"type\":\"image_url\",\"image_url\":{{\"url\":\"nowhere.png\"}},\"role\":\"first_frame\"}}]}}\n",
        line("fine"),
        line("bad ratio").replace("\"duration\":5", "\"ratio\":\"7:5\""),
    );
    let file = s.file("b.jsonl", &text);
    let f = file.to_str().expect("utf8");
    let (code, stdout, stderr) = finish(
        s.cmd(&sim, &["submit", "--batch", f]),
        Duration::from_secs(30),
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains(&format!("{f}:2: json: not JSON")),
        "{stderr}"
    );
    assert!(stderr.contains(&format!("{f}:3: ratio: ")), "{stderr}");
    assert!(
        stderr.contains(&format!("{f}:4: content[1].image_url: "))
            && stderr.contains("nowhere.png"),
        "{stderr}"
    );
    assert!(
        stderr.contains("3 of 4 lines are not valid; nothing was queued"),
        "{stderr}"
    );
    assert_eq!(creates(&sim), 0);
    assert!(s.rows().is_empty(), "nothing stored");

    // --skip-invalid queues and sends the good line.
    let (code, stdout, stderr) = finish(
        s.cmd(&sim, &["submit", "--batch", f, "--skip-invalid"]),
        Duration::from_secs(60),
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("skipping 3 invalid line(s)"), "{stderr}");
    assert_eq!(stdout.lines().count(), 1);
    assert_eq!(creates(&sim), 1);

    // An empty file, and a missing one.
    let empty = s.file("empty.jsonl", "\n# nothing\n\n");
    let (code, _, stderr) = finish(
        s.cmd(&sim, &["submit", "--batch", empty.to_str().expect("utf8")]),
        Duration::from_secs(30),
    );
    assert_eq!(code, 2);
    assert!(stderr.contains("holds no requests"), "{stderr}");
    let missing = s.dir.path().join("missing.jsonl");
    let (code, _, stderr) = finish(
        s.cmd(
            &sim,
            &["submit", "--prompts", missing.to_str().expect("utf8")],
        ),
        Duration::from_secs(30),
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains("cannot read") && stderr.contains("missing.jsonl"),
        "{stderr}"
    );
    assert_eq!(creates(&sim), 1);
}

#[test]
fn ten_thousand_lines_are_validated_and_queued_once() {
    let sim = SimProcess::builder().speed(400.0).fail_rate(0.1).start();
    let s = Setup::new();
    let text: String = (1..=10_000)
        .map(|i| format!("prompt number {i}\n"))
        .collect();
    let file = s.file("p.txt", &text);
    let f = file.to_str().expect("utf8");
    let args = ["submit", "--prompts", f, "--detach", "--model", MODEL];
    let (code, stdout, stderr) = finish(s.cmd(&sim, &args), Duration::from_secs(120));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("queued 10000 request(s)"), "{stderr}");
    assert!(
        stderr.contains("no dashboard or `seedance-tui watch --daemon`"),
        "{stderr}"
    );
    assert_eq!(stdout.lines().count(), 10_000);
    assert!(stdout.lines().all(|l| l.ends_with("\tpending")));
    let store = Store::open(&s.store).expect("open");
    let front = store.queue(None).expect("queue");
    assert_eq!(front.len(), 10_000);
    assert_eq!(front[0].prompt, "prompt number 1");
    assert_eq!(front[9_999].prompt, "prompt number 10000");
    assert_eq!(creates(&sim), 0, "--detach sends nothing itself");
    let (code, _, stderr) = finish(s.cmd(&sim, &args), Duration::from_secs(120));
    assert_eq!(code, 0, "{stderr}");
    // Queued by the first run and never sent: not "submitted".
    assert!(
        stderr.contains("10000 already queued by an earlier run and not sent yet"),
        "{stderr}"
    );
    assert_eq!(store.queue(None).expect("queue").len(), 10_000);
}

#[test]
fn prompts_with_repeat_make_variants_with_their_own_seeds() {
    let sim = SimProcess::builder().speed(400.0).start();
    let s = Setup::new();
    let file = s.file("p.txt", "a fox [[sim:succeed]]\nan owl [[sim:succeed]]\n");
    let args = [
        "submit",
        "--prompts",
        file.to_str().expect("utf8"),
        "--repeat",
        "3",
        "--model",
        MODEL,
        "--json-out",
    ];
    let (code, stdout, stderr) = finish(s.cmd(&sim, &args), Duration::from_secs(60));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.lines().count(), 6, "{stdout}");
    assert_eq!(creates(&sim), 6);
    let seeds: std::collections::HashSet<i64> = s
        .rows()
        .iter()
        .map(|r| r.request().and_then(|q| q.seed).expect("a seed"))
        .collect();
    assert_eq!(seeds.len(), 6);
    let (_, _, stderr) = finish(s.cmd(&sim, &args), Duration::from_secs(60));
    assert!(stderr.contains("6 already submitted"), "{stderr}");
    assert_eq!(creates(&sim), 6);
}

/// Wait until every row in the store is settled (or panic after `timeout`).
fn wait_settled(s: &Setup, n: usize, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    loop {
        let rows = s.rows();
        if rows.len() == n && rows.iter().all(|r| r.phase.is_settled()) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "not settled after {timeout:?}: {:?}",
            rows.iter().map(|r| r.phase.as_str()).collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_detached_batchs_cap_travels_with_its_rows_to_the_daemon_that_feeds_them() {
    // Tasks take a while at the server, so a feeder at its own cap (8) would have them all
    // queued or running at once.
    let sim = SimProcess::builder().speed(10.0).start();
    let s = Setup::new();
    let file = s.file("b.jsonl", &lines(8, "detached"));
    let f = file.to_str().expect("utf8");
    let args = ["submit", "--batch", f, "--max-in-flight", "2", "--detach"];
    let (code, _, stderr) = finish(s.cmd(&sim, &args), Duration::from_secs(60));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(creates(&sim), 0, "--detach sends nothing itself");
    let _daemon = crate::support::process::Proc::spawn(s.cmd(&sim, &["watch", "--daemon"]));
    wait_settled(&s, 8, Duration::from_secs(120));
    assert!(s.rows().iter().all(|r| r.phase.as_str() == "succeeded"));
    let peak = stat(&sim, "peak_in_flight");
    assert!(
        (1..=2).contains(&peak),
        "{peak} tasks were queued or running at once under the batch's cap of 2"
    );
}

#[test]
fn a_line_removed_from_the_queue_is_skipped_when_the_file_runs_again() {
    let sim = SimProcess::builder().speed(400.0).start();
    let s = Setup::new();
    let file = s.file("b.jsonl", &lines(3, "removed"));
    let f = file.to_str().expect("utf8");
    let args = ["submit", "--batch", f, "--detach"];
    let (code, _, stderr) = finish(s.cmd(&sim, &args), Duration::from_secs(60));
    assert_eq!(code, 0, "{stderr}");
    // What `X` in the dashboard does to the second line.
    let store = Store::open(&s.store).expect("open");
    let second = store.queue(None).expect("queue")[1].local_id.clone();
    assert_eq!(store.queue_remove(&[second]).expect("remove"), 1);
    let (code, stdout, stderr) = finish(s.cmd(&sim, &args), Duration::from_secs(60));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("2 already queued by an earlier run"),
        "{stderr}"
    );
    assert!(stderr.contains("1 removed line skipped"), "{stderr}");
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
    assert_eq!(store.queue(None).expect("queue").len(), 2);
}

#[test]
fn one_key_for_two_requests_is_an_error_naming_both_lines_and_a_repeated_line_is_sent_once() {
    let sim = SimProcess::builder().speed(400.0).start();
    let s = Setup::new();
    let keyed = |key: &str, prompt: &str| {
        format!(
            r#"{{"key":"{key}","model":"{MODEL}","content":[{{"type":"text","text":"{prompt} [[sim:succeed]]"}}],"duration":5}}"#
        )
    };
    let file = s.file(
        "clash.jsonl",
        &format!("{}\n{}\n", keyed("shot", "a fox"), keyed("shot", "a cat")),
    );
    let (code, _, stderr) = finish(
        s.cmd(&sim, &["submit", "--batch", file.to_str().expect("utf8")]),
        Duration::from_secs(60),
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr
            .contains("clash.jsonl:2: key: `shot` is also the key of line 1, with another request"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was queued"), "{stderr}");
    assert_eq!(creates(&sim), 0);
    assert!(s.rows().is_empty());

    let file = s.file(
        "twice.jsonl",
        &format!("{}\n{}\n", keyed("again", "a fox"), keyed("again", "a fox")),
    );
    let (code, stdout, stderr) = finish(
        s.cmd(&sim, &["submit", "--batch", file.to_str().expect("utf8")]),
        Duration::from_secs(60),
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stderr
            .matches("line 2 repeats line 1 (same key, same request): queued once")
            .count(),
        1,
        "said once: {stderr}"
    );
    assert!(!stderr.contains("already submitted"), "{stderr}");
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert_eq!(creates(&sim), 1);
}

#[test]
fn a_byte_order_mark_is_accepted_and_bad_utf8_is_named_by_its_line() {
    let sim = SimProcess::builder().speed(400.0).start();
    let s = Setup::new();
    let bom = s.file("bom.jsonl", &format!("\u{feff}{}\n", line("with a BOM")));
    let (code, stdout, stderr) = finish(
        s.cmd(
            &sim,
            &["submit", "--batch", bom.to_str().expect("utf8"), "--detach"],
        ),
        Duration::from_secs(60),
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("queued 1 request(s)"), "{stderr}");
    assert_eq!(stdout.lines().count(), 1, "{stdout}");

    let mut bytes = format!("{}\n", line("fine")).into_bytes();
    bytes.extend(b"{\"model\":\"x\xff\xfe\"}\n");
    let bad = s.dir.path().join("latin1.jsonl");
    std::fs::write(&bad, bytes).expect("write");
    let (code, _, stderr) = finish(
        s.cmd(
            &sim,
            &["submit", "--batch", bad.to_str().expect("utf8"), "--detach"],
        ),
        Duration::from_secs(60),
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("latin1.jsonl:2: line: is not UTF-8 text"),
        "{stderr}"
    );
    assert_eq!(s.rows().len(), 1, "only the first file's line");
    assert_eq!(creates(&sim), 0);
}

fn mkfifo(path: &std::path::Path) {
    let c = std::ffi::CString::new(path.to_str().expect("utf8")).expect("cstring");
    // SAFETY: a valid NUL-terminated path.
    let rc = unsafe { libc::mkfifo(c.as_ptr(), 0o600) };
    assert_eq!(rc, 0, "mkfifo");
}

#[test]
fn a_named_pipe_or_a_terminal_on_stdin_says_it_is_being_read() {
    use crate::support::process::Proc;
    let sim = SimProcess::builder().speed(400.0).start();
    let s = Setup::new();
    let fifo = s.dir.path().join("lines.fifo");
    mkfifo(&fifo);
    let mut p = Proc::spawn(s.cmd(
        &sim,
        &[
            "submit",
            "--batch",
            fifo.to_str().expect("utf8"),
            "--detach",
        ],
    ));
    p.wait_line("the wait to be said", Duration::from_secs(30), |l| {
        l.err && l.text.contains("reading the batch from the named pipe")
    });
    // A writer comes: the lines are read and queued.
    std::fs::write(&fifo, format!("{}\n", line("through a pipe"))).expect("write the pipe");
    p.wait_line("the line queued", Duration::from_secs(30), |l| {
        l.err && l.text.contains("queued 1 request(s)")
    });
    let status = p.child.wait().expect("exit");
    assert!(status.success());

    // stdin on a terminal.
    let store = s.store.to_str().expect("utf8").to_string();
    let config = s.config.to_str().expect("utf8").to_string();
    let mut pty = crate::support::pty::Pty::spawn(
        &[
            "--store",
            &store,
            "--config",
            &config,
            "--base-url",
            &sim.base,
            "submit",
            "--batch",
            "-",
            "--detach",
        ],
        100,
        30,
        &[],
        s.dir.path(),
    );
    pty.wait_text("reading the batch from stdin", Duration::from_secs(30));
    pty.send(format!("{}\n\x04", line("typed in")).as_bytes());
    pty.wait_text("queued 1 request(s)", Duration::from_secs(30));
    assert_eq!(pty.wait_exit(Duration::from_secs(30)), Some(0));
    assert_eq!(s.rows().len(), 2);
}

#[test]
fn references_that_leave_the_batch_folder_are_refused_unless_allowed() {
    let sim = SimProcess::builder().speed(400.0).start();
    let s = Setup::new();
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend(400u32.to_be_bytes());
    png.extend(300u32.to_be_bytes());
    png.extend([8, 2, 0, 0, 0, 0, 0, 0, 0]);
    // The user's private image, next to the folder a batch file came in.
    let private = s.dir.path().join("private.png");
    std::fs::write(&private, &png).expect("write");
    let inbox = s.dir.path().join("inbox");
    std::fs::create_dir(&inbox).expect("mkdir");
    std::fs::write(inbox.join("own.png"), &png).expect("write");
    std::os::unix::fs::symlink(&private, inbox.join("link.png")).expect("symlink");
    let with_image = |path: &str| {
        format!(
            r#"{{"model":"{MODEL}","content":[{{"type":"text","text":"x"}},{{"type":"image_url","image_url":{{"url":"{path}"}},"role":"first_frame"}}],"duration":5}}"#
        )
    };
    let text = [
        with_image("own.png"),
        with_image("../private.png"),
        with_image("link.png"),
        with_image(private.to_str().expect("utf8")),
    ]
    .join("\n");
    let file = inbox.join("b.jsonl");
    std::fs::write(&file, text).expect("write");
    let f = file.to_str().expect("utf8");
    let (code, _, stderr) = finish(
        s.cmd(&sim, &["submit", "--batch", f, "--detach"]),
        Duration::from_secs(60),
    );
    assert_eq!(code, 2, "{stderr}");
    for n in 2..=4 {
        assert!(
            stderr.contains(&format!("b.jsonl:{n}: content[1].image_url: `"))
                && stderr.contains("is outside the batch file's folder"),
            "line {n}: {stderr}"
        );
    }
    assert!(!stderr.contains("b.jsonl:1:"), "{stderr}");
    assert!(stderr.contains("3 of 4 lines are not valid"), "{stderr}");
    assert!(s.rows().is_empty());

    let (code, _, stderr) = finish(
        s.cmd(
            &sim,
            &["submit", "--batch", f, "--detach", "--allow-outside-refs"],
        ),
        Duration::from_secs(60),
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("queued 4 request(s)"), "{stderr}");
    assert_eq!(creates(&sim), 0);
}

#[test]
fn lines_an_earlier_run_queued_but_never_sent_are_not_called_submitted() {
    let sim = SimProcess::builder().speed(400.0).start();
    let s = Setup::new();
    let file = s.file("b.jsonl", &lines(3, "later"));
    let f = file.to_str().expect("utf8");
    // Queued and not sent (as a run killed before it sent them leaves them).
    let (code, _, stderr) = finish(
        s.cmd(&sim, &["submit", "--batch", f, "--detach"]),
        Duration::from_secs(60),
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(creates(&sim), 0);
    let (code, _, stderr) = finish(
        s.cmd(&sim, &["submit", "--batch", f]),
        Duration::from_secs(60),
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("3 already queued by an earlier run and not sent yet"),
        "{stderr}"
    );
    assert!(!stderr.contains("already submitted"), "{stderr}");
    assert!(!stderr.contains("nothing new to send"), "{stderr}");
    assert!(stderr.contains("3 lines: 3 sent"), "{stderr}");
    assert_eq!(creates(&sim), 3);
}
