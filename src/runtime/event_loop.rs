//! The dashboard's event loop: one biased `select!` over terminal events (from the input
//! thread, `runtime::input`), signals, messages from the workers and the slow clock, in that
//! order; each becomes a `Msg` for `update`, whose effects go to the executor. Input from the
//! user is drawn at once; the workers' changes are drawn when their queue is empty, at most one
//! frame per 16 ms slot (the model is slumber's loop: `select! { biased; … }`, then draw when
//! nothing is queued).
//!
//! `SEEDANCE_FRAME_TRACE=FILE` writes one line per message handled and per frame drawn (the
//! monotonic clock in nanoseconds, what, how long) — for finding what delays a key's frame
//! (`benches/latency.rs` writes the keys' send times on the same clock).

use super::executor::Executor;
use super::input::Input;
use crate::app::{Effect, Msg, State, update};
use crate::engine::now;
use crossterm::event::{Event, MouseButton, MouseEventKind};
use ratatui::Terminal;
use ratatui::backend::Backend;
use std::io::{self, Write};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior};

/// The shortest time between two frames.
const FRAME_GAP: Duration = Duration::from_millis(16);
/// The longest a frame waits for the workers' queue to drain.
const STARVE_GAP: Duration = Duration::from_millis(250);

/// Unix second at which today began in local time.
pub(super) fn local_day_start() -> i64 {
    let now = chrono::Local::now();
    now.date_naive()
        .and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(chrono::Local).earliest())
        .map(|t| t.timestamp())
        .unwrap_or_else(|| now.timestamp() - 86_400)
}

/// The start of the store's day holding `t`, from the start of an earlier one: days taken as
/// 24 h, so around a DST change in the server's zone the header's day is an hour off until the
/// dashboard starts again (the cap itself asks the server each time).
fn shared_day_holding(start: i64, t: i64) -> i64 {
    start + (t - start).div_euclid(86_400) * 86_400
}

/// The screen the loop draws on: a terminal of any backend (the real one, or ratatui's
/// `TestBackend` in the tests), and what stopping the process (Ctrl-Z) does to it.
pub(crate) struct Screen<'a, B: Backend> {
    pub(crate) terminal: &'a mut Terminal<B>,
    /// Restores the terminal, stops the process and sets the terminal up again on resume.
    pub(crate) suspend: &'a mut (dyn FnMut(&mut Terminal<B>) -> io::Result<()> + Send),
}

