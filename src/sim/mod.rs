//! An Ark-compatible HTTP simulator (axum) for the demo and the tests: the same routes under
//! `/api/v3` and the relay prefix `/seedance/api/v3`, server-side validation (the same rule
//! table as the client), realistic task life cycles on a virtual clock, rate limits, signed
//! result URLs that expire, and fault injection.
//!
//! Control endpoints (no auth), for tests in another process:
//! - `GET /_sim/stats` — request counts by route ([`SimStats`]).
//! - `POST /_sim/faults` — arm a fault, e.g. `{"route":"create","kind":{"status":500},"times":1}`;
//!   routes: create, get, list, delete, download, any_api; kinds: `{"status":N}`,
//!   `{"status_after_processing":N}`, `"html"`, `"truncated"`, `{"garbage":BYTES}`, `"empty"`,
//!   `{"delay_ms":MS}`, `{"delay_after_processing_ms":MS}` (creates: the task is made, the
//!   answer waits), `{"cut_after":BYTES}`.
//! - `POST /_sim/config` — `{"fail_rate":P}` and/or `{"max_queued":N}` (`null` lifts the cap).
//! - `POST /_sim/advance` — `{"secs":N}`: move every clock forward (expire URLs and tasks).
//!
//! Reference URLs pointing at loopback are fetched (bounded, with a deadline) before the task may
//! start; one that cannot be fetched fails the task with `InvalidParameter` (`references`).
//!
//! `SimConfig::video_size` (`seedance-tui sim --video-size BYTES`) serves videos of that size,
//! generated on the fly in chunks (`video_byte(i)` is byte `i`), for large and resumed downloads;
//! `SimStats::ranged_downloads` counts downloads that asked for a `Range`.
//!
//! `SimConfig::max_queued` (`sim --max-queued N`) is the account's cap on queued tasks: a create
//! while N are queued gets 429 `QuotaExceeded` (no `Retry-After`, as the service sends none).
//! `SimStats::peak_in_flight` is the most tasks queued or running at once.
//! A create with `callback_url` (loopback hosts only) gets the task POSTed there on each status
//! change, like the service (`callbacks`); `SimStats::callbacks` counts the attempts.
//!
//! Prompt directives steer a task: `[[sim:succeed]]`, `[[sim:fail]]`, `[[sim:fail:CODE]]`,
//! `[[sim:expire]]`, `[[sim:hold]]` (queued until cancelled).

mod body_shape;
mod callbacks;
mod control;
mod files;
mod references;
pub mod replay;
mod result_files;
mod routes;
mod state;

pub use files::{FRAME_H, FRAME_W, SAMPLE_MP4, frame_png, video_byte};

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Knobs of the simulator. Everything random is drawn from `seed`, so a run is repeatable.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Time compression: 1.0 is real-world timings, tests use e.g. 200.0.
    pub speed: f64,
    pub seed: u64,
    /// Probability that a task fails (with a realistic error code) instead of succeeding.
    pub fail_rate: f64,
    /// Requests per second above which the API answers 429 with `Retry-After`.
    pub rate_limit: Option<u32>,
    /// When set, requests must carry `Authorization: Bearer <this>`; otherwise any Bearer token works.
    pub api_key: Option<String>,
    /// Lifetime of signed result URLs (real time, not scaled by `speed`).
    pub url_ttl: Duration,
    /// How many tasks may run at once (upstream concurrency is very limited).
    pub max_running: usize,
    /// Serve videos of this many bytes (the sample MP4 followed by generated filler, made on
    /// the fly in chunks) instead of the small sample; for large-download tests.
    pub video_size: Option<u64>,
    /// The account's cap on queued tasks: a create while this many are queued is refused with
    /// 429 `QuotaExceeded` (the official service caps queued tasks per account, e.g. 120).
    pub max_queued: Option<usize>,
    /// The server's clock minus ours, in seconds: tasks' `created_at` and the `Date` header
    /// follow it (a service whose clock is off).
    pub clock_offset_secs: i64,
    /// Tasks carry the create's `X-Client-Request-Id` as `client_request_id` (whether and where
    /// the real service echoes it in a task is UNCONFIRMED; off by default).
    pub echo_client_request_id: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            speed: 1.0,
            seed: 1,
            fail_rate: 0.1,
            rate_limit: None,
            api_key: None,
            url_ttl: Duration::from_secs(24 * 3600),
            max_running: 4,
            video_size: None,
            max_queued: None,
            clock_offset_secs: 0,
            echo_client_request_id: false,
        }
    }
}

/// Which requests a fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultRoute {
    Create,
    Get,
    List,
    Delete,
    /// Result files (video and last frame).
    Download,
    /// Any API route (not downloads).
    AnyApi,
}

