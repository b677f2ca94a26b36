//! The selected task's last frame: asked for with its bodies, decoded by the runtime's
//! previewer and drawn in halfblocks on a TestBackend.

use crate::app::results::{ResultsEffect, ResultsMsg};
use crate::app::test_support::{bodies_of, select, state, task_record};
use crate::app::{Effect, Msg, update};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

#[tokio::test]
async fn the_preview_is_drawn_with_halfblocks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let png = dir.path().join("frame.png");
    std::fs::write(&png, crate::sim::frame_png("cgt-preview")).expect("write");
    let mut s = state(100, 40);
    let mut t = task_record("l0007");
    t.last_frame_path = Some(png.display().to_string());
    t.updated_at += 1;
    update(&mut s, Msg::TasksChanged(vec![(&t).into()]));
    select(&mut s, "l0007");
    let fx = update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
    );
    assert!(
        fx.contains(&Effect::LoadBodies("l0007".into())),
        "the frame's path is read with the bodies: {fx:?}"
    );
    let fx = update(&mut s, bodies_of(&t));
    let (cols, rows) = fx
        .iter()
        .find_map(|e| match e {
            Effect::Results(ResultsEffect::Preview {
                local_id,
                path,
                cols,
                rows,
                ..
            }) if local_id == "l0007" && path.is_some() => Some((*cols, *rows)),
            _ => None,
        })
        .expect("opening the detail pane asks for the preview");
    let previewer =
        crate::runtime::preview::Previewer::new(ratatui_image::picker::Picker::halfblocks());
    let image = previewer
        .load("l0007", Some(png.display().to_string()), None, (cols, rows))
        .await
        .expect("decodes");
    update(
        &mut s,
        Msg::Results(ResultsMsg::Preview {
            local_id: "l0007".into(),
            size: (cols, rows),
            image,
        }),
    );
    // Once shown, selecting it again asks for nothing.
    assert!(crate::app::results::preview_effect(&s).is_empty());
    let mut term = Terminal::new(TestBackend::new(100, 40)).expect("terminal");
    term.draw(|f| crate::ui::view(&s, f)).expect("draw");
    let b = term.backend().buffer().clone();
    let mut halves = 0;
    let mut out = String::new();
    for y in 0..b.area.height {
        let mut line = String::new();
        for x in 0..b.area.width {
            let c = &b[(x, y)];
            if c.symbol() == "▀" && c.fg != c.bg {
                halves += 1;
            }
            line.push_str(c.symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    assert!(
        halves > 100,
        "the picture is drawn in coloured half blocks ({halves})"
    );
    insta::assert_snapshot!("results_preview_halfblocks", out);
}
