//! The dashboard's event loop: one `select!` over terminal events, messages from the workers,
//! signals and the slow clock; each becomes a `Msg` for `update`, whose effects go to the
//! executor.

use super::executor::Executor;
use super::terminal;
use crate::app::{Effect, Msg, State, update};
use crate::engine::now;
use crossterm::event::{Event, EventStream, MouseButton, MouseEventKind};
use futures::StreamExt;
use std::io;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior};

/// The shortest time between two frames.
const FRAME_GAP: Duration = Duration::from_millis(16);

/// Unix second at which today began in local time.
pub(super) fn local_day_start() -> i64 {
    let now = chrono::Local::now();
    now.date_naive()
        .and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(chrono::Local).earliest())
        .map(|t| t.timestamp())
        .unwrap_or_else(|| now.timestamp() - 86_400)
}

pub(super) async fn event_loop(
    state: &mut State,
    term: &mut terminal::Term,
    rx: &mut mpsc::UnboundedReceiver<Msg>,
    executor: &Executor,
) -> io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sighup = signal(SignalKind::hangup())?;
    // In raw mode Ctrl-C is a key; a SIGINT comes from outside (`kill -INT`) and ends the
    // dashboard like SIGTERM, through the same restore path.
    let mut sigint = signal(SignalKind::interrupt())?;
    let mut sigtstp = signal(SignalKind::from_raw(libc::SIGTSTP))?;
    let mut events = EventStream::new();
    let mut clock = tokio::time::interval(Duration::from_secs(1));
    clock.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut last_draw = Instant::now() - FRAME_GAP;
    let mut day = state.today_start;
    loop {
        if state.dirty {
            let wait = (last_draw + FRAME_GAP).saturating_duration_since(Instant::now());
            if wait.is_zero() {
                term.draw(|f| crate::ui::view(state, f))?;
                state.dirty = false;
                last_draw = Instant::now();
            }
        }
        let draw_at = state.dirty.then_some(last_draw + FRAME_GAP);
        let msg = tokio::select! {
            biased;
            Some(msg) = rx.recv() => msg,
            ev = events.next() => match ev {
                Some(Ok(Event::Key(k))) => Msg::Key(k),
                Some(Ok(Event::Paste(p))) => Msg::Paste(p),
                Some(Ok(Event::Resize(w, h))) => Msg::Resize(w, h),
                Some(Ok(Event::Mouse(m))) => match m.kind {
                    MouseEventKind::ScrollDown => Msg::Scroll { down: true },
                    MouseEventKind::ScrollUp => Msg::Scroll { down: false },
                    MouseEventKind::Down(MouseButton::Left) => Msg::Click {
                        column: m.column,
                        row: m.row,
                    },
                    _ => continue,
                },
                Some(Ok(_)) => continue,
                // The terminal is gone (e.g. the SSH link dropped): leave cleanly.
                Some(Err(_)) | None => return Ok(()),
            },
            _ = sigterm.recv() => return Ok(()),
            _ = sighup.recv() => return Ok(()),
            _ = sigint.recv() => return Ok(()),
            _ = sigtstp.recv() => {
                run_all(vec![Effect::Suspend], executor, term, state);
                continue;
            }
            _ = clock.tick(), if state.shows_relative_times() => {
                let t = now();
                if t - day >= 86_400 {
                    day = local_day_start();
                    state.today_start = day;
                    state.recompute();
                }
                Msg::Tick { now: t }
            }
            _ = sleep_until_opt(draw_at) => continue,
        };
        let stamp = now();
        if stamp != state.now {
            // The clock's effects (a debounced draft save, a closed notification batch) run too.
            let effects = update(state, Msg::Tick { now: stamp });
            if !run_all(effects, executor, term, state) {
                return Ok(());
            }
        }
        let effects = update(state, msg);
        if !run_all(effects, executor, term, state) {
            return Ok(());
        }
    }
}

/// Run effects; false when one of them asks to quit.
fn run_all(
    effects: Vec<Effect>,
    executor: &Executor,
    term: &mut terminal::Term,
    state: &mut State,
) -> bool {
    let mut keep_going = true;
    for e in effects {
        keep_going &= executor.run(e, term, state);
    }
    keep_going
}

async fn sleep_until_opt(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
