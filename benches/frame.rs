//! Frame time and reducer throughput with many tasks (run: `cargo bench --bench frame`).
//! Plain `Instant` loops; prints ns per operation. Numbers go to docs/performance.md.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use seedance_tui::api::TaskStatus;
use seedance_tui::app::filter::Filter;
use seedance_tui::app::keymap::Keymap;
use seedance_tui::app::{Msg, State, update};
use seedance_tui::config::{BudgetConfig, PricingConfig};
use seedance_tui::engine::budget::SpendingCap;
use seedance_tui::store::{Phase, TaskRecord, TaskRow};
use seedance_tui::theme::Theme;
use std::hint::black_box;
use std::time::Instant;

const NOW: i64 = 1_795_435_200;

fn task(n: usize) -> TaskRecord {
    let phase = match n % 6 {
        0 => Phase::Remote(TaskStatus::Queued),
        1 => Phase::Remote(TaskStatus::Running),
        2 | 3 => Phase::Remote(TaskStatus::Succeeded),
        4 => Phase::Remote(TaskStatus::Failed),
        _ => Phase::Remote(TaskStatus::Expired),
    };
    let prompt =
        format!("Task {n}: a red fox running through fresh snow at dawn, cinematic slow motion");
    let request = format!(
        r#"{{"model":"doubao-seedance-2-0-fast-260128","content":[{{"type":"text","text":"{prompt}"}}],"ratio":"16:9","duration":5,"resolution":"720p"}}"#
    );
    TaskRecord {
        task_id: Some(format!(
            "cgt-20261123{:06}-b{:04}",
            n % 1_000_000,
            n % 10_000
        )),
        profile: "bench".into(),
        model: "doubao-seedance-2-0-fast-260128".into(),
        prompt,
        request_json: request,
        updated_at: NOW - n as i64 * 7,
        started_at: Some(NOW - n as i64 * 10),
        tokens: Some(108_000),
        ..TaskRecord::factory(&format!("l{n:08}"), phase, NOW - n as i64 * 13)
    }
}

fn state(n: usize) -> State {
    let mut s = State::new(
        "bench",
        "http://127.0.0.1/api/v3",
        Keymap::default(),
        vec![Theme::default()],
    );
    update(&mut s, Msg::Tick { now: NOW });
    update(&mut s, Msg::Resize(160, 48));
    // A daily cap, so every change also recounts today's spend (the dashboard's worst case).
    s.today_start = NOW - 86_400 * 30;
    s.cap = SpendingCap {
        budget: BudgetConfig {
            daily_tokens: Some(u64::MAX / 2),
            daily_money: None,
        },
        pricing: PricingConfig {
            per_million_tokens: Some(seedance_tui::config::Price::Flat(10.0)),
            ..PricingConfig::default()
        },
    };
    update(
        &mut s,
        Msg::TasksLoaded((0..n).map(|n| task(n).into()).collect()),
    );
    s
}

fn time<F: FnMut()>(name: &str, iters: u32, mut f: F) {
    f(); // warm up
    let start = Instant::now();
    for _ in 0..iters {
        f();
    }
    let per = start.elapsed().as_nanos() / iters as u128;
    println!(
        "{name:<48} {:>10.3} ms/op  ({iters} iterations)",
        per as f64 / 1e6
    );
}

fn main() {
    for n in [1_000usize, 10_000, 100_000] {
        let mut s = state(n);
        let mut term = Terminal::new(TestBackend::new(160, 48)).expect("terminal");
        time(&format!("frame 160x48, {n} tasks"), 200, || {
            term.draw(|f| seedance_tui::ui::view(black_box(&s), f))
                .expect("draw");
        });
        update(
            &mut s,
            Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
        );
        time(&format!("frame 160x48 with detail, {n} tasks"), 200, || {
            term.draw(|f| seedance_tui::ui::view(black_box(&s), f))
                .expect("draw");
        });
        let down = Msg::Key(KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE));
        time(&format!("update: key j, {n} tasks"), 20_000, || {
            black_box(update(&mut s, down.clone()));
        });
        // Each iteration a real change (the phase alternates), so nothing is skipped as
        // unchanged; the task moves across the status sort.
        let mut changed = TaskRow::from(task(n / 2));
        let mut flip = false;
        time(
            &format!("update: one task changed (re-sort), {n} tasks"),
            50,
            || {
                flip = !flip;
                changed.phase = if flip {
                    Phase::Remote(TaskStatus::Succeeded)
                } else {
                    Phase::Remote(TaskStatus::Running)
                };
                black_box(update(&mut s, Msg::TasksChanged(vec![changed.clone()])));
            },
        );
        let typed = |s: &mut State, c: KeyCode| {
            update(s, Msg::Key(KeyEvent::new(c, KeyModifiers::NONE)));
        };
        for c in "/fox".chars() {
            typed(&mut s, KeyCode::Char(c));
        }
        // One keystroke extending the query "fox" (every row shown) to "foxs" (none): the
        // narrowing scans every shown row, the worst case. The state is put back each time.
        let shown = s.order.clone();
        time(
            &format!("update: a keystroke extending a filter, {n} tasks"),
            50,
            || {
                s.filter = Filter::parse("fox");
                s.filter_input = Some("fox".into());
                s.order.clone_from(&shown);
                typed(&mut s, KeyCode::Char('s'));
            },
        );
        typed(&mut s, KeyCode::Esc);
        // A first keystroke into the empty filter line: `x` is in every row, so every row is
        // scanned and kept. Then Esc clearing that filter (every row back, in sorted order).
        let all_rows = s.order.clone();
        time(
            &format!("update: a first keystroke `x` (all rows scanned), {n} tasks"),
            50,
            || {
                s.filter = Filter::default();
                s.filter_input = Some(String::new());
                s.order.clone_from(&all_rows);
                typed(&mut s, KeyCode::Char('x'));
            },
        );
        let x_rows = s.order.clone();
        time(
            &format!("update: Esc clearing the filter, {n} tasks"),
            50,
            || {
                s.filter = Filter::parse("x");
                s.filter_input = Some("x".into());
                s.order.clone_from(&x_rows);
                typed(&mut s, KeyCode::Esc);
            },
        );
        assert_eq!(s.order.len(), n, "Esc shows every row again");
        // Opening the filter, a first keystroke (from no filter: a scan) and Esc (back to no
        // filter: a full rebuild and sort).
        time(
            &format!("update: filter `/`, `x`, Esc, {n} tasks"),
            50,
            || {
                update(
                    &mut s,
                    Msg::Key(KeyEvent::new(KeyCode::Char('/'), KeyModifiers::NONE)),
                );
                update(
                    &mut s,
                    Msg::Key(KeyEvent::new(KeyCode::Char('x'), KeyModifiers::NONE)),
                );
                update(
                    &mut s,
                    Msg::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)),
                );
            },
        );
    }
}
