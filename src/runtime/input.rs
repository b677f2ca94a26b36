//! Terminal input on a thread of its own. The thread waits in crossterm's `poll` (on the
//! terminal and SIGWINCH) in short slices and forwards each event over a channel, so the event
//! loop only polls a channel: crossterm's `EventStream` polled crossterm's reader again on every
//! loop iteration (each poll answer wakes the loop), contending for the reader's lock with its
//! own thread.
//!
//! Around a suspend (Ctrl-Z) the thread is paused and stops touching the terminal, so it never
//! takes keys meant for the shell; between slices it looks whether it should pause or stop, so a
//! suspend or a quit waits at most one slice for it and never on a blocked read.

use crossterm::event::{self, Event};
use std::io;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// What reaches the dashboard from outside the program: the input thread's terminal events and
/// the signals (see [`signals`]), on one channel the event loop reads before anything else.
#[derive(Debug)]
pub enum Input {
    Event(Event),
    /// The terminal is gone (hung up, closed, or unreadable): the dashboard ends.
    Gone,
    /// SIGTERM, SIGHUP or SIGINT (in raw mode Ctrl-C is a key; a SIGINT comes from outside,
    /// `kill -INT`): the dashboard ends through the same restore path.
    Stop,
    /// SIGTSTP: stop the process (as Ctrl-Z does).
    Suspend,
}

/// Forward the signals that end or stop the dashboard into its input channel.
pub(crate) fn signals(tx: mpsc::UnboundedSender<Input>) -> io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sighup = signal(SignalKind::hangup())?;
    let mut sigint = signal(SignalKind::interrupt())?;
    let mut sigtstp = signal(SignalKind::from_raw(libc::SIGTSTP))?;
    tokio::spawn(async move {
        loop {
            let input = tokio::select! {
                _ = sigterm.recv() => Input::Stop,
                _ = sighup.recv() => Input::Stop,
                _ = sigint.recv() => Input::Stop,
                _ = sigtstp.recv() => Input::Suspend,
            };
            if tx.send(input).is_err() {
                return;
            }
        }
    });
    Ok(())
}

/// How long the thread waits for input before it looks at its mode again: the longest a
/// suspend or a quit waits for it (a wake-up costs a few microseconds).
const SLICE: Duration = Duration::from_millis(50);

/// The longest `pause` (and dropping) waits for the thread to let go of the terminal.
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
pub(crate) struct InputThread {
    shared: Arc<Shared>,
}

impl InputThread {
    /// Start reading the terminal; its events go to `tx`.
    pub(crate) fn spawn(tx: mpsc::UnboundedSender<Input>) -> io::Result<InputThread> {
        let shared = Arc::new(Shared {
            gate: Mutex::new(Gate {
                mode: Mode::Read,
                reading: true,
            }),
            changed: Condvar::new(),
        });
        let thread_shared = shared.clone();
        std::thread::Builder::new()
            .name("input".into())
            .spawn(move || {
                read_loop(&thread_shared, &tx);
                if let Ok(mut g) = thread_shared.gate.lock() {
                    g.reading = false;
                }
                thread_shared.changed.notify_all();
            })?;
        Ok(InputThread { shared })
    }

    /// Stop reading the terminal until [`resume`](Self::resume); returns once the thread has let
    /// go of it (or after a bounded wait).
    pub(crate) fn pause(&self) {
        self.set(Mode::Pause);
        self.settle();
    }

    /// Read the terminal again.
    pub(crate) fn resume(&self) {
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
        // Wait (bounded) until it has left the terminal, before raw mode ends: keys typed for the
        // shell after quitting are the shell's. Not joined: nothing may hold up quitting.
        self.set(Mode::Stop);
        self.settle();
    }
}

/// The thread: wait for input a slice at a time, forward the events; park while paused.
fn read_loop(shared: &Shared, tx: &mpsc::UnboundedSender<Input>) {
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
        let ready = match event::poll(SLICE) {
            Ok(ready) => ready,
            Err(_) => {
                let _ = tx.send(Input::Gone);
                return;
            }
        };
        if ready {
            match event::read() {
                Ok(ev) => {
                    if tx.send(Input::Event(ev)).is_err() {
                        return;
                    }
                }
                // The terminal is gone or unreadable.
                Err(_) => {
                    let _ = tx.send(Input::Gone);
                    return;
                }
            }
        } else if tx.is_closed() {
            return;
        }
    }
}
