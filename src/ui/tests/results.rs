//! Results through the reducer and the views: `d`, `o`, progress and saved messages (the saved
//! cell and the detail's download line), expiry watch, batched finish notifications (times come
//! from messages: no sleeps), the copy menu's new entries, the `$` summary with prices drawn, and
//! the results' settings from the config.

use crate::api::TaskStatus;
use crate::app::results::{
    Pricing, ResultsEffect, ResultsMsg, SavedCell, Transfer, cost_today, saved_cell, summary,
};
use crate::app::state::Overlay;
use crate::app::test_support::{NOW, bodies_of, select, state};
use crate::app::test_support::{answer_bodies, task_record};
use crate::app::{Effect, Msg, State, update};
use crate::config::Price;
use crate::store::{Phase, TaskRow};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn task(s: &State, id: &str) -> TaskRow {
    s.task(id).expect("task").clone()
}

/// The buffer as text, one line per row, trailing spaces trimmed.
fn screen_text(b: &ratatui::buffer::Buffer) -> String {
    crate::ui::test_support::trimmed_text(b)
}

fn last_text(s: &State) -> String {
    s.messages
        .last()
        .map(|m| m.text.clone())
        .unwrap_or_default()
}

#[test]
fn d_downloads_the_marked_succeeded_tasks_or_says_why_not() {
    let mut s = state(100, 30);
    select(&mut s, "l0000"); // running
    assert!(update(&mut s, key('d')).is_empty());
    assert!(last_text(&s).contains("nothing to download"));

    s.marks
        .extend(["l0002", "l0003", "l0007"].map(String::from));
    let fx = update(&mut s, key('d'));
    assert_eq!(
        fx,
        vec![Effect::Results(ResultsEffect::Download {
            local_ids: vec!["l0002".into(), "l0007".into()],
            force: true,
        })]
    );
    assert!(last_text(&s).contains("1 not succeeded, skipped"));
    assert_eq!(s.results.transfers.get("l0007"), Some(&Transfer::Queued));
    assert_eq!(saved_cell(&s, &task(&s, "l0007")), SavedCell::Queued);
}

#[test]
fn o_opens_the_saved_video_or_points_to_d() {
    let mut s = state(100, 30);
    select(&mut s, "l0002");
    let fx = update(&mut s, key('o'));
    assert_eq!(
        fx,
        vec![Effect::LoadBodies("l0002".into())],
        "the saved path is read from the store first"
    );
    assert_eq!(
        answer_bodies(&mut s, fx),
        vec![Effect::Results(ResultsEffect::Open {
            path: "/videos/cgt-x2.mp4".into()
        })]
    );
    select(&mut s, "l0007");
    assert!(update(&mut s, key('o')).is_empty());
    assert!(last_text(&s).contains("press d"));
    // The row says saved but the store's answer has no path (the file was forgotten
    // meanwhile): `o` says so once instead of reading the store again and again.
    select(&mut s, "l0002");
    let mut forgotten = task_record("l0002");
    forgotten.video_path = None;
    s.bodies = None; // not read yet
    let fx = update(&mut s, key('o'));
    assert_eq!(fx, vec![Effect::LoadBodies("l0002".into())]);
    assert!(update(&mut s, bodies_of(&forgotten)).is_empty());
    assert!(last_text(&s).contains("press d"), "{}", last_text(&s));
}

#[test]
fn progress_shows_in_the_saved_cell_and_detail_then_saved_replaces_it() {
    let mut s = state(100, 30);
    let progress = |done| {
        Msg::Results(ResultsMsg::Transfer {
            local_id: "l0007".into(),
            transfer: Transfer::Active {
                done,
                total: Some(2_000_000),
                rate: 500_000.0,
            },
        })
    };
    update(&mut s, progress(1_000_000));
    let t = task(&s, "l0007");
    assert_eq!(saved_cell(&s, &t), SavedCell::Progress(Some(0.5)));
    let line = crate::ui::preview::transfer_line(&s, &t).expect("a download line");
    let text: String = line.spans.iter().map(|sp| sp.content.as_ref()).collect();
    assert!(
        text.contains("1.0 MB of 2.0 MB (50%) at 500.0 KB/s"),
        "{text}"
    );
    assert_eq!(
        crate::ui::preview::saved_text(&s, &t, 2).0,
        "▅",
        "half a bar"
    );
    update(&mut s, progress(2_000_000));
    assert_eq!(
        saved_cell(&s, &task(&s, "l0007")),
        SavedCell::Progress(Some(1.0))
    );

    let mut done = task_record("l0007");
    done.video_path = Some("/videos/new.mp4".into());
    update(&mut s, Msg::Results(ResultsMsg::Saved(Box::new(done))));
    assert!(s.results.transfers.is_empty());
    assert_eq!(saved_cell(&s, &task(&s, "l0007")), SavedCell::Saved);

    update(
        &mut s,
        Msg::Results(ResultsMsg::Transfer {
            local_id: "l0002".into(),
            transfer: Transfer::Failed("disk full".into()),
        }),
    );
    assert!(last_text(&s).contains("disk full"));
}

