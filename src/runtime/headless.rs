//! The headless poll loop of `watch`, `submit --wait` and `submit --batch`: the same workers
//! as the dashboard (`runtime::workers`) without a terminal UI. It prints one line per status
//! change it sees in the store — the same lines whether this process polls or another one (a
//! dashboard, another `watch`) does (`runtime::follow`, `runtime::progress`).
//!
//! With `daemon`, it never stops on its own: it keeps polling tasks that other processes submit
//! into the store, while dashboards come and go; SIGINT/SIGTERM/SIGHUP release the lease and
//! exit 0.

use super::follow::{Follow, Stop};
use super::workers::{Plan, Report, SaveOutcome, Workers};
use crate::context::Context;
use crate::store::TaskRecord;
use tokio::sync::mpsc;

pub(crate) use super::follow::{HeadlessError, WatchOutcome, WatchPlan};
pub use super::progress::Progress;
pub(crate) use super::progress::{change_line, summary_line};

/// Watch `records` (and, as a daemon, every task that shows up) until they settle. Returns the
/// final records of the watched tasks.
pub(crate) async fn run(
    ctx: &Context,
    records: Vec<TaskRecord>,
    plan: WatchPlan,
) -> Result<WatchOutcome, HeadlessError> {
    use tokio::signal::unix::{SignalKind, signal};
    let sig =
        |k| signal(k).map_err(|e| HeadlessError::Stopped(format!("cannot watch signals: {e}")));
    let (mut sigint, mut sigterm, mut sighup) = (
        sig(SignalKind::interrupt())?,
        sig(SignalKind::terminate())?,
        sig(SignalKind::hangup())?,
    );
    // Read the change sequence before loading rows, so no change falls between the two.
    let seq = ctx.engine.with_store(|s| s.change_seq()).await.ok();
    let (tx, mut reports) = mpsc::unbounded_channel();
    let workers = Plan {
        holder: if plan.daemon {
            "watch --daemon"
        } else {
            "watch"
        },
        lease_required: true,
        seq,
        max_in_flight: plan
            .max_in_flight
            .unwrap_or(ctx.config.submit.max_in_flight),
        downloads: None,
        queue_view: false,
        demo: false,
    };
    let workers = Workers::start(ctx, workers, tx).map_err(HeadlessError::Lease)?;
    let mut follow = Follow::new(ctx, plan, records, &workers);
    follow.find_unsaved(ctx).await;
    let mut clock = tokio::time::interval(std::time::Duration::from_secs(1));
    let stop = loop {
        if follow.settle() {
            break Stop::Done;
        }
        tokio::select! {
            Some(report) = reports.recv() => match report {
                Report::Rows(rows) => follow.rows(rows),
                Report::Poller(ev) => match follow.poller(ev) {
                    Ok(Some(record)) => follow.rows(vec![record]),
                    Ok(None) => {}
                    Err(stop) => break stop,
                },
                Report::Role(role) => follow.role(role),
                Report::Feeder(ev) => {
                    if let Some(stop) = follow.feeder(ev) {
                        break stop;
                    }
                }
                Report::Queue(_) => {}
            },
            Some(done) = next_save(&mut follow) => follow.saved(done),
            _ = clock.tick(), if follow.status.live => follow.status.redraw(),
            _ = sigint.recv() => break Stop::Signal,
            _ = sigterm.recv() => break Stop::Signal,
            _ = sighup.recv() => break Stop::Signal,
        }
    };
    // A line this process is sending (maybe another process's) is recorded before the lease
    // goes: cut off between its claim and its answer it would become `submit_unknown`.
    super::feeder::stop(&workers.feeder, super::feeder::STOP_WITHIN).await;
    workers.release().await;
    follow.finish(stop)
}

/// The next save that ends; pending for ever while none runs.
async fn next_save(follow: &mut Follow) -> Option<SaveOutcome> {
    match follow.saves() {
        Some(saves) => saves.next().await,
        None => std::future::pending().await,
    }
}
