//! `seedance-tui doctor`: each check passing and failing, by running the real binary against the
//! simulator (a separate process) over loopback.

use crate::support::sim::SimProcess;
use seedance_tui::cli::doctor::{Status, clock_check, tmux_check};
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Command;

const KEY: &str = "doctor-test-key-4f1c9e";

/// The binary with the user's config, keys and data kept out.
fn bin() -> Command {
    crate::support::process::bin(&std::env::temp_dir().join("seedance-e2e-doctor"))
}

/// A set-up that passes every check: a private config file, a new store and an output folder in
/// a temporary directory, and the simulator's key.
struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new() -> Setup {
        let s = Setup {
            dir: tempfile::tempdir().expect("tempdir"),
        };
        s.write_config("[defaults]\nduration = 5\n");
        std::fs::create_dir(s.out()).expect("out dir");
        s
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn config(&self) -> PathBuf {
        self.path("config.toml")
    }

    fn store(&self) -> PathBuf {
        self.path("store.sqlite3")
    }

    fn out(&self) -> PathBuf {
        self.path("videos")
    }

    fn write_config(&self, text: &str) {
        std::fs::write(self.config(), text).expect("write config");
        std::fs::set_permissions(self.config(), std::fs::Permissions::from_mode(0o600))
            .expect("chmod");
    }

    /// `doctor` with this set-up, against `base`; `overrides` replace the set-up's `--store` or
    /// `--out` (`("--out", DIR)`).
    fn command(&self, base: &str, overrides: &[&str]) -> Command {
        self.command_via(bin(), base, overrides)
    }

    /// [`Setup::command`] run by `program` (the binary, or a wrapper that runs it).
    fn command_via(&self, mut c: Command, base: &str, overrides: &[&str]) -> Command {
        let value = |flag: &str, default: PathBuf| -> String {
            overrides
                .iter()
                .position(|a| *a == flag)
                .and_then(|i| overrides.get(i + 1))
                .map(|v| v.to_string())
                .unwrap_or_else(|| default.to_string_lossy().into_owned())
        };
        c.arg("doctor")
            .args(["--config", &self.config().to_string_lossy()])
            .args(["--store", &value("--store", self.store())])
            .args(["--out", &value("--out", self.out())])
            .args(["--base-url", base])
            .env("SEEDANCE_API_KEY", KEY)
            .env("TERM", "xterm-256color")
            .env_remove("TMUX")
            .env_remove("STY")
            .env_remove("NO_COLOR");
        c
    }
}

/// Run `doctor --json`; the exit code and the checks by name.
fn doctor_json(mut cmd: Command) -> (i32, Value, String) {
    let out = cmd.arg("--json").output().expect("doctor runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let doc: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("doctor --json prints JSON ({e}): {stdout}"));
    (out.status.code().unwrap_or(-1), doc, stdout)
}

fn check<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check named {name}: {doc}"))
}

