//! End to end: `gallery --out DIR` over tasks made by the simulator and saved by `watch
//! --download`, rendered by a real headless Chromium (`--dump-dom`, after the page's script ran):
//! one card per task, each `<video>` pointing at the saved file by a relative path that resolves,
//! each contact sheet written next to the page, a hostile prompt kept as text (its script and
//! handler never ran), and the page's filter working from the address (`#q=`).
//!
//! Chromium is required under `CI=true` (`.ci/run` installs it); elsewhere the test says it is
//! skipped.

use crate::support::sim::SimProcess;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const KEY: &str = "sk-gallery-test";
const HOSTILE: &str = "<script>document.title='pwned'</script><img src=x onerror=\"document.body.setAttribute('data-pwned','1')\"> boats at dusk";

fn chromium() -> Option<PathBuf> {
    let found = ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            let paths = std::env::var_os("PATH")?;
            std::env::split_paths(&paths)
                .map(|d| d.join(name))
                .find(|p| p.is_file())
        });
    if found.is_none() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("chromium is required under CI=true (apt-get install chromium)");
        }
        eprintln!(
            "SKIPPED the gallery browser test: chromium not found; install it (apt-get install chromium) to run it"
        );
    }
    found
}

/// The DOM of `url` after load, as headless Chromium serialises it.
fn dump_dom(chrome: &Path, url: &str) -> String {
    let profile = tempfile::tempdir().expect("profile dir");
    let mut child = Command::new(chrome)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(["--dump-dom", url])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let mut out = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut out, &mut s);
        s
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish within 120 s");
        }
        std::thread::sleep(Duration::from_millis(50)); // polling an observable condition
    }
    reader.join().expect("reader")
}

/// The values of `attr="…"` in the tags starting with `tag` (`<video`).
fn attrs(dom: &str, tag: &str, attr: &str) -> Vec<String> {
    dom.match_indices(tag)
        .filter_map(|(at, _)| {
            let end = dom[at..].find('>')? + at;
            let t = &dom[at..end];
            let start = t.find(&format!(" {attr}=\""))? + attr.len() + 3;
            let len = t[start..].find('"')?;
            Some(t[start..start + len].replace("&amp;", "&"))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 3 <= b.len()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).expect("utf8")
}

#[test]
fn the_gallery_page_lists_every_task_and_keeps_a_hostile_prompt_as_text() {
    let Some(chrome) = chromium() else {
        return;
    };
    let sim = SimProcess::builder().speed(2000.0).start();
    let dir = tempfile::tempdir().expect("tempdir");
    let results = dir.path().join("results");
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[download]\noutput_dir = {:?}\ntemplate = \"{{id}}.mp4\"\n",
            results.display().to_string()
        ),
    )
    .expect("config");
    let (store, config) = (
        dir.path().join("s.sqlite3").display().to_string(),
        config.display().to_string(),
    );
    let cli = |args: &[&str]| {
        let out = crate::support::process::cli_with(args, &store, &config, &sim.base, KEY);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    for p in ["fox in snow", "paper boats", HOSTILE] {
        cli(&["submit", "--prompt", p]);
    }
    cli(&["watch", "--download"]);
    let page_dir = dir.path().join("gallery");
    let printed = cli(&["gallery", "--out", &page_dir.display().to_string()]);
    assert!(
        printed.contains("(3 task(s), 3 contact sheet(s))"),
        "{printed}"
    );
    let index = page_dir.join("index.html");
    let url = format!("file://{}", index.display());
    let dom = dump_dom(&chrome, &url);

    assert_eq!(dom.matches("<article").count(), 3, "{dom}");
    // Each video is the saved file, by a path relative to the page.
    let videos = attrs(&dom, "<video", "src");
    assert_eq!(videos.len(), 3, "{dom}");
    for v in &videos {
        assert!(v.starts_with("../results/") && v.ends_with(".mp4"), "{v}");
        assert!(page_dir.join(percent_decode(v)).is_file(), "{v} resolves");
    }
    let posters = attrs(&dom, "<video", "poster");
    assert_eq!(posters.len(), 3, "the last frames are the posters");
    let sheets = attrs(&dom, "<img class=\"sheet\"", "src");
    assert_eq!(sheets.len(), 3, "{dom}");
    for s in &sheets {
        let file = page_dir.join(s);
        assert!(file.is_file(), "{s}");
        let (w, h) = image::image_dimensions(&file).expect("a PNG");
        assert_eq!((w, h), (6 * 320, 180), "six frames side by side");
    }
    // The hostile prompt is text: its script did not run, its handler was never an attribute.
    assert!(
        dom.contains("&lt;script&gt;document.title='pwned'&lt;/script&gt;&lt;img src=x onerror="),
        "{dom}"
    );
    assert!(!dom.contains("data-pwned=\"1\""), "{dom}");
    assert!(!dom.contains("<title>pwned"), "{dom}");
    assert!(dom.contains("<title>seedance-tui gallery</title>"), "{dom}");
    // The page's own script ran: the count, and a filter from the address hides the rest.
    assert!(dom.contains("<span id=\"count\">3 of 3</span>"), "{dom}");
    let filtered = dump_dom(&chrome, &format!("{url}#q=boats"));
    assert!(
        filtered.contains("<span id=\"count\">2 of 3</span>"),
        "{filtered}"
    );
    let hidden = filtered
        .match_indices("<article")
        .filter(|(at, _)| {
            let tag = &filtered[*at..*at + filtered[*at..].find('>').unwrap_or(0)];
            tag.contains(" hidden")
        })
        .count();
    assert_eq!(hidden, 1, "one card hidden: {filtered}");
}

