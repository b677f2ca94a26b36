//! The simulator as a separate process (`seedance-tui sim`), for tests that drive the binary.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `seedance-tui sim`; killed on drop.
pub struct SimProcess {
    child: Child,
    /// The official base URL (`http://127.0.0.1:PORT/api/v3`).
    pub base: String,
}

impl SimProcess {
    /// Start it on a free port with extra `args` (e.g. `--fail-rate 1`).
    pub fn start(args: &[&str]) -> SimProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_seedance-tui"))
            .args(["sim", "--addr", "127.0.0.1:0"])
            .args(args)
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
                Some(Ok(line)) if line.contains("official base URL:") => {
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
            base: base.expect("the simulator prints its official base URL"),
        }
    }

    /// `sim --replay TRACE` on a free port; `base` is the trace's own base URL.
    pub fn replay(trace: &std::path::Path) -> SimProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_seedance-tui"))
            .args(["sim", "--addr", "127.0.0.1:0", "--replay"])
            .arg(trace)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("sim --replay starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut base = None;
        while base.is_none() && Instant::now() < deadline {
            match lines.next() {
                Some(Ok(line)) if line.trim_start().starts_with("base URL:") => {
                    base = line.split_whitespace().last().map(str::to_string);
                }
                Some(Ok(_)) => {}
                _ => break,
            }
        }
        std::thread::spawn(move || for _ in lines.by_ref() {});
        SimProcess {
            child,
            base: base.expect("the replay prints its base URL"),
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
