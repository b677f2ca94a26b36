//! The runtime: one loop that merges terminal input, poller and store-watcher reports, effect
//! results and a slow clock into messages, runs the reducer, carries out its effects, and draws
//! only when something changed (at most one frame per ~16 ms).

pub mod composer;
pub mod demo;
pub mod download_manager;
pub mod headless;
pub mod lease;
pub mod notify;
pub mod opener;
pub mod osc;
pub mod poller;
pub mod preview;
pub mod store_watch;
pub mod terminal;

use crate::app::keymap::Keymap;
use crate::app::results::ResultsEffect;
use crate::app::{Effect, Level, Msg, State, update};
use crate::cli::args::GlobalArgs;
use crate::cli::context::Context;
use crate::config::Paths;
use crate::engine::{Engine, now};
use crate::store::TaskQuery;
use crate::ui::theme;
use crossterm::event::{Event, EventStream, MouseEventKind};
use futures::StreamExt;
use poller::{PollerCmd, PollerConfig, PollerEvent};
use std::io::{self, Write};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior};

/// The shortest time between two frames.
const FRAME_GAP: Duration = Duration::from_millis(16);

fn other(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

/// Unix second at which today began in local time.
fn local_day_start() -> i64 {
    let now = chrono::Local::now();
    now.date_naive()
        .and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(chrono::Local).earliest())
        .map(|t| t.timestamp())
        .unwrap_or_else(|| now.timestamp() - 86_400)
}

/// Build the initial state from the config: keymap, themes, profile.
fn initial_state(ctx: &Context, g: &GlobalArgs) -> io::Result<State> {
    let keymap = Keymap::with_overrides(&ctx.config.ui.keys).map_err(other)?;
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let (themes, errors) = theme::load_all(Paths::themes_dir().as_deref());
    let wanted = g.theme.clone().or_else(|| ctx.config.ui.theme.clone());
    let (themes, index) = theme::choose(themes, wanted.as_deref(), no_color).map_err(other)?;
    let mut state = State::new(&ctx.profile_name, &ctx.base_url, keymap, themes);
    state.theme_index = index;
    state.composer.defaults = ctx.config.defaults.clone();
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
    let r = &mut state.results;
    r.warn_secs = (config.download.warn_before_expiry_hours.max(0.0) * 3600.0) as i64;
    r.images = config.ui.images.as_deref() != Some("off");
    r.batch_secs = config.notify.batch_secs as i64;
    r.pricing = crate::app::results::Pricing {
        per_million: config.pricing.per_million_tokens,
        models: config.pricing.models.clone().into_iter().collect(),
        currency: config.pricing.currency.clone(),
    };
}

/// Carries out effects that need IO; results come back as messages on `tx`.
struct Executor {
    downloads: download_manager::Downloads,
    previewer: preview::Previewer,
    notifier: notify::Notifier,
    engine: Engine,
    poller: mpsc::UnboundedSender<PollerCmd>,
    tx: mpsc::UnboundedSender<Msg>,
    mux: osc::Mux,
    /// The least time between two creates of a bulk retry.
    create_gap: Duration,
}

