//! `sim --replay FILE`: a server that answers from a trace (`--trace FILE`, see
//! [`crate::api::trace`]), so what a real service answered becomes a test fixture.
//!
//! A request is matched by method and path: first the exchanges recorded for exactly that path,
//! else those of the same shape (the segment after `/tasks/` is a task id, so
//! `GET .../tasks/cgt-a` answers from a recorded `GET .../tasks/cgt-b`, with `cgt-b` rewritten to
//! `cgt-a` in the body). The query is ignored. Repeated requests of one key walk through the
//! recorded answers in order and then repeat the last one (queued, running, succeeded). A request
//! nothing matches gets a 404 JSON error naming it. `GET /_sim/served` lists the requests served.

use crate::api::trace::Exchange;
use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Method, Response, StatusCode, Uri};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// The recorded answers and how far each key has got.
#[derive(Debug)]
struct Book {
    exchanges: Vec<Exchange>,
    next: HashMap<String, usize>,
    /// Every request served: `METHOD path`.
    served: Vec<String>,
}

/// A running replay server.
pub struct ReplayHandle {
    pub(crate) addr: SocketAddr,
    book: Arc<Mutex<Book>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

impl ReplayHandle {
    /// `http://ADDR` followed by the recorded base path, when every recorded API path shares one
    /// (e.g. `/seedance/api/v3`); else `http://ADDR/api/v3`.
    pub fn base_url(&self) -> String {
        let book = self.book.lock().unwrap_or_else(|p| p.into_inner());
        let prefix = book
            .exchanges
            .iter()
            .find_map(|e| {
                let path = e.path.split('?').next().unwrap_or_default();
                path.find("/contents/generations/tasks")
                    .map(|i| path[..i].to_string())
            })
            .unwrap_or_else(|| "/api/v3".into());
        format!("http://{}{prefix}", self.addr)
    }

    pub async fn shutdown(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(h) = self.server.take() {
            let _ = h.await;
        }
    }
}

/// The task id in a path (the segment after `/tasks/`), if any.
fn task_id_of(path: &str) -> Option<&str> {
    let path = path.split('?').next().unwrap_or_default();
    let (_, rest) = path.split_once("/contents/generations/tasks/")?;
    (!rest.is_empty() && !rest.contains('/')).then_some(rest)
}

/// The path with its task id replaced by `{id}` and the query dropped.
fn shape(path: &str) -> String {
    let bare = path.split('?').next().unwrap_or_default();
    match task_id_of(bare) {
        Some(id) => format!("{}{{id}}", &bare[..bare.len() - id.len()]),
        None => bare.to_string(),
    }
}

impl Book {
    /// The answer to `method path`, with ids rewritten.
    fn answer(&mut self, method: &str, path: &str) -> Option<Exchange> {
        let bare = path.split('?').next().unwrap_or_default().to_string();
        let wanted_shape = shape(&bare);
        let probe = crate::api::client::PROBE_TASK_ID;
        let exact: Vec<usize> = (0..self.exchanges.len())
            .filter(|&i| {
                let e = &self.exchanges[i];
                e.status != 0
                    && e.method.eq_ignore_ascii_case(method)
                    && e.path.split('?').next() == Some(bare.as_str())
            })
            .collect();
        let (key, candidates) = if !exact.is_empty() {
            (format!("{method} {bare}"), exact)
        } else {
            // The probe's answer never stands in for a real task's, nor the other way round.
            let asking_probe = task_id_of(&bare) == Some(probe);
            let similar: Vec<usize> = (0..self.exchanges.len())
                .filter(|&i| {
                    let e = &self.exchanges[i];
                    e.status != 0
                        && e.method.eq_ignore_ascii_case(method)
                        && shape(&e.path) == wanted_shape
                        && (task_id_of(&e.path) == Some(probe)) == asking_probe
                })
                .collect();
            (format!("{method} {wanted_shape}"), similar)
        };
        if candidates.is_empty() {
            return None;
        }
        let n = self.next.entry(key).or_default();
        let pick = candidates[(*n).min(candidates.len() - 1)];
        *n += 1;
        let mut ex = self.exchanges[pick].clone();
        if let (Some(recorded), Some(asked)) = (task_id_of(&ex.path), task_id_of(&bare))
            && recorded != asked
        {
            let recorded = recorded.to_string();
            if let Some(body) = &mut ex.response_body {
                *body = body.replace(&recorded, asked);
            }
        }
        Some(ex)
    }
}

/// Headers that describe the recorded connection, not the answer: never replayed.
fn replayable(name: &str) -> bool {
    !matches!(
        name.to_ascii_lowercase().as_str(),
        "content-length"
            | "transfer-encoding"
            | "connection"
            | "keep-alive"
            | "content-encoding"
            | "date"
    )
}

async fn handle(
    axum::extract::State(book): axum::extract::State<Arc<Mutex<Book>>>,
    method: Method,
    uri: Uri,
) -> Response<Body> {
    let path = uri
        .path_and_query()
        .map_or_else(|| uri.path().to_string(), |p| p.as_str().to_string());
    let found = {
        let mut book = book.lock().unwrap_or_else(|p| p.into_inner());
        book.served.push(format!("{method} {path}"));
        book.answer(method.as_str(), &path)
    };
    let Some(ex) = found else {
        let body = serde_json::json!({"error": {
            "code": "NotInTrace",
            "message": format!("the trace has no answer for {method} {}", shape(&path)),
            "type": "NotFound"}});
        return Response::builder()
            .status(StatusCode::NOT_FOUND)
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap_or_default();
    };
    let mut resp = Response::builder()
        .status(StatusCode::from_u16(ex.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
    for (k, v) in &ex.response_headers {
        if !replayable(k) {
            continue;
        }
        if let (Ok(k), Ok(v)) = (HeaderName::try_from(k.as_str()), HeaderValue::from_str(v)) {
            resp = resp.header(k, v);
        }
    }
    resp.body(Body::from(ex.response_body.unwrap_or_default()))
        .unwrap_or_default()
}

/// `GET /_sim/served`: every request served so far, as a JSON list of `METHOD path`.
async fn served(
    axum::extract::State(book): axum::extract::State<Arc<Mutex<Book>>>,
) -> axum::Json<Vec<String>> {
    let book = book.lock().unwrap_or_else(|p| p.into_inner());
    axum::Json(book.served.clone())
}

/// Serve `exchanges` on `addr` (port 0: a free one) on the current tokio runtime.
pub async fn start(addr: SocketAddr, exchanges: Vec<Exchange>) -> std::io::Result<ReplayHandle> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let book = Arc::new(Mutex::new(Book {
        exchanges,
        next: HashMap::new(),
        served: Vec::new(),
    }));
    let app = axum::Router::new()
        .route("/_sim/served", axum::routing::get(served))
        .fallback(handle)
        .with_state(book.clone());
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stop_rx.await;
            })
            .await;
    });
    Ok(ReplayHandle {
        addr,
        book,
        stop: Some(stop_tx),
        server: Some(server),
    })
}

