//! Contact sheets: a few frames spread over a saved video, to judge motion without playing it.
//!
//! `demux` reads the MP4 header (`re_mp4`); H.264 (480p–1080p results) is decoded in process
//! (`h264`, OpenH264 from its bundled source); anything else — H.265, which 4k results are — goes
//! through `ffmpeg` when it is on `PATH` (`ffmpeg`), and otherwise says how to get it. A sheet is
//! cached next to the video as a small PNG strip (`<stem>.sheet.png`, the frame times in a text
//! chunk), so reopening it is a file read. Every decode is bounded: file, frame and picture
//! sizes, frame count and one deadline ([`Limits`]); a damaged file is an error line, never a
//! panic.

pub(crate) mod demux;
pub mod ffmpeg;
pub(crate) mod h264;

use image::RgbImage;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Frames on a sheet when `[ui] contact_sheet_frames` is not set.
pub(crate) const DEFAULT_FRAMES: usize = 6;
/// The most frames a sheet may have.
pub(crate) const MAX_FRAMES: usize = 24;
/// The text chunk of a cached strip holding its frame times.
const TIMES_KEY: &str = "seedance-sheet-times";

/// Bounds on one decode.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_file_bytes: u64,
    pub max_sample_bytes: u64,
    pub max_pixels: u64,
    pub max_samples: usize,
    /// The whole decode, after which it is abandoned.
    pub deadline: Duration,
    /// Width of each frame on the strip, pixels.
    pub frame_width: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 4 * 1024 * 1024 * 1024,
            max_sample_bytes: 32 * 1024 * 1024,
            // 4096x2304 and its portrait twin; H.264 results are at most 1080p.
            max_pixels: 4096 * 2304,
            max_samples: 200_000,
            deadline: Duration::from_secs(60),
            frame_width: 320,
        }
    }
}

/// Why there is no sheet; its `Display` is the one line shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SheetError {
    Unreadable(String),
    Corrupt(String),
    NoVideo,
    /// The codec needs ffmpeg, which is not on `PATH`.
    NeedsFfmpeg(String),
    Decode(String),
    TooLarge(String),
    /// Gave up after this many seconds.
    TooSlow(u64),
}

impl std::fmt::Display for SheetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SheetError::Unreadable(e) => write!(f, "cannot read the video: {e}"),
            SheetError::Corrupt(e) => write!(f, "{e}"),
            SheetError::NoVideo => write!(f, "the file has no video track"),
            SheetError::NeedsFfmpeg(codec) => write!(
                f,
                "the video is {codec}: its sheet needs ffmpeg on PATH (apt install ffmpeg, brew install ffmpeg)"
            ),
            SheetError::Decode(e) => write!(f, "cannot decode the video: {e}"),
            SheetError::TooLarge(e) => write!(f, "{e}"),
            SheetError::TooSlow(s) => write!(f, "decoding took longer than {s} s; gave up"),
        }
    }
}

/// One frame of a sheet.
#[derive(Debug, Clone)]
pub struct Thumb {
    /// Seconds into the video.
    pub(crate) at: f64,
    pub image: RgbImage,
}

/// A video's contact sheet.
#[derive(Debug, Clone)]
pub struct Sheet {
    pub frames: Vec<Thumb>,
}

impl Sheet {
    /// The frames side by side (all at the first frame's size).
    pub(crate) fn strip(&self) -> RgbImage {
        let Some(first) = self.frames.first() else {
            return RgbImage::new(1, 1);
        };
        let (w, h) = first.image.dimensions();
        let mut out = RgbImage::new(w * self.frames.len() as u32, h);
        for (i, t) in self.frames.iter().enumerate() {
            let img = if t.image.dimensions() == (w, h) {
                t.image.clone()
            } else {
                image::imageops::resize(&t.image, w, h, image::imageops::FilterType::Triangle)
            };
            image::imageops::replace(&mut out, &img, i as i64 * w as i64, 0);
        }
        out
    }

    /// The frames' times, seconds.
    pub fn times(&self) -> Vec<f64> {
        self.frames.iter().map(|t| t.at).collect()
    }
}

/// Times (seconds) of `n` frames spread over `duration`: the middle of each of `n` equal parts.
pub fn times(duration: f64, n: usize) -> Vec<f64> {
    let n = n.clamp(1, MAX_FRAMES);
    (0..n)
        .map(|i| (i as f64 + 0.5) * duration.max(0.0) / n as f64)
        .collect()
}

/// `m:ss.s`: a frame's time as printed under it.
pub(crate) fn clock(secs: f64) -> String {
    let s = secs.max(0.0);
    format!("{}:{:04.1}", (s / 60.0) as u64, s % 60.0)
}

/// Where the sheet of `video` is cached: `<stem>.sheet.png` in its folder.
pub fn cache_path(video: &Path) -> PathBuf {
    let stem = video
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "video".into());
    video.with_file_name(format!("{stem}.sheet.png"))
}

/// The cached sheet of `video`, if there is one of `n` frames newer than the video.
pub(crate) fn read_cached(video: &Path, n: usize) -> Option<Sheet> {
    let path = cache_path(video);
    let newer = std::fs::metadata(&path).ok()?.modified().ok()?
        >= std::fs::metadata(video).ok()?.modified().ok()?;
    if !newer {
        return None;
    }
    read_strip(&path).filter(|s| s.frames.len() == n)
}

