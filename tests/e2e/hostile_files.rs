//! Hostile local files and local state: paths that are not regular files (a FIFO, a symlink to
//! `/dev/zero`), files whose content is not their type, someone else's SQLite database given as
//! the store, and the permissions of a new store. Each command ends at once with exit 2 and a
//! clear message, within 100 MB of memory, and changes nothing it should not.

use crate::support::hostile::*;
use crate::support::process::{bin, bin_on};
use seedance_tui::api::MediaKind;
use seedance_tui::engine::assets::{self, AssetError};
use seedance_tui::store::{Store, StoreError, schema};
use std::path::{Path, PathBuf};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(30);

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.to_str().expect("utf8")).expect("cstring");
    // SAFETY: a valid NUL-terminated path.
    let rc = unsafe { libc::mkfifo(c.as_ptr(), 0o600) };
    assert_eq!(rc, 0, "mkfifo");
}

/// `submit --dry-run ARGS` against a server that must never be asked anything.
fn dry_run(dir: &Path, server: &HostileServer, args: &[&str]) -> Ran {
    let store = dir.join("store.sqlite3");
    let mut cmd = bin_on(dir, &store, &server.base(), "sk-files-test-1234");
    cmd.arg("submit")
        .arg("--dry-run")
        .args(["--prompt", "a cat"])
        .args(args)
        .current_dir(dir);
    let ran = run_measured(&mut cmd, LIMIT);
    assert!(
        ran.max_rss_kib < MAX_RSS_KIB,
        "{args:?}: {} KiB",
        ran.max_rss_kib
    );
    assert!(!has_raw_controls(&ran.all_bytes()), "{args:?}");
    ran
}

struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn new() -> Files {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = |n: &str| dir.path().join(n);
        mkfifo(&p("pipe.png"));
        mkfifo(&p("request.json"));
        std::os::unix::fs::symlink("/dev/zero", p("zero.png")).expect("symlink");
        std::os::unix::fs::symlink("/dev/urandom", p("random.mp3")).expect("symlink");
        std::fs::write(p("text.png"), b"hello").expect("write");
        std::fs::write(p("text.mp3"), b"just some words, not audio").expect("write");
        // The signature and the IHDR chunk's length and type, without its width and height.
        std::fs::write(p("headless.png"), b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").expect("write");
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        png.extend(400u32.to_be_bytes());
        png.extend(300u32.to_be_bytes());
        png.extend([8, 2, 0, 0, 0, 0, 0, 0, 0]);
        std::fs::write(p("real.png"), png).expect("write");
        std::fs::write(p("real.wav"), b"RIFF\x24\0\0\0WAVEfmt ").expect("write");
        std::fs::create_dir(p("folder.png")).expect("mkdir");
        Files { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

#[test]
fn submit_refuses_paths_that_are_not_regular_files_or_not_their_type() {
    let server = HostileServer::start(|_| Reply::Json(500, "{}".into()));
    let f = Files::new();
    let cases: [(&[&str], &str); 8] = [
        (&["--image", "pipe.png"], "named pipe"),
        (&["--image", "headless.png"], "has no IHDR chunk"),
        (&["--image", "zero.png"], "character device"),
        (
            &["--audio", "random.mp3", "--image", "real.png"],
            "character device",
        ),
        (&["--image", "folder.png"], "folder"),
        (&["--image", "text.png"], "does not contain png data"),
        (
            &["--audio", "text.mp3", "--image", "real.png"],
            "does not contain mp3 data",
        ),
        (&["--json", "request.json"], "named pipe"),
    ];
    for (args, says) in cases {
        let ran = dry_run(f.dir.path(), &server, args);
        assert_eq!(ran.code, 2, "{args:?}: {}", ran.err());
        assert!(ran.err().contains(says), "{args:?}: {}", ran.err());
        assert_eq!(
            ran.err().trim().lines().count(),
            1,
            "one line: {}",
            ran.err()
        );
        assert!(
            ran.took < Duration::from_secs(10),
            "{args:?} took {:?}",
            ran.took
        );
    }
    // Real files of the right type pass.
    let ran = dry_run(
        f.dir.path(),
        &server,
        &["--image", "real.png@reference_image", "--audio", "real.wav"],
    );
    assert_eq!(ran.code, 0, "{}", ran.err());
    assert!(
        ran.out().contains("data:image/png;base64,"),
        "{}",
        ran.out()
    );
    assert!(server.requests().is_empty(), "nothing was sent");
}

#[test]
fn the_composer_and_submit_share_one_file_check() {
    let f = Files::new();
    let check = |name: &str, kind| {
        seedance_tui::runtime::composer::check_file(f.path(name).to_str().expect("utf8"), kind)
    };
    for (name, kind, says) in [
        ("pipe.png", MediaKind::Image, "named pipe"),
        ("zero.png", MediaKind::Image, "character device"),
        ("text.png", MediaKind::Image, "does not contain png data"),
    ] {
        let composer = check(name, kind).expect_err(name);
        assert!(composer.contains(says), "{name}: {composer}");
        let shared = assets::check_file(&f.path(name), kind).expect_err(name);
        assert_eq!(composer, shared.to_string(), "the same check");
        let inline = assets::resolve(f.path(name).to_str().expect("utf8"), kind).expect_err(name);
        assert_eq!(inline.to_string(), shared.to_string(), "{name}");
    }
    assert_eq!(check("real.png", MediaKind::Image), Ok(33));
    // A file that grows past its limit while being read is still cut at the limit.
    assert!(matches!(
        assets::read_regular(&f.path("zero.png"), 10, "image"),
        Err(AssetError::NotAFile { .. })
    ));
    let big = f.path("big.png");
    std::fs::write(&big, vec![0x89; 2048]).expect("write");
    assert!(matches!(
        assets::read_regular(&big, 1024, "image"),
        Err(AssetError::TooLarge { .. })
    ));
}

/// Another application's database: a table of its own, WAL off, its own user_version.
fn foreign_db(path: &Path, app_id: i64, with_our_tasks_name: bool) {
    let conn = rusqlite::Connection::open(path).expect("open");
    let tasks = if with_our_tasks_name {
        "CREATE TABLE tasks (id INTEGER PRIMARY KEY, title TEXT, done INTEGER);"
    } else {
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);"
    };
    conn.execute_batch(&format!(
        "{tasks} PRAGMA user_version = 7; PRAGMA application_id = {app_id};"
    ))
    .expect("schema");
}

#[test]
fn someone_elses_sqlite_file_is_refused_in_one_line_and_left_unchanged() {
    let server = HostileServer::start(|_| Reply::Json(500, "{}".into()));
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, app_id, tasks) in [
        ("notes.db", 0, false),
        ("todo.db", 0, true),
        ("marked.db", 0x1234, false),
    ] {
        let path = dir.path().join(name);
        foreign_db(&path, app_id, tasks);
        let before = std::fs::read(&path).expect("read");
        let mut cmd = bin(dir.path());
        cmd.arg("ls")
            .arg("--store")
            .arg(&path)
            .args(["--base-url", &server.base()]);
        let ran = run_measured(&mut cmd, LIMIT);
        assert_eq!(ran.code, 2, "{name}: {}", ran.err());
        assert_eq!(ran.err().trim().lines().count(), 1, "{name}: {}", ran.err());
        assert!(
            ran.err().contains("not a seedance-tui store"),
            "{name}: {}",
            ran.err()
        );
        assert_eq!(
            std::fs::read(&path).expect("read"),
            before,
            "{name} unchanged"
        );
        assert!(!dir.path().join(format!("{name}-wal")).exists(), "no WAL");
        assert!(matches!(
            Store::open(&path),
            Err(StoreError::Foreign { .. })
        ));
    }
}

#[test]
fn stores_are_marked_and_old_unmarked_stores_still_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.sqlite3");
    drop(Store::open(&path).expect("new store"));
    let app_id = |p: &Path| -> i64 {
        rusqlite::Connection::open(p)
            .expect("open")
            .query_row("PRAGMA application_id", [], |r| r.get(0))
            .expect("pragma")
    };
    assert_eq!(app_id(&path), schema::APPLICATION_ID);
    // A store from before the mark: our tables, application_id 0. It opens and gets marked.
    let old = dir.path().join("old.sqlite3");
    {
        let mut conn = rusqlite::Connection::open(&old).expect("open");
        schema::migrate(&mut conn).expect("migrate");
    }
    assert_eq!(app_id(&old), 0);
    drop(Store::open(&old).expect("an unmarked store of ours opens"));
    assert_eq!(app_id(&old), schema::APPLICATION_ID);
    // An empty file is a new store.
    let empty = dir.path().join("empty.sqlite3");
    std::fs::write(&empty, b"").expect("write");
    drop(Store::open(&empty).expect("empty is new"));
    assert_eq!(app_id(&empty), schema::APPLICATION_ID);
}

#[test]
fn a_new_store_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("a/b/store.sqlite3");
    let store = Store::open(&path).expect("store");
    let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600, "the store file");
    assert_eq!(mode(&dir.path().join("a/b")), 0o700, "its folder");
    assert_eq!(mode(&dir.path().join("a")), 0o700, "folders created for it");
    // The WAL and shared-memory files SQLite makes beside it take the file's mode.
    store
        .begin_submission(&seedance_tui::store::NewSubmission {
            local_id: "l1",
            profile: "p",
            request_json: "{}",
            retry_of: None,
            now: 1,
            asset_files: None,
        })
        .expect("write");
    for side in ["store.sqlite3-wal", "store.sqlite3-shm"] {
        let p = dir.path().join("a/b").join(side);
        if p.exists() {
            assert_eq!(mode(&p), 0o600, "{side}");
        }
    }
}

/// A theme file of 10 MB on one line: refused by its size, and the error is one short line,
/// not the file printed back.
#[test]
fn a_huge_theme_file_is_refused_without_being_printed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let themes = dir.path().join("xdg-config/seedance-tui/themes");
    std::fs::create_dir_all(&themes).expect("mkdir");
    let mut text = String::from("name = \"");
    text.push_str(&"x".repeat(10 << 20));
    std::fs::write(themes.join("big.toml"), text).expect("write");
    let out = bin(dir.path())
        .args(["--demo", "--theme", "big"])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.len() < 2048, "{} bytes on stderr", err.len());
    assert!(err.contains("larger than a theme can be"), "{err}");
}
