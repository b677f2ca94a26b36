//! The view rendered on ratatui's TestBackend, compared with reviewed snapshot files
//! (`tests/snapshots/`). Text snapshots for layout; a per-cell style dump for colours.

use crate::app::test_support::{NOW, state, state_with};
use crate::app::{Msg, State, update};
use crate::theme::{self, Theme};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;

fn render(s: &State) -> Buffer {
    let (w, h) = s.size;
    let mut term = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
    term.draw(|f| crate::ui::view(s, f)).expect("draw");
    term.backend().buffer().clone()
}

/// The buffer as text, one line per row, trailing spaces trimmed.
fn text(b: &Buffer) -> String {
    crate::ui::test_support::trimmed_text(b)
}

/// Rows `ys` as `symbol fg/bg` runs: proves colours, not just text.
fn styles(b: &Buffer, ys: &[u16]) -> String {
    let mut out = String::new();
    for &y in ys {
        let mut run = String::new();
        let mut last = None;
        for x in 0..b.area.width {
            let c = &b[(x, y)];
            let style = format!("{:?}/{:?}/{:?}", c.fg, c.bg, c.modifier);
            if last.as_ref() != Some(&style) {
                if !run.is_empty() {
                    out.push_str(&format!("{run}| "));
                    run.clear();
                }
                out.push_str(&format!("[{style}] "));
                last = Some(style);
            }
            run.push_str(c.symbol());
        }
        out.push_str(&format!("{}|\n", run.trim_end()));
    }
    out
}

fn key(s: &mut State, c: char) {
    update(
        s,
        Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)),
    );
}

#[test]
fn main_screen_80x24() {
    insta::assert_snapshot!(text(&render(&state(80, 24))));
}

#[test]
fn main_screen_160x48() {
    insta::assert_snapshot!(text(&render(&state(160, 48))));
}

#[test]
fn narrow_60x20_drops_columns() {
    let out = text(&render(&state(60, 20)));
    assert!(!out.contains("RATIO"), "ratio is the first column to go");
    insta::assert_snapshot!(out);
}

#[test]
fn too_small_says_so() {
    let out = text(&render(&state(40, 10)));
    assert!(out.contains("needs at least"));
    insta::assert_snapshot!(out);
}

#[test]
fn detail_pane_of_a_failed_task() {
    let mut s = state(100, 40);
    for _ in 0..3 {
        key(&mut s, 'j');
    }
    update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
    );
    update(
        &mut s,
        crate::app::test_support::history("l0003", NOW - 60 * 4 * 7),
    );
    let out = text(&render(&s));
    assert!(out.contains("OutputVideoSensitiveContentDetected.PolicyViolation"));
    assert!(out.contains("what to do"), "a hint for the error code");
    insta::assert_snapshot!(out);
}

#[test]
fn detail_full_screen_of_a_succeeded_task_shows_link_expiry() {
    let mut s = state(100, 40);
    key(&mut s, 'j');
    key(&mut s, 'j');
    key(&mut s, 'f');
    let id = s.selected.clone().expect("selected");
    update(&mut s, crate::app::test_support::bodies(&id));
    let out = text(&render(&s));
    assert!(out.contains("link expires in"), "{out}");
    insta::assert_snapshot!(out);
}

#[test]
fn help_overlay() {
    let mut s = state(100, 40);
    key(&mut s, '?');
    insta::assert_snapshot!(text(&render(&s)));
}

#[test]
fn filter_line_while_typing() {
    let mut s = state(80, 24);
    key(&mut s, '/');
    for c in "status:succ".chars() {
        key(&mut s, c);
    }
    insta::assert_snapshot!(text(&render(&s)));
}

#[test]
fn copy_menu() {
    let mut s = state(80, 24);
    key(&mut s, 'y');
    insta::assert_snapshot!(text(&render(&s)));
}

#[test]
fn each_theme_colours_status_and_selection() {
    let (themes, errors) = theme::load_all(None);
    assert!(errors.is_empty());
    let mut all = String::new();
    for t in themes {
        let name = t.name.clone();
        let s = state_with(80, 24, t);
        // Row 4 is the selected (running) task; row 7 a failed one.
        all.push_str(&format!("== {name}\n{}", styles(&render(&s), &[4, 7])));
    }
    insta::assert_snapshot!(all);
}

#[test]
fn no_color_uses_symbols_and_reverse_video_only() {
    let s = state_with(80, 24, Theme::monochrome());
    let b = render(&s);
    for y in 0..b.area.height {
        for x in 0..b.area.width {
            let c = &b[(x, y)];
            assert!(
                matches!(c.fg, ratatui::style::Color::Reset)
                    && matches!(c.bg, ratatui::style::Color::Reset),
                "colour at {x},{y}: {:?}/{:?}",
                c.fg,
                c.bg
            );
        }
    }
    insta::assert_snapshot!(styles(&b, &[4, 5]));
}

#[test]
fn the_retry_question_says_the_estimate_excludes_an_unread_input_video() {
    use crate::app::state::{Overlay, Question, RetryPlan};
    let mut s = state(100, 30);
    let plan = |input_video_unread| RetryPlan {
        local_ids: vec!["l0003".into()],
        tokens: 178_923,
        unfixable: Vec::new(),
        unknown: 0,
        skipped: 0,
        already: Vec::new(),
        over_budget: None,
        input_video_unread,
    };
    s.overlay = Overlay::Confirm(Question::Retry(plan(1)));
    // The popup's words, across its wrapped lines and borders.
    let words = |s: &State| {
        let screen: String = text(&render(s))
            .chars()
            .map(|c| if c.is_alphanumeric() { c } else { ' ' })
            .collect();
        screen.split_whitespace().collect::<Vec<_>>().join(" ")
    };
    let flat = words(&s);
    assert!(
        flat.contains("estimate excludes the input video of 1 its seconds are not known"),
        "{flat}"
    );
    s.overlay = Overlay::Confirm(Question::Retry(plan(0)));
    assert!(!words(&s).contains("excludes"));
}

#[test]
fn bulk_retry_question() {
    let mut s = state(100, 30);
    for _ in 0..3 {
        key(&mut s, 'j');
    }
    key(&mut s, ' '); // failed, and already retried (by the succeeded l0007)
    key(&mut s, ' '); // expired
    update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::Char('r'), KeyModifiers::NONE)),
    );
    let out = text(&render(&s));
    assert!(out.contains("Resubmit 1 task(s)"), "{out}");
    assert!(out.contains("already retried:"), "{out}");
    insta::assert_snapshot!(out);
}
