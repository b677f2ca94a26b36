//! Starting the dashboard: the initial state from the config (keymap, themes, results
//! settings), the workers around the loop (poller, lease gate, store watcher, download
//! manager, previewer, notifier), and the teardown when the loop ends.

use super::event_loop::{event_loop, local_day_start};
use super::executor::Executor;
use super::poller::{self, PollerCmd, PollerConfig, PollerEvent};
use super::{
    clipboard, composer, demo, download_manager, feeder, lease, notify, osc, preview, store_watch,
    terminal,
};
use crate::app::keymap::Keymap;
use crate::app::{Level, Msg, State, update};
use crate::config::Paths;
use crate::context::Context;
use crate::engine::now;
use crate::store::TaskQuery;
use crate::theme;
use std::io;
use std::time::Duration;
use tokio::sync::mpsc;

/// What the command line adds to the config for the dashboard.
#[derive(Debug, Clone, Default)]
pub struct DashboardOptions {
    /// `--theme`: the theme to start with (else `[ui] theme`).
    pub theme: Option<String>,
    /// `--mouse`: capture the mouse (else `[ui] mouse`).
    pub mouse: bool,
}

/// Why the dashboard could not run.
#[derive(Debug, thiserror::Error)]
pub enum DashboardError {
    /// The config asks for something that does not exist (a bad key binding, an unknown or
    /// broken theme): the user fixes the config.
    #[error("{0}")]
    Config(String),
    /// The terminal or the store failed.
    #[error("{0}")]
    Io(#[from] io::Error),
}

fn other(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

/// Build the initial state from the config: keymap, themes, profile.
fn initial_state(ctx: &Context, opts: &DashboardOptions) -> Result<State, DashboardError> {
    let keymap = Keymap::with_overrides(&ctx.config.ui.keys).map_err(DashboardError::Config)?;
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let (themes, errors) = theme::load_all(Paths::themes_dir().as_deref());
    let wanted = opts.theme.clone().or_else(|| ctx.config.ui.theme.clone());
    let (themes, index) = theme::choose(themes, wanted.as_deref(), no_color).map_err(|e| {
        // A theme file that exists but is broken says what is wrong with it.
        let broken = errors.iter().find(|b| Some(b.theme()) == wanted.as_deref());
        DashboardError::Config(broken.unwrap_or(&e).to_string())
    })?;
    let mut state = State::new(&ctx.profile_name, &ctx.base_url, keymap, themes);
    state.theme_index = index;
    if let Some(names) = &ctx.config.ui.columns {
        state.columns = crate::app::columns::parse_list(names).map_err(DashboardError::Config)?;
        if state.columns.is_empty() {
            return Err(DashboardError::Config(
                "[ui] columns is empty: name at least one column".into(),
            ));
        }
    }
    for (name, v) in &ctx.config.views {
        let view = crate::app::views::View::from_config(name, v).map_err(DashboardError::Config)?;
        state.views.push(view);
    }
    state.composer.defaults = ctx.config.defaults.clone();
    state.composer.uploads = ctx.engine.reference_bucket.is_some();
    // Curl commands name the variable the key came from (not the demo's "(demo)").
    if let Some(var) = ctx
        .key_var
        .as_deref()
        .filter(|v| v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !v.is_empty())
    {
        state.key_var = var.to_string();
    }
    state.now = now();
    state.today_start = local_day_start();
    for e in errors {
        state.notice(Level::Warn, e.to_string());
    }
    results_settings(&mut state, &ctx.config);
    if let Some(other) = ctx
        .config
        .ui
        .clipboard
        .as_deref()
        .filter(|m| !["auto", "osc52"].contains(m))
    {
        let text = format!("[ui] clipboard = \"{other}\" is unknown; use auto or osc52");
        state.notice(Level::Warn, text);
    }
    if ctx.demo {
        state.notice(
            Level::Info,
            "demo: tasks run against the embedded simulator; press ? for keys",
        );
    }
    Ok(state)
}

/// Copy the results-related config into the state (expiry warning, prices, previews, batching).
pub fn results_settings(state: &mut State, config: &crate::config::Config) {
    if let Some(other) = config
        .ui
        .images
        .as_deref()
        .filter(|m| !["auto", "halfblocks", "off"].contains(m))
    {
        let text = format!("[ui] images = \"{other}\" is unknown; use auto, halfblocks or off");
        state.notice(Level::Warn, text);
    }
    state.cap = crate::engine::budget::SpendingCap::from_config(config);
    let r = &mut state.results;
    r.warn_secs = (config.download.warn_before_expiry_hours.max(0.0) * 3600.0) as i64;
    r.images = config.ui.images.as_deref() != Some("off");
    r.batch_secs = config.notify.batch_secs as i64;
    r.pricing = config.pricing.clone();
}

/// The download manager's settings from the config (the demo downloads into its own folder).
fn download_settings(ctx: &Context) -> download_manager::DownloadSettings {
    let mut s = download_manager::DownloadSettings::new(
        ctx.output_dir.clone(),
        ctx.config.download.template.clone(),
    );
    s.concurrency = ctx.config.download.concurrency.clamp(1, 16);
    s.auto = ctx.config.download.auto;
    s
}

/// Rows read before the first frame; the rest of the store follows in the background.
const FIRST_PAGE: usize = 1_000;

/// Open the dashboard and run until the user quits (or the terminal goes away).
pub async fn run_dashboard(ctx: Context, opts: DashboardOptions) -> Result<(), DashboardError> {
    let mut state = initial_state(&ctx, &opts)?;
    // The change sequence is read before the rows: a change in between is reported again by the
    // store watcher (harmless), never lost.
    // The first frame shows the newest page; the rest is read behind it.
    let first_page = TaskQuery {
        limit: Some(FIRST_PAGE),
        ..TaskQuery::default()
    };
    let (seq, rows) = ctx
        .engine
        .with_store(move |s| Ok((s.change_seq()?, s.list(&first_page)?)))
        .await
        .map_err(other)?;
    let more = rows.len() >= FIRST_PAGE;
    let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();

    // The poller, fed with every unfinished task; its reports become messages.
    let pcfg = PollerConfig::for_context(&ctx);
    let (ptx, mut prx) = mpsc::unbounded_channel();
    let poller = poller::spawn(ctx.engine.clone(), pcfg, ptx);
    let keeper = lease::LeaseKeeper::spawn(
        ctx.store_path.clone(),
        lease::POLLER,
        lease::holder_id("dashboard"),
        lease::LeaseConfig::from_secs(ctx.config.poll.lease_secs),
    );
    // The download manager saves succeeded results; it starts idle and the gate below switches
    // it on while this process holds the lease.
    let dl =
        download_manager::Downloads::start(ctx.engine.clone(), download_settings(&ctx), tx.clone());
    dl.set_active(false);
    // The submission queue's feeder, switched by the same gate; its reports become notices,
    // and the queue watcher keeps the header's count, order, pause and hold current.
    let (ftx, mut frx) = mpsc::unbounded_channel();
    let feeder = feeder::spawn(
        ctx.engine.clone(),
        feeder::FeederConfig::new(ctx.config.submit.max_in_flight),
        ftx,
    );
    let (queue_poke, poked) = mpsc::unbounded_channel::<()>();
    let to_loop = tx.clone();
    feeder::watch_queue(ctx.engine.clone(), poked, move |info| {
        to_loop.send(Msg::Queue(info)).is_ok()
    });
    let (to_loop, poke) = (tx.clone(), queue_poke.clone());
    tokio::spawn(async move {
        while let Some(ev) = frx.recv().await {
            let _ = poke.send(());
            let (level, text) = match ev {
                feeder::FeederEvent::Held { reason, .. } => {
                    (Level::Warn, format!("queue held: {reason}"))
                }
                feeder::FeederEvent::Resumed => (Level::Info, "queue resumed".to_string()),
                feeder::FeederEvent::Abandoned(n) => (
                    Level::Warn,
                    format!(
                        "{n} queued request(s) were being sent by a process that stopped: marked submit_unknown (check before sending again)"
                    ),
                ),
                feeder::FeederEvent::StoreFailed(m) => (
                    Level::Warn,
                    format!("the queue could not read the store: {m}"),
                ),
                // The store watcher shows the rows; `announce` reports rejections.
                feeder::FeederEvent::Sent(_)
                | feeder::FeederEvent::Rejected(_)
                | feeder::FeederEvent::Unknown(_) => continue,
            };
            if to_loop.send(Msg::Notice { level, text }).is_err() {
                return;
            }
        }
    });
    // The gate: only the lease holder polls and downloads. Work that only one process per
    // store may do (the download manager too) is switched on and off in this closure.
    match &keeper {
        Ok(k) => {
            let (to_poller, to_downloads, to_feeder) = (poller.clone(), dl.clone(), feeder.clone());
            lease::gate(k.role(), move |role| {
                let _ = to_poller.send(PollerCmd::Role(role.clone()));
                let _ = to_feeder.send(feeder::FeederCmd::Role(role.clone()));
                to_downloads.set_active(matches!(role, lease::Role::Leader));
            });
        }
        Err(e) => {
            state.notice(
                Level::Warn,
                format!("no poller lease ({e}); polling anyway"),
            );
            let _ = poller.send(PollerCmd::Role(lease::Role::Leader));
            let _ = feeder.send(feeder::FeederCmd::Role(lease::Role::Leader));
            dl.set_active(true);
        }
    }
    for r in rows.iter().filter(|r| r.phase.needs_polling()) {
        let _ = poller.send(PollerCmd::Track(Box::new(r.clone())));
    }
    let to_loop = tx.clone();
    // The holder's banner (server unreachable, rate limited) reaches followers' headers.
    let noter = keeper.as_ref().ok().map(|k| k.noter());
    tokio::spawn(async move {
        while let Some(ev) = prx.recv().await {
            if let (PollerEvent::Health(h), Some(n)) = (&ev, &noter)
                && h.leader
            {
                n.set(lease::note_for(h));
            }
            let msg = match ev {
                PollerEvent::Updated { .. } => continue, // the store watcher reports every change
                PollerEvent::Failed {
                    local_id,
                    message,
                    transient,
                } => Msg::PollFailed {
                    local_id,
                    error: message,
                    transient,
                },
                PollerEvent::Health(h) => Msg::Health(h),
            };
            if to_loop.send(msg).is_err() {
                return;
            }
        }
    });

    // Every commit to the store (ours or another process's) reaches the table, and new
    // unfinished tasks reach the poller.
    let (wtx, mut wrx) = mpsc::unbounded_channel();
    let every = store_watch::interval(&ctx.config.poll);
    store_watch::spawn_every(ctx.store_path.clone(), Some(seq), every, wtx);
    let (to_loop, to_poller, to_downloads) = (tx.clone(), poller.clone(), dl.clone());
    let (to_feeder, poke) = (feeder.clone(), queue_poke.clone());
    tokio::spawn(async move {
        while let Some(rows) = wrx.recv().await {
            // A finished task frees a slot; rows queued or sent change the queue (the watcher
            // sends nothing when the queue is as it was).
            let _ = to_feeder.send(feeder::FeederCmd::Wake);
            let _ = poke.send(());
            for r in rows.iter().filter(|r| r.phase.needs_polling()) {
                let _ = to_poller.send(PollerCmd::Track(Box::new(r.clone())));
            }
            to_downloads.consider(&rows);
            let rows = rows.iter().map(crate::store::TaskRow::from).collect();
            if to_loop.send(Msg::TasksChanged(rows)).is_err() {
                return;
            }
        }
    });

    if more {
        let (engine, to_loop, to_poller) = (ctx.engine.clone(), tx.clone(), poller.clone());
        tokio::spawn(async move {
            // The dashboard keeps trimmed rows; the poller gets the full unfinished ones.
            let read = |s: &crate::store::Store| {
                Ok((s.list_rows(&TaskQuery::default())?, s.unfinished()?))
            };
            match engine.with_store(read).await {
                Ok((rest, unfinished)) => {
                    for r in unfinished {
                        let _ = to_poller.send(PollerCmd::Track(Box::new(r)));
                    }
                    let _ = to_loop.send(Msg::MoreTasksLoaded(rest));
                }
                Err(e) => {
                    let text = format!("could not read the rest of the store: {e}");
                    let _ = to_loop.send(Msg::Notice {
                        level: Level::Error,
                        text,
                    });
                }
            }
        });
    }

    if ctx.demo {
        tokio::spawn(demo::feed(ctx.engine.clone(), Duration::from_secs(5), 40));
    }

    let mux = osc::Mux::detect(|k| std::env::var(k).ok());
    let notifier = match notify::Notifier::from_config(&ctx.config.notify, mux) {
        Ok(n) => n,
        Err(e) => {
            state.notice(Level::Warn, e);
            notify::Notifier::from_config(&crate::config::NotifyConfig::default(), mux)
                .map_err(other)?
        }
    };
    let mut executor = Executor {
        downloads: dl,
        previewer: preview::Previewer::new(ratatui_image::picker::Picker::halfblocks()),
        notifier,
        engine: ctx.engine.clone(),
        poller,
        tx: tx.clone(),
        max_in_flight: ctx.config.submit.max_in_flight,
        feeder,
        queue_poke,
        config_path: ctx.config_path.clone(),
        clipboard: clipboard::Clipboard::detect(
            |k| std::env::var(k).ok(),
            ctx.config.ui.clipboard.as_deref(),
        )
        .await,
        create_gap: if ctx.demo {
            Duration::from_millis(100)
        } else {
            Duration::from_secs_f64(1.0 / ctx.config.poll.requests_per_second.clamp(0.1, 50.0))
        },
    };
    // The detail pane starts hidden, so the first load asks for nothing.
    let rows = rows.iter().map(crate::store::TaskRow::from).collect();
    let _ = update(&mut state, Msg::TasksLoaded(rows));

    let mut term = terminal::enter(opts.mouse || ctx.config.ui.mouse)?;
    let _guard = terminal::RestoreGuard;
    // A graphics-protocol query must happen in raw mode, before terminal events are read.
    let images = ctx.config.ui.images.as_deref().unwrap_or("halfblocks");
    if images == "auto" {
        executor.previewer = preview::Previewer::new(preview::picker(images));
    }
    if let Ok(size) = term.size() {
        update(&mut state, Msg::Resize(size.width, size.height));
    }
    // Pre-flight: the key, and one probe of the base URL off the loop.
    if !ctx.demo {
        let mut searched: Vec<String> = ctx
            .config
            .profile(Some(&ctx.profile_name))
            .ok()
            .and_then(|(_, p)| p.key_env)
            .into_iter()
            .collect();
        searched.extend(crate::config::KEY_ENV_VARS.iter().map(|s| s.to_string()));
        let start = Msg::Preflight {
            key_var: ctx.key_var.clone(),
            searched,
        };
        for effect in update(&mut state, start) {
            executor.run(effect, &mut term, &mut state);
        }
    }
    // The results destination, checked off the loop: a bucket that cannot take results is
    // said in the header before any result is lost.
    if ctx.config.download.auto {
        let (dest, storage, to_loop) = (
            ctx.output_dir.clone(),
            ctx.config.storage.clone(),
            tx.clone(),
        );
        tokio::spawn(async move {
            if let Err(e) = dest.check_writable(&storage).await {
                let _ = to_loop.send(Msg::Destination(e.to_string()));
            }
        });
    }
    let result = event_loop(&mut state, &mut term, &mut rx, &executor).await;
    terminal::restore();
    composer::save_on_exit(&executor.engine, &state).await;
    if let Ok(k) = keeper {
        k.release().await;
    }
    Ok(result?)
}
