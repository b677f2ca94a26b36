//! Download throughput against curl on loopback (run: `cargo bench --bench download`): a local
//! HTTP server (axum, in memory) serves a `BENCH_MB` MiB file (default 512); our downloader
//! (streamed to `.part`, size check, fsync, rename) and `curl -o` each fetch it to disk three
//! times; best times and this process's peak memory growth are reported.

mod common;

use axum::Router;
use axum::body::Body;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use bytes::Bytes;
use std::time::{Duration, Instant};

fn main() {
    let mb: usize = std::env::var("BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(512);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    // Pseudo-random bytes, so nothing on the way can compress them.
    let mut data = vec![0u8; mb << 20];
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for chunk in data.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
    }
    let data = Bytes::from(data);
    let served = data.clone();
    let addr = rt.block_on(async move {
        let app = Router::new().route(
            "/big.mp4",
            get(move || {
                let body = served.clone();
                async move {
                    (
                        [
                            (header::CONTENT_TYPE, "video/mp4".to_string()),
                            (header::CONTENT_LENGTH, body.len().to_string()),
                        ],
                        Body::from(body),
                    )
                        .into_response()
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        addr
    });
    let url = format!("http://{addr}/big.mp4");
    let dir = tempfile::tempdir().expect("tempdir");
    let pid = std::process::id();
    let rss_before = common::memory_kib(pid).map(|m| m.0).unwrap_or(0);
    let mut ours = Duration::MAX;
    let mut peak = 0;
    for i in 0..3 {
        let dest = dir.path().join(format!("ours-{i}.mp4"));
        let t = Instant::now();
        let out = rt
            .block_on(seedance_tui::file_download::download(
                &seedance_tui::file_download::http_client(),
                &url,
                &dest,
                |_, _| {},
            ))
            .expect("download");
        ours = ours.min(t.elapsed());
        assert_eq!(out.bytes as usize, data.len());
        peak = peak.max(common::memory_kib(pid).map(|m| m.1).unwrap_or(0));
        std::fs::remove_file(&dest).ok();
    }
    let mut curl = Duration::MAX;
    for i in 0..3 {
        let dest = dir.path().join(format!("curl-{i}.mp4"));
        let t = Instant::now();
        let status = std::process::Command::new("curl")
            .args(["-s", "-o"])
            .arg(&dest)
            .arg(&url)
            .status()
            .expect("curl runs");
        assert!(status.success());
        curl = curl.min(t.elapsed());
        assert_eq!(
            std::fs::metadata(&dest).map(|m| m.len()).unwrap_or(0) as usize,
            data.len()
        );
        std::fs::remove_file(&dest).ok();
    }
    let rate = |d: Duration| mb as f64 / d.as_secs_f64();
    println!("download of {mb} MiB on loopback to disk, best of 3:");
    println!("| client | time | throughput |");
    println!("| --- | --- | --- |");
    println!(
        "| seedance-tui (`download.rs`) | {:.2} s | {:.0} MiB/s |",
        ours.as_secs_f64(),
        rate(ours)
    );
    println!(
        "| curl -o | {:.2} s | {:.0} MiB/s |",
        curl.as_secs_f64(),
        rate(curl)
    );
    println!(
        "peak RSS while downloading: {:.0} MiB above the {:.0} MiB before (which hold the served file)",
        peak.saturating_sub(rss_before) as f64 / 1024.0,
        rss_before as f64 / 1024.0
    );
}
