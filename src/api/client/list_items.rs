//! The list endpoint read item by item: each task parsed and also kept as the JSON text it came
//! in, so a task polled through a list is stored like one polled by id.

use super::classify::{Endpoint, decode_error};
use super::{ApiError, ArkClient, Call};
use crate::api::types::{ListQuery, Task};
use reqwest::Method;

/// The longest list URL the poller builds: well under the 8 KiB many proxies and servers accept.
pub(crate) const MAX_LIST_URL_BYTES: usize = 6000;

/// One page of the list endpoint: `total`, and each item parsed with its JSON text.
#[derive(Debug, Clone, PartialEq)]
pub struct ListPage {
    pub(crate) total: u64,
    pub items: Vec<(Task, String)>,
}

/// The bytes `&filter.task_ids=<id>` takes in a URL query (each byte outside the unreserved set
/// counted as its percent escape).
pub(crate) fn list_id_query_len(id: &str) -> usize {
    let escaped: usize = id
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                1
            } else {
                3
            }
        })
        .sum();
    "&filter.task_ids=".len() + escaped
}

impl ArkClient {
    /// List tasks and keep each item's JSON text. An answer that is not `{"items": [...]}`
    /// (a web page, another JSON shape) is an error, as is any item that is not a task.
    pub async fn list_items(&self, query: &ListQuery) -> Result<ListPage, ApiError> {
        self.list_items_dated(query).await.map(|(page, _)| page)
    }

    /// [`ArkClient::list_items`], with the answer's `Date` header as Unix seconds (the server's
    /// clock, to measure the skew against ours).
    pub(crate) async fn list_items_dated(
        &self,
        query: &ListQuery,
    ) -> Result<(ListPage, Option<i64>), ApiError> {
        let url = self.tasks_url(None);
        let pairs = query.pairs();
        let call = Call {
            method: Method::GET,
            url: &url,
            query: &pairs,
            body: None,
            client_request_id: None,
            endpoint: Endpoint::List,
        };
        self.with_retries(&call, |answer| {
            let secret = self.secret();
            let bad = |e: &serde_json::Error| {
                decode_error(answer.status, &answer.body, "list", e, secret)
            };
            let v: serde_json::Value = serde_json::from_slice(&answer.body).map_err(|e| bad(&e))?;
            let items = v
                .get("items")
                .and_then(serde_json::Value::as_array)
                .ok_or_else(|| ApiError::Decode {
                    status: answer.status,
                    message: "the list answer has no `items` list".into(),
                    snippet: super::classify::snippet(&answer.body, secret),
                })?;
            let total = v
                .get("total")
                .and_then(serde_json::Value::as_u64)
                .unwrap_or(items.len() as u64);
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                let text = item.to_string();
                let task = Task::from_json(&text).map_err(|e| bad(&e))?;
                out.push((task, text));
            }
            Ok((ListPage { total, items: out }, answer.server_date))
        })
        .await
    }
}
