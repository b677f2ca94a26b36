//! What a local asset file's header says, read cheaply before any money is spent: an image's
//! width and height (PNG, GIF, BMP, JPEG, WebP, TIFF), a video's duration (mp4/mov `mvhd`), a wav
//! file's duration (its `fmt ` and `data` chunks). Only the first bytes are read (and, for mp4,
//! the top-level box headers, found by seeking); a format this module cannot read cheaply gives
//! `None`, and the service decides.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// The most bytes read from the start of an image (JPEG and TIFF may need more than a little).
const IMAGE_HEAD: u64 = 512 * 1024;
/// The most top-level mp4 boxes walked looking for `moov`.
const MAX_BOXES: usize = 4096;

fn head(path: &Path, max: u64) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    File::open(path)?.take(max).read_to_end(&mut buf)?;
    Ok(buf)
}

fn be16(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 2)
        .map(|x| u16::from_be_bytes([x[0], x[1]]) as u32)
}
fn le16(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 2)
        .map(|x| u16::from_le_bytes([x[0], x[1]]) as u32)
}
fn be32(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4)
        .map(|x| u32::from_be_bytes([x[0], x[1], x[2], x[3]]))
}
fn le32(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4)
        .map(|x| u32::from_le_bytes([x[0], x[1], x[2], x[3]]))
}
fn be64(b: &[u8], at: usize) -> Option<u64> {
    b.get(at..at + 8).map(|x| {
        let mut a = [0u8; 8];
        a.copy_from_slice(x);
        u64::from_be_bytes(a)
    })
}

/// `(width, height)` of an image file from its header, when the format is one read here.
pub(crate) fn image_size(path: &Path) -> std::io::Result<Option<(u32, u32)>> {
    Ok(image_size_of(&head(path, IMAGE_HEAD)?))
}

/// `(width, height)` from the first bytes of an image.
pub(crate) fn image_size_of(b: &[u8]) -> Option<(u32, u32)> {
    if b.starts_with(b"\x89PNG\r\n\x1a\n") && b.get(12..16) == Some(b"IHDR") {
        return Some((be32(b, 16)?, be32(b, 20)?));
    }
    if b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a") {
        return Some((le16(b, 6)?, le16(b, 8)?));
    }
    if b.starts_with(b"BM") {
        let w = le32(b, 18)? as i32;
        let h = le32(b, 22)? as i32;
        return Some((w.unsigned_abs(), h.unsigned_abs()));
    }
    if b.starts_with(&[0xFF, 0xD8]) {
        return jpeg_size(b);
    }
    if b.starts_with(b"RIFF") && b.get(8..12) == Some(b"WEBP") {
        return webp_size(b);
    }
    if b.starts_with(b"II*\0") || b.starts_with(b"MM\0*") {
        return tiff_size(b);
    }
    None
}

fn jpeg_size(b: &[u8]) -> Option<(u32, u32)> {
    let mut i = 2;
    while i + 4 <= b.len() {
        if b[i] != 0xFF {
            return None;
        }
        let marker = b[i + 1];
        if marker == 0xFF {
            i += 1;
            continue;
        }
        // Markers without a length.
        if matches!(marker, 0xD8 | 0x01 | 0xD0..=0xD7) {
            i += 2;
            continue;
        }
        let len = be16(b, i + 2)? as usize;
        // Start of frame (not DHT 0xC4, JPG 0xC8, DAC 0xCC).
        if matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            let h = be16(b, i + 5)?;
            let w = be16(b, i + 7)?;
            return Some((w, h));
        }
        if len < 2 {
            return None;
        }
        i += 2 + len;
    }
    None
}

