//! A hostile server on loopback: a raw TCP listener that answers each request with whatever a
//! test's handler says, including answers no honest server gives (escape sequences in error
//! codes, ids that are paths, endless, trickling and stalled bodies, silence). It runs on its
//! own thread and runtime, so blocking tests (driving the binary) and async tests both use it.
//! Every request is logged for assertions.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request as received.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// The path with its query, as sent.
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// When it arrived.
    pub at: Instant,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What the server does with a request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A JSON answer with this status.
    Json(u16, String),
    /// A 200 with `Content-Length` and this body.
    Bytes(Vec<u8>),
    /// A 200 without `Content-Length` that streams zeros until the client goes away.
    Endless,
    /// A 200 without `Content-Length` that sends one byte per period, for ever.
    Trickle(Duration),
    /// An XML error answer with this status that sends one byte of its body per period, for
    /// ever (an object-storage error body that never ends).
    TrickleError(u16, Duration),
    /// An answer with this status, `Content-Type: application/xml` and this body.
    Xml(u16, String),
    /// A 200 announcing `total` bytes (or a 206 from the request's `Range`) that sends `bytes`
    /// of them and then nothing, holding the connection open.
    StallAfter { total: u64, bytes: u64 },
    /// Read the request and never answer.
    Silent,
}

type Handler = dyn Fn(&Request) -> Reply + Send + Sync;

/// The running server.
pub struct HostileServer {
    pub addr: std::net::SocketAddr,
    log: Arc<Mutex<Vec<Request>>>,
}

impl HostileServer {
    /// Start answering with `handler` on a free loopback port.
    pub fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> HostileServer {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        std_listener.set_nonblocking(true).expect("nonblocking");
        let addr = std_listener.local_addr().expect("addr");
        let log = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let l = log.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = TcpListener::from_std(std_listener).expect("listener");
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    let (h, l) = (handler.clone(), l.clone());
                    tokio::spawn(async move {
                        let _ = serve(stream, h, l).await;
                    });
                }
            });
        });
        HostileServer { addr, log }
    }

    /// The API base URL (`http://ADDR/api/v3`).
    pub fn base(&self) -> String {
        format!("http://{}/api/v3", self.addr)
    }

    /// A URL on this server, for result files.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Request> {
        self.log.lock().expect("log").clone()
    }

    /// Requests whose method and path start match.
    pub fn count(&self, method: &str, path_prefix: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.method == method && r.path.starts_with(path_prefix))
            .count()
    }

    /// Wait (bounded) until `pred` holds for the request log.
    pub fn wait_requests(&self, what: &str, timeout: Duration, pred: impl Fn(&[Request]) -> bool) {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if pred(&self.requests()) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("timed out waiting for {what}: {:#?}", self.requests());
    }
}

async fn read_request(stream: &mut TcpStream) -> std::io::Result<Option<Request>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.len() > 1 << 20 {
            return Ok(None);
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let first = lines.next().unwrap_or_default();
    let mut parts = first.split(' ');
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or_default().to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Ok(Some(Request {
        method,
        path,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        at: Instant::now(),
    }))
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        206 => "Partial Content",
        400 => "Bad Request",
        404 => "Not Found",
        500 => "Internal Server Error",
        _ => "Whatever",
    }
}

/// The start offset of a `Range: bytes=N-` header.
fn range_start(req: &Request) -> Option<u64> {
    req.header("range")?
        .strip_prefix("bytes=")?
        .split('-')
        .next()?
        .parse()
        .ok()
}

