//! The composer rendered on ratatui's TestBackend: problems beside their fields, the asset list,
//! the preview, the narrow layout. Snapshots are reviewed files in `tests/snapshots/`.

use crate::app::composer::ComposerMsg;
use crate::app::test_support::state;
use crate::app::{Msg, State, update};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn text(s: &State) -> String {
    let (w, h) = s.size;
    let mut term = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
    term.draw(|f| crate::ui::view(s, f)).expect("draw");
    crate::ui::test_support::trimmed_text(term.backend().buffer())
}

fn press(s: &mut State, code: KeyCode) {
    update(s, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

/// A composer opened with `n` on an empty drafts table, then loaded with `request`.
fn composer_with(w: u16, h: u16, request: serde_json::Value) -> State {
    let mut s = state(w, h);
    press(&mut s, KeyCode::Char('n'));
    update(
        &mut s,
        Msg::Composer(ComposerMsg::Drafts {
            items: Vec::new(),
            then_open: true,
        }),
    );
    update(
        &mut s,
        Msg::Composer(ComposerMsg::Loaded(Ok(request.to_string()))),
    );
    s
}

fn bad_request() -> serde_json::Value {
    serde_json::json!({
        "model": "doubao-seedance-2-0-fast-260128",
        "content": [
            {"type": "text", "text": "A lighthouse in a storm"},
            {"type": "image_url", "image_url": {"url": "https://example.com/end.png"}, "role": "last_frame"}
        ],
        "ratio": "16:9",
        "duration": 20,
        "resolution": "1080p",
        "seed": 42,
        "watermark": false
    })
}

#[test]
fn composer_with_errors_beside_their_fields() {
    let s = composer_with(120, 36, bad_request());
    let out = text(&s);
    assert!(out.contains("20 s is out of range"), "{out}");
    assert!(out.contains("does not make 1080p videos"), "{out}");
    assert!(out.contains("needs a first_frame image"), "{out}");
    insta::assert_snapshot!(out);
}

#[test]
fn composer_asset_list() {
    let mut s = composer_with(
        120,
        36,
        serde_json::json!({
            "model": "doubao-seedance-2-0-260128",
            "content": [
                {"type": "text", "text": "Image 1 walks into Video 1 while Audio 1 plays"},
                {"type": "image_url", "image_url": {"url": "/home/me/pictures/hero.png"}, "role": "reference_image"},
                {"type": "image_url", "image_url": {"url": "/home/me/notes.txt"}, "role": "reference_image"},
                {"type": "video_url", "video_url": {"url": "https://example.com/walk.mp4"}, "role": "reference_video"},
                {"type": "audio_url", "audio_url": {"url": "asset://audio-123"}, "role": "reference_audio"}
            ],
            "duration": 8
        }),
    );
    // The runtime looked at the local files: one is fine, the other too large.
    update(
        &mut s,
        Msg::Composer(ComposerMsg::FileChecked {
            path: "/home/me/pictures/hero.png".into(),
            result: Ok(12_345),
        }),
    );
    press(&mut s, KeyCode::BackTab); // Prompt -> Assets (wraps)
    press(&mut s, KeyCode::Char('j'));
    let out = text(&s);
    assert!(out.contains("notes.txt  [local file]"), "{out}");
    assert!(out.contains("hero.png  [local file, 12.3kB]"), "{out}");
    assert!(
        out.contains("notes.txt: the file type `.txt` is not accepted"),
        "{out}"
    );
    insta::assert_snapshot!(out);
}

#[test]
fn composer_preview_shows_body_and_curl_without_the_key() {
    let mut s = composer_with(100, 40, bad_request());
    update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::F(2), KeyModifiers::NONE)),
    );
    let body = serde_json::json!({
        "model": "doubao-seedance-2-0-fast-260128",
        "content": [
            {"type": "text", "text": "A lighthouse in a storm"},
            {"type": "image_url", "image_url": {"url": format!("data:image/png;base64,{}", "A".repeat(500))}, "role": "first_frame"}
        ],
        "duration": 5
    });
    update(
        &mut s,
        Msg::Composer(ComposerMsg::Preview(Ok(body.to_string()))),
    );
    let out = text(&s);
    assert!(out.contains("$SEEDANCE_API_KEY"), "{out}");
    assert!(
        out.contains("(522 chars)"),
        "long data: URLs are shortened: {out}"
    );
    insta::assert_snapshot!(out);
}

#[test]
fn composer_narrow_80x24_stacks_the_panes() {
    let mut s = state(80, 24);
    press(&mut s, KeyCode::Char('n'));
    update(
        &mut s,
        Msg::Composer(ComposerMsg::Drafts {
            items: Vec::new(),
            then_open: true,
        }),
    );
    for c in "Paper boats".chars() {
        press(&mut s, KeyCode::Char(c));
    }
    let out = text(&s);
    assert!(out.contains("Paper boats"), "{out}");
    assert!(out.contains("11/1000 chars"), "{out}");
    insta::assert_snapshot!(out);
}

