//! Contact sheets from real files: the simulator's sample and H.264 results of every resolution
//! the models make decode in process into frames spread over the clip; the strip is cached next
//! to the video and read back instead of decoding again; a truncated file, a file without a video
//! track, garbage and a 10-bit H.265 file without ffmpeg each give one clear line.

use crate::support::media::{self, H264, H265_10BIT, SAMPLE};
use seedance_tui::engine::sheet::{self, Limits, Sheet, SheetError};
use std::path::Path;
use std::time::Duration;

async fn sheet_of(path: &Path, n: usize, ffmpeg: Option<&Path>) -> Result<Sheet, SheetError> {
    tokio::time::timeout(
        Duration::from_secs(120),
        sheet::build(path, n, &Limits::default(), ffmpeg),
    )
    .await
    .expect("a decode ends within its deadline")
}

/// Frames are in time order, spread over the clip, and not all the same picture.
fn assert_spread(s: &Sheet, n: usize, duration: f64, w: u32, h: u32) {
    assert_eq!(s.frames.len(), n);
    let times = s.times();
    assert!(times.windows(2).all(|p| p[0] < p[1]), "{times:?}");
    assert!(times[0] < duration / n as f64, "{times:?}");
    assert!(
        times[n - 1] > duration * (n - 1) as f64 / n as f64 - 0.1,
        "{times:?}"
    );
    for f in &s.frames {
        assert_eq!(f.image.dimensions(), (w, h));
    }
    let distinct = s
        .frames
        .windows(2)
        .filter(|p| p[0].image.as_raw() != p[1].image.as_raw())
        .count();
    assert_eq!(
        distinct,
        n - 1,
        "consecutive frames differ (the pattern moves)"
    );
}

