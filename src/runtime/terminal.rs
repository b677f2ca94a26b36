//! Terminal hygiene: raw mode and the alternate screen on the way in, and always restored on the
//! way out — on quit, on error, on panic, on SIGTERM/SIGHUP/SIGINT, and around a Ctrl-Z suspend.

use crossterm::{
    cursor,
    event::{DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture},
    execute,
    terminal::{self, EnterAlternateScreen, LeaveAlternateScreen},
};
use ratatui::Terminal;
use ratatui::backend::{Backend, ClearType, CrosstermBackend, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Size};
use std::io::{self, BufWriter, Stdout, Write};
use std::sync::atomic::{AtomicBool, Ordering};

pub(crate) type Term = Terminal<FrameBackend>;

/// Room for a full frame of a large terminal with colours.
const FRAME_BUFFER: usize = 256 * 1024;

/// Whether the terminal is currently in dashboard mode (so restore is idempotent).
static ACTIVE: AtomicBool = AtomicBool::new(false);
static MOUSE: AtomicBool = AtomicBool::new(false);

/// Enter raw mode and the alternate screen; install the panic hook that restores the terminal.
pub(crate) fn enter(mouse: bool) -> io::Result<Term> {
    install_panic_hook();
    MOUSE.store(mouse, Ordering::SeqCst);
    setup()?;
    let mut term = Terminal::new(FrameBackend::new())?;
    term.clear()?;
    Ok(term)
}

fn setup() -> io::Result<()> {
    terminal::enable_raw_mode()?;
    let mut out = io::stdout();
    execute!(
        out,
        EnterAlternateScreen,
        EnableBracketedPaste,
        cursor::Hide
    )?;
    if MOUSE.load(Ordering::SeqCst) {
        execute!(out, EnableMouseCapture)?;
    }
    ACTIVE.store(true, Ordering::SeqCst);
    Ok(())
}

/// Leave the alternate screen and raw mode. Safe to call more than once.
pub(crate) fn restore() {
    if !ACTIVE.swap(false, Ordering::SeqCst) {
        return;
    }
    let mut out = io::stdout();
    if MOUSE.load(Ordering::SeqCst) {
        let _ = execute!(out, DisableMouseCapture);
    }
    let _ = execute!(
        out,
        DisableBracketedPaste,
        LeaveAlternateScreen,
        cursor::Show
    );
    let _ = terminal::disable_raw_mode();
    let _ = out.flush();
}

fn install_panic_hook() {
    static INSTALLED: AtomicBool = AtomicBool::new(false);
    if INSTALLED.swap(true, Ordering::SeqCst) {
        return;
    }
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
    }));
}

/// Suspend (Ctrl-Z): restore the terminal, stop the process, and set it up again on resume.
pub(crate) fn suspend(term: &mut Term) -> io::Result<()> {
    restore();
    #[cfg(unix)]
    // SAFETY: raising SIGSTOP on ourselves has no memory-safety implications; it stops the
    // process until SIGCONT (SIGTSTP itself is caught by the runtime to get here).
    unsafe {
        libc::raise(libc::SIGSTOP);
    }
    setup()?;
    term.backend_mut().cursor_hidden = true;
    term.clear()?;
    Ok(())
}

/// ratatui's crossterm backend, quieter: a frame whose diff is empty writes nothing (the
/// backend would still reset the colours), and the cursor is hidden only when it is shown (ratatui
/// hides it after every frame). Frames go through a buffer big enough for a full screen, so each
/// frame leaves in one write (stdout's own buffer is line-based and 1 KiB: a large frame would go
/// out in pieces); ratatui flushes it after every frame. A write to a terminal still arrives in
/// pieces (a frame of pictures is tens of kB), so each frame is one synchronized update (DEC mode
/// 2026): a terminal that knows it shows the frame whole, never half-drawn; others ignore it.
pub(crate) struct FrameBackend {
    inner: CrosstermBackend<BufWriter<Stdout>>,
    cursor_hidden: bool,
    /// A frame's update was begun and not yet ended (at the flush that ends the frame).
    in_frame: bool,
}

impl FrameBackend {
    fn new() -> FrameBackend {
        let out = BufWriter::with_capacity(FRAME_BUFFER, io::stdout());
        FrameBackend {
            inner: CrosstermBackend::new(out),
            // `setup` hides it on the way in (and again after a suspend).
            cursor_hidden: true,
            in_frame: false,
        }
    }
}

impl Backend for FrameBackend {
    type Error = io::Error;

    fn draw<'a, I>(&mut self, content: I) -> io::Result<()>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        let mut content = content.peekable();
        if content.peek().is_none() {
            return Ok(());
        }
        if !self.in_frame {
            crossterm::queue!(self.inner, terminal::BeginSynchronizedUpdate)?;
            self.in_frame = true;
        }
        self.inner.draw(content)
    }

    fn append_lines(&mut self, n: u16) -> io::Result<()> {
        self.inner.append_lines(n)
    }

    fn hide_cursor(&mut self) -> io::Result<()> {
        if self.cursor_hidden {
            return Ok(());
        }
        self.inner.hide_cursor()?;
        self.cursor_hidden = true;
        Ok(())
    }

    fn show_cursor(&mut self) -> io::Result<()> {
        self.inner.show_cursor()?;
        self.cursor_hidden = false;
        Ok(())
    }

    fn get_cursor_position(&mut self) -> io::Result<Position> {
        self.inner.get_cursor_position()
    }

    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> io::Result<()> {
        self.inner.set_cursor_position(position)
    }

    fn clear(&mut self) -> io::Result<()> {
        self.inner.clear()
    }

    fn clear_region(&mut self, clear_type: ClearType) -> io::Result<()> {
        self.inner.clear_region(clear_type)
    }

    fn size(&self) -> io::Result<Size> {
        self.inner.size()
    }

    fn window_size(&mut self) -> io::Result<WindowSize> {
        self.inner.window_size()
    }

    fn flush(&mut self) -> io::Result<()> {
        if std::mem::take(&mut self.in_frame) {
            crossterm::queue!(self.inner, terminal::EndSynchronizedUpdate)?;
        }
        Backend::flush(&mut self.inner)
    }
}

/// Restores the terminal when dropped (covers early returns and errors).
pub(crate) struct RestoreGuard;

impl Drop for RestoreGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// The monotonic clock in ns: the time of each `SEEDANCE_FRAME_TRACE` line, and the clock a
/// bench reading those lines must stamp its own events with.
pub fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own; CLOCK_MONOTONIC always exists on
    // Linux.
    unsafe {
        libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts);
    }
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}