/// Resubmit tasks one after another at a pace the rate limit allows, reporting progress; one
/// failure does not stop the rest. The new rows reach the table through the store watcher.
async fn retry_all(
    engine: Engine,
    tx: mpsc::UnboundedSender<Msg>,
    local_ids: Vec<String>,
    gap: Duration,
) {
    let total = local_ids.len();
    let (mut ok, mut failed) = (0usize, Vec::new());
    for (n, id) in local_ids.into_iter().enumerate() {
        if n > 0 {
            tokio::time::sleep(gap).await;
        }
        let outcome = match engine.find(&id).await {
            Ok(original) => engine.retry(&original).await.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        match outcome {
            Ok(_) => ok += 1,
            Err(e) => failed.push(format!("{id}: {e}")),
        }
        if total > 1 {
            let _ = tx.send(Msg::Notice {
                level: Level::Info,
                text: format!(
                    "retry {}/{total}: {ok} sent, {} failed",
                    n + 1,
                    failed.len()
                ),
            });
        }
    }
    let (level, text) = if failed.is_empty() {
        (Level::Info, format!("retried {ok} task(s)"))
    } else {
        (
            Level::Error,
            format!(
                "retried {ok} of {total}; {} failed: {}",
                failed.len(),
                failed.join("; ")
            ),
        )
    };
    let _ = tx.send(Msg::Notice { level, text });
}

impl Executor {
    fn write(&self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let mut out = io::stdout();
        let _ = out.write_all(bytes);
        let _ = out.flush();
    }

    fn results(&self, fx: ResultsEffect) {
        match fx {
            ResultsEffect::Download { local_ids, force } => {
                if self.downloads.enabled() {
                    self.downloads.download(local_ids, force);
                } else {
                    for local_id in local_ids {
                        let transfer = crate::app::results::Transfer::Failed(
                            "another process downloads for this store".into(),
                        );
                        let msg = crate::app::results::ResultsMsg::Transfer { local_id, transfer };
                        let _ = self.tx.send(Msg::Results(msg));
                    }
                }
            }
            ResultsEffect::Preview {
                local_id,
                path,
                url,
                cols,
                rows,
            } => {
                self.previewer
                    .request(local_id, path, url, (cols, rows), self.tx.clone());
            }
            ResultsEffect::Notify { succeeded, failed } => {
                self.write(&self.notifier.bytes(&succeeded, &failed));
            }
            ResultsEffect::Open { path } => {
                let (level, text, clip) = opener::open(&path, self.mux);
                self.write(&clip);
                let _ = self.tx.send(Msg::Notice { level, text });
            }
        }
    }

    /// Returns false when the loop should stop.
    fn run(&self, effect: Effect, term: &mut terminal::Term, state: &mut State) -> bool {
        match effect {
            Effect::Quit => return false,
            Effect::Suspend => {
                if let Err(e) = terminal::suspend(term) {
                    state.notice(Level::Error, format!("could not resume the terminal: {e}"));
                }
                state.dirty = true;
            }
            Effect::SetPaused(p) => {
                let _ = self.poller.send(PollerCmd::Pause(p));
            }
            Effect::RefreshNow => {
                let _ = self.poller.send(PollerCmd::RefreshNow);
            }
            Effect::Copy(text) => {
                let mut out = io::stdout();
                let _ = out.write_all(&osc::clipboard(&text, self.mux));
                let _ = out.flush();
            }
            Effect::LoadHistory(local_id) => {
                let (engine, tx) = (self.engine.clone(), self.tx.clone());
                tokio::spawn(async move {
                    let id = local_id.clone();
                    if let Ok(entries) = engine.with_store(move |s| s.history(&id)).await {
                        let _ = tx.send(Msg::History { local_id, entries });
                    }
                });
            }
            Effect::Composer(e) => {
                composer::spawn(e, self.engine.clone(), self.tx.clone());
            }
            Effect::Results(fx) => self.results(fx),
            Effect::Retry(local_ids) => {
                let (engine, tx, gap) = (self.engine.clone(), self.tx.clone(), self.create_gap);
                tokio::spawn(retry_all(engine, tx, local_ids, gap));
            }
            Effect::CancelTask(local_id) => {
                let (engine, tx) = (self.engine.clone(), self.tx.clone());
                tokio::spawn(async move {
                    let result = async {
                        let rec = engine.find(&local_id).await.map_err(|e| e.to_string())?;
                        engine.cancel(&rec).await.map_err(|e| e.to_string())?;
                        let (fresh, _) = engine.poll(&rec).await.map_err(|e| e.to_string())?;
                        Ok::<_, String>(fresh)
                    }
                    .await;
                    let msg = match result {
                        Ok(r) => Msg::TasksChanged(vec![r]),
                        Err(e) => Msg::Notice {
                            level: Level::Error,
                            text: format!("cancel failed: {e}"),
                        },
                    };
                    let _ = tx.send(msg);
                });
            }
        }
        true
    }
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

/// Open the dashboard and run until the user quits (or the terminal goes away).
pub async fn run_dashboard(ctx: Context, g: &GlobalArgs) -> io::Result<()> {
    let mut state = initial_state(&ctx, g)?;
    // The change sequence is read before the rows: a change in between is reported again by the
    // store watcher (harmless), never lost.
    let (seq, rows) = ctx
        .engine
        .with_store(|s| Ok((s.change_seq()?, s.list(&TaskQuery::default())?)))
        .await
        .map_err(other)?;
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
    // The gate: only the lease holder polls and downloads. Work that only one process per
    // store may do (the download manager too) is switched on and off in this closure.
    match &keeper {
        Ok(k) => {
            let (to_poller, to_downloads) = (poller.clone(), dl.clone());
            lease::gate(k.role(), move |role| {
                let _ = to_poller.send(PollerCmd::Role(role.clone()));
                to_downloads.set_active(matches!(role, lease::Role::Leader));
            });
        }
        Err(e) => {
            state.notice(
                Level::Warn,
                format!("no poller lease ({e}); polling anyway"),
            );
            let _ = poller.send(PollerCmd::Role(lease::Role::Leader));
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
    store_watch::spawn(ctx.store_path.clone(), Some(seq), wtx);
    let (to_loop, to_poller, to_downloads) = (tx.clone(), poller.clone(), dl.clone());
    tokio::spawn(async move {
        while let Some(rows) = wrx.recv().await {
            for r in rows.iter().filter(|r| r.phase.needs_polling()) {
                let _ = to_poller.send(PollerCmd::Track(Box::new(r.clone())));
            }
            to_downloads.consider(&rows);
            if to_loop.send(Msg::TasksChanged(rows)).is_err() {
                return;
            }
        }
    });

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
        mux,
        create_gap: if ctx.demo {
            Duration::from_millis(100)
        } else {
            Duration::from_secs_f64(1.0 / ctx.config.poll.requests_per_second.clamp(0.1, 50.0))
        },
    };
    // The detail pane starts hidden, so the first load asks for nothing.
    let _ = update(&mut state, Msg::TasksLoaded(rows));

    let mut term = terminal::enter(g.mouse || ctx.config.ui.mouse)?;
    let _guard = terminal::RestoreGuard;
    // A graphics-protocol query must happen in raw mode, before terminal events are read.
    let images = ctx.config.ui.images.as_deref().unwrap_or("halfblocks");
    if images == "auto" {
        executor.previewer = preview::Previewer::new(preview::picker(images));
    }
    if let Ok(size) = term.size() {
        update(&mut state, Msg::Resize(size.width, size.height));
    }
    let result = event_loop(&mut state, &mut term, &mut rx, &executor).await;
    terminal::restore();
    composer::save_on_exit(&executor.engine, &state).await;
    if let Ok(k) = keeper {
        k.release().await;
    }
    result
}

async fn event_loop(
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
                    MouseEventKind::ScrollDown => {
                        let fx = crate::app::update::apply(state, crate::app::Intent::MoveDown);
                        run_all(fx, executor, term, state);
                        continue;
                    }
                    MouseEventKind::ScrollUp => {
                        let fx = crate::app::update::apply(state, crate::app::Intent::MoveUp);
                        run_all(fx, executor, term, state);
                        continue;
                    }
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