/// What a fault does to a response.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(from = "FaultKindWire")]
pub enum FaultKind {
    /// Answer with this HTTP status and an Ark-style error body (the request is not processed).
    Status(u16),
    /// Process the request, then answer 500 anyway (the outcome is unknown to the client).
    StatusAfterProcessing(u16),
    /// Answer 200 with an HTML page.
    Html,
    /// Answer 200 with the JSON cut in half.
    Truncated,
    /// Answer 200 with this many bytes of non-JSON garbage.
    Garbage(usize),
    /// Answer 200 with an empty body.
    Empty,
    /// Wait this long before handling the request (processing it after the wait).
    Delay(Duration),
    /// For creates: make the task, then wait this long before answering (a sender killed
    /// meanwhile had its create reach the server without learning so).
    DelayAfterProcessing(Duration),
    /// For downloads: send this many bytes of the body, then drop the connection.
    CutAfter(u64),
}

/// A fault armed for the next `times` matching requests.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct Fault {
    pub route: FaultRoute,
    pub kind: FaultKind,
    #[serde(default = "one")]
    pub times: u32,
}

/// Counts of requests the simulator received, by route.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SimStats {
    pub creates: u64,
    pub gets: u64,
    pub lists: u64,
    pub deletes: u64,
    pub downloads: u64,
    pub rate_limited: u64,
    /// Downloads that asked for a `Range` (resumes).
    #[serde(default)]
    pub ranged_downloads: u64,
    /// The most tasks queued or running at once (checked at every create).
    #[serde(default)]
    pub peak_in_flight: u64,
    /// Creates refused because the account's queued-task cap was reached.
    #[serde(default)]
    pub(crate) queue_capped: u64,
    /// Creates that carried an `X-Client-Request-Id` an earlier accepted create already had
    /// (the same request sent twice).
    #[serde(default)]
    pub(crate) repeated_client_ids: u64,
    /// Loopback reference URLs fetched whole, and those that could not be fetched.
    #[serde(default)]
    pub(crate) reference_fetches: u64,
    #[serde(default)]
    pub(crate) reference_failures: u64,
    /// Callback POSTs made (every attempt), and those not acknowledged with a 2xx in time.
    #[serde(default)]
    pub callbacks: u64,
    #[serde(default)]
    pub callbacks_unacknowledged: u64,
}

fn one() -> u32 {
    1
}

/// The JSON form of a fault kind.
#[derive(serde::Deserialize)]
#[serde(rename_all = "snake_case")]
enum FaultKindWire {
    Status(u16),
    StatusAfterProcessing(u16),
    Html,
    Truncated,
    Garbage(usize),
    Empty,
    DelayMs(u64),
    DelayAfterProcessingMs(u64),
    CutAfter(u64),
}

impl From<FaultKindWire> for FaultKind {
    fn from(w: FaultKindWire) -> FaultKind {
        match w {
            FaultKindWire::Status(s) => FaultKind::Status(s),
            FaultKindWire::StatusAfterProcessing(s) => FaultKind::StatusAfterProcessing(s),
            FaultKindWire::Html => FaultKind::Html,
            FaultKindWire::Truncated => FaultKind::Truncated,
            FaultKindWire::Garbage(n) => FaultKind::Garbage(n.min(64 << 20)),
            FaultKindWire::Empty => FaultKind::Empty,
            FaultKindWire::DelayMs(ms) => FaultKind::Delay(Duration::from_millis(ms)),
            FaultKindWire::DelayAfterProcessingMs(ms) => {
                FaultKind::DelayAfterProcessing(Duration::from_millis(ms))
            }
            FaultKindWire::CutAfter(n) => FaultKind::CutAfter(n),
        }
    }
}

/// The simulator's mutable state.
struct Inner {
    cfg: SimConfig,
    tasks: state::Tasks,
    faults: Vec<Fault>,
    stats: SimStats,
    addr: SocketAddr,
    /// Real time of start, the Unix time it stands for, and the manual offset (seconds).
    started: Instant,
    base_unix: f64,
    offset: f64,
    recent: VecDeque<Instant>,
    secret: u64,
    /// `X-Client-Request-Id`s of accepted creates.
    client_ids: std::collections::HashSet<String>,
}

impl Inner {
    /// Sim time (scaled by `speed`) in Unix seconds.
    fn sim_now(&self) -> f64 {
        self.base_unix + self.started.elapsed().as_secs_f64() * self.cfg.speed + self.offset
    }

    /// Real time (plus the manual offset) in Unix seconds, for URL expiry.
    fn url_now(&self) -> i64 {
        (self.base_unix + self.started.elapsed().as_secs_f64() + self.offset) as i64
    }

    fn secret(&self) -> u64 {
        self.secret
    }

