//! Acting on tasks and the dashboard: pause and refresh polling, cancel or remove, retry (asked
//! first, with the count and the tokens), quit, and the composer's, the results' and the copy
//! menu's intents handed on.

use super::effect::Effect;
use super::msg::{Intent, Level};
use super::state::{Overlay, Question, RetryPlan, State};
use super::{composer, copy, results};
use crate::api::TaskStatus;
use crate::store::{Phase, TaskRow};

/// The answer to an acting intent (every intent that is neither an overlay's nor a move).
pub(super) fn apply(state: &mut State, intent: Intent) -> Vec<Effect> {
    match (&state.overlay, intent) {
        (_, Intent::QueuePause | Intent::QueueUp | Intent::QueueDown | Intent::QueueRemove) => {
            super::queue::apply(state, intent)
        }
        (_, Intent::TogglePause) => {
            let paused = !state.health.paused;
            state.health.paused = paused;
            if !paused {
                state.health.banner = None;
            }
            state.notice(
                Level::Info,
                if paused {
                    "polling paused"
                } else {
                    "polling resumed"
                },
            );
            vec![Effect::SetPaused(paused)]
        }
        (_, Intent::RefreshNow) => {
            state.notice(Level::Info, "refreshing every unfinished task");
            vec![Effect::RefreshNow]
        }
        (_, Intent::CopyMenu) => {
            if state.selected_task().is_some() {
                state.overlay = Overlay::CopyMenu;
            }
            Vec::new()
        }
        (_, Intent::Help) => {
            state.overlay = Overlay::Help { scroll: 0 };
            Vec::new()
        }
        (_, Intent::ShowLog) => {
            state.overlay = Overlay::Log { scroll: 0 };
            state.unseen_events = 0;
            Vec::new()
        }
        (_, Intent::CycleTheme) => {
            state.theme_index = (state.theme_index + 1) % state.themes.len().max(1);
            let name = state.theme().name.clone();
            state.notice(Level::Info, format!("theme: {name}"));
            Vec::new()
        }
        (_, Intent::CancelTask) => {
            let local: Vec<String> = state
                .targets()
                .into_iter()
                .filter(|t| never_reached_server(t))
                .map(|t| t.local_id.to_string())
                .collect();
            if !local.is_empty() {
                state.overlay = Overlay::Confirm(Question::RemoveLocal { local_ids: local });
                return Vec::new();
            }
            match state.selected_task() {
                Some(t) if t.phase == Phase::Remote(TaskStatus::Queued) => {
                    state.overlay = Overlay::Confirm(Question::Cancel {
                        local_id: t.local_id.to_string(),
                    });
                }
                Some(t) => {
                    let msg = format!(
                        "only queued tasks can be cancelled ({} is {})",
                        t.display_id(),
                        t.phase
                    );
                    state.notice(Level::Warn, msg);
                }
                None => {}
            }
            Vec::new()
        }
        (_, Intent::Adopt) => {
            let Some(t) = state.selected_task() else {
                return Vec::new();
            };
            let candidate = (t.phase == Phase::SubmitUnknown
                && t.error_code() == Some(crate::engine::reconcile::PROBABLE))
            .then(|| {
                t.error_message()
                    .and_then(crate::engine::reconcile::probable_candidate)
            })
            .flatten();
            match candidate {
                Some(task_id) => {
                    state.overlay = Overlay::Confirm(Question::Adopt {
                        local_id: t.local_id.to_string(),
                        task_id: task_id.to_string(),
                    });
                }
                None => {
                    let msg = format!(
                        "{}: nothing to adopt (only an uncertain create with a probable match on the server)",
                        t.display_id()
                    );
                    state.notice(Level::Warn, msg);
                }
            }
            Vec::new()
        }
        (_, Intent::Palette) => super::palette::open(state),
        (_, Intent::Columns) => super::column_chooser::open(state),
        (_, Intent::Suspend) => vec![Effect::Suspend],
        (_, Intent::Quit) => {
            // The composer's submission counts before the store reports its row.
            let composing = usize::from(state.composer.submitting.is_some());
            let in_flight = state.in_flight().max(composing);
            if in_flight > 0 {
                state.overlay = Overlay::Confirm(Question::Quit { in_flight });
                Vec::new()
            } else {
                vec![Effect::Quit]
            }
        }
        (_, Intent::ForceQuit) => vec![Effect::Quit],
        (_, Intent::Retry) => {
            let targets: Vec<TaskRow> = state.targets().into_iter().cloned().collect();
            ask_retry(state, targets);
            Vec::new()
        }
        (_, Intent::RetryAllFailed) => {
            let targets: Vec<TaskRow> = state
                .order
                .iter()
                .map(|&i| state.tasks[i].clone())
                .filter(|t| t.phase == Phase::Remote(TaskStatus::Failed))
                .collect();
            ask_retry(state, targets);
            Vec::new()
        }
        (_, Intent::NewDraft) => composer::new_draft(state),
        (_, Intent::Edit) => composer::edit_task(state),
        (_, Intent::Composer(ci)) => composer::apply(state, ci),
        (_, Intent::Download) => results::download(state),
        (_, Intent::Open) => results::open(state),
        (_, Intent::Summary) => results::show_summary(state),
        (_, Intent::Copy(what)) => copy::copy(state, what),
        _ => Vec::new(),
    }
}

