//! Contact sheets and the gallery (run: `cargo bench --bench sheet`; needs `ffmpeg` on PATH to
//! make the videos).
//!
//! - Time to the first sheet (six frames, nothing cached: demux, decode, shrink, write the strip)
//!   for a 5 s 720p and a 15 s 1080p H.264 result, and the peak memory of the process doing it
//!   (each run in a fresh child process, its `VmHWM` against its `VmRSS` before the decode) —
//!   side by side with `ffmpeg` making the same six frames: one seek-and-grab per frame (what the
//!   program does for H.265) and one pass through a `select,scale,tile` filter; ffmpeg's peak is
//!   `ru_maxrss` of its largest process.
//! - `gallery` for 1,000 succeeded tasks, each with a saved copy of the simulator's sample video:
//!   cold (every sheet decoded, a few at a time) and warm (every sheet read from its cache).
//!
//! The videos are ffmpeg's `testsrc2` pattern encoded with libx264 (`-preset medium`, High
//! profile, B-frames), 24 fps, kept in `BENCH_SHEET_DIR` when set (else a temporary folder).

mod common;

use seedance_tui::engine::sheet::{self, Limits};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const RUNS: usize = 3;

fn main() {
    if let Ok(spec) = std::env::var("SHEET_BENCH_CHILD") {
        return child(&spec);
    }
    let Some(ffmpeg) = sheet::ffmpeg::find() else {
        eprintln!("ffmpeg is not on PATH: the sheet bench needs it to make its videos");
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = std::env::var_os("BENCH_SHEET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&dir).expect("dir");
    println!(
        "load average at start: {}",
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );
    for (name, w, h, secs) in [("5 s 720p", 1280, 720, 5), ("15 s 1080p", 1920, 1080, 15)] {
        let video = dir.join(format!("{w}x{h}-{secs}s.mp4"));
        if !video.is_file() {
            let status = Command::new(&ffmpeg)
                .args(["-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i"])
                .arg(format!("testsrc2=size={w}x{h}:rate=24:duration={secs}"))
                .args([
                    "-c:v",
                    "libx264",
                    "-preset",
                    "medium",
                    "-profile:v",
                    "high",
                    "-pix_fmt",
                    "yuv420p",
                ])
                .arg(&video)
                .status()
                .expect("ffmpeg");
            assert!(status.success());
        }
        let size = std::fs::metadata(&video).map(|m| m.len()).unwrap_or(0);
        println!("\n{name} ({w}x{h}, {:.1} MB):", size as f64 / 1e6);
        let mut ours: Vec<(f64, u64, u64)> = (0..RUNS).map(|_| measure_child(&video)).collect();
        ours.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (ms, base, peak) = ours[RUNS / 2];
        println!(
            "  seedance-tui (OpenH264 in process): median {ms:.0} ms (runs {}), peak RSS {} MiB ({} MiB over the {} MiB before)",
            ours.iter()
                .map(|r| format!("{:.0}", r.0))
                .collect::<Vec<_>>()
                .join(", "),
            peak / 1024,
            peak.saturating_sub(base) / 1024,
            base / 1024
        );
        let times = sheet::times(secs as f64, 6);
        let mut seeks: Vec<(f64, u64)> = (0..RUNS)
            .map(|_| ffmpeg_seeks(&ffmpeg, &video, &times))
            .collect();
        seeks.sort_by(|a, b| a.0.total_cmp(&b.0));
        println!(
            "  ffmpeg, one seek-and-grab per frame: median {:.0} ms, peak RSS {} MiB",
            seeks[RUNS / 2].0,
            seeks[RUNS / 2].1 / 1024
        );
        let mut pass: Vec<(f64, u64)> = (0..RUNS)
            .map(|_| ffmpeg_tile(&ffmpeg, &video, &times, 24.0))
            .collect();
        pass.sort_by(|a, b| a.0.total_cmp(&b.0));
        println!(
            "  ffmpeg, one pass (select,scale,tile): median {:.0} ms, peak RSS {} MiB",
            pass[RUNS / 2].0,
            pass[RUNS / 2].1 / 1024
        );
    }
    gallery_bench(&dir);
}

/// One cold sheet in a fresh process: (ms, VmRSS before, VmHWM after) in KiB.
fn measure_child(video: &Path) -> (f64, u64, u64) {
    let out = Command::new(std::env::current_exe().expect("exe"))
        .env("SHEET_BENCH_CHILD", video)
        .output()
        .expect("child");
    let text = String::from_utf8_lossy(&out.stdout);
    let nums: Vec<f64> = text
        .split_whitespace()
        .filter_map(|t| t.parse().ok())
        .collect();
    assert_eq!(
        nums.len(),
        3,
        "child said: {text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (nums[0], nums[1] as u64, nums[2] as u64)
}

fn child(video: &str) {
    let video = PathBuf::from(video);
    let _ = std::fs::remove_file(sheet::cache_path(&video));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let me = std::process::id();
    let (base, _) = common::memory_kib(me).expect("memory");
    let started = Instant::now();
    rt.block_on(sheet::load_or_build(&video, 6, &Limits::default(), None))
        .expect("the sheet");
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let (_, peak) = common::memory_kib(me).expect("memory");
    let _ = std::fs::remove_file(sheet::cache_path(&video));
    println!("{ms} {base} {peak}");
}

/// Run `cmd` to its end: (ms, the child's peak RSS in KiB). Reaped by `wait4`, which also gives
/// that one child's peak (std's `wait` gives no resource usage).
#[allow(clippy::zombie_processes)]
fn timed(cmd: &mut Command) -> (f64, u64) {
    let started = Instant::now();
    let child = cmd.spawn().expect("ffmpeg");
    let mut status = 0;
    // SAFETY: a plain wait4 on our own child; the rusage struct is plain data.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    assert!(r > 0 && status == 0, "ffmpeg failed");
    (
        started.elapsed().as_secs_f64() * 1000.0,
        usage.ru_maxrss as u64,
    )
}

fn ffmpeg_seeks(ffmpeg: &Path, video: &Path, times: &[f64]) -> (f64, u64) {
    let (mut ms, mut peak) = (0.0, 0);
    let out = tempfile::tempdir().expect("tmp");
    for (i, t) in times.iter().enumerate() {
        let (m, p) = timed(
            Command::new(ffmpeg)
                .args(["-nostdin", "-v", "error", "-y", "-ss"])
                .arg(format!("{t:.3}"))
                .arg("-i")
                .arg(video)
                .args(["-frames:v", "1", "-vf", "scale=320:-2"])
                .arg(out.path().join(format!("{i}.png"))),
        );
        ms += m;
        peak = peak.max(p);
    }
    (ms, peak)
}

fn ffmpeg_tile(ffmpeg: &Path, video: &Path, times: &[f64], fps: f64) -> (f64, u64) {
    let frames: Vec<String> = times
        .iter()
        .map(|t| format!("eq(n\\,{})", (t * fps).round() as u64))
        .collect();
    let out = tempfile::tempdir().expect("tmp");
    timed(
        Command::new(ffmpeg)
            .args(["-nostdin", "-v", "error", "-y", "-i"])
            .arg(video)
            .args(["-vf"])
            .arg(format!(
                "select='{}',scale=320:-2,tile=6x1",
                frames.join("+")
            ))
            .args(["-frames:v", "1", "-vsync", "vfr"])
            .arg(out.path().join("strip.png")),
    )
}

/// `gallery` over 1,000 succeeded tasks with saved (sample) videos, cold and warm.
fn gallery_bench(dir: &Path) {
    const TASKS: usize = 1_000;
    let work = tempfile::tempdir_in(dir).expect("tmp");
    let store = work.path().join("g.sqlite3");
    common::make_store(&store, TASKS, 0);
    let videos = work.path().join("videos");
    std::fs::create_dir_all(&videos).expect("videos");
    {
        let c = rusqlite::Connection::open(&store).expect("open");
        let ids: Vec<String> = c
            .prepare("SELECT local_id FROM tasks")
            .and_then(|mut s| {
                s.query_map([], |r| r.get::<_, String>(0))?
                    .collect::<Result<Vec<_>, _>>()
            })
            .expect("ids");
        for id in ids {
            let v = videos.join(format!("{id}.mp4"));
            std::fs::write(&v, seedance_tui::sim::SAMPLE_MP4).expect("video");
            let f = videos.join(format!("{id}.last.png"));
            std::fs::write(&f, seedance_tui::sim::frame_png(&id)).expect("frame");
            c.execute(
                "UPDATE tasks SET video_path = ?1, last_frame_path = ?2 WHERE local_id = ?3",
                rusqlite::params![v.to_string_lossy(), f.to_string_lossy(), id],
            )
            .expect("update");
        }
    }
    let config = work.path().join("config.toml");
    std::fs::write(&config, "").expect("config");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let g = seedance_tui::cli::args::GlobalArgs {
        store: Some(store.clone()),
        config: Some(config),
        base_url: Some("http://127.0.0.1:9/api/v3".into()),
        ..Default::default()
    };
    let ctx = rt
        .block_on(seedance_tui::context::Context::resolve(&g))
        .unwrap_or_else(|e| panic!("context: {}", e.message));
    let o = seedance_tui::cli::gallery::GalleryOptions {
        filter: String::new(),
        out: seedance_tui::destination::Destination::Folder(work.path().join("page")),
        frames: 6,
        link_ttl: Duration::from_secs(3600),
    };
    println!("\ngallery, {TASKS} succeeded tasks (320x180 4 s sample videos, saved):");
    for pass in ["cold (every sheet decoded)", "warm (every sheet cached)"] {
        let started = Instant::now();
        let r = rt
            .block_on(seedance_tui::cli::gallery::generate(&ctx, &o))
            .unwrap_or_else(|e| panic!("gallery: {}", e.message));
        let secs = started.elapsed().as_secs_f64();
        let page = std::fs::metadata(work.path().join("page/index.html"))
            .map(|m| m.len())
            .unwrap_or(0);
        println!(
            "  {pass}: {secs:.2} s for {} cards and {} sheets; index.html {:.1} MB",
            r.tasks,
            r.sheets,
            page as f64 / 1e6
        );
    }
}
