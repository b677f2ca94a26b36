//! Polling many tasks with one request: the official list endpoint filtered by task ids. Each
//! item is recorded as a GET answer would be; a task the list does not settle (missing from the
//! answer, or succeeded without its result link) is left for a GET.

use super::{Engine, PollError, now};
use crate::api::types::{ListQuery, TaskStatus};
use crate::api::{ApiError, client::ListPage};
use crate::store::TaskRecord;
use std::collections::HashMap;

/// One listed task's local id and the result of recording its item.
pub(crate) type ListedResult = (String, Result<(TaskRecord, bool), PollError>);

/// How a list poll went.
#[derive(Debug)]
pub(crate) enum ListPoll {
    /// The list answered: each listed task's recorded result, and the local ids the list did
    /// not settle (they need a GET).
    Answered {
        polled: Vec<ListedResult>,
        need_get: Vec<String>,
    },
    /// Something other than a task list answered (a web page, another JSON shape, a 400/404):
    /// this base URL's list cannot be used; poll these tasks by id.
    NoList(ApiError),
    /// The request failed as any request can (rate limit, server error, network, auth).
    Failed(ApiError),
}

/// True for an answer that says "this is not a usable task list", as opposed to a passing
/// failure of a list that works.
pub(crate) fn is_not_a_list(err: &ApiError) -> bool {
    matches!(
        err,
        ApiError::NotTheApi { .. }
            | ApiError::NotFound { .. }
            | ApiError::BadRequest { .. }
            | ApiError::Decode { .. }
    )
}

impl Engine {
    /// Poll `records` (accepted tasks of this engine's server) with one list request.
    pub(crate) async fn poll_listed(&self, records: &[TaskRecord]) -> ListPoll {
        let by_task: HashMap<String, String> = records
            .iter()
            .filter_map(|r| Some((r.task_id.clone()?, r.local_id.clone())))
            .collect();
        let mut need_get: Vec<String> = records
            .iter()
            .filter(|r| r.task_id.is_none())
            .map(|r| r.local_id.clone())
            .collect();
        if by_task.is_empty() {
            return ListPoll::Answered {
                polled: Vec::new(),
                need_get,
            };
        }
        let query = ListQuery {
            page_num: Some(1),
            page_size: Some(by_task.len().clamp(1, 500) as u32),
            task_ids: by_task.keys().cloned().collect(),
            ..ListQuery::default()
        };
        let page: ListPage = match self.client.list_items(&query).await {
            Ok(p) => p,
            Err(e) if is_not_a_list(&e) => return ListPoll::NoList(e),
            Err(e) => return ListPoll::Failed(e),
        };
        // Items of tasks that were asked about, first answer per id; anything else is ignored.
        let mut found = HashMap::new();
        for (task, raw) in page.items {
            if let Some(lid) = by_task.get(&task.id) {
                found.entry(lid.clone()).or_insert((task, raw));
            }
        }
        let mut to_record = Vec::new();
        for lid in by_task.values() {
            match found.remove(lid) {
                // A success without its result link is not enough to save it: ask by id.
                Some((task, _))
                    if task.status == TaskStatus::Succeeded && task.video_url().is_none() =>
                {
                    need_get.push(lid.clone());
                }
                Some((task, raw)) => to_record.push((lid.clone(), task, raw)),
                None => need_get.push(lid.clone()),
            }
        }
        let recorded = self
            .with_store(move |s| {
                let at = now();
                Ok(to_record
                    .into_iter()
                    .map(|(lid, task, raw)| {
                        let out = s
                            .record_poll(&lid, &task, &raw, at)
                            .and_then(|changed| Ok((s.find_followed(&lid)?, changed)))
                            .map_err(PollError::from);
                        (lid, out)
                    })
                    .collect::<Vec<_>>())
            })
            .await;
        match recorded {
            Ok(polled) => ListPoll::Answered { polled, need_get },
            Err(e) => {
                // The store failed as a whole: every listed task reports it.
                let message = e.to_string();
                let polled = by_task
                    .values()
                    .filter(|lid| !need_get.contains(lid))
                    .map(|lid| {
                        let err = crate::store::StoreError::Sql(message.clone());
                        (lid.clone(), Err(PollError::Store(err)))
                    })
                    .collect();
                ListPoll::Answered { polled, need_get }
            }
        }
    }
}
