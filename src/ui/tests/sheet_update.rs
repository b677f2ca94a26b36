//! The contact sheet and variants in the reducer and the view: a saved local video asks for its
//! sheet once per task and box, the answer is drawn as tiles side by side in the detail pane
//! (rendered on a TestBackend), `v` asks for the full-screen layout and draws each frame's time,
//! a failure is one line; `=` shows a task's variants (same prompt, retries, edits) and `[`/`]`
//! step through them.

use crate::app::results::{PreviewImage, ResultsEffect, ResultsMsg, SheetTiles};
use crate::app::test_support::{state, task_record};
use crate::app::{Effect, Msg, State, update};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::sync::Arc;

/// The store's answer to the detail pane's read of a fixture task's links and paths.
fn bodies(local_id: &str) -> Msg {
    Msg::Bodies {
        local_id: local_id.into(),
        result: Ok(crate::store::TaskBodies::of(&task_record(local_id))),
    }
}

fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn enter() -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE))
}

fn sheet_asks(fx: &[Effect]) -> Vec<(String, String, u16, u16, bool)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Results(ResultsEffect::Sheet {
                local_id,
                path,
                cols,
                rows,
                labels,
                frames,
            }) => {
                assert_eq!(*frames, 6, "the default frame count");
                Some((local_id.clone(), path.clone(), *cols, *rows, *labels))
            }
            _ => None,
        })
        .collect()
}

/// Six tiles of `tile` cells, as the runtime would encode them (halfblocks).
fn tiles(columns: u16, tile: (u16, u16)) -> SheetTiles {
    let picker = ratatui_image::picker::Picker::halfblocks();
    let images = (0..6u8)
        .map(|i| {
            let img = image::RgbImage::from_fn(64, 36, |x, y| {
                image::Rgb([i * 40, (x * 4) as u8, (y * 7) as u8])
            });
            let p = picker
                .new_protocol(
                    image::DynamicImage::ImageRgb8(img),
                    ratatui::layout::Size::new(tile.0, tile.1),
                    ratatui_image::Resize::Fit(None),
                )
                .expect("encodes");
            PreviewImage(Arc::new(p))
        })
        .collect();
    SheetTiles {
        columns,
        tile,
        images,
        times: vec![0.4, 1.2, 2.1, 2.9, 3.7, 4.6],
    }
}

/// Runs of at least 4 coloured `▀` cells per screen line, and the screen as text.
fn picture_runs(s: &State) -> (usize, String) {
    let (w, h) = s.size;
    let mut term =
        ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, h)).expect("terminal");
    term.draw(|f| crate::ui::view(s, f)).expect("draw");
    let b = term.backend().buffer().clone();
    let (mut most, mut text) = (0, String::new());
    for y in 0..h {
        let (mut runs, mut len) = (0, 0);
        for x in 0..=w {
            let half = x < w && b[(x, y)].symbol() == "▀";
            if half {
                len += 1;
            } else {
                if len >= 4 {
                    runs += 1;
                }
                len = 0;
            }
            if x < w {
                text.push_str(b[(x, y)].symbol());
            }
        }
        most = most.max(runs);
        text.push('\n');
    }
    (most, text)
}