/// A strip written by [`write_strip`]: its frames and their times.
pub(crate) fn read_strip(path: &Path) -> Option<Sheet> {
    let file = std::fs::File::open(path).ok()?;
    if file.metadata().ok()?.len() > 64 * 1024 * 1024 {
        return None;
    }
    let mut decoder = png::Decoder::new(BufReader::new(file));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().ok()?;
    let times: Vec<f64> = reader
        .info()
        .uncompressed_latin1_text
        .iter()
        .find(|t| t.keyword == TIMES_KEY)?
        .text
        .split(',')
        .map(|t| t.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .ok()?;
    let mut buf = vec![0; reader.output_buffer_size()?];
    let info = reader.next_frame(&mut buf).ok()?;
    if info.color_type != png::ColorType::Rgb || times.is_empty() {
        return None;
    }
    buf.truncate(info.buffer_size());
    let strip = RgbImage::from_raw(info.width, info.height, buf)?;
    let w = info.width / times.len() as u32;
    if w == 0 {
        return None;
    }
    let frames = times
        .iter()
        .enumerate()
        .map(|(i, &at)| Thumb {
            at,
            image: image::imageops::crop_imm(&strip, i as u32 * w, 0, w, info.height).to_image(),
        })
        .collect();
    Some(Sheet { frames })
}

/// Write `sheet` as a PNG strip at `path` (through a temporary file, so a reader never sees half).
pub(crate) fn write_strip(path: &Path, sheet: &Sheet) -> std::io::Result<()> {
    let strip = sheet.strip();
    let times = sheet
        .times()
        .iter()
        .map(|t| format!("{t:.3}"))
        .collect::<Vec<_>>()
        .join(",");
    let tmp = path.with_extension("png.part");
    {
        let file = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        let mut enc = png::Encoder::new(file, strip.width(), strip.height());
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.add_text_chunk(TIMES_KEY.into(), times)
            .map_err(std::io::Error::other)?;
        let mut w = enc.write_header().map_err(std::io::Error::other)?;
        w.write_image_data(strip.as_raw())
            .map_err(std::io::Error::other)?;
        w.finish().map_err(std::io::Error::other)?;
    }
    std::fs::rename(&tmp, path)
}

/// Make the sheet of `video` with `n` frames: H.264 in process on the blocking pool, other codecs
/// through `ffmpeg` (when given). No cache is read or written here.
pub async fn build(
    video: &Path,
    n: usize,
    limits: &Limits,
    ffmpeg: Option<&Path>,
) -> Result<Sheet, SheetError> {
    let path = video.to_path_buf();
    let l = limits.clone();
    let probe = tokio::task::spawn_blocking(move || demux::open(&path, &l))
        .await
        .map_err(|e| SheetError::Decode(e.to_string()))??;
    let at = times(probe.duration, n);
    let frames = match (&probe.codec, ffmpeg) {
        (demux::Codec::H264 { .. }, _) => {
            let path = video.to_path_buf();
            let (l, times) = (limits.clone(), at.clone());
            let decoded =
                tokio::task::spawn_blocking(move || h264::frames(&path, &probe, &times, &l))
                    .await
                    .map_err(|e| SheetError::Decode(e.to_string()))?;
            match (decoded, ffmpeg) {
                // OpenH264 decodes 8-bit 4:2:0 (what results are); a High 10 or 4:2:2 file
                // goes to ffmpeg when there is one.
                (Err(SheetError::Decode(_)), Some(ff)) => {
                    ffmpeg::frames(ff, video, &at, limits).await?
                }
                (decoded, _) => decoded?,
            }
        }
        (_, Some(ff)) => ffmpeg::frames(ff, video, &at, limits).await?,
        (codec, None) => return Err(SheetError::NeedsFfmpeg(codec.name())),
    };
    Ok(Sheet { frames })
}

/// The sheet of `video`: the cached strip when it is current, else [`build`] and cache it (a
/// folder that cannot be written keeps no cache; the sheet is still returned).
pub async fn load_or_build(
    video: &Path,
    n: usize,
    limits: &Limits,
    ffmpeg: Option<&Path>,
) -> Result<Sheet, SheetError> {
    let v = video.to_path_buf();
    if let Ok(Some(sheet)) = tokio::task::spawn_blocking(move || read_cached(&v, n)).await {
        return Ok(sheet);
    }
    let sheet = build(video, n, limits, ffmpeg).await?;
    let (v, s) = (video.to_path_buf(), sheet.clone());
    let _ = tokio::task::spawn_blocking(move || write_strip(&cache_path(&v), &s)).await;
    Ok(sheet)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_sit_in_the_middle_of_equal_parts() {
        assert_eq!(times(6.0, 3), vec![1.0, 3.0, 5.0]);
        assert_eq!(times(5.0, 0).len(), 1);
        assert_eq!(times(5.0, 1000).len(), MAX_FRAMES);
        assert_eq!(clock(75.25), "1:15.2");
        assert_eq!(clock(0.5), "0:00.5");
    }

    #[test]
    fn the_cache_sits_next_to_the_video() {
        assert_eq!(
            cache_path(Path::new("/r/cat_1.mp4")),
            PathBuf::from("/r/cat_1.sheet.png")
        );
    }

    #[test]
    fn a_strip_keeps_its_frames_and_times() {
        let dir = tempfile::tempdir().unwrap();
        let frames = (0..3)
            .map(|i| Thumb {
                at: i as f64 * 1.5,
                image: RgbImage::from_pixel(8, 6, image::Rgb([i * 100, 7, 9])),
            })
            .collect();
        let path = dir.path().join("x.sheet.png");
        write_strip(&path, &Sheet { frames }).unwrap();
        let back = read_strip(&path).unwrap();
        assert_eq!(back.times(), vec![0.0, 1.5, 3.0]);
        assert_eq!(back.frames[2].image.dimensions(), (8, 6));
        assert_eq!(back.frames[2].image.get_pixel(3, 3).0, [200, 7, 9]);
    }
}