    fn count(&mut self, route: FaultRoute) {
        let s = &mut self.stats;
        match route {
            FaultRoute::Create => s.creates += 1,
            FaultRoute::Get => s.gets += 1,
            FaultRoute::List => s.lists += 1,
            FaultRoute::Delete => s.deletes += 1,
            FaultRoute::Download => s.downloads += 1,
            FaultRoute::AnyApi => {}
        }
    }

    fn request_id(&mut self) -> String {
        let ms = (self.sim_now() * 1000.0) as u64;
        let r = self.tasks.rng().next_u64();
        format!("02{ms:013}{r:016x}0000000000000000ffff")
    }

    /// Take one use of the first armed fault that matches `route`.
    fn take_fault(&mut self, route: FaultRoute) -> Option<FaultKind> {
        let i = self.faults.iter().position(|f| {
            f.times > 0
                && (f.route == route
                    || (f.route == FaultRoute::AnyApi && route != FaultRoute::Download))
        })?;
        let f = &mut self.faults[i];
        f.times -= 1;
        let kind = f.kind.clone();
        if f.times == 0 {
            self.faults.remove(i);
        }
        Some(kind)
    }

    /// Record an API request; true when it is over the rate limit.
    fn rate_limited(&mut self) -> bool {
        let Some(limit) = self.cfg.rate_limit else {
            return false;
        };
        let now = Instant::now();
        while self
            .recent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
        {
            self.recent.pop_front();
        }
        if self.recent.len() >= limit as usize {
            self.stats.rate_limited += 1;
            return true;
        }
        self.recent.push_back(now);
        false
    }

    fn file_url(&self, id: &str, name: &str) -> String {
        let date = self.url_now();
        let expires = self.cfg.url_ttl.as_secs();
        let sig = files::sign(id, name, date, expires, self.secret);
        format!(
            "http://{}/sim-files/{id}/{name}?X-Tos-Algorithm=TOS4-HMAC-SHA256&X-Tos-Date={date}&X-Tos-Expires={expires}&X-Tos-Signature={sig}",
            self.addr
        )
    }
}

/// The state shared by every handler.
#[derive(Clone)]
struct Shared(Arc<Mutex<Inner>>);

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panicking handler must not take the simulator down with it.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn config(&self) -> SimConfig {
        self.lock().cfg.clone()
    }

    /// Create a task, unless the account's queued-task cap is reached (`Err` with the cap).
    fn create(
        &self,
        req: crate::api::types::CreateRequest,
        client_id: Option<&str>,
    ) -> Result<String, usize> {
        let mut s = self.lock();
        let now = s.sim_now();
        let cfg = s.cfg.clone();
        s.tasks.advance(now, &cfg);
        let count = |s: &Inner, st: state::SimStatus| {
            s.tasks.by_id.values().filter(|t| t.status == st).count()
        };
        if let Some(cap) = cfg.max_queued
            && count(&s, state::SimStatus::Queued) >= cap
        {
            s.stats.queue_capped += 1;
            return Err(cap);
        }
        let id = s.tasks.create(req, now, &cfg);
        let in_flight = count(&s, state::SimStatus::Queued) + count(&s, state::SimStatus::Running);
        s.stats.peak_in_flight = s.stats.peak_in_flight.max(in_flight as u64);
        if let Some(c) = client_id
            && !s.client_ids.insert(c.to_string())
        {
            s.stats.repeated_client_ids += 1;
        }
        if cfg.echo_client_request_id
            && let Some(t) = s.tasks.by_id.get_mut(&id)
        {
            t.client_request_id = client_id.map(str::to_string);
        }
        Ok(id)
    }

    fn task(&self, id: &str) -> Option<state::SimTask> {
        let mut s = self.lock();
        let now = s.sim_now();
        let cfg = s.cfg.clone();
        s.tasks.advance(now, &cfg);
        s.tasks.by_id.get(id).cloned()
    }

    fn all_tasks(&self) -> Vec<state::SimTask> {
        let mut s = self.lock();
        let now = s.sim_now();
        let cfg = s.cfg.clone();
        s.tasks.advance(now, &cfg);
        s.tasks.by_id.values().cloned().collect()
    }

    fn delete(&self, id: &str) -> Result<bool, state::SimStatus> {
        let mut s = self.lock();
        let now = s.sim_now();
        let cfg = s.cfg.clone();
        s.tasks.delete(id, now, &cfg)
    }

    fn set_max_queued(&self, cap: Option<usize>) {
        self.lock().cfg.max_queued = cap;
    }

    /// Task `id`'s references were fetched (`Ok`) or one could not be (`Err(message)`).
    fn references_fetched(&self, id: &str, outcome: Result<(), String>) {
        let mut s = self.lock();
        let now = s.sim_now();
        let cfg = s.cfg.clone();
        s.tasks.references_fetched(id, now, &cfg, outcome);
    }

    fn set_fail_rate(&self, p: f64) {
        self.lock().cfg.fail_rate = p.clamp(0.0, 1.0);
    }

    fn advance(&self, d: Duration) {
        self.lock().offset += d.as_secs_f64();
    }
}

