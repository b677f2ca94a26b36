//! The video track of an MP4 file, read from its header only (`re_mp4` seeks past `mdat`): the
//! codec, the frame size, the duration and where each sample lies. Samples are read one at a time
//! by offset, so memory is the header plus one sample.

use super::{Limits, SheetError};
use re_mp4::{Mp4, StsdBoxContent, TrackKind};
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

/// What the video track is coded with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Codec {
    /// H.264 with its parameter sets (SPS, PPS) and the sample's length-prefix size.
    H264 {
        sps: Vec<Vec<u8>>,
        pps: Vec<Vec<u8>>,
        length_size: usize,
    },
    /// H.265 and its luma bit depth.
    H265 { bit_depth: u8 },
    /// Anything else, by its sample-entry name (`av01`, `vp09`, …).
    Other(String),
}

impl Codec {
    /// A short human name: `H.264`, `10-bit H.265`, `av01`.
    pub(crate) fn name(&self) -> String {
        match self {
            Codec::H264 { .. } => "H.264".into(),
            Codec::H265 { bit_depth } if *bit_depth > 8 => format!("{bit_depth}-bit H.265"),
            Codec::H265 { .. } => "H.265".into(),
            Codec::Other(s) => s.clone(),
        }
    }
}

/// One coded frame.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sample {
    pub(crate) offset: u64,
    pub(crate) size: u64,
    /// Presentation time, seconds from the first frame.
    pub(crate) at: f64,
    pub(crate) sync: bool,
}

/// The video track of a file.
#[derive(Debug, Clone)]
pub(crate) struct Video {
    pub(crate) codec: Codec,
    /// Seconds.
    pub(crate) duration: f64,
    /// In decode order.
    pub(crate) samples: Vec<Sample>,
}

/// Read the header of `path` and describe its first video track.
pub(crate) fn open(path: &Path, limits: &Limits) -> Result<Video, SheetError> {
    let file = File::open(path).map_err(|e| SheetError::Unreadable(e.to_string()))?;
    let file_len = file
        .metadata()
        .map_err(|e| SheetError::Unreadable(e.to_string()))?
        .len();
    if file_len > limits.max_file_bytes {
        return Err(SheetError::TooLarge(format!(
            "the video is {file_len} bytes, more than the {} read for a sheet",
            limits.max_file_bytes
        )));
    }
    let mp4 = Mp4::read(BufReader::new(file), file_len).map_err(|e| {
        SheetError::Corrupt(format!(
            "not a readable MP4 (truncated or corrupt: {})",
            first_line(&e.to_string())
        ))
    })?;
    let track = mp4
        .tracks()
        .values()
        .find(|t| t.kind == Some(TrackKind::Video))
        .ok_or(SheetError::NoVideo)?;
    let codec = match &track.trak(&mp4).mdia.minf.stbl.stsd.contents {
        StsdBoxContent::Avc1(b) => Codec::H264 {
            sps: b
                .avcc
                .sequence_parameter_sets
                .iter()
                .map(|n| n.bytes.clone())
                .collect(),
            pps: b
                .avcc
                .picture_parameter_sets
                .iter()
                .map(|n| n.bytes.clone())
                .collect(),
            length_size: b.avcc.length_size_minus_one as usize % 4 + 1,
        },
        StsdBoxContent::Hvc1(b) | StsdBoxContent::Hev1(b) => Codec::H265 {
            bit_depth: b.hvcc.bit_depth_luma_minus8 + 8,
        },
        other => Codec::Other(
            other
                .codec_string()
                .unwrap_or_else(|| "an unknown codec".into()),
        ),
    };
    let (width, height) = (u32::from(track.width), u32::from(track.height));
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(SheetError::TooLarge(format!(
            "the video is {width}x{height}, larger than a sheet decodes"
        )));
    }
    if track.samples.len() > limits.max_samples {
        return Err(SheetError::TooLarge(format!(
            "the video has {} frames, more than a sheet reads",
            track.samples.len()
        )));
    }
    let scale = track.timescale.max(1) as f64;
    let samples: Vec<Sample> = track
        .samples
        .iter()
        .map(|s| Sample {
            offset: s.offset,
            size: s.size,
            at: s.composition_timestamp as f64 / scale,
            sync: s.is_sync,
        })
        .collect();
    if samples.is_empty() {
        return Err(SheetError::NoVideo);
    }
    let end = samples
        .iter()
        .map(|s| s.offset.saturating_add(s.size))
        .max()
        .unwrap_or(0);
    if end > file_len {
        return Err(SheetError::Corrupt(format!(
            "the video is truncated: its index needs {end} bytes, the file has {file_len}"
        )));
    }
    let last = samples.iter().map(|s| s.at).fold(0.0, f64::max);
    let frame = track.samples.first().map_or(0.0, |s| s.duration as f64) / scale;
    Ok(Video {
        codec,
        duration: (track.duration as f64 / scale).max(last + frame),
        samples,
    })
}

/// The first line of a library's message, short.
fn first_line(s: &str) -> String {
    crate::text::truncate(s.lines().next().unwrap_or(""), 120)
}

/// Reads samples by offset into one reused buffer.
pub(crate) struct SampleReader {
    file: File,
    buf: Vec<u8>,
    max_sample: u64,
}

impl SampleReader {
    pub(crate) fn new(path: &Path, limits: &Limits) -> Result<SampleReader, SheetError> {
        Ok(SampleReader {
            file: File::open(path).map_err(|e| SheetError::Unreadable(e.to_string()))?,
            buf: Vec::new(),
            max_sample: limits.max_sample_bytes,
        })
    }

    /// The bytes of `s` (valid until the next call).
    pub(crate) fn read(&mut self, s: &Sample) -> Result<&[u8], SheetError> {
        if s.size > self.max_sample {
            return Err(SheetError::TooLarge(format!(
                "a frame of {} bytes is larger than a sheet reads",
                s.size
            )));
        }
        self.buf.resize(s.size as usize, 0);
        self.file
            .seek(SeekFrom::Start(s.offset))
            .and_then(|_| self.file.read_exact(&mut self.buf))
            .map_err(|_| SheetError::Corrupt("the video is truncated (a frame is cut)".into()))?;
        Ok(&self.buf)
    }
}