/// `sim --replay FILE`: serve the trace until Ctrl-C.
pub(crate) async fn run_standalone(
    addr: SocketAddr,
    exchanges: Vec<Exchange>,
) -> std::io::Result<()> {
    let n = exchanges.len();
    let handle = start(addr, exchanges).await?;
    println!("seedance-tui simulator replaying {n} recorded exchanges");
    println!("  listening on {}", handle.addr);
    println!("  base URL: {}", handle.base_url());
    println!("  Ctrl-C stops it");
    let _ = tokio::signal::ctrl_c().await;
    handle.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(method: &str, path: &str, status: u16, body: &str) -> Exchange {
        Exchange {
            time: String::new(),
            method: method.into(),
            path: path.into(),
            status,
            request_headers: vec![],
            request_body: None,
            response_headers: vec![("content-type".into(), "application/json".into())],
            response_body: Some(body.into()),
            truncated: false,
            elapsed_ms: 0,
            error: None,
        }
    }

    #[test]
    fn answers_by_path_then_by_shape_in_order_with_ids_rewritten() {
        let t = "/s/api/v3/contents/generations/tasks";
        let mut book = Book {
            exchanges: vec![
                ex(
                    "GET",
                    &format!("{t}/cgt-a"),
                    200,
                    r#"{"id":"cgt-a","status":"queued"}"#,
                ),
                ex(
                    "GET",
                    &format!("{t}/cgt-a"),
                    200,
                    r#"{"id":"cgt-a","status":"succeeded"}"#,
                ),
                ex(
                    "GET",
                    &format!("{t}/{}", crate::api::client::PROBE_TASK_ID),
                    400,
                    r#"{"code":"task_not_exist"}"#,
                ),
                ex("POST", t, 200, r#"{"id":"cgt-a"}"#),
            ],
            next: HashMap::new(),
            served: vec![],
        };
        let body = |e: Option<Exchange>| e.and_then(|e| e.response_body).unwrap_or_default();
        assert!(
            body(book.answer("GET", &format!("{t}/cgt-z")))
                .contains(r#""id":"cgt-z","status":"queued""#)
        );
        assert!(body(book.answer("GET", &format!("{t}/cgt-z"))).contains("succeeded"));
        assert!(
            body(book.answer("GET", &format!("{t}/cgt-z"))).contains("succeeded"),
            "the last repeats"
        );
        let probe = book
            .answer("GET", &format!("{t}/{}", crate::api::client::PROBE_TASK_ID))
            .expect("probe");
        assert_eq!(probe.status, 400);
        assert_eq!(
            body(book.answer("POST", &format!("{t}?x=1"))),
            r#"{"id":"cgt-a"}"#
        );
        assert!(book.answer("DELETE", &format!("{t}/cgt-a")).is_none());
    }
}