#[test]
fn composer_input_line_with_path_completions_and_drafts_list() {
    let mut s = composer_with(100, 30, bad_request());
    press(&mut s, KeyCode::BackTab); // to the assets
    press(&mut s, KeyCode::Char('i'));
    for c in "/tmp/fr".chars() {
        press(&mut s, KeyCode::Char(c));
    }
    update(
        &mut s,
        Msg::Composer(ComposerMsg::Completions {
            input: "/tmp/fr".into(),
            matches: vec![
                "/tmp/frame1.png".into(),
                "/tmp/frame2.png".into(),
                "/tmp/frames/".into(),
            ],
        }),
    );
    let out = text(&s);
    assert!(out.contains("URL or file path: /tmp/frame█"), "{out}");
    assert!(out.contains("/tmp/frames/"), "{out}");
    insta::assert_snapshot!("composer_input_line", out);
    press(&mut s, KeyCode::Esc);
    update(
        &mut s,
        Msg::Composer(ComposerMsg::Drafts {
            items: vec![
                ("draft 11-23 11:58:00".into(), bad_request().to_string(), 0),
                (
                    "hero shot".into(),
                    r#"{"model":"m","content":[{"type":"text","text":"A hero walks"}]}"#.into(),
                    0,
                ),
            ],
            then_open: false,
        }),
    );
    let out = text(&s);
    assert!(
        out.contains("hero shot") && out.contains("A hero walks"),
        "{out}"
    );
    insta::assert_snapshot!("composer_drafts_list", out);
}

#[test]
fn every_composer_mode_draws_at_the_smallest_size() {
    for (w, h) in [(50, 12), (51, 13), (200, 60)] {
        let mut s = composer_with(w, h, bad_request());
        assert!(text(&s).contains("Composer"), "{w}x{h}");
        press(&mut s, KeyCode::BackTab);
        press(&mut s, KeyCode::Char('i'));
        update(
            &mut s,
            Msg::Composer(ComposerMsg::Completions {
                input: String::new(),
                matches: (0..20).map(|i| format!("/f{i}.png")).collect(),
            }),
        );
        let _ = text(&s);
        press(&mut s, KeyCode::Esc);
        update(
            &mut s,
            Msg::Key(KeyEvent::new(KeyCode::F(2), KeyModifiers::NONE)),
        );
        update(
            &mut s,
            Msg::Composer(ComposerMsg::Preview(Ok(bad_request().to_string()))),
        );
        let _ = text(&s);
    }
}

#[test]
fn an_edited_tasks_inlined_image_shows_its_file_name_escaped_at_80x24() {
    // About 137 kB of image, sent from a file whose name carries a screen-clearing escape.
    let png = format!("data:image/png;base64,{}", "A".repeat(182_680));
    let mut s = crate::app::test_support::composer::edit_with(80, 24, &png, "\u{1b}[2Jharbour.png");
    press(&mut s, KeyCode::BackTab); // Prompt -> Assets (wraps)
    let out = text(&s);
    assert!(
        out.contains(r"\x1b[2Jharbour.png (inline image/png, 137kB)"),
        "{out}"
    );
    assert!(!out.contains('\u{1b}'), "no raw escape: {out}");
    assert!(!out.contains("AAAA"), "no base64: {out}");
    insta::assert_snapshot!(out);
}

/// The title line of a drawn screen (the one starting with ` Composer`).
fn title_line(out: &str) -> String {
    out.lines()
        .find(|l| l.starts_with(" Composer "))
        .unwrap_or_default()
        .to_string()
}

#[test]
fn an_edited_tasks_title_keeps_its_status_at_80_columns_and_says_everything_at_160() {
    let url = "https://example.com/first.png";
    let narrow = title_line(&text(&crate::app::test_support::composer::edit_with(
        80,
        24,
        url,
        "first.png",
    )));
    // The status ends the line, whole; the saved state is short; the draft's name, which
    // names the edited task, is cut.
    assert!(
        narrow.trim_end().ends_with("ready to submit") || narrow.trim_end().ends_with("problem(s)"),
        "{narrow:?}"
    );
    assert!(narrow.contains("· unsaved ·"), "{narrow:?}");
    assert!(narrow.contains("draft “edit of cgt-"), "{narrow:?}");
    assert!(narrow.contains("…”"), "{narrow:?}");
    let wide = title_line(&text(&crate::app::test_support::composer::edit_with(
        160,
        40,
        url,
        "first.png",
    )));
    assert!(wide.contains("· unsaved changes ·"), "{wide:?}");
    assert!(wide.contains("(↻)"), "{wide:?}");
    assert!(!wide.contains('…'), "{wide:?}");
}