fn webp_size(b: &[u8]) -> Option<(u32, u32)> {
    match b.get(12..16)? {
        b"VP8 " => Some((le16(b, 26)? & 0x3FFF, le16(b, 28)? & 0x3FFF)),
        b"VP8L" => {
            let v = le32(b, 21)?;
            Some(((v & 0x3FFF) + 1, ((v >> 14) & 0x3FFF) + 1))
        }
        b"VP8X" => {
            let w = le32(b, 24)? & 0xFF_FFFF;
            let h = le32(b, 27)? & 0xFF_FFFF;
            Some((w + 1, h + 1))
        }
        _ => None,
    }
}

fn tiff_size(b: &[u8]) -> Option<(u32, u32)> {
    let le = b.starts_with(b"II");
    let r16 = |at| if le { le16(b, at) } else { be16(b, at) };
    let r32 = |at| if le { le32(b, at) } else { be32(b, at) };
    let ifd = r32(4)? as usize;
    let n = r16(ifd)? as usize;
    let (mut w, mut h) = (None, None);
    for k in 0..n.min(512) {
        let e = ifd + 2 + k * 12;
        let tag = r16(e)?;
        let ty = r16(e + 2)?;
        let value = if ty == 3 { r16(e + 8)? } else { r32(e + 8)? };
        match tag {
            256 => w = Some(value),
            257 => h = Some(value),
            _ => {}
        }
    }
    Some((w?, h?))
}

/// Seconds of an mp4/mov file from its `moov/mvhd`, found by walking the top-level boxes
/// (seeking over `mdat`, so a large file costs a few small reads).
pub(crate) fn mp4_seconds(path: &Path) -> std::io::Result<Option<f64>> {
    let mut f = File::open(path)?;
    let len = f.metadata()?.len();
    let mut at = 0u64;
    for _ in 0..MAX_BOXES {
        if at + 8 > len {
            return Ok(None);
        }
        f.seek(SeekFrom::Start(at))?;
        let mut h = [0u8; 16];
        let got = f.by_ref().take(16).read(&mut h)?;
        if got < 8 {
            return Ok(None);
        }
        let size32 = u32::from_be_bytes([h[0], h[1], h[2], h[3]]) as u64;
        let kind = &h[4..8];
        let (size, header) = match size32 {
            0 => (len - at, 8),
            1 if got >= 16 => (be64(&h, 8).unwrap_or(0), 16),
            s => (s, 8),
        };
        if size < header {
            return Ok(None);
        }
        if kind == b"moov" {
            // The movie header comes first in practice; read a bounded part of `moov`.
            let take = (size - header).min(64 * 1024);
            let mut moov = Vec::new();
            f.seek(SeekFrom::Start(at + header))?;
            f.by_ref().take(take).read_to_end(&mut moov)?;
            return Ok(mvhd_seconds(&moov));
        }
        at = at.saturating_add(size);
    }
    Ok(None)
}

/// Where a walk of an mp4's top-level boxes over some of its bytes got to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Mp4Scan {
    /// The movie header says this many seconds.
    Seconds(f64),
    /// The bytes end before `moov` (or before its header box): read on from this offset.
    ReadAt(u64),
    /// Not an mp4 this can read (no `moov`, a malformed box, a `moov` without `mvhd`).
    Unreadable,
}

