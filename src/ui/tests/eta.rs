//! The table's ETA: once the poller's model knows finished tasks of the same kind, an
//! unfinished task's time column shows the remaining time and fills (reversed cells) as far as
//! it has progressed; with no history it keeps the plain elapsed time.

use crate::api::TaskStatus;
use crate::app::test_support::{NOW, record, state};
use crate::app::{Msg, update};
use crate::engine::eta::EtaModel;
use crate::store::Phase;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::Modifier;
use std::sync::Arc;

const STD: &str = "doubao-seedance-2-0-260128";

fn render(s: &crate::app::State) -> Buffer {
    let (w, h) = s.size;
    let mut term = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    term.draw(|f| crate::ui::view(s, f)).expect("draw");
    term.backend().buffer().clone()
}

/// The row showing `needle`, with the number of reversed cells on it.
fn row(b: &Buffer, needle: &str) -> (String, usize) {
    for y in 0..b.area.height {
        let text: String = (0..b.area.width).map(|x| b[(x, y)].symbol()).collect();
        if text.contains(needle) {
            let reversed = (0..b.area.width)
                .filter(|&x| b[(x, y)].modifier.contains(Modifier::REVERSED))
                .count();
            return (text, reversed);
        }
    }
    panic!("no row shows {needle}");
}

#[test]
fn running_task_shows_eta_and_progress_learned_from_history() {
    let mut s = state(160, 30);
    // A running 720p/5s task, started 60 s ago; nothing learned yet: plain elapsed time.
    let mut running = record(0, Phase::Remote(TaskStatus::Running), "fox in snow", STD);
    running.local_id = "run".into();
    running.created_at = NOW - 80;
    running.started_at = Some(NOW - 60);
    update(&mut s, Msg::TasksChanged(vec![running.clone().into()]));
    let (text, reversed) = row(&render(&s), "fox in snow");
    assert!(text.contains("r 1m"), "{text}");
    assert_eq!(reversed, 0);

    // Finished rows alone teach the table nothing: the poller's model does (one model).
    let done: Vec<_> = (0..3)
        .map(|i| {
            let mut d = record(0, Phase::Remote(TaskStatus::Succeeded), "old", STD);
            d.local_id = format!("done{i}");
            d.created_at = NOW - 5000 - i;
            d.started_at = Some(NOW - 4900);
            d.finished_at = Some(NOW - 4800);
            d
        })
        .collect();
    let before = s.eta.learned();
    update(
        &mut s,
        Msg::TasksChanged(done.iter().cloned().map(Into::into).collect()),
    );
    assert_eq!(s.eta.learned(), before);
    assert!(row(&render(&s), "fox in snow").0.contains("r 1m"));
    // The poller learned that three tasks of the same kind took 200 s from creation: 120 s are
    // left, 40 % is done.
    let mut model = EtaModel::default();
    for d in &done {
        assert!(model.learn(d));
    }
    update(&mut s, Msg::Eta(Arc::new(model)));
    assert_eq!(s.eta.learned(), before + 3);
    let (text, reversed) = row(&render(&s), "fox in snow");
    assert!(text.contains("r ~2m"), "{text}");
    // The TIME cell is 8 wide with its gap: 80 of 200 s fills 3 of them.
    assert_eq!(reversed, 3, "{text}");
}
