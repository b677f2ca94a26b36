//! The last-frame preview reads at most its size cap from the link, also when the server sends
//! no `Content-Length` (chunked): a huge or endless body must not be buffered whole in memory.

use crate::support::http;
use seedance_tui::runtime::preview::Previewer;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// Bytes the server will send at most (a bit over twice the preview's 32 MiB cap).
const SERVED: u64 = 72 * 1024 * 1024;

/// Serves one chunked body of `SERVED` bytes, counting what it managed to send.
async fn chunked_server(sent: Arc<AtomicU64>) -> String {
    let addr = http::serve(move |_, mut sock| {
        let sent = sent.clone();
        async move {
            let head =
                "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nTransfer-Encoding: chunked\r\n\r\n";
            sock.write_all(head.as_bytes()).await.ok()?;
            let piece = vec![0x42u8; 256 * 1024];
            let frame = [
                format!("{:x}\r\n", piece.len()).into_bytes(),
                piece,
                b"\r\n".to_vec(),
            ]
            .concat();
            while sent.load(Ordering::SeqCst) < SERVED {
                sock.write_all(&frame).await.ok()?;
                sent.fetch_add(256 * 1024, Ordering::SeqCst);
            }
            let _ = sock.write_all(b"0\r\n\r\n").await;
            None
        }
    })
    .await;
    format!("http://{addr}/frame.png")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunked_last_frame_is_refused_at_the_cap() {
    let sent = Arc::new(AtomicU64::new(0));
    let url = chunked_server(sent.clone()).await;
    let previewer = Previewer::new(ratatui_image::picker::Picker::halfblocks());
    let out = tokio::time::timeout(
        Duration::from_secs(30),
        previewer.load("l-preview", None, Some(url), (40, 10)),
    )
    .await
    .expect("the preview answers");
    let Err(err) = out else {
        panic!("a 72 MiB body is refused");
    };
    assert!(err.contains("too large"), "{err}");
}