#[test]
fn a_saved_video_asks_for_its_sheet_once_and_draws_it_side_by_side() {
    let mut s = state(100, 40);
    s.selected = Some("l0002".into()); // succeeded, saved at /videos/cgt-x2.mp4
    let fx = update(&mut s, enter());
    assert!(sheet_asks(&fx).is_empty(), "the paths are not read yet");
    let fx = update(&mut s, bodies("l0002"));
    let asks = sheet_asks(&fx);
    assert_eq!(asks.len(), 1, "{fx:?}");
    let (id, path, cols, rows, labels) = asks[0].clone();
    assert_eq!(
        (id.as_str(), path.as_str(), labels),
        ("l0002", "/videos/cgt-x2.mp4", false)
    );
    assert!(
        cols >= 90 && rows >= 5,
        "the pane's picture area: {cols}x{rows}"
    );
    // While it decodes the pane says so.
    let (_, text) = picture_runs(&s);
    assert!(text.contains("contact sheet: decoding…"), "{text}");

    let (columns, tw, th) = crate::app::results::grid(cols, rows, 6, 16.0 / 9.0, 0).expect("fits");
    update(
        &mut s,
        Msg::Results(ResultsMsg::Sheet {
            local_id: "l0002".into(),
            size: (cols, rows),
            tiles: tiles(columns, (tw, th)),
        }),
    );
    let (runs, text) = picture_runs(&s);
    assert_eq!(runs, columns as usize, "the frames side by side: {text}");
    assert!(!text.contains("decoding"), "{text}");
    // Shown for this box: asking again asks nothing.
    assert!(crate::app::results::sheet_effect(&s).is_empty());

    // `v`: the full-screen layout is asked for, with room for the times.
    let fx = update(&mut s, key('v'));
    let asks = sheet_asks(&fx);
    assert_eq!(asks.len(), 1, "{fx:?}");
    let (_, _, fcols, frows, labels) = asks[0].clone();
    assert!(labels && fcols == 100 && frows == 36, "{:?}", asks[0]);
    let (columns, tw, th) =
        crate::app::results::grid(fcols, frows, 6, 16.0 / 9.0, 1).expect("fits");
    update(
        &mut s,
        Msg::Results(ResultsMsg::Sheet {
            local_id: "l0002".into(),
            size: (fcols, frows),
            tiles: tiles(columns, (tw, th)),
        }),
    );
    let (runs, text) = picture_runs(&s);
    assert_eq!(runs, columns as usize, "{text}");
    assert!(text.contains("Contact sheet · "), "{text}");
    for label in ["#1 0:00.4", "#3 0:02.1", "#6 0:04.6"] {
        assert!(text.contains(label), "{label}: {text}");
    }
    // `Esc` closes it (and everything else, as before).
    update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)),
    );
    assert!(!s.results.sheet_full);
}

#[test]
fn a_sheet_that_cannot_be_made_is_one_line_and_not_asked_again() {
    let mut s = state(100, 40);
    s.selected = Some("l0002".into());
    update(&mut s, enter());
    update(&mut s, bodies("l0002"));
    update(
        &mut s,
        Msg::Results(ResultsMsg::SheetFailed {
            local_id: "l0002".into(),
            error: "the file has no video track".into(),
        }),
    );
    let (_, text) = picture_runs(&s);
    assert!(
        text.contains("no contact sheet: the file has no video track"),
        "{text}"
    );
    assert!(crate::app::results::sheet_effect(&s).is_empty());
}

#[test]
fn no_sheet_is_asked_for_a_video_in_a_bucket_or_with_sheets_off() {
    let mut s = state(100, 40);
    let mut t = task_record("l0002");
    t.video_path = Some("s3://bucket/cgt-x2.mp4".into());
    s.selected = Some("l0002".into());
    update(&mut s, enter());
    let fx = update(
        &mut s,
        Msg::Bodies {
            local_id: "l0002".into(),
            result: Ok(crate::store::TaskBodies::of(&t)),
        },
    );
    assert!(sheet_asks(&fx).is_empty(), "{fx:?}");

    let mut s = state(100, 40);
    s.results.sheet_frames = 0;
    s.selected = Some("l0002".into());
    update(&mut s, enter());
    let fx = update(&mut s, bodies("l0002"));
    assert!(sheet_asks(&fx).is_empty(), "{fx:?}");
}

#[test]
fn equals_shows_a_task_s_variants_and_brackets_step_through_them() {
    let mut s = state(100, 40);
    let all = s.order.len();
    // l0007 retries l0003 (same prompt); l0002 is another request.
    s.selected = Some("l0007".into());
    update(&mut s, key('='));
    assert_eq!(s.filter.text, "group:l0007");
    let shown: Vec<String> = s
        .order
        .iter()
        .map(|&i| s.tasks[i].local_id.to_string())
        .collect();
    let mut sorted = shown.clone();
    sorted.sort();
    assert_eq!(sorted, ["l0003", "l0007"], "{shown:?}");
    update(&mut s, key(']'));
    assert_eq!(s.selected.as_deref(), Some("l0003"));
    update(&mut s, key(']'));
    assert_eq!(s.selected.as_deref(), Some("l0007"), "wraps");
    update(&mut s, key('['));
    assert_eq!(s.selected.as_deref(), Some("l0003"));
    update(&mut s, key('='));
    assert_eq!(s.order.len(), all, "again: every task");
    // A task with no other variant says so and stays.
    s.selected = Some("l0002".into());
    update(&mut s, key(']'));
    assert_eq!(s.selected.as_deref(), Some("l0002"));
    let last = s
        .messages
        .last()
        .map(|m| m.text.clone())
        .unwrap_or_default();
    assert!(last.contains("no other variant"), "{last}");
}
