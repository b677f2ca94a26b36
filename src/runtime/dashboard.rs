//! What the dashboard face needs around its loop: the first state (the config, the theme files,
//! the clock), the store's first page and the rest behind it, the executor (previews, the
//! notifier, the clipboard), and the workers' reports as messages.

use super::download_manager::DownloadSettings;
use super::event_loop::local_day_start;
use super::executor::Executor;
use super::feeder::FeederEvent;
use super::poller::PollerEvent;
use super::workers::{Plan, Report, Workers};
use super::{clipboard, notify, osc, preview};
use crate::app::keymap::Keymap;
use crate::app::start::Start;
use crate::app::{Level, Msg, State, update};
use crate::config::Paths;
use crate::context::Context;
use crate::engine::now;
use crate::store::{Store, StoreError, TaskQuery, TaskRow};
use crate::theme;
use std::time::Duration;
use tokio::sync::mpsc;

/// What the command line adds to the config for the dashboard.
#[derive(Debug, Clone, Default)]
pub struct DashboardOptions {
    /// `--theme`: the theme to start with (else `[ui] theme`).
    pub(crate) theme: Option<String>,
    /// `--mouse`: capture the mouse (else `[ui] mouse`).
    pub(crate) mouse: bool,
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
    Io(#[from] std::io::Error),
}

/// Rows read before the first frame; the rest of the store follows in the background.
pub(super) const FIRST_PAGE: usize = 1_000;

/// Build the first state from the config: keymap, themes, profile.
pub(super) fn initial_state(
    ctx: &Context,
    opts: &DashboardOptions,
) -> Result<State, DashboardError> {
    let keymap = Keymap::with_overrides(&ctx.config.ui.keys).map_err(DashboardError::Config)?;
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let (themes, errors) = theme::load_all(Paths::themes_dir().as_deref());
    let wanted = opts.theme.clone().or_else(|| ctx.config.ui.theme.clone());
    let (themes, theme_index) =
        theme::choose(themes, wanted.as_deref(), no_color).map_err(|e| {
            // A theme file that exists but is broken says what is wrong with it.
            let broken = errors.iter().find(|b| Some(b.theme()) == wanted.as_deref());
            DashboardError::Config(broken.unwrap_or(&e).to_string())
        })?;
    State::start(Start {
        config: &ctx.config,
        profile: &ctx.profile_name,
        base_url: &ctx.base_url,
        keymap,
        themes,
        theme_index,
        warnings: errors.iter().map(|e| e.to_string()).collect(),
        key_var: ctx.key_var.as_deref(),
        uploads: ctx.engine.reference_bucket.is_some(),
        demo: ctx.demo,
        now: now(),
        today_start: local_day_start(),
    })
    .map_err(DashboardError::Config)
}

/// The store's newest page and what is needed to read the rest behind it.
pub(super) struct FirstPage {
    /// The change sequence, read before the rows: a change in between is reported again by the
    /// store watcher (harmless), never lost.
    pub seq: i64,
    pub rows: Vec<TaskRow>,
    /// There may be more behind the page.
    pub more: bool,
    /// Where the store lives (the rest is read on a connection of its own).
    pub location: crate::store::StoreLocation,
    /// When the store's day began, if the store names one (PostgreSQL: the server's day).
    pub day: Option<i64>,
}

/// The store's newest page.
pub(super) async fn first_page(ctx: &Context) -> std::io::Result<FirstPage> {
    let page = TaskQuery {
        limit: Some(FIRST_PAGE),
        ..TaskQuery::default()
    };
    let now = now();
    let (seq, rows, location, day) = ctx
        .engine
        .with_store(move |s| {
            // A store that cannot name its day leaves the header on the local one; the cap's
            // own check reports the error where it refuses.
            let day = s.shared_day(now).ok().flatten().map(|d| d.start);
            Ok((
                s.change_seq()?,
                s.list_rows(&page)?,
                s.location().clone(),
                day,
            ))
        })
        .await
        .map_err(std::io::Error::other)?;
    let more = rows.len() >= FIRST_PAGE;
    Ok(FirstPage {
        seq,
        rows,
        more,
        location,
        day,
    })
}

/// Read the rest of the store behind the first page for the table,
/// in one pass. A row changed or added since the first page was read is the store watcher's.
/// The rows are read on a connection of their own, so the workers' first reads and polls do not
/// wait for them (nor they for the workers).
pub(super) fn load_rest(page: &FirstPage, tx: mpsc::UnboundedSender<Msg>) {
    let after = page
        .rows
        .last()
        .map(|r| (r.created_at, r.local_id.to_string()));
    let location = page.location.clone();
    tokio::spawn(async move {
        let rows = tokio::task::spawn_blocking(move || {
            Store::open_location(&location)?
                .rows_after(after.as_ref().map(|(c, id)| (*c, id.as_str())))
        })
        .await
        .unwrap_or_else(|e| Err(StoreError::Sql(format!("store task failed: {e}"))));
        let msg = match rows {
            Ok(rest) => Msg::MoreTasksLoaded(rest),
            Err(e) => Msg::Notice {
                level: Level::Error,
                text: format!("could not read the rest of the store: {e}"),
            },
        };
        let _ = tx.send(msg);
    });
}

/// The download manager's settings from the config (the demo downloads into its own folder).
pub(super) fn download_settings(ctx: &Context) -> DownloadSettings {
    let mut s = DownloadSettings::new(ctx.output_dir.clone(), ctx.config.download.template.clone());
    s.concurrency = ctx.config.download.concurrency.clamp(1, 16);
    s.auto = ctx.config.download.auto;
    s
}

/// The workers' reports as the loop's messages. A poller update shows at once (the record the
/// poller has); the store watcher's rows follow with every commit, this process's or another's.
pub(super) fn forward(
    mut reports: mpsc::UnboundedReceiver<Report>,
    tx: mpsc::UnboundedSender<Msg>,
) {
    tokio::spawn(async move {
        while let Some(report) = reports.recv().await {
            let msg = match report {
                Report::Rows(rows) => Msg::TasksChanged(rows.iter().map(TaskRow::from).collect()),
                Report::Poller(PollerEvent::Updated { record, changed }) => {
                    if !changed {
                        continue;
                    }
                    Msg::TasksChanged(vec![TaskRow::from(&*record)])
                }
                Report::Poller(PollerEvent::Failed {
                    local_id,
                    message,
                    transient,
                }) => Msg::PollFailed {
                    local_id,
                    error: message,
                    transient,
                },
                Report::Poller(PollerEvent::Health(h)) => Msg::Health(h),
                Report::Poller(PollerEvent::Eta(model)) => Msg::Eta(model),
                Report::Feeder(ev) => match feeder_notice(ev) {
                    Some((level, text)) => Msg::Notice { level, text },
                    None => continue,
                },
                Report::Queue(info) => Msg::Queue(info),
                // The poller's health carries who polls.
                Report::Role(_) => continue,
            };
            if tx.send(msg).is_err() {
                return;
            }
        }
    });
}

/// The feeder's news worth a notice (the store watcher shows the rows it sent).
fn feeder_notice(ev: FeederEvent) -> Option<(Level, String)> {
    Some(match ev {
        FeederEvent::Held { reason, .. } => (Level::Warn, format!("queue held: {reason}")),
        FeederEvent::Resumed => (Level::Info, "queue resumed".to_string()),
        FeederEvent::Abandoned(n) => (
            Level::Warn,
            format!(
                "{n} queued request(s) were being sent by a process that stopped: marked submit_unknown (check before sending again)"
            ),
        ),
        FeederEvent::StoreFailed(m) => (
            Level::Warn,
            format!("the queue could not read the store: {m}"),
        ),
        FeederEvent::Sent(_) | FeederEvent::Rejected(_) | FeederEvent::Unknown(_) => return None,
    })
}

/// The executor: the workers' handles, the previewer, the notifier and the clipboard; a notifier
/// the config cannot describe is a warning (the default one is used).
pub(super) async fn executor(
    ctx: &Context,
    workers: &Workers,
    tx: mpsc::UnboundedSender<Msg>,
) -> std::io::Result<Executor> {
    let mux = osc::Mux::detect(|k| std::env::var(k).ok());
    let notifier = match notify::Notifier::from_config(&ctx.config.notify, mux) {
        Ok(n) => n,
        Err(e) => {
            let _ = tx.send(Msg::Notice {
                level: Level::Warn,
                text: e.to_string(),
            });
            notify::Notifier::from_config(&crate::config::NotifyConfig::default(), mux)
                .map_err(|e| std::io::Error::other(e.to_string()))?
        }
    };
    let clipboard = clipboard::Clipboard::detect(
        |k| std::env::var(k).ok(),
        ctx.config.ui.clipboard.as_deref(),
    )
    .await;
    Ok(Executor {
        downloads: workers.downloads.clone(),
        previewer: preview::Previewer::new(ratatui_image::picker::Picker::halfblocks()),
        notifier,
        engine: ctx.engine.clone(),
        poller: workers.poller.clone(),
        tx,
        max_in_flight: ctx.config.submit.max_in_flight,
        feeder: workers.feeder.clone(),
        queue_poke: workers.queue_poke.clone(),
        config_path: ctx.config_path.clone(),
        clipboard,
        create_gap: if ctx.demo {
            Duration::from_millis(100)
        } else {
            Duration::from_secs_f64(1.0 / ctx.config.poll.requests_per_second.clamp(0.1, 50.0))
        },
    })
}

/// The pre-flight message (where the key came from and where it was looked for); none in the
/// demo.
pub(super) fn preflight(ctx: &Context) -> Option<Msg> {
    if ctx.demo {
        return None;
    }
    let mut searched: Vec<String> = ctx
        .config
        .profile(Some(&ctx.profile_name))
        .ok()
        .and_then(|(_, p)| p.key_env)
        .into_iter()
        .collect();
    searched.extend(crate::config::KEY_ENV_VARS.iter().map(|s| s.to_string()));
    Some(Msg::Preflight {
        key_var: ctx.key_var.clone(),
        searched,
    })
}

pub(super) type Prepared = (State, Executor, Workers, mpsc::UnboundedReceiver<Msg>);

/// The first state with the store's newest page, the workers and the executor.
pub(super) async fn prepare(
    ctx: &Context,
    opts: &DashboardOptions,
) -> Result<Prepared, DashboardError> {
    let mut state = initial_state(ctx, opts)?;
    let page = first_page(ctx).await?;
    if let Some(today_start) = page.day {
        // The header's "today" is the day the store's cap counts.
        update(
            &mut state,
            Msg::DayStarted {
                today_start,
                shared: true,
            },
        );
    }
    let (tx, rx) = mpsc::unbounded_channel::<Msg>();
    let (reports_tx, reports) = mpsc::unbounded_channel();
    let plan = Plan {
        holder: "dashboard",
        lease_required: false,
        seq: Some(page.seq),
        max_in_flight: ctx.config.submit.max_in_flight,
        downloads: Some((download_settings(ctx), tx.clone())),
        queue_view: true,
        demo: ctx.demo,
    };
    let workers = Workers::start(ctx, plan, reports_tx).map_err(std::io::Error::other)?;
    if let Some(e) = &workers.lease_problem {
        let text = format!("no poller lease ({e}); polling anyway");
        update(
            &mut state,
            Msg::Notice {
                level: Level::Warn,
                text,
            },
        );
    }
    forward(reports, tx.clone());
    check_destination(ctx, tx.clone());
    if page.more {
        load_rest(&page, tx.clone());
    }
    let executor = executor(ctx, &workers, tx).await?;
    // The detail pane starts hidden, so the first load asks for nothing.
    let _ = update(&mut state, Msg::TasksLoaded(page.rows));
    Ok((state, executor, workers, rx))
}

/// The results destination, checked off the loop: a bucket that cannot take results is said in
/// the header before any result is lost.
fn check_destination(ctx: &Context, tx: mpsc::UnboundedSender<Msg>) {
    if !ctx.config.download.auto {
        return;
    }
    let (dest, storage) = (ctx.output_dir.clone(), ctx.config.storage.clone());
    tokio::spawn(async move {
        if let Err(e) = dest.check_writable(&storage).await {
            let _ = tx.send(Msg::Destination(e.to_string()));
        }
    });
}
