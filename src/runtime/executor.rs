//! Carries out the reducer's effects that need IO; results come back as messages.

use super::poller::PollerCmd;
use super::{clipboard, composer, download_manager, notify, opener, preview};
use crate::app::queue::QueueEffect;
use crate::app::results::ResultsEffect;
use crate::app::{Effect, Level, Msg};
use crate::engine::{Engine, SubmitError};
use crate::store::StoreError;
use std::io::{self, Write};
use std::time::Duration;
use tokio::sync::mpsc;

/// Carries out effects that need IO; results come back as messages on `tx`.
pub(super) struct Executor {
    pub(crate) downloads: download_manager::Downloads,
    pub(crate) previewer: preview::Previewer,
    pub(crate) notifier: notify::Notifier,
    pub(crate) engine: Engine,
    pub(crate) poller: mpsc::UnboundedSender<PollerCmd>,
    pub(crate) tx: mpsc::UnboundedSender<Msg>,
    pub(crate) clipboard: clipboard::Clipboard,
    /// The least time between two creates of a bulk retry.
    pub(crate) create_gap: Duration,
    /// `[submit] max_in_flight`: the composer queues its request at this many in flight.
    pub(crate) max_in_flight: usize,
    /// Wakes the feeder after a change to the queue.
    pub(crate) feeder: mpsc::UnboundedSender<super::feeder::FeederCmd>,
    /// Asks the queue watcher to re-read the queue now.
    pub(crate) queue_poke: mpsc::UnboundedSender<()>,
    /// The config file, where the column chooser keeps `[ui] columns`.
    pub(crate) config_path: std::path::PathBuf,
}