/// A running simulator.
pub struct SimHandle {
    pub addr: SocketAddr,
    shared: Shared,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    /// Posts status changes to callback URLs.
    callbacks: tokio::task::JoinHandle<()>,
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.callbacks.abort();
    }
}

impl SimHandle {
    /// `http://ADDR/api/v3` (the official path).
    pub fn base_url(&self) -> String {
        format!("http://{}/api/v3", self.addr)
    }

    /// `http://ADDR/seedance/api/v3` (the relay path).
    pub fn relay_base_url(&self) -> String {
        format!("http://{}/seedance/api/v3", self.addr)
    }

    /// Requests received so far, by route.
    pub fn stats(&self) -> SimStats {
        self.shared.lock().stats.clone()
    }

    /// Arm a fault for the next matching requests.
    pub fn inject(&self, fault: Fault) {
        self.shared.lock().faults.push(fault);
    }

    /// Move every clock forward by `d`: tasks progress, URLs and tasks expire.
    pub fn advance(&self, d: Duration) {
        self.shared.advance(d);
    }

    /// Stop serving and wait for the server to finish.
    pub async fn shutdown(mut self) {
        self.callbacks.abort();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }
}

fn router(shared: Shared) -> axum::Router {
    use axum::routing::{get, post};
    let tasks = "/contents/generations/tasks";
    let task = "/contents/generations/tasks/{id}";
    let official = axum::Router::new()
        .route(tasks, post(routes::create).get(routes::list))
        .route(task, get(routes::get_task).delete(routes::delete_task));
    let relay = axum::Router::new()
        .route(tasks, post(routes::relay_create).get(routes::relay_list))
        .route(task, get(routes::get_task).delete(routes::delete_task));
    axum::Router::new()
        .nest("/api/v3", official)
        .nest("/seedance/api/v3", relay)
        .route("/sim-files/{id}/{name}", get(result_files::file))
        .route("/_sim/stats", get(control::stats))
        .route("/_sim/faults", post(control::add_fault))
        .route("/_sim/config", post(control::set_config))
        .route("/_sim/advance", post(control::advance))
        .layer(axum::extract::DefaultBodyLimit::max(80 * 1024 * 1024))
        .with_state(shared)
}

/// Start the simulator on `addr` (use port 0 for a free port) on the current tokio runtime.
pub async fn start(addr: SocketAddr, cfg: SimConfig) -> std::io::Result<SimHandle> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let base_unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
        + cfg.clock_offset_secs as f64;
    let shared = Shared(Arc::new(Mutex::new(Inner {
        tasks: state::Tasks::new(cfg.seed),
        secret: cfg.seed.wrapping_mul(0x2545_f491_4f6c_dd1d) ^ 0x5eed,
        cfg,
        faults: Vec::new(),
        stats: SimStats::default(),
        addr,
        started: Instant::now(),
        base_unix,
        offset: 0.0,
        recent: VecDeque::new(),
        client_ids: std::collections::HashSet::new(),
    })));
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let app = router(shared.clone());
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stop_rx.await;
            })
            .await;
    });
    let callbacks = tokio::spawn(callbacks::run(shared.clone()));
    Ok(SimHandle {
        addr,
        shared,
        stop: Some(stop_tx),
        server: Some(server),
        callbacks,
    })
}

/// Run the simulator alone until Ctrl-C, printing its base URLs.
pub(crate) async fn run_standalone(addr: SocketAddr, cfg: SimConfig) -> std::io::Result<()> {
    let key_note = if cfg.api_key.is_some() {
        "the key given with --api-key"
    } else {
        "any key"
    };
    let handle = start(addr, cfg).await?;
    println!("seedance-tui simulator listening on {}", handle.addr);
    println!("  official base URL: {}", handle.base_url());
    println!("  relay base URL:    {}", handle.relay_base_url());
    println!("  auth: Bearer {key_note}; Ctrl-C stops it");
    println!(
        "  try: curl -s {}/contents/generations/tasks -H 'Authorization: Bearer k' -H 'Content-Type: application/json' \\
         --data-raw '{{\"model\":\"doubao-seedance-2-0-fast-260128\",\"content\":[{{\"type\":\"text\",\"text\":\"apple tea\"}}]}}'",
        handle.relay_base_url()
    );
    let _ = tokio::signal::ctrl_c().await;
    handle.shutdown().await;
    Ok(())
}
