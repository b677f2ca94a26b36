//! Terminal hygiene: raw mode and the alternate screen on the way in, and always restored on the
//! way out — on quit, on error, on panic, on SIGTERM/SIGHUP/SIGINT, and around a Ctrl-Z suspend.

use crossterm::{
    cursor,
    event::{DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture},
    execute,
    terminal::{self, EnterAlternateScreen, LeaveAlternateScreen},
};
use ratatui::{Terminal, backend::CrosstermBackend};
use std::io::{self, Stdout, Write};
use std::sync::atomic::{AtomicBool, Ordering};

pub type Term = Terminal<CrosstermBackend<Stdout>>;

/// Whether the terminal is currently in dashboard mode (so restore is idempotent).
static ACTIVE: AtomicBool = AtomicBool::new(false);
static MOUSE: AtomicBool = AtomicBool::new(false);

/// Enter raw mode and the alternate screen; install the panic hook that restores the terminal.
pub fn enter(mouse: bool) -> io::Result<Term> {
    install_panic_hook();
    MOUSE.store(mouse, Ordering::SeqCst);
    setup()?;
    let mut term = Terminal::new(CrosstermBackend::new(io::stdout()))?;
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
pub fn restore() {
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
pub fn suspend(term: &mut Term) -> io::Result<()> {
    restore();
    #[cfg(unix)]
    // SAFETY: raising SIGSTOP on ourselves has no memory-safety implications; it stops the
    // process until SIGCONT (SIGTSTP itself is caught by the runtime to get here).
    unsafe {
        libc::raise(libc::SIGSTOP);
    }
    setup()?;
    term.clear()?;
    Ok(())
}

/// Restores the terminal when dropped (covers early returns and errors).
pub struct RestoreGuard;

impl Drop for RestoreGuard {
    fn drop(&mut self) {
        restore();
    }
}
