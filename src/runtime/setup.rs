//! Starting the dashboard: the first state and page of the store, the workers
//! (`runtime::workers`), the executor, the terminal and its input, then the loop; and the
//! teardown when the loop ends (the terminal restored, the composer's draft saved, the lease
//! released). [`run_dashboard_on`] runs the same dashboard on any ratatui backend.

use super::dashboard::{self, DashboardError, DashboardOptions};
use super::event_loop::{Screen, event_loop};
use super::executor::Executor;
use super::input::{self, Input, InputThread};
use super::{composer, preview, terminal};
use crate::app::{Msg, State, update};
use crate::context::Context;
use ratatui::Terminal;
use ratatui::backend::Backend;
use std::io;
use tokio::sync::mpsc;

/// Open the dashboard and run until the user quits (or the terminal goes away).
pub async fn run_dashboard(ctx: Context, opts: DashboardOptions) -> Result<(), DashboardError> {
    let (mut state, mut executor, workers, mut rx) = dashboard::prepare(&ctx, &opts).await?;
    let mut term = terminal::enter(opts.mouse || ctx.config.ui.mouse)?;
    let _guard = terminal::RestoreGuard;
    // A graphics-protocol query must happen in raw mode, before terminal events are read.
    let images = ctx.config.ui.images.as_deref().unwrap_or("halfblocks");
    if images == "auto" {
        executor.previewer = preview::Previewer::new(preview::picker(images));
    }
    let (itx, mut events) = mpsc::unbounded_channel();
    input::signals(itx.clone())?;
    let input = InputThread::spawn(itx)?;
    let mut suspend = |t: &mut terminal::Term| {
        input.pause();
        let done = terminal::suspend(t);
        input.resume();
        done
    };
    let screen = Screen {
        terminal: &mut term,
        suspend: &mut suspend,
    };
    let result = run(&ctx, &mut state, screen, &mut events, &mut rx, &executor).await;
    terminal::restore();
    composer::save_on_exit(&executor.engine, &state).await;
    workers.release().await;
    Ok(result?)
}

/// The dashboard on `terminal` (any backend: ratatui's `TestBackend` in the tests), reading
/// terminal events and signals from `events`, until the user quits or `events` ends. Returns
/// the last state.
pub async fn run_dashboard_on<B: Backend>(
    ctx: &Context,
    opts: &DashboardOptions,
    terminal: &mut Terminal<B>,
    events: &mut mpsc::UnboundedReceiver<Input>,
) -> Result<State, DashboardError> {
    let (mut state, executor, workers, mut rx) = dashboard::prepare(ctx, opts).await?;
    let screen = Screen {
        terminal,
        suspend: &mut |_: &mut Terminal<B>| Ok(()),
    };
    let result = run(ctx, &mut state, screen, events, &mut rx, &executor).await;
    composer::save_on_exit(&executor.engine, &state).await;
    workers.release().await;
    result?;
    Ok(state)
}

/// The screen's size, the pre-flight (the key, one probe of the base URL off the loop), the loop.
async fn run<B: Backend>(
    ctx: &Context,
    state: &mut State,
    screen: Screen<'_, B>,
    events: &mut mpsc::UnboundedReceiver<Input>,
    rx: &mut mpsc::UnboundedReceiver<Msg>,
    executor: &Executor,
) -> io::Result<()> {
    if let Ok(size) = screen.terminal.size() {
        update(state, Msg::Resize(size.width, size.height));
    }
    if let Some(start) = dashboard::preflight(ctx) {
        for effect in update(state, start) {
            executor.run(effect);
        }
    }
    event_loop(state, screen, events, rx, executor).await
}
