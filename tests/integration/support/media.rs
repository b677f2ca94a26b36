//! Videos for the contact-sheet tests: the simulator's sample, damaged copies of it made here,
//! and files of each result resolution made by `ffmpeg` (required under `CI=true`; elsewhere the
//! tests that need it say they are skipped).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The simulator's sample video (H.264 High, 320x180, 4 s, with an audio track).
pub const SAMPLE: &[u8] = include_bytes!("../../../assets/sim/sample.mp4");

/// `ffmpeg` on `PATH`; `None` after a message when it is missing and this is not CI.
pub fn ffmpeg(test: &str) -> Option<PathBuf> {
    if let Some(p) = seedance_tui::engine::sheet::ffmpeg::find() {
        return Some(p);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("ffmpeg is required under CI=true (apt-get install ffmpeg)");
    }
    eprintln!("SKIPPED {test}: ffmpeg not found; install it (apt-get install ffmpeg) to run it");
    None
}

/// A moving test pattern of `w`x`h`, `secs` long at 24 fps, encoded by ffmpeg with `codec`
/// arguments (e.g. `["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p"]`).
pub fn make(ffmpeg: &Path, out: &Path, w: u32, h: u32, secs: f64, codec: &[&str]) {
    let status = Command::new(ffmpeg)
        .args(["-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg(format!("testsrc2=size={w}x{h}:rate=24:duration={secs}"))
        .args(codec)
        .arg(out)
        .status()
        .expect("ffmpeg runs");
    assert!(status.success(), "ffmpeg made {}", out.display());
}

/// H.264 the way results are (High profile with B-frames and CABAC).
pub const H264: &[&str] = &[
    "-c:v",
    "libx264",
    "-preset",
    "veryfast",
    "-profile:v",
    "high",
    "-pix_fmt",
    "yuv420p",
];

/// 10-bit H.265 the way 4k results are.
pub const H265_10BIT: &[&str] = &[
    "-c:v",
    "libx265",
    "-preset",
    "ultrafast",
    "-pix_fmt",
    "yuv420p10le",
    "-tag:v",
    "hvc1",
    "-x265-params",
    "log-level=error",
];

/// Replace the first `from` in `bytes` by `to` (same length).
pub fn patch(bytes: &mut [u8], from: &[u8], to: &[u8]) {
    assert_eq!(from.len(), to.len());
    let at = bytes
        .windows(from.len())
        .position(|w| w == from)
        .expect("the bytes to patch are there");
    bytes[at..at + to.len()].copy_from_slice(to);
}
