//! The dashboard and the composer drawn with non-ASCII text (CJK, emoji, combining
//! marks) in every place external text reaches the screen, at every terminal size from the
//! minimum up (and below it): drawing may not panic.

use crate::api::TaskStatus;
use crate::app::composer::{ComposerMsg, Field};
use crate::app::test_support::composer::*;
use crate::app::test_support::{NOW, state};
use crate::app::{Msg, State, update};
use crate::store::{Phase, TaskRow};
use crossterm::event::KeyCode;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const CJK: &str =
    "苹果茶广告，第一人称视角，快节奏剪辑🍎🍵 清新明亮风格 e\u{301}\u{301} 👨‍👩‍👧‍👦 ｆｕｌｌｗｉｄｔｈ";

fn draw(s: &State) {
    let (w, h) = s.size;
    let mut term = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
    term.draw(|f| crate::ui::view(s, f)).expect("draw");
}

fn resize(s: &mut State, w: u16, h: u16) {
    update(s, Msg::Resize(w, h));
}

fn sizes() -> Vec<(u16, u16)> {
    let mut out = vec![(1, 1), (10, 3), (49, 11)];
    for w in [50u16, 51, 57, 63, 79, 99, 100, 101, 139, 140, 200] {
        for h in [12u16, 13, 14, 17, 24, 40] {
            out.push((w, h));
        }
    }
    out
}

fn wide_task(n: usize, phase: Phase, task_id: Option<&str>) -> TaskRow {
    let mut t = crate::app::test_support::record(n, phase, CJK, "模型-🍎");
    t.task_id = task_id.map(str::to_string);
    t.error_code = Some("错误代码🍎".into());
    t.error_message = Some(CJK.repeat(3));
    t.into()
}

#[test]
fn the_dashboard_draws_wide_text_at_every_size() {
    let mut s = state(120, 40);
    update(
        &mut s,
        Msg::TasksChanged(vec![
            wide_task(
                20,
                Phase::Remote(TaskStatus::Failed),
                Some("任务-🍎🍵-一二三"),
            ),
            wide_task(
                21,
                Phase::Remote(TaskStatus::Running),
                Some("🍎🍎🍎🍎🍎🍎🍎🍎🍎🍎🍎🍎🍎"),
            ),
            // The server's id, shaped like `cgt-<14>-<suffix>` but with a multi-byte character
            // across the cut of the short id.
            wide_task(
                23,
                Phase::Remote(TaskStatus::Queued),
                Some("cgt-2026112\u{e9}10571-a0001"),
            ),
            wide_task(
                22,
                Phase::Remote(TaskStatus::Unknown("处理中🍵".into())),
                Some("x"),
            ),
        ]),
    );
    for (w, h) in sizes() {
        resize(&mut s, w, h);
        draw(&s);
        // The detail pane, split and full.
        press(&mut s, KeyCode::Enter);
        draw(&s);
        ch(&mut s, 'f');
        draw(&s);
        press(&mut s, KeyCode::Esc);
        press(&mut s, KeyCode::Esc);
    }
}

#[test]
fn the_composer_draws_wide_text_at_every_size() {
    let mut s = open();
    typ(&mut s, CJK);
    press(&mut s, KeyCode::Enter);
    typ(&mut s, &CJK.repeat(4));
    // One long word of wide characters, wider than any pane.
    press(&mut s, KeyCode::Enter);
    typ(&mut s, &"苹🍎ｆ".repeat(60));
    focus(&mut s, Field::Assets);
    ch(&mut s, 'i');
    typ(&mut s, &format!("/tmp/{CJK}/图片.png"));
    press(&mut s, KeyCode::Enter);
    for (w, h) in sizes() {
        resize(&mut s, w, h);
        draw(&s);
    }
    // The picker and the input line with many candidates, over a tiny composer.
    msg(
        &mut s,
        ComposerMsg::Drafts {
            items: (0..30)
                .map(|i| (format!("草稿{i}🍎{CJK}"), "{}".to_string(), NOW - i))
                .collect(),
            then_open: false,
        },
    );
    for (w, h) in sizes() {
        resize(&mut s, w, h);
        draw(&s);
    }
    press(&mut s, KeyCode::Esc);
    ch(&mut s, 'i');
    typ(&mut s, "图");
    msg(
        &mut s,
        ComposerMsg::Completions {
            input: "图".into(),
            matches: (0..9).map(|i| format!("图{i}🍎{CJK}")).collect(),
        },
    );
    for (w, h) in sizes() {
        resize(&mut s, w, h);
        draw(&s);
    }
    press(&mut s, KeyCode::Esc);
    // The preview with a wide body and error.
    update(
        &mut s,
        Msg::Key(crossterm::event::KeyEvent::new(
            KeyCode::F(2),
            crossterm::event::KeyModifiers::NONE,
        )),
    );
    msg(&mut s, ComposerMsg::Preview(Err(CJK.repeat(5))));
    for (w, h) in sizes() {
        resize(&mut s, w, h);
        draw(&s);
    }
}

#[test]
fn the_overlays_draw_wide_text_at_every_size() {
    let mut s = state(120, 40);
    for i in 0..50 {
        update(
            &mut s,
            Msg::Notice {
                level: crate::app::Level::Error,
                text: format!("{i} {CJK}"),
            },
        );
    }
    let overlays: [&[KeyCode]; 6] = [
        &[KeyCode::Char('?')],
        &[KeyCode::Char('L')],
        &[KeyCode::Char('$')],
        &[KeyCode::Char('y')],
        &[KeyCode::Char('r')],
        &[KeyCode::Char('/'), KeyCode::Char('苹')],
    ];
    for keys in overlays {
        for &k in keys {
            press(&mut s, k);
        }
        for (w, h) in sizes() {
            resize(&mut s, w, h);
            draw(&s);
        }
        press(&mut s, KeyCode::Esc);
        assert_eq!(s.overlay, crate::app::state::Overlay::None);
    }
}

/// A very wide terminal (ultra-wide screen, small font): the layout's percentages are computed
/// without overflowing `u16` (a panic in debug builds, a garbled layout in release ones).
#[test]
fn a_very_wide_terminal_lays_out_without_overflow() {
    let mut s = state(120, 40);
    for (w, h) in [(1200u16, 50u16), (4000, 300), (u16::MAX, 1200)] {
        resize(&mut s, w, h);
        press(&mut s, KeyCode::Enter);
        let a = crate::app::layout::areas((w, h), s.detail);
        let d = a.detail.expect("detail pane");
        assert_eq!(
            a.table.width + d.width,
            w,
            "side by side, filling the width"
        );
        assert!(a.table.width > w / 2 && d.width > w / 3, "{a:?}");
        if w < u16::MAX {
            draw(&s);
        }
        press(&mut s, KeyCode::Esc);
    }
    let mut s = open();
    for (w, h) in [(1200u16, 50u16), (4000, 300)] {
        resize(&mut s, w, h);
        draw(&s);
    }
}
