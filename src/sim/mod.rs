//! An Ark-compatible HTTP simulator (axum) for the demo and the tests: the same routes under
//! `/api/v3` and the relay prefix `/seedance/api/v3`, server-side validation, realistic task
//! life cycles, rate limits, signed result URLs that expire, and fault injection.

use std::net::SocketAddr;
use std::time::Duration;

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
        }
    }
}

/// Which requests a fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
#[derive(Debug, Clone, PartialEq)]
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
    /// For downloads: send this many bytes of the body, then drop the connection.
    CutAfter(u64),
}

/// A fault armed for the next `times` matching requests.
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    pub route: FaultRoute,
    pub kind: FaultKind,
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
}

/// A running simulator. Dropping the handle does not stop it; call [`SimHandle::shutdown`].
pub struct SimHandle {
    pub addr: SocketAddr,
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

    pub fn stats(&self) -> SimStats {
        todo!()
    }

    pub fn inject(&self, fault: Fault) {
        let _ = fault;
        todo!()
    }

    pub fn set_fail_rate(&self, p: f64) {
        let _ = p;
        todo!()
    }

    pub async fn shutdown(self) {
        todo!()
    }
}

/// Start the simulator on `addr` (use port 0 for a free port) on the current tokio runtime.
pub async fn start(addr: SocketAddr, cfg: SimConfig) -> std::io::Result<SimHandle> {
    let _ = cfg;
    let _ = addr;
    todo!()
}

/// Run the simulator alone until Ctrl-C, printing its base URLs.
pub async fn run_standalone(addr: SocketAddr, cfg: SimConfig) -> std::io::Result<()> {
    let _ = (addr, cfg);
    todo!()
}
