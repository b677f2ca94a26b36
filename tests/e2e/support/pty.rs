//! Drives the real binary in a pseudo-terminal: keys in, screen text out (a vt100 parser keeps
//! the screen, whole frames at a time), with bounded waits on what the screen shows — never
//! fixed sleeps.

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};
use std::io::{Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Begin and end of a synchronized update (DEC private mode 2026): the program's frame.
const BEGIN_FRAME: &[u8] = b"\x1b[?2026h";
const END_FRAME: &[u8] = b"\x1b[?2026l";

/// Holds the bytes of a frame the program brackets as one synchronized update until its end, as
/// a terminal supporting the mode does: a frame arrives in many reads, and the screen is never
/// read half-drawn. Bytes outside a frame pass at once.
#[derive(Default)]
struct Frames {
    held: Vec<u8>,
    in_frame: bool,
}

impl Frames {
    /// Bytes read from the program; returns those the screen may show now.
    fn feed(&mut self, bytes: &[u8]) -> Vec<u8> {
        self.held.extend_from_slice(bytes);
        let mut ready = Vec::new();
        loop {
            let marker = if self.in_frame {
                END_FRAME
            } else {
                BEGIN_FRAME
            };
            if let Some(i) = self.held.windows(marker.len()).position(|w| w == marker) {
                ready.extend(self.held.drain(..i + marker.len()));
                self.in_frame = !self.in_frame;
                continue;
            }
            if !self.in_frame {
                // All but a tail that may be the start of a frame's marker.
                let keep = (1..BEGIN_FRAME.len())
                    .rev()
                    .find(|&k| self.held.ends_with(&BEGIN_FRAME[..k]))
                    .unwrap_or(0);
                ready.extend(self.held.drain(..self.held.len() - keep));
            }
            return ready;
        }
    }
}

/// A running program in a PTY.
pub struct Pty {
    child: Box<dyn Child + Send + Sync>,
    writer: Arc<Mutex<Box<dyn Write + Send>>>,
    parser: Arc<Mutex<vt100::Parser>>,
    /// Every byte the program wrote, for assertions on escape sequences.
    raw: Arc<Mutex<Vec<u8>>>,
    master: Box<dyn MasterPty + Send>,
}

impl Pty {
    /// Start `args` of the seedance-tui binary in a `cols`x`rows` terminal.
    pub fn spawn(args: &[&str], cols: u16, rows: u16, env: &[(&str, &str)], cwd: &Path) -> Pty {
        let pty = native_pty_system();
        let pair = pty
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("open a pty");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_seedance-tui"));
        cmd.args(args);
        cmd.cwd(cwd);
        cmd.env("TERM", "xterm-256color");
        cmd.env_remove("SEEDANCE_API_KEY");
        cmd.env_remove("ARK_API_KEY");
        cmd.env_remove("SEEDANCE_STORE");
        cmd.env_remove("NO_COLOR");
        // Copies take the plain-terminal route unless a test puts the program inside tmux.
        for var in [
            "TMUX",
            "STY",
            "TERM_PROGRAM",
            "KITTY_WINDOW_ID",
            "WEZTERM_PANE",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("XDG_CONFIG_HOME", cwd.join("config"));
        cmd.env("XDG_DATA_HOME", cwd.join("data"));
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = pair.slave.spawn_command(cmd).expect("spawn the binary");
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().expect("pty reader");
        let writer: Arc<Mutex<Box<dyn Write + Send>>> =
            Arc::new(Mutex::new(pair.master.take_writer().expect("pty writer")));
        let parser = Arc::new(Mutex::new(vt100::Parser::new(rows, cols, 0)));
        let raw = Arc::new(Mutex::new(Vec::new()));
        let (p, r, w) = (parser.clone(), raw.clone(), writer.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            let mut frames = Frames::default();
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let mut cursor = (0, 0);
                        let ready = frames.feed(&buf[..n]);
                        if let Ok(mut parser) = p.lock() {
                            parser.process(&ready);
                            cursor = parser.screen().cursor_position();
                        }
                        // Answer cursor-position queries the way a real terminal does.
                        if buf[..n].windows(4).any(|x| x == b"\x1b[6n")
                            && let Ok(mut w) = w.lock()
                        {
                            let reply = format!("\x1b[{};{}R", cursor.0 + 1, cursor.1 + 1);
                            let _ = w.write_all(reply.as_bytes());
                            let _ = w.flush();
                        }
                        if let Ok(mut raw) = r.lock() {
                            raw.extend_from_slice(&buf[..n]);
                        }
                    }
                }
            }
        });
        Pty {
            child,
            writer,
            parser,
            raw,
            master: pair.master,
        }
    }

    /// The screen as text, one line per row.
    pub fn screen(&self) -> String {
        self.parser
            .lock()
            .map(|p| p.screen().contents())
            .unwrap_or_default()
    }

    /// Which cells hold picture (a 24-bit colour, as halfblock images are drawn; the themes use
    /// the terminal's palette), row by row.
    pub fn picture_cells(&self) -> Vec<Vec<bool>> {
        let Ok(p) = self.parser.lock() else {
            return Vec::new();
        };
        let screen = p.screen();
        let (rows, cols) = screen.size();
        (0..rows)
            .map(|r| {
                (0..cols)
                    .map(|c| {
                        screen.cell(r, c).is_some_and(|cell| {
                            matches!(cell.bgcolor(), vt100::Color::Rgb(..))
                                || matches!(cell.fgcolor(), vt100::Color::Rgb(..))
                        })
                    })
                    .collect()
            })
            .collect()
    }

    /// Whether the program is in the alternate screen.
    pub fn alternate_screen(&self) -> bool {
        self.parser
            .lock()
            .map(|p| p.screen().alternate_screen())
            .unwrap_or(false)
    }

    /// All bytes written so far.
    pub fn raw(&self) -> Vec<u8> {
        self.raw.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// Type bytes (keys) into the terminal.
    pub fn send(&mut self, bytes: &[u8]) {
        let mut w = self.writer.lock().expect("writer lock");
        w.write_all(bytes).expect("write to pty");
        w.flush().expect("flush pty");
    }

    /// Resize the terminal (the program gets SIGWINCH), and the screen kept here with it.
    pub fn resize(&self, cols: u16, rows: u16) {
        if let Ok(mut p) = self.parser.lock() {
            p.screen_mut().set_size(rows, cols);
        }
        self.master
            .resize(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("resize the pty");
    }

    /// Wait until `pred(screen)` holds, up to `timeout`; panics with the screen if it never does.
    pub fn wait_for(&self, what: &str, timeout: Duration, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            if Instant::now() > deadline {
                panic!("timed out waiting for {what}; screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Wait until the screen contains `text`.
    pub fn wait_text(&self, text: &str, timeout: Duration) -> String {
        self.wait_for(&format!("{text:?}"), timeout, |s| s.contains(text))
    }

    /// Wait for the process to exit; returns its exit code.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<u32> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status.exit_code());
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The child's process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.process_id()
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}