/// `curl -sf URL`.
fn curl(url: &str) -> Vec<u8> {
    let out = Command::new("curl")
        .args(["-sf", url])
        .output()
        .expect("curl runs");
    assert!(out.status.success(), "curl {url}");
    out.stdout
}

#[test]
fn a_gallery_in_a_bucket_links_everything_by_presigned_links_and_prints_the_expiry() {
    let Some(moto) = crate::support::moto::Moto::start(false) else {
        return;
    };
    moto.create_bucket("review");
    let sim = SimProcess::builder().speed(2000.0).start();
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[download]\ntemplate = \"{id}.mp4\"\n").expect("config");
    let (store, config) = (
        dir.path().join("s.sqlite3").display().to_string(),
        config.display().to_string(),
    );
    let cli = |args: &[&str]| {
        let mut cmd =
            crate::support::process::bin_on(dir.path(), Path::new(&store), &sim.base, KEY);
        cmd.args(args).args(["--config", &config]);
        moto.env(&mut cmd, dir.path());
        let (code, out, err) = crate::support::process::run(&mut cmd);
        assert_eq!(code, 0, "{args:?}: {err}");
        out
    };
    // The result is saved into the bucket, not on this disk.
    cli(&[
        "submit",
        "--prompt",
        "<b>lanterns</b> over a river",
        "--last-frame",
        "--wait",
        "--out",
        "s3://review/results",
    ]);
    let out = cli(&["gallery", "--out", "s3://review/page", "--link-hours", "2"]);
    assert!(
        out.contains("gallery: s3://review/page/index.html (1 task(s), 1 contact sheet(s))"),
        "{out}"
    );
    assert!(out.contains("the page's links expire "), "{out}");
    let link = out
        .lines()
        .find_map(|l| l.strip_prefix("open: "))
        .expect("the page's link")
        .to_string();
    assert!(
        link.starts_with(&format!("{}/review/page/index.html?", moto.url))
            && link.contains("X-Amz-Signature=")
            && link.contains("X-Amz-Expires=7200"),
        "{link}"
    );
    let keys: Vec<String> = moto
        .list("review", "page/")
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    // The page and its sheet; the video and the poster (the last frame) are already objects.
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert!(keys.iter().any(|k| k == "page/index.html"));
    assert!(
        keys.iter()
            .any(|k| k.starts_with("page/sheets/") && k.ends_with(".png"))
    );
    // The page, fetched through its link, points at presigned objects that answer.
    let page = String::from_utf8(curl(&link)).expect("utf8");
    assert!(page.contains("&lt;b&gt;lanterns&lt;/b&gt;"), "{page}");
    let video = attrs(&page, "<video", "src");
    assert_eq!(video.len(), 1, "{page}");
    assert!(
        video[0].starts_with(&format!("{}/review/results/", moto.url))
            && video[0].contains("X-Amz-Signature="),
        "{video:?}"
    );
    assert_eq!(
        curl(&video[0]),
        seedance_tui::sim::SAMPLE_MP4,
        "the saved video"
    );
    let sheet = attrs(&page, "<img class=\"sheet\"", "src");
    assert_eq!(sheet.len(), 1, "{page}");
    let png = curl(&sheet[0]);
    let img = image::load_from_memory(&png).expect("a PNG");
    assert_eq!((img.width(), img.height()), (6 * 320, 180));
    let poster = attrs(&page, "<video", "poster");
    assert!(
        poster[0].starts_with(&format!("{}/review/results/", moto.url)),
        "{poster:?}"
    );
    assert!(!curl(&poster[0]).is_empty(), "the poster answers");
}
