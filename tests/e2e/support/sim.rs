//! The simulator as a separate process (`seedance-tui sim`), for tests that drive the binary.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `seedance-tui sim`; killed on drop.
pub struct SimProcess {
    child: Child,
    /// The official base URL (`http://127.0.0.1:PORT/api/v3`).
    pub base: String,
}

/// What a test needs of its simulator, said by name (`SimProcess::builder().speed(2000.0)
/// .start()`); an option not set keeps the simulator's own default, except the fail rate: tasks
/// fail at random only when a test asks (`fail_rate`).
#[derive(Debug, Clone)]
#[must_use = "a builder starts nothing until `start`"]
pub struct SimBuilder {
    args: Vec<String>,
    fail_rate: f64,
    replay: Option<PathBuf>,
}

impl SimBuilder {
    fn arg(mut self, flag: &str, value: impl ToString) -> SimBuilder {
        self.args.push(flag.to_string());
        self.args.push(value.to_string());
        self
    }

    /// Time compression (1.0: real-world timings).
    pub fn speed(self, speed: f64) -> SimBuilder {
        self.arg("--speed", speed)
    }

    /// The probability that a task fails (default 0).
    pub fn fail_rate(mut self, p: f64) -> SimBuilder {
        self.fail_rate = p;
        self
    }

    /// How many tasks may run at once.
    pub fn max_running(self, n: usize) -> SimBuilder {
        self.arg("--max-running", n)
    }

    /// The account's cap on queued tasks (creates beyond it get 429).
    pub fn max_queued(self, n: usize) -> SimBuilder {
        self.arg("--max-queued", n)
    }

    /// Serve videos of this many bytes.
    pub fn video_size(self, bytes: u64) -> SimBuilder {
        self.arg("--video-size", bytes)
    }

    /// Require this Bearer key.
    pub fn api_key(self, key: &str) -> SimBuilder {
        self.arg("--api-key", key)
    }

    /// Answer from a trace (`sim --replay TRACE`); `base` is then the trace's own base URL.
    pub fn replay(mut self, trace: &Path) -> SimBuilder {
        self.replay = Some(trace.to_path_buf());
        self
    }

    /// Start it on a free port; returns once it has printed its base URL.
    pub fn start(self) -> SimProcess {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_seedance-tui"));
        cmd.args(["sim", "--addr", "127.0.0.1:0"]);
        let banner = match &self.replay {
            Some(trace) => {
                cmd.arg("--replay").arg(trace);
                "base URL:"
            }
            None => {
                cmd.args(&self.args)
                    .args(["--fail-rate", &self.fail_rate.to_string()]);
                "official base URL:"
            }
        };
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("sim starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut base = None;
        while base.is_none() && Instant::now() < deadline {
            match lines.next() {
                Some(Ok(line)) if line.trim_start().starts_with(banner) => {
                    base = line.split_whitespace().last().map(str::to_string);
                }
                Some(Ok(_)) => {}
                _ => break,
            }
        }
        // Keep draining stdout so the child never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines.by_ref() {});
        SimProcess {
            child,
            base: base.expect("the simulator prints its base URL"),
        }
    }
}

impl SimProcess {
    /// A simulator to start: see [`SimBuilder`].
    pub fn builder() -> SimBuilder {
        SimBuilder {
            args: Vec::new(),
            fail_rate: 0.0,
            replay: None,
        }
    }

    /// The requests a replay served, as `METHOD path`.
    pub fn served(&self) -> Vec<String> {
        let host = self
            .base
            .trim_start_matches("http://")
            .split('/')
            .next()
            .unwrap_or_default();
        let url = format!("http://{host}/_sim/served");
        let text = super::process::http_get(&url);
        serde_json::from_str(&text).expect("served JSON")
    }

    /// The relay-prefixed base URL.
    pub fn relay_base(&self) -> String {
        self.base.replace("/api/v3", "/seedance/api/v3")
    }

    /// A control endpoint URL, e.g. `control("config")`.
    pub fn control(&self, what: &str) -> String {
        self.base.replace("/api/v3", &format!("/_sim/{what}"))
    }
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl SimProcess {
    /// One of the simulator's request counters (`creates`, `gets`, `downloads`, ...), read
    /// from its control endpoint.
    pub fn stat(&self, field: &str) -> u64 {
        let text = super::process::http_get(&self.control("stats"));
        let v: serde_json::Value = serde_json::from_str(&text).expect("stats JSON");
        v[field].as_u64().expect("a count")
    }
}
