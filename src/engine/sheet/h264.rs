//! H.264 frames decoded in process with OpenH264 (built from its bundled source).
//!
//! Only the groups of pictures (a sync sample up to the next) that hold a wanted frame are
//! decoded, each by a fresh decoder fed the parameter sets first; the decoder gives pictures in
//! display order, so the k-th picture out of a group is the group's k-th sample by presentation
//! time. Each wanted picture is converted to RGB and shrunk at once: memory is one full frame.

use super::demux::{Codec, SampleReader, Video};
use super::{Limits, SheetError, Thumb};
use image::RgbImage;
use openh264::OpenH264API;
use openh264::decoder::{DecodedYUV, Decoder, DecoderConfig, Flush};
use openh264::formats::YUVSource;
use std::path::Path;
use std::time::Instant;

const START_CODE: [u8; 4] = [0, 0, 0, 1];

/// Pictures of `video` nearest each time in `times` (seconds), `width` pixels wide.
pub(crate) fn frames(
    path: &Path,
    video: &Video,
    times: &[f64],
    limits: &Limits,
) -> Result<Vec<Thumb>, SheetError> {
    let Codec::H264 {
        sps,
        pps,
        length_size,
    } = &video.codec
    else {
        return Err(SheetError::Decode("not an H.264 video".into()));
    };
    let started = Instant::now();
    let mut header = Vec::new();
    for nal in sps.iter().chain(pps) {
        header.extend_from_slice(&START_CODE);
        header.extend_from_slice(nal);
    }
    let samples = &video.samples;
    // Group boundaries in decode order: every sync sample starts one (the first always does).
    let mut starts: Vec<usize> = (0..samples.len())
        .filter(|&i| i == 0 || samples[i].sync)
        .collect();
    starts.push(samples.len());
    let wanted: Vec<usize> = times.iter().map(|&t| nearest(video, t)).collect();
    let mut out: Vec<Option<Thumb>> = vec![None; times.len()];
    let mut reader = SampleReader::new(path, limits)?;
    let mut annexb = Vec::new();
    let mut rgb = Vec::new();
    for g in starts.windows(2) {
        let (from, to) = (g[0], g[1]);
        if !wanted.iter().any(|&w| w >= from && w < to) {
            continue;
        }
        // Display order within the group: sample indices sorted by presentation time.
        let mut order: Vec<usize> = (from..to).collect();
        order.sort_by(|&a, &b| samples[a].at.total_cmp(&samples[b].at));
        // No flush after each picture: with B-frames a flush breaks the reordering (pictures
        // come out late and in display order; the rest are flushed at the group's end).
        let config = DecoderConfig::new().flush_after_decode(Flush::NoFlush);
        let mut decoder = Decoder::with_api_config(OpenH264API::from_source(), config)
            .map_err(|e| SheetError::Decode(e.to_string()))?;
        let _ = decoder.decode(&header);
        let mut shown = 0usize;
        let mut take = |pic: &DecodedYUV<'_>, shown: usize, rgb: &mut Vec<u8>| {
            let Some(&sample) = order.get(shown) else {
                return;
            };
            for (slot, &w) in out.iter_mut().zip(&wanted) {
                if w == sample && slot.is_none() {
                    *slot = Some(Thumb {
                        at: samples[sample].at,
                        image: shrink(pic, rgb, limits.frame_width),
                    });
                }
            }
        };
        for sample in &samples[from..to] {
            if started.elapsed() > limits.deadline {
                return Err(SheetError::TooSlow(limits.deadline.as_secs()));
            }
            to_annexb(reader.read(sample)?, *length_size, &mut annexb)?;
            // A damaged picture is skipped; the frames around it still decode.
            if let Ok(Some(pic)) = decoder.decode(&annexb) {
                take(&pic, shown, &mut rgb);
                shown += 1;
            }
        }
        if let Ok(rest) = decoder.flush_remaining() {
            for pic in rest {
                take(&pic, shown, &mut rgb);
                shown += 1;
            }
        }
    }
    if out.iter().all(Option::is_none) {
        return Err(SheetError::Decode(
            "no picture could be decoded (a damaged H.264 stream?)".into(),
        ));
    }
    // A picture that did not decode borrows its neighbour's, so the sheet keeps its shape.
    let found: Vec<Thumb> = out.iter().flatten().cloned().collect();
    Ok(out
        .into_iter()
        .enumerate()
        .map(|(i, t)| {
            t.unwrap_or_else(|| {
                found
                    .iter()
                    .min_by(|a, b| (a.at - times[i]).abs().total_cmp(&(b.at - times[i]).abs()))
                    .cloned()
                    .unwrap_or_else(|| found[0].clone())
            })
        })
        .collect())
}

/// The sample whose presentation time is nearest `t`.
fn nearest(video: &Video, t: f64) -> usize {
    (0..video.samples.len())
        .min_by(|&a, &b| {
            (video.samples[a].at - t)
                .abs()
                .total_cmp(&(video.samples[b].at - t).abs())
        })
        .unwrap_or(0)
}

/// Length-prefixed NAL units (MP4) to start-code separated ones (what the decoder reads).
fn to_annexb(sample: &[u8], length_size: usize, out: &mut Vec<u8>) -> Result<(), SheetError> {
    out.clear();
    let mut rest = sample;
    while !rest.is_empty() {
        if rest.len() < length_size {
            return Err(SheetError::Corrupt(
                "a frame's NAL lengths are damaged".into(),
            ));
        }
        let len = rest[..length_size]
            .iter()
            .fold(0usize, |n, &b| (n << 8) | b as usize);
        rest = &rest[length_size..];
        if len > rest.len() {
            return Err(SheetError::Corrupt(
                "a frame's NAL lengths are damaged".into(),
            ));
        }
        out.extend_from_slice(&START_CODE);
        out.extend_from_slice(&rest[..len]);
        rest = &rest[len..];
    }
    Ok(())
}

/// The picture as RGB, `width` pixels wide (never wider than it is).
fn shrink(pic: &DecodedYUV<'_>, rgb: &mut Vec<u8>, width: u32) -> RgbImage {
    let (w, h) = pic.dimensions();
    rgb.resize(w * h * 3, 0);
    pic.write_rgb8(rgb);
    let full = RgbImage::from_raw(w as u32, h as u32, std::mem::take(rgb))
        .unwrap_or_else(|| RgbImage::new(1, 1));
    let tw = width.min(w as u32).max(1);
    let th = ((h as u64 * tw as u64) / (w.max(1) as u64)).max(1) as u32;
    let small = image::imageops::resize(&full, tw, th, image::imageops::FilterType::Triangle);
    *rgb = full.into_raw();
    small
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_prefixed_units_become_start_codes() {
        let mut out = Vec::new();
        to_annexb(&[0, 0, 0, 2, 0x65, 1, 0, 0, 0, 1, 0x41], 4, &mut out).unwrap();
        assert_eq!(out, [0, 0, 0, 1, 0x65, 1, 0, 0, 0, 1, 0x41]);
        // A length running past the sample is damage, not a read past the end.
        assert!(to_annexb(&[0, 0, 0, 9, 0x65], 4, &mut out).is_err());
        assert!(to_annexb(&[0, 0], 4, &mut out).is_err());
    }
}
