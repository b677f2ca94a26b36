//! Two downloads into the same destination at once (a dashboard saving a task while
//! `submit --wait` or `download` in another process saves one with the same name) must not write
//! the same `.part` file: the second one refuses, and the first one's file stays intact.
//!
//! A tiny file server on loopback holds the first body half-sent until the test releases it, so
//! the overlap is certain, not a matter of timing.

use crate::support::http;
use seedance_tui::file_download::{self, DownloadError};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::sync::Notify;

const SIZE: usize = 64 * 1024;
const HALF: usize = SIZE / 2;

/// Serves `/a` (all `a` bytes, paused after half until `release`), `/gone` (403) and `/b` (all
/// `b` bytes, with Range support).
async fn file_server(release: Arc<Notify>, half_sent: Arc<Notify>) -> String {
    let addr = http::serve(move |req, mut sock| {
        let (release, half_sent) = (release.clone(), half_sent.clone());
        async move {
            let from: usize = req
                .header("range")
                .and_then(|r| r.strip_prefix("bytes="))
                .and_then(|r| r.trim().trim_end_matches('-').parse().ok())
                .unwrap_or(0);
            if req.path == "/gone" {
                let _ = sock
                    .write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                    .await;
            } else if req.path == "/a" {
                let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {SIZE}\r\n\r\n");
                let _ = sock.write_all(head.as_bytes()).await;
                let _ = sock.write_all(&[b'a'; HALF]).await;
                let _ = sock.flush().await;
                half_sent.notify_one();
                release.notified().await;
                let _ = sock.write_all(&[b'a'; SIZE - HALF]).await;
            } else {
                let rest = SIZE - from.min(SIZE);
                let head = if from > 0 {
                    format!(
                        "HTTP/1.1 206 Partial Content\r\nContent-Length: {rest}\r\n\
                         Content-Range: bytes {from}-{}/{SIZE}\r\n\r\n",
                        SIZE - 1
                    )
                } else {
                    format!("HTTP/1.1 200 OK\r\nContent-Length: {SIZE}\r\n\r\n")
                };
                let _ = sock.write_all(head.as_bytes()).await;
                let _ = sock.write_all(&vec![b'b'; rest]).await;
            }
            let _ = sock.flush().await;
            None
        }
    })
    .await;
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_download_into_the_same_file_does_not_mix_into_the_first() {
    let (release, half_sent) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let base = file_server(release.clone(), half_sent.clone()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let dest = dir.path().join("same-name.mp4");
    let http = file_download::http_client();

    let first = {
        let (http, url, dest) = (http.clone(), format!("{base}/a"), dest.clone());
        tokio::spawn(async move { file_download::download(&http, &url, &dest, |_, _| {}).await })
    };
    // Wait until the first download has half its file in the .part (bounded).
    tokio::time::timeout(Duration::from_secs(10), half_sent.notified())
        .await
        .expect("the first download started");
    let part = file_download::part_path(&dest);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0) < HALF as u64 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the .part never reached half"
        );
        tokio::task::yield_now().await;
    }

    let second = file_download::download(&http, &format!("{base}/b"), &dest, |_, _| {}).await;
    assert!(
        matches!(second, Err(DownloadError::Busy { .. })),
        "the second download must refuse while the first writes the file: {second:?}"
    );

    release.notify_one();
    let first = tokio::time::timeout(Duration::from_secs(10), first)
        .await
        .expect("the first download ends")
        .expect("join");
    let out = first.expect("the first download succeeds");
    assert_eq!(out.bytes, SIZE as u64);
    let bytes = std::fs::read(&dest).expect("read dest");
    assert_eq!(bytes.len(), SIZE);
    assert!(
        bytes.iter().all(|b| *b == b'a'),
        "the saved file holds only the first download's bytes"
    );
    assert!(!part.exists(), "no .part left behind");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_download_leaves_no_empty_part_file() {
    let base = file_server(Arc::new(Notify::new()), Arc::new(Notify::new())).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let dest = dir.path().join("gone.mp4");
    let out = file_download::download(
        &file_download::http_client(),
        &format!("{base}/gone"),
        &dest,
        |_, _| {},
    )
    .await;
    assert!(
        matches!(out, Err(DownloadError::LinkExpired { status: 403 })),
        "{out:?}"
    );
    assert!(
        !file_download::part_path(&dest).exists(),
        "no empty .part left"
    );
    assert!(!dest.exists());
}
