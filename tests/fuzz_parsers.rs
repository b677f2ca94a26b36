//! Fuzzing the parsers that read outside data: the task decoder (server answers), the config
//! file and theme files. The checked-in corpus (`tests/fuzz_corpus/{task,config,theme}`) holds
//! real documents (`ok_*`, must parse), known-bad ones (`bad_*`, must be refused with a message)
//! and odd ones (anything else: must not panic). proptest then mutates every seed — cuts,
//! flipped bytes, spliced fragments — and throws random text at each parser: none may panic,
//! and whatever parses must hold the invariants the program relies on. Failing cases proptest
//! finds are saved in `tests/fuzz_corpus/proptest-regressions.txt` and replayed first.

use proptest::prelude::*;
use proptest::test_runner::{Config as PtConfig, FileFailurePersistence};
use seedance_tui::api::Task;
use seedance_tui::api::client::{looks_like_not_json, parse_retry_after};
use seedance_tui::config::Config;
use seedance_tui::theme::{parse_color, parse_theme};
use std::path::Path;

fn corpus(kind: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz_corpus")
        .join(kind);
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .expect("corpus dir")
        .filter_map(Result::ok)
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).expect("corpus file"),
            )
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "empty corpus {kind}");
    out
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The invariants of a decoded task that the engine and the view rely on.
fn check_task(t: &Task) {
    let s = t.status.as_str().to_string();
    assert_eq!(
        seedance_tui::api::TaskStatus::parse(&s).as_str(),
        s,
        "status round-trips"
    );
    let _ = (t.video_url(), t.last_frame_url());
}

fn check_config(c: &Config) {
    let p = &c.poll;
    assert!(p.interval_secs.is_finite() && p.interval_secs > 0.0);
    assert!(p.requests_per_second.is_finite() && p.requests_per_second > 0.0);
    assert!(p.lease_secs.is_finite() && p.lease_secs > 0.0);
    assert!(p.concurrency > 0);
    // What the program derives from it must not panic either.
    let _ = std::time::Duration::from_secs_f64(p.interval_secs.clamp(1.0, 600.0));
    let _ = std::time::Duration::from_secs_f64(1.0 / p.requests_per_second.clamp(0.1, 50.0));
    assert!(c.profile(None).is_ok() || !c.profiles.contains_key(&c.profile));
}

#[test]
fn corpus_tasks() {
    for (name, bytes) in corpus("task") {
        let r = Task::from_json(&text(&bytes));
        match &r {
            Ok(t) => check_task(t),
            Err(e) => assert!(!e.to_string().is_empty()),
        }
        if name.starts_with("ok_") {
            assert!(r.is_ok(), "{name}: {:?}", r.err());
        }
        // A bad optional field is dropped, not the whole task (issue 11).
        if name == "ok_negative_tokens_dropped.json" {
            assert_eq!(r.as_ref().ok().and_then(Task::tokens), None, "{name}");
        }
        if name.starts_with("bad_") {
            assert!(r.is_err(), "{name} parsed");
        }
        let _ = looks_like_not_json("application/json", &bytes);
    }
}

#[test]
fn corpus_configs() {
    for (name, bytes) in corpus("config") {
        let r = Config::parse(&text(&bytes));
        match &r {
            Ok(c) => check_config(c),
            Err(e) => assert!(!e.is_empty()),
        }
        if name.starts_with("ok_") {
            assert!(r.is_ok(), "{name}: {:?}", r.err());
        }
        if name.starts_with("bad_") {
            assert!(r.is_err(), "{name} parsed");
        }
    }
}

#[test]
fn corpus_themes() {
    for (name, bytes) in corpus("theme") {
        let r = parse_theme(&name, &text(&bytes), None);
        if name.starts_with("ok_") {
            assert!(r.is_ok(), "{name}: {:?}", r.err());
        }
        if name.starts_with("bad_") {
            let e = r.expect_err("bad theme parsed");
            assert!(!e.to_string().is_empty());
        }
    }
}

/// A seed mutated: cut at a point, some bytes replaced, a fragment spliced in.
fn mutated(seeds: Vec<(String, Vec<u8>)>) -> impl Strategy<Value = String> {
    let n = seeds.len();
    (
        0..n,
        any::<prop::sample::Index>(),
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
        prop::option::of((
            any::<prop::sample::Index>(),
            prop::sample::select(vec![
                "\"", "{", "}", "[", "]", ",", ":", "null", "-1", "1e999", "\\u0000", "=", "\n[",
                "\"\"\"", "#", "nan", "inf", "🦊", "\u{202e}",
            ]),
        )),
    )
        .prop_map(move |(i, cut, flips, splice)| {
            let mut b = seeds[i].1.clone();
            if b.len() > 1 {
                b.truncate(cut.index(b.len()) + 1);
            }
            for (at, byte) in flips {
                if !b.is_empty() {
                    let k = at.index(b.len());
                    b[k] = byte;
                }
            }
            if let Some((at, frag)) = splice {
                let k = at.index(b.len() + 1);
                b.splice(k..k, frag.bytes());
            }
            text(&b)
        })
}

fn pt_config() -> PtConfig {
    PtConfig {
        cases: 400,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fuzz_corpus/proptest-regressions.txt"
        )))),
        ..PtConfig::default()
    }
}

proptest! {
    #![proptest_config(pt_config())]

    #[test]
    fn mutated_tasks_never_panic(s in mutated(corpus("task").into_iter().filter(|(n, _)| n.starts_with("ok_")).collect())) {
        if let Ok(t) = Task::from_json(&s) {
            check_task(&t);
        }
    }

    #[test]
    fn random_text_is_no_task(s in ".{0,200}") {
        if let Ok(t) = Task::from_json(&s) {
            check_task(&t);
        }
        let _ = looks_like_not_json("text/html; charset=utf-8", s.as_bytes());
        let _ = parse_retry_after(&s, 1_700_000_000);
    }

    #[test]
    fn mutated_configs_never_panic(s in mutated(corpus("config"))) {
        match Config::parse(&s) {
            Ok(c) => check_config(&c),
            Err(e) => prop_assert!(!e.is_empty()),
        }
    }

    #[test]
    fn mutated_themes_never_panic(s in mutated(corpus("theme"))) {
        let _ = parse_theme("fuzz", &s, None);
    }

    #[test]
    fn colours_parse_or_explain(s in "[#a-zA-Z0-9(), -]{0,24}") {
        if let Err(e) = parse_color(&s) {
            prop_assert!(!e.is_empty());
        }
    }

    #[test]
    fn retry_after_is_bounded(s in "[0-9]{0,30}|[A-Za-z, :0-9]{0,40}") {
        if let Some(d) = parse_retry_after(&s, 1_700_000_000) {
            // Whatever a server says, the wait is a real duration (no overflow panic).
            prop_assert!(d.as_secs() < u64::MAX);
        }
    }
}
