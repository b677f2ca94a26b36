//! Frames through the `ffmpeg` program, for what is not decoded in process (H.265, which the
//! 4k results are, and any other codec ffmpeg knows). One seek-and-grab per frame, each a PNG on
//! stdout; the whole run has one deadline, the output a size cap, and the process is killed when
//! either is passed (or the caller gives up).

use super::{Limits, SheetError, Thumb};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use tokio::io::AsyncReadExt;

/// The most bytes one frame's PNG may take on stdout.
const MAX_PNG: u64 = 16 * 1024 * 1024;

/// `ffmpeg` on `PATH`, if there is one.
pub fn find() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("ffmpeg"))
        .find(|p| p.is_file())
}

/// The frames at `times` (seconds) of `video`, `limits.frame_width` pixels wide.
pub async fn frames(
    ffmpeg: &Path,
    video: &Path,
    times: &[f64],
    limits: &Limits,
) -> Result<Vec<Thumb>, SheetError> {
    let run = async {
        let mut out = Vec::with_capacity(times.len());
        for &at in times {
            out.push(Thumb {
                at,
                image: one(ffmpeg, video, at, limits.frame_width).await?,
            });
        }
        Ok(out)
    };
    tokio::time::timeout(limits.deadline, run)
        .await
        .map_err(|_| SheetError::TooSlow(limits.deadline.as_secs()))?
}

async fn one(
    ffmpeg: &Path,
    video: &Path,
    at: f64,
    width: u32,
) -> Result<image::RgbImage, SheetError> {
    let mut child = tokio::process::Command::new(ffmpeg)
        .args(["-nostdin", "-hide_banner", "-loglevel", "error", "-ss"])
        .arg(format!("{at:.3}"))
        .arg("-i")
        .arg(video)
        .args(["-frames:v", "1", "-vf"])
        .arg(format!("scale={width}:-2"))
        .args(["-f", "image2pipe", "-c:v", "png", "-"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| SheetError::Decode(format!("cannot run ffmpeg: {e}")))?;
    let mut png = Vec::new();
    let mut err = Vec::new();
    // Both pipes at once, so a chatty stderr cannot block the picture.
    let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
    let read_out = async {
        match stdout {
            Some(o) => o.take(MAX_PNG + 1).read_to_end(&mut png).await.map(|_| ()),
            None => Ok(()),
        }
    };
    let read_err = async {
        if let Some(e) = stderr {
            let _ = e.take(64 * 1024).read_to_end(&mut err).await;
        }
    };
    let (read, ()) = tokio::join!(read_out, read_err);
    read.map_err(|e| SheetError::Decode(e.to_string()))?;
    let status = child
        .wait()
        .await
        .map_err(|e| SheetError::Decode(e.to_string()))?;
    if png.len() as u64 > MAX_PNG {
        return Err(SheetError::TooLarge("ffmpeg's frame is too large".into()));
    }
    if !status.success() || png.is_empty() {
        let why = String::from_utf8_lossy(&err);
        let why = crate::sanitize::line(why.lines().next().unwrap_or("no output"));
        return Err(SheetError::Decode(format!(
            "ffmpeg could not read the video: {}",
            crate::text::truncate(&why, 120)
        )));
    }
    image::load_from_memory(&png)
        .map(|i| i.to_rgb8())
        .map_err(|e| SheetError::Decode(format!("ffmpeg's frame is not an image: {e}")))
}