fn draw_error(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

/// Run the dashboard until the user quits, the input ends or a signal asks to stop. `events` is
/// what comes from outside (terminal events, signals), `rx` what the workers and the executor
/// send. The loop writes no state itself: every outcome is a message for `update`.
pub(super) async fn event_loop<B: Backend>(
    state: &mut State,
    screen: Screen<'_, B>,
    events: &mut mpsc::UnboundedReceiver<Input>,
    rx: &mut mpsc::UnboundedReceiver<Msg>,
    executor: &Executor,
) -> io::Result<()> {
    let Screen { terminal, suspend } = screen;
    let mut clock = tokio::time::interval(Duration::from_secs(1));
    clock.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut last_draw = Instant::now() - FRAME_GAP;
    // Set by input from the user: their frame is drawn at once, not in the next slot.
    let mut user_waiting = false;
    let mut trace = Trace::from_env();
    loop {
        if state.dirty {
            let now = Instant::now();
            let slot_open = now >= last_draw + FRAME_GAP;
            // Workers' messages are drawn once the queue is drained (a burst of store rows
            // costs one frame), in at most one frame per slot; a backlog that never drains
            // still gets a frame every STARVE_GAP.
            let drained = rx.is_empty() || now >= last_draw + STARVE_GAP;
            if user_waiting || (slot_open && drained) {
                let t0 = trace.start();
                terminal
                    .draw(|f| crate::ui::view(state, f))
                    .map_err(draw_error)?;
                state.drawn();
                last_draw = Instant::now();
                trace.record(t0, if user_waiting { "draw key" } else { "draw" }, 0);
            }
        }
        user_waiting = false;
        let draw_at = state.dirty.then_some(last_draw + FRAME_GAP);
        let (msg, from_user) = tokio::select! {
            // Keys first: what the user typed is handled (and drawn) before any queued poll
            // or store message, so a backlog of work never delays the answer to a key. Signals
            // come on the same channel: a request to stop never waits behind the workers.
            biased;
            ev = events.recv() => match ev {
                Some(Input::Event(Event::Key(k))) => (Msg::Key(k), true),
                Some(Input::Event(Event::Paste(p))) => (Msg::Paste(p), true),
                Some(Input::Event(Event::Resize(w, h))) => (Msg::Resize(w, h), true),
                Some(Input::Event(Event::Mouse(m))) => match m.kind {
                    MouseEventKind::ScrollDown => (Msg::Scroll { down: true }, true),
                    MouseEventKind::ScrollUp => (Msg::Scroll { down: false }, true),
                    MouseEventKind::Down(MouseButton::Left) => (
                        Msg::Click {
                            column: m.column,
                            row: m.row,
                        },
                        true,
                    ),
                    _ => continue,
                },
                Some(Input::Event(_)) => continue,
                Some(Input::Suspend) => {
                    let error = suspend(terminal).err().map(|e| e.to_string());
                    (Msg::Resumed { error }, true)
                }
                // The terminal is gone (e.g. the SSH link dropped), or a signal: leave cleanly.
                Some(Input::Gone | Input::Stop) | None => return Ok(()),
            },
            // Then the workers (poller health, store rows, downloads, the composer's IO): they
            // mark the state dirty and are drawn in the coalesced slot above.
            Some(msg) = rx.recv() => (msg, false),
            // The slow clock, only while relative times are on screen (nothing else to do
            // when the screen shows none).
            _ = clock.tick(), if state.shows_relative_times() => {
                let t = now();
                if t - state.today_start >= 86_400 {
                    let (today_start, shared) = if state.today_shared {
                        (shared_day_holding(state.today_start, t), true)
                    } else {
                        (local_day_start(), false)
                    };
                    let effects = update(state, Msg::DayStarted { today_start, shared });
                    if !run_all(effects, executor, terminal, suspend) {
                        return Ok(());
                    }
                }
                (Msg::Tick { now: t }, false)
            }
            // Last: wake for a frame held back by the slot while nothing else arrives.
            _ = sleep_until_opt(draw_at) => continue,
        };
        let t0 = trace.start();
        let stamp = now();
        if stamp != state.now {
            // The clock's effects (a debounced draft save, a closed notification batch) run too.
            let effects = update(state, Msg::Tick { now: stamp });
            if !run_all(effects, executor, terminal, suspend) {
                return Ok(());
            }
        }
        let (what, n) = trace.kind(&msg);
        let effects = update(state, msg);
        if !run_all(effects, executor, terminal, suspend) {
            return Ok(());
        }
        trace.record(t0, what, n);
        user_waiting = from_user;
    }
}

/// The optional trace of what the loop spends its time on (`SEEDANCE_FRAME_TRACE`).
struct Trace {
    out: Option<io::BufWriter<std::fs::File>>,
}

impl Trace {
    fn from_env() -> Trace {
        let out = std::env::var_os("SEEDANCE_FRAME_TRACE")
            .and_then(|path| std::fs::File::create(path).ok())
            .map(io::BufWriter::new);
        Trace { out }
    }

    /// The monotonic clock now (the same clock in every process), when tracing.
    fn start(&self) -> u64 {
        if self.out.is_some() {
            super::terminal::monotonic_ns()
        } else {
            0
        }
    }

    fn kind(&self, msg: &Msg) -> (&'static str, usize) {
        if self.out.is_none() {
            return ("", 0);
        }
        match msg {
            Msg::Key(_) | Msg::Paste(_) | Msg::Scroll { .. } | Msg::Click { .. } => ("key", 0),
            Msg::Tick { .. } => ("tick", 0),
            Msg::Health(_) => ("health", 0),
            Msg::TasksChanged(rows) => ("rows", rows.len()),
            Msg::MoreTasksLoaded(rows) => ("more-rows", rows.len()),
            Msg::TasksLoaded(rows) => ("all-rows", rows.len()),
            _ => ("other", 0),
        }
    }

    /// One line: start (ns), what, its count, how long (µs).
    fn record(&mut self, start: u64, what: &str, n: usize) {
        if let Some(out) = &mut self.out {
            let took = super::terminal::monotonic_ns().saturating_sub(start) / 1_000;
            let _ = writeln!(out, "{start} {what} {n} {took}");
        }
    }
}

/// Run effects; false when one of them asks to quit. A suspend is the screen's (the input thread
/// lets go of the terminal around it, so the shell gets every key typed while the dashboard is
/// stopped); its outcome comes back as `Msg::Resumed` through the executor's channel.
fn run_all<B: Backend>(
    effects: Vec<Effect>,
    executor: &Executor,
    terminal: &mut Terminal<B>,
    suspend: &mut (dyn FnMut(&mut Terminal<B>) -> io::Result<()> + Send),
) -> bool {
    let mut keep_going = true;
    for e in effects {
        if matches!(e, Effect::Suspend) {
            let error = suspend(terminal).err().map(|e| e.to_string());
            executor.send(Msg::Resumed { error });
            continue;
        }
        keep_going &= executor.run(e);
    }
    keep_going
}

async fn sleep_until_opt(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::shared_day_holding;

    #[test]
    fn the_store_s_next_day_follows_from_the_one_before() {
        let start = 1_796_601_600;
        assert_eq!(shared_day_holding(start, start + 86_399), start);
        assert_eq!(shared_day_holding(start, start + 86_400), start + 86_400);
        // A dashboard asleep over three midnights lands on the day holding now.
        assert_eq!(
            shared_day_holding(start, start + 3 * 86_400 + 5),
            start + 3 * 86_400
        );
    }
}