/// Mean absolute difference of two pictures over the area both cover.
fn distance(a: &image::RgbImage, b: &image::RgbImage) -> f64 {
    let (w, h) = (a.width().min(b.width()), a.height().min(b.height()));
    let mut sum = 0u64;
    for y in 0..h {
        for x in 0..w {
            let (p, q) = (a.get_pixel(x, y).0, b.get_pixel(x, y).0);
            sum += (0..3).map(|c| p[c].abs_diff(q[c]) as u64).sum::<u64>();
        }
    }
    sum as f64 / (w as f64 * h as f64 * 3.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sample_video_makes_a_sheet_that_is_cached_next_to_it() {
    let dir = tempfile::tempdir().unwrap();
    let video = dir.path().join("fox.mp4");
    std::fs::write(&video, SAMPLE).unwrap();
    let s = sheet_of(&video, 6, None).await.expect("the sample decodes");
    // 320x180 frames, 4 s long.
    assert_spread(&s, 6, 4.0, 320, 180);
    // Not a grey or black picture: H.264 was really decoded.
    let px = s.frames[2].image.as_raw();
    let spread = px.iter().max().unwrap() - px.iter().min().unwrap();
    assert!(spread > 64, "the frame has contrast ({spread})");

    let loaded = sheet::load_or_build(&video, 6, &Limits::default(), None)
        .await
        .unwrap();
    let cache = dir.path().join("fox.sheet.png");
    assert!(cache.is_file(), "the strip is cached next to the video");
    let (w, h) = image::image_dimensions(&cache).unwrap();
    assert_eq!((w, h), (6 * 320, 180));
    assert_eq!(loaded.times(), s.times());
    // Reopening reads the strip: a video that can no longer be decoded still has its sheet.
    let stamp = std::fs::metadata(&cache).unwrap().modified().unwrap();
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&video)
        .unwrap();
    f.set_len(100).unwrap();
    f.set_modified(stamp - Duration::from_secs(60)).unwrap();
    let again = sheet::load_or_build(&video, 6, &Limits::default(), None)
        .await
        .expect("the cached strip is read");
    assert_eq!(again.times().len(), 6);
    for (a, b) in again.frames.iter().zip(&s.frames) {
        assert_eq!(a.image.as_raw(), b.image.as_raw());
    }
    // Another frame count is another sheet: the cache does not answer it.
    let other = sheet::load_or_build(&video, 4, &Limits::default(), None).await;
    assert!(
        other.is_err(),
        "the cut video has to be decoded for 4 frames"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damaged_files_give_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let one_line = |e: &SheetError| {
        let t = e.to_string();
        assert!(!t.contains('\n') && t.len() < 200, "{t}");
        t
    };
    // Truncated (the index points past the end).
    let cut = dir.path().join("cut.mp4");
    std::fs::write(&cut, &SAMPLE[..SAMPLE.len() * 2 / 3]).unwrap();
    let e = sheet_of(&cut, 6, None).await.unwrap_err();
    let t = one_line(&e);
    assert!(t.contains("truncated"), "{t}");
    // No video track: the video `trak` box (the first) turned into a `free` one, which readers
    // skip, leaves the audio track alone.
    let mut bytes = SAMPLE.to_vec();
    media::patch(&mut bytes, b"trak", b"free");
    let audio = dir.path().join("audio-only.mp4");
    std::fs::write(&audio, &bytes).unwrap();
    let e = sheet_of(&audio, 6, None).await.unwrap_err();
    assert_eq!(e, SheetError::NoVideo);
    assert_eq!(one_line(&e), "the file has no video track");
    // Not an MP4 at all.
    let junk = dir.path().join("junk.mp4");
    std::fs::write(&junk, b"<html>not a video</html>").unwrap();
    let t = one_line(&sheet_of(&junk, 6, None).await.unwrap_err());
    assert!(t.contains("not a readable MP4"), "{t}");
    // Damaged frame data (the header intact): decodes what it can or says so, never panics.
    let mut bytes = SAMPLE.to_vec();
    let mdat = bytes.windows(4).position(|w| w == b"mdat").unwrap();
    for b in &mut bytes[mdat + 200..mdat + 6000] {
        *b ^= 0x5A;
    }
    let noisy = dir.path().join("noisy.mp4");
    std::fs::write(&noisy, &bytes).unwrap();
    if let Err(e) = sheet_of(&noisy, 6, None).await {
        one_line(&e);
    }
    // A decode that cannot finish in time stops at its deadline.
    let limits = Limits {
        deadline: Duration::ZERO,
        ..Limits::default()
    };
    let video = dir.path().join("ok.mp4");
    std::fs::write(&video, SAMPLE).unwrap();
    let e = sheet::build(&video, 6, &limits, None).await.unwrap_err();
    assert!(matches!(e, SheetError::TooSlow(0)), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h264_results_of_every_resolution_decode_in_process() {
    let Some(ffmpeg) = media::ffmpeg("h264_results_of_every_resolution_decode_in_process") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // 480p, 720p and 1080p landscape, and 720p portrait (the 9:16 ratio).
    for (w, h) in [(864, 480), (1280, 720), (1920, 1080), (720, 1280)] {
        let video = dir.path().join(format!("{w}x{h}.mp4"));
        media::make(&ffmpeg, &video, w, h, 2.0, H264);
        // No ffmpeg given: the decode is in process.
        let s = sheet_of(&video, 6, None)
            .await
            .unwrap_or_else(|e| panic!("{w}x{h}: {e}"));
        let th = 320 * h / w;
        assert_spread(&s, 6, 2.0, 320, th);
        // Each frame is the picture at its time (not one decoded out of order): it is closer to
        // ffmpeg's frame at that time than to ffmpeg's frame at any other.
        let theirs = sheet::ffmpeg::frames(&ffmpeg, &video, &s.times(), &Limits::default())
            .await
            .expect("ffmpeg grabs the same frames");
        for (i, ours) in s.frames.iter().enumerate() {
            let same = distance(&ours.image, &theirs[i].image);
            for (j, other) in theirs.iter().enumerate().filter(|(j, _)| *j != i) {
                let d = distance(&ours.image, &other.image);
                assert!(same < d, "{w}x{h} frame {i}: {same} vs frame {j}: {d}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_bit_h265_needs_ffmpeg_and_says_so_without_it() {
    let Some(ffmpeg) = media::ffmpeg("ten_bit_h265_needs_ffmpeg_and_says_so_without_it") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let video = dir.path().join("uhd.mp4");
    // Small, so the encoder is quick; the codec is what matters.
    media::make(&ffmpeg, &video, 384, 216, 1.0, H265_10BIT);
    let e = sheet_of(&video, 6, None).await.unwrap_err();
    let t = e.to_string();
    assert!(!t.contains('\n'), "{t}");
    assert!(
        t.contains("10-bit H.265")
            && t.contains("needs ffmpeg on PATH")
            && t.contains("apt install ffmpeg"),
        "{t}"
    );
    // With ffmpeg it decodes.
    let s = sheet_of(&video, 4, Some(&ffmpeg))
        .await
        .expect("ffmpeg decodes H.265");
    assert_eq!(s.frames.len(), 4);
    assert_eq!(s.frames[0].image.dimensions(), (320, 180));
}
