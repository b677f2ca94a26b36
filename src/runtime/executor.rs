//! Carries out the reducer's effects that need IO; results come back as messages.

use super::poller::PollerCmd;
use super::{composer, download_manager, notify, opener, osc, preview, terminal};
use crate::app::results::ResultsEffect;
use crate::app::{Effect, Level, Msg, State};
use crate::engine::Engine;
use std::io::{self, Write};
use std::time::Duration;
use tokio::sync::mpsc;

/// Carries out effects that need IO; results come back as messages on `tx`.
pub(super) struct Executor {
    pub downloads: download_manager::Downloads,
    pub previewer: preview::Previewer,
    pub notifier: notify::Notifier,
    pub engine: Engine,
    pub poller: mpsc::UnboundedSender<PollerCmd>,
    pub tx: mpsc::UnboundedSender<Msg>,
    pub mux: osc::Mux,
    /// The least time between two creates of a bulk retry.
    pub create_gap: Duration,
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
                // An object in a bucket opens (in a browser) through a presigned link.
                let path = if crate::s3::parse_object_url(&path).is_some() {
                    match self.presign(&path) {
                        Ok(link) => link,
                        Err(e) => {
                            let text = format!("cannot sign a link to {path}: {e}");
                            let _ = self.tx.send(Msg::Notice {
                                level: Level::Error,
                                text,
                            });
                            return;
                        }
                    }
                } else {
                    path
                };
                let (level, text, clip) = opener::open(&path, self.mux);
                self.write(&clip);
                let _ = self.tx.send(Msg::Notice { level, text });
            }
        }
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

    /// Returns false when the loop should stop.
    pub fn run(&self, effect: Effect, term: &mut terminal::Term, state: &mut State) -> bool {
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
            Effect::CopyPresigned(object_url) => match self.presign(&object_url) {
                Ok(link) => {
                    let mut out = io::stdout();
                    let _ = out.write_all(&osc::clipboard(&link, self.mux));
                    let _ = out.flush();
                    state.notice(Level::Info, "copied a presigned link (valid 1 hour)");
                }
                Err(e) => state.notice(Level::Error, format!("cannot sign a link: {e}")),
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
