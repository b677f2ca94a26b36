//! Running the real binary: one command to completion, or several copies on one store, each a
//! child whose stdout and stderr lines can be awaited with a deadline; plain HTTP to the
//! simulator's control endpoints; a config with fast poll and lease timings.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The binary with the user's config, keys and data kept out (config and data under `dir`).
pub fn bin(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_seedance-tui"));
    c.env_remove("SEEDANCE_API_KEY")
        .env_remove("ARK_API_KEY")
        .env_remove("SEEDANCE_STORE")
        .env("XDG_CONFIG_HOME", dir.join("xdg-config"))
        .env("XDG_DATA_HOME", dir.join("xdg-data"));
    c
}

/// [`bin`] on `store`, against the API at `base`, with `key` as the API key: the shape of most
/// headless runs (the test adds the command and its flags).
pub fn bin_on(dir: &Path, store: &Path, base: &str, key: &str) -> Command {
    let mut c = bin(dir);
    c.arg("--store")
        .arg(store)
        .args(["--base-url", base])
        .env("SEEDANCE_API_KEY", key);
    c
}

/// Run a command: exit code, stdout, stderr.
pub fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().expect("the binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A headless command on `store` with `config`, against `base`, with `key` as the API key: the
/// environment kept out as [`bin`] does, its folders beside the config.
pub fn cli_with(
    args: &[&str],
    store: &str,
    config: &str,
    base: &str,
    key: &str,
) -> std::process::Output {
    let dir = Path::new(config)
        .parent()
        .expect("the config is in a folder");
    bin_on(dir, Path::new(store), base, key)
        .args(args)
        .args(["--config", config])
        .output()
        .expect("cli runs")
}

/// A config with 1 s polls and a `lease_secs` lease, written into `dir`.
pub fn fast_config(dir: &Path, lease_secs: f64) -> PathBuf {
    let path = dir.join("config.toml");
    let text = format!(
        "[poll]\ninterval_secs = 1\nrequests_per_second = 50\nlease_secs = {lease_secs}\n\
         [download]\nauto = false\n"
    );
    std::fs::write(&path, text).expect("write config");
    path
}

/// A line of output, from stdout or stderr.
#[derive(Debug, Clone)]
pub struct Line {
    pub err: bool,
    pub text: String,
}

/// A running binary whose output lines are collected; killed (SIGKILL) on drop.
pub struct Proc {
    pub child: Child,
    rx: Receiver<Line>,
    /// Every line so far.
    pub lines: Arc<Mutex<Vec<Line>>>,
}

impl Proc {
    pub fn spawn(mut cmd: Command) -> Proc {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let (tx, rx) = channel();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let out: Box<dyn Read + Send> = Box::new(child.stdout.take().expect("stdout"));
        let err: Box<dyn Read + Send> = Box::new(child.stderr.take().expect("stderr"));
        for (stream, is_err) in [(out, false), (err, true)] {
            let (tx, lines) = (tx.clone(), lines.clone());
            std::thread::spawn(move || {
                for text in BufReader::new(stream).lines().map_while(Result::ok) {
                    let line = Line { err: is_err, text };
                    lines.lock().expect("lines").push(line.clone());
                    let _ = tx.send(line);
                }
            });
        }
        Proc { child, rx, lines }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Wait until a line matching `pred` arrives (lines already consumed by earlier waits are not
    /// seen again). Panics with everything printed so far after `timeout`.
    pub fn wait_line(&self, what: &str, timeout: Duration, pred: impl Fn(&Line) -> bool) -> Line {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(l) if pred(&l) => return l,
                Ok(_) => {}
                Err(_) => panic!(
                    "timed out after {timeout:?} waiting for {what}; output:\n{}",
                    self.dump()
                ),
            }
        }
    }

    pub fn dump(&self) -> String {
        self.lines
            .lock()
            .expect("lines")
            .iter()
            .map(|l| format!("{} {}", if l.err { "E" } else { "O" }, l.text))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// SIGKILL it and reap it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `GET` a plain-HTTP URL on loopback and return the body (no client crate needed).
pub fn http_get(url: &str) -> String {
    let rest = url.strip_prefix("http://").expect("http URL");
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut s = std::net::TcpStream::connect(host).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).ok();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut text = String::new();
    s.read_to_string(&mut text).expect("read");
    text.split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default()
}

/// `POST` a JSON body to a plain-HTTP URL on loopback; returns the status line.
pub fn http_post(url: &str, body: &str) -> String {
    let rest = url.strip_prefix("http://").expect("http URL");
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut s = std::net::TcpStream::connect(host).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).ok();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("send");
    let mut text = String::new();
    s.read_to_string(&mut text).expect("read");
    text.lines().next().unwrap_or_default().to_string()
}

/// Arm a simulator fault (see `sim` module docs for the JSON).
pub fn arm_fault(sim: &super::sim::SimProcess, fault: &str) {
    let status = http_post(&sim.control("faults"), fault);
    assert!(status.contains("200"), "arming {fault}: {status}");
}

/// Run to exit within `timeout` (killed and reported after it): exit code, stdout, stderr, each
/// read to its end.
pub fn finish(cmd: Command, timeout: Duration) -> (i32, String, String) {
    Started::spawn(cmd).finish(Instant::now() + timeout)
}

/// Start every command before waiting for any (several processes racing on one store), then
/// each one's exit code, stdout and stderr, all within `timeout`.
pub fn finish_all(cmds: Vec<Command>, timeout: Duration) -> Vec<(i32, String, String)> {
    let deadline = Instant::now() + timeout;
    let started: Vec<Started> = cmds.into_iter().map(Started::spawn).collect();
    started.into_iter().map(|s| s.finish(deadline)).collect()
}

/// A started binary whose stdout and stderr are read to their end on threads.
pub struct Started {
    child: Child,
    out: std::thread::JoinHandle<String>,
    err: std::thread::JoinHandle<String>,
}

impl Started {
    pub fn spawn(mut cmd: Command) -> Started {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let reader = |mut r: Box<dyn Read + Send>| {
            std::thread::spawn(move || {
                let mut text = String::new();
                let _ = r.read_to_string(&mut text);
                text
            })
        };
        let out = reader(Box::new(child.stdout.take().expect("stdout")));
        let err = reader(Box::new(child.stderr.take().expect("stderr")));
        Started { child, out, err }
    }

    /// Wait for the exit until `deadline` (killed and reported after it).
    pub fn finish(mut self, deadline: Instant) -> (i32, String, String) {
        let code = loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                break status.code().unwrap_or(-1);
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                let err = self.err.join().unwrap_or_default();
                panic!("still running at the deadline; stderr:\n{err}");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        (
            code,
            self.out.join().unwrap_or_default(),
            self.err.join().unwrap_or_default(),
        )
    }
}
