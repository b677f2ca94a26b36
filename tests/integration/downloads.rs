//! The download manager against the simulator over loopback: a cut download resumes with `Range`
//! and is byte-identical; an expired link is refreshed; auto-download (fed by the store watcher,
//! as in the dashboard) saves each succeeded task exactly once, also after a "restart".

use crate::support::engine::*;
use seedance_tui::app::Msg;
use seedance_tui::app::results::{ResultsMsg, Transfer};
use seedance_tui::runtime::download_manager::Downloads;
use seedance_tui::runtime::store_watch;
use seedance_tui::sim::{Fault, FaultKind, FaultRoute, SAMPLE_MP4, SimConfig, video_byte};
use std::time::Duration;
use tokio::sync::mpsc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_cut_half_way_resumes_with_range_and_is_byte_identical() {
    const SIZE: u64 = 3_000_000;
    let (sim, dir, engine) = sim_and_engine(SimConfig {
        video_size: Some(SIZE),
        ..fast()
    })
    .await;
    let rec = succeeded_task(&engine, "cut me").await;
    sim.inject(Fault {
        route: FaultRoute::Download,
        kind: FaultKind::CutAfter(SIZE / 2),
        times: 1,
    });
    let before = sim.stats();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let out = dir.path().join("out");
    let dl = Downloads::start(engine.clone(), settings(&out), tx);
    dl.consider(std::slice::from_ref(&rec));
    let mut seen = Vec::new();
    let saved = wait_saved(&mut rx, 1, &mut seen).await;
    let path = saved[0]
        .video_path
        .clone()
        .expect("the store records the video path");
    let data = std::fs::read(&path).expect("the video is on disk");
    assert_eq!(data.len() as u64, SIZE);
    let first_wrong = (0..SIZE).find(|&i| data[i as usize] != video_byte(i));
    assert_eq!(first_wrong, None, "the file differs from the served one");
    assert!(!std::path::Path::new(&format!("{path}.part")).exists());
    let after = sim.stats();
    assert_eq!(
        after.ranged_downloads - before.ranged_downloads,
        1,
        "resumed with Range"
    );
    // Cut video, resumed video, last frame: nothing fetched from zero twice.
    assert_eq!(after.downloads - before.downloads, 3);
    assert!(saved[0].last_frame_path.is_some());
    // Progress was reported with the size, ending at the whole file.
    let last = seen.iter().rev().find_map(|m| match m {
        Msg::Results(ResultsMsg::Transfer {
            transfer: Transfer::Active { done, total, .. },
            ..
        }) if *total == Some(SIZE) => Some(*done),
        _ => None,
    });
    assert_eq!(last, Some(SIZE));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_link_is_refreshed_by_fetching_the_task_again() {
    let (sim, dir, engine) = sim_and_engine(SimConfig {
        url_ttl: Duration::from_secs(60),
        ..fast()
    })
    .await;
    let rec = succeeded_task(&engine, "expire my link").await;
    // The stored link dies.
    sim.advance(Duration::from_secs(3600));
    let stale = rec.video_url.clone().expect("a video URL");
    let status = reqwest::get(&stale).await.expect("get").status();
    assert_eq!(status.as_u16(), 403, "the old link is dead");
    let gets = sim.stats().gets;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let dl = Downloads::start(engine.clone(), settings(&dir.path().join("out")), tx);
    dl.consider(std::slice::from_ref(&rec));
    let saved = wait_saved(&mut rx, 1, &mut Vec::new()).await;
    let data = std::fs::read(saved[0].video_path.as_ref().expect("path")).expect("file");
    assert_eq!(data, SAMPLE_MP4);
    assert!(
        sim.stats().gets > gets,
        "the task was fetched again for a fresh link"
    );
    assert_ne!(saved[0].video_url.as_deref(), Some(stale.as_str()));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_download_saves_each_succeeded_task_exactly_once() {
    let (sim, dir, engine) = sim_and_engine(fast()).await;
    let store = dir.path().join("store.sqlite3");
    let out = dir.path().join("out");
    let (tx, mut rx) = mpsc::unbounded_channel();
    let dl = Downloads::start(engine.clone(), settings(&out), tx.clone());
    // As run_dashboard does: every change the store watcher sees goes to the manager.
    let (wtx, mut wrx) = mpsc::unbounded_channel();
    store_watch::spawn(store.clone(), Some(0), wtx);
    let feed = dl.clone();
    tokio::spawn(async move {
        while let Some(rows) = wrx.recv().await {
            feed.consider(&rows);
        }
    });
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(succeeded_task(&engine, &format!("once {i}")).await.local_id);
    }
    let saved = wait_saved(&mut rx, 3, &mut Vec::new()).await;
    let mut got: Vec<String> = saved.iter().map(|r| r.local_id.clone()).collect();
    got.sort();
    ids.sort();
    assert_eq!(got, ids);
    let after_first = sim.stats().downloads;
    assert_eq!(after_first, 6, "one video and one last frame per task");
    let names = std::fs::read_dir(&out).expect("out dir").count();
    assert_eq!(names, 6, "no duplicate files");

    // Asked again without force (what a store change or a restart does): nothing is fetched.
    dl.download(ids.clone(), false);
    wait_saved(&mut rx, 3, &mut Vec::new()).await;
    let (tx2, mut rx2) = mpsc::unbounded_channel();
    let restarted = Downloads::start(engine.clone(), settings(&out), tx2);
    let rows = engine
        .with_store(|s| s.list(&Default::default()))
        .await
        .expect("list");
    restarted.consider(&rows);
    restarted.download(ids.clone(), false);
    wait_saved(&mut rx2, 3, &mut Vec::new()).await;
    assert_eq!(
        sim.stats().downloads,
        after_first,
        "nothing downloaded twice"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_auto_off_only_asked_downloads_happen() {
    let (sim, dir, engine) = sim_and_engine(fast()).await;
    let a = succeeded_task(&engine, "left alone").await;
    let b = succeeded_task(&engine, "asked for").await;
    let mut s = settings(&dir.path().join("out"));
    s.auto = false;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let dl = Downloads::start(engine.clone(), s, tx);
    dl.consider(&[a.clone(), b.clone()]);
    // Commands are handled in order: by the time `b` is saved, `consider` was ignored.
    dl.download(vec![b.local_id.clone()], false);
    let saved = wait_saved(&mut rx, 1, &mut Vec::new()).await;
    assert_eq!(saved[0].local_id, b.local_id);
    assert_eq!(sim.stats().downloads, 2, "only b's video and last frame");
    let a_now = engine.find(&a.local_id).await.expect("find");
    assert_eq!(a_now.video_path, None);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_part_file_left_by_a_previous_run_is_resumed_not_restarted() {
    const SIZE: u64 = 2_000_000;
    let (sim, dir, engine) = sim_and_engine(SimConfig {
        video_size: Some(SIZE),
        ..fast()
    })
    .await;
    let rec = succeeded_task(&engine, "interrupted yesterday").await;
    // What a killed process leaves: the first 1.2 MB in `NAME.part`, no path in the store.
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).expect("mkdir");
    let dest = out.join(seedance_tui::engine::naming::render("{id}.mp4", &rec));
    let part = seedance_tui::file_download::part_path(&dest);
    let head: Vec<u8> = (0..1_200_000).map(video_byte).collect();
    std::fs::write(&part, head).expect("write part");
    let before = sim.stats();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let dl = Downloads::start(engine.clone(), settings(&out), tx);
    dl.consider(std::slice::from_ref(&rec));
    let saved = wait_saved(&mut rx, 1, &mut Vec::new()).await;
    assert_eq!(saved[0].video_path.as_deref(), dest.to_str());
    let data = std::fs::read(&dest).expect("video");
    assert_eq!(data.len() as u64, SIZE);
    assert!((0..SIZE).all(|i| data[i as usize] == video_byte(i)));
    assert!(!part.exists());
    let after = sim.stats();
    assert_eq!(after.ranged_downloads - before.ranged_downloads, 1);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_retried_with_backoff_then_reported() {
    let (sim, dir, engine) = sim_and_engine(fast()).await;
    let rec = succeeded_task(&engine, "flaky storage").await;
    // Three refusals that no resume can fix: each whole-task attempt fails once, then gives up.
    sim.inject(Fault {
        route: FaultRoute::Download,
        kind: FaultKind::Status(404),
        times: 3,
    });
    let (tx, mut rx) = mpsc::unbounded_channel();
    let dl = Downloads::start(engine.clone(), settings(&dir.path().join("out")), tx);
    dl.consider(std::slice::from_ref(&rec));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let error = loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(Msg::Results(ResultsMsg::Transfer {
                transfer: Transfer::Failed(e),
                ..
            }))) => break e,
            Ok(Some(Msg::Results(ResultsMsg::Saved(_)))) => panic!("saved despite the faults"),
            Ok(Some(_)) => {}
            _ => panic!("no failure was reported"),
        }
    };
    assert!(error.contains("404"), "{error}");
    assert_eq!(sim.stats().downloads, 3, "three attempts");
    // The fault is spent: `d` now succeeds.
    dl.download(vec![rec.local_id.clone()], true);
    let saved = wait_saved(&mut rx, 1, &mut Vec::new()).await;
    assert!(saved[0].video_path.is_some());
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_preview_fetches_the_last_frame_url_when_nothing_is_saved() {
    let (sim, _dir, engine) = sim_and_engine(SimConfig {
        url_ttl: Duration::from_secs(60),
        ..fast()
    })
    .await;
    let rec = succeeded_task(&engine, "look at me").await;
    let url = rec.last_frame_url.clone().expect("a last-frame URL");
    let previewer =
        seedance_tui::runtime::preview::Previewer::new(ratatui_image::picker::Picker::halfblocks());
    let img = previewer
        .load(&rec.local_id, None, Some(url.clone()), (40, 10))
        .await
        .expect("fetched and decoded");
    let size = img.0.size();
    assert!(
        size.width <= 40 && size.height <= 10 && size.width > 0,
        "{size:?}"
    );
    // A dead link says so (another task id, so nothing is cached).
    sim.advance(Duration::from_secs(3600));
    let err = previewer
        .load("other", None, Some(url), (40, 10))
        .await
        .expect_err("the link is dead");
    assert!(err.contains("403"), "{err}");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_template_names_files_and_collisions_get_a_suffix() {
    // Videos large enough that both downloads are in flight together.
    let (sim, dir, engine) = sim_and_engine(SimConfig {
        video_size: Some(8_000_000),
        ..fast()
    })
    .await;
    // Same prompt, same model: the template gives both the same name.
    let a = succeeded_task(&engine, "Twin Peaks!").await;
    let b = succeeded_task(&engine, "Twin Peaks!").await;
    let out = dir.path().join("out");
    let mut s = settings(&out);
    s.template = "{model}_{prompt_slug}.mp4".into();
    s.concurrency = 2; // both at once: the second must not pick the first one's name
    let (tx, mut rx) = mpsc::unbounded_channel();
    let dl = Downloads::start(engine.clone(), s, tx);
    dl.consider(&[a, b]);
    wait_saved(&mut rx, 2, &mut Vec::new()).await;
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .expect("out")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    names.sort();
    let base = "doubao-seedance-2-0-fast-260128_sim-succeed-twin-peaks";
    assert_eq!(
        names,
        vec![
            format!("{base}-2.last.png"),
            format!("{base}-2.mp4"),
            format!("{base}.last.png"),
            format!("{base}.mp4"),
        ]
    );
    for name in names.iter().filter(|n| n.ends_with(".mp4")) {
        let data = std::fs::read(out.join(name)).expect("video");
        assert_eq!(data.len(), 8_000_000, "{name}");
        assert!(
            (0..8_000_000u64)
                .step_by(997)
                .all(|i| data[i as usize] == video_byte(i))
        );
    }
    assert_eq!(
        sim.stats().downloads,
        4,
        "each file fetched once, no clash and retry"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweep_finds_unsaved_results_in_the_store_and_saves_them_one_slot_at_a_time() {
    let (sim, dir, engine) = sim_and_engine(fast()).await;
    let mut ids = Vec::new();
    for i in 0..6 {
        ids.push(
            succeeded_task(&engine, &format!("swept {i}"))
                .await
                .local_id,
        );
    }
    let mut s = settings(&dir.path().join("out"));
    s.concurrency = 1;
    let (tx, mut rx) = mpsc::unbounded_channel();
    // Nothing is handed to the manager: the store sweep at start must find the six.
    let _dl = Downloads::start(engine.clone(), s, tx);
    let mut seen = Vec::new();
    let saved = wait_saved(&mut rx, 6, &mut seen).await;
    let mut got: Vec<String> = saved.iter().map(|r| r.local_id.clone()).collect();
    got.sort();
    ids.sort();
    assert_eq!(got, ids);
    assert_eq!(
        sim.stats().downloads,
        12,
        "one video and one last frame each"
    );
    // One slot: a task's progress reports are never interleaved with another's.
    let mut runs: Vec<&str> = Vec::new();
    for m in &seen {
        if let Msg::Results(ResultsMsg::Transfer {
            local_id,
            transfer: Transfer::Active { .. },
        }) = m
            && runs.last() != Some(&local_id.as_str())
        {
            runs.push(local_id);
        }
    }
    let mut distinct = runs.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(runs.len(), distinct.len(), "interleaved: {runs:?}");
    assert_eq!(distinct.len(), 6);
    sim.shutdown().await;
}
