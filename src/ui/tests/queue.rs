//! The submission queue on screen (ratatui's TestBackend, a reviewed snapshot): pending rows
//! with their own symbol and their place in the queue, and the queue count in the header,
//! also when the server holds the queue.

use crate::app::queue::QueueInfo;
use crate::app::test_support::{NOW, record, state};
use crate::app::{Msg, update};
use crate::store::Phase;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn screen(s: &crate::app::State) -> String {
    let (w, h) = s.size;
    let mut term = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
    term.draw(|f| crate::ui::view(s, f)).expect("draw");
    crate::ui::test_support::trimmed_text(term.backend().buffer())
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
        .collect::<Vec<crate::store::TaskRow>>();
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
