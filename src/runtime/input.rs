//! Terminal input on a thread of its own. The thread sleeps in `poll(2)` on the terminal and a
//! wake-up pipe, lets crossterm read and parse what arrived, and forwards each event over a
//! channel, so the event loop only polls a channel: crossterm's `EventStream` polled crossterm's
//! reader again on every loop iteration (each poll answer wakes the loop), contending for the
//! reader's lock with its own thread.
//!
//! Around a suspend (Ctrl-Z) the thread is paused and stops touching the terminal, so it never
//! takes keys meant for the shell; quitting stops it without waiting on a blocked read. Resizes
//! come from SIGWINCH in the event loop: this thread sleeps only on the terminal and its pipe.

use crossterm::event::{self, Event};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// What the input thread reports.
#[derive(Debug)]
pub enum Input {
    Event(Event),
    /// The terminal is gone (hung up, closed, or unreadable): the dashboard ends.
    Gone,
}

/// The longest `pause` (and dropping) waits for the thread to leave the terminal alone; it
/// wakes at once unless crossterm is inside a read, which returns as soon as bytes arrive.
const SETTLE: Duration = Duration::from_millis(500);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Read,
    Pause,
    Stop,
}

struct Gate {
    mode: Mode,
    /// The thread may be reading the terminal (false once it is parked or gone).
    reading: bool,
}

struct Shared {
    gate: Mutex<Gate>,
    changed: Condvar,
}

/// The input thread's handle: pause, resume, and stop on drop.
pub struct InputThread {
    shared: Arc<Shared>,
    wake: File,
}

impl InputThread {
    /// Start reading the terminal (stdin when it is one, else `/dev/tty`, as crossterm does).
    pub fn spawn() -> io::Result<(InputThread, mpsc::UnboundedReceiver<Input>)> {
        let tty = TtyFd::open()?;
        let (wake_rx, wake) = pipe()?;
        let shared = Arc::new(Shared {
            gate: Mutex::new(Gate {
                mode: Mode::Read,
                reading: true,
            }),
            changed: Condvar::new(),
        });
        let (tx, rx) = mpsc::unbounded_channel();
        let thread_shared = shared.clone();
        std::thread::Builder::new()
            .name("input".into())
            .spawn(move || {
                read_loop(&tty, wake_rx, &thread_shared, &tx);
                if let Ok(mut g) = thread_shared.gate.lock() {
                    g.reading = false;
                }
                thread_shared.changed.notify_all();
            })?;
        Ok((InputThread { shared, wake }, rx))
    }

    /// Stop reading the terminal until [`resume`](Self::resume); returns once the thread has let
    /// go of it (or after a bounded wait).
    pub fn pause(&self) {
        self.set(Mode::Pause);
        self.settle();
    }

    /// Read the terminal again.
    pub fn resume(&self) {
        self.set(Mode::Read);
    }

    fn set(&self, mode: Mode) {
        if let Ok(mut g) = self.shared.gate.lock() {
            if g.mode == Mode::Stop {
                return;
            }
            g.mode = mode;
        }
        self.shared.changed.notify_all();
        // Wake a thread sleeping in poll(2); a full pipe already has a wake-up in it.
        let _ = (&self.wake).write(&[1]);
    }

    /// Wait (bounded) until the thread is not reading.
    fn settle(&self) {
        let deadline = Instant::now() + SETTLE;
        let Ok(mut g) = self.shared.gate.lock() else {
            return;
        };
        while g.reading {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            match self.shared.changed.wait_timeout(g, left) {
                Ok((next, _)) => g = next,
                Err(_) => return,
            }
        }
    }
}

impl Drop for InputThread {
    fn drop(&mut self) {
        // Not joined: a thread stuck in a read must not hold up quitting.
        self.set(Mode::Stop);
        self.settle();
    }
}

/// The thread: wait for the terminal or a wake-up, hand what arrived to crossterm, forward the
/// events; park while paused.
fn read_loop(tty: &TtyFd, wake_rx: File, shared: &Shared, tx: &mpsc::UnboundedSender<Input>) {
    loop {
        {
            let Ok(mut g) = shared.gate.lock() else {
                return;
            };
            loop {
                match g.mode {
                    Mode::Read => break,
                    Mode::Stop => return,
                    Mode::Pause => {
                        g.reading = false;
                        shared.changed.notify_all();
                        g = match shared.changed.wait(g) {
                            Ok(g) => g,
                            Err(_) => return,
                        };
                    }
                }
            }
            g.reading = true;
        }
        // Events crossterm already parsed (several can come from one read) go out first.
        if !forward_ready(tx) {
            return;
        }
        let mut fds = [
            libc::pollfd {
                fd: tty.raw(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: wake_rx.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: `fds` is a valid array of two pollfd structs for the duration of the call.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, -1) };
        if n < 0 {
            if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                continue;
            }
            let _ = tx.send(Input::Gone);
            return;
        }
        if fds[1].revents != 0 {
            let mut buf = [0u8; 64];
            let _ = (&wake_rx).read(&mut buf);
            continue; // the mode changed: look at it before touching the terminal
        }
        let tty_events = fds[0].revents;
        if tty_events & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0 {
            // Hung up (e.g. the SSH link dropped): crossterm would spin on the failing read.
            let _ = tx.send(Input::Gone);
            return;
        }
        if tty_events & libc::POLLIN != 0 && !forward_ready(tx) {
            return;
        }
        if tx.is_closed() {
            return;
        }
    }
}

/// Forward every event crossterm can give without waiting (it reads what the terminal has);
/// false when the dashboard is gone or the terminal failed.
fn forward_ready(tx: &mpsc::UnboundedSender<Input>) -> bool {
    loop {
        match event::poll(Duration::ZERO) {
            Ok(false) => return true,
            Ok(true) => match event::read() {
                // Resizes come from SIGWINCH in the loop (this thread does not wake for them).
                Ok(Event::Resize(..)) => {}
                Ok(ev) => {
                    if tx.send(Input::Event(ev)).is_err() {
                        return false;
                    }
                }
                Err(_) => {
                    let _ = tx.send(Input::Gone);
                    return false;
                }
            },
            Err(_) => {
                let _ = tx.send(Input::Gone);
                return false;
            }
        }
    }
}

/// The terminal crossterm reads: stdin when it is a terminal, else `/dev/tty` (kept open here).
enum TtyFd {
    Stdin,
    DevTty(File),
}

impl TtyFd {
    fn open() -> io::Result<TtyFd> {
        // SAFETY: isatty only inspects the descriptor.
        if unsafe { libc::isatty(libc::STDIN_FILENO) } == 1 {
            Ok(TtyFd::Stdin)
        } else {
            Ok(TtyFd::DevTty(File::open("/dev/tty")?))
        }
    }

    fn raw(&self) -> RawFd {
        match self {
            TtyFd::Stdin => libc::STDIN_FILENO,
            TtyFd::DevTty(f) => f.as_raw_fd(),
        }
    }
}

/// A close-on-exec, non-blocking pipe: (read end, write end).
fn pipe() -> io::Result<(File, File)> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: pipe2 writes two descriptors into the array we own.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just created and are owned by nothing else.
    let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    Ok((File::from(r), File::from(w)))
}
