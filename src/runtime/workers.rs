//! The workers around either face, started from one description ([`Plan`]): the poller, the
//! poller lease and its gate, the store watcher, the submission queue's feeder (and, for the
//! dashboard, its watcher), the downloads and the demo's feeder. What they report reaches the
//! face as [`Report`]s on one channel; what every face does with a report (track a new unfinished
//! task, wake the feeder, hand a succeeded task to the downloads) is done here, once.
//!
//! Only the lease holder polls, feeds the queue and downloads: the gate switches all three.
//! A poller update reaches the face as the record the poller already has (`Report::Poller`);
//! the store watcher reports every commit, this process's and others'.

use super::download_manager::{DownloadSettings, Downloads};
use super::feeder::{self, FeederCmd, FeederConfig, FeederEvent};
use super::lease::{self, LeaseConfig, LeaseKeeper, Role};
use super::poller::{self, PollerCmd, PollerConfig, PollerEvent};
use super::{demo, store_watch};
use crate::app::Msg;
use crate::app::queue::QueueInfo;
use crate::context::Context;
use crate::destination::Destination;
use crate::engine::task_results::{SaveError, Saved, save_results};
use crate::store::TaskRecord;
use std::collections::HashSet;
use std::time::Duration;
use tokio::sync::mpsc;

/// What a face wants started.
pub(crate) struct Plan {
    /// How this process names itself in the lease ("dashboard", "watch", "watch --daemon").
    pub(crate) holder: &'static str,
    /// Without the lease the face cannot run (headless) rather than poll anyway (dashboard).
    pub(crate) lease_required: bool,
    /// The change sequence the store watcher starts after: read before the face's own first
    /// read of the store, so no change falls between the two.
    pub(crate) seq: Option<i64>,
    /// The queue's cap while this process feeds it.
    pub(crate) max_in_flight: usize,
    /// The dashboard's download manager (auto-saving, `d`), reporting to the loop.
    pub(crate) downloads: Option<(DownloadSettings, mpsc::UnboundedSender<Msg>)>,
    /// Keep the queue's order, pause and hold current (`Report::Queue`): the dashboard's header.
    pub(crate) queue_view: bool,
    /// Submit the demo's tasks (`--demo`).
    pub(crate) demo: bool,
}

/// What the workers report to the face.
#[derive(Debug)]
pub(crate) enum Report {
    /// Rows the store watcher saw committed (by any process).
    Rows(Vec<TaskRecord>),
    /// This process's poller: an answer (with the record as stored), a failure, its health.
    Poller(PollerEvent),
    /// The lease gate's verdict changed.
    Role(Role),
    Feeder(FeederEvent),
    Queue(QueueInfo),
}

/// The running workers' handles; dropping them stops the workers.
pub(crate) struct Workers {
    pub(crate) poller: mpsc::UnboundedSender<PollerCmd>,
    pub(crate) feeder: mpsc::UnboundedSender<FeederCmd>,
    /// Asks the queue watcher to read the queue now.
    pub(crate) queue_poke: mpsc::UnboundedSender<()>,
    /// The download manager, or [`Downloads::disabled`] when the face has none.
    pub(crate) downloads: Downloads,
    /// Why this process holds no lease and polls anyway, when it holds none.
    pub(crate) lease_problem: Option<String>,
    keeper: Option<LeaseKeeper>,
}

impl Workers {
    /// Start every worker of `plan`; reports go to `face`. Fails (starting nothing) only when
    /// the lease is required and the store cannot hold it.
    pub(crate) fn start(
        ctx: &Context,
        plan: Plan,
        face: mpsc::UnboundedSender<Report>,
    ) -> Result<Workers, String> {
        let keeper = LeaseKeeper::spawn(
            lease::open_location(ctx.store.clone()),
            lease::POLLER,
            lease::holder_id(plan.holder),
            LeaseConfig::from_secs(ctx.config.poll.lease_secs),
        );
        let keeper = match keeper {
            Ok(k) => Some(k),
            Err(e) if plan.lease_required => return Err(e.to_string()),
            Err(e) => {
                let _ = face.send(Report::Role(Role::Leader));
                return Ok(Self::spawn(ctx, plan, face, None, Some(e.to_string())));
            }
        };
        Ok(Self::spawn(ctx, plan, face, keeper, None))
    }

