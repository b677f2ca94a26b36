//! Contact sheets for the dashboard, off the UI loop: read the cached strip next to the video or
//! make it (`engine::sheet`: H.264 in process on the blocking pool, other codecs through ffmpeg),
//! then encode each frame as a tile for the grid the reducer's box allows, and send the tiles to
//! the loop as a message.
//!
//! One sheet is decoded at a time; a request that waited while the user moved on to another task
//! is dropped before it decodes (the reducer asks again when the task is shown again).

use crate::app::Msg;
use crate::app::results::{PreviewImage, ResultsMsg, SheetTiles, grid};
use crate::engine::sheet::{self, Limits, Sheet};
use ratatui::layout::Size;
use ratatui_image::Resize;
use ratatui_image::picker::Picker;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::sync::{Semaphore, mpsc};

/// Sheets kept decoded for quick re-selection.
const KEPT: usize = 16;

type Ask = (String, (u16, u16), bool);

/// Makes sheets; cheap to clone.
#[derive(Clone)]
pub(crate) struct Sheets {
    picker: Picker,
    limits: Limits,
    ffmpeg: Option<PathBuf>,
    kept: Arc<Mutex<HashMap<String, Arc<Sheet>>>>,
    wanted: Arc<Mutex<Option<String>>>,
    asked: Arc<Mutex<HashSet<Ask>>>,
    gate: Arc<Semaphore>,
}

impl Sheets {
    pub(crate) fn new(picker: Picker) -> Sheets {
        Sheets {
            picker,
            limits: Limits::default(),
            ffmpeg: sheet::ffmpeg::find(),
            kept: Arc::default(),
            wanted: Arc::default(),
            asked: Arc::default(),
            gate: Arc::new(Semaphore::new(1)),
        }
    }

    /// Make `local_id`'s sheet of `frames` frames from the video at `path`, laid out for a box of
    /// `size` cells (a label row under each line of tiles when `labels`); the answer goes to `tx`.
    pub(crate) fn request(
        &self,
        local_id: String,
        path: String,
        frames: usize,
        size: (u16, u16),
        labels: bool,
        tx: mpsc::UnboundedSender<Msg>,
    ) {
        let ask = (local_id.clone(), size, labels);
        if let Ok(mut a) = self.asked.lock()
            && !a.insert(ask.clone())
        {
            return;
        }
        if let Ok(mut w) = self.wanted.lock() {
            *w = Some(local_id.clone());
        }
        let me = self.clone();
        tokio::spawn(async move {
            let answer = me
                .make(&local_id, Path::new(&path), frames, size, labels)
                .await;
            if let Ok(mut a) = me.asked.lock() {
                a.remove(&ask);
            }
            let msg = match answer {
                Some(Ok(tiles)) => ResultsMsg::Sheet {
                    local_id,
                    size,
                    tiles,
                },
                Some(Err(error)) => ResultsMsg::SheetFailed { local_id, error },
                None => return,
            };
            let _ = tx.send(Msg::Results(msg));
        });
    }

    /// `None`: dropped, the user moved on before it was this one's turn.
    async fn make(
        &self,
        local_id: &str,
        path: &Path,
        frames: usize,
        (cols, rows): (u16, u16),
        labels: bool,
    ) -> Option<Result<SheetTiles, String>> {
        let key = path.to_string_lossy().into_owned();
        let kept = self
            .kept
            .lock()
            .ok()
            .and_then(|k| k.get(&key).cloned())
            .filter(|s| s.frames.len() == frames);
        let sheet = match kept {
            Some(s) => s,
            None => {
                let _permit = self.gate.acquire().await.ok()?;
                if self.wanted.lock().ok()?.as_deref() != Some(local_id) {
                    return None;
                }
                let made =
                    sheet::load_or_build(path, frames, &self.limits, self.ffmpeg.as_deref()).await;
                match made {
                    Ok(s) => {
                        let s = Arc::new(s);
                        if let Ok(mut k) = self.kept.lock() {
                            if k.len() >= KEPT {
                                k.clear();
                            }
                            k.insert(key, s.clone());
                        }
                        s
                    }
                    Err(e) => return Some(Err(e.to_string())),
                }
            }
        };
        let picker = self.picker.clone();
        let encoded =
            tokio::task::spawn_blocking(move || encode(&picker, &sheet, cols, rows, labels))
                .await
                .map_err(|e| e.to_string())
                .and_then(|r| r);
        Some(encoded)
    }
}

/// The sheet's frames as tiles of the largest grid that fits `cols`x`rows`.
fn encode(
    picker: &Picker,
    sheet: &Sheet,
    cols: u16,
    rows: u16,
    labels: bool,
) -> Result<SheetTiles, String> {
    let first = sheet.frames.first().ok_or("the sheet has no frames")?;
    let (w, h) = first.image.dimensions();
    let (columns, tw, th) = grid(
        cols,
        rows,
        sheet.frames.len(),
        w as f64 / h.max(1) as f64,
        u16::from(labels),
    )
    .ok_or("the pane is too small for a contact sheet")?;
    let images = sheet
        .frames
        .iter()
        .map(|t| {
            picker
                .new_protocol(
                    image::DynamicImage::ImageRgb8(t.image.clone()),
                    Size::new(tw, th),
                    Resize::Fit(None),
                )
                .map(|p| PreviewImage(Arc::new(p)))
                .map_err(|e| format!("cannot draw the sheet: {e}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(SheetTiles {
        columns,
        tile: (tw, th),
        images,
        times: sheet.times(),
    })
}