/// Keep `[ui] columns` in the config file (comments and everything else stay), written to a
/// temporary file and renamed, private to the user.
fn save_columns(path: &std::path::Path, columns: &[String]) -> Result<(), String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let new = crate::config::Config::with_ui_columns(&text, columns);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let tmp = path.with_extension("toml.tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    f.write_all(new.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("cannot write {}: {e}", path.display()))
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
    let (mut ok, mut failed, mut already) = (0usize, Vec::new(), Vec::new());
    for (n, id) in local_ids.into_iter().enumerate() {
        if n > 0 {
            tokio::time::sleep(gap).await;
        }
        let outcome = match engine.find(&id).await {
            Ok(original) => engine.retry(&original).await,
            Err(e) => Err(e.into()),
        };
        match outcome {
            Ok(_) => ok += 1,
            // Retried since the question was asked (a second confirmation, another process):
            // the store refused the new row, nothing was sent.
            Err(SubmitError::Store(e @ StoreError::AlreadyRetried { .. })) => {
                already.push(e.to_string())
            }
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
    let skipped = if already.is_empty() {
        String::new()
    } else {
        format!("; skipped {}", already.join(", "))
    };
    let (level, text) = if failed.is_empty() {
        (Level::Info, format!("retried {ok} task(s){skipped}"))
    } else {
        (
            Level::Error,
            format!(
                "retried {ok} of {total}; {} failed: {}{skipped}",
                failed.len(),
                failed.join("; ")
            ),
        )
    };
    let _ = tx.send(Msg::Notice { level, text });
}

impl Executor {
    /// An outcome for the reducer, on the loop's channel.
    pub(crate) fn send(&self, msg: Msg) {
        let _ = self.tx.send(msg);
    }

    fn write(&self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let mut out = io::stdout();
        let _ = out.write_all(bytes);
        let _ = out.flush();
    }

    /// Write a copy's escape sequences now (between frames) and load tmux's buffer off the
    /// loop; the answer (`Msg::Copied`) says whether a route is known to have carried it.
    fn copy(&self, text: String) {
        let plan = self.clipboard.plan(&text);
        self.write(&plan.bytes);
        let (tmux, tx) = (self.clipboard.tmux.clone(), self.tx.clone());
        tokio::spawn(async move {
            let route = clipboard::finish(&plan, tmux.as_deref(), &text).await;
            let _ = tx.send(Msg::Copied { text, route });
        });
    }

    fn notice(&self, level: Level, text: String) {
        let _ = self.tx.send(Msg::Notice { level, text });
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
            ResultsEffect::Sheet {
                local_id,
                path,
                frames,
                cols,
                rows,
                labels,
            } => {
                self.previewer.sheets.request(
                    local_id,
                    path,
                    frames,
                    (cols, rows),
                    labels,
                    self.tx.clone(),
                );
            }
            ResultsEffect::Notify { succeeded, failed } => {
                self.write(&self.notifier.bytes(&succeeded, &failed));
            }
            ResultsEffect::Open { path } => {
                // An object in a bucket opens (in a browser) through a presigned link.
                let path = if crate::s3::parse_object_url(&path).is_some() {
                    match self.presign(&path) {
                        Ok(link) => link,
                        Err(e) => {
                            self.notice(Level::Error, format!("cannot sign a link to {path}: {e}"));
                            return;
                        }
                    }
                } else {
                    path
                };
                let (level, text, scp) = opener::open(&path);
                let copying = scp.as_ref().map(|(_, label)| label.to_string());
                let _ = self.tx.send(Msg::Opened {
                    level,
                    text,
                    copying,
                });
                // After `Opened` on the same channel, so the copy's answer finds its label.
                if let Some((text, _)) = scp {
                    self.copy(text);
                }
            }
        }
    }

    /// Pause, reorder or shorten the queue in the store, then let the feeder and the queue
    /// watcher see it.
    fn queue(&self, fx: QueueEffect) {
        let (engine, tx) = (self.engine.clone(), self.tx.clone());
        let (feeder, poke) = (self.feeder.clone(), self.queue_poke.clone());
        tokio::spawn(async move {
            let done = match fx {
                QueueEffect::SetPaused(p) => {
                    engine.with_store(move |s| s.set_queue_paused(p)).await
                }
                QueueEffect::Move { local_id, up } => {
                    engine
                        .with_store(move |s| s.queue_move(&local_id, up).map(|_| ()))
                        .await
                }
                QueueEffect::Remove(ids) => {
                    engine
                        .with_store(move |s| s.queue_remove(&ids).map(|_| ()))
                        .await
                }
            };
            if let Err(e) = done {
                let _ = tx.send(Msg::Notice {
                    level: Level::Error,
                    text: format!("the queue could not be changed: {e}"),
                });
            }
            let _ = feeder.send(super::feeder::FeederCmd::Wake);
            let _ = poke.send(());
        });
    }

    /// A presigned GET link (1 hour) to `s3://BUCKET/KEY`.
    fn presign(&self, object_url: &str) -> Result<String, String> {
        let (location, key) = crate::s3::parse_object_url(object_url)
            .ok_or_else(|| format!("{object_url} is not an object URL"))?;
        self.engine
            .s3_client(&location)
            .and_then(|c| c.presign_get(&key, Duration::from_secs(3600)))
            .map_err(|e| e.to_string())
    }

    /// Returns false when the loop should stop. Every outcome comes back as a message on `tx`;
    /// the executor never sees the state. `Effect::Suspend` belongs to the loop (it owns the
    /// terminal): here it does nothing.
    pub(crate) fn run(&self, effect: Effect) -> bool {
        match effect {
            Effect::Quit => return false,
            Effect::Suspend => {}
            Effect::SetPaused(p) => {
                let _ = self.poller.send(PollerCmd::Pause(p));
            }
            Effect::RefreshNow => {
                let _ = self.poller.send(PollerCmd::RefreshNow);
            }
            Effect::Copy(text) => self.copy(text),
            Effect::CopyPresigned(object_url) => match self.presign(&object_url) {
                Ok(link) => self.copy(link),
                Err(e) => self.notice(Level::Error, format!("cannot sign a link: {e}")),
            },
            Effect::LoadHistory(local_id) => {
                let (engine, tx) = (self.engine.clone(), self.tx.clone());
                tokio::spawn(async move {
                    let id = local_id.clone();
                    if let Ok(entries) = engine.with_store(move |s| s.history(&id)).await {
                        let _ = tx.send(Msg::History { local_id, entries });
                    }
                });
            }
            Effect::LoadBodies(local_id) => {
                let (engine, tx) = (self.engine.clone(), self.tx.clone());
                tokio::spawn(async move {
                    let id = local_id.clone();
                    let result = match engine.with_store(move |s| s.bodies(&id)).await {
                        Ok(Some(b)) => Ok(b),
                        Ok(None) => Err("the task is no longer in the store".to_string()),
                        Err(e) => Err(e.to_string()),
                    };
                    let _ = tx.send(Msg::Bodies { local_id, result });
                });
            }
            Effect::Composer(e) => {
                composer::spawn(e, self.engine.clone(), self.tx.clone(), self.max_in_flight);
            }
            Effect::Results(fx) => self.results(fx),
            Effect::RemoveLocal(local_ids) => {
                let (engine, tx) = (self.engine.clone(), self.tx.clone());
                tokio::spawn(async move {
                    let msg = match engine.with_store(move |s| s.delete_local(&local_ids)).await {
                        Ok(removed) => Msg::TasksRemoved(removed),
                        Err(e) => Msg::Notice {
                            level: Level::Error,
                            text: format!("could not remove the rows: {e}"),
                        },
                    };
                    let _ = tx.send(msg);
                });
            }
            Effect::Adopt { local_id, task_id } => {
                let (engine, tx) = (self.engine.clone(), self.tx.clone());
                tokio::spawn(async move {
                    let msg = match engine.adopt_confirmed(&local_id, &task_id).await {
                        Ok(r) => Msg::Notice {
                            level: Level::Info,
                            text: format!(
                                "{} adopted {} ({})",
                                r.local_id,
                                r.task_id.as_deref().unwrap_or_default(),
                                r.phase.as_str()
                            ),
                        },
                        Err(e) => Msg::Notice {
                            level: Level::Error,
                            text: format!("not adopted: {e}"),
                        },
                    };
                    let _ = tx.send(msg);
                });
            }
            Effect::Probe(base_url) => {
                let (engine, tx) = (self.engine.clone(), self.tx.clone());
                tokio::spawn(async move {
                    let probe = engine.client.probe().await;
                    let url_problems = crate::config::check_base_url(&base_url);
                    let _ = tx.send(Msg::Probed {
                        verdict: probe.verdict,
                        url_problems,
                    });
                });
            }
            Effect::Queue(fx) => self.queue(fx),
            Effect::SaveColumns(columns) => {
                let (path, tx) = (self.config_path.clone(), self.tx.clone());
                tokio::task::spawn_blocking(move || {
                    let (level, text) = match save_columns(&path, &columns) {
                        Ok(()) => (
                            Level::Info,
                            format!("columns: {} (saved in the config)", columns.join(", ")),
                        ),
                        Err(e) => (Level::Error, format!("the columns were not saved: {e}")),
                    };
                    let _ = tx.send(Msg::Notice { level, text });
                });
            }
            Effect::Retry(local_ids) => {
                let (engine, tx, gap) = (self.engine.clone(), self.tx.clone(), self.create_gap);
                tokio::spawn(retry_all(engine, tx, local_ids, gap));
            }
            Effect::RetryOverBudget(local_ids) => {
                let (engine, tx, gap) = (
                    self.engine.without_spending_cap(),
                    self.tx.clone(),
                    self.create_gap,
                );
                tokio::spawn(retry_all(engine, tx, local_ids, gap));
            }
            Effect::CancelTask(local_id) => {
                let (engine, tx) = (self.engine.clone(), self.tx.clone());
                tokio::spawn(async move {
                    let result = async {
                        let rec = engine.find(&local_id).await.map_err(|e| e.to_string())?;
                        let cancelled = engine.cancel(&rec).await;
                        // A task the server forgot is not "not found" to the user: the poll
                        // settles it as lost (retryable), which the log says.
                        if let Err(crate::engine::PollError::Api(e)) = &cancelled
                            && crate::engine::is_task_gone(e)
                        {
                            let (fresh, _) = engine.poll(&rec).await.map_err(|e| e.to_string())?;
                            return Ok(fresh);
                        }
                        cancelled.map_err(|e| e.to_string())?;
                        let (fresh, _) = engine.poll(&rec).await.map_err(|e| e.to_string())?;
                        Ok::<_, String>(fresh)
                    }
                    .await;
                    let msg = match result {
                        Ok(r) => Msg::TasksChanged(vec![r.into()]),
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
