//! A raw HTTP/1.1 server on 127.0.0.1: the test writes the answer bytes itself, so it can send
//! what the simulator never does (a body paused half-way, a hostile `Retry-After`, an endless
//! chunked body).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};

/// The head of one request, as received.
pub struct Request {
    /// The request target, e.g. `/a`.
    pub path: String,
    /// The whole head, lower-cased (request line and headers).
    pub head: String,
}

impl Request {
    /// The value of header `name` (lower-case), trimmed.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k.trim() == name).then(|| v.trim())
        })
    }
}

/// Serve on a free loopback port until the runtime ends. `answer` gets each request's head and
/// the connection, writes the reply, and hands the connection back to read another request on
/// it (keep-alive), or `None` to close it.
pub async fn serve<F, Fut>(answer: F) -> SocketAddr
where
    F: Fn(Request, TcpStream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Option<TcpStream>> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let answer = Arc::new(answer);
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let answer = answer.clone();
            tokio::spawn(async move {
                let mut sock = sock;
                while let Some(req) = read_head(&mut sock).await {
                    match answer(req, sock).await {
                        Some(s) => sock = s,
                        None => return,
                    }
                }
            });
        }
    });
    addr
}

/// Read up to the blank line that ends a request head; `None` once the peer closes.
async fn read_head(sock: &mut TcpStream) -> Option<Request> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    // Byte by byte, so nothing after the head (a next request) is consumed here.
    while !buf.ends_with(b"\r\n\r\n") {
        match sock.read(&mut byte).await {
            Ok(0) | Err(_) => return None,
            Ok(_) => buf.push(byte[0]),
        }
        if buf.len() > 64 * 1024 {
            return None;
        }
    }
    let raw = String::from_utf8_lossy(&buf);
    let path = raw.split_whitespace().nth(1).unwrap_or("/").to_string();
    let head = raw.to_ascii_lowercase();
    Some(Request { path, head })
}