/// Walk the top-level boxes of an mp4 from offset `at`, over `buf`, which holds the file's bytes
/// from offset `base`: for a file read in ranges (a remote video's first bytes, then the box
/// where `moov` starts).
pub(crate) fn scan_mp4(buf: &[u8], base: u64, mut at: u64) -> Mp4Scan {
    for _ in 0..MAX_BOXES {
        let Some(i) = at.checked_sub(base).and_then(|i| usize::try_from(i).ok()) else {
            return Mp4Scan::ReadAt(at);
        };
        if i.saturating_add(16) > buf.len() {
            return Mp4Scan::ReadAt(at);
        }
        let Some(size32) = be32(buf, i) else {
            return Mp4Scan::ReadAt(at);
        };
        let kind = &buf[i + 4..i + 8];
        let (size, header) = match size32 {
            0 => (u64::MAX, 8u64),
            1 => (be64(buf, i + 8).unwrap_or(0), 16),
            s => (s as u64, 8),
        };
        if size < header {
            return Mp4Scan::Unreadable;
        }
        if kind == b"moov" {
            let body = i + header as usize;
            let want = (size - header).min(64 * 1024) as usize;
            // `mvhd` comes first in practice: its 120 bytes are enough when the rest is cut.
            let have = buf.len().saturating_sub(body);
            if have < want.min(120) {
                return Mp4Scan::ReadAt(at);
            }
            let end = body + want.min(have);
            return match mvhd_seconds(&buf[body..end]) {
                Some(s) => Mp4Scan::Seconds(s),
                None => Mp4Scan::Unreadable,
            };
        }
        if size == u64::MAX {
            return Mp4Scan::Unreadable;
        }
        at = at.saturating_add(size);
    }
    Mp4Scan::Unreadable
}

/// Seconds from the boxes inside `moov`.
fn mvhd_seconds(moov: &[u8]) -> Option<f64> {
    let mut i = 0usize;
    while i + 8 <= moov.len() {
        let size = be32(moov, i)? as usize;
        if &moov[i + 4..i + 8] == b"mvhd" {
            let body = &moov[i + 8..];
            let (timescale, duration) = match body.first()? {
                1 => (be32(body, 20)? as u64, be64(body, 24)?),
                _ => (be32(body, 12)? as u64, be32(body, 16)? as u64),
            };
            return (timescale > 0).then(|| duration as f64 / timescale as f64);
        }
        if size < 8 {
            return None;
        }
        i += size;
    }
    None
}

/// Seconds of a wav file from its `fmt ` byte rate and `data` size.
pub(crate) fn wav_seconds(path: &Path) -> std::io::Result<Option<f64>> {
    Ok(wav_seconds_of(&head(path, 64 * 1024)?))
}

/// Seconds from the first bytes of a wav file.
pub(crate) fn wav_seconds_of(b: &[u8]) -> Option<f64> {
    if !(b.starts_with(b"RIFF") && b.get(8..12) == Some(b"WAVE")) {
        return None;
    }
    let mut i = 12usize;
    let mut byte_rate = None;
    while i + 8 <= b.len() {
        let id = &b[i..i + 4];
        let size = le32(b, i + 4)? as usize;
        if id == b"fmt " {
            byte_rate = le32(b, i + 16);
        } else if id == b"data" {
            let rate = byte_rate.filter(|r| *r > 0)?;
            return Some(size as f64 / rate as f64);
        }
        i += 8 + size + (size & 1);
    }
    None
}

#[cfg(test)]
pub(crate) mod samples {
    //! Minimal valid headers for the tests.

    pub(crate) fn png(w: u32, h: u32) -> Vec<u8> {
        let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        b.extend(w.to_be_bytes());
        b.extend(h.to_be_bytes());
        b.extend([8, 2, 0, 0, 0, 0, 0, 0, 0]);
        b
    }