    fn spawn(
        ctx: &Context,
        plan: Plan,
        face: mpsc::UnboundedSender<Report>,
        keeper: Option<LeaseKeeper>,
        lease_problem: Option<String>,
    ) -> Workers {
        let engine = &ctx.engine;
        let (ptx, mut prx) = mpsc::unbounded_channel();
        let cfg = PollerConfig {
            lease: keeper.as_ref().map(LeaseKeeper::held_until),
            ..PollerConfig::for_context(ctx)
        };
        let poller = poller::spawn(engine.clone(), cfg, ptx);
        let downloads = match plan.downloads {
            Some((settings, to_loop)) => {
                let dl = Downloads::start(engine.clone(), settings, to_loop);
                // Idle until the gate says this process holds the lease.
                dl.set_active(keeper.is_none());
                dl
            }
            None => Downloads::disabled(),
        };
        let (ftx, mut frx) = mpsc::unbounded_channel();
        let feeder = feeder::spawn(engine.clone(), FeederConfig::new(plan.max_in_flight), ftx);
        let (queue_poke, poked) = mpsc::unbounded_channel::<()>();
        if plan.queue_view {
            let to_face = face.clone();
            feeder::watch_queue(engine.clone(), poked, move |info| {
                to_face.send(Report::Queue(info)).is_ok()
            });
        }

        // The gate: only the lease holder polls, feeds the queue and downloads.
        let (to_poller, to_feeder, to_dl) = (poller.clone(), feeder.clone(), downloads.clone());
        let to_face = face.clone();
        let switch = move |role: &Role| {
            let _ = to_poller.send(PollerCmd::Role(role.clone()));
            let _ = to_feeder.send(FeederCmd::Role(role.clone()));
            to_dl.set_active(role.is_leader());
            let _ = to_face.send(Report::Role(role.clone()));
        };
        match &keeper {
            Some(k) => lease::gate(k.role(), switch),
            None => {
                let _ = poller.send(PollerCmd::Role(Role::Leader));
                let _ = feeder.send(FeederCmd::Role(Role::Leader));
            }
        }

        // The poller's reports; the holder's banner (server unreachable, rate limited) reaches
        // followers' headers through the lease row.
        let (to_face, noter) = (face.clone(), keeper.as_ref().map(|k| k.noter()));
        tokio::spawn(async move {
            while let Some(ev) = prx.recv().await {
                if let (PollerEvent::Health(h), Some(n)) = (&ev, &noter)
                    && h.leader
                {
                    n.set(lease::note_for(h));
                }
                if to_face.send(Report::Poller(ev)).is_err() {
                    return;
                }
            }
        });

        // The feeder's reports; each may have changed the queue. A line just sent is polled
        // from now, not from when the store watcher next looks.
        let (to_face, poke, to_poller) = (face.clone(), queue_poke.clone(), poller.clone());
        tokio::spawn(async move {
            while let Some(ev) = frx.recv().await {
                let _ = poke.send(());
                if let FeederEvent::Sent(r) = &ev {
                    let _ = to_poller.send(PollerCmd::Track(r.clone()));
                }
                if to_face.send(Report::Feeder(ev)).is_err() {
                    return;
                }
            }
        });

        // Every commit to the store (ours or another process's): a finished task frees a slot
        // in the queue and teaches the poller's ETA model (a follower's too), a new unfinished
        // task is polled, a succeeded one is saved.
        let (wtx, mut wrx) = mpsc::unbounded_channel();
        let every = store_watch::interval(&ctx.config.poll);
        store_watch::spawn_every(ctx.store.clone(), plan.seq, every, wtx);
        let (to_face, to_poller, to_dl) = (face, poller.clone(), downloads.clone());
        let (to_feeder, poke) = (feeder.clone(), queue_poke.clone());
        tokio::spawn(async move {
            while let Some(rows) = wrx.recv().await {
                let _ = to_feeder.send(FeederCmd::Wake);
                let _ = poke.send(());
                for r in &rows {
                    let _ = to_poller.send(PollerCmd::Track(Box::new(r.clone())));
                }
                to_dl.consider(&rows);
                if to_face.send(Report::Rows(rows)).is_err() {
                    return;
                }
            }
        });

        // The lease holder polls every unfinished task of the store, not only the face's own:
        // the processes following it rely on that.
        let (engine2, to_poller) = (engine.clone(), poller.clone());
        tokio::spawn(async move {
            if let Ok(all) = engine2.with_store(|s| s.unfinished()).await {
                for r in all {
                    let _ = to_poller.send(PollerCmd::Track(Box::new(r)));
                }
            }
        });
        if plan.demo {
            tokio::spawn(demo::feed(engine.clone(), Duration::from_secs(5), 40));
        }
        Workers {
            poller,
            feeder,
            queue_poke,
            downloads,
            lease_problem,
            keeper,
        }
    }

    /// Poll this task (when it needs polling).
    pub(crate) fn track(&self, r: &TaskRecord) {
        if r.phase.needs_polling() {
            let _ = self.poller.send(PollerCmd::Track(Box::new(r.clone())));
        }
    }

    /// Let go of the lease (another process may take over at once).
    pub(crate) async fn release(self) {
        if let Some(k) = self.keeper {
            k.release().await;
        }
    }
}

/// How one save ended: the task's display id and the outcome (`Err` when the save itself
/// panicked).
pub(crate) type SaveOutcome = Result<(String, Result<Saved, SaveError>), tokio::task::JoinError>;

/// The headless face's saving: each watched succeeded task once, into one destination, while
/// this process holds the lease.
pub(crate) struct Saves {
    ctx_engine: crate::engine::Engine,
    dir: Destination,
    template: String,
    started: HashSet<String>,
    running: tokio::task::JoinSet<(String, Result<Saved, SaveError>)>,
}

impl Saves {
    pub(crate) fn new(ctx: &Context, dir: Destination) -> Saves {
        Saves {
            ctx_engine: ctx.engine.clone(),
            dir,
            template: ctx.config.download.template.clone(),
            started: HashSet::new(),
            running: tokio::task::JoinSet::new(),
        }
    }

    /// Save `r`'s results unless they were already asked for in this run.
    pub(crate) fn save(&mut self, r: TaskRecord) {
        if !self.started.insert(r.local_id.clone()) {
            return;
        }
        let (engine, dir, template) = (
            self.ctx_engine.clone(),
            self.dir.clone(),
            self.template.clone(),
        );
        self.running.spawn(async move {
            let id = r.display_id().to_string();
            (id, save_results(&engine, &r, dir, &template).await)
        });
    }

    pub(crate) fn started(&self, local_id: &str) -> bool {
        self.started.contains(local_id)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.running.is_empty()
    }

    /// The next save that ended.
    pub(crate) async fn next(&mut self) -> Option<SaveOutcome> {
        self.running.join_next().await
    }
}