#[test]
fn unsaved_results_show_time_left_and_warn_under_the_threshold() {
    let mut s = state(100, 30);
    let t = task(&s, "l0007"); // succeeded, not saved, links seen 3160 s ago
    match saved_cell(&s, &t) {
        SavedCell::Expires { left, warn } => {
            assert_eq!(left, 86_400 - 3160);
            assert!(!warn);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(crate::ui::preview::saved_text(&s, &t, 2).0, "·");
    update(
        &mut s,
        Msg::Tick {
            now: NOW + 22 * 3600,
        },
    );
    assert_eq!(
        saved_cell(&s, &t),
        SavedCell::Expires {
            left: 86_400 - 3160 - 22 * 3600,
            warn: true
        }
    );
    assert_eq!(
        crate::ui::preview::saved_text(&s, &t, 2),
        ("1h".to_string(), true)
    );
    s.results.warn_secs = 0;
    assert!(matches!(
        saved_cell(&s, &t),
        SavedCell::Expires { warn: false, .. }
    ));
    update(
        &mut s,
        Msg::Tick {
            now: NOW + 24 * 3600,
        },
    );
    assert_eq!(
        crate::ui::preview::saved_text(&s, &t, 2),
        ("!!".to_string(), true)
    );
    // A saved task shows ✓ whatever its link.
    assert_eq!(saved_cell(&s, &task(&s, "l0002")), SavedCell::Saved);
}

#[test]
fn finishes_are_batched_into_one_notification_per_window() {
    let mut s = state(100, 30);
    s.results.batch_secs = 3;
    let mut a = task(&s, "l0001");
    a.phase = Phase::Remote(TaskStatus::Succeeded);
    let mut b = task(&s, "l0000");
    b.phase = Phase::Remote(TaskStatus::Failed);
    let mut c = task(&s, "l0006");
    c.phase = Phase::Remote(TaskStatus::Succeeded);
    let (a, b, c) = (a, b, c);
    assert!(update(&mut s, Msg::TasksChanged(vec![a.clone(), b.clone()])).is_empty());
    assert!(update(&mut s, Msg::Tick { now: NOW + 1 }).is_empty());
    // Unchanged rows again (the watcher re-reads a second) add nothing.
    assert!(update(&mut s, Msg::TasksChanged(vec![a.clone(), c.clone()])).is_empty());
    let fx = update(&mut s, Msg::Tick { now: NOW + 3 });
    assert_eq!(
        fx,
        vec![Effect::Results(ResultsEffect::Notify {
            succeeded: vec![a.display_id().into(), c.display_id().into()],
            failed: vec![b.display_id().into()],
        })]
    );
    assert!(update(&mut s, Msg::Tick { now: NOW + 10 }).is_empty());
    // Loading the store never notifies.
    let all = s.tasks.clone();
    assert!(update(&mut s, Msg::TasksLoaded(all)).is_empty());
    assert!(update(&mut s, Msg::Tick { now: NOW + 20 }).is_empty());
}

#[test]
fn copy_menu_offers_last_frame_url_and_local_paths() {
    let mut s = state(100, 30);
    select(&mut s, "l0002");
    update(&mut s, key('y'));
    assert_eq!(s.overlay, Overlay::CopyMenu);
    let fx = update(&mut s, key('p'));
    assert_eq!(
        answer_bodies(&mut s, fx),
        vec![Effect::Copy("/videos/cgt-x2.mp4".into())]
    );
    assert_eq!(s.overlay, Overlay::None);
    update(&mut s, key('y'));
    assert!(update(&mut s, key('f')).is_empty(), "no last frame URL");
    assert!(last_text(&s).contains("no last-frame URL"));
    let mut t = task_record("l0002");
    t.last_frame_url = Some("https://sim.example/f.png".into());
    t.last_frame_path = Some("/videos/cgt-x2.last.png".into());
    t.updated_at += 1;
    update(&mut s, Msg::TasksChanged(vec![(&t).into()]));
    assert!(
        s.bodies.is_none(),
        "the bodies read before the change are dropped"
    );
    update(&mut s, bodies_of(&t));
    update(&mut s, key('y'));
    assert_eq!(
        update(&mut s, key('f')),
        vec![Effect::Copy("https://sim.example/f.png".into())]
    );
    update(&mut s, key('y'));
    assert_eq!(
        update(&mut s, key('p')),
        vec![Effect::Copy(
            "/videos/cgt-x2.mp4\n/videos/cgt-x2.last.png".into()
        )]
    );
}

#[test]
fn summary_totals_tokens_per_day_model_and_filter_with_prices() {
    let mut s = state(100, 30);
    update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::Char('$'), KeyModifiers::SHIFT)),
    );
    assert_eq!(s.overlay, Overlay::Summary { scroll: 0 });
    let before = s.selected.clone();
    update(&mut s, key('j'));
    assert_eq!(
        s.overlay,
        Overlay::Summary { scroll: 1 },
        "j scrolls the summary"
    );
    assert_eq!(s.selected, before, "not the table under it");
    update(&mut s, key('k'));
    assert_eq!(s.overlay, Overlay::Summary { scroll: 0 });
    let sum = summary(&s);
    assert_eq!(
        (sum.all.tasks, sum.all.tokens, sum.all.cost),
        (2, 216_000, None)
    );
    assert_eq!(sum.by_day.get(&0).map(|t| t.tokens), Some(216_000));
    assert_eq!(sum.by_model.len(), 2);
    assert_eq!(cost_today(&s), None);

    s.results.pricing = Pricing {
        per_million_tokens: Some(Price::Flat(10.0)),
        models: [("doubao-seedance-2-0-260128".to_string(), Price::Flat(20.0))].into(),
        currency: "$".into(),
    };
    let sum = summary(&s);
    let cost = sum.all.cost.expect("priced");
    assert!((cost - 3.24).abs() < 1e-9, "{cost}");
    assert!((cost_today(&s).expect("priced") - 3.24).abs() < 1e-9);
    update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)),
    );
    update(&mut s, key('4')); // only failed: nothing billed in the filter
    assert_eq!(summary(&s).filtered.tasks, 0);
    update(&mut s, key('3'));
    assert_eq!(summary(&s).filtered.tokens, 216_000);

    let mut term = Terminal::new(TestBackend::new(100, 30)).expect("terminal");
    update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::Char('$'), KeyModifiers::SHIFT)),
    );
    term.draw(|f| crate::ui::view(&s, f)).expect("draw");
    let text = screen_text(term.backend().buffer());
    assert!(text.contains("Usage summary"));
    assert!(text.contains("$3.24"), "the money is shown");
    assert!(text.contains("filter only succeeded"));
    insta::assert_snapshot!("results_summary_with_prices", text);
}