/// A row no task on the server stands behind: refused before or by the create (no id), so
/// removing it loses nothing but the record. A row whose outcome is unknown may exist there.
pub(crate) fn never_reached_server(t: &TaskRow) -> bool {
    t.task_id.is_none() && t.phase == Phase::Rejected
}

/// Ask once, with the count and the estimated tokens, before resubmitting `targets`.
fn ask_retry(state: &mut State, targets: Vec<TaskRow>) {
    let total = targets.len();
    let retryable: Vec<&TaskRow> = targets
        .iter()
        .filter(|t| crate::engine::retryable(*t))
        .collect();
    // A retry chain is retried only at its head: skip (and name) what was already retried.
    let mut already = Vec::new();
    let mut chosen = Vec::new();
    for t in retryable {
        match retried_by(state, &t.local_id) {
            Some(newer) => already.push(format!(
                "{} → {} ({})",
                t.display_id(),
                newer.display_id(),
                newer.phase
            )),
            None => chosen.push(t),
        }
    }
    if chosen.is_empty() && !already.is_empty() {
        state.notice(
            Level::Warn,
            format!("nothing to retry: already retried {}", already.join(", ")),
        );
        return;
    }
    if chosen.is_empty() {
        let msg = if total == 0 {
            "nothing to retry: select or mark failed, expired or cancelled tasks".to_string()
        } else {
            format!("nothing to retry: {total} task(s) are not failed, expired or cancelled")
        };
        state.notice(Level::Warn, msg);
        return;
    }
    let planned: Vec<crate::engine::budget::Planned> = chosen
        .iter()
        .map(|t| crate::engine::budget::Planned::task(*t))
        .collect();
    let adding = state.cap.spend_of(&planned);
    let tokens = adding.tokens;
    let over_budget = crate::engine::budget::check(&state.cap, state.spent_today, adding)
        .err()
        .map(|o| o.to_string());
    let unfixable = chosen
        .iter()
        .filter(|t| {
            t.phase == Phase::Rejected
                || t.error_code()
                    .is_some_and(|c| !crate::api::hints::retry_can_help(c))
        })
        .map(|t| t.error_code().unwrap_or("rejected").to_string())
        .collect();
    let unknown = chosen
        .iter()
        .filter(|t| t.phase == Phase::SubmitUnknown)
        .count();
    let input_video_unread = chosen.iter().filter(|t| t.spec.input_video_unread).count();
    state.overlay = Overlay::Confirm(Question::Retry(RetryPlan {
        local_ids: chosen.iter().map(|t| t.local_id.to_string()).collect(),
        tokens,
        unfixable,
        unknown,
        skipped: total - chosen.len() - already.len(),
        already,
        over_budget,
        input_video_unread,
    }));
}

/// The newest retry of `local_id` that makes it no longer the head of its chain (any retry that
/// was not rejected); the executor's store check (`Store::begin_retry`) is the final word.
fn retried_by<'a>(state: &'a State, local_id: &str) -> Option<&'a TaskRow> {
    state
        .tasks
        .iter()
        .filter(|t| t.retry_of() == Some(local_id) && t.phase != Phase::Rejected)
        .max_by_key(|t| (t.created_at, t.local_id.to_string()))
}
