//! The submission queue on screen (ratatui's TestBackend, a reviewed snapshot): pending rows
//! with their own symbol and their place in the queue, and the queue count in the header,
//! also when the server holds the queue.

use crate::support::fixtures::{NOW, record, state};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use seedance_tui::app::queue::QueueInfo;
use seedance_tui::app::{Msg, update};
use seedance_tui::store::Phase;

fn screen(s: &seedance_tui::app::State) -> String {
    let (w, h) = s.size;
    let mut term = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
    term.draw(|f| seedance_tui::ui::view(s, f)).expect("draw");
    let b = term.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..b.area.height {
        let line: String = (0..b.area.width).map(|x| b[(x, y)].symbol()).collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[test]
fn pending_rows_and_the_queue_in_the_header() {
    let mut s = state(120, 16);
    let pending: Vec<_> = (20..23)
        .map(|n| {
            let mut r = record(
                n,
                Phase::Pending,
                &format!("queued shot {n}"),
                "doubao-seedance-2-0-fast-260128",
            );
            r.created_at = NOW - 5;
            r.task_id = None;
            r.into()
        })
        .collect::<Vec<seedance_tui::store::TaskRow>>();
    let order = pending
        .iter()
        .rev()
        .map(|r| r.local_id.to_string())
        .collect();
    update(&mut s, Msg::TasksChanged(pending));
    update(
        &mut s,
        Msg::Queue(QueueInfo {
            order,
            held_until: Some(NOW + 30),
            held_reason: Some("server busy: rate limited (HTTP 429, QuotaExceeded)".into()),
            ..QueueInfo::default()
        }),
    );
    let text = screen(&s);
    assert!(text.contains("○ queue 3 held: server busy"), "{text}");
    assert!(text.contains("○ pending"), "{text}");
    insta::assert_snapshot!(text);
}
