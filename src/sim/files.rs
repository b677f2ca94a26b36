//! Result files: a real, playable MP4 shipped in the repo, and a PNG "last frame" drawn for each
//! task (a gradient from its id, with the id written on it in a tiny bitmap font); plus the
//! signing of result URLs that expire like presigned object-storage links.

/// A 4-second 320x180 H.264/AAC MP4 (ffmpeg test source), about 24 KB.
pub const SAMPLE_MP4: &[u8] = include_bytes!("../../assets/sim/sample.mp4");

pub const FRAME_W: u32 = 320;
pub const FRAME_H: u32 = 180;

fn hash(bytes: &[u8], seed: u64) -> u64 {
    // FNV-1a, then a splitmix finaliser.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
    for b in bytes {
        h ^= *b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^ (h >> 33)
}

/// The signature of a result URL.
pub(crate) fn sign(task_id: &str, file: &str, date: i64, expires: u64, secret: u64) -> String {
    let msg = format!("{task_id}|{file}|{date}|{expires}");
    format!("{:016x}", hash(msg.as_bytes(), secret))
}

/// 3x5 glyphs for the characters in task ids (rows top to bottom, 3 bits each).
fn glyph(c: char) -> [u8; 5] {
    match c.to_ascii_lowercase() {
        '0' => [7, 5, 5, 5, 7],
        '1' => [2, 6, 2, 2, 7],
        '2' => [7, 1, 7, 4, 7],
        '3' => [7, 1, 7, 1, 7],
        '4' => [5, 5, 7, 1, 1],
        '5' => [7, 4, 7, 1, 7],
        '6' => [7, 4, 7, 5, 7],
        '7' => [7, 1, 1, 1, 1],
        '8' => [7, 5, 7, 5, 7],
        '9' => [7, 5, 7, 1, 7],
        'a' => [2, 5, 7, 5, 5],
        'b' => [6, 5, 6, 5, 6],
        'c' => [7, 4, 4, 4, 7],
        'd' => [6, 5, 5, 5, 6],
        'e' => [7, 4, 6, 4, 7],
        'f' => [7, 4, 6, 4, 4],
        'g' => [7, 4, 5, 5, 7],
        'h' => [5, 5, 7, 5, 5],
        'i' => [7, 2, 2, 2, 7],
        'j' => [1, 1, 1, 5, 7],
        'k' => [5, 5, 6, 5, 5],
        'l' => [4, 4, 4, 4, 7],
        'm' => [5, 7, 7, 5, 5],
        'n' => [6, 5, 5, 5, 5],
        'o' => [2, 5, 5, 5, 2],
        'p' => [6, 5, 6, 4, 4],
        'q' => [2, 5, 5, 6, 3],
        'r' => [6, 5, 6, 5, 5],
        's' => [3, 4, 2, 1, 6],
        't' => [7, 2, 2, 2, 2],
        'u' => [5, 5, 5, 5, 7],
        'v' => [5, 5, 5, 5, 2],
        'w' => [5, 5, 7, 7, 5],
        'x' => [5, 5, 2, 5, 5],
        'y' => [5, 5, 2, 2, 2],
        'z' => [7, 1, 2, 4, 7],
        '-' => [0, 0, 7, 0, 0],
        _ => [0, 0, 0, 0, 0],
    }
}

/// RGB pixels of the last frame of `task_id`: a diagonal gradient in colours derived from the id,
/// with the id written across the middle.
pub(crate) fn frame_pixels(task_id: &str) -> Vec<u8> {
    let h = hash(task_id.as_bytes(), 0);
    let c1 = [
        (h & 0xff) as f32,
        ((h >> 8) & 0xff) as f32,
        ((h >> 16) & 0xff) as f32,
    ];
    let c2 = [
        ((h >> 24) & 0xff) as f32,
        ((h >> 32) & 0xff) as f32,
        ((h >> 40) & 0xff) as f32,
    ];
    let (w, hgt) = (FRAME_W as usize, FRAME_H as usize);
    let mut px = vec![0u8; w * hgt * 3];
    for y in 0..hgt {
        for x in 0..w {
            let t = (x + y) as f32 / (w + hgt) as f32;
            let i = (y * w + x) * 3;
            for ch in 0..3 {
                px[i + ch] = (c1[ch] * (1.0 - t) + c2[ch] * t) as u8;
            }
        }
    }
    // The id in white, scaled so it fits the width.
    let text: Vec<char> = task_id.chars().take(40).collect();
    let scale = (w / (text.len().max(1) * 4 + 2)).clamp(1, 6);
    let text_w = text.len() * 4 * scale;
    let x0 = w.saturating_sub(text_w) / 2;
    let y0 = hgt.saturating_sub(5 * scale) / 2;
    for (n, c) in text.iter().enumerate() {
        let g = glyph(*c);
        for (row, bits) in g.iter().enumerate() {
            for col in 0..3 {
                if bits & (4 >> col) == 0 {
                    continue;
                }
                for dy in 0..scale {
                    for dx in 0..scale {
                        let x = x0 + (n * 4 + col) * scale + dx;
                        let y = y0 + row * scale + dy;
                        if x < w && y < hgt {
                            let i = (y * w + x) * 3;
                            px[i..i + 3].copy_from_slice(&[255, 255, 255]);
                        }
                    }
                }
            }
        }
    }
    px
}

/// The last frame of `task_id` as a PNG file.
pub fn frame_png(task_id: &str) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, FRAME_W, FRAME_H);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let written = enc
            .write_header()
            .and_then(|mut w| w.write_image_data(&frame_pixels(task_id)));
        if written.is_err() {
            return Vec::new();
        }
    }
    out
}

/// Byte `i` of a generated video of any size: the sample MP4, then filler that depends on the
/// offset (so a resumed download stitched at the wrong place shows up as a different file).
pub fn video_byte(i: u64) -> u8 {
    match SAMPLE_MP4.get(i as usize) {
        Some(b) => *b,
        None => (i.wrapping_mul(2_654_435_761) >> 13) as u8,
    }
}

/// Bytes `start..end` of a generated video, as a stream of chunks of at most 64 KiB: memory use
/// does not grow with the file.
pub(crate) fn video_stream(
    start: u64,
    end: u64,
) -> impl futures::Stream<Item = Result<bytes::Bytes, std::io::Error>> + Send + 'static {
    const CHUNK: u64 = 64 * 1024;
    futures::stream::unfold(start, move |at| async move {
        if at >= end {
            return None;
        }
        let stop = (at + CHUNK).min(end);
        let chunk: Vec<u8> = (at..stop).map(video_byte).collect();
        Some((Ok(bytes::Bytes::from(chunk)), stop))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_decodes_to_the_frame_size() {
        let bytes = frame_png("cgt-20260101000000-abcde");
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let reader = decoder.read_info().expect("a valid png");
        let info = reader.info();
        assert_eq!((info.width, info.height), (FRAME_W, FRAME_H));
    }

    #[test]
    fn different_ids_give_different_frames_and_signatures() {
        assert_ne!(frame_pixels("a"), frame_pixels("b"));
        assert_ne!(sign("a", "v", 1, 2, 3), sign("a", "v", 1, 2, 4));
        assert_eq!(sign("a", "v", 1, 2, 3), sign("a", "v", 1, 2, 3));
    }

    #[test]
    fn sample_is_an_mp4() {
        assert_eq!(&SAMPLE_MP4[4..8], b"ftyp");
    }
}
