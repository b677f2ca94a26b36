//! What the clock changes on screen: a fresh task's AGE counts its first minute in 10-second
//! steps while its TIME column counts every second, so a 1 Hz tick rewrites one short cell per
//! fresh row, not two; the header's "polled … ago" stays still while polls keep coming. Rendered
//! into a test buffer and diffed the way ratatui diffs frames.

use crate::api::TaskStatus;
use crate::app::keymap::Keymap;
use crate::app::test_support::{NOW, record};
use crate::app::{Msg, State, update};
use crate::store::{Phase, TaskRecord};
use crate::theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;

const FAST: &str = "doubao-seedance-2-0-fast-260128";

/// `n` queued tasks created at `NOW`, never started (the fresh, held rows of a busy batch).
fn fresh(n: usize) -> Vec<TaskRecord> {
    (0..n)
        .map(|i| TaskRecord {
            created_at: NOW,
            updated_at: NOW,
            started_at: None,
            ..record(
                i,
                Phase::Remote(TaskStatus::Queued),
                &format!("held task {i}"),
                FAST,
            )
        })
        .collect()
}

fn state_at(tasks: Vec<TaskRecord>, w: u16, h: u16) -> State {
    let (themes, _) = theme::load_all(None);
    let mut s = State::new(
        "laozhang",
        "https://api.laozhang.ai/seedance/api/v3",
        Keymap::default(),
        themes,
    );
    s.today_start = NOW - 12 * 3600;
    update(&mut s, Msg::Tick { now: NOW });
    update(&mut s, Msg::Resize(w, h));
    update(
        &mut s,
        Msg::TasksLoaded(tasks.into_iter().map(Into::into).collect()),
    );
    s
}

fn render(s: &State) -> Buffer {
    let (w, h) = s.size;
    let mut term = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
    term.draw(|f| crate::ui::view(s, f)).expect("draw");
    term.backend().buffer().clone()
}

fn line(b: &Buffer, y: u16) -> String {
    (0..b.area.width).map(|x| b[(x, y)].symbol()).collect()
}

/// The column under header `name` on row `y`, trimmed: from the header's first cell to the
/// next header (columns are separated by spaces; the sorted one carries an arrow).
fn cell(b: &Buffer, y: u16, name: &str) -> String {
    let hy = (0..b.area.height)
        .find(|&y| line(b, y).contains(" AGE") && line(b, y).contains("TIME"))
        .expect("the column header");
    let at = |x: u16| b[(x, hy)].symbol().to_string();
    let width = b.area.width;
    let start = (0..width)
        .find(|&x| {
            name.chars()
                .enumerate()
                .all(|(i, c)| x + (i as u16) < width && at(x + i as u16) == c.to_string())
        })
        .expect("the column");
    let mut end = start + name.len() as u16;
    while end < width && at(end) != " " {
        end += 1;
    }
    while end < width && at(end) == " " {
        end += 1;
    }
    (start..end)
        .map(|x| b[(x, y)].symbol())
        .collect::<String>()
        .trim()
        .to_string()
}

/// The screen row of the task whose prompt is `prompt`.
fn row_of(b: &Buffer, prompt: &str) -> u16 {
    (0..b.area.height)
        .find(|&y| line(b, y).contains(prompt))
        .expect("the row")
}

#[test]
fn a_fresh_tasks_age_steps_by_ten_seconds_while_its_time_counts_every_second() {
    let mut s = state_at(fresh(1), 160, 20);
    let mut out = String::new();
    let mut last = (String::new(), String::new());
    for t in 0..=75 {
        update(&mut s, Msg::Tick { now: NOW + t });
        let b = render(&s);
        let y = row_of(&b, "held task 0");
        let now = (cell(&b, y, "AGE"), cell(&b, y, "TIME"));
        // Only the seconds where the age changes, and the ones around them.
        if now.0 != last.0 || t % 10 == 9 {
            out.push_str(&format!("t+{t:<3} AGE {:<4} TIME {}\n", now.0, now.1));
        }
        last = now;
    }
    insta::assert_snapshot!(out);
}

#[test]
fn a_clock_tick_rewrites_one_cell_run_per_fresh_row() {
    let rows = 40;
    let mut s = state_at(fresh(rows), 160, 48);
    update(&mut s, Msg::Tick { now: NOW + 11 });
    let mut prev = render(&s);
    // Seconds 12..=19: inside one 10-second step, so each row's age stays "10s".
    for t in 12..=19 {
        update(&mut s, Msg::Tick { now: NOW + t });
        let next = render(&s);
        let changed = prev.diff(&next);
        let lines: std::collections::BTreeSet<u16> = changed.iter().map(|(_, y, _)| *y).collect();
        // One digit of "q 1Ns" per row (and nothing else: no header, no other column).
        assert_eq!(changed.len(), rows, "t+{t}: {changed:?}");
        assert_eq!(lines.len(), rows, "one changed cell on each row");
        for (x, y, c) in &changed {
            let digit = char::from(b'0' + (t % 10) as u8).to_string();
            assert_eq!(
                c.symbol(),
                digit,
                "row {y}, x {x}: the seconds digit of TIME"
            );
            assert_eq!(cell(&next, *y, "AGE"), "10s", "row {y}");
            assert_eq!(cell(&next, *y, "TIME"), format!("q {t}s"), "row {y}");
        }
        prev = next;
    }
    // At the step the age changes too: two runs per row.
    update(&mut s, Msg::Tick { now: NOW + 20 });
    let next = render(&s);
    let changed = prev.diff(&next);
    assert_eq!(
        changed.len(),
        rows * 3,
        "\"10s\"→\"20s\" and \"q 19s\"→\"q 20s\""
    );
}

#[test]
fn the_header_says_polled_just_now_while_polls_keep_coming() {
    let mut s = state_at(fresh(3), 160, 20);
    let mut h = s.health.clone();
    h.tracked = 3;
    let header = |s: &State| line(&render(s), 0);
    // Polls answered in this second and the one before read the same: the header stays still.
    for (now, last) in [
        (NOW, NOW),
        (NOW + 1, NOW),
        (NOW + 1, NOW + 1),
        (NOW + 2, NOW + 1),
    ] {
        h.last_success = Some(last);
        update(&mut s, Msg::Health(h.clone()));
        update(&mut s, Msg::Tick { now });
        assert!(
            header(&s).contains("polled just now, 3 watched"),
            "{now}/{last}: {}",
            header(&s)
        );
    }
    // Polling stopped: the seconds count from two on.
    update(&mut s, Msg::Tick { now: NOW + 3 });
    assert!(header(&s).contains("polled 2s ago"), "{}", header(&s));
    update(&mut s, Msg::Tick { now: NOW + 75 });
    assert!(header(&s).contains("polled 1m ago"), "{}", header(&s));
}