#[test]
fn config_sets_threshold_prices_batching_and_previews() {
    let mut s = state(100, 30);
    let mut cfg = crate::config::Config::default();
    assert_eq!(s.results.warn_secs, 2 * 3600, "default threshold 2 h");
    cfg.download.warn_before_expiry_hours = 0.5;
    cfg.notify.batch_secs = 10;
    cfg.pricing.per_million_tokens = Some(Price::Flat(7.0));
    cfg.ui.images = Some("sixel-please".into());
    crate::app::start::results_settings(&mut s, &cfg);
    assert_eq!(s.results.warn_secs, 1800);
    assert_eq!(s.results.batch_secs, 10);
    assert_eq!(
        s.results.pricing.per_million("any", "720p", false),
        Some(7.0)
    );
    assert!(s.results.images);
    assert!(last_text(&s).contains("auto, halfblocks or off"));
    cfg.ui.images = Some("off".into());
    crate::app::start::results_settings(&mut s, &cfg);
    assert!(!s.results.images);
    let parsed: crate::config::Config = toml::from_str(
        "[download]\nwarn_before_expiry_hours = 3\n[notify]\nprotocol = \"osc99\"\n[pricing]\nper_million_tokens = 1.5\n",
    )
    .expect("the new sections parse");
    assert_eq!(parsed.download.warn_before_expiry_hours, 3.0);
    assert_eq!(parsed.download.concurrency, 2);
    assert_eq!(parsed.notify.protocol, "osc99");
    assert_eq!(parsed.pricing.per_million_tokens, Some(Price::Flat(1.5)));
}
