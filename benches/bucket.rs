//! A large result streamed into a bucket next to the plain download to disk of the same file, in
//! one run (run: `cargo bench --bench bucket`; needs `moto_server`, `pip install "moto[server]"`).
//! The simulator (in this process) serves a `BENCH_MB` MiB video (default 1024, generated on the
//! fly: `sim --video-size`); the engine saves it once into a folder (`.part`, fsync, rename) and
//! once into a bucket of a local moto server (multipart, 8 MiB parts). For each: time, throughput,
//! and the peak RSS this process added (the peak is reset between the two).

mod common;

use seedance_tui::api::{ApiKey, ArkClient, ClientConfig};
use seedance_tui::destination::Destination;
use seedance_tui::engine::Engine;
use seedance_tui::engine::task_results::save_results_with;
use seedance_tui::s3::{AwsCredentials, S3Client, S3Location, S3Setup};
use seedance_tui::sim::SimConfig;
use seedance_tui::store::{Phase, Store};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Reset this process's peak RSS (Linux: `clear_refs` 5), so each phase reports its own peak.
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn on_path(name: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(name).is_file()))
}

fn main() {
    if !on_path("moto_server") {
        println!(
            "SKIPPED: moto_server not found; `pip install \"moto[server]\"` to run this bench"
        );
        return;
    }
    let mb: u64 = std::env::var("BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let size = mb << 20;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    // Killed on drop, also when the bench panics.
    let moto = KillOnDrop(
        Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto starts"),
    );
    let endpoint = format!("http://127.0.0.1:{port}");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let setup = S3Setup {
        endpoint: endpoint.clone(),
        region: "us-east-1".into(),
        path_style: true,
        credentials: Some(AwsCredentials {
            key: "AKIABENCH".into(),
            secret: "bench".into(),
            token: None,
        }),
        credentials_from: "the bench".into(),
    };
    let location = S3Location::parse("s3://bench/run").expect("location");
    let dir = tempfile::tempdir().expect("tempdir");
    let pid = std::process::id();

    let report = rt.block_on(async {
        let client = S3Client::new(&location, &setup).expect("client");
        let deadline = Instant::now() + Duration::from_secs(60);
        while client.create_bucket().await.is_err() {
            assert!(Instant::now() < deadline, "moto did not start");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let sim = seedance_tui::sim::start(
            "127.0.0.1:0".parse().expect("addr"),
            SimConfig {
                speed: 1000.0,
                fail_rate: 0.0,
                video_size: Some(size),
                ..SimConfig::default()
            },
        )
        .await
        .expect("sim");
        let store = Store::open(&dir.path().join("s.sqlite3")).expect("store");
        let api = ArkClient::new(ClientConfig::new(sim.base_url(), Some(ApiKey::new("bench"))))
            .expect("client");
        let mut engine = Engine::new(api, store, "bench");
        engine.s3_setup = Some(std::sync::Arc::new(setup.clone()));
        let body = r#"{"model":"doubao-seedance-2-0-fast-260128","content":[{"type":"text","text":"bench [[sim:succeed]]"}],"return_last_frame":false}"#;
        let mut rec = engine.submit(body.to_string(), None).await.expect("submit");
        while rec.phase != Phase::Remote(seedance_tui::api::TaskStatus::Succeeded) {
            tokio::time::sleep(Duration::from_millis(100)).await;
            rec = engine.poll(&rec).await.expect("poll").0;
        }
        let mut rows = Vec::new();
        for (name, dest) in [
            ("download to disk", Destination::Folder(dir.path().join("out"))),
            ("stream into the bucket", Destination::Bucket(location.clone())),
        ] {
            let rss_before = common::memory_kib(pid).map(|m| m.0).unwrap_or(0);
            let reset = reset_peak();
            let t = Instant::now();
            let saved = save_results_with(&engine, &rec, &dest, "{id}.mp4", true, &mut |_, _, _| {})
                .await
                .expect("saved");
            let took = t.elapsed();
            let peak = common::memory_kib(pid).map(|m| m.1).unwrap_or(0);
            assert_eq!(saved.files.len(), 1);
            rows.push((name, took, peak.saturating_sub(rss_before), reset));
            // Each destination starts from an unsaved record.
        }
        let objects = client.list("run/").await.expect("list");
        assert_eq!(objects.len(), 1, "{objects:?}");
        assert_eq!(objects[0].1, size, "the object has every byte");
        rows
    });
    drop(moto);
    println!("a {mb} MiB result, saved by the engine, in one run:");
    println!("| destination | time | throughput | peak RSS added |");
    println!("| --- | --- | --- | --- |");
    for (name, took, added, reset) in report {
        println!(
            "| {name} | {:.2} s | {:.0} MiB/s | {:.0} MiB{} |",
            took.as_secs_f64(),
            mb as f64 / took.as_secs_f64(),
            added as f64 / 1024.0,
            if reset { "" } else { " (peak not reset)" }
        );
    }
}