fn status(doc: &Value, name: &str) -> String {
    check(doc, name)["status"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

fn detail(doc: &Value, name: &str) -> String {
    check(doc, name)["detail"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

fn fix(doc: &Value, name: &str) -> String {
    check(doc, name)["fix"].as_str().unwrap_or("").to_string()
}

fn sim() -> SimProcess {
    SimProcess::builder().api_key(KEY).fail_rate(0.1).start()
}

#[test]
fn everything_passes_on_a_good_setup_and_exits_0() {
    let sim = sim();
    let s = Setup::new();
    let (code, doc, stdout) = doctor_json(s.command(&sim.base, &[]));
    assert_eq!(code, 0, "{stdout}");
    assert_eq!(doc["ok"], true);
    for name in ["config", "key", "base URL", "clock", "store", "output"] {
        assert_eq!(status(&doc, name), "pass", "{name}: {stdout}");
    }
    assert!(detail(&doc, "key").contains("SEEDANCE_API_KEY"));
    assert!(detail(&doc, "key").contains("accepted"));
    assert!(detail(&doc, "base URL").contains("answers as the Ark API"));
    assert!(detail(&doc, "store").contains("does not exist yet"));
    assert!(detail(&doc, "output").contains("free"));
    assert!(detail(&doc, "config").contains("mode 600"));
    // Not a terminal here: skipped, which does not fail the run.
    assert_eq!(status(&doc, "terminal"), "skip");
    assert!(!stdout.contains(KEY), "the key never appears");
    // Looking does not create the store.
    assert!(!s.store().exists());
    // The probe asked for exactly one task and created none.
    assert_eq!(sim.stat("creates"), 0);
    assert_eq!(sim.stat("gets"), 1);
}

#[test]
fn lines_have_a_mark_and_the_fix() {
    let sim = sim();
    let s = Setup::new();
    let out = s
        .command(&sim.base, &[])
        .env_remove("SEEDANCE_API_KEY")
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let key_line = text
        .lines()
        .find(|l| l.starts_with("✗ key: "))
        .unwrap_or_else(|| panic!("a failed key line: {text}"));
    assert!(
        key_line.contains("— fix: export SEEDANCE_API_KEY="),
        "{key_line}"
    );
    assert!(
        text.lines().any(|l| l.starts_with("✓ base URL: ")),
        "{text}"
    );
    assert!(text.lines().any(|l| l.starts_with("✓ store: ")), "{text}");
    // One line per check: every line starts with a mark.
    for l in text.lines() {
        assert!(
            l.starts_with("✓ ") || l.starts_with("✗ ") || l.starts_with("- "),
            "{l}"
        );
    }
}

#[test]
fn no_key_fails_the_key_check_but_the_url_still_checks() {
    let sim = sim();
    let s = Setup::new();
    let mut cmd = s.command(&sim.base, &[]);
    cmd.env_remove("SEEDANCE_API_KEY").env_remove("ARK_API_KEY");
    let (code, doc, _) = doctor_json(cmd);
    assert_eq!(code, 1);
    assert_eq!(doc["ok"], false);
    assert_eq!(status(&doc, "key"), "fail");
    assert!(detail(&doc, "key").contains("SEEDANCE_API_KEY, ARK_API_KEY"));
    assert!(fix(&doc, "key").contains("export SEEDANCE_API_KEY"));
    // The API answered its JSON 401: the URL is right.
    assert_eq!(status(&doc, "base URL"), "pass");
}

#[test]
fn a_refused_key_is_named_by_its_variable_never_shown() {
    let sim = sim();
    let s = Setup::new();
    let wrong = "wrong-key-7d3a0b55";
    let mut cmd = s.command(&sim.base, &[]);
    cmd.env("SEEDANCE_API_KEY", wrong);
    let (code, doc, stdout) = doctor_json(cmd);
    assert_eq!(code, 1);
    assert_eq!(status(&doc, "key"), "fail");
    assert!(detail(&doc, "key").contains("read from SEEDANCE_API_KEY"));
    assert!(detail(&doc, "key").contains("refused"));
    assert!(!stdout.contains(wrong), "the key never appears: {stdout}");
    assert_eq!(status(&doc, "base URL"), "pass");
}

#[test]
fn a_profile_key_env_is_the_variable_reported() {
    let sim = sim();
    let s = Setup::new();
    s.write_config(&format!(
        "profile = \"work\"\n[profiles.work]\nbase_url = \"{}\"\nkey_env = \"WORK_ARK_KEY\"\n",
        sim.base
    ));
    let mut cmd = bin();
    cmd.arg("doctor")
        .args(["--config", &s.config().to_string_lossy()])
        .args(["--store", &s.store().to_string_lossy()])
        .args(["--out", &s.out().to_string_lossy()])
        .env("WORK_ARK_KEY", KEY)
        .env("TERM", "xterm");
    let (code, doc, stdout) = doctor_json(cmd);
    assert_eq!(code, 0, "{stdout}");
    assert!(detail(&doc, "key").contains("read from WORK_ARK_KEY (profile work)"));
}

#[test]
fn a_wrong_url_path_fails_with_the_fix() {
    let sim = sim();
    let s = Setup::new();
    let wrong = sim.base.replace("/api/v3", "/v3");
    let (code, doc, stdout) = doctor_json(s.command(&wrong, &[]));
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(status(&doc, "base URL"), "fail");
    assert!(
        detail(&doc, "base URL").contains("is not the Ark API"),
        "{stdout}"
    );
    assert!(fix(&doc, "base URL").contains("/api/v3"), "{stdout}");
}

#[test]
fn an_html_page_is_a_wrong_url() {
    // A web server answering HTML for every path, like a site's front page at the wrong URL.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let server = std::thread::spawn(move || {
        use std::io::{Read, Write};
        if let Ok((mut conn, _)) = listener.accept() {
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf);
            let body = "<html><head><title>Welcome</title></head><body>hi</body></html>";
            let _ = write!(
                conn,
                "HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    let s = Setup::new();
    let base = format!("http://127.0.0.1:{port}/api/v3");
    let (code, doc, stdout) = doctor_json(s.command(&base, &[]));
    server.join().expect("server thread");
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(status(&doc, "base URL"), "fail");
    assert!(detail(&doc, "base URL").contains("text/html"), "{stdout}");
    // No Date header: the clock is not checked, which is not a failure.
    assert_eq!(status(&doc, "clock"), "skip");
}

#[test]
fn nothing_listening_is_unreachable() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let s = Setup::new();
    let base = format!("http://127.0.0.1:{port}/api/v3");
    let (code, doc, stdout) = doctor_json(s.command(&base, &[]));
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(status(&doc, "base URL"), "fail");
    assert!(
        detail(&doc, "base URL").starts_with("cannot reach"),
        "{stdout}"
    );
    assert!(fix(&doc, "base URL").contains("host and port"), "{stdout}");
}

#[test]
fn a_store_that_cannot_be_created_fails() {
    let sim = sim();
    let s = Setup::new();
    let file = s.path("plain-file");
    std::fs::write(&file, "not a folder").expect("write");
    let store = file.join("store.sqlite3");
    let (code, doc, stdout) =
        doctor_json(s.command(&sim.base, &["--store", &store.to_string_lossy()]));
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(status(&doc, "store"), "fail");
    assert!(
        detail(&doc, "store").contains("is not a folder"),
        "{stdout}"
    );
    assert!(fix(&doc, "store").contains("--store"), "{stdout}");
}

/// The binary run as an unprivileged user: root writes anywhere, so permission bits only bind
/// other users. `None` when that cannot be arranged here.
fn unprivileged_bin() -> Option<Command> {
    if unsafe { libc::geteuid() } != 0 {
        return Some(bin());
    }
    let works = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if !works {
        eprintln!("skipped: running as root without setpriv, permission bits do not apply");
        return None;
    }
    let mut c = Command::new("setpriv");
    c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_seedance-tui"))
        .env_remove("SEEDANCE_API_KEY")
        .env_remove("ARK_API_KEY")
        .env("XDG_CONFIG_HOME", "/nonexistent-seedance-test-config")
        .env("XDG_DATA_HOME", "/nonexistent-seedance-test-data");
    Some(c)
}

#[test]
fn a_store_folder_without_write_permission_fails() {
    let sim = sim();
    let s = Setup::new();
    // Others may enter the set-up folder and read the locked one, not write it.
    let mode = |p: &std::path::Path, m: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).expect("chmod")
    };
    mode(s.dir.path(), 0o755);
    let locked = s.path("locked");
    std::fs::create_dir(&locked).expect("mkdir");
    let existing = locked.join("existing.sqlite3");
    drop(seedance_tui::store::Store::open(&existing).expect("a store of ours"));
    mode(&existing, 0o444);
    mode(&locked, 0o555);
    let new = locked.join("new.sqlite3");
    for (store, says) in [(&new, "cannot be created"), (&existing, "is not writable")] {
        let Some(program) = unprivileged_bin() else {
            return;
        };
        let cmd = s.command_via(program, &sim.base, &["--store", &store.to_string_lossy()]);
        let (code, doc, stdout) = doctor_json(cmd);
        assert_eq!(code, 1, "{stdout}");
        assert_eq!(status(&doc, "store"), "fail", "{stdout}");
        assert!(detail(&doc, "store").contains(says), "{stdout}");
        assert!(
            detail(&doc, "store").contains("Permission denied"),
            "{stdout}"
        );
    }
    mode(&locked, 0o700);
}

#[test]
fn a_foreign_database_fails_and_is_left_unchanged() {
    let sim = sim();
    let s = Setup::new();
    {
        let conn = rusqlite::Connection::open(s.store()).expect("create");
        conn.execute_batch("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);")
            .expect("table");
    }
    let before = std::fs::read(s.store()).expect("read");
    let (code, doc, stdout) = doctor_json(s.command(&sim.base, &[]));
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(status(&doc, "store"), "fail");
    assert!(
        detail(&doc, "store").contains("another program's SQLite database"),
        "{stdout}"
    );
    assert_eq!(std::fs::read(s.store()).expect("read"), before, "unchanged");
}

#[test]
fn a_file_that_is_not_sqlite_fails() {
    let sim = sim();
    let s = Setup::new();
    std::fs::write(
        s.store(),
        b"these are my notes, not a database\n".repeat(200),
    )
    .expect("w");
    let (code, doc, stdout) = doctor_json(s.command(&sim.base, &[]));
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(status(&doc, "store"), "fail");
    assert!(fix(&doc, "store").contains("move it aside"), "{stdout}");
}

#[test]
fn a_used_store_reports_schema_size_and_the_poller() {
    let sim = sim();
    let s = Setup::new();
    {
        let store = seedance_tui::store::Store::open(&s.store()).expect("open");
        let now = chrono::Utc::now().timestamp_millis();
        store
            .lease_acquire("poller", "watch pid 4242@box #abcdef", now, 60_000, None)
            .expect("lease");
    }
    let (code, doc, stdout) = doctor_json(s.command(&sim.base, &[]));
    assert_eq!(code, 0, "{stdout}");
    let d = detail(&doc, "store");
    let schema = seedance_tui::store::schema::CURRENT;
    assert!(d.contains(&format!("schema {schema}")), "{d}");
    assert!(d.contains("KiB"), "{d}");
    assert!(d.contains("poller: watch pid 4242@box"), "{d}");
}

#[test]
fn an_output_folder_that_cannot_be_made_fails() {
    let sim = sim();
    let s = Setup::new();
    let file = s.path("not-a-dir");
    std::fs::write(&file, "x").expect("write");
    let out = file.join("videos");
    let (code, doc, stdout) = doctor_json(s.command(&sim.base, &["--out", &out.to_string_lossy()]));
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(status(&doc, "output"), "fail");
    assert!(fix(&doc, "output").contains("output_dir"), "{stdout}");
}

#[test]
fn the_configured_output_folder_is_checked() {
    let sim = sim();
    let s = Setup::new();
    let file = s.path("not-a-dir");
    std::fs::write(&file, "x").expect("write");
    s.write_config(&format!(
        "[download]\noutput_dir = \"{}\"\n",
        file.join("videos").display()
    ));
    let mut cmd = bin();
    cmd.arg("doctor")
        .args(["--config", &s.config().to_string_lossy()])
        .args(["--store", &s.store().to_string_lossy()])
        .args(["--base-url", &sim.base])
        .env("SEEDANCE_API_KEY", KEY);
    let (code, doc, stdout) = doctor_json(cmd);
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(status(&doc, "output"), "fail");
    assert!(detail(&doc, "output").contains("not-a-dir"), "{stdout}");
}

#[test]
fn an_object_storage_destination_is_checked_like_before_a_submit() {
    let sim = sim();
    let s = Setup::new();
    // No AWS credentials anywhere: the bucket cannot take results, and doctor says why.
    let mut cmd = s.command(&sim.base, &["--out", "s3://bucket/videos"]);
    for v in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_SHARED_CREDENTIALS_FILE",
        "AWS_CONFIG_FILE",
    ] {
        cmd.env_remove(v);
    }
    cmd.env("HOME", s.dir.path());
    let (code, doc, stdout) = doctor_json(cmd);
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(status(&doc, "object storage"), "fail");
    assert!(
        detail(&doc, "object storage").contains("no credentials"),
        "{stdout}"
    );
}

#[test]
fn a_config_with_an_unknown_key_names_it() {
    let sim = sim();
    let s = Setup::new();
    s.write_config("[poll]\nintervall_secs = 5\n");
    let (code, doc, stdout) = doctor_json(s.command(&sim.base, &[]));
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(status(&doc, "config"), "fail");
    assert!(
        detail(&doc, "config").contains("intervall_secs"),
        "{stdout}"
    );
    // The rest still runs, on the defaults.
    assert_eq!(status(&doc, "base URL"), "pass");
}

#[test]
fn a_config_others_can_read_fails_with_chmod() {
    let sim = sim();
    let s = Setup::new();
    std::fs::set_permissions(s.config(), std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let (code, doc, stdout) = doctor_json(s.command(&sim.base, &[]));
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(status(&doc, "config"), "fail");
    assert!(fix(&doc, "config").starts_with("chmod 600"), "{stdout}");
}

#[test]
fn a_dumb_terminal_fails() {
    let sim = sim();
    let s = Setup::new();
    let mut cmd = s.command(&sim.base, &[]);
    cmd.env("TERM", "dumb");
    let (code, doc, _) = doctor_json(cmd);
    assert_eq!(code, 1);
    assert_eq!(status(&doc, "terminal"), "fail");
}

#[test]
fn an_unknown_profile_fails() {
    let s = Setup::new();
    let mut cmd = bin();
    cmd.arg("doctor")
        .args(["--config", &s.config().to_string_lossy()])
        .args(["--store", &s.store().to_string_lossy()])
        .args(["--out", &s.out().to_string_lossy()])
        .args(["--profile", "nope"]);
    let (code, doc, _) = doctor_json(cmd);
    assert_eq!(code, 1);
    assert_eq!(status(&doc, "profile"), "fail");
}

#[test]
fn the_clock_passes_within_a_minute_and_fails_beyond() {
    let server = 1_800_000_000;
    assert_eq!(
        clock_check(Some(server), server + 3, 0).status,
        Status::Pass
    );
    assert_eq!(
        clock_check(Some(server), server - 59, 0).status,
        Status::Pass
    );
    let ahead = clock_check(Some(server), server + 600, 0);
    assert_eq!(ahead.status, Status::Fail);
    assert!(ahead.detail.contains("10 min ahead"), "{}", ahead.detail);
    assert!(ahead.fix.as_deref().unwrap_or("").contains("timedatectl"));
    let behind = clock_check(Some(server), server - 7200, 0);
    assert!(behind.detail.contains("behind"), "{}", behind.detail);
    // A slow exchange widens the tolerance by its duration.
    assert_eq!(
        clock_check(Some(server), server + 70, 15).status,
        Status::Pass
    );
    assert_eq!(clock_check(None, server, 0).status, Status::Skip);
}

#[test]
fn tmux_needs_passthrough_and_clipboard() {
    assert_eq!(tmux_check(Some("on"), Some("on")).status, Status::Pass);
    assert_eq!(
        tmux_check(Some("external"), Some("all")).status,
        Status::Pass
    );
    let off = tmux_check(Some("off"), Some("off"));
    assert_eq!(off.status, Status::Fail);
    let fix = off.fix.unwrap_or_default();
    assert!(fix.contains("set-clipboard on") && fix.contains("allow-passthrough on"));
    assert_eq!(tmux_check(None, None).status, Status::Skip);
}

#[test]
fn stock_tmux_passes_because_its_copy_route_works() {
    // tmux 3.3's defaults: `load-buffer -w` reaches the outer clipboard with `external`.
    let stock = tmux_check(Some("external"), Some("off"));
    assert_eq!(stock.status, Status::Pass, "{:?}", stock.detail);
    assert!(
        stock.detail.contains("allow-passthrough on"),
        "{}",
        stock.detail
    );
}

#[test]
fn demo_is_refused_as_a_usage_error() {
    let out = bin().args(["doctor", "--demo"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_postgres_store_is_checked_shown_without_its_password() {
    let Some(db) = crate::support::postgres::TestDb::create("doctor_postgres") else {
        return;
    };
    let password = std::env::var("PGPASSWORD").expect("the fixture checked it");
    let sim = sim();
    let s = Setup::new();
    // The password from PGPASSWORD, and the same password inside the URL given on the line.
    let with_password = db
        .url
        .replace("seedance@", &format!("seedance:{password}@"));
    for (store, env_password) in [(&db.url, true), (&with_password, false)] {
        let mut cmd = s.command(&sim.base, &["--store", store]);
        if !env_password {
            cmd.env_remove("PGPASSWORD").env_remove("PGPASSFILE");
        }
        let (code, doc, stdout) = doctor_json(cmd);
        assert_eq!(code, 0, "{stdout}");
        assert_eq!(status(&doc, "store"), "pass", "{stdout}");
        let shown = detail(&doc, "store");
        assert!(
            shown.starts_with(&format!("{} (PostgreSQL ", db.url)),
            "{shown}"
        );
        // The test server offers TLS, which the default sslmode (prefer) takes.
        assert!(shown.ends_with(", TLS)"), "{shown}");
        assert_eq!(status(&doc, "store clock"), "pass", "{stdout}");
        assert!(detail(&doc, "store clock").contains("of the database server's"));
        // An empty database: said, not failed (doctor never makes the tables).
        assert_eq!(status(&doc, "store schema"), "skip", "{stdout}");
        assert!(
            detail(&doc, "store schema").contains("made on first use"),
            "{stdout}"
        );
        assert!(
            !stdout.contains(&password),
            "the password never appears: {stdout}"
        );
    }
    // Looking changes nothing: no table was made in the database.
    let tables: i64 = db
        .client()
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')",
            &[],
        )
        .expect("query")
        .get(0);
    assert_eq!(tables, 0);
    // Once a command has opened it, its schema and its poller are read.
    let out = bin()
        .args([
            "--config",
            &s.config().to_string_lossy(),
            "--store",
            &db.url,
            "ls",
        ])
        .output()
        .expect("ls");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (code, doc, stdout) = doctor_json(s.command(&sim.base, &["--store", &db.url]));
    assert_eq!(code, 0, "{stdout}");
    assert_eq!(status(&doc, "store schema"), "pass", "{stdout}");
    assert_eq!(
        detail(&doc, "store schema"),
        format!(
            "schema {}; poller: none",
            seedance_tui::store::schema::CURRENT
        )
    );
}

#[test]
fn a_refused_postgres_password_fails_the_store_check_and_is_never_shown() {
    let Some(db) = crate::support::postgres::TestDb::create("doctor_postgres_refused") else {
        return;
    };
    let sim = sim();
    let s = Setup::new();
    let wrong = "doctor-wrong-pw-7f3a";
    let mut cmd = s.command(&sim.base, &["--store", &db.url]);
    cmd.env("PGPASSWORD", wrong);
    let (code, doc, stdout) = doctor_json(cmd);
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(status(&doc, "store"), "fail", "{stdout}");
    let said = detail(&doc, "store");
    assert!(
        said.contains(&db.url) && said.contains("refused the password in PGPASSWORD"),
        "{said}"
    );
    assert!(fix(&doc, "store").contains("~/.pgpass"), "{stdout}");
    assert!(!stdout.contains(wrong), "{stdout}");
}

#[test]
fn a_password_in_the_config_files_store_url_fails_with_where_it_belongs() {
    let sim = sim();
    let s = Setup::new();
    s.write_config("[store]\nurl = \"postgres://alice:hunter2@127.0.0.1:1/video\"\n");
    let mut cmd = bin();
    cmd.arg("doctor")
        .args(["--config", &s.config().to_string_lossy()])
        .args(["--out", &s.out().to_string_lossy()])
        .args(["--base-url", &sim.base])
        .env("SEEDANCE_API_KEY", KEY);
    let (code, doc, stdout) = doctor_json(cmd);
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(status(&doc, "store"), "fail", "{stdout}");
    assert!(detail(&doc, "store").contains("PGPASSWORD"), "{stdout}");
    assert!(fix(&doc, "store").contains("~/.pgpass"), "{stdout}");
    assert!(!stdout.contains("hunter2"), "{stdout}");
}