    pub(crate) fn jpeg(w: u16, h: u16) -> Vec<u8> {
        let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 16];
        b.extend(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
        b.extend([0xFF, 0xC0, 0, 17, 8]);
        b.extend(h.to_be_bytes());
        b.extend(w.to_be_bytes());
        b.extend([3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
        b
    }

    pub(crate) fn wav(seconds: u32) -> Vec<u8> {
        let rate = 8000u32;
        let data = rate * seconds; // 8-bit mono
        let mut b = b"RIFF".to_vec();
        b.extend((36 + data).to_le_bytes());
        b.extend(b"WAVEfmt ");
        b.extend(16u32.to_le_bytes());
        b.extend(1u16.to_le_bytes());
        b.extend(1u16.to_le_bytes());
        b.extend(rate.to_le_bytes());
        b.extend(rate.to_le_bytes());
        b.extend(1u16.to_le_bytes());
        b.extend(8u16.to_le_bytes());
        b.extend(b"data");
        b.extend(data.to_le_bytes());
        b.resize(b.len() + data as usize, 0x80);
        b
    }

    /// `ftyp`, a large `mdat` (sparse filler) and then `moov` with `mvhd`, like a file that was
    /// not "fast-started".
    pub(crate) fn mp4(seconds: u32, mdat_bytes: u32) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend(16u32.to_be_bytes());
        b.extend(b"ftypisom\0\0\0\x01");
        b.extend((8 + mdat_bytes).to_be_bytes());
        b.extend(b"mdat");
        b.resize(b.len() + mdat_bytes as usize, 0);
        let mut mvhd = vec![0u8; 4 + 4 + 4 + 4 + 4];
        mvhd[12..16].copy_from_slice(&1000u32.to_be_bytes());
        mvhd[16..20].copy_from_slice(&(seconds * 1000).to_be_bytes());
        mvhd.resize(100, 0);
        let mut moov = Vec::new();
        moov.extend((8 + 8 + mvhd.len() as u32).to_be_bytes());
        moov.extend(b"moov");
        moov.extend((8 + mvhd.len() as u32).to_be_bytes());
        moov.extend(b"mvhd");
        moov.extend(mvhd);
        b.extend(moov);
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_sides_come_from_the_header() {
        assert_eq!(image_size_of(&samples::png(1280, 720)), Some((1280, 720)));
        assert_eq!(image_size_of(&samples::jpeg(299, 6001)), Some((299, 6001)));
        let mut gif = b"GIF89a".to_vec();
        gif.extend([0x20, 0x03, 0x58, 0x02]);
        assert_eq!(image_size_of(&gif), Some((800, 600)));
        assert_eq!(image_size_of(b"not an image"), None);
        assert_eq!(image_size_of(&[0xFF, 0xD8, 0xFF]), None, "cut short");
    }

    #[test]
    fn durations_come_from_mvhd_and_the_wav_header() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mp4 = dir.path().join("a.mp4");
        std::fs::write(&mp4, samples::mp4(7, 200_000)).expect("write");
        assert_eq!(mp4_seconds(&mp4).expect("reads"), Some(7.0));
        let wav = dir.path().join("a.wav");
        std::fs::write(&wav, samples::wav(3)).expect("write");
        assert_eq!(wav_seconds(&wav).expect("reads"), Some(3.0));
        let sample = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/assets/sim/sample.mp4"
        ))
        .expect("sample");
        assert_eq!(scan_mp4(&sample, 0, 0), Mp4Scan::Seconds(4.0));
        let junk = dir.path().join("junk.mp4");
        std::fs::write(&junk, b"\0\0\0\x01moov").expect("write");
        assert_eq!(mp4_seconds(&junk).expect("reads"), None);
    }

    #[test]
    fn a_ranged_scan_asks_for_the_box_past_its_bytes() {
        let file = samples::mp4(9, 300_000);
        let head = &file[..64 * 1024];
        // `ftyp` (16) + `mdat` (8 + 300,000): `moov` starts past the first bytes.
        let moov_at = 16 + 8 + 300_000;
        assert_eq!(scan_mp4(head, 0, 0), Mp4Scan::ReadAt(moov_at));
        let tail = &file[moov_at as usize..];
        assert_eq!(scan_mp4(tail, moov_at, moov_at), Mp4Scan::Seconds(9.0));
        // A cut `moov` header asks for the box again; garbage is unreadable.
        assert_eq!(
            scan_mp4(&tail[..20], moov_at, moov_at),
            Mp4Scan::ReadAt(moov_at)
        );
        assert_eq!(scan_mp4(&[0u8; 64], 0, 0), Mp4Scan::Unreadable);
        assert_eq!(scan_mp4(&[0xAB; 4096], 0, 0), Mp4Scan::ReadAt(0xABAB_ABAB));
    }
}