async fn serve(
    mut stream: TcpStream,
    handler: Arc<Handler>,
    log: Arc<Mutex<Vec<Request>>>,
) -> std::io::Result<()> {
    while let Some(req) = read_request(&mut stream).await? {
        log.lock().expect("log").push(req.clone());
        match handler(&req) {
            Reply::Json(status, body) => {
                let head = format!(
                    "HTTP/1.1 {status} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                    reason(status),
                    body.len()
                );
                stream.write_all(head.as_bytes()).await?;
                stream.write_all(body.as_bytes()).await?;
            }
            Reply::Bytes(body) => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                stream.write_all(head.as_bytes()).await?;
                stream.write_all(&body).await?;
            }
            Reply::Endless => {
                stream
                    .write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\nConnection: close\r\n\r\n",
                    )
                    .await?;
                let zeros = vec![0u8; 64 * 1024];
                loop {
                    stream.write_all(&zeros).await?;
                }
            }
            Reply::Trickle(every) => {
                stream
                    .write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\nConnection: close\r\n\r\n",
                    )
                    .await?;
                loop {
                    stream.write_all(b"x").await?;
                    stream.flush().await?;
                    tokio::time::sleep(every).await;
                }
            }
            Reply::TrickleError(status, every) => {
                let head = format!(
                    "HTTP/1.1 {status} {}\r\nContent-Type: application/xml\r\nConnection: close\r\n\r\n<Error><Code>",
                    reason(status)
                );
                stream.write_all(head.as_bytes()).await?;
                loop {
                    stream.write_all(b"x").await?;
                    stream.flush().await?;
                    tokio::time::sleep(every).await;
                }
            }
            Reply::Xml(status, body) => {
                let head = format!(
                    "HTTP/1.1 {status} {}\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n\r\n",
                    reason(status),
                    body.len()
                );
                stream.write_all(head.as_bytes()).await?;
                stream.write_all(body.as_bytes()).await?;
            }
            Reply::StallAfter { total, bytes } => {
                let start = range_start(&req).unwrap_or(0);
                let head = if start > 0 {
                    format!(
                        "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {start}-{}/{total}\r\nContent-Length: {}\r\n\r\n",
                        total - 1,
                        total - start
                    )
                } else {
                    format!("HTTP/1.1 200 OK\r\nContent-Length: {total}\r\n\r\n")
                };
                stream.write_all(head.as_bytes()).await?;
                let n = bytes.min(total - start) as usize;
                stream.write_all(&vec![b'v'; n]).await?;
                stream.flush().await?;
                std::future::pending::<()>().await;
            }
            Reply::Silent => {
                std::future::pending::<()>().await;
            }
        }
    }
    Ok(())
}

/// A task answer: `{"id": ID, "status": STATUS}` merged with `extra`'s fields.
pub fn task_json(id: &str, status: &str, extra: serde_json::Value) -> String {
    let mut v = serde_json::json!({
        "id": id,
        "model": "doubao-seedance-2-0-260128",
        "status": status,
        "created_at": 1_760_000_000,
        "updated_at": 1_760_000_100,
    });
    if let (Some(map), serde_json::Value::Object(more)) = (v.as_object_mut(), extra) {
        map.extend(more);
    }
    v.to_string()
}

/// An Ark error body.
pub fn error_json(code: &str, message: &str) -> String {
    serde_json::json!({"error": {"code": code, "message": message, "type": "BadRequest"}})
        .to_string()
}

/// What a finished command did, with its peak resident memory.
#[derive(Debug)]
pub struct Ran {
    pub code: i32,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// Peak resident set size of the process, in KiB (`wait4`'s `ru_maxrss`).
    pub max_rss_kib: u64,
    pub took: Duration,
}

impl Ran {
    pub fn out(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
    pub fn err(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
    /// Both streams, raw.
    pub fn all_bytes(&self) -> Vec<u8> {
        let mut v = self.stdout.clone();
        v.extend_from_slice(&self.stderr);
        v
    }
}

/// The peak resident size (VmHWM, KiB) of a running process, read from /proc.
fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Run `cmd` to its end (killed after `timeout`, which fails the test): exit code, output and
/// the child's peak memory. The peak is the kernel's own high-water mark of the program (since
/// its exec), sampled every few milliseconds until it exits, so only growth in its last
/// milliseconds could go unseen. (`wait4`'s `ru_maxrss` would count this test process's memory
/// from before the exec.)
pub fn run_measured(cmd: &mut std::process::Command, timeout: Duration) -> Ran {
    use std::io::Read;
    use std::process::Stdio;
    let started = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let pid = child.id();
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let out_t = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let err_t = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let mut max_rss_kib = 0;
    let status = loop {
        if let Some(kib) = vm_hwm_kib(pid) {
            max_rss_kib = max_rss_kib.max(kib);
        }
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the command did not end within {timeout:?}: {cmd:?}");
        }
        std::thread::sleep(Duration::from_millis(3));
    };
    Ran {
        code: status.code().unwrap_or(-1),
        stdout: out_t.join().unwrap_or_default(),
        stderr: err_t.join().unwrap_or_default(),
        max_rss_kib,
        took: started.elapsed(),
    }
}

/// Memory each command may use on a hostile input.
pub const MAX_RSS_KIB: u64 = 100 * 1024;

/// True when `bytes` hold a raw control or bidi character other than newline and tab (the
/// only ones our own line-oriented output may use).
pub fn has_raw_controls(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    text.chars()
        .any(|c| seedance_tui::sanitize::is_unsafe(c) && c != '\n' && c != '\t')
}
